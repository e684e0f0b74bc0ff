import { isGradEnabled, noGrad } from '../grad-mode.js';
import { Tensor } from '../tensor.js';
import { fromStorage } from '../tensor-internal.js';
import { apply } from './apply.js';
import { defineOp, type OpSpec } from './spec.js';

/**
 * BatchNorm with batch statistics as one op (PyTorch's native_batch_norm in training): the
 * statistics come in as inputs computed by `batchNormStats` (no gradient of their own: the
 * backward accounts for them being x's), so the forward is one pass over x and the backward two,
 * on backends with the fused kernels (CPU); elsewhere both are composed from the other kernels.
 */

interface BatchNormAttrs {
  eps: number;
}

/** Shape [1, C, 1, …] of a per-channel vector broadcast against x [N, C, …]. */
function channelShape(x: Tensor): number[] {
  return x.shape.map((s, i) => (i === 1 ? s : 1));
}

function reducedDims(x: Tensor): number[] {
  return x.shape.map((_, i) => i).filter((i) => i !== 1);
}

function sameDtype(ts: readonly Tensor[]): boolean {
  return ts.every((t) => t.dtype === ts[0].dtype);
}

export const normOps = {
  batchNorm: defineOp<BatchNormAttrs>({
    name: 'batchNorm',
    inputs: ['self', 'weight', 'bias', 'mean', 'var'],
    saves: { self: ['self', 'weight', 'mean', 'var'], weight: ['self', 'mean', 'var'] },
    forward: (inputs, { eps }) => {
      const [x, weight, bias, mean, variance] = inputs;
      const backend = x.storage.backend;
      if (backend.batchNormForward && sameDtype(inputs)) {
        return fromStorage(backend.batchNormForward(x, mean, variance, weight, bias, eps), x.shape);
      }
      const s = channelShape(x);
      return noGrad(() => x.sub(mean.reshape(s)).div(variance.add(eps).sqrt().reshape(s)).mul(weight.reshape(s)).add(bias.reshape(s)));
    },
    backward: (g, c) => {
      // Only the bias wants a gradient: nothing was saved, none is needed.
      if (!c.needs[0] && !c.needs[1]) return [null, null, c.needs[2] ? g.sum(reducedDims(g)) : null, null, null];
      const x = c.unpack('self');
      const { eps } = c.attrs;
      const c1 = x.shape[1];
      if (!isGradEnabled()) {
        const mean = c.unpack('mean');
        const variance = c.unpack('var');
        const weight = c.needs[0] ? c.unpack('weight') : mean;
        const backend = x.storage.backend;
        if (backend.batchNormBackward && sameDtype([g, x, mean, variance, weight])) {
          const [dx, dw, db] = backend.batchNormBackward(g, x, mean, variance, weight, eps);
          return [
            c.needs[0] ? fromStorage(dx, x.shape) : null,
            c.needs[1] ? fromStorage(dw, [c1]) : null,
            c.needs[2] ? fromStorage(db, [c1]) : null,
          ];
        }
      }
      // Composed, and differentiable again (createGraph): the statistics recomputed from x, so
      // that a second backward sees how they depend on it.
      const dims = reducedDims(x);
      const s = channelShape(x);
      const mean = isGradEnabled() ? x.mean(dims, true) : c.unpack('mean').reshape(s);
      const variance = isGradEnabled() ? x.var(dims, { correction: 0, keepdim: true }) : c.unpack('var').reshape(s);
      const std = variance.add(eps).sqrt();
      const xhat = x.sub(mean).div(std);
      let dx: Tensor | null = null;
      if (c.needs[0]) {
        const dxhat = g.mul(c.unpack('weight').reshape(s));
        dx = dxhat
          .sub(dxhat.mean(dims, true))
          .sub(xhat.mul(dxhat.mul(xhat).mean(dims, true)))
          .div(std);
      }
      return [dx, c.needs[1] ? g.mul(xhat).sum(dims) : null, c.needs[2] ? g.sum(dims) : null, null, null];
    },
  }),
} satisfies Record<string, OpSpec>;

/** Per-channel mean and biased variance [C] of x [N, C, …] (no gradient). */
export function batchNormStats(x: Tensor): { mean: Tensor; variance: Tensor } {
  const c = x.shape[1];
  const backend = x.storage.backend;
  if (backend.batchNormStats) {
    const stats = backend.batchNormStats(x);
    return { mean: new Tensor(stats, [c], [1], 0), variance: new Tensor(stats, [c], [1], c) };
  }
  const dims = reducedDims(x);
  return noGrad(() => ({ mean: x.mean(dims).detach(), variance: x.var(dims, { correction: 0 }).detach() }));
}

/** (x − mean)/√(var + eps)·weight + bias over channel dim 1, with the batch's own statistics. */
export function batchNormTrain(x: Tensor, weight: Tensor, bias: Tensor, stats: { mean: Tensor; variance: Tensor }, eps: number): Tensor {
  return apply(normOps.batchNorm, [x, weight, bias, stats.mean, stats.variance], { eps });
}
