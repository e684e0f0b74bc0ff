/** nn: module registration and names, train/eval, Linear, Sequential, activations, losses. */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, ones, tensor, type Tensor } from '../src/index.js';
import { errorOf } from './expect-error.js';

const F = nn.functional;

class TwoLayer extends nn.Module {
  layer1 = new nn.Linear(4, 3);
  act = new nn.ReLU();
  layer2 = new nn.Linear(3, 2, { bias: false });
  forward(x: Tensor): Tensor {
    return this.layer2.forward(this.act.forward(this.layer1.forward(x)));
  }
}

class Nested extends nn.Module {
  features = new nn.Sequential(new nn.Linear(4, 4), new nn.Tanh(), new nn.Linear(4, 3));
  head = new TwoLayer();
  blocks = [new nn.Linear(2, 2), new nn.Linear(2, 2, { bias: false })];
  scale = new nn.Parameter(ones([1]));
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x).matmul(ones([3, 4]))).mul(this.scale);
  }
}

describe('parameter registration and PyTorch dotted names', () => {
  it('Sequential children are named 0, 1, …; modules without parameters add no names', () => {
    const net = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 1));
    expect(net.namedParameters().map(([n]) => n)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    expect(net.children().length).toBe(3);
  });

  it('a class with fields names them after the fields, in declaration order', () => {
    const m = new TwoLayer();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['layer1.weight', 'layer1.bias', 'layer2.weight']);
    expect(m.namedParameters().map(([, p]) => p)).toEqual([m.layer1.weight, m.layer1.bias, m.layer2.weight]);
    expect(m.parameters()).toEqual([m.layer1.weight, m.layer1.bias, m.layer2.weight]);
  });

  it('nested modules, arrays of modules and direct parameters', () => {
    const m = new Nested();
    expect(m.namedParameters().map(([n]) => n)).toEqual([
      'scale',
      'features.0.weight',
      'features.0.bias',
      'features.2.weight',
      'features.2.bias',
      'head.layer1.weight',
      'head.layer1.bias',
      'head.layer2.weight',
      'blocks.0.weight',
      'blocks.0.bias',
      'blocks.1.weight',
    ]);
    expect(m.namedParameters('model')[0][0]).toBe('model.scale');
    expect(m.children()).toEqual([m.features, m.head, m.blocks[0], m.blocks[1]]);
  });

  it('a shared parameter or module appears once, under its first name', () => {
    class Tied extends nn.Module {
      encoder = new nn.Linear(3, 3);
      decoder = new nn.Linear(3, 3);
      again: nn.Linear;
      constructor() {
        super();
        this.decoder.weight = this.encoder.weight;
        this.again = this.encoder;
      }
      forward(x: Tensor): Tensor {
        return this.decoder.forward(this.encoder.forward(x));
      }
    }
    const m = new Tied();
    expect(m.namedParameters().map(([n]) => n)).toEqual(['encoder.weight', 'encoder.bias', 'decoder.bias']);
    expect(new Set(m.parameters()).size).toBe(3);
  });

  it('frozen parameters are still listed (PyTorch filters nothing)', () => {
    const m = new TwoLayer();
    m.layer1.weight.requiresGrad = false;
    expect(m.parameters()).toContain(m.layer1.weight);
  });

  it("nn.Parameter is a leaf that requires grad and shares the given tensor's memory", () => {
    const t = tensor([1, 2]);
    const p = new nn.Parameter(t);
    expect([p.isLeaf, p.requiresGrad]).toEqual([true, true]);
    t.setItem_(0, 10);
    expect(p.toArray()).toEqual([10, 2]);
    expect(new nn.Parameter(t, false).requiresGrad).toBe(false);
    expect(errorOf(() => new nn.Parameter([1, 2] as unknown as Tensor)).code).toBe('INVALID_ARGUMENT');
  });
});

describe('train() and eval()', () => {
  it('propagate to every descendant and return the module', () => {
    const m = new Nested();
    const all = (): boolean[] =>
      [m, m.features, m.features.at(0), m.features.at(1), m.head, m.head.layer1, m.head.act, m.blocks[0], m.blocks[1]].map(
        (x) => x.training,
      );
    expect(all().every(Boolean)).toBe(true);
    expect(m.eval()).toBe(m);
    expect(all().some(Boolean)).toBe(false);
    m.train();
    expect(all().every(Boolean)).toBe(true);
    m.train(false);
    expect(all().some(Boolean)).toBe(false);
  });
});

