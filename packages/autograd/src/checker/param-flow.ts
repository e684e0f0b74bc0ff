import type { Node } from '../autograd/node.js';
import type { Tensor } from '../tensor.js';

/**
 * Per-parameter gradient bookkeeping, in "backward ticks" (the n-th backward pass that
 * accumulated into leaves is tick n). Weak maps: the checker never keeps a tensor alive.
 */
export class ParamFlow {
  /** Backward passes so far. */
  tick = 0;
  /** Last tick whose backward reached the leaf. */
  private readonly reachedAt = new WeakMap<Tensor, number>();
  /** Tick at which the leaf's grad started from clean (null or all zeros) — the oldest contribution it holds. */
  private readonly freshSince = new WeakMap<Tensor, number>();
  /** Tick at which a noGrad op last consumed a tensor computed from the leaf. */
  private readonly cutAt = new WeakMap<Tensor, number>();

  /** Called just before a backward pass adds into `leaves`' grads. */
  beforeAccumulate(leaves: readonly Tensor[]): void {
    this.tick++;
    for (const leaf of leaves) {
      this.reachedAt.set(leaf, this.tick);
      const g = leaf.grad;
      if (g === null || isAllZero(g) === true) this.freshSince.set(leaf, this.tick);
    }
  }

  /** Some op under noGrad consumed `inputs`: every trainable leaf behind them had its path cut. */
  cut(inputs: readonly Tensor[]): void {
    for (const leaf of leavesBehind(inputs)) this.cutAt.set(leaf, this.tick);
  }

  /** Whether any backward since the checker started reached `p`. */
  everReached(p: Tensor): boolean {
    return this.reachedAt.has(p);
  }

  /** Whether a noGrad op cut a path from `p` after tick `since` (inclusive: before the next backward). */
  cutAfter(p: Tensor, since: number): boolean {
    const at = this.cutAt.get(p);
    return at !== undefined && at >= since;
  }

  /** Whether `p`'s grad holds a contribution from a backward at or before tick `tick`. */
  holdsGradFrom(p: Tensor, tick: number): boolean {
    const since = this.freshSince.get(p);
    return since !== undefined && since <= tick;
  }
}

/** The requires-grad leaves that `inputs` were computed from (iterative walk of the graph). */
function leavesBehind(inputs: readonly Tensor[]): Tensor[] {
  const leaves: Tensor[] = [];
  const seen = new Set<Tensor | Node>();
  const stack: (Tensor | Node)[] = inputs.filter((t) => t.requiresGrad).map((t) => t.gradFn ?? t);
  while (stack.length > 0) {
    const item = stack.pop();
    if (item === undefined || seen.has(item)) continue;
    seen.add(item);
    if ('edges' in item) {
      for (const e of item.edges) {
        if (e === null) continue;
        stack.push('leaf' in e ? e.leaf : e.node);
      }
    } else {
      leaves.push(item);
    }
  }
  return leaves;
}

/** Whether every element is zero; undefined when the values can't be read synchronously (WebGPU). */
export function isAllZero(t: Tensor): boolean | undefined {
  if (t.device !== 'cpu') return undefined;
  return t.dataSync().every((v) => v === 0);
}

/** A CPU copy of `t`'s values, or undefined when they can't be read synchronously. */
export function snapshot(t: Tensor): ArrayLike<number> | undefined {
  return t.device === 'cpu' ? t.dataSync() : undefined;
}

export function sameValues(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}
