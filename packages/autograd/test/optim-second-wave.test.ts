/**
 * optim, second wave: a subclassed Optimizer, step(closure), optimizer stateDict/loadStateDict,
 * and optim.lrScheduler. Scheduler numbers are checked against PyTorch's documented formulas
 * written out as scalar JS.
 */
import { describe, expect, it } from 'vitest';
import { isGradEnabled, nn, noGrad, optim, tensor, zeros, type Tensor } from '../src/index.js';
import { errorOf } from './expect-error.js';

const flat = (t: Tensor): number[] => Array.from(t.dataSync());
const closeTo = (actual: number[], expected: number[], tol = 1e-12): void => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(Math.abs(a - expected[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i])));
  });
};

/** signSGD: p -= lr·sign(g), with a step counter in its state. */
class SignSGD extends optim.Optimizer<{ lr: number }, { step: number }> {
  constructor(params: Iterable<Tensor>, options: { lr?: number } = {}) {
    super(params, { lr: options.lr ?? 0.1 });
  }
  get stateful(): boolean {
    return false;
  }
  protected update(p: Tensor, g: Tensor, group: { lr: number }, state: { step: number } | undefined): { step: number } {
    p.sub_(g.sign().mul(group.lr));
    return { step: (state?.step ?? 0) + 1 };
  }
}

describe('Optimizer base class, step(closure), stateDict', () => {
  it('a subclass of optim.Optimizer steps parameters and keeps state', () => {
    const p = tensor([1, -2, 3]).requiresGrad_();
    const opt = new SignSGD([p], { lr: 0.5 });
    p.grad = tensor([2, -0.1, 0]);
    opt.step();
    expect(flat(p)).toEqual([0.5, -1.5, 3]);
    opt.step();
    expect(opt.state.get(p)).toEqual({ step: 2 });
    expect(opt).toBeInstanceOf(optim.Optimizer);
  });

  it('step(closure) runs the closure under enableGrad first and returns its loss', () => {
    const p = tensor([2]).requiresGrad_();
    const opt = new optim.SGD([p], { lr: 0.25 });
    let gradMode: boolean | null = null;
    const closure = (): Tensor => {
      gradMode = isGradEnabled();
      opt.zeroGrad();
      const loss = p.mul(p).sum();
      loss.backward();
      return loss;
    };
    const loss = noGrad(() => opt.step(closure));
    expect(gradMode).toBe(true);
    expect(loss.item()).toBe(4);
    // The update used the gradient 2p = 4 computed by the closure.
    expect(flat(p)).toEqual([1]);
    opt.step();
    expect(flat(p)).toEqual([1 - 0.25 * 4]);
    expect(errorOf(() => opt.step(3 as never)).code).toBe('INVALID_ARGUMENT');
  });

  it('stateDict / loadStateDict: indices for params, hyper-parameters and state restored; training continues identically', () => {
    const make = (): [Tensor, Tensor] => [tensor([1, 2]).requiresGrad_(), tensor([[0.5]]).requiresGrad_()];
    const [a1, b1] = make();
    const [a2, b2] = make();
    const opt1 = new optim.Adam([{ params: [a1] }, { params: [b1], lr: 0.01 }], { lr: 0.1 });
    const opt2 = new optim.Adam([{ params: [a2] }, { params: [b2] }], { lr: 0.5, betas: [0.5, 0.5] });
    const grads = (k: number): [Tensor, Tensor] => [tensor([0.3 * k, -1]), tensor([[k]])];
    for (let k = 1; k <= 3; k++) {
      [a1.grad, b1.grad] = grads(k);
      opt1.step();
    }
    const sd = opt1.stateDict();
    expect(sd.paramGroups.map((g) => g.params)).toEqual([[0], [1]]);
    expect(sd.paramGroups[1].lr).toBe(0.01);
    expect(Object.keys(sd.state)).toEqual(['0', '1']);
    noGrad(() => {
      a2.copy_(a1);
      b2.copy_(b1);
    });
    opt2.loadStateDict(sd);
    expect(opt2.paramGroups[0].params[0]).toBe(a2);
    expect(opt2.paramGroups[1].lr).toBe(0.01);
    expect(opt2.paramGroups[0].betas).toEqual([0.9, 0.999]);
    for (let k = 4; k <= 5; k++) {
      [a1.grad, b1.grad] = grads(k);
      [a2.grad, b2.grad] = grads(k);
      opt1.step();
      opt2.step();
    }
    expect(flat(a2)).toEqual(flat(a1));
    expect(flat(b2)).toEqual(flat(b1));
    // The loaded state is a copy: it does not alias the source optimizer's buffers.
    const s1 = opt1.state.get(a1) as unknown as Record<string, unknown>;
    const s2 = opt2.state.get(a2) as unknown as Record<string, unknown>;
    for (const k of Object.keys(s1)) if (s1[k] instanceof Object && s2[k] !== undefined) expect(s2[k]).not.toBe(s1[k]);

    const single = new optim.Adam([tensor([1]).requiresGrad_()]);
    expect(
      errorOf(() => {
        single.loadStateDict(sd);
      }).message,
    ).toContain('different number of parameter groups');
  });
});

