import { describeValue } from '../dtype.js';
import { fail } from '../errors.js';
import type { Optimizer, ParamGroup } from './optimizer.js';
import { checkOptions } from '../options.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- a scheduler accepts any optimizer, whatever its hyper-parameter and state types */
type AnyOptimizer = Optimizer<{ lr: number }, any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

function checkNumber(owner: string, name: string, v: unknown, integer = false): number {
  if (typeof v !== 'number' || Number.isNaN(v) || (integer && !Number.isInteger(v)))
    fail('INVALID_ARGUMENT', `${owner}: ${name} must be ${integer ? 'an integer' : 'a number'}, but ${describeValue(v)} was passed`);
  return v;
}

/**
 * PyTorch's LRScheduler: remembers each group's initial lr (`baseLrs`), and each `step()` advances
 * `lastEpoch` and writes `getLr()` into the groups. Construction performs the first step (epoch 0),
 * as PyTorch's does. Call `scheduler.step()` after `optimizer.step()`.
 */
export abstract class LRScheduler {
  readonly optimizer: AnyOptimizer;
  readonly baseLrs: number[];
  lastEpoch: number;
  /** How many times step() ran (the constructor's initial step included). */
  protected stepCount = 0;
  private lastLr: number[] = [];

  protected constructor(optimizer: AnyOptimizer) {
    const raw: unknown = optimizer;
    if (raw === null || typeof raw !== 'object' || !Array.isArray((raw as { paramGroups?: unknown }).paramGroups)) {
      fail('INVALID_ARGUMENT', `${new.target.name}: expected an optimizer, but ${describeValue(optimizer)} was passed`);
    }
    this.optimizer = optimizer;
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.lastEpoch = -1;
  }

  /** Performs the initial step; subclasses call it at the end of their constructor. */
  protected initialStep(): void {
    this.step();
  }

  /** The lr of each group for `lastEpoch` (PyTorch's chainable form, which may read the groups' current lr). */
  protected abstract getLr(): number[];

  protected get groups(): ParamGroup<{ lr: number }>[] {
    return this.optimizer.paramGroups;
  }

  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    const lrs = this.getLr();
    this.groups.forEach((g, i) => {
      g.lr = lrs[i];
    });
    this.lastLr = this.groups.map((g) => g.lr);
  }

  /** The learning rates the last step() set, one per parameter group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }
}

/** Multiplies the lr by gamma every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  readonly stepSize: number;
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: { stepSize: number; gamma?: number }) {
    super(optimizer);
    checkOptions('StepLR', options, ['stepSize', 'gamma']);
    this.stepSize = checkNumber('StepLR', 'stepSize', options.stepSize, true);
    this.gamma = checkNumber('StepLR', 'gamma', options.gamma ?? 0.1);
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
}

/** Multiplies the lr by gamma at each milestone epoch (once per occurrence in `milestones`). */
export class MultiStepLR extends LRScheduler {
  readonly milestones: number[];
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: { milestones: readonly number[]; gamma?: number }) {
    super(optimizer);
    checkOptions('MultiStepLR', options, ['milestones', 'gamma']);
    if (!Array.isArray(options.milestones))
      fail('INVALID_ARGUMENT', `MultiStepLR: milestones must be an array of integers, but ${describeValue(options.milestones)} was passed`);
    this.milestones = options.milestones.map((m) => checkNumber('MultiStepLR', 'milestones', m, true)).sort((a, b) => a - b);
    this.gamma = checkNumber('MultiStepLR', 'gamma', options.gamma ?? 0.1);
    this.initialStep();
  }
  protected getLr(): number[] {
    const count = this.milestones.filter((m) => m === this.lastEpoch).length;
    if (count === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma ** count);
  }
}

/** Multiplies the lr by gamma every epoch. */
export class ExponentialLR extends LRScheduler {
  readonly gamma: number;
  constructor(optimizer: AnyOptimizer, options: { gamma: number }) {
    super(optimizer);
    checkOptions('ExponentialLR', options, ['gamma']);
    this.gamma = checkNumber('ExponentialLR', 'gamma', options.gamma);
    this.initialStep();
  }
  protected getLr(): number[] {
    if (this.lastEpoch === 0) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * this.gamma);
  }
}

