import { GradFlowError } from '../errors.js';
import type { Module } from '../nn/module.js';
import {
  onGradAccumulate,
  onNoGradCut,
  onNonLeafGradRead,
  onOptimizerStep,
  onParametersListed,
  type OptimizerStepEvent,
} from '../observe.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { ruleForKind, type FindingKind, type GradFlowFinding } from './findings.js';
import { isAllZero, ParamFlow, sameValues, snapshot } from './param-flow.js';

export interface GradFlowCheckerOptions {
  /** Models whose parameter names (`encoder.0.weight`) should appear in messages. */
  models?: Module | readonly Module[] | Readonly<Record<string, Module>>;
  /** Called on each new finding (log it, or throw to stop the run at the first mistake). */
  onFinding?: (finding: GradFlowFinding) => void;
}

export interface GradFlowChecker {
  /** Everything observed so far, once per kind and subject, in order of first occurrence. */
  findings(): readonly GradFlowFinding[];
  /** Records a thrown GradFlowError under its rule id; returns the finding (null for other errors). */
  recordError(error: unknown): GradFlowFinding | null;
  /** Runs `fn`; a GradFlowError it throws is recorded and rethrown. */
  run<T>(fn: () => T): T;
  /** Stops observing. Findings stay readable. */
  dispose(): void;
}

/** What the checker remembers about one optimizer between its steps. */
interface OptimizerWatch {
  /** Backward tick of the previous step; undefined before the first. */
  lastStepTick: number | undefined;
  /** Values of parameters that must not move in the current step, and why. */
  watched: { param: Tensor; before: ArrayLike<number>; frozen: boolean; zeroGrad: boolean }[];
}

/**
 * Switches on the runtime gradient-flow checker: it observes backward passes, optimizer steps,
 * noGrad regions and non-leaf `.grad` reads, and reports silent gradient-flow mistakes with the
 * same rule ids the ESLint plugin uses. Costs nothing once disposed; while on, each step reads
 * parameter and gradient values (CPU tensors only).
 */
