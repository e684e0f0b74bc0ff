/**
 * Semantics of the second-wave ops and creation functions, with expected values from PyTorch's
 * documentation (the examples of torch.arange, torch.linspace, torch.gather, torch.chunk, …) or
 * worked out by hand — never from the engine itself.
 */
import { describe, expect, it } from 'vitest';
import {
  arange,
  cat,
  eye,
  full,
  linspace,
  manualSeed,
  multinomial,
  noGrad,
  ones,
  onesLike,
  randint,
  randnLike,
  stack,
  tensor,
  where,
  zeros,
  zerosLike,
  type Tensor,
} from '../src/index.js';
import { errorOf } from './expect-error.js';

function expectError(fn: () => unknown, code: string, ...fragments: string[]): void {
  const err = errorOf(fn);
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
}
const close = (t: Tensor, expected: number[], digits = 5): void => {
  (t.toArray() as number[]).forEach((v, i) => {
    expect(v).toBeCloseTo(expected[i], digits);
  });
};

describe('creation: arange, linspace, full, eye, *Like, randint', () => {
  it('arange as torch.arange (integers give int32, PyTorch int64)', () => {
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5).dtype).toBe('int32');
    expect(arange(1, 4).toArray()).toEqual([1, 2, 3]);
    expect(arange(1, 2.5, 0.5).toArray()).toEqual([1, 1.5, 2]);
    expect(arange(1, 2.5, 0.5).dtype).toBe('float32');
    expect(arange(0, -3, -1).toArray()).toEqual([0, -1, -2]);
    expect(arange(3, { dtype: 'float64' }).dtype).toBe('float64');
    expect(arange(2, 2).toArray()).toEqual([]);
    expectError(() => arange(0, 4, 0), 'INVALID_ARGUMENT', 'step must be nonzero');
    expectError(() => arange(4, 1), 'INVALID_ARGUMENT', 'inconsistent with the sign of step');
    expectError(() => arange(Number.NaN), 'INVALID_ARGUMENT', 'end must be a finite number');
  });

  it('linspace as torch.linspace (both ends included)', () => {
    close(linspace(3, 10, 5), [3, 4.75, 6.5, 8.25, 10]);
    expect(linspace(-10, 10, 5).toArray()).toEqual([-10, -5, 0, 5, 10]);
    expect(linspace(0, 1, 1).toArray()).toEqual([0]);
    expect(linspace(0, 1, 0).toArray()).toEqual([]);
    expectError(() => linspace(0, 1, 2.5), 'INVALID_ARGUMENT', 'steps');
  });

  it('full, eye, zerosLike, onesLike, randnLike', () => {
    expect(full([2, 3], 1.5).toArray()).toEqual([
      [1.5, 1.5, 1.5],
      [1.5, 1.5, 1.5],
    ]);
    expect(full([2], 7, { dtype: 'int32' }).dtype).toBe('int32');
    expectError(() => full([2], 3e9, { dtype: 'int32' }), 'INVALID_ARGUMENT', 'int32 without overflow');
    expect(eye(3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
    expect(eye(2, 3).toArray()).toEqual([
      [1, 0, 0],
      [0, 1, 0],
    ]);
    expect(eye(2, { requiresGrad: true }).isLeaf).toBe(true);
    expect(eye(2, { requiresGrad: true }).requiresGrad).toBe(true);
    const i = tensor([[1, 2, 3]], { dtype: 'int32' });
    expect(zerosLike(i).toArray()).toEqual([[0, 0, 0]]);
    expect(zerosLike(i).dtype).toBe('int32');
    expect(onesLike(i, { dtype: 'float64' }).dtype).toBe('float64');
    expect(randnLike(ones([4, 2])).shape).toEqual([4, 2]);
    expectError(() => randnLike(i), 'DTYPE_MISMATCH', 'int32');
    expectError(() => zerosLike([1, 2] as unknown as Tensor), 'INVALID_ARGUMENT', 'must be a Tensor');
  });

  it('randint(high, shape) and randint(low, high, shape): int32 in [low, high), seeded', () => {
    manualSeed(7);
    const a = randint(3, 6, [200]);
    expect(a.dtype).toBe('int32');
    const vals = a.toArray() as number[];
    expect(vals.every((v) => v >= 3 && v < 6)).toBe(true);
    expect(new Set(vals)).toEqual(new Set([3, 4, 5]));
    manualSeed(7);
    expect(randint(3, 6, [200]).toArray()).toEqual(vals);
    const b = randint(10, [2, 2]);
    expect(b.shape).toEqual([2, 2]);
    expect((b.toArray() as number[][]).flat().every((v) => v >= 0 && v < 10)).toBe(true);
    expectError(() => randint(5, 5, [2]), 'INVALID_ARGUMENT', "'from' to be less than 'to'");
    expectError(() => randint(0.5, 2, [2]), 'INVALID_ARGUMENT', 'low must be an integer');
  });
});

