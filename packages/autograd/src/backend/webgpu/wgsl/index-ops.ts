import { LINEAR_MAIN, MATH_HELPERS, paramsBinding, stridedOffsets, type WgslType } from './common.js';

/**
 * argmax / argmin along one dim of a contiguous input seen as [outer, len, inner]: one thread per
 * output, the first extreme wins and the first NaN wins over everything (PyTorch's argmax).
 * P: outN, len, inner, input offset.
 */
export function argReduceShader(op: 'max' | 'min', T: WgslType): string {
  const cmp = op === 'max' ? '>' : '<';
  const better = T === 'f32' ? `isnan_(v) || v ${cmp} best` : `v ${cmp} best`;
  const stop = T === 'f32' ? 'if (isnan_(best)) { break; }' : '';
  return `${MATH_HELPERS}
@group(0) @binding(0) var<storage, read_write> Y: array<i32>;
@group(0) @binding(1) var<storage, read> X: array<${T}>;
${paramsBinding(2)}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  let len = P[1];
  let inner = P[2];
  let b = P[3] + (i / inner) * len * inner + i % inner;
  var best = X[b];
  var at = 0u;
  for (var k = 1u; k < len; k++) {
    ${stop}
    let v = X[b + k * inner];
    if (${better}) { best = v; at = k; }
  }
  Y[i] = i32(at);
}`;
}

/**
 * gather: out[p] = X[input offset of p with coordinate index[p] on dim]. The walk runs over the
 * index's (coalesced) shape with operands out, index, input (the input's stride on dim set to 0;
 * P[1] holds it). An out-of-range index gives 0 (a kernel cannot throw; the CPU does).
 * P: n, inputDimStride, inputDimSize, shape[rank], then (offset, strides[rank]) per operand.
 */
export const GATHER_SHAPE_BASE = 3;
export function gatherShader(T: WgslType, rank: number): string {
  return `
@group(0) @binding(0) var<storage, read_write> Y: array<${T}>;
@group(0) @binding(1) var<storage, read> I: array<i32>;
@group(0) @binding(2) var<storage, read> X: array<${T}>;
${paramsBinding(3)}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  ${stridedOffsets('i', rank, 3, GATHER_SHAPE_BASE)}
  let k = I[o1];
  if (k < 0 || u32(k) >= P[2]) { Y[o0] = ${T}(0); return; }
  Y[o0] = X[o2 + u32(k) * P[1]];
}`;
}

/**
 * scatterAdd without atomics: one thread per element of the (contiguous) output owns it and sums
 * every src element whose index along dim points at it — deterministic, no float atomics.
 * P: outN, rank, dim, K (index size on dim), index offset, src offset, then outShape[rank],
 * indexShape[rank], indexStrides[rank], srcStrides[rank].
 */
export function scatterAddShader(T: WgslType): string {
  return `
@group(0) @binding(0) var<storage, read_write> Y: array<${T}>;
@group(0) @binding(1) var<storage, read> I: array<i32>;
@group(0) @binding(2) var<storage, read> S: array<${T}>;
${paramsBinding(3)}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  let rank = P[1];
  let dim = P[2];
  var rem = i;
  var ib = P[4];
  var sb = P[5];
  var tgt = 0;
  var inside = true;
  for (var e = 0u; e < rank; e++) {
    let d = rank - 1u - e;
    let c = rem % P[6u + d];
    rem = rem / P[6u + d];
    if (d == dim) {
      tgt = i32(c);
    } else {
      if (c >= P[6u + rank + d]) { inside = false; }
      ib += c * P[6u + 2u * rank + d];
      sb += c * P[6u + 3u * rank + d];
    }
  }
  var acc = ${T}(0);
  if (inside) {
    let is = P[6u + 2u * rank + dim];
    let ss = P[6u + 3u * rank + dim];
    for (var k = 0u; k < P[3]; k++) {
      if (I[ib + k * is] == tgt) { acc += S[sb + k * ss]; }
    }
  }
  Y[i] = acc;
}`;
}

/**
 * multinomial, one thread per row of contiguous weights W [rows, n] with uniforms U: inverse CDF
 * per sample (with replacement) or the numSamples largest Efraimidis–Spirakis keys log(u)/w
 * (without). A row the CPU would refuse (negative, NaN or all-zero weights) gives -1 indices here,
 * since a kernel cannot throw. P: rows, n, numSamples, weights offset.
 */
export function multinomialShader(replacement: boolean): string {
  const body = replacement
    ? `for (var s = 0u; s < k; s++) {
      let u = U[r * k + s] * total;
      var acc = 0.0;
      var pick = -1;
      for (var i = 0u; i < n; i++) {
        let w = W[base + i];
        acc += w;
        if (w > 0.0) { pick = i32(i); }
        if (acc > u && w > 0.0) { break; }
      }
      Y[r * k + s] = pick;
    }`
    : `var last = inf_like(0.0);
    for (var s = 0u; s < k; s++) {
      var best = -inf_like(0.0);
      var pick = -1;
      for (var i = 0u; i < n; i++) {
        let w = W[base + i];
        if (w <= 0.0) { continue; }
        let key = log(U[r * n + i]) / w;
        if (key < last && (pick < 0 || key > best)) { best = key; pick = i32(i); }
      }
      last = best;
      Y[r * k + s] = pick;
    }`;
  return `${MATH_HELPERS}
@group(0) @binding(0) var<storage, read_write> Y: array<i32>;
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read> U: array<f32>;
${paramsBinding(3)}
${LINEAR_MAIN}
  let r = i;
  if (r >= P[0]) { return; }
  let n = P[1];
  let k = P[2];
  let base = P[3] + r * n;
  var total = 0.0;
  var valid = true;
  for (var i = 0u; i < n; i++) {
    let w = W[base + i];
    if (!(w >= 0.0) || isnan_(w) || w > 3.4e38) { valid = false; }
    total += w;
  }
  if (!valid || !(total > 0.0)) {
    for (var s = 0u; s < k; s++) { Y[r * k + s] = -1; }
    return;
  }
  ${body}
}`;
}

/**
 * col2im (fold2d), one thread per output pixel of [N, C, H, W], gathering the window elements of
 * contiguous G [N, C, kh·kw, oh, ow] that came from it (no atomics, deterministic).
 * P: outN, H, W, kh, kw, oh, ow, sh, sw, dh, dw, G offset.
 */
export function fold2dShader(T: WgslType): string {
  return `
@group(0) @binding(0) var<storage, read_write> Y: array<${T}>;
@group(0) @binding(1) var<storage, read> G: array<${T}>;
${paramsBinding(2)}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  let H = P[1]; let W = P[2]; let kh = P[3]; let kw = P[4]; let oh = P[5]; let ow = P[6];
  let plane = i / (H * W);
  let h = (i / W) % H;
  let w = i % W;
  var acc = ${T}(0);
  for (var ki = 0u; ki < kh; ki++) {
    let th = i32(h) - i32(ki * P[9]);
    if (th < 0 || u32(th) % P[7] != 0u || u32(th) / P[7] >= oh) { continue; }
    let oi = u32(th) / P[7];
    for (var kj = 0u; kj < kw; kj++) {
      let tw = i32(w) - i32(kj * P[10]);
      if (tw < 0 || u32(tw) % P[8] != 0u || u32(tw) / P[8] >= ow) { continue; }
      let oj = u32(tw) / P[8];
      acc += G[P[11] + ((plane * kh + ki) * kw + kj) * oh * ow + oi * ow + oj];
    }
  }
  Y[i] = acc;
}`;
}
