/**
 * The TensorFlow.js side of the benchmark, on its pure-JS 'cpu' backend and on the WebAssembly
 * ('wasm', SIMD where the runtime has it) backend. `@tensorflow/tfjs` registers the gradients.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);
// In Node the wasm backend reads its .wasm files from disk: point it at the package's dist folder.
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + path.sep + 'dist' + path.sep);

export async function useBackend(backend) {
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`tfjs backend '${backend}' failed to initialise`);
  await tf.ready();
  return {
    simd: backend === 'wasm' ? tf.env().getBool('WASM_HAS_SIMD_SUPPORT') : false,
    threads: backend === 'wasm' ? tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') : false,
  };
}

/** Returns a thunk computing one float32 [size, size] x [size, size] product (and a dispose). */
export function matmulCase(size) {
  const a = tf.randomNormal([size, size], 0, 1, 'float32', 1);
  const b = tf.randomNormal([size, size], 0, 1, 'float32', 2);
  const run = () => {
    const c = tf.matMul(a, b);
    c.dataSync(); // the wasm backend computes synchronously too; this only makes completion explicit
    c.dispose();
  };
  return { run, dispose: () => tf.dispose([a, b]) };
}

/** One training step of the MLP 784-256-10 (ReLU, softmax cross-entropy on one-hot labels, batch 64). */
export function trainCase(optimizerName, { x, labels }) {
  const batch = labels.length;
  const init = (shape, fanIn, seed) => tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', seed));
  const w1 = init([784, 256], 784, 3),
    b1 = init([256], 784, 4);
  const w2 = init([256, 10], 256, 5),
    b2 = init([10], 256, 6);
  const input = tf.tensor2d(x, [batch, 784]);
  const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat();
  const opt = optimizerName === 'sgd' ? tf.train.sgd(0.01) : tf.train.adam(1e-3);
  const run = () => {
    opt.minimize(() => {
      const h = tf.relu(tf.add(tf.matMul(input, w1), b1));
      const logits = tf.add(tf.matMul(h, w2), b2);
      return tf.losses.softmaxCrossEntropy(onehot, logits);
    });
  };
  return {
    run,
    dispose: () => {
      tf.dispose([w1, b1, w2, b2, input, onehot]);
      opt.dispose();
    },
  };
}

/**
 * The CNN step of bench/gradflow.mjs's cnnCase in TF.js ops (NHWC, TF.js's layout): conv2d,
 * batch norm from tf.moments (training mode; the running statistics updated with momentum 0.1
 * and the unbiased variance, as gradflow and PyTorch do), relu, maxPool, dropout, matMul,
 * logSoftmax + NLL; tf.train.adam minimises it (tf.variableGrads underneath).
 */
export function cnnCase({ x, labels }, tfModule = tf) {
  const t = tfModule;
  // tfjs-backend-wasm 4.22 registers no Conv2DBackpropFilter kernel, so tf.conv2d cannot be
  // differentiated there. On wasm the filter's gradient is the usual identity written with the
  // wasm backend's own Conv2D: dW = conv2d(xᵀ [C, H, W, N], dyᵀ [oh, ow, N, O]) transposed back.
  /** @type {(input: tf.Tensor, filter: tf.Tensor) => tf.Tensor4D} */
  const conv2d =
    t.getBackend() === 'wasm'
      ? t.customGrad((...args) => {
          const [input, filter] = /** @type {[tf.Tensor4D, tf.Tensor4D]} */ (args.slice(0, 2));
          /** @type {tf.GradSaveFunc} */ (args[2])([input, filter]);
          return {
            value: t.conv2d(input, filter, 1, 'valid'),
            gradFunc: (dy, saved) => {
              const [xs, w] = /** @type {[tf.Tensor4D, tf.Tensor4D]} */ (saved);
              return [
                t.conv2dTranspose(
                  /** @type {tf.Tensor4D} */ (dy),
                  /** @type {tf.Tensor4D} */ (w),
                  /** @type {[number, number, number, number]} */ (xs.shape),
                  1,
                  'valid',
                ),
                t.transpose(
                  t.conv2d(t.transpose(xs, [3, 1, 2, 0]), t.transpose(/** @type {tf.Tensor4D} */ (dy), [1, 2, 0, 3]), 1, 'valid'),
                  [1, 2, 0, 3],
                ),
              ];
            },
          };
        })
      : (input, filter) => t.conv2d(/** @type {tf.Tensor4D} */ (input), /** @type {tf.Tensor4D} */ (filter), 1, 'valid');
  const batch = labels.length;
  const init = (shape, fanIn, seed) => t.variable(t.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', seed));
  const conv1 = init([3, 3, 1, 16], 9, 7),
    conv1b = init([16], 9, 8);
  const gamma = t.variable(t.ones([16])),
    beta = t.variable(t.zeros([16]));
  const runningMean = t.variable(t.zeros([16]), false),
    runningVar = t.variable(t.ones([16]), false);
  const conv2 = init([3, 3, 16, 32], 144, 9),
    conv2b = init([32], 144, 10);
  const fc1 = init([512, 64], 512, 11),
    fc1b = init([64], 512, 12);
  const fc2 = init([64, 6], 64, 13),
    fc2b = init([6], 64, 14);
  const input = t.tensor4d(x, [batch, 12, 12, 1]);
  const onehot = t.oneHot(t.tensor1d(labels, 'int32'), 6).toFloat();
  const opt = t.train.adam(1e-3);
  const count = batch * 10 * 10;
  const loss = () => {
    let h = t.add(conv2d(input, conv1), conv1b);
    const { mean, variance } = t.moments(h, [0, 1, 2]);
    // assign() is not recorded on the tape: the running statistics get no gradient, as in PyTorch.
    t.tidy(() => {
      runningMean.assign(t.add(t.mul(runningMean, 0.9), t.mul(mean, 0.1)));
      runningVar.assign(t.add(t.mul(runningVar, 0.9), t.mul(variance, 0.1 * (count / (count - 1)))));
    });
    h = t.relu(t.batchNorm(h, mean, variance, beta, gamma, 1e-5));
    h = t.relu(t.add(conv2d(h, conv2), conv2b));
    h = t.dropout(t.maxPool(/** @type {tf.Tensor4D} */ (h), 2, 2, 'valid'), 0.25);
    h = t.dropout(t.relu(t.add(t.matMul(t.reshape(h, [batch, 512]), fc1), fc1b)), 0.5);
    const logp = t.logSoftmax(t.add(t.matMul(h, fc2), fc2b));
    return /** @type {tf.Scalar} */ (t.neg(t.mean(t.sum(t.mul(onehot, logp), 1))));
  };
  return {
    /** One step; with `returnCost` the loss tensor (the caller disposes it). */
    run: (returnCost = false) => opt.minimize(loss, returnCost),
    dispose: () => {
      t.dispose([conv1, conv1b, gamma, beta, runningMean, runningVar, conv2, conv2b, fc1, fc1b, fc2, fc2b, input, onehot]);
      opt.dispose();
    },
  };
}
