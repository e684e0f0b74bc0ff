import { fail } from '../errors.js';
import { noGrad } from '../grad-mode.js';
import { fmtShape, shapeEq } from '../shape.js';
import { Tensor } from '../tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';
export interface LossOptions {
  reduction?: Reduction;
}

function reduce(loss: Tensor, reduction: Reduction | undefined): Tensor {
  switch (reduction ?? 'mean') {
    case 'mean':
      return loss.mean();
    case 'sum':
      return loss.sum();
    case 'none':
      return loss;
    default:
      return fail('INVALID_ARGUMENT', `reduction must be 'mean', 'sum' or 'none', got ${String(reduction)}`);
  }
}

function sameShape(name: string, input: Tensor, target: Tensor): void {
  // PyTorch only warns and broadcasts here; [N, 1] vs [N] silently yields an [N, N] loss. We refuse.
  if (!shapeEq(input.shape, target.shape)) {
    fail('SHAPE_MISMATCH', `${name}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape (broadcasting here is almost always a bug). Reshape the target, e.g. target.reshape([${input.shape.join(', ')}]).`);
  }
}

export function relu(input: Tensor): Tensor {
  return input.relu();
}

export function softmax(input: Tensor, dim: number): Tensor {
  return input.softmax(dim);
}

export function logSoftmax(input: Tensor, dim: number): Tensor {
  return input.logSoftmax(dim);
}

export function mseLoss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  sameShape('mseLoss', input, target);
  return reduce(input.sub(target).pow(2), options.reduction);
}

export function l1Loss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  sameShape('l1Loss', input, target);
  return reduce(input.sub(target).abs(), options.reduction);
}

/** Cross-entropy of logits [N, C] against int32 class indices [N] (log-softmax + NLL). */
export function crossEntropy(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  if (input.ndim !== 2) fail('SHAPE_MISMATCH', `crossEntropy: input must be logits of shape [N, C], got ${fmtShape(input.shape)}`);
  const [n, c] = input.shape;
  if (target.dtype !== 'int32') {
    fail('DTYPE_MISMATCH', `crossEntropy: target must hold int32 class indices, got ${target.dtype}. Create it with tensor(labels, { dtype: 'int32' }).`);
  }
  if (target.ndim !== 1 || target.shape[0] !== n) {
    fail('SHAPE_MISMATCH', `crossEntropy: target must have shape [${String(n)}] for input ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`);
  }
  const oneHot = noGrad(() => target.oneHot(c, input.dtype));
  const nll = input.logSoftmax(1).mul(oneHot).sum(1).neg();
  return reduce(nll, options.reduction);
}
