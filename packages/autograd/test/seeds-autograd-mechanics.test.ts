/**
 * The autograd mechanism, intermediate gradients, version counters and retaining the graph, after
 * two public PyTorch articles (the "seeds"), with the numbers PyTorch printed there:
 * - seed 003: _yanghh, "PyTorch的Autograd机制" (PyTorch's autograd mechanism), cnblogs, 2022-10-12;
 * - seed 004: "(1) Get Gradients of the Intermediate Variables, (2) Cannot Modify Variables Needed for
 *   Gradient Computation by An Inplace Operation, (3) Need Retaining Compute Graph to Call Backward
 *   Method A Second Time, (4) Set requires_grad = False".
 * Examples with layers we lack (Conv2d, mobilenet) use nn.Linear instead.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { autograd, GradFlowError, nn, noGrad, ones, optim, randn, tensor, type Tensor } from '../src/index.js';
import { codeOf, messageOf } from './expect-error.js';

/** `t.grad` read through a call, so TypeScript does not narrow it to null after `t.grad = null`. */
const gradValues = (t: Tensor): unknown => t.grad?.toArray() ?? null;

// Reading .grad of a non-leaf warns (once); the seeds do it on purpose, so keep the output quiet.
beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('seed 003: the autograd mechanism', () => {
  it('a model (Sequential of Linear instead of Conv2d) names 0.weight 0.bias 1.weight 1.bias, all requiring grad', () => {
    const input = randn([8, 3]);
    expect(input.requiresGrad).toBe(false);
    const net = new nn.Sequential(new nn.Linear(3, 16), new nn.Linear(16, 32));
    expect(net.namedParameters().map(([n, p]) => [n, p.requiresGrad])).toEqual([
      ['0.weight', true],
      ['0.bias', true],
      ['1.weight', true],
      ['1.bias', true],
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
    noGrad(() => {
      expect(x.pow(2).requiresGrad).toBe(false);
    });
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
    expect(l1.toArray()).toEqual([
      [2, 2],
      [2, 2],
    ]);
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
    expect(l4.grad?.toArray()).toEqual([
      [0.25, 0.25],
      [0.25, 0.25],
    ]);
    expect(l1.grad?.toArray()).toEqual([
      [7, 7],
      [7, 7],
    ]);
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
    const msg = messageOf(() => {
      loss.backward();
    });
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
    const msg = messageOf(() => {
      D.backward();
    });
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

  it("retainGraph, then clearing B.grad, gives [1, 3, 4] twice (the seed's first option)", () => {
    const { B, D } = build();
    D.backward(undefined, { retainGraph: true });
    expect(B.grad?.toArray()).toEqual([1, 3, 4]);
    B.grad = null;
    D.backward();
    expect(gradValues(B)).toEqual([1, 3, 4]);
  });

  it("rebuilding the graph and clearing B.grad gives [1, 3, 4] again (the seed's second option)", () => {
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
