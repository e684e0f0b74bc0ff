import { GradFlowError } from '../errors.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { OpSpec } from '../ops/spec.js';

/** A tensor an op kept for its backward, with the version it had when it was saved. */
export interface SavedTensor {
  readonly name: string;
  tensor: Tensor;
  version: number;
}

/** Where an input's gradient goes: the node that produced it, or the leaf it accumulates into. */
export type Edge = { readonly node: Node } | { readonly leaf: Tensor } | null;

let sequence = 0;

/** One recorded op in the autograd graph (PyTorch's grad_fn). */
export class Node {
  readonly name: string;
  readonly sequenceNr = sequence++;
  saved: SavedTensor[] | null;
  /** The non-leaf whose `retainGrad()` asked to keep the gradient flowing into this node. */
  retainedBy: Tensor | null = null;

  constructor(
    readonly spec: OpSpec,
    readonly edges: readonly Edge[],
    saved: SavedTensor[],
    readonly attrs: unknown,
    readonly inputShapes: readonly (readonly number[])[],
    readonly needs: readonly boolean[],
  ) {
    this.name = `${spec.name.charAt(0).toUpperCase()}${spec.name.slice(1)}Backward`;
    this.saved = saved;
  }

  /** Returns the saved tensor `name`; `checkSaved()` has already vouched for it. */
  unpack(name: string): Tensor {
    const slot = this.saved?.find((s) => s.name === name);
    if (!slot) throw new Error(`internal: ${this.name} has no saved tensor '${name}'`);
    return slot.tensor;
  }

  /** Before running a node's backward: the graph must be alive and every saved tensor unmodified. */
  checkSaved(): void {
    if (this.saved === null) {
      throw new GradFlowError(
        'GRAPH_FREED',
        `Trying to backward through the graph a second time (or to read saved tensors after they were freed): ${this.name} released its saved tensors after the first backward. Pass { retainGraph: true } to the first backward() (or autograd.grad) if you need to backward through this graph again, or recompute the forward pass.`,
      );
    }
    for (const s of this.saved) {
      const now = s.tensor.version;
      if (now !== s.version) {
        throw new GradFlowError(
          'SAVED_TENSOR_MODIFIED',
          `one of the variables needed for gradient computation has been modified by an inplace operation: [${s.tensor.dtype} ${fmtShape(s.tensor.shape)}], saved by ${this.name} as '${s.name}', is at version ${String(now)}; expected version ${String(s.version)} instead. Do the in-place change after backward(), make it out-of-place (e.g. \`x = x.add(1)\` instead of \`x.add_(1)\`), or clone() the tensor before the op that saves it.`,
        );
      }
    }
  }

  /** Frees saved tensors (backward without retainGraph). A node that saved nothing stays usable, as in PyTorch. */
  release(): void {
    if (this.saved !== null && this.saved.length > 0) this.saved = null;
  }
}
