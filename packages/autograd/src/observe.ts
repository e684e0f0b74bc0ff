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

/**
 * Outputs computed under `noGrad` from an input that requires grad: the places where a gradient
 * path was cut. Reported only while someone listens, so the op hot path pays one size check.
 */
export type NoGradCutObserver = (output: Tensor, inputs: readonly Tensor[]) => void;
const cutObservers = new Set<NoGradCutObserver>();

export function onNoGradCut(observer: NoGradCutObserver): () => void {
  cutObservers.add(observer);
  return () => cutObservers.delete(observer);
}

export function hasNoGradCutObservers(): boolean {
  return cutObservers.size > 0;
}

export function noGradCut(output: Tensor, inputs: readonly Tensor[]): void {
  if (!inputs.some((t) => t.requiresGrad)) return;
  for (const o of cutObservers) o(output, inputs);
}

/** Leaves about to accumulate gradient from a backward pass, reported before their `.grad` changes. */
export type GradAccumulateObserver = (leaves: readonly Tensor[]) => void;
const accumulateObservers = new Set<GradAccumulateObserver>();

export function onGradAccumulate(observer: GradAccumulateObserver): () => void {
  accumulateObservers.add(observer);
  return () => accumulateObservers.delete(observer);
}

export function gradAccumulating(leaves: Iterable<Tensor>): void {
  if (accumulateObservers.size === 0) return;
  const list = [...leaves];
  for (const o of accumulateObservers) o(list);
}

/**
 * A module listed its parameters (`parameters()` / `namedParameters()` on the module itself):
 * the checker names a parameter by its path in the model (`backbone.0.weight`) when an optimizer
 * got it from a module. Reported only while someone listens.
 */
export type ParametersListedObserver = (named: readonly (readonly [string, Tensor])[]) => void;
const listedObservers = new Set<ParametersListedObserver>();

export function onParametersListed(observer: ParametersListedObserver): () => void {
  listedObservers.add(observer);
  return () => listedObservers.delete(observer);
}

export function parametersListed(named: readonly (readonly [string, Tensor])[]): void {
  for (const o of listedObservers) o(named);
}
