/**
 * CPU kernel correctness against naive reference loops written here (float64 triple loops,
 * index-by-index strided reads, and the optimizer update rules as PyTorch documents them).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { View } from '../src/backend/backend.js';
import { cpuBackend, CpuStorage } from '../src/backend/cpu/cpu-backend.js';
import { gemm, gemmJs, type Strided } from '../src/backend/cpu/matmul.js';
import type { Flat } from '../src/backend/cpu/optim-kernels.js';
import { adamF32Wasm, sgdF32Wasm } from '../src/backend/cpu/wasm-optim.js';
import { kernelModuleBytes } from '../src/backend/cpu/wasm-code.js';
import { setWasmKernelsEnabled, wasmKernels } from '../src/backend/cpu/wasm-runtime.js';
import { sleb, uleb } from '../src/backend/cpu/wasm-encoder.js';
import type { DType, TypedArray } from '../src/dtype.js';
import { contiguousStrides, numel } from '../src/shape.js';

let seed = 1;
function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
}
function randomArray(n: number, dtype: 'float32' | 'float64' = 'float32'): Float32Array | Float64Array {
  const a = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rnd();
  return a;
}

function view(data: TypedArray, dtype: DType, shape: number[], strides = contiguousStrides(shape), offset = 0): View {
  return { storage: new CpuStorage(cpuBackend, data, dtype), shape, strides, offset };
}
function dataOf(s: { storage?: unknown } | object): TypedArray {
  if (!(s instanceof CpuStorage)) throw new Error('expected a CPU storage');
  return s.data;
}
/** Element of a strided view at a multi-index, read the slow obvious way. */
function at(v: View, idx: readonly number[]): number {
  let p = v.offset;
  idx.forEach((i, d) => (p += i * v.strides[d]));
  return dataOf(v.storage)[p];
}
function* indices(shape: readonly number[]): Generator<number[]> {
  const n = numel(shape);
  for (let flat = 0; flat < n; flat++) {
    const idx: number[] = [];
    let r = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx.unshift(r % shape[d]);
      r = Math.floor(r / shape[d]);
    }
    yield idx;
  }
}

/** C = A·B in float64 from strided operands; also Σ|a||b| per entry, the scale of float32 error. */
function naiveGemm(
  a: Strided<TypedArray>,
  b: Strided<TypedArray>,
  m: number,
  k: number,
  n: number,
): { c: Float64Array; scale: Float64Array } {
  const c = new Float64Array(m * n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0,
        t = 0;
      for (let p = 0; p < k; p++) {
        const x = a.data[a.offset + i * a.rowStride + p * a.colStride];
        const y = b.data[b.offset + p * b.rowStride + j * b.colStride];
        s += x * y;
        t += Math.abs(x * y);
      }
      c[i * n + j] = s;
      scale[i * n + j] = t;
    }
  }
  return { c, scale };
}

/** An m x k operand stored row-major, or stored as its transpose (k x m) and read through strides. */
function operand(rows: number, cols: number, transposed: boolean, dtype: 'float32' | 'float64', pad = 0): Strided<TypedArray> {
  const data = randomArray(rows * cols + pad, dtype);
  return transposed ? { data, offset: pad, rowStride: 1, colStride: rows } : { data, offset: pad, rowStride: cols, colStride: 1 };
}

function expectClose(got: TypedArray, off: number, want: Float64Array, scale: Float64Array, relTol: number): void {
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[off + i] - want[i]);
    if (!(err <= relTol * (scale[i] + 1e-30))) {
      throw new Error(
        `entry ${String(i)}: got ${String(got[off + i])}, want ${String(want[i])} (error ${String(err)}, scale ${String(scale[i])})`,
      );
    }
  }
}

const SIZES = [1, 3, 5, 17, 33, 65, 130];
/** (m, k, n) triples: all small odd mixes plus shapes that cross the kernels' block sizes. */
const SHAPES: [number, number, number][] = [
  ...SIZES.flatMap((m) => [[m, SIZES[(m * 7) % SIZES.length], SIZES[(m * 3 + 1) % SIZES.length]] as [number, number, number]]),
  [1, 1, 1],
  [7, 1, 9],
  [5, 300, 3],
  [97, 257, 13],
  [64, 784, 256],
  [130, 65, 130],
  [200, 530, 17],
];

