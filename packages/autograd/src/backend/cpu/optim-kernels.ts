/**
 * Fused optimizer updates over flat arrays. Every operand is (array, offset) over `n` contiguous
 * elements, so a contiguous gradient is read in place rather than copied first. Hyper-parameters
 * are hoisted into locals and the option branches (weight decay, momentum, amsgrad, …) are
 * resolved outside the element loop: the loops the JIT sees are branch-free and allocation-free.
 * Updated state is used from the float64 locals rather than re-read from (float32) storage, which
 * is what keeps these loops fast; the difference is one float32 rounding of an intermediate.
 */
import type { TypedArray } from '../../dtype.js';
import type { AdamHyper, RmspropHyper, SgdHyper } from '../backend.js';
import { adamF32Wasm, sgdF32Wasm } from './wasm-optim.js';

/** Below this many elements the copies into wasm memory are not worth it. */
const WASM_MIN_ELEMENTS = 1024;

export interface Flat {
  readonly data: TypedArray;
  readonly offset: number;
}

export function sgdUpdate(p: Flat, g: Flat, buf: Flat | null, n: number, h: SgdHyper): void {
  if (n >= WASM_MIN_ELEMENTS && sgdF32Wasm(p, g, buf, n, h)) return;
  const pd = p.data,
    gd = g.data,
    po = p.offset,
    go = g.offset;
  const lr = h.lr,
    wd = h.weightDecay;
  if (!buf) {
    if (wd === 0) for (let i = 0; i < n; i++) pd[po + i] -= lr * gd[go + i];
    else for (let i = 0; i < n; i++) pd[po + i] -= lr * (gd[go + i] + wd * pd[po + i]);
    return;
  }
  const bd = buf.data,
    bo = buf.offset;
  const mu = h.momentum,
    damp = 1 - h.dampening,
    nesterov = h.nesterov,
    first = h.firstStep;
  for (let i = 0; i < n; i++) {
    const d = wd !== 0 ? gd[go + i] + wd * pd[po + i] : gd[go + i];
    const b = first ? d : mu * bd[bo + i] + damp * d;
    bd[bo + i] = b;
    pd[po + i] -= lr * (nesterov ? d + mu * b : b);
  }
}

export function adamUpdate(p: Flat, g: Flat, m: Flat, v: Flat, vmax: Flat | null, n: number, h: AdamHyper): void {
  if (n >= WASM_MIN_ELEMENTS && !vmax && adamF32Wasm(p, g, m, v, n, h)) return;
  const pd = p.data,
    gd = g.data,
    md = m.data,
    vd = v.data;
  const po = p.offset,
    go = g.offset,
    mo = m.offset,
    vo = v.offset;
  const b1 = h.beta1,
    b2 = h.beta2,
    c1 = 1 - h.beta1,
    c2 = 1 - h.beta2,
    eps = h.eps;
  const stepSize = h.lr / (1 - Math.pow(b1, h.step));
  const invBc2Sqrt = 1 / Math.sqrt(1 - Math.pow(b2, h.step));
  // Decoupled decay (AdamW) scales the stored parameter; coupled decay (Adam) adds λp to the gradient.
  const decay = h.weightDecay !== 0 && h.decoupled ? 1 - h.lr * h.weightDecay : 1;
  const coupled = h.decoupled ? 0 : h.weightDecay;
  if (decay !== 1) for (let i = 0; i < n; i++) pd[po + i] *= decay;
  if (vmax) {
    const xd = vmax.data,
      xo = vmax.offset;
    for (let i = 0; i < n; i++) {
      const pi = pd[po + i];
      const gi = coupled !== 0 ? gd[go + i] + coupled * pi : gd[go + i];
      const mi = b1 * md[mo + i] + c1 * gi;
      const vi = b2 * vd[vo + i] + c2 * gi * gi;
      md[mo + i] = mi;
      vd[vo + i] = vi;
      const vHat = Math.max(xd[xo + i], vi);
      xd[xo + i] = vHat;
      pd[po + i] = pi - (stepSize * mi) / (Math.sqrt(vHat) * invBc2Sqrt + eps);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const pi = pd[po + i];
    const gi = coupled !== 0 ? gd[go + i] + coupled * pi : gd[go + i];
    const mi = b1 * md[mo + i] + c1 * gi;
    const vi = b2 * vd[vo + i] + c2 * gi * gi;
    md[mo + i] = mi;
    vd[vo + i] = vi;
    pd[po + i] = pi - (stepSize * mi) / (Math.sqrt(vi) * invBc2Sqrt + eps);
  }
}

export function rmspropUpdate(p: Flat, g: Flat, sq: Flat, buf: Flat | null, avg: Flat | null, n: number, h: RmspropHyper): void {
  const pd = p.data,
    gd = g.data,
    sd = sq.data,
    po = p.offset,
    go = g.offset,
    so = sq.offset;
  const alpha = h.alpha,
    ca = 1 - h.alpha,
    eps = h.eps,
    lr = h.lr,
    wd = h.weightDecay,
    mu = h.momentum;
  const bd = buf?.data,
    bo = buf?.offset ?? 0;
  const ad = avg?.data,
    ao = avg?.offset ?? 0;
  for (let i = 0; i < n; i++) {
    const gi = wd !== 0 ? gd[go + i] + wd * pd[po + i] : gd[go + i];
    sd[so + i] = alpha * sd[so + i] + ca * gi * gi;
    let denom: number;
    if (ad) {
      ad[ao + i] = alpha * ad[ao + i] + ca * gi;
      denom = Math.sqrt(sd[so + i] - ad[ao + i] * ad[ao + i]) + eps;
    } else {
      denom = Math.sqrt(sd[so + i]) + eps;
    }
    if (bd) {
      bd[bo + i] = mu * bd[bo + i] + gi / denom;
      pd[po + i] -= lr * bd[bo + i];
    } else {
      pd[po + i] -= (lr * gi) / denom;
    }
  }
}
