/**
 * Forward values against plain-JS reference loops (gradcheck only proves backward matches the
 * forward; this proves the forward itself). Odd sizes cross the CPU kernels' block boundaries.
 */
import { describe, expect, it } from 'vitest';
import { tensor, type DType, type Tensor } from '../src/index.js';

/** Deterministic values in [-2, 2) (no RNG: the reference and the engine see the same numbers). */
function data(n: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => 4 * Math.abs((Math.sin(12.9898 * (i + 1) + 78.233 * seed) * 43758.5453) % 1) - 2);
}
const numel = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
function make(shape: number[], seed: number, dtype: DType = 'float64'): { t: Tensor; v: number[] } {
  const v = data(numel(shape), seed);
  const t = tensor(dtype === 'float64' ? Float64Array.from(v) : Float32Array.from(v), { dtype }).reshape(shape);
  return { t, v: dtype === 'float32' ? v.map(Math.fround) : v };
}
function strides(shape: number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}
function unravel(i: number, shape: number[]): number[] {
  const idx: number[] = [];
  let rest = i;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(rest % shape[d]);
    rest = Math.floor(rest / shape[d]);
  }
  return idx;
}
/** Reads `values` (row-major `shape`) at a broadcast index of the output. */
function readBroadcast(values: number[], shape: number[], outIdx: number[]): number {
  const st = strides(shape);
  const lead = outIdx.length - shape.length;
  let off = 0;
  shape.forEach((d, k) => {
    off += (d === 1 ? 0 : outIdx[lead + k]) * st[k];
  });
  return values[off];
}
function expectAllClose(actual: Tensor, expected: number[], shape: number[], rel: number): void {
  expect(actual.shape).toEqual(shape);
  const a = Array.from(actual.dataSync());
  expect(a.length).toBe(expected.length);
  a.forEach((x, i) => {
    if (Math.abs(x - expected[i]) > rel * Math.max(1, Math.abs(expected[i]))) {
      throw new Error(`element ${String(i)} ${JSON.stringify(unravel(i, shape))}: ${String(x)} vs ${String(expected[i])}`);
    }
  });
}

describe('element-wise forward values', () => {
  const binary: [string, (a: number, b: number) => number][] = [
    ['add', (a, b) => a + b],
    ['sub', (a, b) => a - b],
    ['mul', (a, b) => a * b],
    ['div', (a, b) => a / b],
  ];
  it.each(binary)('%s with broadcasting [3,1,4] and [2,4], and with a transposed operand', (name, f) => {
    const A = make([3, 1, 4], 1);
    const B = make([2, 4], 2);
    const out = [3, 2, 4];
    const ref = Array.from({ length: numel(out) }, (_, i) => {
      const idx = unravel(i, out);
      return f(readBroadcast(A.v, [3, 1, 4], idx), readBroadcast(B.v, [2, 4], idx));
    });
    expectAllClose((A.t as unknown as Record<string, (o: Tensor) => Tensor>)[name].call(A.t, B.t), ref, out, 1e-15);
    // bᵀ of shape [4, 2] read through its transpose: the same values as b.
    const Bt = make([4, 2], 2);
    const refT = Array.from({ length: numel(out) }, (_, i) => {
      const [x, y, z] = unravel(i, out);
      return f(readBroadcast(A.v, [3, 1, 4], [x, y, z]), Bt.v[z * 2 + y]);
    });
    expectAllClose((A.t as unknown as Record<string, (o: Tensor) => Tensor>)[name].call(A.t, Bt.t.transpose(0, 1)), refT, out, 1e-15);
  });

  it('pow with tensor and number exponents; number operands', () => {
    const A = make([2, 3], 3);
    const pos = A.v.map((x) => Math.abs(x) + 0.1);
    const base = tensor(Float64Array.from(pos)).reshape([2, 3]);
    const E = make([3], 4);
    expectAllClose(
      base.pow(E.t),
      pos.map((x, i) => x ** E.v[i % 3]),
      [2, 3],
      1e-14,
    );
    expectAllClose(
      base.pow(2.5),
      pos.map((x) => x ** 2.5),
      [2, 3],
      1e-14,
    );
    expectAllClose(
      A.t.mul(-3).add(0.5).div(4),
      A.v.map((x) => (x * -3 + 0.5) / 4),
      [2, 3],
      1e-15,
    );
  });

  it.each([
    ['neg', (x: number) => -x],
    ['exp', Math.exp],
    ['abs', Math.abs],
    ['tanh', Math.tanh],
    ['sigmoid', (x: number) => 1 / (1 + Math.exp(-x))],
    ['relu', (x: number) => Math.max(0, x)],
  ] as const)('%s', (name, f) => {
    const A = make([3, 5], 5);
    expectAllClose((A.t as unknown as Record<string, () => Tensor>)[name].call(A.t), A.v.map(f), [3, 5], 1e-14);
  });

  it('log and sqrt of positive values; clamp_', () => {
    const v = data(7, 6).map((x) => Math.abs(x) + 0.01);
    const t = tensor(Float64Array.from(v));
    expectAllClose(t.log(), v.map(Math.log), [7], 1e-14);
    expectAllClose(t.sqrt(), v.map(Math.sqrt), [7], 1e-15);
    const A = make([7], 7);
    expectAllClose(
      A.t.clone().clamp_(-0.5, 1),
      A.v.map((x) => Math.min(1, Math.max(-0.5, x))),
      [7],
      0,
    );
  });
});