describe('gemm', () => {
  afterEach(() => {
    setWasmKernelsEnabled(true);
  });

  it('has the WebAssembly SIMD kernel available in this Node runtime', () => {
    expect(wasmKernels()).not.toBeNull();
  });

  for (const path of ['wasm', 'js'] as const) {
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      it(`float32 ${path} kernel matches a float64 triple loop (A${ta ? 'ᵀ' : ''}·B${tb ? 'ᵀ' : ''}) on odd and blocked sizes`, () => {
        setWasmKernelsEnabled(path === 'wasm');
        for (const [m, k, n] of SHAPES) {
          const a = operand(m, k, ta, 'float32', 3);
          const b = operand(k, n, tb, 'float32', 5);
          const out = new Float32Array(m * n + 4).fill(Number.NaN);
          gemm(a, b, out, 2, m, k, n);
          const { c, scale } = naiveGemm(a, b, m, k, n);
          // float32 products accumulated over k terms: error within a few ulps of Σ|a·b|.
          expectClose(out, 2, c, scale, 4e-6);
          expect(out[0]).toBeNaN(); // nothing written before the destination offset
          expect(out[m * n + 2]).toBeNaN(); // nor after it
        }
      });
    }
  }

  it('float64 uses the JS kernel and keeps double precision', () => {
    for (const [m, k, n] of SHAPES) {
      const a = operand(m, k, true, 'float64');
      const b = operand(k, n, false, 'float64');
      const out = new Float64Array(m * n);
      gemm(a, b, out, 0, m, k, n);
      const { c, scale } = naiveGemm(a, b, m, k, n);
      expectClose(out, 0, c, scale, 1e-13);
    }
  });

  it('k = 0 gives zeros on both paths', () => {
    for (const on of [true, false]) {
      setWasmKernelsEnabled(on);
      const out = new Float32Array(6 * 70).fill(7);
      const empty = { data: new Float32Array(0), offset: 0, rowStride: 0, colStride: 1 };
      gemm(empty, empty, out, 0, 6, 0, 70);
      expect(out.every((x) => x === 0)).toBe(true);
    }
  });

  it('wasm-packed B (unit column stride, rows a little apart): several k blocks and a partial last panel', () => {
    // B [300, 21] is a column window of a [300, 30] matrix at an offset (rowStride 30 <= 2·21): the
    // rows go to the heap as they lie and the wasm kernel packs the two full 8-column panels.
    const k = 300,
      n = 21,
      m = 7;
    const a = operand(m, k, false, 'float32');
    const b: Strided<TypedArray> = { data: randomArray(k * 30 + 5), offset: 5, rowStride: 30, colStride: 1 };
    const c = new Float32Array(m * n + 2);
    gemm(a, b, c, 2, m, k, n);
    const { c: want, scale } = naiveGemm(a, b, m, k, n);
    expectClose(c, 2, want, scale, 8e-6);
  });

  it('wasm-packed transposed B (unit row stride): several k blocks and a partial last panel', () => {
    // B [300, 21] read as the transpose of a [21, 310] matrix at an offset (colStride 310 <= 2·300).
    const k = 300,
      n = 21,
      m = 6;
    const a = operand(m, k, false, 'float32');
    const b: Strided<TypedArray> = { data: randomArray(n * 310 + 4), offset: 4, rowStride: 1, colStride: 310 };
    const c = new Float32Array(m * n);
    gemm(a, b, c, 0, m, k, n);
    const { c: want, scale } = naiveGemm(a, b, m, k, n);
    expectClose(c, 0, want, scale, 8e-6);
  });

  it('gemmJs agrees with the wasm kernel on a product big enough for the wasm path', () => {
    const a = operand(50, 90, false, 'float32');
    const b = operand(90, 40, true, 'float32');
    const viaWasm = new Float32Array(50 * 40);
    const viaJs = new Float32Array(50 * 40);
    gemm(a, b, viaWasm, 0, 50, 90, 40);
    gemmJs(a, b, viaJs, 0, 50, 90, 40);
    const { scale } = naiveGemm(a, b, 50, 90, 40);
    expectClose(viaWasm, 0, Float64Array.from(viaJs), scale, 8e-6);
  });
});

