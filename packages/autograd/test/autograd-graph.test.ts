/** PyTorch's autograd rules, part 2: grad mode, backward() arguments, .grad aliasing, autograd.grad, graph order. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { autograd, enableGrad, isGradEnabled, noGrad, tensor, type Tensor } from '../src/index.js';
import { codeOf, errorOf } from './expect-error.js';

// Some tests read .grad of non-leaves on purpose; keep the one-time warning out of the output.
beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('grad mode: noGrad, enableGrad, isGradEnabled', () => {
  it("noGrad returns the callback's value and records nothing", () => {
    const x = tensor([1], { requiresGrad: true });
    const y = noGrad(() => x.mul(2));
    expect(y.toArray()).toEqual([2]);
    expect([y.requiresGrad, y.gradFn, y.isLeaf]).toEqual([false, null, true]);
  });

  it('nests: enableGrad inside noGrad records again; the outer mode comes back after each', () => {
    const x = tensor([1], { requiresGrad: true });
    expect(isGradEnabled()).toBe(true);
    const seen: boolean[] = [];
    noGrad(() => {
      seen.push(isGradEnabled());
      const y = enableGrad(() => {
        seen.push(isGradEnabled());
        noGrad(() => seen.push(isGradEnabled()));
        seen.push(isGradEnabled());
        return x.mul(2);
      });
      expect(y.requiresGrad).toBe(true);
      seen.push(isGradEnabled());
    });
    seen.push(isGradEnabled());
    expect(seen).toEqual([false, true, false, true, false, true]);
  });

  it('restores the mode when the callback throws', () => {
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    noGrad(() => {
      expect(() =>
        enableGrad(() => {
          throw new Error('boom');
        }),
      ).toThrow('boom');
      expect(isGradEnabled()).toBe(false);
    });
    expect(isGradEnabled()).toBe(true);
  });

  it('rejects async callbacks and Promise-returning callbacks (ASYNC_NO_GRAD), restoring the mode', async () => {
    const asyncFn = async (): Promise<number> => Promise.resolve(1);
    const err = errorOf(() => noGrad(asyncFn));
    expect(err.code).toBe('ASYNC_NO_GRAD');
    expect(err.message).toMatch(/await/);
    expect(isGradEnabled()).toBe(true);
    expect(codeOf(() => enableGrad(asyncFn))).toBe('ASYNC_NO_GRAD');
    let promise: Promise<number> | undefined;
    expect(codeOf(() => noGrad(() => (promise = Promise.resolve(2))))).toBe('ASYNC_NO_GRAD');
    expect(isGradEnabled()).toBe(true);
    await promise;
    expect(isGradEnabled()).toBe(true);
  });

  it('refuses a non-function (INVALID_ARGUMENT)', () => {
    expect(codeOf(() => noGrad(3 as unknown as () => number))).toBe('INVALID_ARGUMENT');
  });

  it('backward() on a result computed under noGrad throws NO_GRAD_FN', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const loss = noGrad(() => x.mul(2).sum());
    const err = errorOf(() => {
      loss.backward();
    });
    expect(err.code).toBe('NO_GRAD_FN');
    expect(err.message).toContain('noGrad');
  });

  it('backward() called inside noGrad still computes gradients (as in PyTorch)', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const loss = x.mul(2).sum();
    noGrad(() => {
      loss.backward();
    });
    expect(x.grad?.toArray()).toEqual([2, 2]);
  });
});

describe('backward() arguments', () => {
  it('a non-scalar output needs an explicit gradient of its shape (SHAPE_MISMATCH otherwise)', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    const err = errorOf(() => {
      y.backward();
    });
    expect(err.code).toBe('SHAPE_MISMATCH');
    expect(err.message).toContain('[2]');
    expect(
      codeOf(() => {
        y.backward(tensor([1, 1, 1]));
      }),
    ).toBe('SHAPE_MISMATCH');
    y.backward(tensor([1, 10]));
    expect(x.grad?.toArray()).toEqual([2, 20]);
  });

  it('a [1]-shaped or 0-d output gets an implicit gradient of one', () => {
    const x = tensor([3], { requiresGrad: true });
    x.mul(x).backward();
    expect(x.grad?.toArray()).toEqual([6]);
  });

  it('backward(undefined, { retainGraph: true }) keeps saved tensors for a second backward', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const loss = x.mul(x).sum();
    loss.backward(undefined, { retainGraph: true });
    loss.backward();
    expect(x.grad?.toArray()).toEqual([4, 8]);
    expect(
      codeOf(() => {
        loss.backward();
      }),
    ).toBe('GRAPH_FREED');
  });

  it('a graph whose ops saved nothing can be backwarded twice without retainGraph (as in PyTorch)', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    // PyTorch's test_backward_twice_without_saved_values; add, neg, reshape and sum save nothing.
    const loss = x.add(1).neg().reshape([2, 1]).sum();
    loss.backward();
    loss.backward();
    expect(x.grad?.toArray()).toEqual([-2, -2]);
  });
});

describe('.grad tensors are never aliased', () => {
  it('with createGraph, two leaves fed the same gradient tensor (a + b) get separate .grad tensors', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    a.add(b).sum().backward(undefined, { createGraph: true });
    expect(a.grad).not.toBe(b.grad);
    a.mul(5).sum().backward();
    expect(a.grad?.toArray()).toEqual([6, 6]);
    expect(b.grad?.toArray()).toEqual([1, 1]);
  });

  it('the gradient passed to backward() is copied, not adopted, so later accumulation leaves it alone', () => {
    for (const createGraph of [false, true]) {
      const x = tensor([1, 2], { requiresGrad: true });
      const seed = tensor([1, 1]);
      x.backward(seed, { createGraph });
      x.mul(2).sum().backward();
      expect(seed.toArray()).toEqual([1, 1]);
      expect(x.grad?.toArray()).toEqual([3, 3]);
    }
  });
});

describe('autograd.grad', () => {
  it('returns gradients without touching .grad', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const [g] = autograd.grad(x.mul(x).sum(), x);
    expect(g?.toArray()).toEqual([2, 4]);
    expect(x.grad).toBeNull();
  });

  it('several inputs and outputs; gradOutputs weight the outputs', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = tensor([3, 4], { requiresGrad: true });
    const y1 = a.mul(b);
    const y2 = a.add(b);
    const [ga, gb] = autograd.grad([y1, y2], [a, b], { gradOutputs: [tensor([1, 10]), tensor([100, 1000])] });
    expect(ga?.toArray()).toEqual([3 + 100, 40 + 1000]);
    expect(gb?.toArray()).toEqual([1 + 100, 20 + 1000]);
  });

  it('a non-leaf input gets the total gradient flowing into it', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const h = x.mul(2);
    const out = h.mul(h).sum().add(h.sum());
    const [gh, gx] = autograd.grad(out, [h, x]);
    expect(gh?.toArray()).toEqual([5, 9]); // 2h + 1
    expect(gx?.toArray()).toEqual([10, 18]);
  });

  it('an unused input: INVALID_ARGUMENT, or null with allowUnused', () => {
    const x = tensor([1], { requiresGrad: true });
    const unused = tensor([1], { requiresGrad: true });
    const out = x.mul(2).sum();
    const err = errorOf(() => autograd.grad(out, [x, unused], { retainGraph: true }));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('allowUnused');
    const [gx, gu] = autograd.grad(out, [x, unused], { allowUnused: true });
    expect(gx?.toArray()).toEqual([2]);
    expect(gu).toBeNull();
  });

  it('an input that does not require grad, or an output computed without grad, is refused', () => {
    const x = tensor([1], { requiresGrad: true });
    expect(codeOf(() => autograd.grad(x.mul(2).sum(), tensor([1])))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => autograd.grad(tensor([1]).sum(), x))).toBe('NO_GRAD_FN');
  });

  it('frees the graph unless retainGraph', () => {
    const x = tensor([1], { requiresGrad: true });
    const out = x.mul(x).sum();
    autograd.grad(out, x);
    expect(codeOf(() => autograd.grad(out, x))).toBe('GRAPH_FREED');
  });
});

describe('graph traversal', () => {
  it('a 20 000-op chain backpropagates without overflowing the stack', () => {
    const x = tensor([1], { dtype: 'float64', requiresGrad: true });
    let y: Tensor = x;
    for (let i = 0; i < 20_000; i++) y = y.mul(0.9999).add(0.5);
    y.sum().backward();
    let expected = 1;
    for (let i = 0; i < 20_000; i++) expected *= 0.9999;
    expect(x.grad?.item()).toBeCloseTo(expected, 10);
  });

  it('a diamond sums both branches into the shared node, which runs once (its saved tensor is freed after)', () => {
    const x = tensor([0.5, -1], { dtype: 'float64', requiresGrad: true });
    const y = x.exp(); // saves its result: a second run of ExpBackward would hit GRAPH_FREED
    let long: Tensor = y;
    for (let i = 0; i < 5; i++) long = long.mul(2).add(1);
    const out = long.add(y.mul(y)).sum();
    out.backward();
    // d/dy = 32 + 2y; dy/dx = y
    const ex = [Math.exp(0.5), Math.exp(-1)];
    (x.grad?.toArray() as number[]).forEach((g, i) => {
      expect(g).toBeCloseTo((32 + 2 * ex[i]) * ex[i], 12);
    });
  });

  it('a tensor used twice by one op (x·x) gets both contributions', () => {
    const x = tensor([3], { requiresGrad: true });
    x.mul(x).backward();
    expect(x.grad?.toArray()).toEqual([6]);
  });

  it('a leaf reached along several paths accumulates once per backward, adding to an existing .grad', () => {
    const x = tensor([2], { requiresGrad: true });
    x.grad = tensor([100]);
    x.mul(3).add(x.mul(x)).add(x).backward();
    expect(x.grad.toArray()).toEqual([100 + 3 + 4 + 1]);
  });

  it('a node shared by a constant-weighted branch and a zero branch runs after both and sums them', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const frozen = tensor([5, 5]);
    const h = x.mul(2);
    const out = h.mul(frozen).add(h.mul(0)).sum();
    out.backward();
    expect(x.grad?.toArray()).toEqual([10, 10]);
  });
});
