/** PyTorch's autograd rules, part 1: leaves and in-place ops, requiresGrad, retainGrad, detach/views and version counters. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GradFlowError, noGrad, optim, tensor, type Tensor } from '../src/index.js';
import { codeOf, errorOf } from './expect-error.js';

// Some tests read .grad of non-leaves on purpose; keep the one-time warning out of the output.
beforeEach(() => {
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(() => {
  vi.restoreAllMocks();
});

describe('leaves and in-place ops', () => {
  const inplace: [string, (t: Tensor) => unknown][] = [
    ['add_', (t) => t.add_(1)],
    ['sub_', (t) => t.sub_(tensor([1, 1]))],
    ['mul_', (t) => t.mul_(2)],
    ['div_', (t) => t.div_(2)],
    ['relu_', (t) => t.relu_()],
    ['clamp_', (t) => t.clamp_(0, 1)],
    ['fill_', (t) => t.fill_(3)],
    ['zero_', (t) => t.zero_()],
    ['copy_', (t) => t.copy_(tensor([7, 8]))],
    ['setItem_', (t) => t.setItem_(0, 5)],
  ];

  it.each(inplace)('%s on a leaf that requires grad throws LEAF_INPLACE and leaves it unchanged', (name, op) => {
    const w = tensor([1, 2], { requiresGrad: true });
    const err = errorOf(() => op(w));
    expect(err.code).toBe('LEAF_INPLACE');
    expect(err.message).toContain(`(${name === 'zero_' ? 'fill_' : name})`);
    expect(err.message).toContain('float32 [2]');
    expect(err.message).toMatch(/noGrad/);
    expect(w.toArray()).toEqual([1, 2]);
    expect(w.version).toBe(0);
    expect(w.isLeaf).toBe(true);
  });

  it.each(inplace)('%s on a leaf that requires grad is allowed under noGrad (bumps the version, stays a leaf)', (_, op) => {
    const w = tensor([1, 2], { requiresGrad: true });
    noGrad(() => op(w));
    expect(w.version).toBe(1);
    expect(w.isLeaf).toBe(true);
    expect(w.requiresGrad).toBe(true);
    expect(w.gradFn).toBeNull();
  });

  it.each(inplace)('%s on a leaf that does not require grad is allowed anywhere', (_, op) => {
    const t = tensor([1, 2]);
    op(t);
    expect(t.version).toBe(1);
    expect(t.requiresGrad).toBe(false);
  });

  it('in-place ops on a view of a leaf that requires grad throw LEAF_INPLACE ("a view of a leaf")', () => {
    const w = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    for (const view of [w.index(0), w.reshape([4]), w.transpose(0, 1), w.expand([2, 2])]) {
      const err = errorOf(() => view.mul_(2));
      expect(err.code).toBe('LEAF_INPLACE');
      expect(err.message).toContain('a view of a leaf');
    }
    expect(w.toArray()).toEqual([
      [1, 2],
      [3, 4],
    ]);
    // Under noGrad the view writes through to the leaf, and the shared version counter moves.
    noGrad(() => w.index(1).fill_(0));
    expect(w.toArray()).toEqual([
      [1, 2],
      [0, 0],
    ]);
    expect(w.version).toBe(1);
  });

  it('an in-place op on a non-leaf is recorded: the tensor gets the new gradFn and a bumped version', () => {
    const a = tensor([1, 2], { requiresGrad: true });
    const b = a.mul(2);
    const first = b.gradFn;
    b.add_(1);
    expect(b.version).toBe(1);
    expect(b.gradFn).not.toBe(first);
    expect(b.gradFn?.name).toBe('AddBackward');
    expect(b.isLeaf).toBe(false);
  });

  it('an in-place op with a grad-requiring operand makes a plain tensor part of the graph', () => {
    const w = tensor([2, 3], { requiresGrad: true });
    const t = tensor([1, 1]);
    t.mul_(w);
    expect(t.requiresGrad).toBe(true);
    expect(t.isLeaf).toBe(false);
    t.sum().backward();
    expect(w.grad?.toArray()).toEqual([1, 1]);
  });

  it("modifying an op's saved output in place trips SAVED_TENSOR_MODIFIED (exp saves its result, as in PyTorch)", () => {
    const x = tensor([0, 1], { requiresGrad: true });
    const y = x.exp();
    const loss = y.sum();
    y.add_(1);
    const err = errorOf(() => {
      loss.backward();
    });
    expect(err.code).toBe('SAVED_TENSOR_MODIFIED');
    expect(err.message).toContain('ExpBackward');
    expect(err.message).toContain('is at version 1; expected version 0');
  });

  it('in-place on a view of a non-leaf while recording is refused (INPLACE_ON_VIEW: a documented gradflow limit)', () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const y = x.mul(1);
    expect(codeOf(() => y.index(0).mul_(2))).toBe('INPLACE_ON_VIEW');
  });
});

describe('requiresGrad', () => {
  it('is settable on leaves (property and requiresGrad_, which returns the tensor)', () => {
    const t = tensor([1]);
    expect(t.requiresGrad_()).toBe(t);
    expect(t.requiresGrad).toBe(true);
    t.requiresGrad = false;
    expect(t.requiresGrad).toBe(false);
    t.requiresGrad_(true);
    t.requiresGrad_(false);
    expect(t.requiresGrad).toBe(false);
  });

  it('setting false on a non-leaf throws NONLEAF_REQUIRES_GRAD (true is a no-op, as in PyTorch)', () => {
    const x = tensor([1], { requiresGrad: true });
    const y = x.mul(2);
    const err = errorOf(() => {
      y.requiresGrad = false;
    });
    expect(err.code).toBe('NONLEAF_REQUIRES_GRAD');
    expect(err.message).toContain('MulBackward');
    expect(err.message).toContain('detach()');
    expect(codeOf(() => y.requiresGrad_(false))).toBe('NONLEAF_REQUIRES_GRAD');
    y.requiresGrad = true;
    expect(y.requiresGrad).toBe(true);
  });

  it('an int32 tensor cannot require grad (DTYPE_REQUIRES_GRAD), via options, property or method', () => {
    expect(codeOf(() => tensor([1, 2], { dtype: 'int32', requiresGrad: true }))).toBe('DTYPE_REQUIRES_GRAD');
    const t = tensor([1, 2], { dtype: 'int32' });
    const err = errorOf(() => {
      t.requiresGrad = true;
    });
    expect(err.code).toBe('DTYPE_REQUIRES_GRAD');
    expect(err.message).toContain('int32 [2]');
    expect(codeOf(() => t.requiresGrad_())).toBe('DTYPE_REQUIRES_GRAD');
    t.requiresGrad_(false);
    expect(t.requiresGrad).toBe(false);
  });

  it('float64 leaves can require grad; results require grad iff some input does (outside noGrad)', () => {
    const a = tensor([1], { dtype: 'float64', requiresGrad: true });
    const b = tensor([2], { dtype: 'float64' });
    expect(a.add(b).requiresGrad).toBe(true);
    expect(b.add(b).requiresGrad).toBe(false);
    expect(b.add(b).gradFn).toBeNull();
  });
});

describe('.grad of non-leaves, retainGrad', () => {
  it('a non-leaf .grad is null after backward; retainGrad() keeps it', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(3);
    const z = y.mul(y).sum();
    y.retainGrad();
    z.backward();
    expect(y.retainsGrad).toBe(true);
    expect(y.grad?.toArray()).toEqual([6, 12]); // 2y
    expect(x.grad?.toArray()).toEqual([18, 36]); // 2y·3
  });

  it('retainGrad on a leaf is a no-op; retained grads accumulate across backward calls', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    x.retainGrad();
    expect(x.retainsGrad).toBe(false);
    const y = x.mul(2);
    y.retainGrad();
    y.sum().backward(undefined, { retainGraph: true });
    y.sum().backward();
    expect(y.grad?.toArray()).toEqual([2, 2]);
  });

  it('retainGrad on a tensor that does not require grad is an error (as PyTorch)', () => {
    const err = errorOf(() => {
      tensor([1, 2]).retainGrad();
    });
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain('does not require grad');
    const x = tensor([1], { requiresGrad: true });
    expect(() => {
      noGrad(() => x.mul(2)).retainGrad();
    }).toThrow(GradFlowError);
  });

  it("retainGrad survives an in-place op: .grad is the gradient of the tensor's latest value", () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2);
    y.retainGrad();
    y.mul_(3);
    y.mul(y).sum().backward();
    // y = 6x now; d/dy Σy² = 2y = [12, 24]
    expect(y.grad?.toArray()).toEqual([12, 24]);
    expect(x.grad?.toArray()).toEqual([72, 144]);
  });

  it('assigning .grad checks shape and dtype', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const shape = errorOf(() => {
      x.grad = tensor([1, 2, 3]);
    });
    expect(shape.code).toBe('SHAPE_MISMATCH');
    expect(shape.message).toContain('[3]');
    expect(shape.message).toContain('[2]');
    const dtype = errorOf(() => {
      x.grad = tensor([1, 2], { dtype: 'float64' });
    });
    expect(dtype.code).toBe('DTYPE_MISMATCH');
    expect(dtype.message).toContain('float64');
  });
});

describe('detach and views share storage and the version counter', () => {
  it('detach(): a leaf that does not require grad, same memory, same version counter', () => {
    const x = tensor([1, 2], { requiresGrad: true });
    const d = x.detach();
    expect([d.isLeaf, d.requiresGrad, d.gradFn]).toEqual([true, false, null]);
    d.add_(1);
    expect(x.toArray()).toEqual([2, 3]);
    expect(x.version).toBe(1);
    expect(d.version).toBe(1);
  });

  it('an in-place op on the detached alias of a saved tensor trips SAVED_TENSOR_MODIFIED', () => {
    const w = tensor([1, 2], { requiresGrad: true });
    const loss = w.mul(w).sum(); // mul saves w
    w.detach().mul_(10);
    const err = errorOf(() => {
      loss.backward();
    });
    expect(err.code).toBe('SAVED_TENSOR_MODIFIED');
    expect(err.message).toContain('is at version 1; expected version 0');

    const a = tensor([0, 1], { requiresGrad: true });
    const s = a.sigmoid(); // sigmoid saves its result
    const l2 = s.sum();
    s.detach().zero_();
    expect(
      codeOf(() => {
        l2.backward();
      }),
    ).toBe('SAVED_TENSOR_MODIFIED');
  });

  it('views (reshape, transpose, index, expand) share memory and version with their base', () => {
    const base = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const r = base.reshape([3, 2]);
    const t = base.transpose(0, 1);
    const i = base.index(1);
    const e = base.index(0).reshape([1, 3]).expand([2, 3]);
    i.setItem_(0, 40);
    expect(base.toArray()).toEqual([
      [1, 2, 3],
      [40, 5, 6],
    ]);
    expect(r.toArray()).toEqual([
      [1, 2],
      [3, 40],
      [5, 6],
    ]);
    expect(t.toArray()).toEqual([
      [1, 40],
      [2, 5],
      [3, 6],
    ]);
    for (const v of [base, r, t, i, e]) expect(v.version).toBe(1);
    t.setItem_([2, 0], 30);
    expect(base.toArray()).toEqual([
      [1, 2, 30],
      [40, 5, 6],
    ]);
    expect(e.toArray()).toEqual([
      [1, 2, 30],
      [1, 2, 30],
    ]);
    expect(r.version).toBe(2);
  });

  it('clone() does not share: writes to the clone leave the original and its version alone', () => {
    const x = tensor([1, 2]);
    const c = x.clone();
    c.add_(1);
    expect(x.toArray()).toEqual([1, 2]);
    expect(x.version).toBe(0);
  });

  it('modifying a view of a saved tensor trips the saved-tensor check on the base', () => {
    const x = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const y = x.mul(1);
    const loss = y.mul(y).sum(); // mul saves y
    noGrad(() => y.index(0).fill_(0));
    expect(
      codeOf(() => {
        loss.backward();
      }),
    ).toBe('SAVED_TENSOR_MODIFIED');
  });
});

describe('optimizer.step() between forward and backward', () => {
  it('modifies a weight that matmul saved, so the late backward fails with SAVED_TENSOR_MODIFIED (as PyTorch)', () => {
    const w1 = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const w2 = tensor([[0.5, -1]], { requiresGrad: true });
    const opt = new optim.SGD([w1, w2], { lr: 0.1 });
    const forward = (): Tensor =>
      tensor([[1, 1]])
        .matmul(w1.transpose(0, 1))
        .relu()
        .matmul(w2.transpose(0, 1))
        .sum();
    forward().backward();
    const loss = forward(); // the second matmul saves w2ᵀ, a view sharing w2's version counter
    opt.step();
    const err = errorOf(() => {
      loss.backward();
    });
    expect(err.code).toBe('SAVED_TENSOR_MODIFIED');
    expect(err.message).toContain('MatmulBackward');
    expect(err.message).toContain('is at version 1; expected version 0');
  });
});