describe('backend matmul', () => {
  it('multiplies batched operands with broadcast batch dims and transposed views', () => {
    // a: [2, 3, m, k] stored as [2, 3, k, m] and transposed; b: [3, k, n] broadcast over the leading 2.
    const [m, k, n] = [9, 70, 11];
    const aData = randomArray(2 * 3 * k * m);
    const a = view(aData, 'float32', [2, 3, m, k], [3 * k * m, k * m, 1, m]);
    const b = view(randomArray(3 * k * n), 'float32', [3, k, n]);
    const out = dataOf(cpuBackend.matmul(a, b, [2, 3], m, k, n, 'float32'));
    for (const [s, t, i, j] of indices([2, 3, m, n])) {
      let want = 0,
        scale = 0;
      for (let p = 0; p < k; p++) {
        want += at(a, [s, t, i, p]) * at(b, [t, p, j]);
        scale += Math.abs(at(a, [s, t, i, p]) * at(b, [t, p, j]));
      }
      expect(Math.abs(out[((s * 3 + t) * m + i) * n + j] - want)).toBeLessThanOrEqual(4e-6 * scale);
    }
  });

  it('reads a batch-broadcast operand (stride 0) without copying it per batch', () => {
    const a = view(Float32Array.from([1, 2, 3, 4]), 'float32', [3, 2, 2], [0, 2, 1]);
    const b = view(Float32Array.from([1, 0, 0, 1, 2, 0, 0, 2, 0, 1, 1, 0]), 'float32', [3, 2, 2]);
    const out = dataOf(cpuBackend.matmul(a, b, [3], 2, 2, 2, 'float32'));
    expect([...out]).toEqual([1, 2, 3, 4, 2, 4, 6, 8, 2, 1, 4, 3]);
  });
});

