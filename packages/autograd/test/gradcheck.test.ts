import { describe, expect, it } from 'vitest';
import { autograd, nn, tensor, type Tensor } from '../src/index.js';
import { gradcheck, leaf } from './gradcheck.js';

const F = nn.functional;
/** A float64 leaf with the given values (for inputs that must stay away from kinks or poles). */
const given = (data: number[] | number[][]): Tensor => tensor(data, { dtype: 'float64', requiresGrad: true });

describe('gradcheck helper', () => {
  it('catches a wrong gradient (so a passing check means something)', () => {
    // exp(x) with its true value but a gradient of 2·exp(x), built by detaching half of x·2.
    const wrong = (x: Tensor): Tensor => x.exp().mul(2).sub(x.exp().detach());
    expect(() => {
      gradcheck(wrong, [leaf([3])]);
    }).toThrow(/analytic/);
  });
});

describe('gradients of element-wise ops match central differences (float64)', () => {
  it('add, sub, mul, div on equal shapes', () => {
    gradcheck((a, b) => a.add(b), [leaf([2, 3], 1), leaf([2, 3], 2)]);
    gradcheck((a, b) => a.sub(b), [leaf([2, 3], 1), leaf([2, 3], 2)]);
    gradcheck((a, b) => a.mul(b), [leaf([2, 3], 1), leaf([2, 3], 2)]);
    gradcheck((a, b) => a.div(b), [leaf([2, 3], 1), leaf([2, 3], 2, 0.5, 2)]);
  });

  it('broadcasting [3,1,4] with [2,4] (both sides reduce their broadcast dims)', () => {
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      gradcheck((a, b) => a[op](b), [leaf([3, 1, 4], 3), leaf([2, 4], 4, 0.5, 2)]);
    }
    gradcheck((a, b) => a.pow(b), [leaf([3, 1, 4], 3, 0.5, 2), leaf([2, 4], 4)]);
  });

  it('broadcasting a 0-d tensor and a [1] tensor against a matrix', () => {
    gradcheck((a, s) => a.mul(s), [leaf([2, 3], 5), leaf([], 6)]);
    gradcheck((s, a) => s.div(a), [leaf([1], 6), leaf([2, 3], 5, 0.5, 2)]);
  });

  it('number operands on either side', () => {
    gradcheck((a) => a.add(2.5).mul(-3).sub(0.25).div(4), [leaf([4], 7)]);
    gradcheck((a) => a.pow(3), [leaf([4], 7)]);
    gradcheck((a) => a.pow(-1.5), [leaf([4], 7, 0.5, 2)]);
    gradcheck((a) => a.pow(0.5), [leaf([4], 7, 0.5, 2)]);
  });

  it('pow with a tensor exponent (gradient to base and exponent)', () => {
    gradcheck((a, b) => a.pow(b), [leaf([2, 3], 8, 0.5, 2), leaf([2, 3], 9)]);
  });

  it('unary ops: neg exp log sqrt sigmoid tanh', () => {
    gradcheck((a) => a.neg(), [leaf([2, 3], 10)]);
    gradcheck((a) => a.exp(), [leaf([2, 3], 10)]);
    gradcheck((a) => a.log(), [leaf([2, 3], 10, 0.2, 3)]);
    gradcheck((a) => a.sqrt(), [leaf([2, 3], 10, 0.2, 3)]);
    gradcheck((a) => a.sigmoid(), [leaf([2, 3], 10, -4, 4)]);
    gradcheck((a) => a.tanh(), [leaf([2, 3], 10, -2, 2)]);
  });

  it('abs and relu away from 0 (their kinks)', () => {
    const x = (): Tensor =>
      given([
        [-1.5, 0.7, -0.2],
        [2.0, -3.1, 0.4],
      ]);
    gradcheck((a) => a.abs(), [x()]);
    gradcheck((a) => a.relu(), [x()]);
    gradcheck((a) => F.relu(a), [x()]);
  });

  it('clamp (through clamp_ on a clone) inside and outside the bounds', () => {
    gradcheck(
      (a) => a.clone().clamp_(-1, 1),
      [
        given([
          [-1.5, 0.7, -0.2],
          [2.0, -3.1, 0.4],
        ]),
      ],
    );
    gradcheck((a) => a.clone().clamp_(0), [given([-1.5, 0.7, -0.2, 2.0])]);
  });

  it('non-contiguous (transposed) operands', () => {
    gradcheck((a, b) => a.transpose(0, 1).mul(b), [leaf([3, 2], 11), leaf([2, 3], 12)]);
    gradcheck((a) => a.transpose(0, 1).exp().sum(0), [leaf([3, 2], 11)]);
    gradcheck((a, b) => a.transpose(-1, -2).add(b), [leaf([2, 3, 4], 13), leaf([4, 1], 14)]);
  });
});

