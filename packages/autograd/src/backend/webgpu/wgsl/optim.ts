import { LINEAR_MAIN, paramsBinding } from './common.js';

/**
 * Fused optimizer updates, one thread per parameter element, in place on contiguous views. The
 * arithmetic is PyTorch's (see optim/*.ts), in f32. Optional state buffers (momentum, amsgrad's
 * max, centered RMSprop's average) are separate shader variants so every declared binding is used.
 */
const f = (k: number): string => `bitcast<f32>(P[${String(k)}])`;

/** P: n, pOff, gOff, bufOff, lr, momentum, dampening, weightDecay, nesterov, firstStep. */
export function sgdShader(momentum: boolean): string {
  return `
@group(0) @binding(0) var<storage, read_write> W: array<f32>;
@group(0) @binding(1) var<storage, read> G: array<f32>;
${momentum ? '@group(0) @binding(2) var<storage, read_write> Buf: array<f32>;' : ''}
${paramsBinding(momentum ? 3 : 2)}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  let p = W[P[1] + i];
  var d = G[P[2] + i];
  let wd = ${f(7)};
  if (wd != 0.0) { d += wd * p; }
  ${
    momentum
      ? `let mu = ${f(5)};
  let bi = P[3] + i;
  var bv = d;
  if (P[9] == 0u) { bv = mu * Buf[bi] + (1.0 - ${f(6)}) * d; }
  Buf[bi] = bv;
  if (P[8] != 0u) { d = d + mu * bv; } else { d = bv; }`
      : ''
  }
  W[P[1] + i] = p - ${f(4)} * d;
}`;
}

/** P: n, pOff, gOff, mOff, vOff, maxOff, lr, beta1, beta2, eps, weightDecay, decoupled, stepSize, sqrt(bias correction 2). */
export function adamShader(amsgrad: boolean): string {
  return `
@group(0) @binding(0) var<storage, read_write> W: array<f32>;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> M: array<f32>;
@group(0) @binding(3) var<storage, read_write> V: array<f32>;
${amsgrad ? '@group(0) @binding(4) var<storage, read_write> Vmax: array<f32>;' : ''}
${paramsBinding(amsgrad ? 5 : 4)}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  var p = W[P[1] + i];
  var g = G[P[2] + i];
  let wd = ${f(10)};
  if (wd != 0.0) {
    if (P[11] != 0u) { p = p * (1.0 - ${f(6)} * wd); } else { g += wd * p; }
  }
  let b1 = ${f(7)}; let b2 = ${f(8)};
  let m = b1 * M[P[3] + i] + (1.0 - b1) * g;
  var v = b2 * V[P[4] + i] + (1.0 - b2) * g * g;
  M[P[3] + i] = m;
  V[P[4] + i] = v;
  ${amsgrad ? 'v = max(Vmax[P[5] + i], v); Vmax[P[5] + i] = v;' : ''}
  let denom = sqrt(v) / ${f(13)} + ${f(9)};
  W[P[1] + i] = p - ${f(12)} * m / denom;
}`;
}

/** P: n, pOff, gOff, sqOff, bufOff, avgOff, lr, alpha, eps, weightDecay, momentum. */
export function rmspropShader(momentum: boolean, centered: boolean): string {
  let binding = 3;
  const bufBinding = momentum ? binding++ : -1;
  const avgBinding = centered ? binding++ : -1;
  return `
@group(0) @binding(0) var<storage, read_write> W: array<f32>;
@group(0) @binding(1) var<storage, read> G: array<f32>;
@group(0) @binding(2) var<storage, read_write> Sq: array<f32>;
${momentum ? `@group(0) @binding(${String(bufBinding)}) var<storage, read_write> Buf: array<f32>;` : ''}
${centered ? `@group(0) @binding(${String(avgBinding)}) var<storage, read_write> Avg: array<f32>;` : ''}
${paramsBinding(binding)}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  let p = W[P[1] + i];
  var g = G[P[2] + i];
  let wd = ${f(9)};
  if (wd != 0.0) { g += wd * p; }
  let alpha = ${f(7)};
  let s = alpha * Sq[P[3] + i] + (1.0 - alpha) * g * g;
  Sq[P[3] + i] = s;
  ${
    centered
      ? `let a = alpha * Avg[P[5] + i] + (1.0 - alpha) * g;
  Avg[P[5] + i] = a;
  let avg = sqrt(s - a * a) + ${f(8)};`
      : `let avg = sqrt(s) + ${f(8)};`
  }
  ${
    momentum
      ? `let b = ${f(10)} * Buf[P[4] + i] + g / avg;
  Buf[P[4] + i] = b;
  W[P[1] + i] = p - ${f(6)} * b;`
      : `W[P[1] + i] = p - ${f(6)} * g / avg;`
  }
}`;
}
