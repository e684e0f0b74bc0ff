/**
 * The CPU backend's fused BatchNorm kernels over channel dim 1 of x [N, C, …]: the statistics, the
 * normalizing forward map and its backward, each a loop per channel in float64 locals. They read x
 * (and g) as (array, offset) and the per-channel statistics as packed arrays, and return fresh
 * arrays of x's dtype, which CpuBackend wraps as storages.
 */
import { allocTyped, type TypedArray } from '../../dtype.js';
import { numel } from '../../shape.js';
import type { View } from '../backend.js';
import type { Flat } from './optim-kernels.js';

/** [2, C]: the per-channel means, then the biased variances (Backend.batchNormStats); `xf` is x's data. */
export function batchNormStatsKernel(x: View, xf: Flat): TypedArray {
  const [n, c] = x.shape;
  const inner = numel(x.shape.slice(2));
  const count = n * inner;
  const { data, offset } = xf;
  const out = allocTyped(x.storage.dtype, 2 * c, [2, c]);
  let ch = 0;
  // Four channels side by side: each channel's float64 sums run in its own order, unchanged, but
  // four independent addition chains keep the adder busy where one waits on its latency.
  for (; ch + 4 <= c; ch += 4) {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let b = 0; b < n; b++) {
      const p0 = offset + (b * c + ch) * inner;
      for (let i = 0, q = p0; i < inner; i++, q++) {
        s0 += data[q];
        s1 += data[q + inner];
        s2 += data[q + 2 * inner];
        s3 += data[q + 3 * inner];
      }
    }
    const m0 = s0 / count,
      m1 = s1 / count,
      m2 = s2 / count,
      m3 = s3 / count;
    let q0 = 0,
      q1 = 0,
      q2 = 0,
      q3 = 0;
    for (let b = 0; b < n; b++) {
      const p0 = offset + (b * c + ch) * inner;
      for (let i = 0, q = p0; i < inner; i++, q++) {
        const d0 = data[q] - m0,
          d1 = data[q + inner] - m1,
          d2 = data[q + 2 * inner] - m2,
          d3 = data[q + 3 * inner] - m3;
        q0 += d0 * d0;
        q1 += d1 * d1;
        q2 += d2 * d2;
        q3 += d3 * d3;
      }
    }
    out[ch] = m0;
    out[ch + 1] = m1;
    out[ch + 2] = m2;
    out[ch + 3] = m3;
    out[c + ch] = q0 / count;
    out[c + ch + 1] = q1 / count;
    out[c + ch + 2] = q2 / count;
    out[c + ch + 3] = q3 / count;
  }
  for (; ch < c; ch++) {
    // Two passes in float64 (the mean, then the squared deviations from it): no cancellation.
    let sum = 0;
    for (let b = 0; b < n; b++) {
      const p0 = offset + (b * c + ch) * inner;
      for (let i = 0; i < inner; i++) sum += data[p0 + i];
    }
    const mean = sum / count;
    let sq = 0;
    for (let b = 0; b < n; b++) {
      const p0 = offset + (b * c + ch) * inner;
      for (let i = 0; i < inner; i++) {
        const d = data[p0 + i] - mean;
        sq += d * d;
      }
    }
    out[ch] = mean;
    out[c + ch] = sq / count;
  }
  return out;
}

/** (x − mean)·invstd·weight + bias per channel (Backend.batchNormForward); `xf` is x's data, the rest packed [C] arrays. */
export function batchNormForwardKernel(
  x: View,
  xf: Flat,
  m: TypedArray,
  v: TypedArray,
  w: TypedArray,
  b: TypedArray,
  eps: number,
): TypedArray {
  const [n, c] = x.shape;
  const inner = numel(x.shape.slice(2));
  const { data, offset } = xf;
  const out = allocTyped(x.storage.dtype, n * c * inner, x.shape);
  for (let ch = 0; ch < c; ch++) {
    // PyTorch's CPU transform: x·α + β with α = invstd·weight, β = bias − mean·α.
    const alpha = w[ch] / Math.sqrt(v[ch] + eps);
    const beta = b[ch] - m[ch] * alpha;
    for (let bi = 0; bi < n; bi++) {
      const q = (bi * c + ch) * inner;
      const p0 = offset + q;
      for (let i = 0; i < inner; i++) out[q + i] = data[p0 + i] * alpha + beta;
    }
  }
  return out;
}

/** The gradients [dx, dweight, dbias] of batchNormForwardKernel (Backend.batchNormBackward); `gx`, `xx` are g's and x's data. */
export function batchNormBackwardKernel(
  x: View,
  gx: Flat,
  xx: Flat,
  m: TypedArray,
  v: TypedArray,
  w: TypedArray,
  eps: number,
): [TypedArray, TypedArray, TypedArray] {
  const [n, c] = x.shape;
  const inner = numel(x.shape.slice(2));
  const count = n * inner;
  const dtype = x.storage.dtype;
  const gd = gx.data,
    xd = xx.data;
  const dx = allocTyped(dtype, n * c * inner, x.shape);
  const dw = allocTyped(dtype, c, [c]);
  const db = allocTyped(dtype, c, [c]);
  for (let ch = 0; ch < c; ch++) {
    const mu = m[ch];
    const invstd = 1 / Math.sqrt(v[ch] + eps);
    let sumG = 0;
    let sumGX = 0;
    for (let bi = 0; bi < n; bi++) {
      const q = (bi * c + ch) * inner;
      const pg = gx.offset + q,
        px = xx.offset + q;
      for (let i = 0; i < inner; i++) {
        const gv = gd[pg + i];
        sumG += gv;
        sumGX += gv * (xd[px + i] - mu);
      }
    }
    // dx = invstd·w·(g − Σg/M − (x − μ)·invstd²·Σg(x − μ)/M)
    const k = invstd * w[ch];
    const meanG = sumG / count;
    const proj = (invstd * invstd * sumGX) / count;
    for (let bi = 0; bi < n; bi++) {
      const q = (bi * c + ch) * inner;
      const pg = gx.offset + q,
        px = xx.offset + q;
      for (let i = 0; i < inner; i++) dx[q + i] = k * (gd[pg + i] - meanG - (xd[px + i] - mu) * proj);
    }
    dw[ch] = sumGX * invstd;
    db[ch] = sumG;
  }
  return [dx, dw, db];
}
