import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { contiguousCopy, isContiguous } from '../tensor-internal.js';

/**
 * A leaf tensor that a Module registers as a parameter (requiresGrad true by default). It shares
 * the given tensor's storage, as `torch.nn.Parameter(t)` does.
 */
export class Parameter extends Tensor {
  constructor(data: Tensor, requiresGrad = true) {
    if (!(data instanceof Tensor)) fail('INVALID_ARGUMENT', 'nn.Parameter expects a Tensor');
    const src = isContiguous(data) ? data : contiguousCopy(data.detach());
    super(src.storage, src.shape, src.strides, src.offset);
    if (requiresGrad) this.requiresGrad_(true);
  }
}
