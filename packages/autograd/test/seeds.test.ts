/**
 * Every deterministic example of the seed articles (/work/shared/seeds), with the numbers PyTorch
 * printed there. Examples built on random data keep their deterministic part (which grads are
 * None, which rows are equal); examples with layers we lack (Conv2d) use nn.Linear instead.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { autograd, GradFlowError, manualSeed, nn, noGrad, ones, optim, randn, tensor, type Tensor } from '../src/index.js';

/** `t.grad` read through a call, so TypeScript does not narrow it to null after `t.grad = null`. */
const gradValues = (t: Tensor): unknown => t.grad?.toArray() ?? null;

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GradFlowError) return e.code;
    throw e;
  }
  throw new Error('expected a GradFlowError, nothing was thrown');
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GradFlowError) return e.message;
    throw e;
  }
  throw new Error('expected a GradFlowError, nothing was thrown');
}

// Reading .grad of a non-leaf warns (once); the seeds do it on purpose, so keep the output quiet.
beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('seed 000: stopping gradient flow (detach, requiresGrad, noGrad)', () => {
  // y = x², z = 2y, w = z³ at x = 1: dw/dx = 3z²·2·2x = 48; the branch pq = z·q adds q·2·2x = 8.
  const forward = (): { x: Tensor; z: Tensor; w: Tensor } => {
    const x = tensor([1.0], { requiresGrad: true });
    const y = x.pow(2);
    const z = y.mul(2);
    const w = z.pow(3);
    return { x, z, w };
  };

  it('without detach both branches reach x: x.grad = [56]', () => {
    const { x, z, w } = forward();
    const p = z;
    const q = tensor([2.0], { requiresGrad: true });
    const pq = p.mul(q);
    pq.backward(undefined, { retainGraph: true });
    w.backward();
    expect(x.grad?.toArray()).toEqual([56]);
  });

  it('with p = z.detach() only w reaches x: x.grad = [48]', () => {
    const { x, z, w } = forward();
    const p = z.detach();
    const q = tensor([2.0], { requiresGrad: true });
    const pq = p.mul(q);
    pq.backward(undefined, { retainGraph: true });
    w.backward();
    expect(x.grad?.toArray()).toEqual([48]);
    expect(q.grad?.toArray()).toEqual([2]); // d(pq)/dq = p = z = 2·1²
  });

  it('GAN step (Linear G and D): D\'s loss on fake.detach() leaves G without gradient; G\'s loss reaches both', () => {
    manualSeed(2);
    const netG = new nn.Linear(3, 4);
    const netD = new nn.Linear(4, 1);
    const realA = randn([2, 3]);
    const realB = randn([2, 4]);
    const fakeB = netG.forward(realA);
    // backward_D: the fake is detached, so only D learns from it.
    const lossD = netD.forward(fakeB.detach()).mean().add(netD.forward(realB).mean().neg()).mul(0.5);
    lossD.backward();
    expect(netG.weight.grad).toBeNull();
    expect(netG.bias?.grad).toBeNull();
    expect(netD.weight.grad).not.toBeNull();
    // backward_G: no detach, the gradient flows through D into G.
    const dGradAfterD = netD.weight.grad?.toArray();
    const lossG = netD.forward(fakeB).mean().neg().add(nn.functional.l1Loss(fakeB, realB));
    lossG.backward();
    expect(netG.weight.grad).not.toBeNull();
    // D's grad accumulated G's loss on top: why the article zeroes optimizer_D before D's step.
    expect(netD.weight.grad?.toArray()).not.toEqual(dGradAfterD);
  });

  const fourLayers = (): nn.Linear[] => [new nn.Linear(2, 2), new nn.Linear(2, 2), new nn.Linear(2, 2), new nn.Linear(2, 2)];

  it('detach after lin1: lin0 and lin1 get no gradient, lin2 and lin3 do (lin3 rows equal)', () => {
    const x = randn([2, 2]);
    x.requiresGrad = true;
    const [lin0, lin1, lin2, lin3] = fourLayers();
    const x1 = lin0.forward(x);
    let x2 = lin1.forward(x1);
    x2 = x2.detach();
    const x3 = lin2.forward(x2);
    const x4 = lin3.forward(x3);
    x4.sum().backward();
    expect(lin0.weight.grad).toBeNull();
    expect(lin1.weight.grad).toBeNull();
    expect(lin2.weight.grad).not.toBeNull();
    // sum() seeds ones, so every output row of lin3 sees the same gradient: rows are equal,
    // as in the seed's [[0.5509, -0.0386], [0.5509, -0.0386]].
    const g3 = lin3.weight.grad?.toArray() as number[][];
    expect(g3[0]).toEqual(g3[1]);
    // d/dW3 of Σ(x3 W3ᵀ + b3) is ones(2)ᵀ·x3 = the column sums of x3 in every row.
    const colSums = x3.sum(0).toArray() as number[];
    g3[0].forEach((g, j) => expect(g).toBeCloseTo(colSums[j], 5));
  });

  it('requiresGrad = false on lin2: gradient still flows through it to lin0 and lin1', () => {
    const x = randn([2, 2]);
    x.requiresGrad = true;
    const [lin0, lin1, lin2, lin3] = fourLayers();
    const x1 = lin0.forward(x);
    const x2 = lin1.forward(x1);
    for (const p of lin2.parameters()) p.requiresGrad = false;
    const x3 = lin2.forward(x2);
    const x4 = lin3.forward(x3);
    x4.sum().backward();
    expect(lin0.weight.grad).not.toBeNull();
    expect(lin1.weight.grad).not.toBeNull();
    expect(lin2.weight.grad).toBeNull();
    const g3 = lin3.weight.grad?.toArray() as number[][];
    expect(g3[0]).toEqual(g3[1]);
  });

  it('noGrad around lin1: lin0 and lin1 get nothing, x2.requiresGrad is false while lin1.weight.requiresGrad stays true', () => {
    const x = randn([2, 2]);
    x.requiresGrad = true;
    const [lin0, lin1, lin2, lin3] = fourLayers();
    const x1 = lin0.forward(x);
    const x2 = noGrad(() => lin1.forward(x1));
    const x3 = lin2.forward(x2);
    const x4 = lin3.forward(x3);
    x4.sum().backward();
    expect(lin0.weight.grad).toBeNull();
    expect(lin1.weight.grad).toBeNull();
    expect(lin2.weight.grad).not.toBeNull();
    expect(lin3.weight.grad).not.toBeNull();
    expect(lin1.weight.requiresGrad).toBe(true);
    expect(x2.requiresGrad).toBe(false);
  });

  it('noGrad makes only the results computed inside it not require grad: True True True False', () => {
    const x = randn([3], { requiresGrad: true });
    const x1 = x.pow(2);
    expect(x.requiresGrad).toBe(true);
    expect(x1.requiresGrad).toBe(true);
    noGrad(() => {
      const x2 = x.pow(2);
      expect(x1.requiresGrad).toBe(true);
      expect(x2.requiresGrad).toBe(false);
    });
  });

  it('an optimizer given only some parameters (or lr 0 for a group) leaves the others unchanged', () => {
    const model1 = new nn.Linear(3, 3);
    const fc = new nn.Linear(3, 2);
    const before = model1.weight.toArray();
    const fcBefore = fc.weight.toArray();
    const opt = new optim.SGD([{ params: model1.parameters(), lr: 0 }, { params: fc.parameters() }], { lr: 1e-2, momentum: 0.9 });
    fc.forward(model1.forward(ones([4, 3]))).sum().backward();
    opt.step();
    expect(model1.weight.toArray()).toEqual(before);
    expect(fc.weight.toArray()).not.toEqual(fcBefore);
  });
});