describe('views share storage and the version counter, as PyTorch views', () => {
  it('slice, permute, unsqueeze, squeeze, view and split pieces alias their base', () => {
    const x = arange(12, { dtype: 'float32' }).reshape([3, 4]);
    const s = x.slice(1, 1, 3);
    noGrad(() => s.fill_(0));
    expect(x.toArray()).toEqual([
      [0, 0, 0, 3],
      [4, 0, 0, 7],
      [8, 0, 0, 11],
    ]);
    expect(x.version).toBe(1);
    const [, b] = x.split(2, 1);
    noGrad(() => b.fill_(9));
    expect(x.permute(1, 0).toArray()).toEqual([
      [0, 4, 8],
      [0, 0, 0],
      [9, 9, 9],
      [9, 9, 9],
    ]);
    expect(x.unsqueeze(0).squeeze(0).view(12).version).toBe(2);
  });

  it('in-place on a view of a leaf that requires grad is LEAF_INPLACE', () => {
    const w = ones([3, 4], { requiresGrad: true });
    expectError(() => w.slice(0, 1).mul_(2), 'LEAF_INPLACE', 'view of a leaf');
    expectError(() => w.maskedFill_(ones([4]), 0), 'LEAF_INPLACE');
  });

  it('view refuses strides that cannot express the shape (PyTorch: use reshape)', () => {
    const t = ones([3, 4]).transpose(0, 1);
    expectError(() => t.view(-1), 'SHAPE_MISMATCH', 'view size [12]', 'Use .reshape(...)');
    expect(t.reshape([-1]).shape).toEqual([12]);
    expect(ones([2, 3, 4]).transpose(0, 1).view(3, 2, 2, 2).shape).toEqual([3, 2, 2, 2]);
  });

  it('the gradFn of each op is named after it', () => {
    const x = ones([2, 3], { requiresGrad: true });
    expect(x.permute(1, 0).gradFn?.name).toBe('PermuteBackward');
    expect(x.slice(1, 0, 2).gradFn?.name).toBe('SliceBackward');
    expect(cat([x, x]).gradFn?.name).toBe('CatBackward');
    expect(x.maskedFill(ones([3]), 0).gradFn?.name).toBe('MaskedFillBackward');
  });
});

describe('shape ops as PyTorch', () => {
  it('unsqueeze / squeeze ranges and no-op squeeze of a non-1 dim', () => {
    expect(ones([2, 3]).unsqueeze(-1).shape).toEqual([2, 3, 1]);
    expect(ones([2, 3]).unsqueeze(0).shape).toEqual([1, 2, 3]);
    expectError(() => ones([2, 3]).unsqueeze(3), 'INVALID_ARGUMENT', 'dimension 3');
    expect(ones([1, 2, 1]).squeeze().shape).toEqual([2]);
    expect(ones([1, 2, 1]).squeeze(1).shape).toEqual([1, 2, 1]);
    expect(ones([1, 2, 1]).squeeze([0, 2]).shape).toEqual([2]);
    expect(ones([2, 3, 4, 5]).flatten(1, 2).shape).toEqual([2, 12, 5]);
    expect(tensor(3).flatten().shape).toEqual([1]);
  });

  it('permute and expand(-1) validate their arguments', () => {
    expectError(() => ones([2, 3]).permute(0, 0), 'INVALID_ARGUMENT', 'repeat');
    expectError(() => ones([2, 3]).permute(0), 'INVALID_ARGUMENT', 'each of the 2 dimensions');
    expect(ones([3, 1]).expand(-1, 4).shape).toEqual([3, 4]);
    expect(ones([3, 1]).expand([2, -1, 5]).shape).toEqual([2, 3, 5]);
    expectError(() => ones([3, 1]).expand(-1, 3, 1), 'INVALID_ARGUMENT', 'leading, new dimension');
  });

  it('slice clamps like Python slicing; negative start/end count from the end', () => {
    const x = arange(7);
    expect(x.slice(0, 5, 100).toArray()).toEqual([5, 6]);
    expect(x.slice(0, -100, 2).toArray()).toEqual([0, 1]);
    expect(x.slice(0, -3).toArray()).toEqual([4, 5, 6]);
    expect(x.slice(0, 1, null, 3).toArray()).toEqual([1, 4]);
    expect(x.slice(0, 5, 2).toArray()).toEqual([]);
    expectError(() => x.slice(0, 0, 5, 0), 'INVALID_ARGUMENT', 'step must be a positive integer');
  });

  it('split and chunk sizes (torch.chunk(6 elements, 4) gives 3 chunks of 2)', () => {
    expect(
      arange(5)
        .split(2)
        .map((t) => t.toArray()),
    ).toEqual([[0, 1], [2, 3], [4]]);
    expect(
      arange(5)
        .split([1, 4])
        .map((t) => t.shape[0]),
    ).toEqual([1, 4]);
    expect(
      arange(6)
        .chunk(4)
        .map((t) => t.toArray()),
    ).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(
      arange(7)
        .chunk(3)
        .map((t) => t.shape[0]),
    ).toEqual([3, 3, 1]);
    expectError(() => arange(5).split([1, 3]), 'INVALID_ARGUMENT', 'summing to 5');
    expectError(() => arange(5).chunk(0), 'INVALID_ARGUMENT', 'chunks must be a positive integer');
  });

  it('cat and stack: shapes, dtype promotion, and errors', () => {
    const a = tensor([[1, 2]]);
    const b = tensor([
      [3, 4],
      [5, 6],
    ]);
    expect(cat([a, b]).toArray()).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
    ]);
    expect(cat([a, tensor([[1, 2]], { dtype: 'float64' })], -1).dtype).toBe('float64');
    expect(stack([a, a], 2).shape).toEqual([1, 2, 2]);
    expect(stack([tensor(1), tensor(2)]).toArray()).toEqual([1, 2]);
    expectError(() => cat([a, ones([2, 3])]), 'SHAPE_MISMATCH', 'except in dimension 0', '[2, 3]');
    expectError(() => stack([a, b]), 'SHAPE_MISMATCH', 'equal size');
    expectError(() => cat([tensor(1), tensor(2)]), 'INVALID_ARGUMENT', 'zero-dimensional');
    expectError(() => cat([] as Tensor[]), 'INVALID_ARGUMENT', 'non-empty array');
  });
});

