/**
 * Float64 central-difference gradient checks of the second-wave ops: odd sizes, broadcasting,
 * negative dims, non-contiguous inputs, and second derivatives through the ops whose backward is
 * itself an op (slice ↔ sliceBackward, gather ↔ scatterAdd, where, maskedFill, cat).
 */
import { describe, expect, it } from 'vitest';
import { autograd, cat, stack, tensor, where, type Tensor } from '../src/index.js';
import { gradcheck, leaf } from './gradcheck.js';

const int = (data: number[] | number[][]): Tensor => tensor(data, { dtype: 'int32' });
const mask = (data: number[] | number[][]): Tensor => tensor(data, { dtype: 'float64' });

/** Second derivative check: gradcheck of x ↦ d/dx Σ f(x)·v computed with createGraph. */
function gradgradcheck(f: (x: Tensor) => Tensor, x: Tensor): void {
  gradcheck(
    (a) => {
      const y = f(a);
      const v = tensor(Float64Array.from({ length: y.numel() }, (_, i) => 0.7 + Math.cos(i))).reshape([...y.shape]);
      const [g] = autograd.grad(y.mul(v).sum().mul(y.sum()), [a], { createGraph: true });
      return g as Tensor;
    },
    [x],
  );
}

describe('views: permute, unsqueeze, squeeze, flatten, view, expand(-1)', () => {
  it('permute with negative dims, and of a transposed input', () => {
    gradcheck((a) => a.permute(2, 0, -2).mul(a.permute([2, 0, 1])), [leaf([3, 4, 5], 1)]);
    gradcheck((a) => a.transpose(0, 1).permute(1, 0).exp(), [leaf([3, 5], 2)]);
  });
  it('unsqueeze / squeeze / flatten / view chains, broadcasting after unsqueeze', () => {
    gradcheck((a, b) => a.unsqueeze(-1).mul(b), [leaf([3, 5], 3), leaf([7], 4)]);
    gradcheck((a) => a.squeeze().unsqueeze(0).flatten().view(5, -1).exp(), [leaf([3, 1, 5], 5)]);
    gradcheck((a) => a.flatten(1, -1).mul(a.view([3, 20])), [leaf([3, 4, 5], 6)]);
    gradcheck((a) => a.squeeze(-2).mul(2), [leaf([5, 1, 1], 7)]);
  });
  it('expand with -1 and a new leading dim', () => {
    gradcheck((a, b) => a.expand(2, -1, 7).mul(b), [leaf([3, 1], 8), leaf([2, 3, 7], 9)]);
  });
});

describe('slice, split, chunk, cat, stack', () => {
  it('slice with step, negative start/end and dims', () => {
    gradcheck((a) => a.slice(-1, 1, 10, 3).mul(a.slice(0, -2).sum(0).slice(0, 0, 3)), [leaf([5, 11], 10)]);
    gradcheck((a) => a.transpose(0, 1).slice(0, 2, null, 2), [leaf([4, 7], 11)]);
  });
  it('split into sizes and into pieces, chunk', () => {
    gradcheck(
      (a) => {
        const [p, q, r] = a.split([1, 4, 2], -1);
        return p.mul(r.sum(-1, true)).add(q.sum(-1, true));
      },
      [leaf([3, 7], 12)],
    );
    gradcheck(
      (a) => {
        const parts = a.chunk(3, 0); // 3, 3, 1 rows of 7
        expect(parts.map((t) => t.shape[0])).toEqual([3, 3, 1]);
        return parts[0].mul(parts[1]).add(parts[2]);
      },
      [leaf([7, 2], 13)],
    );
    gradcheck((a) => cat(a.split(2, 1).reverse(), 1), [leaf([3, 5], 14)]);
  });
  it('cat of different sizes (negative dim) and of a transposed view; stack along a new dim', () => {
    gradcheck((a, b, c) => cat([a, b.exp(), c.transpose(0, 1)], -1), [leaf([3, 2], 15), leaf([3, 1], 16), leaf([5, 3], 17)]);
    gradcheck((a, b) => stack([a, b, a], -1).mul(stack([b, a, b], 0).permute(1, 2, 0)), [leaf([3, 4], 18), leaf([3, 4], 19)]);
  });
  it('second derivatives through slice and cat', () => {
    gradgradcheck((a) => cat([a.slice(1, 0, 5, 2), a.slice(1, 1, 3)], 1).mul(a.slice(1, 0, 5)), leaf([3, 5], 20));
  });
});