/**
 * Cosine annealing from the base lr to etaMin over tMax epochs, in PyTorch's recursive (chainable)
 * form; for the usual loop it equals the closed form etaMin + (base - etaMin)(1 + cos(π·t/tMax))/2,
 * and past tMax it rises again (a period of 2·tMax).
 */
export class CosineAnnealingLR extends LRScheduler {
  readonly tMax: number;
  readonly etaMin: number;
  constructor(optimizer: AnyOptimizer, options: { tMax: number; etaMin?: number }) {
    super(optimizer);
    checkOptions('CosineAnnealingLR', options, ['tMax', 'etaMin']);
    this.tMax = checkNumber('CosineAnnealingLR', 'tMax', options.tMax);
    if (!(this.tMax > 0)) fail('INVALID_ARGUMENT', `CosineAnnealingLR: tMax must be positive, but ${String(this.tMax)} was passed`);
    this.etaMin = checkNumber('CosineAnnealingLR', 'etaMin', options.etaMin ?? 0);
    this.initialStep();
  }
  protected getLr(): number[] {
    const { tMax, etaMin, lastEpoch: t } = this;
    if (t === 0) return this.groups.map((g) => g.lr);
    if (this.stepCount === 1 && t > 0) {
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((t * Math.PI) / tMax))) / 2);
    }
    if ((t - 1 - tMax) % (2 * tMax) === 0) {
      return this.groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return this.groups.map(
      (g) => ((1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax))) * (g.lr - etaMin) + etaMin,
    );
  }
}

/** Scales the lr by a factor going linearly from startFactor to endFactor over totalIters epochs. */
export class LinearLR extends LRScheduler {
  readonly startFactor: number;
  readonly endFactor: number;
  readonly totalIters: number;
  constructor(optimizer: AnyOptimizer, options: { startFactor?: number; endFactor?: number; totalIters?: number } = {}) {
    super(optimizer);
    checkOptions('LinearLR', options, ['startFactor', 'endFactor', 'totalIters']);
    this.startFactor = checkNumber('LinearLR', 'startFactor', options.startFactor ?? 1 / 3);
    this.endFactor = checkNumber('LinearLR', 'endFactor', options.endFactor ?? 1);
    this.totalIters = checkNumber('LinearLR', 'totalIters', options.totalIters ?? 5, true);
    if (!(this.startFactor > 0 && this.startFactor <= 1))
      fail('INVALID_ARGUMENT', 'LinearLR: startFactor must be greater than 0 and at most 1');
    if (!(this.endFactor >= 0 && this.endFactor <= 1)) fail('INVALID_ARGUMENT', 'LinearLR: endFactor must be between 0 and 1');
    this.initialStep();
  }
  protected getLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n, lastEpoch: t } = this;
    if (t === 0) return this.groups.map((g) => g.lr * s);
    if (t > n) return this.groups.map((g) => g.lr);
    return this.groups.map((g) => g.lr * (1 + (e - s) / (n * s + (t - 1) * (e - s))));
  }
}

/** lr = base lr · lrLambda(epoch); one function for all groups, or one per group. */
export class LambdaLR extends LRScheduler {
  private readonly lambdas: ((epoch: number) => number)[];
  constructor(optimizer: AnyOptimizer, options: { lrLambda: ((epoch: number) => number) | readonly ((epoch: number) => number)[] }) {
    super(optimizer);
    checkOptions('LambdaLR', options, ['lrLambda']);
    const lrLambda: unknown = options.lrLambda;
    const n = optimizer.paramGroups.length;
    if (typeof lrLambda === 'function') this.lambdas = Array.from({ length: n }, () => lrLambda as (epoch: number) => number);
    else if (Array.isArray(lrLambda) && lrLambda.length === n && lrLambda.every((f) => typeof f === 'function'))
      this.lambdas = [...(lrLambda as ((epoch: number) => number)[])];
    else
      fail(
        'INVALID_ARGUMENT',
        `LambdaLR: lrLambda must be a function or an array of ${String(n)} functions (one per group), but ${describeValue(lrLambda)} was passed`,
      );
    this.initialStep();
  }
  protected getLr(): number[] {
    return this.baseLrs.map((base, i) => base * this.lambdas[i](this.lastEpoch));
  }
}

