import { fail } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { describeValue } from '../dtype.js';
import { Optimizer, withDefaults, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

/** Adam's (and AdamW's) per-parameter state; `maxExpAvgSq` once a step with amsgrad has run. */
export interface AdamState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
  maxExpAvgSq?: Tensor;
}

/**
 * PyTorch's Adam: g += λp; m = β₁m + (1-β₁)g; v = β₂v + (1-β₂)g²; (amsgrad: v̂ = max(v̂, v));
 * p -= lr/(1-β₁ᵗ) · m / (√v/√(1-β₂ᵗ) + ε).
 */
export class Adam extends Optimizer<AdamOptions, AdamState> {
  protected readonly decoupled: boolean = false;

  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}, weightDecayDefault = 0) {
    super(
      params,
      withDefaults(
        new.target.name,
        { lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: weightDecayDefault, amsgrad: false },
        options,
      ),
    );
  }

  get stateful(): boolean {
    return true;
  }

  protected override validate(h: AdamOptions): void {
    super.validate(h);
    const betas: unknown = h.betas;
    if (!Array.isArray(betas) || betas.length !== 2) {
      fail(
        'INVALID_ARGUMENT',
        `${this.constructor.name}: betas must be a pair [beta1, beta2] of numbers, but ${describeValue(betas)} was passed`,
      );
    }
    const [b1, b2] = betas as unknown[];
    if (typeof b1 !== 'number' || typeof b2 !== 'number' || !(b1 >= 0 && b1 < 1) || !(b2 >= 0 && b2 < 1)) {
      fail(
        'INVALID_ARGUMENT',
        `${this.constructor.name}: invalid betas [${describeValue(b1)}, ${describeValue(b2)}]: each beta must be a number in [0, 1)`,
      );
    }
    this.checkNumber('eps', h.eps);
    this.checkNumber('weightDecay', h.weightDecay);
    this.checkBoolean('amsgrad', h.amsgrad);
  }

  protected update(p: Tensor, g: Tensor, h: ParamGroup<AdamOptions>, st?: AdamState): AdamState {
    const state = st ?? { step: 0, expAvg: this.buffer(p), expAvgSq: this.buffer(p) };
    state.step += 1;
    const maxExpAvgSq = h.amsgrad ? (state.maxExpAvgSq ??= this.buffer(p)) : null;
    p.storage.backend.adamStep(p, g, state.expAvg, state.expAvgSq, maxExpAvgSq, {
      lr: h.lr,
      beta1: h.betas[0],
      beta2: h.betas[1],
      eps: h.eps,
      weightDecay: h.weightDecay,
      decoupled: this.decoupled,
      amsgrad: h.amsgrad,
      step: state.step,
    });
    return state;
  }
}

/** AdamW: Adam with decoupled weight decay p *= 1 - lr·λ (default λ = 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, options, 1e-2);
  }
}