describe('gradients of matmul match central differences', () => {
  it('2-D x 2-D', () => {
    gradcheck((a, b) => a.matmul(b), [leaf([3, 4], 20), leaf([4, 2], 21)]);
  });
  it('1-D x 1-D (dot product, 0-d result), 1-D x 2-D and 2-D x 1-D', () => {
    gradcheck((a, b) => a.matmul(b), [leaf([4], 22), leaf([4], 23)]);
    gradcheck((a, b) => a.matmul(b), [leaf([4], 22), leaf([4, 3], 24)]);
    gradcheck((a, b) => a.matmul(b), [leaf([3, 4], 25), leaf([4], 23)]);
  });
  it('batched with broadcast batch dims ([2,1,3,4] x [3,4,2] and [2,3,4] x [4,5])', () => {
    gradcheck((a, b) => a.matmul(b), [leaf([2, 1, 3, 4], 26), leaf([3, 4, 2], 27)]);
    gradcheck((a, b) => a.matmul(b), [leaf([2, 3, 4], 28), leaf([4, 5], 29)]);
    // batch x matrix with a 4-d and a non-contiguous batch (the weight's gradient is one flattened product)
    gradcheck((a, b) => a.matmul(b), [leaf([2, 3, 2, 4], 34), leaf([4, 5], 35)]);
    gradcheck((a, b) => a.transpose(0, 1).matmul(b).mul(a.transpose(0, 1).matmul(b)), [leaf([3, 2, 4], 36), leaf([4, 5], 37)]);
    gradcheck((a, b) => a.matmul(b), [leaf([4], 30), leaf([2, 4, 3], 31)]);
  });
  it('transposed (non-contiguous) operands', () => {
    gradcheck((a, b) => a.transpose(0, 1).matmul(b.transpose(0, 1)), [leaf([4, 3], 32), leaf([2, 4], 33)]);
  });
});

describe('gradients of reductions and views match central differences', () => {
  it('sum and mean over everything, one dim, several dims, negative dims, keepdim', () => {
    const x = (): Tensor => leaf([2, 3, 4], 40);
    for (const op of ['sum', 'mean'] as const) {
      gradcheck((a) => a[op](), [x()]);
      gradcheck((a) => a[op](1), [x()]);
      gradcheck((a) => a[op](-1), [x()]);
      gradcheck((a) => a[op]([0, 2]), [x()]);
      gradcheck((a) => a[op]([-1, 0], true), [x()]);
      gradcheck((a) => a[op](1, true), [x()]);
    }
  });
  it('reshape (incl. -1), transpose, expand, index, clone', () => {
    gradcheck((a) => a.reshape([4, -1]).mul(a.reshape([4, 3]).exp()), [leaf([2, 6], 41)]);
    gradcheck((a) => a.transpose(0, 2), [leaf([2, 3, 4], 42)]);
    gradcheck((a) => a.expand([3, 2, 4]), [leaf([2, 1], 43)]);
    gradcheck((a) => a.index(1), [leaf([3, 4], 44)]);
    gradcheck((a) => a.index([1, -1]), [leaf([3, 4, 2], 45)]);
    gradcheck((a) => a.index(0).mul(a.index(2)), [leaf([3, 4], 46)]);
    gradcheck((a) => a.clone().mul(a), [leaf([5], 47)]);
  });
  it('a reshape of a transposed tensor (forces a copy)', () => {
    gradcheck(
      (a) =>
        a
          .transpose(0, 1)
          .reshape([-1])
          .mul(tensor([1, 2, 3, 4, 5, 6], { dtype: 'float64' })),
      [leaf([2, 3], 48)],
    );
  });
});

