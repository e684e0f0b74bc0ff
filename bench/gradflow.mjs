/** The gradflow side of the benchmark: the same workloads as bench/tfjs.mjs, in gradflow's API. */
import { manualSeed, nn, noGrad, optim, randn, tensor } from '@gradflow/autograd';
// Not part of the public API: the switch between the CPU backend's wasm and JS kernels (same
// module instance as the one the package loads, since Node resolves the workspace link).
import { setWasmKernelsEnabled } from '../packages/autograd/dist/backend/cpu/wasm-runtime.js';

/** Route gradflow's float32 matmul and optimizer updates to the JS kernels (true) or allow wasm (false). */
export function useJsKernels(on) {
  setWasmKernelsEnabled(!on);
}

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
  const opt = optimizerName === 'sgd' ? new optim.SGD(model.parameters(), { lr: 0.01 }) : new optim.Adam(model.parameters(), { lr: 1e-3 });
  const input = tensor(x, { dtype: 'float32' }).reshape([labels.length, 784]);
  const target = tensor(labels, { dtype: 'int32' });
  return () => {
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(input), target);
    loss.backward();
    opt.step();
  };
}

/**
 * One training step of the CNN of examples/cnn (pytorch/examples mnist/main.py's network on
 * 12×12 images: conv 1→16 3×3, BatchNorm2d, ReLU, conv 16→32 3×3, ReLU, max-pool 2, dropout 0.25,
 * flatten, linear 512→64, ReLU, dropout 0.5, linear 64→6, log-softmax, NLL), Adam, batch 32.
 * @param {{ x: Float32Array, labels: Int32Array }} data
 * @param {import('@gradflow/autograd').Device} [device]
 */
export function cnnCase({ x, labels }, device = 'cpu') {
  manualSeed(3);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 16, 3),
    new nn.BatchNorm2d(16),
    new nn.ReLU(),
    new nn.Conv2d(16, 32, 3),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Dropout(0.25),
    new nn.Flatten(),
    new nn.Linear(32 * 4 * 4, 64),
    new nn.ReLU(),
    new nn.Dropout(0.5),
    new nn.Linear(64, 6),
  ).to(device);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const input = tensor(x, { dtype: 'float32' }).reshape([labels.length, 1, 12, 12]).to(device);
  const target = tensor(labels, { dtype: 'int32' }).to(device);
  return () => {
    opt.zeroGrad();
    const loss = nn.functional.nllLoss(model.forward(input).logSoftmax(1), target);
    loss.backward();
    opt.step();
    return loss;
  };
}