describe('element-wise kernels on strided and broadcast views', () => {
  // [70, 130] read through a transpose: wide enough that the walk is tiled.
  const rows = 70,
    cols = 130;
  const tData = randomArray(rows * cols);
  const transposed = view(tData, 'float32', [rows, cols], [1, rows]);
  const rowVec = view(randomArray(cols), 'float32', [1, cols]);
  const colVec = view(randomArray(rows), 'float32', [rows, 1]);

  const reference = {
    add: (x: number, y: number) => x + y,
    sub: (x: number, y: number) => x - y,
    mul: (x: number, y: number) => x * y,
    div: (x: number, y: number) => x / y,
  };
  for (const wasm of [true, false]) {
    it(`binary ops combine a transposed view with contiguous, transposed and broadcast operands (${wasm ? 'wasm' : 'JS'} kernels)`, () => {
      setWasmKernelsEnabled(wasm);
      try {
        const contiguous = view(randomArray(rows * cols), 'float32', [rows, cols]);
        const others = { contiguous, transposed, row: rowVec, column: colVec };
        for (const [opName, fn] of Object.entries(reference)) {
          for (const [name, other] of Object.entries(others)) {
            const op = opName as keyof typeof reference;
            const out = dataOf(cpuBackend.binary(op, transposed, other, [rows, cols], 'float32'));
            const swapped = dataOf(cpuBackend.binary(op, other, transposed, [rows, cols], 'float32'));
            for (const [i, j] of indices([rows, cols])) {
              const y = at(other, name === 'row' ? [0, j] : name === 'column' ? [i, 0] : [i, j]);
              // float32 results are float64 results rounded once: both kernels must match exactly.
              expect(out[i * cols + j]).toBe(Math.fround(fn(at(transposed, [i, j]), y)));
              expect(swapped[i * cols + j]).toBe(Math.fround(fn(y, at(transposed, [i, j]))));
            }
          }
        }
      } finally {
        setWasmKernelsEnabled(true);
      }
    });
  }

  it('a large binary op on a sparse window of a big storage stays correct (the wasm path declines to copy it)', () => {
    // Every 5th column of a [100, 500] storage: a [100, 100] window spanning ~5x its size.
    const big = randomArray(100 * 500);
    const sparse = view(big, 'float32', [100, 100], [500, 5], 2);
    const out = dataOf(cpuBackend.binary('add', sparse, sparse, [100, 100], 'float32'));
    for (const [i, j] of indices([100, 100])) expect(out[i * 100 + j]).toBe(Math.fround(2 * at(sparse, [i, j])));
  });

  it('unary ops and scalar ops read strided views', () => {
    const exp = dataOf(cpuBackend.unary('exp', transposed, 'float32'));
    const half = dataOf(cpuBackend.binaryScalar('div', transposed, 2, false, 'float32'));
    for (const [i, j] of indices([rows, cols])) {
      expect(exp[i * cols + j]).toBe(Math.fround(Math.exp(at(transposed, [i, j]))));
      expect(half[i * cols + j]).toBe(Math.fround(at(transposed, [i, j]) / 2));
    }
  });

  it('copy writes through a transposed destination and broadcasts the source', () => {
    const dstData = new Float32Array(rows * cols);
    const dst = view(dstData, 'float32', [rows, cols], [1, rows]);
    cpuBackend.copy(dst, rowVec);
    for (const [i, j] of indices([rows, cols])) expect(at(dst, [i, j])).toBe(at(rowVec, [0, j]));
    const contiguousDst = view(new Float32Array(rows * cols + 3), 'float32', [rows, cols], contiguousStrides([rows, cols]), 3);
    cpuBackend.copy(contiguousDst, transposed);
    for (const [i, j] of indices([rows, cols])) expect(at(contiguousDst, [i, j])).toBe(at(transposed, [i, j]));
  });

  it('relu and step on long float32 rows (the branch-free paths): NaN kept, -0 and -∞ to +0', () => {
    const specials = [NaN, -0, 0, -Infinity, Infinity, -1e-45, 1e-45, -3.5, 2.25, 3.4e38, -3.4e38];
    const n = 150;
    const data = new Float32Array(n + 7);
    for (let i = 0; i < data.length; i++) data[i] = i % 13 < specials.length ? specials[i % 13] : rnd();
    // NaNs with the sign bit set (JS writes NaN with it clear): relu must keep them too.
    const bits = new Int32Array(data.buffer);
    for (let i = 12; i < data.length; i += 13) bits[i] = i % 2 === 0 ? -0x400000 : -0x7fffff;
    const x = view(data, 'float32', [n], [1], 7); // an offset, so the bit views start mid-buffer
    const relu = dataOf(cpuBackend.unary('relu', x, 'float32'));
    const step = dataOf(cpuBackend.unary('step', x, 'float32'));
    for (let i = 0; i < n; i++) {
      const v = data[7 + i];
      // PyTorch: relu(v) = v for v > 0 and NaN, +0 otherwise; threshold_backward passes NaN.
      const want = v > 0 || Number.isNaN(v) ? v : 0;
      expect(Object.is(relu[i], want), `relu(${String(v)}) = ${String(relu[i])}`).toBe(true);
      expect(step[i]).toBe(v > 0 || Number.isNaN(v) ? 1 : 0);
    }
  });

  it("reluBackward is PyTorch's threshold_backward: g where y > 0 or NaN, +0 elsewhere even for a NaN or infinite g", () => {
    const ys = [0, -0, 1, NaN, 2, 0, 3, 0.5];
    const gs = [NaN, Infinity, -2, 5, NaN, -Infinity, -0, 7];
    for (const dtype of ['float32', 'float64'] as const) {
      const make = (v: number[], pad: number): View => {
        const data = dtype === 'float32' ? new Float32Array(pad + 80) : new Float64Array(pad + 80);
        for (let i = 0; i < 80; i++) data[pad + i] = v[i % 8];
        return view(data, dtype, [80], [1], pad);
      };
      const out = dataOf(cpuBackend.reluBackward(make(gs, 3), make(ys, 5)));
      for (let i = 0; i < 80; i++) {
        const y = ys[i % 8];
        const want = y > 0 || Number.isNaN(y) ? gs[i % 8] : 0;
        expect(Object.is(out[i], want), `${dtype} y=${String(y)} g=${String(gs[i % 8])}: ${String(out[i])}`).toBe(true);
      }
    }
  });

  it('copy of short rows through 6-D window views (im2col), index by index', () => {
    // x [2, 3, 6, 5] → windows [2, 3, 3, 2, 4, 2] (kernel 3×2, stride 1×2), written channel-major.
    const xs = [2, 3, 6, 5];
    const x = view(randomArray(numel(xs)), 'float32', xs);
    const shape = [2, 3, 3, 2, 4, 2];
    const src = view(dataOf(x.storage), 'float32', shape, [90, 30, 5, 1, 5, 2]);
    const out = new Float32Array(numel(shape));
    // destination order [C, kh, kw, N, oh, ow]: strides of [N, C, kh, kw, oh, ow] read from it
    const dst = view(out, 'float32', shape, [8, 96, 32, 16, 2, 1]);
    cpuBackend.copy(dst, src);
    for (const [n, c, ki, kj, i, j] of indices(shape)) {
      expect(out[c * 96 + ki * 32 + kj * 16 + n * 8 + i * 2 + j]).toBe(at(x, [n, c, i + ki, 2 * j + kj]));
    }
  });

  it('unfold2d of a transposed input with stride and dilation, in both layouts', () => {
    // x [2, 3, 7, 6] read through a view that swaps H and W of a [2, 3, 6, 7] storage.
    const x = view(randomArray(2 * 3 * 6 * 7), 'float32', [2, 3, 7, 6], [126, 42, 1, 7]);
    const geometry = {
      kernel: [2, 3] as [number, number],
      stride: [2, 1] as [number, number],
      dilation: [3, 2] as [number, number],
      out: [2, 2] as [number, number],
      size: [7, 6] as [number, number],
    };
    for (const channelsFirst of [false, true]) {
      const out = dataOf(cpuBackend.unfold2d(x, geometry, channelsFirst));
      for (const [n, c, ki, kj, i, j] of indices([2, 3, 2, 3, 2, 2])) {
        const k = ki * 3 + kj;
        const at5 = channelsFirst ? (((c * 6 + k) * 2 + n) * 2 + i) * 2 + j : (((n * 3 + c) * 6 + k) * 2 + i) * 2 + j;
        expect(out[at5]).toBe(at(x, [n, c, 2 * i + 3 * ki, j + 2 * kj]));
      }
    }
  });

  it('unfold2d and fold2d above the wasm threshold agree with index-by-index loops, on both kernel paths', () => {
    const geometry = {
      kernel: [3, 2] as [number, number],
      stride: [1, 1] as [number, number],
      dilation: [2, 1] as [number, number],
      out: [6, 8] as [number, number],
      size: [10, 9] as [number, number],
    };
    const [n, c, k, oh, ow] = [4, 5, 6, 6, 8]; // 5760 window elements
    // x [4, 5, 10, 9] as a view at an offset of a larger storage, rows 11 apart
    const x = view(randomArray(4 * 5 * 10 * 11 + 3), 'float32', [n, c, 10, 9], [550, 110, 11, 1], 3);
    // g [N, C, K, oh, ow] over a channel-major storage [C, K, N, oh, ow]
    const g = view(randomArray(n * c * k * oh * ow), 'float32', [n, c, k, oh, ow], [oh * ow, k * n * oh * ow, n * oh * ow, ow, 1]);
    const wantFold = new Float64Array(n * c * 10 * 9);
    for (const [b, ch, kk, i, j] of indices([n, c, k, oh, ow])) {
      wantFold[((b * c + ch) * 10 + i + 2 * Math.floor(kk / 2)) * 9 + j + (kk % 2)] += at(g, [b, ch, kk, i, j]);
    }
    for (const wasm of [true, false]) {
      setWasmKernelsEnabled(wasm);
      for (const channelsFirst of [false, true]) {
        const out = dataOf(cpuBackend.unfold2d(x, geometry, channelsFirst));
        for (const [b, ch, kk, i, j] of indices([n, c, k, oh, ow])) {
          const pos = channelsFirst ? (((ch * k + kk) * n + b) * oh + i) * ow + j : (((b * c + ch) * k + kk) * oh + i) * ow + j;
          expect(out[pos]).toBe(at(x, [b, ch, i + 2 * Math.floor(kk / 2), j + (kk % 2)]));
        }
      }
      const folded = dataOf(cpuBackend.fold2d(g, geometry));
      wantFold.forEach((want, i) => {
        expect(folded[i]).toBeCloseTo(want, 5);
      });
    }
    setWasmKernelsEnabled(true);
  });

  it('fold2d reads a permuted (channel-major) gradient through its strides', () => {
    const geometry = {
      kernel: [2, 3] as [number, number],
      stride: [1, 2] as [number, number],
      dilation: [1, 1] as [number, number],
      out: [3, 2] as [number, number],
      size: [4, 5] as [number, number],
    };
    const [n, c, k, oh, ow] = [2, 3, 6, 3, 2];
    const data = randomArray(n * c * k * oh * ow);
    // storage [C, K, N, oh, ow], viewed as [N, C, K, oh, ow]
    const g = view(data, 'float32', [n, c, k, oh, ow], [oh * ow, k * n * oh * ow, n * oh * ow, ow, 1]);
    const out = dataOf(cpuBackend.fold2d(g, geometry));
    const want = new Float64Array(n * c * 4 * 5);
    for (const [b, ch, kk, i, j] of indices([n, c, k, oh, ow])) {
      const ki = Math.floor(kk / 3),
        kj = kk % 3;
      want[((b * c + ch) * 4 + i + ki) * 5 + 2 * j + kj] += at(g, [b, ch, kk, i, j]);
    }
    want.forEach((w, i) => {
      expect(out[i]).toBeCloseTo(w, 5);
    });
  });

  it('copy into int32 truncates toward zero, as PyTorch casts', () => {
    const dst = view(new Int32Array(4), 'int32', [4]);
    cpuBackend.copy(dst, view(Float32Array.from([1.7, -1.7, 2.5, -0.5]), 'float32', [4]));
    expect([...dataOf(dst.storage)]).toEqual([1, -1, 2, 0]);
  });

  it('fill touches exactly the elements of a strided view', () => {
    const data = new Float32Array(4 * 6);
    cpuBackend.fill(view(data, 'float32', [3, 2], [6, 2], 1), 5); // every other column of rows 0..2, from column 1
    for (const [r, c] of indices([4, 6])) expect(data[r * 6 + c]).toBe(r < 3 && c % 2 === 1 && c < 5 ? 5 : 0);
  });

  it('sum over each dim of a transposed view', () => {
    const over0 = dataOf(cpuBackend.sum(transposed, [0], 'float32'));
    const over1 = dataOf(cpuBackend.sum(transposed, [1], 'float32'));
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let i = 0; i < rows; i++) s += at(transposed, [i, j]);
      expect(over0[j]).toBeCloseTo(s, 5);
    }
    for (let i = 0; i < rows; i++) {
      let s = 0;
      for (let j = 0; j < cols; j++) s += at(transposed, [i, j]);
      expect(over1[i]).toBeCloseTo(s, 5);
    }
  });
});

