import { enableGrad, noGrad } from '../grad-mode.js';
import { gradAccumulating } from '../observe.js';
import type { Tensor } from '../tensor.js';
import type { Node } from './node.js';
import { ReadyQueue } from './ready-queue.js';
import { accumulateGrad } from '../tensor-internal.js';

export interface RunOptions {
  retainGraph: boolean;
  createGraph: boolean;
  /** autograd.grad: capture gradients of these tensors instead of accumulating into leaves. */
  inputs?: readonly Tensor[];
}

/** Observers of finished backward passes (the runtime gradient-flow checker subscribes here). */
export type BackwardObserver = (event: { roots: readonly Tensor[]; reachedLeaves: ReadonlySet<Tensor> }) => void;
const observers = new Set<BackwardObserver>();
export function onBackward(observer: BackwardObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

function addGrad(a: Tensor | undefined, b: Tensor): Tensor {
  return a === undefined ? b : a.add(b);
}

/**
 * Runs the backward pass from `roots` (non-leaf tensors with a grad_fn) seeded with `seeds`.
 * Nodes execute in a topological order (Kahn's algorithm over dependency counts), never by
 * recursion, so deep graphs cannot overflow the stack. Returns captured input gradients when
 * `inputs` is given.
 */
export function runBackward(roots: readonly Tensor[], seeds: readonly Tensor[], opts: RunOptions): (Tensor | null)[] {
  const body = (): (Tensor | null)[] => execute(roots, seeds, opts);
  return opts.createGraph ? enableGrad(body) : noGrad(body);
}

function execute(roots: readonly Tensor[], seeds: readonly Tensor[], opts: RunOptions): (Tensor | null)[] {
  const deps = new Map<Node, number>();
  const pending = new Map<Node, Tensor>();
  const leafGrads = new Map<Tensor, Tensor>();
  const reachedLeaves = new Set<Tensor>();

  // Dependency counts over the reachable graph (iterative DFS).
  const stack: Node[] = [];
  const seen = new Set<Node>();
  roots.forEach((root, i) => {
    const fn = root.gradFn;
    if (fn) {
      pending.set(fn, addGrad(pending.get(fn), seeds[i]));
      if (!seen.has(fn)) {
        seen.add(fn);
        stack.push(fn);
      }
    } else {
      leafGrads.set(root, addGrad(leafGrads.get(root), seeds[i]));
      reachedLeaves.add(root);
    }
  });
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    for (const e of node.edges) {
      if (e && 'node' in e) {
        deps.set(e.node, (deps.get(e.node) ?? 0) + 1);
        if (!seen.has(e.node)) {
          seen.add(e.node);
          stack.push(e.node);
        }
      }
    }
  }

  const captureNodes = new Map<Node, number>();
  const captured: (Tensor | null)[] = (opts.inputs ?? []).map(() => null);
  opts.inputs?.forEach((t, i) => {
    if (t.gradFn) captureNodes.set(t.gradFn, i);
  });

  // Highest sequence number first, like PyTorch's ready queue: later ops run before earlier ones.
  const ready = new ReadyQueue();
  for (const n of new Set(roots.map((r) => r.gradFn))) {
    if (n !== null && (deps.get(n) ?? 0) === 0) ready.push(n);
  }
  /** One of `child`'s consumers has run; it is ready once all have. */
  const settle = (child: Node): void => {
    const left = (deps.get(child) ?? 1) - 1;
    deps.set(child, left);
    if (left === 0) ready.push(child);
  };
  for (let node = ready.pop(); node !== undefined; node = ready.pop()) {
    const grad = pending.get(node);
    pending.delete(node);
    if (grad === undefined) {
      // Nothing flowed into this node (every path to it yielded no gradient): still release its children.
      for (const edge of node.edges) if (edge && 'node' in edge) settle(edge.node);
      continue;
    }
    const at = captureNodes.get(node);
    if (at !== undefined) captured[at] = grad;
    if (node.retainedBy && !opts.inputs) accumulateGrad(node.retainedBy, grad, opts.createGraph);

    node.checkSaved();
    const inputGrads = node.spec.backward(grad, node);
    if (!opts.retainGraph) node.release();

    node.edges.forEach((edge, i) => {
      const g = inputGrads[i];
      if (!edge) return;
      if ('leaf' in edge) {
        if (g) {
          leafGrads.set(edge.leaf, addGrad(leafGrads.get(edge.leaf), g));
          reachedLeaves.add(edge.leaf);
        }
        return;
      }
      if (g) pending.set(edge.node, addGrad(pending.get(edge.node), g));
      settle(edge.node);
    });
  }

  if (opts.inputs) {
    opts.inputs.forEach((t, i) => {
      if (!t.gradFn) captured[i] = leafGrads.get(t) ?? null;
    });
  } else {
    gradAccumulating(leafGrads.keys());
    for (const [leaf, g] of leafGrads) accumulateGrad(leaf, g, opts.createGraph);
    for (const o of observers) o({ roots, reachedLeaves });
  }
  return captured;
}