export interface OneCycleLROptions {
  maxLr: number | readonly number[];
  totalSteps?: number;
  epochs?: number;
  stepsPerEpoch?: number;
  pctStart?: number;
  annealStrategy?: 'cos' | 'linear';
  cycleMomentum?: boolean;
  baseMomentum?: number;
  maxMomentum?: number;
  divFactor?: number;
  finalDivFactor?: number;
  threePhase?: boolean;
}

interface Phase {
  endStep: number;
  startLr: 'initialLr' | 'maxLr' | 'minLr';
  endLr: 'initialLr' | 'maxLr' | 'minLr';
  startMomentum: 'maxMomentum' | 'baseMomentum';
  endMomentum: 'maxMomentum' | 'baseMomentum';
}

/**
 * The 1cycle policy (Smith & Topor): the lr rises from maxLr/divFactor to maxLr over pctStart of
 * totalSteps, then anneals to initial/finalDivFactor (cosine by default), and momentum (SGD's
 * `momentum`, Adam's beta1) cycles inversely between maxMomentum and baseMomentum. Step it after
 * every batch; stepping past totalSteps is an error.
 */
export class OneCycleLR extends LRScheduler {
  readonly totalSteps: number;
  private readonly phases: Phase[];
  private readonly anneal: (start: number, end: number, pct: number) => number;
  private readonly cycleMomentum: boolean;
  private readonly useBeta1: boolean;
  private readonly groupValues: Record<'initialLr' | 'maxLr' | 'minLr' | 'maxMomentum' | 'baseMomentum', number>[];