/** Reference batched matmul with broadcast batch dims. */
function matmulRef(a: number[], aShape: number[], b: number[], bShape: number[]): { v: number[]; shape: number[] } {
  const m = aShape[aShape.length - 2],
    k = aShape[aShape.length - 1],
    n = bShape[bShape.length - 1];
  const aBatch = aShape.slice(0, -2),
    bBatch = bShape.slice(0, -2);
  const nb = Math.max(aBatch.length, bBatch.length);
  const batch = Array.from({ length: nb }, (_, i) => {
    const da = aBatch[aBatch.length - nb + i] ?? 1,
      db = bBatch[bBatch.length - nb + i] ?? 1;
    return da === 1 ? db : da;
  });
  const out: number[] = [];
  for (let bi = 0; bi < numel(batch); bi++) {
    const idx = unravel(bi, batch);
    const offA = aBatch.length ? readIndex(aBatch, idx) * m * k : 0;
    const offB = bBatch.length ? readIndex(bBatch, idx) * k * n : 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[offA + i * k + p] * b[offB + p * n + j];
        out.push(s);
      }
    }
  }
  return { v: out, shape: [...batch, m, n] };
}
function readIndex(shape: number[], outIdx: number[]): number {
  const st = strides(shape);
  const lead = outIdx.length - shape.length;
  return shape.reduce((o, d, k) => o + (d === 1 ? 0 : outIdx[lead + k]) * st[k], 0);
}

describe('matmul forward values', () => {
  it.each([
    [
      [5, 7],
      [7, 3],
    ],
    [
      [1, 1],
      [1, 1],
    ],
    [
      [33, 65],
      [65, 17],
    ],
    [
      [64, 64],
      [64, 64],
    ],
    [
      [2, 1, 4, 6],
      [3, 6, 5],
    ],
    [
      [3, 9, 2],
      [2, 11],
    ],
  ])('%j x %j', (aShape, bShape) => {
    const A = make(aShape, 8);
    const B = make(bShape, 9);
    const ref = matmulRef(A.v, aShape, B.v, bShape);
    expectAllClose(A.t.matmul(B.t), ref.v, ref.shape, 1e-12);
  });

  it('float32 agrees with the float64 reference to float32 accuracy', () => {
    const A = make([37, 53], 10, 'float32');
    const B = make([53, 29], 11, 'float32');
    const ref = matmulRef(A.v, [37, 53], B.v, [53, 29]);
    expectAllClose(A.t.matmul(B.t), ref.v, ref.shape, 2e-5);
  });

  it.each([
    [
      [130, 70],
      [70, 97],
    ],
    [
      [2, 65, 33],
      [33, 129],
    ],
    [
      [200, 256],
      [256, 40],
    ],
  ])('float32 %j x %j (sizes the fast gemm paths take) within float32 accumulation error', (aShape, bShape) => {
    const A = make(aShape, 19, 'float32');
    const B = make(bShape, 20, 'float32');
    const ref = matmulRef(A.v, aShape, B.v, bShape);
    // |error| ≲ k·max|a·b|·2⁻²³ for float32 accumulation: k ≤ 256, |a·b| ≤ 4.
    expectAllClose(A.t.matmul(B.t), ref.v, ref.shape, 256 * 4 * 2 ** -23);
  });

  it('transposed operands and 1-D operands', () => {
    const At = make([7, 5], 12); // read as its transpose [5, 7]
    const B = make([7, 3], 13);
    const a = Array.from({ length: 35 }, (_, i) => At.v[(i % 7) * 5 + Math.floor(i / 7)]);
    const ref = matmulRef(a, [5, 7], B.v, [7, 3]);
    expectAllClose(At.t.transpose(0, 1).matmul(B.t), ref.v, [5, 3], 1e-12);
    const Bt = make([3, 7], 14);
    const b = Array.from({ length: 21 }, (_, i) => Bt.v[(i % 3) * 7 + Math.floor(i / 3)]);
    expectAllClose(At.t.transpose(0, 1).matmul(Bt.t.transpose(0, 1)), matmulRef(a, [5, 7], b, [7, 3]).v, [5, 3], 1e-12);
    const v = make([7], 15);
    expectAllClose(v.t.matmul(B.t), matmulRef(v.v, [1, 7], B.v, [7, 3]).v, [3], 1e-12);
    expectAllClose(
      B.t.transpose(0, 1).matmul(v.t),
      matmulRef(
        Array.from({ length: 21 }, (_, i) => B.v[(i % 7) * 3 + Math.floor(i / 7)]),
        [3, 7],
        v.v,
        [7, 1],
      ).v,
      [3],
      1e-12,
    );
    expect(v.t.matmul(v.t).item()).toBeCloseTo(
      v.v.reduce((s, x) => s + x * x, 0),
      12,
    );
  });
});

