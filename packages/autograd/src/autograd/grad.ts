import { describeValue } from '../dtype.js';
import { fail } from '../errors.js';
import { fmtShape, shapeEq } from '../shape.js';
import { Tensor } from '../tensor.js';
import { runBackward } from './engine.js';
import { constant, contiguousCopy } from '../tensor-internal.js';

export interface GradOptions {
  gradOutputs?: Tensor | readonly (Tensor | null)[] | null;
  retainGraph?: boolean;
  createGraph?: boolean;
  allowUnused?: boolean;
}

function asList(x: unknown, name: string): readonly Tensor[] {
  if (x instanceof Tensor) return [x];
  if (!Array.isArray(x) || !x.every((t) => t instanceof Tensor)) {
    fail('INVALID_ARGUMENT', `autograd.grad: ${name} must be a Tensor or an array of Tensors, but ${describeValue(x)} was passed`);
  }
  return x;
}

const OPTION_KEYS = ['gradOutputs', 'retainGraph', 'createGraph', 'allowUnused'];

function checkOptions(options: unknown): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(
      'INVALID_ARGUMENT',
      `autograd.grad: the options argument must be an object { ${OPTION_KEYS.join(', ')} }, but ${describeValue(options)} was passed`,
    );
  }
  for (const [key, value] of Object.entries(options)) {
    if (!OPTION_KEYS.includes(key)) {
      const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      fail(
        'INVALID_ARGUMENT',
        `autograd.grad: unknown option '${key}'${OPTION_KEYS.includes(camel) ? ` (did you mean ${camel}?)` : ''}; the options are ${OPTION_KEYS.join(', ')}`,
      );
    }
    if (key !== 'gradOutputs' && value !== undefined && typeof value !== 'boolean') {
      fail('INVALID_ARGUMENT', `autograd.grad: ${key} must be a boolean, but ${describeValue(value)} was passed`);
    }
  }
}

/**
 * Gradients of `outputs` with respect to `inputs`, returned rather than accumulated into `.grad`
 * (PyTorch's torch.autograd.grad). Inputs may be non-leaves: their total incoming gradient is read.
 */
export function grad(
  outputs: Tensor | readonly Tensor[],
  inputs: Tensor | readonly Tensor[],
  options: GradOptions = {},
): (Tensor | null)[] {
  checkOptions(options);
  const outs = asList(outputs, 'outputs');
  const ins = asList(inputs, 'inputs');
  const gradOuts = options.gradOutputs instanceof Tensor ? [options.gradOutputs] : (options.gradOutputs ?? []);
  const seeds = outs.map((o, i) => {
    if (!o.requiresGrad)
      fail('NO_GRAD_FN', `autograd.grad: output ${String(i)} (${fmtShape(o.shape)}) does not require grad and has no gradFn`);
    const g = gradOuts[i];
    if (g) {
      if (!shapeEq(g.shape, o.shape))
        fail('SHAPE_MISMATCH', `autograd.grad: gradOutputs[${String(i)}] has shape ${fmtShape(g.shape)}, output has ${fmtShape(o.shape)}`);
      return g;
    }
    if (o.numel() !== 1)
      fail(
        'SHAPE_MISMATCH',
        `autograd.grad: grad can be implicitly created only for scalar outputs; output ${String(i)} has shape ${fmtShape(o.shape)}. Pass gradOutputs.`,
      );
    return contiguousCopy(constant(1, o.device, o.dtype).expand(o.shape));
  });
  ins.forEach((t, i) => {
    if (!t.requiresGrad) fail('INVALID_ARGUMENT', `autograd.grad: input ${String(i)} (${fmtShape(t.shape)}) does not require grad`);
  });
  const retainGraph = options.retainGraph ?? options.createGraph ?? false;
  const result = runBackward(outs, seeds, { retainGraph, createGraph: options.createGraph ?? false, inputs: ins });
  result.forEach((g, i) => {
    if (g === null && !options.allowUnused) {
      fail(
        'INVALID_ARGUMENT',
        `autograd.grad: input ${String(i)} (${fmtShape(ins[i].shape)}) was not used to compute the outputs. Pass { allowUnused: true } to get null for it.`,
      );
    }
  });
  return result;
}
