/**
 * CPU kernels on strided and broadcast views (element-wise ops, copies, im2col/col2im, fill, sum)
 * against index-by-index reads; see cpu-kernels.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { View } from '../src/backend/backend.js';
import { cpuBackend } from '../src/backend/cpu/cpu-backend.js';
import { setWasmKernelsEnabled } from '../src/backend/cpu/wasm-runtime.js';
import { contiguousStrides, numel } from '../src/shape.js';
import { at, dataOf, indices, randomArray, rnd, view } from './cpu-kernel-harness.js';

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