describe('seed 001: requiresGrad, detach and noGrad compared', () => {
  it('tensors do not require grad by default', () => {
    expect(tensor([1.0, 2.0]).requiresGrad).toBe(false);
  });

  it('y1 = 2x + 2y: y1 = [8, 12] requires grad, x.grad = [2, 2], y.grad = null', () => {
    const x = tensor([1.0, 2.0], { requiresGrad: true });
    const y = tensor([3.0, 4.0], { requiresGrad: false });
    const y1 = x.mul(2.0).add(y.mul(2.0));
    expect([x.requiresGrad, y.requiresGrad, y1.requiresGrad]).toEqual([true, false, true]);
    expect(y1.toArray()).toEqual([8, 12]);
    expect(y1.gradFn?.name).toBe('AddBackward');
    y1.backward(tensor([1.0, 1.0]));
    expect(x.grad?.toArray()).toEqual([2, 2]);
    expect(y.grad).toBeNull();
  });

  it('frozen before the optimizer and filtered out, or frozen after it: either way the layer does not move', () => {
    manualSeed(1); // fixed data and init: the unfrozen bias must get a non-zero gradient
    const make = (): nn.Sequential => new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    const x = randn([5, 3]);
    const labels = tensor([0, 1, 1, 0, 1], { dtype: 'int32' });

    const before = make();
    for (const [name, p] of before.namedParameters()) if (name === '0.weight') p.requiresGrad = false;
    const filtered = new optim.Adam(before.parameters().filter((p) => p.requiresGrad), { lr: 0.1 });
    expect(filtered.paramGroups[0].params.length).toBe(3);

    const after = make();
    const all = new optim.Adam(after.parameters(), { lr: 0.1 });
    (after.at(0) as nn.Linear).weight.requiresGrad = false;
    expect(all.paramGroups[0].params.length).toBe(4);

    for (const [model, opt] of [[before, filtered], [after, all]] as const) {
      const frozen = (model.at(0) as nn.Linear).weight;
      const w0 = frozen.toArray();
      const b0 = (model.at(0) as nn.Linear).bias?.toArray();
      nn.functional.crossEntropy(model.forward(x), labels).backward();
      opt.step();
      expect(frozen.grad).toBeNull();
      expect(frozen.toArray()).toEqual(w0);
      expect((model.at(0) as nn.Linear).bias?.toArray()).not.toEqual(b0);
    }
  });

  it('backward on a tensor that does not require grad fails (NO_GRAD_FN)', () => {
    const y = tensor([3.0, 4.0], { requiresGrad: false });
    expect(codeOf(() => { y.backward(tensor([1.0, 1.0])); })).toBe('NO_GRAD_FN');
    expect(messageOf(() => { y.backward(tensor([1.0, 1.0])); })).toMatch(/does not require grad/);
  });

  it('integer tensors cannot require grad (DTYPE_REQUIRES_GRAD); int + float promotes', () => {
    const a = tensor([1, 2], { dtype: 'int32' });
    expect(codeOf(() => tensor([3, 4], { dtype: 'int32', requiresGrad: true }))).toBe('DTYPE_REQUIRES_GRAD');
    const b = tensor([3, 4], { requiresGrad: true });
    const c = a.add(b);
    expect([a.requiresGrad, c.requiresGrad, c.dtype]).toEqual([false, true, 'float32']);
  });

  it('detach cuts the graph: x (non-leaf) and z get no grad, y.grad = [2, 2], z1 does not require grad', () => {
    let x = tensor([1.0, 2.0], { requiresGrad: true });
    const y = tensor([3.0, 4.0], { requiresGrad: true });
    const z = tensor([3.0, 2.0], { requiresGrad: true });
    x = x.mul(2);
    const z1 = z.detach();
    const x1 = x.detach();
    const y1 = x1.mul(2.0).add(y.mul(2.0)).add(z1.mul(3));
    y1.backward(tensor([1.0, 1.0]));
    expect(x.requiresGrad).toBe(true);
    expect(x.grad).toBeNull(); // a non-leaf: PyTorch warns and returns None
    expect(y.requiresGrad).toBe(true);
    expect(y.grad?.toArray()).toEqual([2, 2]);
    expect(z.requiresGrad).toBe(true);
    expect(z.grad).toBeNull();
    expect(z1.requiresGrad).toBe(false);
    expect(z1.grad).toBeNull();
  });

  it('detach shares memory: z1[0] = 5 changes z to [5, 2]', () => {
    const z = tensor([3.0, 2.0], { requiresGrad: true });
    const z1 = z.detach();
    z1.setItem_(0, 5.0);
    expect(z.toArray()).toEqual([5, 2]);
    expect(z1.toArray()).toEqual([5, 2]);
  });

  it('z2 = z.detach() + y; sum(3·z2).backward(): z2 = [6, 6], y.grad = [3, 3], z2.grad and z1.grad null', () => {
    const y = tensor([3.0, 4.0], { requiresGrad: true });
    const z = tensor([3.0, 2.0], { requiresGrad: true });
    const z1 = z.detach();
    const z2 = z1.add(y);
    const y1 = z2.mul(3).sum();
    y1.backward();
    expect(z2.toArray()).toEqual([6, 6]);
    expect(z2.requiresGrad).toBe(true);
    expect(y.grad?.toArray()).toEqual([3, 3]);
    expect(z2.grad).toBeNull();
    expect(z1.grad).toBeNull();
    expect(z.grad).toBeNull();
  });

  const noGradExample = (cut: 'noGrad' | 'detach'): void => {
    const x = tensor([1.0, 2.0], { requiresGrad: true });
    const y1 = x.pow(2);
    let y2: Tensor, y3: Tensor;
    if (cut === 'noGrad') {
      [y2, y3] = noGrad(() => [y1.mul(2), x.pow(5)]);
    } else {
      y2 = y1.mul(2).detach();
      y3 = x.pow(5).detach();
    }
    const y4 = y1.add(y2).add(y3);
    expect([y1.toArray(), y1.requiresGrad]).toEqual([[1, 4], true]);
    expect([y2.toArray(), y2.requiresGrad]).toEqual([[2, 8], false]);
    expect([y3.toArray(), y3.requiresGrad]).toEqual([[1, 32], false]);
    expect([y4.toArray(), y4.requiresGrad]).toEqual([[4, 44], true]);
    y4.backward(ones(y4.shape));
    expect(x.grad?.toArray()).toEqual([2, 4]);
  };
  it('noGrad around y2 = 2y1 and y3 = x⁵: y4 = [4, 44], x.grad = [2, 4]', () => { noGradExample('noGrad'); });
  it('the same with detach() instead of noGrad gives the same numbers', () => { noGradExample('detach'); });
});