describe('nn.Linear', () => {
  it('initialises weight and bias from U(-1/√in, 1/√in), as PyTorch', () => {
    manualSeed(1);
    const lin = new nn.Linear(64, 32);
    const bound = 1 / Math.sqrt(64);
    const w = Array.from(lin.weight.dataSync());
    const b = Array.from(lin.bias?.dataSync() ?? []);
    expect(lin.weight.shape).toEqual([32, 64]);
    expect(lin.bias?.shape).toEqual([32]);
    for (const v of [...w, ...b]) expect(Math.abs(v)).toBeLessThanOrEqual(bound);
    // Spread over the whole interval (not zeros, not a constant): mean ≈ 0, variance ≈ bound²/3.
    const mean = w.reduce((s, v) => s + v, 0) / w.length;
    const variance = w.reduce((s, v) => s + (v - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.1 * bound);
    expect(variance).toBeGreaterThan((0.8 * (bound * bound)) / 3);
    expect(variance).toBeLessThan((1.2 * (bound * bound)) / 3);
    expect(Math.max(...w)).toBeGreaterThan(0.9 * bound);
    expect(Math.min(...w)).toBeLessThan(-0.9 * bound);
  });

  it('computes x Wᵀ + b for [in], [N, in] and [B, N, in] inputs', () => {
    const lin = new nn.Linear(2, 3);
    lin.weight = new nn.Parameter(
      tensor([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
    );
    lin.bias = new nn.Parameter(tensor([0.5, -0.5, 1]));
    expect(lin.forward(tensor([1, -1])).toArray()).toEqual([-0.5, -1.5, 0]);
    expect(
      lin
        .forward(
          tensor([
            [1, -1],
            [0, 2],
          ]),
        )
        .toArray(),
    ).toEqual([
      [-0.5, -1.5, 0],
      [4.5, 7.5, 13],
    ]);
    const batched = lin.forward(tensor([[[1, -1]], [[0, 2]]]));
    expect(batched.shape).toEqual([2, 1, 3]);
    expect(batched.toArray()).toEqual([[[-0.5, -1.5, 0]], [[4.5, 7.5, 13]]]);
    const noBias = new nn.Linear(2, 3, { bias: false });
    expect(noBias.bias).toBeNull();
    expect(noBias.parameters()).toEqual([noBias.weight]);
  });

  it('rejects an input whose last dimension is not inFeatures (SHAPE_MISMATCH naming the shape)', () => {
    const lin = new nn.Linear(4, 2);
    const err = errorOf(() => lin.forward(ones([3, 5])));
    expect(err.code).toBe('SHAPE_MISMATCH');
    expect(err.message).toContain('[3, 5]');
    expect(err.message).toContain('4');
  });

  it('rejects feature counts that are not positive integers', () => {
    for (const [i, o] of [
      [0, 2],
      [2, -1],
      [1.5, 2],
      [Number.NaN, 2],
    ]) {
      expect(errorOf(() => new nn.Linear(i, o)).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('nn.Sequential and activations', () => {
  it('runs modules in order; at() indexes (negative from the end); bad indices and non-modules are refused', () => {
    const net = new nn.Sequential(new nn.ReLU(), new nn.Sigmoid(), new nn.Tanh());
    expect(net.length).toBe(3);
    expect(net.at(-1)).toBeInstanceOf(nn.Tanh);
    const x = tensor([-1, 0, 2]);
    const expected = [0, 0, 2].map((v) => Math.tanh(1 / (1 + Math.exp(-v))));
    (net.forward(x).toArray() as number[]).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i], 6);
    });
    expect(errorOf(() => net.at(3)).code).toBe('INVALID_ARGUMENT');
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- a non-Module on purpose: what a JS caller could pass
    expect(errorOf(() => new nn.Sequential(new nn.ReLU(), {} as nn.Module)).code).toBe('INVALID_ARGUMENT');
  });

  it('ReLU, Sigmoid, Tanh and functional relu/softmax/logSoftmax compute the textbook values', () => {
    const x = tensor([-2, 0, 3], { dtype: 'float64' });
    expect(new nn.ReLU().forward(x).toArray()).toEqual([0, 0, 3]);
    expect(F.relu(x).toArray()).toEqual([0, 0, 3]);
    expect(new nn.Sigmoid().forward(x).toArray()).toEqual([-2, 0, 3].map((v) => 1 / (1 + Math.exp(-v))));
    expect(new nn.Tanh().forward(x).toArray()).toEqual([-2, 0, 3].map((v) => Math.tanh(v)));
    const z = Math.exp(-2) + 1 + Math.exp(3);
    (F.softmax(x, 0).toArray() as number[]).forEach((v, i) => {
      expect(v).toBeCloseTo([Math.exp(-2), 1, Math.exp(3)][i] / z, 14);
    });
    (F.logSoftmax(x, -1).toArray() as number[]).forEach((v, i) => {
      expect(v).toBeCloseTo([-2, 0, 3][i] - Math.log(z), 14);
    });
  });

  it('softmax is stable for large logits', () => {
    const y = tensor([
      [1000, 1000],
      [-1000, 0],
    ])
      .softmax(1)
      .toArray();
    expect(y).toEqual([
      [0.5, 0.5],
      [0, 1],
    ]);
    const l = tensor([[1000, 0]])
      .logSoftmax(1)
      .toArray() as number[][];
    expect(l[0][0]).toBe(0);
    expect(l[0][1]).toBe(-1000);
  });
});

describe('losses', () => {
  const input = (): Tensor =>
    tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
  const target = (): Tensor =>
    tensor(
      [
        [1, 0],
        [0, 6],
      ],
      { dtype: 'float64' },
    );

  it('mseLoss: mean of squared errors by default, sum, none', () => {
    // errors [0, 2, 3, -2] → squares [0, 4, 9, 4]
    expect(F.mseLoss(input(), target()).item()).toBe(17 / 4);
    expect(F.mseLoss(input(), target(), { reduction: 'sum' }).item()).toBe(17);
    expect(F.mseLoss(input(), target(), { reduction: 'none' }).toArray()).toEqual([
      [0, 4],
      [9, 4],
    ]);
  });

  it('l1Loss: mean of absolute errors by default, sum, none', () => {
    expect(F.l1Loss(input(), target()).item()).toBe(7 / 4);
    expect(F.l1Loss(input(), target(), { reduction: 'sum' }).item()).toBe(7);
    expect(F.l1Loss(input(), target(), { reduction: 'none' }).toArray()).toEqual([
      [0, 2],
      [3, 2],
    ]);
  });

  it('crossEntropy: mean over the batch of -log softmax at the target class, sum, none', () => {
    const logits = tensor(
      [
        [1, 2, 3],
        [1, 1, 1],
        [0, -1, 5],
      ],
      { dtype: 'float64' },
    );
    const labels = tensor([2, 0, 1], { dtype: 'int32' });
    const lse = (row: number[]): number => Math.log(row.reduce((s, v) => s + Math.exp(v), 0));
    const perRow = [lse([1, 2, 3]) - 3, Math.log(3), lse([0, -1, 5]) + 1];
    (F.crossEntropy(logits, labels, { reduction: 'none' }).toArray() as number[]).forEach((v, i) => {
      expect(v).toBeCloseTo(perRow[i], 13);
    });
    expect(F.crossEntropy(logits, labels).item()).toBeCloseTo((perRow[0] + perRow[1] + perRow[2]) / 3, 13);
    expect(F.crossEntropy(logits, labels, { reduction: 'sum' }).item()).toBeCloseTo(perRow[0] + perRow[1] + perRow[2], 13);
  });

  it('crossEntropy gradient is (softmax - onehot) / N', () => {
    const logits = tensor(
      [
        [0, 0],
        [Math.log(3), 0],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    F.crossEntropy(logits, tensor([1, 0], { dtype: 'int32' })).backward();
    const g = logits.grad?.toArray() as number[][];
    [
      [0.5, -0.5],
      [-0.25, 0.25],
    ].forEach((row, i) => {
      row.forEach((v, j) => {
        expect(g[i][j] / 0.5).toBeCloseTo(v, 14);
      });
    });
  });

  it('mseLoss and l1Loss refuse mismatched shapes instead of broadcasting (a documented difference from PyTorch)', () => {
    for (const loss of [F.mseLoss, F.l1Loss]) {
      const err = errorOf(() => loss(ones([4, 1]), ones([4])));
      expect(err.code).toBe('SHAPE_MISMATCH');
      expect(err.message).toContain('[4, 1]');
      expect(err.message).toContain('[4]');
    }
  });

  it('an unknown reduction is refused', () => {
    expect(errorOf(() => F.mseLoss(ones([2]), ones([2]), { reduction: 'avg' as 'mean' })).code).toBe('INVALID_ARGUMENT');
  });

  it('crossEntropy: float targets (DTYPE_MISMATCH), bad shapes (SHAPE_MISMATCH), out-of-range classes (INVALID_ARGUMENT)', () => {
    const logits = ones([3, 4]);
    const dtype = errorOf(() => F.crossEntropy(logits, tensor([0, 1, 2])));
    expect(dtype.code).toBe('DTYPE_MISMATCH');
    expect(dtype.message).toContain('float32');
    expect(dtype.message).toContain('int32');
    const targetShape = errorOf(() => F.crossEntropy(logits, tensor([[0], [1], [2]], { dtype: 'int32' })));
    expect(targetShape.code).toBe('SHAPE_MISMATCH');
    expect(targetShape.message).toContain('[3, 1]');
    expect(errorOf(() => F.crossEntropy(logits, tensor([0, 1], { dtype: 'int32' }))).code).toBe('SHAPE_MISMATCH');
    const inputShape = errorOf(() => F.crossEntropy(ones([4]), tensor([0], { dtype: 'int32' })));
    expect(inputShape.code).toBe('SHAPE_MISMATCH');
    expect(inputShape.message).toContain('[4]');
    expect(errorOf(() => F.crossEntropy(logits, tensor([0, 4, 1], { dtype: 'int32' }))).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => F.crossEntropy(logits, tensor([0, -1, 1], { dtype: 'int32' }))).code).toBe('INVALID_ARGUMENT');
  });
});
