/**
 * A kernel's parameter block: 32-bit words the shader reads as `P[k]` (u32, or bitcast to
 * f32/i32). Kernels write sizes, offsets and strides in a fixed order that their WGSL mirrors.
 */
export class ParamBlock {
  private readonly words: number[] = [];
  private static readonly f32 = new Float32Array(1);
  private static readonly u32 = new Uint32Array(ParamBlock.f32.buffer);

  /** Index the next word will have (lets generators name their parameters). */
  get length(): number {
    return this.words.length;
  }

  u32(...values: readonly number[]): this {
    for (const v of values) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`internal: ${String(v)} does not fit a u32 kernel parameter`);
      this.words.push(v);
    }
    return this;
  }

  f32(value: number): this {
    ParamBlock.f32[0] = value;
    this.words.push(ParamBlock.u32[0]);
    return this;
  }

  /** An i32 word: infinities and out-of-range values saturate (clamp's ±Infinity bounds on int tensors). */
  i32(value: number): this {
    const v = Number.isNaN(value) ? 0 : Math.max(-2147483648, Math.min(2147483647, Math.trunc(value)));
    this.words.push(v >>> 0);
    return this;
  }

  /** A scalar in both encodings, `f32` word first: the shader picks the one its compute type needs. */
  scalar(value: number): this {
    return this.f32(value).i32(value);
  }

  build(): Uint32Array {
    return Uint32Array.from(this.words);
  }
}
