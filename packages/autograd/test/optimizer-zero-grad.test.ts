/**
 * Seed 002 ("detach does not stop parameter updates"): the article's TestDetach model trained
 * with layer1's output detached every other epoch. With zeroGrad() filling gradients with zeros,
 * a stateful optimizer (momentum, Adam's moments, weight decay) keeps moving layer1 in the detached
 * epochs; with zeroGrad({ setToNone: true }) the grad is null, step() skips layer1 and it stays.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, optim, randn, tensor, type Tensor } from '../src/index.js';

class TestDetach extends nn.Module {
  layer1: nn.Linear;
  layer2: nn.Linear;
  constructor(inDim: number, hiddenDim: number, outDim: number) {
    super();
    this.layer1 = new nn.Linear(inDim, hiddenDim, { bias: false });
    this.layer2 = new nn.Linear(hiddenDim, outDim, { bias: false });
  }
  /** The article passes this as forward's second argument; Module.forward takes tensors only. */
  detachLayer1 = false;
  forward(x: Tensor): Tensor {
    let h = this.layer1.forward(x).relu();
    if (this.detachLayer1) h = h.detach();
    return this.layer2.forward(h);
  }
}

type MakeOptimizer = (params: Tensor[]) => { step(): void; zeroGrad(options?: { setToNone?: boolean }): void };

/**
 * Trains 6 epochs in the article's order (backward, step, zeroGrad), detaching on odd epochs.
 * Returns, for each detached epoch, whether layer1.weight moved and what its grad was at step().
 */
function train(make: MakeOptimizer, setToNone: boolean): { moved: boolean[]; gradsAtStep: (number[] | null)[]; layer2Moved: boolean[] } {
  manualSeed(0);
  const x = randn([20, 6]);
  const y = tensor(
    Array.from({ length: 20 }, (_, i) => (i * 7) % 3),
    { dtype: 'int32' },
  );
  const model = new TestDetach(6, 5, 3);
  const opt = make(model.parameters());
  const moved: boolean[] = [];
  const layer2Moved: boolean[] = [];
  const gradsAtStep: (number[] | null)[] = [];
  for (let epoch = 0; epoch < 6; epoch++) {
    const detach = epoch % 2 === 1;
    model.detachLayer1 = detach;
    const loss = nn.functional.crossEntropy(model.forward(x), y);
    loss.backward();
    const before = Array.from(model.layer1.weight.dataSync());
    const before2 = Array.from(model.layer2.weight.dataSync());
    const g = model.layer1.weight.grad;
    opt.step();
    opt.zeroGrad({ setToNone });
    if (detach) {
      gradsAtStep.push(g ? Array.from(g.dataSync()) : null);
      moved.push(Array.from(model.layer1.weight.dataSync()).some((v, i) => v !== before[i]));
      layer2Moved.push(Array.from(model.layer2.weight.dataSync()).some((v, i) => v !== before2[i]));
    }
  }
  return { moved, gradsAtStep, layer2Moved };
}

const stateful: [string, MakeOptimizer][] = [
  ["Adam(lr=1, weightDecay=0.5) (the article's)", (ps) => new optim.Adam(ps, { lr: 1, weightDecay: 0.5 })],
  ['Adam without weight decay (moments alone)', (ps) => new optim.Adam(ps, { lr: 0.1 })],
  ['AdamW (decoupled decay)', (ps) => new optim.AdamW(ps, { lr: 0.1 })],
  ['SGD with momentum', (ps) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9 })],
  ['SGD with weightDecay', (ps) => new optim.SGD(ps, { lr: 0.1, weightDecay: 0.5 })],
  ['RMSprop (momentum)', (ps) => new optim.RMSprop(ps, { lr: 0.01, momentum: 0.9 })],
];

describe('seed 002: zeroGrad() vs zeroGrad({ setToNone: true }) with a detached layer', () => {
  it.each(stateful)('%s: zeroGrad() leaves a zero grad and the detached layer1 keeps moving', (_, make) => {
    const { moved, gradsAtStep, layer2Moved } = train(make, false);
    for (const g of gradsAtStep) expect(g?.every((v) => v === 0)).toBe(true);
    expect(moved).toEqual([true, true, true]);
    expect(layer2Moved).toEqual([true, true, true]);
  });

  it.each(stateful)('%s: zeroGrad({ setToNone: true }) leaves a null grad and layer1 stays put', (_, make) => {
    const { moved, gradsAtStep, layer2Moved } = train(make, true);
    expect(gradsAtStep).toEqual([null, null, null]);
    expect(moved).toEqual([false, false, false]);
    expect(layer2Moved).toEqual([true, true, true]);
  });

  it('plain SGD (no momentum, no weight decay) leaves layer1 alone even with zero-filled grads', () => {
    const { moved, gradsAtStep } = train((ps) => new optim.SGD(ps, { lr: 1 }), false);
    for (const g of gradsAtStep) expect(g?.every((v) => v === 0)).toBe(true);
    expect(moved).toEqual([false, false, false]);
  });

  it('with zero grads, SGD momentum moves by exactly lr·μ·buffer (the history, not the gradient)', () => {
    const p = tensor([1.0], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    p.grad = tensor([2.0], { dtype: 'float64' });
    opt.step(); // buffer = 2, p = 1 - 0.2 = 0.8
    opt.zeroGrad();
    expect(p.grad.toArray()).toEqual([0]);
    opt.step(); // buffer = 0.9·2 + 0 = 1.8, p = 0.8 - 0.18 = 0.62
    expect(p.item()).toBeCloseTo(0.62, 14);
  });
});

describe('zeroGrad semantics (optimizer and Module agree)', () => {
  it('optimizer.zeroGrad() zero-fills in place; setToNone sets null; never-used grads stay null', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3], { requiresGrad: true });
    const opt = new optim.SGD([a, b], { lr: 0.1 });
    a.mul(a).sum().backward();
    const g = a.grad;
    opt.zeroGrad();
    expect(a.grad).toBe(g); // same tensor, zero-filled in place, as PyTorch's set_to_none=False
    expect(a.grad?.toArray()).toEqual([0, 0]);
    expect(b.grad).toBeNull();
    opt.zeroGrad({ setToNone: true });
    expect(a.grad).toBeNull();
  });

  it('module.zeroGrad() does the same for every parameter, nested ones included', () => {
    const model = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 1));
    model
      .forward(tensor([[1, -1]]))
      .sum()
      .backward();
    for (const p of model.parameters()) expect(p.grad).not.toBeNull();
    model.zeroGrad();
    for (const p of model.parameters()) expect((p.grad?.toArray() as number[] | number[][]).flat().every((v) => v === 0)).toBe(true);
    model.zeroGrad({ setToNone: true });
    for (const p of model.parameters()) expect(p.grad).toBeNull();
  });

  it('a .grad built with createGraph is detached from its graph by zeroGrad(), then zeroed (as PyTorch)', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.mul(w).sum().backward(undefined, { createGraph: true });
    expect(w.grad?.requiresGrad).toBe(true);
    new optim.SGD([w], { lr: 0.1 }).zeroGrad();
    expect(w.grad?.requiresGrad).toBe(false);
    expect(w.grad?.gradFn).toBeNull();
    expect(w.grad?.toArray()).toEqual([0, 0]);
    w.mul(3).sum().backward();
    expect(w.grad?.toArray()).toEqual([3, 3]);
  });

  it('without zeroGrad, gradients accumulate across backward calls', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    w.mul(3).sum().backward();
    w.mul(3).sum().backward();
    expect(w.grad?.toArray()).toEqual([6, 6]);
  });
});
