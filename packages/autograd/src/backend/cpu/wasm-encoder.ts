/**
 * A tiny WebAssembly binary encoder: just enough to emit one module with exported memory and a
 * few functions over i32 and v128 locals. The kernels are written against it as readable code,
 * so there is no committed binary and no build step (see wasm-gemm.ts).
 * Spec: https://webassembly.github.io/spec/core/binary/ and the SIMD proposal's opcode table.
 */

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** Opcodes used by our kernels (core and 0xfd-prefixed SIMD). */
export const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  f32Load: 0x2a,
  f32Store: 0x38,
  i32Const: 0x41,
  i32Eqz: 0x45,
  i32Eq: 0x46,
  i32Ne: 0x47,
  i32LtU: 0x49,
  i32GtU: 0x4b,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  i32Mul: 0x6c,
  i32And: 0x71,
  f32Add: 0x92,
  f32Sub: 0x93,
  f32Mul: 0x94,
  f32Div: 0x95,
} as const;

export const simd = {
  v128Load: 0x00,
  v128Load32Splat: 0x09,
  v128Store: 0x0b,
  v128Const: 0x0c,
  f32x4Splat: 0x13,
  f32x4Le: 0x45,
  v128AndNot: 0x4f,
  f32x4Sqrt: 0xe3,
  f32x4Add: 0xe4,
  f32x4Sub: 0xe5,
  f32x4Mul: 0xe6,
  f32x4Div: 0xe7,
} as const;

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

function name(s: string): number[] {
  const bytes = [...new TextEncoder().encode(s)];
  return [...uleb(bytes.length), ...bytes];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** Instruction emitter for one function body. */
export class Body {
  readonly bytes: number[] = [];

  emit(...b: number[]): this {
    this.bytes.push(...b);
    return this;
  }
  get(local: number): this {
    return this.emit(op.localGet, ...uleb(local));
  }
  set(local: number): this {
    return this.emit(op.localSet, ...uleb(local));
  }
  tee(local: number): this {
    return this.emit(op.localTee, ...uleb(local));
  }
  i32(value: number): this {
    return this.emit(op.i32Const, ...sleb(value));
  }
  simd(opcode: number, ...immediates: number[]): this {
    return this.emit(0xfd, ...uleb(opcode), ...immediates);
  }
  /** A SIMD memory access: alignment exponent and constant byte offset. */
  mem(opcode: number, alignLog2: number, offset: number): this {
    return this.simd(opcode, ...uleb(alignLog2), ...uleb(offset));
  }
  /** while (condition leaves a non-zero i32) { body }: zero iterations allowed. */
  whileDo(condition: () => void, body: () => void): this {
    this.emit(op.block, 0x40, op.loop, 0x40);
    condition();
    this.emit(op.i32Eqz, op.brIf, 1);
    body();
    return this.emit(op.br, 0, op.end, op.end);
  }
  /** if (condition leaves a non-zero i32) { body }. */
  ifThen(condition: () => void, body: () => void): this {
    condition();
    this.emit(op.if, 0x40);
    body();
    return this.emit(op.end);
  }
  /** do { body } while (condition leaves a non-zero i32). */
  doWhile(body: () => void, condition: () => void): this {
    this.emit(op.loop, 0x40);
    body();
    condition();
    return this.emit(op.brIf, 0, op.end);
  }
}

export interface FuncDef {
  name: string;
  params: number[];
  /** Extra locals, in order after the params. */
  locals: number[];
  body: Body;
}

/** A module exporting `memory` (initial `pages` of 64 KiB, growable) and the given functions. */
export function encodeModule(funcs: readonly FuncDef[], pages: number): Uint8Array<ArrayBuffer> {
  const types = funcs.map((f) => [0x60, ...vec(f.params.map((p) => [p])), 0]);
  const code = funcs.map((f) => {
    // Run-length groups of equal local types, as the binary format wants.
    const groups: number[][] = [];
    for (const t of f.locals) {
      const last = groups.at(-1);
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...vec(groups.map(([count, t]) => [...uleb(count), t])), ...f.body.bytes, op.end];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vec(types)),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(5, vec([[0x00, ...uleb(pages)]])),
    ...section(7, vec([[...name('memory'), 0x02, 0x00], ...funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])])),
    ...section(10, vec(code)),
  ]);
}
