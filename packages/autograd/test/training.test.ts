/** End-to-end: the pieces together train models to answers derived independently of the engine. */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, optim, tensor, type Tensor } from '../src/index.js';

describe('training end to end', () => {
  it('full-batch SGD on mseLoss converges to the least-squares solution of the normal equations', () => {
    // y = X·[2, -3] + 0.5 plus a fixed perturbation, so the fit is not exact.
    const X = [
      [1, 0],
      [0, 1],
      [1, 1],
      [2, -1],
      [-1, 2],
      [0.5, 0.5],
    ];
    const noise = [0.1, -0.2, 0.05, 0.0, -0.1, 0.15];
    const Y = X.map(([a, b], i) => 2 * a - 3 * b + 0.5 + noise[i]);
    // Normal equations for [w1, w2, b]: (AᵀA) θ = Aᵀy with A = [X | 1], solved by Cramer's rule.
    const A = X.map(([a, b]) => [a, b, 1]);
    const ata = [0, 1, 2].map((r) => [0, 1, 2].map((c) => A.reduce((s, row) => s + row[r] * row[c], 0)));
    const aty = [0, 1, 2].map((r) => A.reduce((s, row, i) => s + row[r] * Y[i], 0));
    const det3 = (m: number[][]): number =>
      m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
      m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
      m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    const d = det3(ata);
    const theta = [0, 1, 2].map((k) => det3(ata.map((row, r) => row.map((v, c) => (c === k ? aty[r] : v)))) / d);

    const model = new nn.Linear(2, 1);
    model.weight = new nn.Parameter(tensor([[0, 0]], { dtype: 'float64' }));
    model.bias = new nn.Parameter(tensor([0], { dtype: 'float64' }));
    const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.5 });
    const x = tensor(X, { dtype: 'float64' });
    const y = tensor(
      Y.map((v) => [v]),
      { dtype: 'float64' },
    );
    for (let i = 0; i < 2000; i++) {
      opt.zeroGrad();
      nn.functional.mseLoss(model.forward(x), y).backward();
      opt.step();
    }
    const [w1, w2] = (model.weight.toArray() as number[][])[0];
    expect(w1).toBeCloseTo(theta[0], 8);
    expect(w2).toBeCloseTo(theta[1], 8);
    expect(model.bias.item()).toBeCloseTo(theta[2], 8);
  });

  it('a 2-8-2 MLP learns XOR with Adam and crossEntropy', () => {
    manualSeed(7);
    const model = new nn.Sequential(new nn.Linear(2, 8), new nn.Tanh(), new nn.Linear(8, 2));
    const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
    const x = tensor([
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    const labels = tensor([0, 1, 1, 0], { dtype: 'int32' });
    let loss: Tensor = tensor(0);
    for (let i = 0; i < 300; i++) {
      opt.zeroGrad({ setToNone: true });
      loss = nn.functional.crossEntropy(model.forward(x), labels);
      loss.backward();
      opt.step();
    }
    expect(loss.item()).toBeLessThan(0.05);
    const logits = model.forward(x).toArray() as number[][];
    expect(logits.map(([a, b]) => (b > a ? 1 : 0))).toEqual([0, 1, 1, 0]);
  });
});
