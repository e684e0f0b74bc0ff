import type { Tensor } from './tensor.js';

/**
 * Hooks for the runtime gradient-flow checker: the engine reports events here and the checker
 * (or a test) subscribes. Nothing is reported when no one listens.
 */
export type NonLeafGradObserver = (tensor: Tensor) => void;
const nonLeafObservers = new Set<NonLeafGradObserver>();

export function onNonLeafGradRead(observer: NonLeafGradObserver): () => void {
  nonLeafObservers.add(observer);
  return () => nonLeafObservers.delete(observer);
}

export function nonLeafGradRead(tensor: Tensor): void {
  for (const o of nonLeafObservers) o(tensor);
}

/** Optimizer steps, reported before and after the update (the checker diffs parameters). */
export interface OptimizerStepEvent {
  readonly phase: 'before' | 'after';
  readonly optimizer: object;
  readonly params: readonly Tensor[];
}
export type OptimizerStepObserver = (event: OptimizerStepEvent) => void;
const stepObservers = new Set<OptimizerStepObserver>();

export function onOptimizerStep(observer: OptimizerStepObserver): () => void {
  stepObservers.add(observer);
  return () => stepObservers.delete(observer);
}

export function hasStepObservers(): boolean {
  return stepObservers.size > 0;
}

export function optimizerStep(event: OptimizerStepEvent): void {
  for (const o of stepObservers) o(event);
}
