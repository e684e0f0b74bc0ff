/**
 * The nn part of the second wave (see nn-second-wave.test.ts): the new layers, against PyTorch's
 * documented formulas written out as scalar JS, and gradient checks of the composed ones.
 */
import { describe, expect, it } from 'vitest';
import { autograd, manualSeed, nn, noGrad, ones, randn, tensor, type Tensor } from '../src/index.js';
import { errorOf } from './expect-error.js';
import { gradcheck, leaf } from './gradcheck.js';
import { close, flat } from './tensor-close.js';

describe('layers', () => {
  it('Identity and Flatten', () => {
    const x = randn([2, 3, 4]);
    expect(new nn.Identity().forward(x)).toBe(x);
    expect(new nn.Flatten().forward(x).shape).toEqual([2, 12]);
    expect(new nn.Flatten(0).forward(x).shape).toEqual([24]);
  });

  it('LeakyReLU: slope below zero, derivative at 0 is the slope (x > 0 ? 1 : slope)', () => {
    const x = tensor([-2, 0, 3], { dtype: 'float64' }).requiresGrad_();
    const y = new nn.LeakyReLU(0.2).forward(x);
    close(flat(y), [-0.4, 0, 3], 1e-12);
    y.sum().backward();
    close(flat(x.grad as Tensor), [0.2, 0.2, 1], 1e-12);
    close(flat(new nn.LeakyReLU().forward(tensor([-1]))), [-0.01]);
  });

  it('SiLU and GELU against x·σ(x) and x·Φ(x)', () => {
    const xs = [-3, -1, -0.5, 0, 0.5, 1, 2, 4];
    const x = tensor(xs, { dtype: 'float64' });
    close(
      flat(new nn.SiLU().forward(x)),
      xs.map((v) => v / (1 + Math.exp(-v))),
      1e-12,
    );
    // Φ(x) values from the standard normal table (erf to 16 digits).
    const phi: Record<number, number> = {
      [-3]: 0.0013498980316300946,
      [-1]: 0.15865525393145707,
      [-0.5]: 0.3085375387259869,
      0: 0.5,
      0.5: 0.6914624612740131,
      1: 0.8413447460685429,
      2: 0.9772498680518208,
      4: 0.9999683287581669,
    };
    close(
      flat(new nn.GELU().forward(x)),
      xs.map((v) => v * phi[v]),
      2e-7,
    );
    const c = Math.sqrt(2 / Math.PI);
    close(
      flat(new nn.GELU({ approximate: 'tanh' }).forward(x)),
      xs.map((v) => 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v ** 3)))),
      1e-12,
    );
    // dGELU/dx = Φ(x) + x·φ(x).
    const g = tensor(xs, { dtype: 'float64' }).requiresGrad_();
    nn.functional.gelu(g).sum().backward();
    close(
      flat(g.grad as Tensor),
      xs.map((v) => phi[v] + (v * Math.exp((-v * v) / 2)) / Math.sqrt(2 * Math.PI)),
      1e-6,
    );
    expect(errorOf(() => new nn.GELU({ approximate: 'fast' as 'tanh' })).code).toBe('INVALID_ARGUMENT');
  });

  it('Softmax(dim)', () => {
    const y = new nn.Softmax(-1).forward(
      tensor(
        [
          [1, 2],
          [0, 0],
        ],
        { dtype: 'float64' },
      ),
    );
    const e = Math.exp(1) / (Math.exp(1) + Math.exp(2));
    close(flat(y), [e, 1 - e, 0.5, 0.5], 1e-12);
  });

  it('Dropout: zeros or x/(1-p) in training, identity in eval, reproducible under manualSeed', () => {
    const drop = new nn.Dropout(0.25);
    const x = ones([4000]);
    manualSeed(7);
    const a = flat(drop.forward(x));
    manualSeed(7);
    const b = flat(drop.forward(x));
    expect(a).toEqual(b);
    expect(a.every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    const dropped = a.filter((v) => v === 0).length / a.length;
    expect(Math.abs(dropped - 0.25)).toBeLessThan(0.03);
    drop.eval();
    expect(drop.forward(x)).toBe(x);
    expect(flat(new nn.Dropout(1).forward(ones([3])))).toEqual([0, 0, 0]);
    expect(errorOf(() => new nn.Dropout(1.5)).code).toBe('INVALID_ARGUMENT');
    // The gradient is the same mask, scaled.
    const p = ones([50]).requiresGrad_();
    manualSeed(3);
    const y = nn.functional.dropout(p, 0.5, true);
    y.sum().backward();
    expect(flat(p.grad as Tensor)).toEqual(flat(y));
  });

  it('Embedding: rows of the weight by index; repeated indices accumulate gradient', () => {
    manualSeed(0);
    const emb = new nn.Embedding(4, 3);
    const w = [...flat(emb.weight)];
    const idx = tensor(
      [
        [0, 2],
        [2, 3],
      ],
      { dtype: 'int32' },
    );
    const y = emb.forward(idx);
    expect(y.shape).toEqual([2, 2, 3]);
    expect(flat(y)).toEqual([...w.slice(0, 3), ...w.slice(6, 9), ...w.slice(6, 9), ...w.slice(9, 12)]);
    y.sum().backward();
    expect(flat(emb.weight.grad as Tensor)).toEqual([1, 1, 1, 0, 0, 0, 2, 2, 2, 1, 1, 1]);
  });

  it('LayerNorm: (x - mean)/√(biased var + eps)·γ + β over the last dims', () => {
    const rows = [
      [1, 2, 4, 7],
      [-1, 0, 0, 3],
    ];
    const ln = new nn.LayerNorm(4, { eps: 1e-5 });
    noGrad(() => {
      ln.weight?.copy_(tensor([1, 2, 0.5, -1]));
      ln.bias?.copy_(tensor([0, 1, 0, 0.25]));
    });
    const y = ln.forward(tensor(rows));
    const expected = rows.flatMap((r) => {
      const m = r.reduce((a, b) => a + b) / 4;
      const v = r.reduce((a, b) => a + (b - m) ** 2, 0) / 4;
      return r.map((x, i) => ((x - m) / Math.sqrt(v + 1e-5)) * [1, 2, 0.5, -1][i] + [0, 1, 0, 0.25][i]);
    });
    close(flat(y), expected, 1e-5);
    expect(new nn.LayerNorm([2, 4], { elementwiseAffine: false }).parameters().length).toBe(0);
    expect(Object.keys(new nn.LayerNorm(3).stateDict())).toEqual(['weight', 'bias']);
  });

  it('BatchNorm1d: batch statistics in training (biased for the output, unbiased for runningVar), running ones in eval', () => {
    const data = [
      [1, 10],
      [2, 14],
      [4, 9],
      [9, 7],
    ];
    const bn = new nn.BatchNorm1d(2);
    const y = bn.forward(tensor(data));
    const cols = [0, 1].map((c) => data.map((r) => r[c]));
    const mean = cols.map((c) => c.reduce((a, b) => a + b) / 4);
    const biased = cols.map((c, j) => c.reduce((a, b) => a + (b - mean[j]) ** 2, 0) / 4);
    const unbiased = biased.map((v) => (v * 4) / 3);
    close(
      flat(y),
      data.flatMap((r) => r.map((x, j) => (x - mean[j]) / Math.sqrt(biased[j] + 1e-5))),
      1e-5,
    );
    close(
      flat(bn.runningMean as Tensor),
      mean.map((m) => 0.1 * m),
    );
    close(
      flat(bn.runningVar as Tensor),
      unbiased.map((v) => 0.9 + 0.1 * v),
    );
    expect(flat(bn.numBatchesTracked as Tensor)).toEqual([1]);
    bn.eval();
    const z = bn.forward(tensor([[3, 3]]));
    close(
      flat(z),
      [0, 1].map((j) => (3 - 0.1 * mean[j]) / Math.sqrt(0.9 + 0.1 * unbiased[j] + 1e-5)),
    );
    expect(flat(bn.numBatchesTracked as Tensor)).toEqual([1]);
    bn.train();
    expect(errorOf(() => bn.forward(tensor([[1, 2]]))).code).toBe('SHAPE_MISMATCH');
  });

  it('BatchNorm1d on [N, C, L] reduces over N and L; momentum null is the cumulative average', () => {
    const bn = new nn.BatchNorm1d(2, { momentum: null, affine: false });
    expect(bn.parameters().length).toBe(0);
    const x1 = tensor([
      [
        [1, 3],
        [0, 0],
      ],
      [
        [5, 7],
        [2, 2],
      ],
    ]);
    const y = bn.forward(x1);
    // channel 0: {1, 3, 5, 7} mean 4 biased var 5 unbiased 20/3; channel 1: {0, 0, 2, 2} mean 1 var 1, 4/3.
    close(
      flat(y),
      [1, 3, 0, 0, 5, 7, 2, 2].map((v, i) => (Math.floor(i / 2) % 2 === 0 ? (v - 4) / Math.sqrt(5 + 1e-5) : (v - 1) / Math.sqrt(1 + 1e-5))),
    );
    close(flat(bn.runningMean as Tensor), [4, 1]);
    close(flat(bn.runningVar as Tensor), [20 / 3, 4 / 3]);
    bn.forward(
      tensor([
        [
          [0, 0],
          [1, 1],
        ],
        [
          [0, 0],
          [1, 1],
        ],
      ]),
    );
    close(flat(bn.runningMean as Tensor), [2, 1]);
    close(flat(bn.runningVar as Tensor), [10 / 3, 2 / 3]);
  });

  it('BatchNorm2d normalises each channel over N, H and W', () => {
    // channel 0 holds 1..8, channel 1 holds 2·(1..8) over N = 2, H = 2, W = 2.
    const vals = [1, 2, 3, 4, 2, 4, 6, 8, 5, 6, 7, 8, 10, 12, 14, 16];
    const bn = new nn.BatchNorm2d(2, { eps: 0 });
    const y = bn.forward(tensor(vals).reshape([2, 2, 2, 2]));
    const z = [1, 2, 3, 4, 5, 6, 7, 8].map((v) => (v - 4.5) / Math.sqrt(5.25));
    close(flat(y), [...z.slice(0, 4), ...z.slice(0, 4), ...z.slice(4), ...z.slice(4)]);
    close(flat(bn.runningMean as Tensor), [0.45, 0.9]);
    close(flat(bn.runningVar as Tensor), [0.9 + 0.1 * 6, 0.9 + 0.1 * 24]);
    expect(Object.keys(new nn.Sequential(new nn.Conv2d(1, 2, 1), new nn.BatchNorm2d(2)).stateDict())).toContain('1.runningVar');
    expect(
      errorOf(() =>
        bn.forward(
          tensor([
            [1, 2],
            [3, 4],
          ]),
        ),
      ).code,
    ).toBe('SHAPE_MISMATCH');
  });

  it('gradient checks of the composed layers (float64)', () => {
    gradcheck((x) => nn.functional.gelu(x), [leaf([7], 1)], { rtol: 1e-5, atol: 1e-6 });
    // The CPU's fused GELU kernel: a transposed (non-contiguous) input, and the second derivative
    // (its backward is the op geluGrad, whose own backward is φ(x)·(2 − x²)). The tolerances are the
    // first-order check's: the kernel's Φ is a 1.2e-7-relative fit whose slope differs from φ by ~1e-6.
    gradcheck((x) => nn.functional.gelu(x.transpose(0, 1)).mul(x.transpose(0, 1).exp()), [leaf([3, 5], 11)], { rtol: 1e-5, atol: 1e-6 });
    gradcheck(
      (x) => {
        const [g] = autograd.grad(nn.functional.gelu(x).mul(x).sum(), [x], { createGraph: true });
        return g as Tensor;
      },
      [leaf([9], 12)],
      { rtol: 1e-5, atol: 1e-6 },
    );
    gradcheck((x) => nn.functional.gelu(x, { approximate: 'tanh' }), [leaf([7], 2)]);
    gradcheck((x) => nn.functional.silu(x), [leaf([7], 3)]);
    gradcheck((x) => nn.functional.leakyRelu(x, 0.1), [leaf([7], 4)]);
    gradcheck((x, w, b) => nn.functional.layerNorm(x, [4], w, b), [leaf([3, 4], 5), leaf([4], 6), leaf([4], 7)]);
    gradcheck(
      (w) =>
        nn.functional.embedding(
          tensor(
            [
              [1, 0],
              [1, 2],
            ],
            { dtype: 'int32' },
          ),
          w,
        ),
      [leaf([3, 2], 8)],
    );
    gradcheck(
      (x, w, b) => {
        const bn = new nn.BatchNorm1d(3, { affine: false });
        return bn.forward(x).mul(w).add(b);
      },
      [leaf([4, 3], 9), leaf([3], 10), leaf([3], 11)],
    );
  });
});
