import { expect } from 'vitest';
import { autograd, noGrad, tensor, Tensor, type NestedArray } from '../src/index.js';

/**
 * Central-difference gradient check in float64, in the manner of torch.autograd.gradcheck.
 *
 * `fn` maps the inputs to one tensor. We project its output on a fixed pseudo-random cotangent `v`
 * (L = Σ fn(x)·v), so every output element contributes and a wrong broadcast or transpose in a
 * backward formula cannot hide behind a symmetric all-ones seed. The analytic gradient of L is
 * taken twice, through `autograd.grad` and through `backward()` into the leaves' `.grad`, and both
 * must match (L(x+h) - L(x-h)) / 2h for every element of every input.
 *
 * Inputs are perturbed in place under noGrad; `fn` itself runs with grad mode on, so it may call
 * `autograd.grad(..., { createGraph: true })` (that is how second derivatives are checked).
 */
export interface GradcheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
}

export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): void {
  const eps = options.eps ?? 1e-6;
  const rtol = options.rtol ?? 1e-6;
  const atol = options.atol ?? 1e-7;
  for (const x of inputs) {
    if (x.dtype !== 'float64') throw new Error(`gradcheck needs float64 inputs, got ${x.dtype}`);
    if (!x.isLeaf || !x.requiresGrad) throw new Error('gradcheck inputs must be leaves that require grad');
  }

  const out0 = fn(...inputs);
  const n = out0.numel();
  // Cotangent values in roughly [-1.3, 1.3], never zero, different per element.
  const v = tensor(
    Float64Array.from({ length: n }, (_, i) => 0.3 + Math.sin(1.7 * i + 0.4)),
    { dtype: 'float64' },
  ).reshape([...out0.shape]);
  const loss = (...xs: Tensor[]): Tensor =>
    fn(...xs)
      .mul(v)
      .sum();

  const viaGrad = autograd.grad(loss(...inputs), inputs, { allowUnused: true });
  for (const x of inputs) x.grad = null;
  loss(...inputs).backward();
  const viaBackward = inputs.map((x) => x.grad);

  inputs.forEach((x, k) => {
    const numeric = numericGrad(() => loss(...inputs).item(), x, eps);
    const fromGrad = viaGrad[k] ? flat(viaGrad[k]) : new Array<number>(numeric.length).fill(0);
    const fromBackward = viaBackward[k] ? flat(viaBackward[k]) : new Array<number>(numeric.length).fill(0);
    expect(viaGrad[k]?.shape ?? x.shape, `input ${String(k)}: gradient shape`).toEqual(x.shape);
    expect(viaBackward[k]?.shape ?? x.shape, `input ${String(k)}: .grad shape`).toEqual(x.shape);
    for (let i = 0; i < numeric.length; i++) {
      const tol = atol + rtol * Math.abs(numeric[i]);
      const where = `input ${String(k)} ${fmt(x.shape)}, element ${String(i)}`;
      if (Math.abs(fromGrad[i] - numeric[i]) > tol) {
        throw new Error(`gradcheck (autograd.grad) ${where}: analytic ${String(fromGrad[i])} vs numeric ${String(numeric[i])}`);
      }
      if (Math.abs(fromBackward[i] - numeric[i]) > tol) {
        throw new Error(`gradcheck (backward) ${where}: analytic ${String(fromBackward[i])} vs numeric ${String(numeric[i])}`);
      }
    }
  });
  for (const x of inputs) x.grad = null;
}

/** dL/dx by central differences, perturbing one element of `x` at a time (in its logical order). */
function numericGrad(evaluate: () => number, x: Tensor, eps: number): number[] {
  const base = flat(x);
  const out: number[] = [];
  for (let i = 0; i < base.length; i++) {
    const at = unravel(i, x.shape);
    noGrad(() => x.setItem_(at, base[i] + eps));
    const plus = evaluate();
    noGrad(() => x.setItem_(at, base[i] - eps));
    const minus = evaluate();
    noGrad(() => x.setItem_(at, base[i]));
    out.push((plus - minus) / (2 * eps));
  }
  return out;
}

function unravel(flatIndex: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  let rest = flatIndex;
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = rest % shape[d];
    rest = Math.floor(rest / shape[d]);
  }
  return idx;
}

function flat(t: Tensor): number[] {
  return Array.from(t.dataSync());
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A float64 leaf that requires grad, filled with distinct values in [lo, hi) derived from `seed`. */
export function leaf(shape: number[], seed = 1, lo = -1.5, hi = 1.5): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Float64Array.from({ length: n }, (_, i) => {
    const u = (Math.sin(12.9898 * (i + 1) + 78.233 * seed) * 43758.5453) % 1;
    return lo + (hi - lo) * Math.abs(u);
  });
  return tensor(values, { dtype: 'float64' }).reshape(shape).detach().requiresGrad_(true);
}

/** Nested values of a tensor (for readable `toEqual` assertions). */
export function values(t: Tensor | null): NestedArray | null {
  return t ? t.toArray() : null;
}