export function enableGradFlowChecker(options: GradFlowCheckerOptions = {}): GradFlowChecker {
  const flow = new ParamFlow();
  const byOptimizer = new WeakMap<object, OptimizerWatch>();
  const found: GradFlowFinding[] = [];
  const index = new Map<string, GradFlowFinding>();

  const report = (kind: FindingKind, message: string, subject?: string): GradFlowFinding => {
    const key = `${kind}\u0000${subject ?? ''}`;
    const existing = index.get(key);
    if (existing) {
      existing.count++;
      return existing;
    }
    const finding: GradFlowFinding = { ruleId: ruleForKind(kind), kind, message, ...(subject === undefined ? {} : { subject }), count: 1 };
    found.push(finding);
    index.set(key, finding);
    options.onFinding?.(finding);
    return finding;
  };

  // Paths of parameters listed by a module while the checker is on (the optimizer usually got
  // them from `model.parameters()`): the deepest path wins, so listing a submodule later does not
  // replace `backbone.0.weight` with `0.weight`.
  const listedNames = new WeakMap<Tensor, string>();
  const depth = (name: string): number => name.split('.').length;
  const nameOf = (p: Tensor, event: OptimizerStepEvent): string => {
    const named = parameterName(options.models, p) ?? listedNames.get(p);
    if (named !== undefined) return named;
    return `${event.optimizer.constructor.name} parameter #${String(event.params.indexOf(p))} ${fmtShape(p.shape)}`;
  };

  const beforeStep = (event: OptimizerStepEvent, watch: OptimizerWatch): void => {
    const since = watch.lastStepTick ?? 0;
    const optName = event.optimizer.constructor.name;
    watch.watched = [];
    for (const p of event.params) {
      const grad = p.grad;
      // step() skips only null grads: a frozen parameter with a leftover grad, or a trainable one
      // whose grad was zero-filled, can still be moved (by the stale grad or by optimizer state).
      const frozen = !p.requiresGrad;
      const allZero = grad === null ? undefined : isAllZero(grad);
      const zeroGrad = allZero === true;
      if (grad !== null && (frozen || zeroGrad)) {
        const before = snapshot(p);
        if (before) watch.watched.push({ param: p, before, frozen, zeroGrad });
      }
      // A gradient kept from before the previous step is stale, frozen or not: a parameter frozen after
      // it got one keeps applying that gradient while nothing clears it.
      if (grad !== null && watch.lastStepTick !== undefined && flow.holdsGradFrom(p, watch.lastStepTick) && allZero === false) {
        const name = nameOf(p, event);
        report(
          'STALE_GRADIENTS',
          `${optName}.step() used a gradient of ${name} that still holds contributions from before the previous step(): gradients accumulate across backward() calls until cleared. Call optimizer.zeroGrad() once per iteration (before backward()).`,
          name,
        );
      }
      if (frozen) continue;
      // A parameter some backward reached before is trained: a phase that runs it under noGrad (a
      // linear probe, a schedule) is a choice. One that no backward ever reached is cut off.
      if (flow.tick > since && !flow.everReached(p) && flow.cutAfter(p, since)) {
        const name = nameOf(p, event);
        report(
          'NO_GRAD_THROUGH_NOGRAD',
          `${name} is trainable and held by ${optName}, but no backward() has reached it: its only path to the loss went through noGrad(), which records no graph. Run that part of the forward pass outside noGrad, or freeze the parameter (requiresGrad = false) and leave it out of the optimizer.`,
          name,
        );
      }
    }
  };

  const afterStep = (event: OptimizerStepEvent, watch: OptimizerWatch): void => {
    const optName = event.optimizer.constructor.name;
    for (const { param, before, frozen, zeroGrad } of watch.watched) {
      const after = snapshot(param);
      if (!after || sameValues(before, after)) continue;
      const name = nameOf(param, event);
      if (frozen) {
        report(
          'FROZEN_PARAM_MOVED',
          `${name} has requiresGrad false but ${optName}.step() still moved it: it was frozen after being handed to the optimizer and kept a (stale or zero-filled) grad, which momentum, Adam's moments or weight decay act on. Freeze before building the optimizer (or leave it out of the optimizer), or clear its grad with zeroGrad({ setToNone: true }).`,
          name,
        );
      }
      if (zeroGrad) {
        report(
          'ZERO_GRAD_PARAM_MOVED',
          `${name} received no gradient (its grad was zero-filled by zeroGrad()) yet ${optName}.step() moved it through momentum, Adam's moments or weight decay. Use zeroGrad({ setToNone: true }) so step() skips parameters that got no gradient.`,
          name,
        );
      }
    }
    watch.watched = [];
    watch.lastStepTick = flow.tick;
  };

  const unsubscribe = [
    onParametersListed((named) => {
      for (const [name, p] of named) {
        const known = listedNames.get(p);
        if (known === undefined || depth(name) > depth(known)) listedNames.set(p, name);
      }
    }),
    onGradAccumulate((leaves) => {
      flow.beforeAccumulate(leaves);
    }),
    onNoGradCut((_output, inputs) => {
      flow.cut(inputs);
    }),
    onOptimizerStep((event) => {
      let watch = byOptimizer.get(event.optimizer);
      if (!watch) {
        watch = { lastStepTick: undefined, watched: [] };
        byOptimizer.set(event.optimizer, watch);
      }
      if (event.phase === 'before') beforeStep(event, watch);
      else afterStep(event, watch);
    }),
    onNonLeafGradRead((t) => {
      const subject = `${t.gradFn?.name ?? 'non-leaf'} output ${fmtShape(t.shape)}`;
      report(
        'NONLEAF_GRAD_NULL',
        `.grad of a non-leaf tensor (${subject}) was read and is null: backward() only fills .grad of leaves. Call .retainGrad() on it before backward(), or read a leaf's grad.`,
        subject,
      );
    }),
  ];
  let active = true;

  const recordError = (error: unknown): GradFlowFinding | null => {
    if (!(error instanceof GradFlowError)) return null;
    return report(error.code, error.message);
  };

  return {
    findings: () => found.slice(),
    recordError,
    run<T>(fn: () => T): T {
      try {
        return fn();
      } catch (error) {
        recordError(error);
        throw error;
      }
    },
    dispose(): void {
      if (!active) return;
      active = false;
      for (const off of unsubscribe) off();
    },
  };
}

function parameterName(models: GradFlowCheckerOptions['models'], p: Tensor): string | undefined {
  if (models === undefined) return undefined;
  const entries: [string, Module][] = Array.isArray(models)
    ? (models as readonly Module[]).map((m) => ['', m])
    : 'namedParameters' in models
      ? [['', models as Module]]
      : Object.entries(models as Readonly<Record<string, Module>>);
  for (const [prefix, model] of entries) {
    for (const [name, q] of model.namedParameters(prefix)) if (q === p) return name;
  }
  return undefined;
}
