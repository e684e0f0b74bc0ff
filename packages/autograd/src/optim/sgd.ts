import { fail } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, withDefaults, type ParamGroup, type ParamsInput } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

/** SGD's per-parameter state: the momentum buffer, once a step with momentum has run. */
export interface SGDState {
  momentumBuffer?: Tensor;
}

/** PyTorch's SGD: d = g + λp; b = μb + (1-τ)d (b = d on the first step); d = nesterov ? d + μb : b; p -= lr·d. */
export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> = {}) {
    super(params, withDefaults('SGD', { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false }, options));
  }

  get stateful(): boolean {
    return this.paramGroups.some((g) => g.momentum !== 0 || g.weightDecay !== 0);
  }

  protected override validate(h: SGDOptions): void {
    super.validate(h);
    this.checkNumber('momentum', h.momentum);
    this.checkNumber('dampening', h.dampening);
    this.checkNumber('weightDecay', h.weightDecay);
    this.checkBoolean('nesterov', h.nesterov);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0))
      fail('INVALID_ARGUMENT', 'SGD: nesterov momentum requires a momentum > 0 and zero dampening');
  }

  protected update(p: Tensor, g: Tensor, h: ParamGroup<SGDOptions>, st: SGDState = {}): SGDState {
    let buf: Tensor | null = null;
    let firstStep = false;
    if (h.momentum !== 0) {
      firstStep = st.momentumBuffer === undefined;
      buf = st.momentumBuffer ??= this.buffer(p);
    }
    p.storage.backend.sgdStep(p, g, buf, {
      lr: h.lr,
      momentum: h.momentum,
      dampening: h.dampening,
      weightDecay: h.weightDecay,
      nesterov: h.nesterov,
      firstStep,
    });
    return st;
  }
}