describe('seed 002: detach does not stop a stateful optimizer (zeroGrad vs setToNone)', () => {
  // Reproduced in optimizer-zero-grad.test.ts with the article's two-layer TestDetach model and
  // every optimizer it names; here the article's core claim on one parameter.
  it('Adam(lr=1, weight_decay=0.5) keeps moving a parameter whose grad was zero-filled', () => {
    const w = tensor([1.0, -2.0], { requiresGrad: true });
    const opt = new optim.Adam([w], { lr: 1, weightDecay: 0.5 });
    w.mul(3).sum().backward();
    opt.step();
    opt.zeroGrad();
    expect(w.grad?.toArray()).toEqual([0, 0]);
    const before = w.toArray();
    opt.step();
    expect(w.toArray()).not.toEqual(before);
  });
});

describe('seed 003: the autograd mechanism', () => {
  it('a model (Sequential of Linear instead of Conv2d) names 0.weight 0.bias 1.weight 1.bias, all requiring grad', () => {
    const input = randn([8, 3]);
    expect(input.requiresGrad).toBe(false);
    const net = new nn.Sequential(new nn.Linear(3, 16), new nn.Linear(16, 32));
    expect(net.namedParameters().map(([n, p]) => [n, p.requiresGrad])).toEqual([
      ['0.weight', true], ['0.bias', true], ['1.weight', true], ['1.bias', true],
    ]);
    expect(net.forward(input).requiresGrad).toBe(true);
  });

  it('with every parameter frozen the output does not require grad', () => {
    const input = randn([8, 3]);
    const net = new nn.Sequential(new nn.Linear(3, 16), new nn.Linear(16, 32));
    for (const [, p] of net.namedParameters()) p.requiresGrad = false;
    expect(net.namedParameters().map(([, p]) => p.requiresGrad)).toEqual([false, false, false, false]);
    expect(net.forward(input).requiresGrad).toBe(false);
  });

  it('(x ** 2).requiresGrad is True, False under noGrad, True again after', () => {
    const x = randn([3], { requiresGrad: true });
    expect(x.requiresGrad).toBe(true);
    expect(x.pow(2).requiresGrad).toBe(true);
    noGrad(() => { expect(x.pow(2).requiresGrad).toBe(false); });
    expect(x.pow(2).requiresGrad).toBe(true);
  });

  const graph = (): Record<'w1' | 'w2' | 'w3' | 'l1' | 'l2' | 'l3' | 'l4' | 'loss', Tensor> => {
    const input = ones([2, 2], { requiresGrad: false });
    const w1 = tensor(2.0, { requiresGrad: true });
    const w2 = tensor(3.0, { requiresGrad: true });
    const w3 = tensor(4.0, { requiresGrad: true });
    const l1 = input.mul(w1);
    const l2 = l1.add(w2);
    const l3 = l1.mul(w3);
    const l4 = l2.mul(l3);
    const loss = l4.mean();
    return { w1, w2, w3, l1, l2, l3, l4, loss };
  };

  it('w1 = 2, no grad and no gradFn; l1 = [[2, 2], [2, 2]] from MulBackward; loss = 40 from MeanBackward', () => {
    const { w1, l1, loss } = graph();
    expect([w1.item(), w1.grad, w1.gradFn, w1.isLeaf]).toEqual([2, null, null, true]);
    expect(l1.toArray()).toEqual([[2, 2], [2, 2]]);
    expect(l1.grad).toBeNull();
    expect(l1.gradFn?.name).toBe('MulBackward');
    expect(l1.isLeaf).toBe(false);
    expect(loss.item()).toBe(40);
    expect(loss.gradFn?.name).toBe('MeanBackward');
  });

  it('retainGrad keeps loss.grad = 1, l4.grad = 0.25 everywhere, l1.grad = 7 everywhere', () => {
    const { w1, w2, w3, l1, l4, loss } = graph();
    l1.retainGrad();
    l4.retainGrad();
    loss.retainGrad();
    loss.backward();
    expect(loss.grad?.item()).toBe(1);
    expect(l4.grad?.toArray()).toEqual([[0.25, 0.25], [0.25, 0.25]]);
    expect(l1.grad?.toArray()).toEqual([[7, 7], [7, 7]]);
    // Leaves, by hand: dl/dw1 = Σ 7·input = 28, dl/dw2 = Σ ¼·l3 = 8, dl/dw3 = Σ ¼·l2·l1 = 10.
    expect([w1.grad?.item(), w2.grad?.item(), w3.grad?.item()]).toEqual([28, 8, 10]);
  });

  it('b = a + 2 is at version 0; b[0] = 1000 bumps it to 1 and backward fails (SAVED_TENSOR_MODIFIED)', () => {
    const a = tensor([1.0, 3.0], { requiresGrad: true });
    const b = a.add(2);
    expect(b.version).toBe(0);
    const loss = b.mul(b).mean();
    b.setItem_(0, 1000.0);
    expect(b.version).toBe(1);
    const msg = messageOf(() => { loss.backward(); });
    expect(msg).toMatch(/SAVED_TENSOR_MODIFIED/);
    expect(msg).toMatch(/is at version 1; expected version 0/);
  });

  it('an op whose backward does not need the modified tensor does not complain (y = x + 1)', () => {
    const a = tensor([1.0, 3.0], { requiresGrad: true });
    const b = a.add(2);
    const y = b.add(1).sum();
    b.setItem_(0, 1000.0);
    y.backward();
    expect(a.grad?.toArray()).toEqual([1, 1]);
  });

  it('a leaf that requires grad refuses in-place ops at once: a.add_(10) and a[:] = 0 (LEAF_INPLACE)', () => {
    const a = tensor([10.0, 5.0, 2.0, 3.0], { requiresGrad: true });
    expect(a.isLeaf).toBe(true);
    expect(codeOf(() => a.add_(10.0))).toBe('LEAF_INPLACE');
    // The seed's PyTorch (pre-1.5) turned `a[:] = 0` into a CopySlices non-leaf; current PyTorch
    // refuses it ("a view of a leaf Variable ... in-place"), and so do we.
    expect(codeOf(() => a.setItem_([], 0))).toBe('LEAF_INPLACE');
    expect(codeOf(() => a.fill_(0))).toBe('LEAF_INPLACE');
    expect(a.toArray()).toEqual([10, 5, 2, 3]);
    expect(a.version).toBe(0);
  });

  it('method 1: a.detach().fill_(10) keeps a a leaf; mean(a·a) gives a.grad = [5, 5, 5, 5]', () => {
    const a = tensor([10.0, 5.0, 2.0, 3.0], { requiresGrad: true });
    a.detach().fill_(10.0);
    expect(a.toArray()).toEqual([10, 10, 10, 10]);
    expect(a.isLeaf).toBe(true);
    a.mul(a).mean().backward();
    expect(a.grad?.toArray()).toEqual([5, 5, 5, 5]);
  });

  it('method 2: a[:] = 10 under noGrad keeps a a leaf; a.grad = [5, 5, 5, 5]', () => {
    const a = tensor([10.0, 5.0, 2.0, 3.0], { requiresGrad: true });
    noGrad(() => a.setItem_([], 10.0));
    expect(a.toArray()).toEqual([10, 10, 10, 10]);
    expect(a.isLeaf).toBe(true);
    expect(a.requiresGrad).toBe(true);
    a.mul(a).mean().backward();
    expect(a.grad?.toArray()).toEqual([5, 5, 5, 5]);
  });
});