describe('where, maskedFill, clamp, log1p', () => {
  const cond = mask([
    [1, 0, 1, 1, 0],
    [0, 0, 1, 0, 1],
    [1, 1, 0, 0, 0],
  ]);
  it('where with all three operands broadcast, and with a number', () => {
    gradcheck((a, b) => where(cond.reshape([3, 1, 5]), a, b), [leaf([4, 5], 21), leaf([3, 4, 1], 22)]);
    gradcheck((a) => where(cond, a, 2.5).mul(a), [leaf([3, 5], 23)]);
    gradgradcheck((a) => where(cond, a.mul(a), a.exp()), leaf([3, 5], 24));
  });
  it('maskedFill with a broadcast mask, and maskedFill_ on a non-leaf', () => {
    gradcheck((a) => a.maskedFill(mask([1, 0, 0, 1, 0]), -3), [leaf([3, 5], 25)]);
    gradcheck((a) => a.mul(2).maskedFill_(cond, 0.5).mul(a), [leaf([3, 5], 26)]);
    gradgradcheck((a) => a.mul(a).maskedFill(cond, 1), leaf([3, 5], 27));
  });
  it('clamp(min, max) out of place, one-sided; log1p', () => {
    const x = (): Tensor =>
      tensor(
        [
          [-1.5, 0.7, -0.2],
          [2.0, -3.1, 0.4],
        ],
        { dtype: 'float64', requiresGrad: true },
      );
    gradcheck((a) => a.clamp(-1, 1), [x()]);
    gradcheck((a) => a.clamp(0), [x()]);
    gradcheck((a) => a.clamp(null, 0.5), [x()]);
    gradcheck((a) => a.log1p(), [leaf([3, 5], 28, -0.7, 3)]);
    gradgradcheck((a) => a.log1p(), leaf([4], 29, -0.5, 2));
  });
});

describe('max/min, gather, norm, var/std, tril/triu, float', () => {
  it('max/min along a dim (values), with keepdim and negative dims', () => {
    gradcheck((a) => a.max(-1).values, [leaf([4, 7], 30)]);
    gradcheck((a) => a.min(0, true).values.mul(a), [leaf([5, 3], 31)]);
  });
  it('max()/min() over everything: ties share the gradient evenly (PyTorch evenly_distribute_backward)', () => {
    gradcheck((a) => a.max().add(a.min()), [leaf([3, 5], 32)]);
    const t = tensor([1, 3, 3, -2, -2, -2], { dtype: 'float64', requiresGrad: true });
    t.max().add(t.min()).backward();
    expect(t.grad?.toArray()).toEqual([0, 0.5, 0.5, 1 / 3, 1 / 3, 1 / 3]);
  });
  it('gather with repeated indices along 1 and -2 (the backward scatter-adds); second derivatives', () => {
    gradcheck(
      (a) =>
        a.gather(
          1,
          int([
            [0, 2, 2, 1],
            [3, 3, 3, 0],
            [1, 0, 4, 4],
          ]),
        ),
      [leaf([3, 5], 33)],
    );
    gradcheck(
      (a) =>
        a.gather(
          -2,
          int([
            [2, 0],
            [0, 0],
            [1, 2],
            [2, 2],
          ]),
        ),
      [leaf([3, 5], 34)],
    );
    gradgradcheck(
      (a) =>
        a
          .gather(
            1,
            int([
              [0, 2, 2],
              [3, 3, 0],
              [1, 0, 4],
            ]),
          )
          .pow(2),
      leaf([3, 5], 35),
    );
  });
  it('norm: p = 2, 1, 3, inf over all and along dims (keepdim); gradient 0 at a zero norm, as PyTorch', () => {
    gradcheck((a) => a.norm(), [leaf([3, 5], 36)]);
    gradcheck((a) => a.norm(2, -1, true).mul(a), [leaf([3, 5], 37)]);
    gradcheck((a) => a.norm(1, 0), [leaf([3, 5], 38, 0.2, 1.5)]);
    gradcheck((a) => a.norm(3, [0, -1]), [leaf([2, 3, 4], 39)]);
    gradcheck((a) => a.norm(Infinity, 1), [leaf([3, 5], 40)]);
    gradcheck((a) => a.norm(0.5), [leaf([3, 2], 41, 0.3, 2)]);
    const z = tensor([0, 0, 0], { dtype: 'float64', requiresGrad: true });
    z.norm().backward();
    expect(z.grad?.toArray()).toEqual([0, 0, 0]);
  });
  it('var and std with correction, dims, keepdim; std gradient 0 where std is 0', () => {
    gradcheck((a) => a.var(), [leaf([3, 5], 42)]);
    gradcheck((a) => a.var(-1, { correction: 0, keepdim: true }).mul(a), [leaf([3, 5], 43)]);
    gradcheck((a) => a.var([0, 2], { correction: 2 }), [leaf([3, 4, 5], 44)]);
    gradcheck((a) => a.std(0), [leaf([5, 3], 45)]);
    gradcheck((a) => a.std(null, { correction: 0 }), [leaf([7], 46)]);
    const c = tensor(
      [
        [2, 2, 2],
        [1, 2, 3],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    c.std(1).sum().backward();
    expect((c.grad?.toArray() as number[][])[0]).toEqual([0, 0, 0]);
  });
  it('tril/triu with offsets, batched', () => {
    gradcheck((a) => a.tril(), [leaf([4, 5], 47)]);
    gradcheck((a) => a.triu(-1).mul(a.tril(1)), [leaf([2, 3, 4], 48)]);
  });
  it('float() from float64 is differentiable (the gradient returns as float64)', () => {
    const x = leaf([3], 49);
    x.float().mul(2).sum().backward();
    expect(x.grad?.dtype).toBe('float64');
    expect(x.grad?.toArray()).toEqual([2, 2, 2]);
  });
});
