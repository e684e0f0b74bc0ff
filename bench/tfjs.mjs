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