describe('seed 004: intermediate gradients, version counters, retaining the graph', () => {
  // torch.tensor([1,2,3]) is int64; our integer dtype is int32 (same truncation of 0.1 to 0).
  it('C = A·B, D = ΣC: C.grad is null after backward; autograd.grad(D, C) = [1, 1, 1]', () => {
    const A = tensor([1, 2, 3], { dtype: 'int32' });
    const B = tensor([2, 3, 4.0], { requiresGrad: true });
    const C = A.mul(B);
    const D = C.sum();
    const [cGrad] = autograd.grad(D, C, { retainGraph: true });
    expect(cGrad?.toArray()).toEqual([1, 1, 1]);
    D.backward();
    expect(C.grad).toBeNull();
    expect(B.grad?.toArray()).toEqual([1, 2, 3]);
  });

  it('A[0] = .1 after C = A·B + B: backward fails, naming the int32 [3] tensor at version 1, expected 0', () => {
    const A = tensor([1, 2, 3], { dtype: 'int32' });
    const B = tensor([2, 3, 4.0], { requiresGrad: true });
    const C = A.mul(B).add(B);
    const D = C.sum();
    A.setItem_(0, 0.1);
    const err = (() => {
      try {
        D.backward();
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(GradFlowError);
    expect((err as GradFlowError).code).toBe('SAVED_TENSOR_MODIFIED');
    expect((err as GradFlowError).message).toContain('int32 [3]');
    expect((err as GradFlowError).message).toContain('is at version 1; expected version 0');
  });

  it('A[0] = .1 before use truncates to 0 and "silently" gives B.grad = [1, 3, 4]', () => {
    const A = tensor([1, 2, 3], { dtype: 'int32' });
    A.setItem_(0, 0.1);
    expect(A.toArray()).toEqual([0, 2, 3]);
    const B = tensor([2, 3, 4.0], { requiresGrad: true });
    const C = A.mul(B).add(B);
    const D = C.sum();
    D.backward();
    expect(B.grad?.toArray()).toEqual([1, 3, 4]);
  });

  const build = (): { B: Tensor; C: Tensor; D: Tensor; A: Tensor } => {
    const A = tensor([1, 2, 3], { dtype: 'int32' });
    A.setItem_(0, 0.1);
    const B = tensor([2, 3, 4.0], { requiresGrad: true });
    const C = A.mul(B).add(B);
    return { A, B, C, D: C.sum() };
  };

  it('a second backward through the freed graph fails (GRAPH_FREED) and says to pass retainGraph', () => {
    const { B, C, D } = build();
    D.backward();
    expect(B.grad?.toArray()).toEqual([1, 3, 4]);
    B.grad = null;
    C.grad = null;
    const msg = messageOf(() => { D.backward(); });
    expect(msg).toMatch(/GRAPH_FREED/);
    expect(msg).toMatch(/retainGraph: true/);
  });

  it('retainGraph: true on the first backward allows a second one, which accumulates: [1, 3, 4] then [2, 6, 8]', () => {
    const { B, D } = build();
    D.backward(undefined, { retainGraph: true });
    expect(B.grad?.toArray()).toEqual([1, 3, 4]);
    D.backward();
    expect(B.grad?.toArray()).toEqual([2, 6, 8]);
  });

  it('retainGraph, then clearing B.grad, gives [1, 3, 4] twice (the seed\'s first option)', () => {
    const { B, D } = build();
    D.backward(undefined, { retainGraph: true });
    expect(B.grad?.toArray()).toEqual([1, 3, 4]);
    B.grad = null;
    D.backward();
    expect(gradValues(B)).toEqual([1, 3, 4]);
  });

  it('rebuilding the graph and clearing B.grad gives [1, 3, 4] again (the seed\'s second option)', () => {
    const { A, B, D } = build();
    D.backward();
    const C2 = A.mul(B).add(B);
    const D2 = C2.sum();
    B.grad = null;
    D2.backward();
    expect(gradValues(B)).toEqual([1, 3, 4]);
  });

  it('freezing a pretrained model and replacing the classifier (Linear for mobilenet): only the classifier moves', () => {
    const features = new nn.Sequential(new nn.Linear(6, 5), new nn.ReLU(), new nn.Linear(5, 4));
    const model = new (class extends nn.Module {
      features = features;
      classifier: nn.Module = new nn.Linear(4, 3);
      forward(x: Tensor): Tensor {
        return this.classifier.forward(this.features.forward(x));
      }
    })();
    for (const p of model.parameters()) p.requiresGrad = false;
    model.classifier = new nn.Linear(4, 2);
    const opt = new optim.SGD(model.parameters(), { lr: 1e-2, momentum: 0.9 });
    const featBefore = features.parameters().map((p) => p.toArray());
    const clsBefore = model.classifier.parameters().map((p) => p.toArray());
    const y = model.forward(randn([4, 6]));
    const loss = nn.functional.crossEntropy(y, tensor([0, 1, 1, 0], { dtype: 'int32' }));
    loss.backward();
    opt.step();
    expect(features.parameters().map((p) => p.grad)).toEqual([null, null, null, null]);
    expect(features.parameters().map((p) => p.toArray())).toEqual(featBefore);
    expect(model.classifier.parameters().map((p) => p.toArray())).not.toEqual(clsBefore);
  });

  it('D.requiresGrad is true before noGrad and false when recomputed under it', () => {
    const A = tensor([1, 2, 3], { dtype: 'int32' });
    const B = tensor([2, 3, 4.0], { requiresGrad: true });
    const D = A.mul(B).add(B).sum();
    expect(D.requiresGrad).toBe(true);
    const D2 = noGrad(() => A.mul(B).add(B).sum());
    expect(D2.requiresGrad).toBe(false);
  });
});
