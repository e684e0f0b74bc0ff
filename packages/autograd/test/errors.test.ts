/** Bad operands fail early with a GradFlowError whose code is stable and whose message names shapes and dtypes. */
import { describe, expect, it } from 'vitest';
import { ones, tensor, zeros } from '../src/index.js';
import { errorOf } from './expect-error.js';

/** Asserts the code and that the message mentions every fragment. */
function expectError(fn: () => unknown, code: string, ...fragments: string[]): void {
  const err = errorOf(fn);
  expect(err.code).toBe(code);
  expect(err.name).toBe('GradFlowError');
  expect(err).toBeInstanceOf(Error);
  expect(err.message.startsWith(`[${code}]`)).toBe(true);
  for (const f of fragments) expect(err.message).toContain(f);
}

describe('SHAPE_MISMATCH', () => {
  it('operands that cannot broadcast, in every binary op and its in-place form', () => {
    const a = ones([2, 3]);
    const b = ones([4]);
    for (const op of ['add', 'sub', 'mul', 'div', 'pow'] as const) expectError(() => a[op](b), 'SHAPE_MISMATCH', '[2, 3]', '[4]');
    expectError(() => ones([3, 1, 4]).add(ones([2, 3])), 'SHAPE_MISMATCH', '[3, 1, 4]', '[2, 3]');
    expectError(() => ones([2, 3]).add_(ones([3, 3])), 'SHAPE_MISMATCH', '[2, 3]', '[3, 3]');
  });

  it('an in-place op whose broadcast result would not fit self', () => {
    // PyTorch: "output with shape [3] doesn't match the broadcast shape [2, 3]".
    expectError(() => ones([3]).add_(ones([2, 3])), 'SHAPE_MISMATCH', '[3]', '[2, 3]');
  });

  it('matmul: inner dimensions, batch dimensions, 0-d operands', () => {
    expectError(() => ones([2, 3]).matmul(ones([4, 5])), 'SHAPE_MISMATCH', '[2, 3]', '[4, 5]');
    expectError(() => ones([3]).matmul(ones([4])), 'SHAPE_MISMATCH', '[1, 3]', '[4, 1]');
    expectError(() => ones([2, 3, 4]).matmul(ones([3, 4, 5])), 'SHAPE_MISMATCH', '[2]', '[3]');
    expectError(() => tensor(2).matmul(ones([2])), 'SHAPE_MISMATCH', '[]');
  });

  it('reshape to a size that does not match, or with a bad -1', () => {
    expectError(() => ones([2, 3]).reshape([4, 2]), 'SHAPE_MISMATCH', '[4, 2]', 'size 6', '[2, 3]');
    expectError(() => ones([2, 3]).reshape([4, -1]), 'SHAPE_MISMATCH', 'size 6');
  });

  it('expand to an incompatible shape, copy_ and setItem_ with a source that does not fit', () => {
    expectError(() => ones([2, 3]).expand([2, 4]), 'SHAPE_MISMATCH', '[2, 3]', '[2, 4]');
    expectError(() => ones([2, 3]).expand([3]), 'SHAPE_MISMATCH', '[2, 3]', '[3]');
    expectError(() => zeros([2, 3]).copy_(ones([2])), 'SHAPE_MISMATCH', '[2]', '[2, 3]');
    expectError(() => zeros([2, 3]).setItem_(0, ones([2])), 'SHAPE_MISMATCH', '[2]', '[3]');
  });

  it('ragged nested data', () => {
    expectError(() => tensor([[1, 2], [3]]), 'SHAPE_MISMATCH', 'ragged');
  });
});

describe('DTYPE_MISMATCH', () => {
  it('an in-place op on int32 whose result is float (PyTorch: "result type Float can\'t be cast to Long")', () => {
    const i = (): ReturnType<typeof tensor> => tensor([1, 2, 3], { dtype: 'int32' });
    expectError(() => i().add_(0.5), 'DTYPE_MISMATCH', 'float32', 'int32 [3]');
    expectError(() => i().div_(2), 'DTYPE_MISMATCH', 'int32 [3]');
    expectError(() => i().mul_(tensor([1.5, 1, 1])), 'DTYPE_MISMATCH', 'int32 [3]');
    const t = i();
    expect(() => t.add_(2)).not.toThrow(); // int result: fine
    expect(t.toArray()).toEqual([3, 4, 5]);
    expect(t.dtype).toBe('int32');
    // The failed ops left nothing behind: no write, no version bump.
    const u = i();
    expect(() => u.add_(0.5)).toThrow();
    expect([u.toArray(), u.version]).toEqual([[1, 2, 3], 0]);
  });

  it('matmul of different dtypes names both', () => {
    expectError(() => ones([2, 2]).matmul(ones([2, 2], { dtype: 'float64' })), 'DTYPE_MISMATCH', 'float32 [2, 2]', 'float64 [2, 2]');
    expectError(() => ones([2, 2]).matmul(ones([2, 2], { dtype: 'int32' })), 'DTYPE_MISMATCH', 'int32');
  });

  it('mean, softmax and logSoftmax need floating point input', () => {
    const i = tensor([1, 2], { dtype: 'int32' });
    expectError(() => i.mean(), 'DTYPE_MISMATCH', 'int32');
    expectError(() => i.softmax(0), 'DTYPE_MISMATCH', 'int32 [2]');
    expectError(() => i.logSoftmax(0), 'DTYPE_MISMATCH', 'int32 [2]');
  });
});

