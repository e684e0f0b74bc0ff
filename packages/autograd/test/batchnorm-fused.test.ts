/**
 * The batchNorm op (BatchNorm with batch statistics as one op, fused kernels on the CPU): its
 * gradients against float64 central differences, the same through the composed backward that a
 * second derivative takes, its values against the composition (x − mean)/√(var + eps)·w + b written
 * with plain ops, and the version check on the tensors it saves.
 */
import { describe, expect, it } from 'vitest';
import { autograd, GradFlowError, nn, noGrad, type Tensor } from '../src/index.js';
import { batchNormStats, batchNormTrain } from '../src/ops/norm-ops.js';
import { gradcheck, leaf } from './gradcheck.js';

const EPS = 1e-5;

function bn(x: Tensor, w: Tensor, b: Tensor): Tensor {
  return batchNormTrain(x, w, b, batchNormStats(x), EPS);
}

/** The same map from the elementary ops (what BatchNorm was before the op existed). */
function composed(x: Tensor, w: Tensor, b: Tensor): Tensor {
  const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
  const s = x.shape.map((d, i) => (i === 1 ? d : 1));
  const mean = x.mean(dims, true);
  const variance = x.var(dims, { correction: 0, keepdim: true });
  return x.sub(mean).div(variance.add(EPS).sqrt()).mul(w.reshape(s)).add(b.reshape(s));
}

describe('batchNorm op', () => {
  it('gradients of x, weight and bias match central differences ([N, C, H, W] and [N, C])', () => {
    gradcheck(bn, [leaf([3, 2, 3, 5], 1), leaf([2], 2, 0.5, 1.5), leaf([2], 3)], { rtol: 1e-5, atol: 1e-6 });
    gradcheck(bn, [leaf([5, 3], 4), leaf([3], 5, 0.5, 1.5), leaf([3], 6)], { rtol: 1e-5, atol: 1e-6 });
  });

  it('a non-contiguous input and gradient (a transposed view)', () => {
    gradcheck((x, w, b) => bn(x.transpose(0, 1), w, b).transpose(0, 1), [leaf([4, 3, 5], 7), leaf([4], 8, 0.5, 1.5), leaf([4], 9)], {
      rtol: 1e-5,
      atol: 1e-6,
    });
  });

  it('second derivatives (createGraph takes the composed, differentiable backward)', () => {
    gradcheck(
      (x, w) => {
        const b = noGrad(() => w.mul(0));
        const y = bn(x, w, b);
        const [gx] = autograd.grad(y.mul(y).sum(), [x], { createGraph: true });
        return (gx as Tensor).mul(x);
      },
      [leaf([4, 2, 3], 10), leaf([2], 11, 0.5, 1.5)],
      { rtol: 1e-4, atol: 1e-6 },
    );
  });

  it('forward and backward agree with the elementary-op composition in float32', () => {
    const x = leaf([6, 4, 5, 5], 12, -3, 5).float().detach().requiresGrad_(true);
    const w = leaf([4], 13, 0.5, 1.5).float().detach().requiresGrad_(true);
    const b = leaf([4], 14).float().detach().requiresGrad_(true);
    const v = leaf([6, 4, 5, 5], 15).float().detach();
    const run = (f: typeof bn): number[][] => {
      const y = f(x, w, b);
      const grads = autograd.grad(y.mul(v).sum(), [x, w, b]);
      return [y, ...grads].map((t) => Array.from((t as Tensor).dataSync()));
    };
    const fused = run(bn);
    const reference = run(composed);
    fused.forEach((got, k) => {
      got.forEach((g, i) => {
        expect(Math.abs(g - reference[k][i])).toBeLessThan(2e-5 * (1 + Math.abs(reference[k][i])));
      });
    });
  });

  it('only the bias requiring grad: its gradient is the sum of g', () => {
    const x = leaf([3, 2, 4], 16).detach();
    const w = leaf([2], 17).detach();
    const b = leaf([2], 18);
    const v = leaf([3, 2, 4], 19).detach();
    bn(x, w, b).mul(v).sum().backward();
    expect(Array.from((b.grad as Tensor).dataSync())).toEqual(Array.from(v.sum([0, 2]).dataSync()));
  });

  it('an input modified in place after BatchNorm2d saved it: backward throws the version error', () => {
    const layer = new nn.BatchNorm2d(2);
    const x = leaf([2, 2, 3, 3], 20).float().detach().requiresGrad_(true);
    const h = x.mul(2);
    const y = layer.forward(h);
    noGrad(() => h.add_(1));
    expect(() => {
      y.sum().backward();
    }).toThrow(GradFlowError);
    // The same modification after the backward: nothing saved is read any more, no error.
    const h2 = x.mul(2);
    const y2 = layer.forward(h2);
    expect(() => {
      y2.sum().backward();
    }).not.toThrow();
    noGrad(() => h2.add_(1));
    expect(x.grad).not.toBeNull();
  });
});
