import { stack } from '../functions.js';
import { describeValue } from '../dtype.js';
import { fail } from '../errors.js';
import { noGrad } from '../grad-mode.js';
import { Tensor } from '../tensor.js';
import { tensor as makeTensor } from '../creation.js';

function paramList(fn: string, params: Tensor | Iterable<Tensor>): Tensor[] {
  if (params instanceof Tensor) return [params];
  const raw: unknown = params;
  if (raw === null || typeof raw !== 'object' || !(Symbol.iterator in raw))
    fail('INVALID_ARGUMENT', `${fn}: parameters must be a Tensor or an iterable of Tensors, but ${describeValue(raw)} was passed`);
  const list = [...params];
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) fail('INVALID_ARGUMENT', `${fn}: parameter ${String(i)} is not a Tensor`);
  });
  return list;
}

/**
 * Scales the gradients of `parameters` in place so that their joint `normType`-norm (the norm of
 * the per-gradient norms; Infinity for the max-norm) is at most `maxNorm`: each grad is multiplied
 * by maxNorm/(total + 1e-6) when that coefficient is below 1. Null grads are skipped. Returns the
 * total norm (before clipping) as a 0-d tensor, as torch.nn.utils.clip_grad_norm_.
 */
export function clipGradNorm_(parameters: Tensor | Iterable<Tensor>, maxNorm: number, normType = 2): Tensor {
  const params = paramList('clipGradNorm_', parameters);
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm))
    fail('INVALID_ARGUMENT', `clipGradNorm_: maxNorm must be a number, but ${describeValue(maxNorm)} was passed`);
  if (typeof normType !== 'number' || Number.isNaN(normType))
    fail('INVALID_ARGUMENT', `clipGradNorm_: normType must be a number, but ${describeValue(normType)} was passed`);
  const grads = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
  if (grads.length === 0) return makeTensor(0);
  return noGrad(() => {
    const plain = grads.map((g) => g.detach());
    const total =
      normType === Infinity ? stack(plain.map((g) => g.abs().max())).max() : stack(plain.map((g) => g.norm(normType))).norm(normType);
    const coef = total.add(1e-6).pow(-1).mul(maxNorm);
    if (plain.every((g) => g.device === 'cpu')) {
      const c = coef.item();
      if (c < 1) for (const g of plain) g.mul_(c);
    } else {
      // On the GPU the coefficient is not read back: multiplying by min(coef, 1) is the same update.
      const clamped = coef.clamp(null, 1);
      for (const g of plain) g.mul_(clamped);
    }
    return total;
  });
}

/** Clamps every (non-null) gradient of `parameters` into [-clipValue, clipValue], in place. */
export function clipGradValue_(parameters: Tensor | Iterable<Tensor>, clipValue: number): void {
  const params = paramList('clipGradValue_', parameters);
  if (typeof clipValue !== 'number' || Number.isNaN(clipValue))
    fail('INVALID_ARGUMENT', `clipGradValue_: clipValue must be a number, but ${describeValue(clipValue)} was passed`);
  noGrad(() => {
    for (const p of params) p.grad?.detach().clamp_(-clipValue, clipValue);
  });
}