describe('selection and reductions as PyTorch', () => {
  it('gather (the torch.gather example) and its errors', () => {
    const t = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(
      t
        .gather(
          1,
          tensor(
            [
              [0, 0],
              [1, 0],
            ],
            { dtype: 'int32' },
          ),
        )
        .toArray(),
    ).toEqual([
      [1, 1],
      [4, 3],
    ]);
    expectError(
      () => t.gather(1, tensor([[0, 2]], { dtype: 'int32' })),
      'INVALID_ARGUMENT',
      'index 2 is out of bounds for dimension 1 with size 2',
    );
    expectError(() => t.gather(1, tensor([[0, 1]])), 'DTYPE_MISMATCH', 'int32');
    expectError(() => t.gather(0, tensor([[0, 0, 0]], { dtype: 'int32' })), 'SHAPE_MISMATCH', 'dimension 1');
  });

  it('max/min with and without dim, argmax/argmin (first occurrence)', () => {
    const t = tensor([
      [1, 5, 5],
      [7, 2, 7],
    ]);
    const { values, indices } = t.max(1);
    expect(values.toArray()).toEqual([5, 7]);
    expect(indices.toArray()).toEqual([1, 0]);
    expect(t.min(0, true).values.toArray()).toEqual([[1, 2, 5]]);
    expect(t.max().item()).toBe(7);
    expect(t.argmax().item()).toBe(3);
    expect(t.argmin(1).toArray()).toEqual([0, 1]);
    expect(t.argmax(1, true).shape).toEqual([2, 1]);
    expectError(() => zeros([0]).max(), 'INVALID_ARGUMENT', 'empty');
  });

  it('norm, var, std values (torch.norm / torch.var defaults: p = 2, correction = 1)', () => {
    const v = tensor([3, -4]);
    expect(v.norm().item()).toBe(5);
    expect(v.norm(1).item()).toBe(7);
    expect(v.norm(Infinity).item()).toBe(4);
    expect(v.norm(0).item()).toBe(2);
    close(
      tensor([
        [1, 2],
        [3, 4],
      ]).norm(2, 1),
      [Math.sqrt(5), 5],
    );
    const x = tensor([1, 2, 3, 4], { dtype: 'float64' });
    expect(x.var().item()).toBeCloseTo(5 / 3, 12);
    expect(x.var(0, { correction: 0 }).item()).toBeCloseTo(1.25, 12);
    expect(x.std().item()).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(
      tensor([
        [1, 3],
        [2, 2],
      ])
        .var(1, { keepdim: true })
        .toArray(),
    ).toEqual([[2], [0]]);
    expectError(() => x.var(0, { unbiased: false } as unknown as object), 'INVALID_ARGUMENT', "'unbiased'", 'correction');
    expectError(() => tensor([1, 2], { dtype: 'int32' }).var(), 'DTYPE_MISMATCH', 'int32');
  });

  it('tril/triu with offsets, where, maskedFill, clamp, log1p, float/int', () => {
    const m = ones([3, 3]);
    expect(m.tril().toArray()).toEqual([
      [1, 0, 0],
      [1, 1, 0],
      [1, 1, 1],
    ]);
    expect(m.triu(1).toArray()).toEqual([
      [0, 1, 1],
      [0, 0, 1],
      [0, 0, 0],
    ]);
    expect(m.tril(-1).toArray()).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [1, 1, 0],
    ]);
    expectError(() => ones([3]).tril(), 'SHAPE_MISMATCH', 'at least 2 dimensions');
    const x = tensor([-2, 0.5, 3]);
    expect(where(x.gt(0), x, 0).toArray()).toEqual([0, 0.5, 3]);
    expect(where(tensor([1, 0, 1]), 1, -1).toArray()).toEqual([1, -1, 1]);
    expect(x.maskedFill(tensor([0, 1, 1]), -1).toArray()).toEqual([-2, -1, -1]);
    expect(x.clamp(0).toArray()).toEqual([0, 0.5, 3]);
    expect(x.clamp(null, 1).toArray()).toEqual([-2, 0.5, 1]);
    expectError(() => x.clamp(), 'INVALID_ARGUMENT', 'at least one of min and max');
    expect(tensor([1e-10], { dtype: 'float64' }).log1p().item()).toBeCloseTo(1e-10, 20);
    expect(tensor([1.9, -1.9]).int().toArray()).toEqual([1, -1]);
    expect(tensor([1, 2], { dtype: 'int32' }).float().dtype).toBe('float32');
    expect(x.float()).toBe(x);
  });
});