describe('type promotion (what does not fail)', () => {
  it('int32 with float32 gives float32, anything with float64 gives float64, int32 / int32 gives float32', () => {
    const i = tensor([1, 2], { dtype: 'int32' });
    expect(i.add(ones([2])).dtype).toBe('float32');
    expect(ones([2]).add(ones([2], { dtype: 'float64' })).dtype).toBe('float64');
    expect(i.div(tensor([2, 2], { dtype: 'int32' })).toArray()).toEqual([0.5, 1]);
    expect(i.add(1).dtype).toBe('int32');
    expect(i.mul(0.5).dtype).toBe('float32');
    expect(i.sum().dtype).toBe('int32');
  });
});

describe('INVALID_ARGUMENT', () => {
  it('dimensions out of range or repeated, naming the valid range', () => {
    const x = ones([2, 3]);
    expectError(() => x.sum(2), 'INVALID_ARGUMENT', 'dimension 2', '[-2, 1]');
    expectError(() => x.mean(-3), 'INVALID_ARGUMENT', 'dimension -3');
    expectError(() => x.sum([0, -2]), 'INVALID_ARGUMENT', 'repeats');
    expectError(() => x.softmax(2), 'INVALID_ARGUMENT', 'dimension 2');
    expectError(() => x.logSoftmax(-3), 'INVALID_ARGUMENT', 'dimension -3');
    expectError(() => x.transpose(0, 5), 'INVALID_ARGUMENT', 'dimension 5');
    expectError(() => x.sum(0.5), 'INVALID_ARGUMENT', 'dimension 0.5');
  });

  it('indices out of bounds, too many, or not integers', () => {
    const x = ones([2, 3]);
    expectError(() => x.index(2), 'INVALID_ARGUMENT', 'index 2', 'dimension 0', 'size 2', '[2, 3]');
    expectError(() => x.index([1, 3]), 'INVALID_ARGUMENT', 'index 3', 'dimension 1', 'size 3');
    expectError(() => x.index(-3), 'INVALID_ARGUMENT', '[2, 3]');
    expectError(() => x.index([0, 0, 0]), 'INVALID_ARGUMENT', 'more entries', '[2, 3]');
    expectError(() => x.index(1.5), 'INVALID_ARGUMENT', 'index 1.5');
    expectError(() => zeros([2, 3]).setItem_([5], 1), 'INVALID_ARGUMENT', 'index 5');
  });

  it('negative indices count from the end, as in Python', () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    expect(x.index(-1).toArray()).toEqual([4, 5, 6]);
    expect(x.index([-2, -1]).toArray()).toBe(3);
  });

  it('an in-place op on an expanded view, whose elements share memory (as PyTorch refuses)', () => {
    const row = tensor([[1, 2, 3]]);
    const e = row.expand([2, 3]);
    expectError(
      () =>
        e.add_(
          tensor([
            [1, 1, 1],
            [2, 2, 2],
          ]),
        ),
      'INVALID_ARGUMENT',
      'single memory location',
      '[2, 3]',
      'clone()',
    );
    expect(row.toArray()).toEqual([[1, 2, 3]]);
    expect(row.version).toBe(0);
    const c = e.clone();
    c.add_(
      tensor([
        [1, 1, 1],
        [2, 2, 2],
      ]),
    );
    expect(c.toArray()).toEqual([
      [2, 3, 4],
      [3, 4, 5],
    ]);
    // A size-1 dimension with stride 0 is not an overlap.
    tensor([5]).reshape([1]).expand([1]).add_(1);
  });

  it('item() on a tensor with more than one element; unknown dtypes and devices; bad shapes; non-numbers', () => {
    expectError(() => ones([2]).item(), 'INVALID_ARGUMENT', '[2]');
    expectError(() => tensor([1], { dtype: 'int64' as 'int32' }), 'INVALID_ARGUMENT', 'int64');
    expectError(() => tensor([1], { device: 'cuda' as 'cpu' }), 'INVALID_ARGUMENT', 'cuda');
    expectError(() => zeros([2, -1]), 'INVALID_ARGUMENT', '[2,-1]');
    expectError(() => tensor([1, 'a' as unknown as number]), 'INVALID_ARGUMENT', 'string');
    expectError(() => ones([2]).add('1' as unknown as number), 'INVALID_ARGUMENT', 'string');
  });
});
