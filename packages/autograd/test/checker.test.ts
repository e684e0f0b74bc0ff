import { afterEach, describe, expect, it } from 'vitest';
import { enableGradFlowChecker, manualSeed, nn, noGrad, optim, randn, tensor, type GradFlowChecker, type Tensor } from '../src/index.js';

let checker: GradFlowChecker | undefined;
afterEach(() => {
  checker?.dispose();
  checker = undefined;
});

function start(options?: Parameters<typeof enableGradFlowChecker>[0]): GradFlowChecker {
  checker = enableGradFlowChecker(options);
  return checker;
}

const kinds = (c: GradFlowChecker): string[] => c.findings().map((f) => f.kind);

/** loss = mse(model(x), y) with fixed small data. */
function lossOf(model: nn.Module, x = randn([4, 3]), y = randn([4, 1])) {
  return nn.functional.mseLoss(model.forward(x), y);
}

describe('runtime gradient-flow checker', () => {
  it('reports a parameter frozen after the optimizer was built that momentum still moves', () => {
    manualSeed(1);
    const model = new nn.Linear(3, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const c = start({ models: { model } });
    lossOf(model).backward();
    opt.step();
    model.weight.requiresGrad = false;
    opt.zeroGrad();
    lossOf(model).backward();
    opt.step();
    const frozen = c.findings().filter((f) => f.kind === 'FROZEN_PARAM_MOVED');
    expect(frozen.map((f) => [f.ruleId, f.subject])).toEqual([['@gradflow/no-freeze-after-optimizer', 'model.weight']]);
    // Its grad was zero-filled, so clearing with setToNone would have saved it as well.
    expect(
      c
        .findings()
        .filter((f) => f.kind === 'ZERO_GRAD_PARAM_MOVED')
        .map((f) => f.subject),
    ).toEqual(['model.weight']);
  });

  it('names parameters by their path in the module the optimizer got them from, without `models`', () => {
    manualSeed(1);
    class Net extends nn.Module {
      backbone = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU());
      head = new nn.Linear(4, 1);
      forward(x: Tensor): Tensor {
        return this.head.forward(this.backbone.forward(x));
      }
    }
    const c = start();
    const model = new Net();
    const opt = new optim.Adam(model.parameters(), { lr: 0.1 });
    lossOf(model).backward();
    opt.step();
    // Listing a submodule's parameters (to freeze them) must not shorten the names to `0.weight`.
    for (const p of model.backbone.parameters()) p.requiresGrad = false;
    opt.zeroGrad();
    lossOf(model).backward();
    opt.step();
    const frozen = c.findings().filter((f) => f.kind === 'FROZEN_PARAM_MOVED');
    expect(frozen.map((f) => f.subject)).toEqual(['backbone.0.weight', 'backbone.0.bias']);
    expect(frozen[0]?.message).toMatch(/^backbone\.0\.weight has requiresGrad false/);
  });

  it('stays quiet when the frozen parameter has no grad (set to none), so step() skips it', () => {
    manualSeed(1);
    const model = new nn.Linear(3, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const c = start();
    lossOf(model).backward();
    opt.step();
    model.weight.requiresGrad = false;
    opt.zeroGrad({ setToNone: true });
    lossOf(model).backward();
    opt.step();
    expect(c.findings()).toEqual([]);
  });

  it('reports a zero-filled grad that Adam still moves, and not when grads are set to none', () => {
    for (const setToNone of [false, true]) {
      manualSeed(2);
      const a = new nn.Linear(3, 3);
      const b = new nn.Linear(3, 1);
      const opt = new optim.Adam([...a.parameters(), ...b.parameters()], { lr: 0.01 });
      const c = start({ models: { a, b } });
      const x = randn([4, 3]);
      const y = randn([4, 1]);
      nn.functional.mseLoss(b.forward(a.forward(x)), y).backward();
      opt.step();
      // Phase two trains only the head: the detach cuts `a` out of the graph.
      opt.zeroGrad({ setToNone });
      nn.functional.mseLoss(b.forward(a.forward(x).detach()), y).backward();
      opt.step();
      const moved = c.findings().filter((f) => f.kind === 'ZERO_GRAD_PARAM_MOVED');
      expect(moved.map((f) => f.subject)).toEqual(setToNone ? [] : ['a.weight', 'a.bias']);
      expect(moved.every((f) => f.ruleId === '@gradflow/require-set-to-none')).toBe(true);
      c.dispose();
    }
  });

  it('reports trainable parameters that got no gradient because their path went through noGrad', () => {
    manualSeed(3);
    const encoder = new nn.Linear(3, 3);
    const head = new nn.Linear(3, 1);
    const opt = new optim.SGD([...encoder.parameters(), ...head.parameters()], { lr: 0.1 });
    const c = start({ models: { encoder, head } });
    const features = noGrad(() => encoder.forward(randn([4, 3])));
    nn.functional.mseLoss(head.forward(features), randn([4, 1])).backward();
    opt.step();
    const cut = c.findings().filter((f) => f.kind === 'NO_GRAD_THROUGH_NOGRAD');
    expect(cut.map((f) => [f.ruleId, f.subject])).toEqual([
      ['@gradflow/valid-no-grad', 'encoder.weight'],
      ['@gradflow/valid-no-grad', 'encoder.bias'],
    ]);
  });

  it('does not report a module trained first and then run under noGrad (warm-up, then a linear probe)', () => {
    manualSeed(3);
    const encoder = new nn.Linear(3, 3);
    const head = new nn.Linear(3, 1);
    const opt = new optim.SGD([...encoder.parameters(), ...head.parameters()], { lr: 0.1 });
    const c = start({ models: { encoder, head } });
    for (let step = 0; step < 3; step++) {
      opt.zeroGrad({ setToNone: true });
      const x = randn([4, 3]);
      const features = step === 0 ? encoder.forward(x) : noGrad(() => encoder.forward(x));
      nn.functional.mseLoss(head.forward(features), randn([4, 1])).backward();
      opt.step();
    }
    expect(c.findings()).toEqual([]);
  });

  it('does not count an in-place update under noGrad as a cut path (clipping a detached trunk after step)', () => {
    manualSeed(3);
    const trunk = new nn.Linear(3, 3);
    const head = new nn.Linear(3, 1);
    const opt = new optim.SGD([...trunk.parameters(), ...head.parameters()], { lr: 0.1 });
    const c = start({ models: { trunk, head } });
    for (let step = 0; step < 2; step++) {
      opt.zeroGrad({ setToNone: true });
      // The trunk's output is detached (no gradient, but not because of noGrad); clipping its weight
      // in place under noGrad writes it and reads no graph.
      nn.functional.mseLoss(head.forward(trunk.forward(randn([4, 3])).detach()), randn([4, 1])).backward();
      opt.step();
      noGrad(() => trunk.weight.clamp_(-0.5, 0.5));
    }
    expect(c.findings().filter((f) => f.kind === 'NO_GRAD_THROUGH_NOGRAD')).toEqual([]);
  });

  it('does not confuse an evaluation pass under noGrad with a cut training path', () => {
    manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(3, 3), new nn.ReLU(), new nn.Linear(3, 1));
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const c = start();
    for (let i = 0; i < 2; i++) {
      opt.zeroGrad();
      lossOf(model).backward();
      opt.step();
      noGrad(() => lossOf(model));
    }
    expect(c.findings()).toEqual([]);
  });

  it('reports stale gradients when the loop never clears them', () => {
    manualSeed(4);
    const model = new nn.Linear(3, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const c = start({ models: { model } });
    for (let i = 0; i < 3; i++) {
      lossOf(model).backward();
      opt.step();
    }
    const stale = c.findings().filter((f) => f.kind === 'STALE_GRADIENTS');
    expect(stale.map((f) => [f.ruleId, f.subject, f.count])).toEqual([
      ['@gradflow/require-zero-grad', 'model.weight', 2],
      ['@gradflow/require-zero-grad', 'model.bias', 2],
    ]);
  });

  it('reports the stale gradient of a parameter frozen after it got one, when nothing clears it', () => {
    manualSeed(4);
    const model = new nn.Linear(3, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const c = start({ models: { model } });
    lossOf(model).backward();
    opt.step();
    model.weight.requiresGrad = false;
    lossOf(model).backward(); // reaches only the bias now
    opt.step(); // applies the weight's first gradient a second time
    const stale = c.findings().filter((f) => f.kind === 'STALE_GRADIENTS');
    expect(stale.map((f) => f.subject).sort()).toEqual(['model.bias', 'model.weight']);
    expect(kinds(c)).toContain('FROZEN_PARAM_MOVED');
  });

  it('accepts deliberate gradient accumulation over micro-batches cleared once per step', () => {
    manualSeed(4);
    const model = new nn.Linear(3, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const c = start();
    for (let step = 0; step < 3; step++) {
      for (let micro = 0; micro < 2; micro++) lossOf(model).backward();
      opt.step();
      opt.zeroGrad();
    }
    expect(c.findings()).toEqual([]);
  });

  it('reports a non-leaf .grad read that returned null, and not after retainGrad()', () => {
    const c = start();
    const w = tensor([1, 2], { requiresGrad: true });
    const hidden = w.mul(3);
    const kept = w.mul(2);
    kept.retainGrad();
    hidden.add(kept).sum().backward();
    expect(kept.grad?.toArray()).toEqual([1, 1]);
    expect(c.findings()).toEqual([]);
    expect(hidden.grad).toBeNull();
    expect(c.findings().map((f) => [f.ruleId, f.kind])).toEqual([['@gradflow/no-nonleaf-grad', 'NONLEAF_GRAD_NULL']]);
  });

  it('maps engine errors to rule ids through run() and rethrows them', () => {
    const c = start();
    const w = tensor([1, 2, 3], { requiresGrad: true });
    expect(() => c.run(() => w.add_(1))).toThrow(/LEAF_INPLACE/);
    const y = w.mul(w);
    expect(() => {
      c.run(() => {
        w.detach().mul_(2);
        y.sum().backward();
      });
    }).toThrow(/SAVED_TENSOR_MODIFIED/);
    expect(() => c.run(() => tensor([1], { dtype: 'int32' }).requiresGrad_())).toThrow(/DTYPE_REQUIRES_GRAD/);
    expect(c.recordError(new Error('not ours'))).toBeNull();
    expect(c.findings().map((f) => [f.kind, f.ruleId])).toEqual([
      ['LEAF_INPLACE', '@gradflow/no-leaf-inplace'],
      ['SAVED_TENSOR_MODIFIED', '@gradflow/no-inplace-on-saved-tensor'],
      ['DTYPE_REQUIRES_GRAD', '@gradflow/valid-requires-grad'],
    ]);
  });

  it('stops observing after dispose()', () => {
    manualSeed(5);
    const model = new nn.Linear(3, 1);
    const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
    const c = start();
    c.dispose();
    for (let i = 0; i < 2; i++) {
      lossOf(model).backward();
      opt.step();
    }
    expect(kinds(c)).toEqual([]);
  });
});
