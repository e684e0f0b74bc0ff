import type { Tensor } from '../tensor.js';
import { Optimizer, withDefaults, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

/** RMSprop's per-parameter state; `momentumBuffer` (momentum > 0) and `gradAvg` (centered) once such a step has run. */
export interface RMSpropState {
  step: number;
  squareAvg: Tensor;
  momentumBuffer?: Tensor;
  gradAvg?: Tensor;
}

/** PyTorch's RMSprop: v = αv + (1-α)g²; (centered: ḡ = αḡ + (1-α)g, v - ḡ²); p -= lr·g/(√v + ε) (or via momentum). */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(params, withDefaults('RMSprop', { lr: 1e-2, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false }, options));
  }

  get stateful(): boolean {
    return true;
  }

  protected override validate(h: RMSpropOptions): void {
    super.validate(h);
    this.checkNumber('alpha', h.alpha);
    this.checkNumber('eps', h.eps);
    this.checkNumber('momentum', h.momentum);
    this.checkNumber('weightDecay', h.weightDecay);
    this.checkBoolean('centered', h.centered);
  }

  protected update(p: Tensor, g: Tensor, h: ParamGroup<RMSpropOptions>, st?: RMSpropState): RMSpropState {
    const state = st ?? { step: 0, squareAvg: this.buffer(p) };
    state.step += 1;
    const momentumBuffer = h.momentum > 0 ? (state.momentumBuffer ??= this.buffer(p)) : null;
    const gradAvg = h.centered ? (state.gradAvg ??= this.buffer(p)) : null;
    p.storage.backend.rmspropStep(p, g, state.squareAvg, momentumBuffer, gradAvg, {
      lr: h.lr,
      alpha: h.alpha,
      eps: h.eps,
      weightDecay: h.weightDecay,
      momentum: h.momentum,
      centered: h.centered,
    });
    return state;
  }
}
