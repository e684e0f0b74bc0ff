/** Tensor creation: shapes, dtypes, conversion, and the seedable generator. */
import { describe, expect, it } from 'vitest';
import { manualSeed, ones, rand, randn, tensor, zeros } from '../src/index.js';

describe('tensor()', () => {
  it('infers shape from nesting; a number is 0-d; float32 by default', () => {
    expect(tensor(3).shape).toEqual([]);
    expect(tensor(3).toArray()).toBe(3);
    expect(
      tensor([
        [1, 2, 3],
        [4, 5, 6],
      ]).shape,
    ).toEqual([2, 3]);
    expect(tensor([[[1], [2]]]).toArray()).toEqual([[[1], [2]]]);
    expect(tensor([1.5]).dtype).toBe('float32');
    expect(tensor([]).shape).toEqual([0]);
  });

  it('typed arrays keep their dtype; float32 storage rounds as PyTorch float32 does', () => {
    expect(tensor(new Float64Array([0.1])).dtype).toBe('float64');
    expect(tensor(new Float64Array([0.1])).item()).toBe(0.1);
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(tensor([0.1]).item()).toBe(Math.fround(0.1));
  });

  it('int32 conversion truncates toward zero, like torch.tensor(..., dtype=torch.int32)', () => {
    expect(tensor([1.7, -1.7, 2.5], { dtype: 'int32' }).toArray()).toEqual([1, -1, 2]);
  });

  it('zeros, ones, with dtype and requiresGrad', () => {
    expect(zeros([2, 2]).toArray()).toEqual([
      [0, 0],
      [0, 0],
    ]);
    const o = ones([3], { dtype: 'float64', requiresGrad: true });
    expect([o.dtype, o.requiresGrad, o.isLeaf]).toEqual(['float64', true, true]);
    expect(zeros([]).toArray()).toBe(0);
    expect(ones([2, 0]).numel()).toBe(0);
  });
});

describe('random tensors and manualSeed', () => {
  it('the same seed gives the same samples; a different seed different ones', () => {
    manualSeed(42);
    const a = Array.from(randn([8]).dataSync());
    const b = Array.from(rand([8]).dataSync());
    manualSeed(42);
    expect(Array.from(randn([8]).dataSync())).toEqual(a);
    expect(Array.from(rand([8]).dataSync())).toEqual(b);
    manualSeed(43);
    expect(Array.from(randn([8]).dataSync())).not.toEqual(a);
  });

  it('rand is U[0, 1) and randn is N(0, 1) (moments of 20 000 samples, 6-sigma bounds)', () => {
    manualSeed(0);
    const n = 20_000;
    const u = Array.from(rand([n], { dtype: 'float64' }).dataSync());
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const uMean = u.reduce((s, v) => s + v, 0) / n;
    expect(Math.abs(uMean - 0.5)).toBeLessThan(6 * Math.sqrt(1 / 12 / n));
    const z = Array.from(randn([n], { dtype: 'float64' }).dataSync());
    const zMean = z.reduce((s, v) => s + v, 0) / n;
    const zVar = z.reduce((s, v) => s + (v - zMean) ** 2, 0) / n;
    expect(Math.abs(zMean)).toBeLessThan(6 / Math.sqrt(n));
    expect(Math.abs(zVar - 1)).toBeLessThan(6 * Math.sqrt(2 / n));
    // About 68.3% within one standard deviation.
    const within = z.filter((v) => Math.abs(v) < 1).length / n;
    expect(Math.abs(within - 0.6827)).toBeLessThan(0.02);
  });
});