describe('gradients of softmax and logSoftmax match central differences', () => {
  it('over the last dim, a middle dim and with negative dims', () => {
    const x = (): Tensor => leaf([2, 3, 4], 50, -3, 3);
    gradcheck((a) => a.softmax(-1), [x()]);
    gradcheck((a) => a.softmax(1), [x()]);
    gradcheck((a) => a.logSoftmax(-1), [x()]);
    gradcheck((a) => a.logSoftmax(0), [x()]);
    gradcheck((a) => F.softmax(a, 0), [x()]);
    gradcheck((a) => F.logSoftmax(a, -2), [x()]);
  });
  it('on a transposed input', () => {
    gradcheck((a) => a.transpose(0, 1).logSoftmax(1), [leaf([4, 3], 51, -3, 3)]);
  });
});

describe('gradients through in-place ops on non-leaves (recorded, as in PyTorch)', () => {
  it('add_ sub_ mul_ div_ with tensors and numbers, with broadcasting', () => {
    gradcheck((a, b) => a.mul(1).add_(b), [leaf([2, 3], 60), leaf([3], 61)]);
    gradcheck((a, b) => a.mul(1).sub_(b), [leaf([2, 3], 60), leaf([2, 3], 61)]);
    gradcheck((a, b) => a.mul(1).mul_(b), [leaf([2, 3], 60), leaf([2, 1], 61)]);
    gradcheck((a, b) => a.mul(1).div_(b), [leaf([2, 3], 60), leaf([3], 61, 0.5, 2)]);
    // exp saves its result, so the chain starts from a clone (modifying exp's output would trip
    // SAVED_TENSOR_MODIFIED, as in PyTorch; that is tested in autograd-semantics).
    gradcheck((a) => a.exp().clone().add_(2).mul_(3).sub_(1).div_(2), [leaf([2, 3], 62)]);
  });
  it('the in-place result feeds later ops (the version-counted self is the new node)', () => {
    gradcheck(
      (a) => {
        const t = a.add(1);
        t.mul_(a);
        return t.mul(t);
      },
      [leaf([4], 63)],
    );
  });
  it('relu_ and clamp_', () => {
    gradcheck((a) => a.mul(2).relu_(), [given([-1.5, 0.7, -0.2, 2.0])]);
    gradcheck((a) => a.mul(2).clamp_(-1, 1), [given([-1.5, 0.3, -0.2, 2.0])]);
  });
  it('fill_ and zero_ cut the gradient to the overwritten tensor', () => {
    gradcheck((a, b) => a.mul(b).fill_(3).add(b), [leaf([3], 64), leaf([3], 65)]);
    gradcheck((a, b) => a.mul(b).zero_().add(a.mul(b)), [leaf([3], 64), leaf([3], 65)]);
  });
  it('copy_ sends the gradient to the source (broadcast) and none to the old values', () => {
    gradcheck((a, b) => a.mul(2).copy_(b.exp()).mul(a), [leaf([2, 3], 66), leaf([3], 67)]);
  });
  it('setItem_ with a tensor value and with a number', () => {
    gradcheck((a, v) => a.mul(1).setItem_(1, v).mul(a), [leaf([3, 2], 68), leaf([2], 69)]);
    gradcheck((a, v) => a.mul(2).setItem_([0, 1], v.sum()), [leaf([2, 2], 68), leaf([3], 69)]);
    gradcheck((a) => a.mul(2).setItem_(-1, 5).mul(a), [leaf([3, 2], 70)]);
  });
});

