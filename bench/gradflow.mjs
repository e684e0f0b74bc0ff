/** The gradflow side of the benchmark: the same workloads as bench/tfjs.mjs, in gradflow's API. */
import { manualSeed, nn, noGrad, optim, randn, tensor } from '@gradflow/autograd';

export const name = 'gradflow';

/** Returns a thunk computing one float32 [size, size] x [size, size] product. */
export function matmulCase(size) {
  manualSeed(1);
  const a = randn([size, size]);
  const b = randn([size, size]);
  return () => noGrad(() => a.matmul(b));
}

/**
 * One training step of the MLP 784-256-10 (ReLU, cross-entropy, batch 64), as a PyTorch user
 * writes it: zero the grads, forward, loss, backward, step.
 */
export function trainCase(optimizerName, { x, labels }) {
  manualSeed(2);
  const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 10));
  const opt = optimizerName === 'sgd'
    ? new optim.SGD(model.parameters(), { lr: 0.01 })
    : new optim.Adam(model.parameters(), { lr: 1e-3 });
  const input = tensor(x, { dtype: 'float32' }).reshape([labels.length, 784]);
  const target = tensor(labels, { dtype: 'int32' });
  return () => {
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(input), target);
    loss.backward();
    opt.step();
  };
}