  constructor(optimizer: AnyOptimizer, options: OneCycleLROptions) {
    super(optimizer);
    checkOptions('OneCycleLR', options, [
      'maxLr',
      'totalSteps',
      'epochs',
      'stepsPerEpoch',
      'pctStart',
      'annealStrategy',
      'cycleMomentum',
      'baseMomentum',
      'maxMomentum',
      'divFactor',
      'finalDivFactor',
      'threePhase',
    ]);
    const {
      pctStart = 0.3,
      annealStrategy = 'cos',
      cycleMomentum = true,
      baseMomentum = 0.85,
      maxMomentum = 0.95,
      divFactor = 25,
      finalDivFactor = 1e4,
      threePhase = false,
    } = options;
    if (options.totalSteps !== undefined) {
      this.totalSteps = checkNumber('OneCycleLR', 'totalSteps', options.totalSteps, true);
      if (this.totalSteps <= 0)
        fail('INVALID_ARGUMENT', `OneCycleLR: expected a positive integer totalSteps, but got ${String(this.totalSteps)}`);
    } else if (options.epochs !== undefined && options.stepsPerEpoch !== undefined) {
      const epochs = checkNumber('OneCycleLR', 'epochs', options.epochs, true);
      const spe = checkNumber('OneCycleLR', 'stepsPerEpoch', options.stepsPerEpoch, true);
      if (epochs <= 0 || spe <= 0) fail('INVALID_ARGUMENT', 'OneCycleLR: epochs and stepsPerEpoch must be positive integers');
      this.totalSteps = epochs * spe;
    } else {
      fail('INVALID_ARGUMENT', 'OneCycleLR: you must define either totalSteps OR (epochs AND stepsPerEpoch)');
    }
    if (typeof pctStart !== 'number' || !(pctStart >= 0 && pctStart <= 1))
      fail('INVALID_ARGUMENT', `OneCycleLR: expected a number between 0 and 1 for pctStart, but got ${describeValue(pctStart)}`);
    const n = this.totalSteps;
    this.phases = threePhase
      ? [
          { endStep: pctStart * n - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          {
            endStep: 2 * pctStart * n - 2,
            startLr: 'maxLr',
            endLr: 'initialLr',
            startMomentum: 'baseMomentum',
            endMomentum: 'maxMomentum',
          },
          { endStep: n - 1, startLr: 'initialLr', endLr: 'minLr', startMomentum: 'maxMomentum', endMomentum: 'maxMomentum' },
        ]
      : [
          { endStep: pctStart * n - 1, startLr: 'initialLr', endLr: 'maxLr', startMomentum: 'maxMomentum', endMomentum: 'baseMomentum' },
          { endStep: n - 1, startLr: 'maxLr', endLr: 'minLr', startMomentum: 'baseMomentum', endMomentum: 'maxMomentum' },
        ];
    const strategy: unknown = annealStrategy;
    if (strategy === 'cos') this.anneal = (start, end, pct) => end + ((start - end) / 2) * (Math.cos(Math.PI * pct) + 1);
    else if (strategy === 'linear') this.anneal = (start, end, pct) => (end - start) * pct + start;
    else fail('INVALID_ARGUMENT', `OneCycleLR: annealStrategy must be 'cos' or 'linear', but ${describeValue(strategy)} was passed`);
    const groups = optimizer.paramGroups;
    const maxLr: unknown = options.maxLr;
    if (typeof maxLr !== 'number' && !Array.isArray(maxLr))
      fail(
        'INVALID_ARGUMENT',
        `OneCycleLR: maxLr must be a number or an array of numbers (one per group), but ${describeValue(maxLr)} was passed`,
      );
    const maxLrs: unknown[] = typeof maxLr === 'number' ? groups.map(() => maxLr) : [...(maxLr as unknown[])];
    if (maxLrs.length !== groups.length || maxLrs.some((v) => typeof v !== 'number'))
      fail(
        'INVALID_ARGUMENT',
        `OneCycleLR: maxLr must be a number or an array of ${String(groups.length)} numbers (one per group), but ${describeValue(options.maxLr)} was passed`,
      );
    this.groupValues = (maxLrs as number[]).map((top) => ({
      initialLr: top / divFactor,
      maxLr: top,
      minLr: top / divFactor / finalDivFactor,
      maxMomentum,
      baseMomentum,
    }));
    groups.forEach((g, i) => {
      g.lr = this.groupValues[i].initialLr;
    });
    this.cycleMomentum = cycleMomentum;
    const defaults = optimizer.defaults as Record<string, unknown>;
    this.useBeta1 = 'betas' in defaults;
    if (cycleMomentum) {
      if (!('momentum' in defaults) && !this.useBeta1)
        fail('INVALID_ARGUMENT', 'OneCycleLR: optimizer must support momentum or beta1 with `cycleMomentum` enabled');
      groups.forEach((g) => {
        this.setMomentum(g, maxMomentum);
      });
    }
    this.baseLrs.splice(0, this.baseLrs.length, ...this.groupValues.map((v) => v.initialLr));
    this.initialStep();
  }

  private setMomentum(group: ParamGroup<{ lr: number }>, m: number): void {
    const g = group as unknown as Record<string, unknown>;
    if (this.useBeta1) {
      const betas = g.betas as [number, number];
      g.betas = [m, betas[1]];
    } else {
      g.momentum = m;
    }
  }

  protected getLr(): number[] {
    const step = this.lastEpoch;
    if (step > this.totalSteps)
      fail(
        'INVALID_ARGUMENT',
        `OneCycleLR: tried to step ${String(step)} times; the specified number of total steps is ${String(this.totalSteps)}`,
      );
    return this.groups.map((group, gi) => {
      const v = this.groupValues[gi];
      let startStep = 0;
      let lr = group.lr;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i];
        if (step <= phase.endStep || i === this.phases.length - 1) {
          const pct = (step - startStep) / (phase.endStep - startStep);
          lr = this.anneal(v[phase.startLr], v[phase.endLr], pct);
          if (this.cycleMomentum) this.setMomentum(group, this.anneal(v[phase.startMomentum], v[phase.endMomentum], pct));
          break;
        }
        startStep = phase.endStep;
      }
      return lr;
    });
  }
}
