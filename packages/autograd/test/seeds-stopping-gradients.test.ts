/**
 * Stopping gradient flow with detach, requiresGrad and noGrad, after three public PyTorch articles
 * (the "seeds"), with the numbers PyTorch printed there:
 * - seed 000: FesianXu, "在pytorch中停止梯度流的若干办法，避免不必要模块的参数更新" (ways to stop gradient
 *   flow in PyTorch so that modules that must not train are not updated), 2020-04-11, PyTorch 1.4;
 * - seed 001: "pytorch网络冻结的三种方法区别: detach、requires_grad、with_no_grad" (three ways to freeze
 *   a network compared);
 * - seed 002: 惠会绘, "关于pytorch中使用detach并不能阻止参数更新这档子事儿" (detach does not stop a
 *   parameter update), https://zhuanlan.zhihu.com/p/344916574, reposted by 极市平台 2022-02-03.
 * Examples built on random data keep their deterministic part (which grads are None, which rows are equal).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { manualSeed, nn, noGrad, ones, optim, randn, tensor, type Tensor } from '../src/index.js';
import { codeOf, messageOf } from './expect-error.js';

/** The `Linear` at `index` of a Sequential (the test fails if it is another module). */
function linearAt(model: nn.Sequential, index: number): nn.Linear {
  const layer = model.at(index);
  if (!(layer instanceof nn.Linear)) throw new Error(`layer ${String(index)} is not a Linear`);
  return layer;
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

  it("GAN step (Linear G and D): D's loss on fake.detach() leaves G without gradient; G's loss reaches both", () => {
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
    g3[0].forEach((g, j) => {
      expect(g).toBeCloseTo(colSums[j], 5);
    });
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
    fc.forward(model1.forward(ones([4, 3])))
      .sum()
      .backward();
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
    const filtered = new optim.Adam(
      before.parameters().filter((p) => p.requiresGrad),
      { lr: 0.1 },
    );
    expect(filtered.paramGroups[0].params.length).toBe(3);

    const after = make();
    const all = new optim.Adam(after.parameters(), { lr: 0.1 });
    linearAt(after, 0).weight.requiresGrad = false;
    expect(all.paramGroups[0].params.length).toBe(4);

    for (const [model, opt] of [
      [before, filtered],
      [after, all],
    ] as const) {
      const frozen = linearAt(model, 0).weight;
      const w0 = frozen.toArray();
      const b0 = linearAt(model, 0).bias?.toArray();
      nn.functional.crossEntropy(model.forward(x), labels).backward();
      opt.step();
      expect(frozen.grad).toBeNull();
      expect(frozen.toArray()).toEqual(w0);
      expect(linearAt(model, 0).bias?.toArray()).not.toEqual(b0);
    }
  });

  it('backward on a tensor that does not require grad fails (NO_GRAD_FN)', () => {
    const y = tensor([3.0, 4.0], { requiresGrad: false });
    expect(
      codeOf(() => {
        y.backward(tensor([1.0, 1.0]));
      }),
    ).toBe('NO_GRAD_FN');
    expect(
      messageOf(() => {
        y.backward(tensor([1.0, 1.0]));
      }),
    ).toMatch(/does not require grad/);
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
  it('noGrad around y2 = 2y1 and y3 = x⁵: y4 = [4, 44], x.grad = [2, 4]', () => {
    noGradExample('noGrad');
  });
  it('the same with detach() instead of noGrad gives the same numbers', () => {
    noGradExample('detach');
  });
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
