/**
 * The nn part of the second wave (see nn-second-wave.test.ts): nn.init's fills and nn.utils' gradient
 * clipping, against PyTorch's documented formulas.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, tensor, zeros, type Tensor } from '../src/index.js';
import { errorOf } from './expect-error.js';
import { close, flat } from './tensor-close.js';

describe('nn.init', () => {
  it('fills in place under no-grad: not recorded, still a leaf, version bumped, returns the tensor', () => {
    const lin = new nn.Linear(30, 20);
    const w = lin.weight;
    const v0 = w.version;
    expect(nn.init.xavierUniform_(w)).toBe(w);
    expect(w.version).toBeGreaterThan(v0);
    expect(w.isLeaf && w.requiresGrad && w.gradFn === null).toBe(true);
    const bound = Math.sqrt(6 / 50);
    const vals = flat(w);
    expect(vals.every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(Math.max(...vals.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    nn.init.zeros_(lin.bias as Tensor);
    expect(flat(lin.bias as Tensor)).toEqual(Array<number>(20).fill(0));
    nn.init.ones_(w);
    expect(flat(w).every((v) => v === 1)).toBe(true);
  });

  it('standard deviations: kaimingNormal_ gain/√fan, xavierNormal_ gain·√(2/(fanIn + fanOut)), normal_', () => {
    const std = (t: Tensor): number => {
      const v = flat(t);
      const m = v.reduce((a, b) => a + b) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
    };
    manualSeed(5);
    const t = zeros([200, 100]);
    nn.init.kaimingNormal_(t);
    expect(std(t) / (Math.SQRT2 / Math.sqrt(100))).toBeCloseTo(1, 1);
    nn.init.kaimingNormal_(t, { mode: 'fanOut', nonlinearity: 'relu' });
    expect(std(t) / (Math.SQRT2 / Math.sqrt(200))).toBeCloseTo(1, 1);
    nn.init.xavierNormal_(t, 2);
    expect(std(t) / (2 * Math.sqrt(2 / 300))).toBeCloseTo(1, 1);
    nn.init.normal_(t, 3, 0.5);
    expect(flat(t).reduce((a, b) => a + b) / t.numel()).toBeCloseTo(3, 1);
    // kaimingUniform_(a = √5) gives Linear's default bound 1/√fanIn.
    nn.init.kaimingUniform_(t, { a: Math.sqrt(5) });
    const b = 1 / Math.sqrt(100);
    expect(flat(t).every((v) => Math.abs(v) <= b + 1e-7)).toBe(true);
    expect(nn.init.calculateGain('tanh')).toBeCloseTo(5 / 3, 12);
    expect(nn.init.calculateGain('leaky_relu', 0.2)).toBeCloseTo(Math.sqrt(2 / 1.04), 12);
    expect(errorOf(() => nn.init.xavierUniform_(zeros([3]))).code).toBe('SHAPE_MISMATCH');
  });

  it('uniform_ is reproducible under manualSeed and stays in [a, b)', () => {
    const t = zeros([100]);
    manualSeed(11);
    nn.init.uniform_(t, -2, 3);
    const a = flat(t);
    manualSeed(11);
    nn.init.uniform_(t, -2, 3);
    expect(flat(t)).toEqual(a);
    expect(a.every((v) => v >= -2 && v < 3)).toBe(true);
  });
});

describe('nn.utils', () => {
  it('clipGradNorm_ returns the total 2-norm and scales by maxNorm/(total + 1e-6) when that is below 1', () => {
    const a = zeros([2], { dtype: 'float64' }).requiresGrad_();
    const b = zeros([1], { dtype: 'float64' }).requiresGrad_();
    const c = zeros([1], { dtype: 'float64' }).requiresGrad_();
    a.grad = tensor([3, 0], { dtype: 'float64' });
    b.grad = tensor([4], { dtype: 'float64' });
    const total = nn.utils.clipGradNorm_([a, b, c], 1);
    expect(total.item()).toBeCloseTo(5, 12);
    const coef = 1 / (5 + 1e-6);
    close(flat(a.grad), [3 * coef, 0], 1e-12);
    close(flat(b.grad), [4 * coef], 1e-12);
    expect(c.grad).toBeNull();
    // Under the limit nothing is written.
    const v = a.grad.version;
    expect(nn.utils.clipGradNorm_([a, b], 10).item()).toBeCloseTo(5 * coef, 10);
    expect(a.grad.version).toBe(v);
    expect(nn.utils.clipGradNorm_(c, 1).item()).toBe(0);
  });

  it('clipGradNorm_ with normType Infinity and 1', () => {
    const a = zeros([3], { dtype: 'float64' }).requiresGrad_();
    a.grad = tensor([1, -6, 2], { dtype: 'float64' });
    expect(nn.utils.clipGradNorm_([a], 3, Infinity).item()).toBeCloseTo(6, 12);
    close(
      flat(a.grad),
      [1, -6, 2].map((g) => g * (3 / (6 + 1e-6))),
      1e-12,
    );
    a.grad = tensor([1, -6, 2], { dtype: 'float64' });
    expect(nn.utils.clipGradNorm_([a], 100, 1).item()).toBeCloseTo(9, 12);
  });

  it('clipGradValue_ clamps each gradient element', () => {
    const a = zeros([4]).requiresGrad_();
    a.grad = tensor([-3, -0.5, 0.25, 9]);
    nn.utils.clipGradValue_([a], 1);
    expect(flat(a.grad)).toEqual([-1, -0.5, 0.25, 1]);
  });
});
