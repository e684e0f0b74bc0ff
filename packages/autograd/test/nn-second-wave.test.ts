/**
 * The nn part of the second wave: the Module API (buffers, stateDict, apply, namedModules, any
 * forward signature), the new layers, nn.init and nn.utils. Expected values come from PyTorch's
 * documented formulas written out as scalar JS here, never from the engine's own output.
 */
import { describe, expect, it } from 'vitest';
import { autograd, manualSeed, nn, noGrad, ones, randn, tensor, zeros, type Tensor } from '../src/index.js';
import { errorOf } from './expect-error.js';
import { gradcheck, leaf } from './gradcheck.js';

const flat = (t: Tensor): number[] => Array.from(t.dataSync());
const close = (actual: number[], expected: number[], tol = 1e-5): void => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(Math.abs(a - expected[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i])));
  });
};

class Attention extends nn.Module<[Tensor, Tensor]> {
  proj = new nn.Linear(4, 4);
  forward(x: Tensor, mask?: Tensor): [Tensor, Tensor] {
    const y = this.proj.forward(x);
    return [mask ? y.mul(mask) : y, y.sum()];
  }
}

class Net extends nn.Module<{ a: Tensor; b: Tensor }> {
  body = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4), new nn.ReLU());
  heads = new nn.ModuleDict({ a: new nn.Linear(4, 2), b: new nn.Linear(4, 1, { bias: false }) });
  blocks = new nn.ModuleList([new nn.LayerNorm(4), new nn.Identity()]);
  forward(x: Tensor): { a: Tensor; b: Tensor } {
    let h = this.body.forward(x);
    for (const m of this.blocks) h = m.forward(h);
    return { a: this.heads.get('a').forward(h), b: this.heads.get('b').forward(h) };
  }
}

describe('Module API', () => {
  it('forward may take any arguments and return a tuple', () => {
    const m = new Attention();
    const [y, s] = m.forward(ones([2, 4]), zeros([2, 4]));
    expect(flat(y).map(Math.abs)).toEqual(Array<number>(8).fill(0));
    expect(s.shape).toEqual([]);
    const [y2] = m.forward(ones([2, 4]));
    expect(y2.shape).toEqual([2, 4]);
    // Any module, whatever its forward returns, is an nn.AnyModule.
    const all: nn.AnyModule[] = [m, new nn.Linear(2, 2), new nn.ModuleList()];
    expect(all.length).toBe(3);
    const list = new nn.ModuleList([m]);
    const [first] = list.at(0).forward(ones([1, 4]));
    expect(first.shape).toEqual([1, 4]);
  });

  it('namedModules / modules: the tree in PyTorch order with dotted names, itself first as ""', () => {
    const net = new Net();
    expect(net.namedModules().map(([n]) => n)).toEqual([
      '',
      'body',
      'body.0',
      'body.1',
      'body.2',
      'heads',
      'heads.a',
      'heads.b',
      'blocks',
      'blocks.0',
      'blocks.1',
    ]);
    expect(net.modules()[0]).toBe(net);
  });

  it('apply visits children before the module itself and returns it', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.Sequential(new nn.Tanh()));
    const seen: string[] = [];
    expect(
      seq.apply((m) => {
        seen.push(m.constructor.name);
      }),
    ).toBe(seq);
    expect(seen).toEqual(['Linear', 'Tanh', 'Sequential', 'Sequential']);
  });

  it('stateDict: parameters then buffers per module, dotted keys, camelCased buffer names', () => {
    const net = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
    expect(Object.keys(net.stateDict())).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '1.runningMean',
      '1.runningVar',
      '1.numBatchesTracked',
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['1.runningMean', '1.runningVar', '1.numBatchesTracked']);
    expect(net.buffers().length).toBe(3);
    // Buffers are not parameters.
    expect(net.parameters().length).toBe(4);
    const sd = net.stateDict();
    expect(sd['0.weight'].requiresGrad).toBe(false);
    expect(sd['1.numBatchesTracked'].dtype).toBe('int32');
  });

  it('registerBuffer: a property, non-persistent ones are left out of stateDict, null ones skipped', () => {
    class M extends nn.Module {
      constructor() {
        super();
        this.registerBuffer('scale', tensor([2, 3]));
        this.registerBuffer('cache', tensor([1]), { persistent: false });
        this.registerBuffer('absent', null);
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new M() as M & { scale: Tensor };
    expect(flat(m.scale)).toEqual([2, 3]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['scale', 'cache']);
    expect(Object.keys(m.stateDict())).toEqual(['scale']);
    expect(
      errorOf(() => {
        m.registerBuffer('bad.name', tensor([1]));
      }).code,
    ).toBe('INVALID_ARGUMENT');
  });

  it('loadStateDict copies values in place; strict errors name the missing and unexpected keys', () => {
    manualSeed(1);
    const a = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
    const b = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
    const w = b.at(0).parameters()[0];
    const before = w.version;
    expect(b.loadStateDict(a.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(w.version).toBeGreaterThan(before);
    expect(b.at(0).parameters()[0]).toBe(w);
    for (const [k, t] of Object.entries(a.stateDict())) expect(flat(b.stateDict()[k])).toEqual(flat(t));

    const partial = a.stateDict();
    delete partial['0.bias'];
    partial['extra.weight'] = ones([1]);
    const e = errorOf(() => b.loadStateDict(partial));
    expect(e.message).toContain('Missing key(s) in state_dict: "0.bias"');
    expect(e.message).toContain('Unexpected key(s) in state_dict: "extra.weight"');
    expect(b.loadStateDict(partial, { strict: false })).toEqual({ missingKeys: ['0.bias'], unexpectedKeys: ['extra.weight'] });

    const wrong = a.stateDict();
    wrong['0.weight'] = ones([3, 2]);
    const s = errorOf(() => b.loadStateDict(wrong, { strict: false }));
    expect(s.code).toBe('SHAPE_MISMATCH');
    expect(s.message).toContain(
      'size mismatch for 0.weight: copying a param with shape [3, 2] from checkpoint, the shape in current model is [2, 3]',
    );
  });

  it('requiresGrad_(false) freezes every parameter; true unfreezes', () => {
    const net = new Net();
    net.requiresGrad_(false);
    expect(net.parameters().every((p) => !p.requiresGrad)).toBe(true);
    net.heads.requiresGrad_();
    expect(net.parameters().filter((p) => p.requiresGrad).length).toBe(3);
  });

  it('ModuleList / ModuleDict register their modules under index and key names', () => {
    const net = new Net();
    const names = net.namedParameters().map(([n]) => n);
    expect(names).toEqual([
      'body.0.weight',
      'body.0.bias',
      'body.1.weight',
      'body.1.bias',
      'heads.a.weight',
      'heads.a.bias',
      'heads.b.weight',
      'blocks.0.weight',
      'blocks.0.bias',
    ]);
    const out = net.forward(randn([5, 3]));
    expect(out.a.shape).toEqual([5, 2]);
    expect(out.b.shape).toEqual([5, 1]);
    expect(net.blocks.length).toBe(2);
    expect(net.heads.keys()).toEqual(['a', 'b']);
    expect(errorOf(() => net.heads.get('c')).code).toBe('INVALID_ARGUMENT');
  });
});

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
