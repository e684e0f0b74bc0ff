import { fail } from '../errors.js';
import { fmtShape, shapeEq } from '../shape.js';
import { Tensor } from '../tensor.js';
import { runBackward } from './engine.js';

export interface GradOptions {
  gradOutputs?: Tensor | readonly (Tensor | null)[] | null;
  retainGraph?: boolean;
  createGraph?: boolean;
  allowUnused?: boolean;
}

const asList = (x: Tensor | readonly Tensor[]): readonly Tensor[] => (x instanceof Tensor ? [x] : x);

/**
 * Gradients of `outputs` with respect to `inputs`, returned rather than accumulated into `.grad`
 * (PyTorch's torch.autograd.grad). Inputs may be non-leaves: their total incoming gradient is read.
 */
export function grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], options: GradOptions = {}): (Tensor | null)[] {
  const outs = asList(outputs);
  const ins = asList(inputs);
  const gradOuts = options.gradOutputs instanceof Tensor ? [options.gradOutputs] : (options.gradOutputs ?? []);
  const seeds = outs.map((o, i) => {
    if (!o.requiresGrad) fail('NO_GRAD_FN', `autograd.grad: output ${String(i)} (${fmtShape(o.shape)}) does not require grad and has no gradFn`);
    const g = gradOuts[i];
    if (g) {
      if (!shapeEq(g.shape, o.shape)) fail('SHAPE_MISMATCH', `autograd.grad: gradOutputs[${String(i)}] has shape ${fmtShape(g.shape)}, output has ${fmtShape(o.shape)}`);
      return g;
    }
    if (o.numel() !== 1) fail('SHAPE_MISMATCH', `autograd.grad: grad can be implicitly created only for scalar outputs; output ${String(i)} has shape ${fmtShape(o.shape)}. Pass gradOutputs.`);
    return Tensor.constant(1, o.device, o.dtype).expand(o.shape).contiguousCopy();
  });
  ins.forEach((t, i) => {
    if (!t.requiresGrad) fail('INVALID_ARGUMENT', `autograd.grad: input ${String(i)} (${fmtShape(t.shape)}) does not require grad`);
  });
  const retainGraph = options.retainGraph ?? options.createGraph ?? false;
  const result = runBackward(outs, seeds, { retainGraph, createGraph: options.createGraph ?? false, inputs: ins });
  result.forEach((g, i) => {
    if (g === null && !options.allowUnused) {
      fail('INVALID_ARGUMENT', `autograd.grad: input ${String(i)} (${fmtShape(ins[i].shape)}) was not used to compute the outputs. Pass { allowUnused: true } to get null for it.`);
    }
  });
  return result;
}