describe('multinomial as torch.multinomial', () => {
  it('with replacement: frequencies follow the weights; zero weights are never drawn; seeded', () => {
    manualSeed(11);
    const w = tensor([1, 0, 3, 6]);
    const draws = multinomial(w, 20000, true);
    expect(draws.dtype).toBe('int32');
    expect(draws.shape).toEqual([20000]);
    const counts = [0, 0, 0, 0];
    for (const v of draws.toArray() as number[]) counts[v]++;
    expect(counts[1]).toBe(0);
    [0.1, 0, 0.3, 0.6].forEach((p, i) => {
      expect(Math.abs(counts[i] / 20000 - p)).toBeLessThan(0.015);
    });
    manualSeed(11);
    expect(multinomial(w, 20000, true).toArray()).toEqual(draws.toArray());
  });

  it('without replacement: distinct categories per row, the first draw ∝ weights, all n gives a permutation', () => {
    manualSeed(3);
    const rows = 6000;
    const w = tensor(Array.from({ length: rows }, () => [2, 0, 1, 5]));
    const draws = multinomial(w, 3).toArray() as number[][];
    const first = [0, 0, 0, 0];
    for (const row of draws) {
      expect(new Set(row).size).toBe(3);
      expect(row).not.toContain(1);
      first[row[0]]++;
    }
    [2 / 8, 0, 1 / 8, 5 / 8].forEach((p, i) => {
      expect(Math.abs(first[i] / rows - p)).toBeLessThan(0.02);
    });
    expect((multinomial(tensor([1, 1, 1, 1, 1]), 5).toArray() as number[]).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses what PyTorch refuses', () => {
    expectError(() => multinomial(tensor([1, -1]), 1), 'INVALID_ARGUMENT', 'element < 0');
    expectError(() => multinomial(tensor([1, Number.NaN]), 1), 'INVALID_ARGUMENT', 'nan');
    expectError(
      () =>
        multinomial(
          tensor([
            [1, 1],
            [0, 0],
          ]),
          1,
        ),
      'INVALID_ARGUMENT',
      'row 1',
      'sums to 0',
    );
    expectError(() => multinomial(tensor([1, 1]), 3), 'INVALID_ARGUMENT', 'without replacement');
    expectError(() => multinomial(tensor([1, 0, 0]), 2), 'INVALID_ARGUMENT', 'not enough non-negative category');
    expectError(() => multinomial(tensor([1, 2], { dtype: 'int32' }), 1), 'DTYPE_MISMATCH');
    expectError(() => multinomial(ones([2, 2, 2]), 1), 'SHAPE_MISMATCH', '1 or 2 dim');
    expectError(() => multinomial(tensor([1, 2]), 0), 'INVALID_ARGUMENT', 'numSamples');
  });
});