describe('gradients of losses and nn.Linear match central differences', () => {
  it('mseLoss and l1Loss with every reduction', () => {
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      gradcheck((a, b) => F.mseLoss(a, b, { reduction }), [leaf([3, 2], 80), leaf([3, 2], 81)]);
      // l1 is |a - b|: the sin-hash values keep every difference well away from the kink at 0.
      gradcheck((a, b) => F.l1Loss(a, b, { reduction }), [leaf([3, 2], 80), leaf([3, 2], 81)]);
    }
  });
  it('crossEntropy (int32 class targets) with every reduction', () => {
    const target = tensor([2, 0, 1, 2], { dtype: 'int32' });
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      gradcheck((logits) => F.crossEntropy(logits, target, { reduction }), [leaf([4, 3], 82, -2, 2)]);
    }
  });
  it('nn.Linear with and without bias, on [N, in] and batched [B, N, in] inputs', () => {
    // Float64 parameters so gradcheck can perturb them; the layer's forward is what is checked.
    const lin = new nn.Linear(3, 2);
    lin.weight = new nn.Parameter(leaf([2, 3], 83).detach());
    lin.bias = new nn.Parameter(leaf([2], 84).detach());
    gradcheck((x) => lin.forward(x), [leaf([4, 3], 85), lin.weight, lin.bias]);
    gradcheck((x) => lin.forward(x), [leaf([2, 4, 3], 86), lin.weight, lin.bias]);
    const noBias = new nn.Linear(3, 2, { bias: false });
    noBias.weight = new nn.Parameter(leaf([2, 3], 87).detach());
    gradcheck((x) => noBias.forward(x), [leaf([2, 4, 3], 88), noBias.weight]);
  });
});

/** A gradient that must exist, or the test fails naming it. */
function present<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`${what} is null`);
  return value;
}

describe('second-order gradients (createGraph)', () => {
  it('d²/dx² of x³ is 6x', () => {
    const x = tensor([1, -2, 0.5], { dtype: 'float64', requiresGrad: true });
    const [dy] = autograd.grad(x.pow(3).sum(), x, { createGraph: true });
    expect(dy?.toArray()).toEqual([3, 12, 0.75]);
    expect(dy?.requiresGrad).toBe(true);
    const [d2y] = autograd.grad(present(dy, 'dy/dx').sum(), x);
    expect(d2y?.toArray()).toEqual([6, -12, 3]);
  });

  it('backward(createGraph) leaves a differentiable .grad: d/dx of (dy/dx) for y = x·exp(x)', () => {
    const x = tensor([0.3], { dtype: 'float64', requiresGrad: true });
    x.mul(x.exp()).sum().backward(undefined, { createGraph: true });
    const g = present(x.grad, 'x.grad');
    // dy/dx = (1 + x)eˣ; d²y/dx² = (2 + x)eˣ
    expect(g.item()).toBeCloseTo(1.3 * Math.exp(0.3), 12);
    expect(g.requiresGrad).toBe(true);
    const [h] = autograd.grad(g.sum(), x);
    expect(h?.item()).toBeCloseTo(2.3 * Math.exp(0.3), 12);
  });

  // Gradcheck the first gradient itself: its analytic derivative is a second-order backward.
  const firstGrad =
    (f: (x: Tensor) => Tensor) =>
    (x: Tensor): Tensor =>
      present(autograd.grad(f(x).sum(), x, { createGraph: true })[0], 'the first gradient');
  it.each([
    ['mul/pow', (x: Tensor) => x.mul(x).pow(2), [-1.5, 1.5]],
    ['exp', (x: Tensor) => x.exp(), [-1.5, 1.5]],
    ['log', (x: Tensor) => x.log(), [0.5, 2]],
    ['sqrt', (x: Tensor) => x.sqrt(), [0.5, 2]],
    ['div', (x: Tensor) => x.div(x.add(3)), [-1.5, 1.5]],
    ['sigmoid', (x: Tensor) => x.sigmoid(), [-3, 3]],
    ['tanh', (x: Tensor) => x.tanh(), [-2, 2]],
    ['softmax', (x: Tensor) => x.softmax(-1).mul(tensor([1, -2, 3, 0.5], { dtype: 'float64' })), [-2, 2]],
    ['logSoftmax', (x: Tensor) => x.logSoftmax(0).pow(2), [-2, 2]],
    [
      'matmul',
      (x: Tensor) =>
        x
          .reshape([2, 2])
          .matmul(x.reshape([2, 2]))
          .exp(),
      [-1, 1],
    ],
    ['mean/expand', (x: Tensor) => x.mean().mul(x).expand([3, 4]), [-1, 1]],
    [
      'sum/mean over dims with broadcasting',
      (x: Tensor) =>
        x
          .reshape([2, 2])
          .sum(0)
          .mul(x.reshape([2, 2]).mean(1, true))
          .exp(),
      [-1, 1],
    ],
    ['in-place mul_/add_ on a non-leaf', (x: Tensor) => x.mul(1).mul_(x).add_(x.exp()), [-1, 1]],
    [
      'index and setItem_',
      (x: Tensor) =>
        x
          .mul(1)
          .setItem_(0, x.index(1).mul(x.index(2)))
          .pow(2),
      [-1, 1],
    ],
    ['crossEntropy', (x: Tensor) => F.crossEntropy(x.reshape([2, 2]), tensor([1, 0], { dtype: 'int32' })), [-2, 2]],
    ['mseLoss', (x: Tensor) => F.mseLoss(x.tanh(), tensor([0.5, -0.5, 0, 1], { dtype: 'float64' })), [-1, 1]],
  ] as const)('second derivatives of %s match central differences of the first', (_, f, [lo, hi]) => {
    gradcheck(firstGrad(f), [leaf([4], 90, lo, hi)], { rtol: 1e-5, atol: 1e-6 });
  });
});

