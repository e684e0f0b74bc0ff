import type { Tensor } from '../tensor.js';

/**
 * What an op keeps for backward, declared once. `saves[input]` lists the tensors the op saves
 * when `input` needs a gradient ('self'/'other' name the inputs by position, 'result' the output).
 * This is PyTorch's derivatives.yaml rule: `mul` saves `other` only to compute `self`'s gradient.
 * The runtime version check and the lint rule `no-inplace-on-saved-tensor` both read it.
 */
export interface OpMeta {
  readonly inputs: readonly string[];
  readonly saves: Readonly<Partial<Record<string, readonly string[]>>>;
  /** The output aliases the first input's storage (reshape/transpose/expand/detach). */
  readonly view?: boolean;
}

/** What a node gives its op's backward. */
export interface BackwardContext {
  unpack(name: string): Tensor;
  readonly attrs: unknown;
  readonly inputShapes: readonly (readonly number[])[];
  readonly needs: readonly boolean[];
}

export interface OpSpec extends OpMeta {
  readonly name: string;
  /** Computes the output on the inputs' backend; never records. */
  forward(inputs: readonly Tensor[], attrs: unknown): Tensor;
  /** Gradients for each input (null where not needed), built from differentiable Tensor ops. */
  backward(grad: Tensor, ctx: BackwardContext): (Tensor | null)[];
}

/** Builds a spec with typed attrs. */
export function defineOp<A = undefined>(spec: {
  name: string;
  inputs: readonly string[];
  saves: Readonly<Partial<Record<string, readonly string[]>>>;
  view?: boolean;
  forward(inputs: readonly Tensor[], attrs: A): Tensor;
  backward(grad: Tensor, ctx: BackwardContext & { readonly attrs: A }): (Tensor | null)[];
}): OpSpec {
  return spec;
}
