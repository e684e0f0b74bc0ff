import { describe, expect, it } from 'vitest';
import { GradFlowError, noGrad, tensor } from '../src/index.js';

describe('engine smoke', () => {
  it('accumulates d(2x + 2y)/dx = 2 into the leaf and leaves y.grad null (seed 001)', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = tensor([3, 4]);
    const y1 = x.mul(2).add(y.mul(2));
    expect(y1.toArray()).toEqual([8, 12]);
    y1.backward(tensor([1, 1]));
    expect(x.grad?.toArray()).toEqual([2, 2]);
    expect(y.grad).toBeNull();
  });

  it('refuses in-place ops on a leaf that requires grad, except under noGrad', () => {
    const w = tensor([1, 2, 3], { requiresGrad: true });
    expect(() => w.add_(1)).toThrow(GradFlowError);
    noGrad(() => w.add_(1));
    expect(w.toArray()).toEqual([2, 3, 4]);
    expect(w.version).toBe(1);
  });
});
