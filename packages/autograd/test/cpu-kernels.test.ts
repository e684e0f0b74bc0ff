/**
 * CPU kernel correctness against naive reference loops written here (float64 triple loops,
 * index-by-index strided reads, and the optimizer update rules as PyTorch documents them).
 *
 * This file: gemm on both kernel paths, the backend's batched matmul and the wasm encoder. The
 * element-wise and window kernels on strided views are in cpu-kernels-strided.test.ts, the fused
 * optimizer kernels in cpu-kernels-optim.test.ts; the set-up they share is cpu-kernel-harness.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/cpu/cpu-backend.js';
import { gemm, gemmJs, type Strided } from '../src/backend/cpu/matmul.js';
import { kernelModuleBytes } from '../src/backend/cpu/wasm-code.js';
import { setWasmKernelsEnabled, wasmKernels } from '../src/backend/cpu/wasm-runtime.js';
import { sleb, uleb } from '../src/backend/cpu/wasm-encoder.js';
import type { TypedArray } from '../src/dtype.js';
import { at, dataOf, indices, randomArray, view } from './cpu-kernel-harness.js';

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