describe('fused optimizer kernels', () => {
  const n = 37;
  const f32 = (): Float32Array => Float32Array.from(randomArray(n));

  it('SGD with momentum, dampening, weight decay and Nesterov follows torch.optim.SGD', () => {
    const p = f32(),
      g = f32(),
      buf = new Float32Array(n);
    const [lr, mu, damp, wd] = [0.1, 0.9, 0.2, 0.01];
    const wantP = Float64Array.from(p),
      wantBuf = new Float64Array(n);
    for (let step = 0; step < 3; step++) {
      // Reference: d = g + wd·p; b = first ? d : mu·b + (1 - damp)·d; p -= lr·(d + mu·b)  (Nesterov)
      for (let i = 0; i < n; i++) {
        const d = g[i] + wd * wantP[i];
        wantBuf[i] = step === 0 ? d : mu * wantBuf[i] + (1 - damp) * d;
        wantP[i] -= lr * (d + mu * wantBuf[i]);
      }
      cpuBackend.sgdStep(view(p, 'float32', [n]), view(g, 'float32', [n]), view(buf, 'float32', [n]), {
        lr,
        momentum: mu,
        dampening: damp,
        weightDecay: wd,
        nesterov: true,
        firstStep: step === 0,
      });
    }
    for (let i = 0; i < n; i++) {
      expect(p[i]).toBeCloseTo(wantP[i], 6);
      expect(buf[i]).toBeCloseTo(wantBuf[i], 6);
    }
  });

  for (const config of [
    { name: 'plain', momentum: 0, dampening: 0, wd: 0, nesterov: false },
    { name: 'momentum with dampening', momentum: 0.9, dampening: 0.3, wd: 0, nesterov: false },
    { name: 'momentum, weight decay, Nesterov', momentum: 0.9, dampening: 0, wd: 0.01, nesterov: true },
  ]) {
    it(`SGD (${config.name}) on 9090 elements (the wasm kernel where it applies) follows torch.optim.SGD`, () => {
      const size = 9090;
      const p = Float32Array.from(randomArray(size)),
        g = Float32Array.from(randomArray(size)),
        buf = new Float32Array(size);
      const { momentum: mu, dampening: damp, wd, nesterov } = config;
      const lr = 0.1;
      const wantP = Float64Array.from(p),
        wantBuf = new Float64Array(size);
      for (let step = 0; step < 3; step++) {
        for (let i = 0; i < size; i++) {
          let d = g[i] + wd * wantP[i];
          if (mu !== 0) {
            wantBuf[i] = step === 0 ? d : mu * wantBuf[i] + (1 - damp) * d;
            d = nesterov ? d + mu * wantBuf[i] : wantBuf[i];
          }
          wantP[i] -= lr * d;
        }
        cpuBackend.sgdStep(view(p, 'float32', [size]), view(g, 'float32', [size]), mu !== 0 ? view(buf, 'float32', [size]) : null, {
          lr,
          momentum: mu,
          dampening: damp,
          weightDecay: wd,
          nesterov,
          firstStep: step === 0,
        });
      }
      for (let i = 0; i < size; i++) {
        if (Math.abs(p[i] - wantP[i]) > 1e-6 || Math.abs(buf[i] - wantBuf[i]) > 1e-6) {
          throw new Error(`element ${String(i)}: p ${String(p[i])} vs ${String(wantP[i])}, buf ${String(buf[i])} vs ${String(wantBuf[i])}`);
        }
      }
    });
  }

  it('the wasm SGD kernel takes plain SGD and momentum after the first step, and declines the rest', () => {
    const size = 1031;
    const flat = (x: number): Flat => ({ data: new Float32Array(size).fill(x), offset: 0 });
    const h = { lr: 0.5, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, firstStep: false };
    const p = flat(1);
    expect(sgdF32Wasm(p, flat(0.25), null, size, h)).toBe(true);
    for (const x of p.data) expect(x).toBe(0.875); // 1 - 0.5·0.25
    const q = flat(1),
      b = flat(0.5);
    expect(sgdF32Wasm(q, flat(0.25), b, size, { ...h, momentum: 0.5, dampening: 0.5 })).toBe(true);
    for (const x of b.data) expect(x).toBe(0.375); // 0.5·0.5 + (1 - 0.5)·0.25
    for (const x of q.data) expect(x).toBe(0.8125); // 1 - 0.5·0.375
    expect(sgdF32Wasm(flat(1), flat(1), flat(0), size, { ...h, momentum: 0.9, firstStep: true })).toBe(false);
    expect(sgdF32Wasm(flat(1), flat(1), flat(0), size, { ...h, momentum: 0.9, nesterov: true })).toBe(false);
    expect(sgdF32Wasm(flat(1), flat(1), null, size, { ...h, weightDecay: 0.1 })).toBe(false);
  });

  const ADAM_VARIANTS = [
    { name: 'Adam', wd: 0, decoupled: false, amsgrad: false },
    { name: 'Adam with weight decay', wd: 0.1, decoupled: false, amsgrad: false },
    { name: 'AdamW', wd: 0.1, decoupled: true, amsgrad: false },
    { name: 'AMSGrad', wd: 0.1, decoupled: false, amsgrad: true },
  ];
  // [4, 9] runs the JS kernel; [90, 101] (9090 elements: several chunks, not a multiple of 4) the wasm one where it applies.
  for (const [r, c] of [
    [4, 9],
    [90, 101],
  ]) {
    for (const variant of ADAM_VARIANTS) {
      it(`${variant.name} on [${String(r)}, ${String(c)}] follows torch.optim's update rule over several steps, with a transposed gradient`, () => {
        // The gradient arrives as the transpose of a [c, r] array.
        const size = r * c;
        const p = Float32Array.from(randomArray(size));
        const gT = Float32Array.from(randomArray(size));
        const grad = view(gT, 'float32', [r, c], [1, r]);
        const m = new Float32Array(size),
          v = new Float32Array(size),
          vmax = new Float32Array(size);
        const [lr, b1, b2, eps, wd] = [0.01, 0.8, 0.95, 1e-6, variant.wd];
        const wp = Float64Array.from(p),
          wm = new Float64Array(size),
          wv = new Float64Array(size),
          wx = new Float64Array(size);
        for (let step = 1; step <= 4; step++) {
          for (const [i, j] of indices([r, c])) {
            const e = i * c + j;
            let gi = gT[j * r + i];
            if (variant.decoupled) wp[e] *= 1 - lr * wd;
            else gi += wd * wp[e];
            wm[e] = b1 * wm[e] + (1 - b1) * gi;
            wv[e] = b2 * wv[e] + (1 - b2) * gi * gi;
            wx[e] = Math.max(wx[e], wv[e]);
            const vHat = variant.amsgrad ? wx[e] : wv[e];
            const denom = Math.sqrt(vHat) / Math.sqrt(1 - b2 ** step) + eps;
            wp[e] -= (lr / (1 - b1 ** step)) * (wm[e] / denom);
          }
          cpuBackend.adamStep(
            view(p, 'float32', [r, c]),
            grad,
            view(m, 'float32', [r, c]),
            view(v, 'float32', [r, c]),
            variant.amsgrad ? view(vmax, 'float32', [r, c]) : null,
            { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, decoupled: variant.decoupled, amsgrad: variant.amsgrad, step },
          );
        }
        for (let e = 0; e < size; e++) {
          if (Math.abs(p[e] - wp[e]) > 2e-6 || Math.abs(m[e] - wm[e]) > 1e-6 || Math.abs(v[e] - wv[e]) > 1e-6) {
            throw new Error(
              `element ${String(e)}: p ${String(p[e])} vs ${String(wp[e])}, m ${String(m[e])} vs ${String(wm[e])}, v ${String(v[e])} vs ${String(wv[e])}`,
            );
          }
        }
      });
    }
  }

  it('the wasm Adam kernel takes plain Adam and AdamW on float32, and declines what it does not implement', () => {
    const size = 2049;
    const flat = (): Flat => ({ data: new Float32Array(size).fill(0.5), offset: 0 });
    const h = { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false, step: 1 };
    expect(adamF32Wasm(flat(), flat(), flat(), flat(), size, h)).toBe(true);
    expect(adamF32Wasm(flat(), flat(), flat(), flat(), size, { ...h, weightDecay: 0.1, decoupled: true })).toBe(true);
    expect(adamF32Wasm(flat(), flat(), flat(), flat(), size, { ...h, weightDecay: 0.1 })).toBe(false);
    expect(adamF32Wasm(flat(), flat(), flat(), flat(), size, { ...h, amsgrad: true })).toBe(false);
    const f64: Flat = { data: new Float64Array(size), offset: 0 };
    expect(adamF32Wasm(f64, flat(), flat(), flat(), size, h)).toBe(false);
    // Where it runs, the first step moves every element by lr (m̂ / √v̂ = g / |g| = 1).
    const p = flat();
    const zeros = (): Flat => ({ data: new Float32Array(size), offset: 0 });
    adamF32Wasm(p, flat(), zeros(), zeros(), size, h);
    for (const x of p.data) expect(x).toBeCloseTo(0.4, 6);
  });

  it('RMSprop centered with momentum follows torch.optim.RMSprop', () => {
    const p = f32(),
      g = f32(),
      sq = new Float32Array(n),
      buf = new Float32Array(n),
      avg = new Float32Array(n);
    const [lr, alpha, eps, wd, mu] = [0.01, 0.9, 1e-8, 0.05, 0.5];
    const wp = Float64Array.from(p),
      wsq = new Float64Array(n),
      wbuf = new Float64Array(n),
      wavg = new Float64Array(n);
    for (let step = 0; step < 3; step++) {
      for (let i = 0; i < n; i++) {
        const gi = g[i] + wd * wp[i];
        wsq[i] = alpha * wsq[i] + (1 - alpha) * gi * gi;
        wavg[i] = alpha * wavg[i] + (1 - alpha) * gi;
        wbuf[i] = mu * wbuf[i] + gi / (Math.sqrt(wsq[i] - wavg[i] * wavg[i]) + eps);
        wp[i] -= lr * wbuf[i];
      }
      cpuBackend.rmspropStep(
        view(p, 'float32', [n]),
        view(g, 'float32', [n]),
        view(sq, 'float32', [n]),
        view(buf, 'float32', [n]),
        view(avg, 'float32', [n]),
        { lr, alpha, eps, weightDecay: wd, momentum: mu, centered: true },
      );
    }
    for (let i = 0; i < n; i++) expect(p[i]).toBeCloseTo(wp[i], 5);
  });
});

describe('wasm encoder', () => {
  it('emits a valid gemm module small enough for synchronous compilation on a browser main thread', () => {
    const bytes = kernelModuleBytes();
    expect(WebAssembly.validate(bytes)).toBe(true);
    // Chrome refuses synchronous `new WebAssembly.Module` above 4 KiB on the main thread.
    expect(bytes.length).toBeLessThan(4096);
    const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => `${e.kind}:${e.name}`);
    expect(exports.sort()).toEqual([
      'function:adam',
      'function:add2d',
      'function:copy2d',
      'function:div2d',
      'function:mul2d',
      'function:packB8',
      'function:packBT8',
      'function:sgd',
      'function:sgdMomentum',
      'function:sub2d',
      'function:tilesAdd',
      'function:tilesSet',
      'memory:memory',
    ]);
  });

  it('encodes LEB128 as the spec examples do', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
  });
});