describe('reductions and softmax forward values', () => {
  const shape = [3, 4, 5];
  const X = make(shape, 16);
  const reduceRef = (dims: number[], keepdim: boolean, mean: boolean, values = X.v, inShape = shape): { v: number[]; shape: number[] } => {
    const kept = inShape.map((d, i) => (dims.includes(i) ? 1 : d));
    const acc = new Array<number>(numel(kept)).fill(0);
    values.forEach((x, i) => {
      const idx = unravel(i, inShape).map((v, d) => (dims.includes(d) ? 0 : v));
      acc[readIndex(kept, idx)] += x;
    });
    const count = dims.reduce((n, d) => n * inShape[d], 1);
    return { v: mean ? acc.map((s) => s / count) : acc, shape: keepdim ? kept : inShape.filter((_, i) => !dims.includes(i)) };
  };
  it.each([
    [[0], false],
    [[1], true],
    [[2], false],
    [[0, 2], false],
    [[0, 1, 2], true],
    [[1, 2], true],
  ] as const)('sum and mean over %j (keepdim %s)', (dims, keepdim) => {
    for (const mean of [false, true]) {
      const r = reduceRef([...dims], keepdim, mean);
      const neg = dims.map((d) => d - 3); // the same dims, counted from the end
      expectAllClose(mean ? X.t.mean([...dims], keepdim) : X.t.sum([...dims], keepdim), r.v, r.shape, 1e-14);
      expectAllClose(mean ? X.t.mean(neg, keepdim) : X.t.sum(neg, keepdim), r.v, r.shape, 1e-14);
    }
  });
  it('sum over dims of a transposed tensor', () => {
    const T = X.t.transpose(0, 2); // [5, 4, 3]
    const tv = Array.from({ length: 60 }, (_, i) => {
      const [a, b, c] = unravel(i, [5, 4, 3]);
      return X.v[c * 20 + b * 5 + a];
    });
    const r = reduceRef([1], false, false, tv, [5, 4, 3]);
    expectAllClose(T.sum(1), r.v, r.shape, 1e-14);
  });
  it.each([0, 1, 2, -1])('softmax and logSoftmax over dim %i', (dim) => {
    const d = (dim + 3) % 3;
    const lse = reduceRef([d], true, false, X.v.map(Math.exp));
    const ref = X.v.map((x, i) => {
      const idx = unravel(i, shape);
      idx[d] = 0;
      return x - Math.log(lse.v[readIndex(lse.shape, idx)]);
    });
    expectAllClose(X.t.logSoftmax(dim), ref, shape, 1e-13);
    expectAllClose(X.t.softmax(dim), ref.map(Math.exp), shape, 1e-13);
  });
});

describe('view forward values', () => {
  it('reshape, transpose, expand, index read the right elements', () => {
    const X = make([2, 3, 4], 17);
    expectAllClose(X.t.reshape([4, -1]), X.v, [4, 6], 0);
    const tr = Array.from({ length: 24 }, (_, i) => {
      const [a, b, c] = unravel(i, [4, 3, 2]);
      return X.v[c * 12 + b * 4 + a];
    });
    expectAllClose(X.t.transpose(0, 2), tr, [4, 3, 2], 0);
    expectAllClose(X.t.transpose(0, 2).reshape([24]), tr, [24], 0);
    expectAllClose(X.t.index([1, 2]), X.v.slice(20, 24), [4], 0);
    expectAllClose(X.t.index(0).transpose(0, 1).index(3), [X.v[3], X.v[7], X.v[11]], [3], 0);
    const row = make([1, 4], 18);
    expectAllClose(row.t.expand([3, 4]), [...row.v, ...row.v, ...row.v], [3, 4], 0);
  });
});
