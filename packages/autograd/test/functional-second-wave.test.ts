/**
 * nn.functional, second wave: losses (nllLoss, crossEntropy with weight / ignoreIndex /
 * labelSmoothing, binaryCrossEntropy, binaryCrossEntropyWithLogits, smoothL1Loss), softplus,
 * normalize, scaledDotProductAttention. Expected values are PyTorch's documented formulas written
 * out as scalar JS; gradients are checked in float64 by central differences.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, rand, tensor, type Tensor } from '../src/index.js';
import { errorOf } from './expect-error.js';
import { gradcheck, leaf } from './gradcheck.js';

const F = nn.functional;
const f64 = (data: number[] | number[][]): Tensor => tensor(data, { dtype: 'float64' });
const int = (data: number[]): Tensor => tensor(data, { dtype: 'int32' });
const flat = (t: Tensor): number[] => Array.from(t.dataSync());
const close = (actual: number[], expected: number[], tol = 1e-10): void => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(Math.abs(a - expected[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i])));
  });
};
const logSoftmaxRows = (rows: number[][]): number[][] =>
  rows.map((r) => {
    const m = Math.max(...r);
    const lse = m + Math.log(r.reduce((a, v) => a + Math.exp(v - m), 0));
    return r.map((v) => v - lse);
  });

const logits = [
  [1.5, -0.3, 0.2],
  [0.1, 0.9, -1.2],
  [-0.4, 0.0, 2.2],
  [0.7, 0.7, 0.1],
];
const labels = [0, 2, -100, 1];
const weight = [0.5, 2, 1.25];

describe('nllLoss and crossEntropy', () => {
  it('nllLoss: -w[y]·x[n, y], ignored targets dropped, mean divided by Σ w[y]', () => {
    const lp = logSoftmaxRows(logits);
    const kept = [0, 1, 3];
    const terms = kept.map((n) => -weight[labels[n]] * lp[n][labels[n]]);
    const wsum = kept.reduce((a, n) => a + weight[labels[n]], 0);
    const x = f64(lp);
    close([F.nllLoss(x, int(labels), { weight: f64(weight) }).item()], [terms.reduce((a, b) => a + b) / wsum]);
    close([F.nllLoss(x, int(labels), { weight: f64(weight), reduction: 'sum' }).item()], [terms.reduce((a, b) => a + b)]);
    close(flat(F.nllLoss(x, int(labels), { weight: f64(weight), reduction: 'none' })), [terms[0], terms[1], 0, terms[2]]);
    // Without a weight, the mean is over the kept targets only.
    close([F.nllLoss(x, int(labels)).item()], [-(lp[0][0] + lp[1][2] + lp[3][1]) / 3]);
    close([F.nllLoss(x, int([0, 2, 1, 1]), { ignoreIndex: 1 }).item()], [-(lp[0][0] + lp[1][2]) / 2]);
  });

  it('crossEntropy = nllLoss(logSoftmax) and keeps its errors', () => {
    const lp = logSoftmaxRows(logits);
    close([F.crossEntropy(f64(logits), int([0, 2, 1, 1])).item()], [-(lp[0][0] + lp[1][2] + lp[2][1] + lp[3][1]) / 4]);
    expect(errorOf(() => F.crossEntropy(f64(logits), f64([0, 1, 2, 1]))).code).toBe('DTYPE_MISMATCH');
    expect(errorOf(() => F.crossEntropy(f64(logits), int([0, 1]))).code).toBe('SHAPE_MISMATCH');
    expect(errorOf(() => F.crossEntropy(f64(logits), int([0, 1, 2, 1]), { label_smoothing: 0.1 } as never)).message).toContain(
      'did you mean labelSmoothing',
    );
  });

  it('labelSmoothing with weight and ignoreIndex: ℓₙ = -Σ_c w_c·q_{n,c}·log p_{n,c}, q = (1-ε)·onehot + ε/C, mean over Σ w[yₙ]', () => {
    const eps = 0.2;
    const c = 3;
    const lp = logSoftmaxRows(logits);
    const kept = [0, 1, 3];
    const loss = (n: number): number => -lp[n].reduce((a, v, j) => a + weight[j] * ((j === labels[n] ? 1 - eps : 0) + eps / c) * v, 0);
    const wsum = kept.reduce((a, n) => a + weight[labels[n]], 0);
    const opts = { weight: f64(weight), labelSmoothing: eps };
    close([F.crossEntropy(f64(logits), int(labels), opts).item()], [kept.reduce((a, n) => a + loss(n), 0) / wsum]);
    close([F.crossEntropy(f64(logits), int(labels), { ...opts, reduction: 'sum' }).item()], [kept.reduce((a, n) => a + loss(n), 0)]);
    close(flat(F.crossEntropy(f64(logits), int(labels), { ...opts, reduction: 'none' })), [loss(0), loss(1), 0, loss(3)]);
    // Unweighted: mean over the kept count.
    const plain = (n: number): number => -lp[n].reduce((a, v, j) => a + ((j === labels[n] ? 1 - eps : 0) + eps / c) * v, 0);
    close([F.crossEntropy(f64(logits), int(labels), { labelSmoothing: eps }).item()], [(plain(0) + plain(1) + plain(3)) / 3]);
  });

  it('gradients (float64)', () => {
    gradcheck((x) => F.nllLoss(x, int(labels), { weight: f64(weight) }), [leaf([4, 3], 1)]);
    gradcheck((x) => F.crossEntropy(x, int(labels), { weight: f64(weight), labelSmoothing: 0.1 }), [leaf([4, 3], 2)]);
    gradcheck((x) => F.crossEntropy(x, int([2, 0, 1, 1]), { labelSmoothing: 0.3, reduction: 'none' }), [leaf([4, 3], 3)]);
  });
});

describe('binary cross-entropy', () => {
  const sig = (x: number): number => 1 / (1 + Math.exp(-x));

  it('binaryCrossEntropy: -w·(y·log x + (1-y)·log(1-x)), each log clamped at -100', () => {
    const p = [0.1, 0.7, 0.5, 0];
    const y = [0, 1, 0.3, 1];
    const w = [1, 2, 0.5, 1];
    const terms = p.map((pi, i) => -w[i] * (y[i] * Math.max(Math.log(pi), -100) + (1 - y[i]) * Math.max(Math.log(1 - pi), -100)));
    close([F.binaryCrossEntropy(f64(p), f64(y), { weight: f64(w) }).item()], [terms.reduce((a, b) => a + b) / 4]);
    close(flat(F.binaryCrossEntropy(f64(p), f64(y), { weight: f64(w), reduction: 'none' })), terms);
    gradcheck((x) => F.binaryCrossEntropy(x.sigmoid(), f64([0, 1, 0.3, 1, 0.5])), [leaf([5], 4)]);
  });

  it('binaryCrossEntropyWithLogits is stable for large logits and has gradient σ(x) - y, also at x = 0', () => {
    const x = [100, -100, 0, 2.5, -30];
    const y = [0, 1, 1, 0.25, 0];
    const expected = x.map((xi, i) => {
      // log σ(x) and log(1 - σ(x)) in a stable scalar form.
      const logSig = xi >= 0 ? -Math.log1p(Math.exp(-xi)) : xi - Math.log1p(Math.exp(xi));
      const log1mSig = logSig - xi;
      return -(y[i] * logSig + (1 - y[i]) * log1mSig);
    });
    close(flat(F.binaryCrossEntropyWithLogits(f64(x), f64(y), { reduction: 'none' })), expected);
    const t = f64(x).requiresGrad_();
    F.binaryCrossEntropyWithLogits(t, f64(y), { reduction: 'sum' }).backward();
    close(
      flat(t.grad as Tensor),
      x.map((xi, i) => sig(xi) - y[i]),
    );
    gradcheck((a) => F.binaryCrossEntropyWithLogits(a, f64([0, 1, 0.3, 1, 0.5])), [leaf([5], 5, -4, 4)]);
  });

  it('posWeight: -(pw·y·log σ(x) + (1-y)·log(1-σ(x))), broadcast over the last dim; weight multiplies', () => {
    const x = [
      [0.5, -1],
      [2, 0.25],
    ];
    const y = [
      [1, 0],
      [0.5, 1],
    ];
    const pw = [3, 0.5];
    const w = [2, 1];
    const expected = x.flatMap((r, i) =>
      r.map((xi, j) => -w[j] * (pw[j] * y[i][j] * Math.log(sig(xi)) + (1 - y[i][j]) * Math.log(1 - sig(xi)))),
    );
    close(
      [F.binaryCrossEntropyWithLogits(f64(x), f64(y), { posWeight: f64(pw), weight: f64(w) }).item()],
      [expected.reduce((a, b) => a + b) / 4],
    );
    gradcheck((a) => F.binaryCrossEntropyWithLogits(a, f64(y), { posWeight: f64(pw) }), [leaf([2, 2], 6)]);
    expect(errorOf(() => F.binaryCrossEntropyWithLogits(f64([1, 2]), f64([[1], [0]]))).code).toBe('SHAPE_MISMATCH');
  });
});

describe('smoothL1Loss, softplus, normalize', () => {
  it('smoothL1Loss: 0.5·d²/β where |d| < β, else |d| - β/2; β = 0 is l1', () => {
    const a = [0.1, -0.3, 2, -1.5, 0.45];
    const b = [0, 0, 0.5, 0, 0];
    const beta = 0.5;
    const terms = a.map((v, i) => {
      const d = Math.abs(v - b[i]);
      return d < beta ? (0.5 * d * d) / beta : d - 0.5 * beta;
    });
    close([F.smoothL1Loss(f64(a), f64(b), { beta }).item()], [terms.reduce((x, y) => x + y) / 5]);
    close([F.smoothL1Loss(f64(a), f64(b), { beta: 0, reduction: 'sum' }).item()], [a.reduce((s, v, i) => s + Math.abs(v - b[i]), 0)]);
    close(
      [F.smoothL1Loss(f64(a), f64(b)).item()],
      [
        a.reduce((s, v, i) => {
          const d = Math.abs(v - b[i]);
          return s + (d < 1 ? 0.5 * d * d : d - 0.5);
        }, 0) / 5,
      ],
    );
    gradcheck((x, y) => F.smoothL1Loss(x, y, { beta: 0.7 }), [leaf([6], 7), leaf([6], 8)]);
  });

  it('softplus: log(1 + exp(βx))/β, linear above the threshold; finite gradients for large inputs', () => {
    const x = [-50, -1, 0, 1, 30, 500];
    close(
      flat(F.softplus(f64(x))),
      x.map((v) => (v > 20 ? v : Math.log1p(Math.exp(v)))),
    );
    close(
      flat(F.softplus(f64(x), { beta: 2, threshold: 5 })),
      x.map((v) => (2 * v > 5 ? v : Math.log1p(Math.exp(2 * v)) / 2)),
    );
    const t = f64(x).requiresGrad_();
    F.softplus(t).sum().backward();
    close(
      flat(t.grad as Tensor),
      x.map((v) => (v > 20 ? 1 : 1 / (1 + Math.exp(-v)))),
    );
    gradcheck((a) => F.softplus(a, { beta: 1.5 }), [leaf([7], 9)]);
  });

  it('normalize: x / max(‖x‖_p, eps) along dim', () => {
    const rows = [
      [3, 4],
      [0, 0],
      [1, -1],
    ];
    close(flat(F.normalize(f64(rows))), [0.6, 0.8, 0, 0, Math.SQRT1_2, -Math.SQRT1_2]);
    close(flat(F.normalize(f64(rows), { p: 1, dim: 0 })), [3 / 4, 4 / 5, 0, 0, 1 / 4, -1 / 5]);
    gradcheck((a) => F.normalize(a, { dim: -1 }), [leaf([3, 4], 10)]);
  });
});

describe('scaledDotProductAttention', () => {
  /** softmax(q·kᵀ·scale + mask)·v for one [L, E] × [S, E] × [S, Ev] head, in scalars. */
  function reference(
    q: number[][],
    k: number[][],
    v: number[][],
    allowed: (i: number, j: number) => boolean,
    scale: number,
    bias: (i: number, j: number) => number = () => 0,
  ): number[] {
    return q.flatMap((qi, i) => {
      const s = k.map((kj, j) => (allowed(i, j) ? qi.reduce((a, x, e) => a + x * kj[e], 0) * scale + bias(i, j) : -Infinity));
      const m = Math.max(...s);
      const w = s.map((x) => Math.exp(x - m));
      const z = w.reduce((a, b) => a + b);
      return v[0].map((_, c) => w.reduce((a, wj, j) => a + (wj / z) * v[j][c], 0));
    });
  }
  const q = [
    [0.1, 0.5, -0.2],
    [1.0, -0.3, 0.4],
    [0.2, 0.2, 0.9],
  ];
  const k = [
    [0.3, -0.1, 0.8],
    [-0.6, 0.4, 0.1],
    [0.5, 0.5, -0.5],
  ];
  const v = [
    [1, 0],
    [0, 2],
    [-1, 1],
  ];

  it('default scale 1/√E, isCausal, a 0/1 int mask, an additive float mask, explicit scale', () => {
    close(
      flat(F.scaledDotProductAttention(f64(q), f64(k), f64(v))),
      reference(q, k, v, () => true, 1 / Math.sqrt(3)),
    );
    close(
      flat(F.scaledDotProductAttention(f64(q), f64(k), f64(v), { isCausal: true })),
      reference(q, k, v, (i, j) => j <= i, 1 / Math.sqrt(3)),
    );
    const allow = [
      [1, 0, 1],
      [1, 1, 0],
      [0, 0, 1],
    ];
    const maskT = tensor(allow, { dtype: 'int32' });
    close(
      flat(F.scaledDotProductAttention(f64(q), f64(k), f64(v), { attnMask: maskT, scale: 0.5 })),
      reference(q, k, v, (i, j) => allow[i][j] === 1, 0.5),
    );
    const bias = [
      [0, -1, 2],
      [0.5, 0, 0],
      [-3, 1, 0],
    ];
    close(
      flat(F.scaledDotProductAttention(f64(q), f64(k), f64(v), { attnMask: f64(bias) })),
      reference(
        q,
        k,
        v,
        () => true,
        1 / Math.sqrt(3),
        (i, j) => bias[i][j],
      ),
    );
    expect(errorOf(() => F.scaledDotProductAttention(f64(q), f64(k), f64(v), { attnMask: maskT, isCausal: true })).code).toBe(
      'INVALID_ARGUMENT',
    );
  });

  it('batched heads [B, H, L, E] and gradients through the composition', () => {
    const out = F.scaledDotProductAttention(leaf([2, 2, 3, 4], 1), leaf([2, 2, 5, 4], 2), leaf([2, 2, 5, 6], 3), { isCausal: false });
    expect(out.shape).toEqual([2, 2, 3, 6]);
    gradcheck(
      (a, b, c) => F.scaledDotProductAttention(a, b, c, { isCausal: true }),
      [leaf([2, 3, 4], 4), leaf([2, 3, 4], 5), leaf([2, 3, 2], 6)],
    );
    gradcheck(
      (a, b, c) => F.scaledDotProductAttention(a, b, c, { attnMask: tensor([[1, 0, 1, 1]], { dtype: 'int32' }) }),
      [leaf([3, 2], 7), leaf([4, 2], 8), leaf([4, 3], 9)],
    );
  });
});

describe('dropout', () => {
  it('draws the mask rand(shape).lt(1 − p).mul(1/(1 − p)) would, from the same seed, in float32 and float64', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = leaf([7, 9], 3).detach().to('cpu');
      const input = dtype === 'float32' ? x.float() : x;
      manualSeed(11);
      const got = nn.functional.dropout(input, 0.3);
      manualSeed(11);
      const want = input.mul(
        rand([7, 9], { dtype })
          .lt(0.7)
          .mul(1 / 0.7),
      );
      expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
      // about 30% dropped, and the kept ones scaled by 1/0.7
      const kept = Array.from(got.dataSync()).filter((v) => v !== 0).length;
      expect(kept).toBeGreaterThan(30);
      expect(kept).toBeLessThan(58);
    }
  });
});
