import { LINEAR_MAIN, MATH_HELPERS, paramsBinding } from './common.js';

/**
 * Softmax / log-softmax along one dim of a contiguous input seen as [outer, len, inner]: one
 * thread per (outer, inner) row, max-subtracted. P: rows, len, inner, input offset.
 */
export function softmaxShader(log: boolean): string {
  const write = log ? 'Y[b + k * inner] = X[P[3] + b + k * inner] - lse;' : 'Y[b + k * inner] = exp(X[P[3] + b + k * inner] - m) / s;';
  return `${MATH_HELPERS}
@group(0) @binding(0) var<storage, read_write> Y: array<f32>;
@group(0) @binding(1) var<storage, read> X: array<f32>;
${paramsBinding(2)}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  let len = P[1];
  let inner = P[2];
  let b = (i / inner) * len * inner + i % inner;
  var m = -inf_like(0.0);
  // A NaN in the row makes m NaN and so the whole row NaN, as PyTorch (WGSL's max may drop NaN).
  for (var k = 0u; k < len; k++) { let v = X[P[3] + b + k * inner]; if (v > m || isnan_(v)) { m = v; } }
  var s = 0.0;
  for (var k = 0u; k < len; k++) { s += exp(X[P[3] + b + k * inner] - m); }
  let lse = m + log(s);
  for (var k = 0u; k < len; k++) { ${write} }
}`;
}
