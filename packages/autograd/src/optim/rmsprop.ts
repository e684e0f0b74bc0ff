import type { Tensor } from '../tensor.js';
import { Optimizer, withDefaults, type ParamGroup, type ParamState, type ParamsInput } from './optimizer.js';

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

/** PyTorch's RMSprop: v = αv + (1-α)g²; (centered: ḡ = αḡ + (1-α)g, v - ḡ²); p -= lr·g/(√v + ε) (or via momentum). */
export class RMSprop extends Optimizer<RMSpropOptions> {
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

  protected update(p: Tensor, g: Tensor, h: ParamGroup<RMSpropOptions>, st: ParamState): void {
    st.step = ((st.step as number | undefined) ?? 0) + 1;
    const squareAvg = (st.squareAvg as Tensor | undefined) ?? this.buffer(p);
    st.squareAvg = squareAvg;
    let momentumBuffer: Tensor | null = null;
    if (h.momentum > 0) {
      momentumBuffer = (st.momentumBuffer as Tensor | undefined) ?? this.buffer(p);
      st.momentumBuffer = momentumBuffer;
    }
    let gradAvg: Tensor | null = null;
    if (h.centered) {
      gradAvg = (st.gradAvg as Tensor | undefined) ?? this.buffer(p);
      st.gradAvg = gradAvg;
    }
    p.backend.rmspropStep(p, g, squareAvg, momentumBuffer, gradAvg, {
      lr: h.lr, alpha: h.alpha, eps: h.eps, weightDecay: h.weightDecay, momentum: h.momentum, centered: h.centered,
    });
    p.storage.version++;
  }
}