describe('derivatives at the points where PyTorch picks a convention', () => {
  const gradOf = (f: (x: Tensor) => Tensor, data: number[]): number[] => {
    const x = tensor(data, { dtype: 'float64', requiresGrad: true });
    f(x).sum().backward();
    return x.grad?.toArray() as number[];
  };
  it('relu, abs: 0 at 0; clamp: 1 at the bounds (inclusive); sqrt: inf at 0', () => {
    expect(gradOf((x) => x.relu(), [0, -1, 2])).toEqual([0, 0, 1]);
    expect(gradOf((x) => x.abs(), [0, -1, 2])).toEqual([0, -1, 1]);
    expect(gradOf((x) => x.mul(1).clamp_(0, 1), [0, 1, 2, -1])).toEqual([1, 1, 0, 0]);
    expect(gradOf((x) => x.sqrt(), [0])).toEqual([Infinity]);
  });
  it('pow: d/dx x⁰ = 0 even at x = 0; d/de 0ᵉ = 0 for e ≥ 0 (PyTorch masks the NaN of 0·log 0)', () => {
    expect(gradOf((x) => x.pow(0), [0, 3])).toEqual([0, 0]);
    expect(gradOf((x) => x.pow(tensor([0, 2], { dtype: 'float64' })), [0, 0])).toEqual([0, 0]);
    const e = tensor([2, 0, 2], { dtype: 'float64', requiresGrad: true });
    tensor([0, 0, 3], { dtype: 'float64' }).pow(e).sum().backward();
    expect(e.grad?.toArray()).toEqual([0, 0, 9 * Math.log(3)]);
  });
  it('reductions of a 0-d tensor over dim 0 / -1 (PyTorch accepts them)', () => {
    const s = tensor(3, { dtype: 'float64', requiresGrad: true });
    expect(s.sum(0).item()).toBe(3);
    expect(s.mean(-1, true).item()).toBe(3);
    expect(s.mean(0).shape).toEqual([]);
    s.mean(0).mul(4).backward();
    expect(s.grad?.item()).toBe(4);
  });
});