function sgd(lr = 1, groups = 1): optim.SGD {
  return new optim.SGD(
    Array.from({ length: groups }, (_, i) => ({ params: [zeros([1]).requiresGrad_()], lr: lr * (i + 1) })),
    { lr },
  );
}

/** Runs `n` scheduler steps and returns the lr of group 0 before each (index 0: after construction). */
function trace(s: optim.lrScheduler.LRScheduler, n: number): number[] {
  const out = [s.getLastLr()[0]];
  for (let i = 0; i < n; i++) {
    s.step();
    out.push(s.getLastLr()[0]);
    expect(s.optimizer.paramGroups[0].lr).toBe(out[out.length - 1]);
  }
  return out;
}

describe('optim.lrScheduler', () => {
  const S = optim.lrScheduler;

  it('StepLR: lr = base·γ^⌊t/stepSize⌋', () => {
    closeTo(
      trace(new S.StepLR(sgd(0.1), { stepSize: 3, gamma: 0.5 }), 10),
      Array.from({ length: 11 }, (_, t) => 0.1 * 0.5 ** Math.floor(t / 3)),
    );
    const two = new S.StepLR(sgd(0.1, 2), { stepSize: 1 });
    two.step();
    closeTo(two.getLastLr(), [0.1 * 0.1, 0.2 * 0.1]);
  });

  it('MultiStepLR: lr = base·γ^(milestones ≤ t), a repeated milestone counting twice', () => {
    const ms = [2, 5, 5];
    closeTo(
      trace(new S.MultiStepLR(sgd(1), { milestones: ms, gamma: 0.1 }), 8),
      Array.from({ length: 9 }, (_, t) => 0.1 ** ms.filter((m) => m <= t).length),
    );
  });

  it('ExponentialLR: lr = base·γ^t', () => {
    closeTo(
      trace(new S.ExponentialLR(sgd(0.3), { gamma: 0.9 }), 12),
      Array.from({ length: 13 }, (_, t) => 0.3 * 0.9 ** t),
      1e-12,
    );
  });

  it('CosineAnnealingLR: η_min + (base - η_min)(1 + cos(πt/T))/2, continuing past T with period 2T', () => {
    const base = 0.1;
    const etaMin = 0.001;
    const tMax = 10;
    const closed = (t: number): number => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
    closeTo(
      trace(new S.CosineAnnealingLR(sgd(base), { tMax, etaMin }), 35),
      Array.from({ length: 36 }, (_, t) => closed(t)),
      1e-9,
    );
  });

  it('LinearLR: factor from startFactor to endFactor linearly over totalIters, then constant', () => {
    const factor = (t: number): number => (t >= 4 ? 0.9 : 0.25 + ((0.9 - 0.25) * t) / 4);
    closeTo(
      trace(new S.LinearLR(sgd(0.2), { startFactor: 0.25, endFactor: 0.9, totalIters: 4 }), 8),
      Array.from({ length: 9 }, (_, t) => 0.2 * factor(t)),
      1e-12,
    );
    const d = new S.LinearLR(sgd(0.3));
    closeTo([d.getLastLr()[0]], [0.1]);
  });

  it('LambdaLR: lr = base·λ(t), one function per group', () => {
    const s = new S.LambdaLR(sgd(0.1, 2), { lrLambda: [(t) => 1 / (t + 1), (t) => 0.5 ** t] });
    for (let t = 0; t < 5; t++) {
      closeTo(s.getLastLr(), [0.1 / (t + 1), 0.2 * 0.5 ** t]);
      s.step();
    }
    expect(errorOf(() => new S.LambdaLR(sgd(0.1, 2), { lrLambda: [(t) => t] })).code).toBe('INVALID_ARGUMENT');
  });

  it('OneCycleLR: cosine warm-up from maxLr/divFactor to maxLr over pctStart, then down to initial/finalDivFactor; momentum inverse', () => {
    const total = 20;
    const maxLr = 0.5;
    const initial = maxLr / 25;
    const minLr = initial / 1e4;
    const cos = (a: number, b: number, pct: number): number => b + ((a - b) / 2) * (Math.cos(Math.PI * pct) + 1);
    const up = 0.3 * total - 1;
    const expectedAt = (t: number): [number, number] =>
      t <= up
        ? [cos(initial, maxLr, t / up), cos(0.95, 0.85, t / up)]
        : [cos(maxLr, minLr, (t - up) / (total - 1 - up)), cos(0.85, 0.95, (t - up) / (total - 1 - up))];
    const opt = new optim.SGD([zeros([1]).requiresGrad_()], { lr: 1, momentum: 0.9 });
    const s = new S.OneCycleLR(opt, { maxLr, totalSteps: total });
    for (let t = 0; t < total; t++) {
      const [lr, m] = expectedAt(t);
      closeTo([s.getLastLr()[0], opt.paramGroups[0].momentum], [lr, m], 1e-12);
      if (t < total - 1) s.step();
    }
    closeTo([s.getLastLr()[0]], [minLr], 1e-9);
    s.step();
    expect(
      errorOf(() => {
        s.step();
      }).message,
    ).toContain('total steps is 20');

    // Adam: beta1 cycles; linear annealing; epochs × stepsPerEpoch.
    const adam = new optim.Adam([zeros([1]).requiresGrad_()], { betas: [0.9, 0.99] });
    const lin = new S.OneCycleLR(adam, { maxLr: 1, epochs: 2, stepsPerEpoch: 5, annealStrategy: 'linear', pctStart: 0.5 });
    const lrs = trace(lin, 9);
    const upL = 0.5 * 10 - 1;
    closeTo(
      lrs,
      Array.from({ length: 10 }, (_, t) => (t <= upL ? 0.04 + (1 - 0.04) * (t / upL) : 1 + (0.04 / 1e4 - 1) * ((t - upL) / (9 - upL)))),
      1e-12,
    );
    expect(adam.paramGroups[0].betas[1]).toBe(0.99);
    closeTo([adam.paramGroups[0].betas[0]], [0.95]);
  });

  it('schedulers drive a real training loop: optimizer.step() then scheduler.step()', () => {
    const model = new nn.Linear(2, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const sched = new S.StepLR(opt, { stepSize: 2, gamma: 0.1 });
    const lrs: number[] = [];
    for (let epoch = 0; epoch < 4; epoch++) {
      opt.zeroGrad();
      nn.functional.mseLoss(model.forward(tensor([[1, 2]])), tensor([[0]])).backward();
      opt.step();
      lrs.push(opt.paramGroups[0].lr);
      sched.step();
    }
    closeTo(lrs, [0.1, 0.1, 0.01, 0.01]);
    expect(errorOf(() => new S.StepLR(opt, { step_size: 2 } as never)).message).toContain('did you mean stepSize');
  });
});
