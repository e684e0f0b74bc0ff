/**
 * gradflow's WebGPU backend vs @tensorflow/tfjs-backend-webgpu, on the same adapter and the same
 * GPUDevice, in one run: float32 matmul GFLOP/s at 256…2048, steps/s of a training step of
 * the MLP 784-256-10 (ReLU, cross-entropy, batch 64, Adam) and of examples/cnn's CNN (Adam,
 * batch 32 of 12×12) that bench/run.mjs times on the CPU.
 *
 *   npm run build && node bench/webgpu.mjs           # 256, 512, 1024, 2048
 *   node bench/webgpu.mjs --quick                    # 256 and 512, shorter samples
 *   node bench/webgpu.mjs --sizes=256,1024           # chosen sizes
 *   node bench/webgpu.mjs --workloads=matmul         # only these rows (comma-separated: matmul, mlp, cnn)
 *
 * Without a GPU, Dawn runs on SwiftShader (a CPU rasterizer): absolute numbers then measure the
 * CPU, and only the ratio between the two frameworks means anything. Each cell is the median of
 * timed samples after a warm-up (which also compiles the shaders); a sample ends with a
 * one-element read-back, so it includes the GPU finishing the work. The frameworks alternate
 * within a row so that load from other processes hits them alike.
 */
import os from 'node:os';
import { initWebGPU, manualSeed, nn, noGrad, optim, randn, tensor } from '@gradflow/autograd';
import { cnnCase as gradflowCnn } from './gradflow.mjs';
import { cnnCase as tfjsCnn } from './tfjs.mjs';
import { cnnBatch, median, trainingBatch } from './timing.mjs';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const quick = args.has('quick');
const sizes = (args.get('sizes') ?? (quick ? '256,512' : '256,512,1024,2048')).split(',').map(Number);
const reps = quick ? 3 : 5;

const gpu = await initWebGPU();
const software = /swiftshader|llvmpipe|lavapipe|software/i.test(`${gpu.vendor} ${gpu.architecture}`);
if (software) {
  // Say so before the first workload: a software adapter (a CPU rasterizer) needs minutes for the full set.
  console.log(
    `WebGPU adapter ${gpu.vendor}/${gpu.architecture} is a software renderer: this benchmark will take ` +
      `${quick ? 'a minute or more' : 'several minutes (the 2048 matmul alone takes tens of seconds per framework)'}, ` +
      `and only the ratio between the frameworks means anything. ${quick ? '' : 'For a short run: node bench/webgpu.mjs --quick'}`,
  );
} else {
  console.log(`WebGPU adapter ${gpu.vendor}/${gpu.architecture}: matmul ${sizes.join(', ')} and an MLP training step, both frameworks.`);
}
// tfjs-backend-webgpu insists on navigator.gpu (absent in Node 20): give it Dawn's, then hand it our device.
if (!globalThis.navigator?.gpu) {
  const { create } = await import('webgpu');
  Object.defineProperty(globalThis, 'navigator', { value: { ...globalThis.navigator, gpu: create([]) }, configurable: true });
}
const tf = await import('@tensorflow/tfjs');
const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
// Importing the package registered a factory with its own device: replace it so both frameworks share one.
tf.removeBackend('webgpu');
tf.registerBackend('webgpu', () => new WebGPUBackend(gpu.device), 3);
if (!(await tf.setBackend('webgpu'))) throw new Error('tfjs webgpu backend failed to initialise');
await tf.ready();
if (tf.getBackend() !== 'webgpu') throw new Error(`tfjs runs on '${tf.getBackend()}', not webgpu`);

/** Median ms per call of the async `body`; samples run it until `minMs` has passed. */
async function measureAsync(body, { warmup = 1, samples = reps, minMs = 300 } = {}) {
  for (let i = 0; i < warmup; i++) await body();
  const out = [];
  for (let s = 0; s < samples; s++) {
    let iters = 0;
    const t0 = performance.now();
    do {
      await body();
      iters++;
    } while (performance.now() - t0 < minMs);
    out.push((performance.now() - t0) / iters);
  }
  return median(out);
}

const gradflow = {
  cnn(data, stepsPerCall) {
    const step = gradflowCnn(data, 'webgpu');
    return async () => {
      let loss = null;
      for (let i = 0; i < stepsPerCall; i++) loss = step();
      await loss?.itemAsync();
    };
  },
  matmul(size) {
    manualSeed(1);
    const a = randn([size, size]).to('webgpu');
    const b = randn([size, size]).to('webgpu');
    return async () => {
      const c = noGrad(() => a.matmul(b));
      await c.index([0, 0]).itemAsync();
    };
  },
  train({ x, labels }, stepsPerCall) {
    manualSeed(2);
    const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 10)).to('webgpu');
    const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
    const input = tensor(x).reshape([labels.length, 784]).to('webgpu');
    const target = tensor(labels, { dtype: 'int32' }).to('webgpu');
    return async () => {
      let loss = null;
      for (let i = 0; i < stepsPerCall; i++) {
        opt.zeroGrad();
        loss = nn.functional.crossEntropy(model.forward(input), target);
        loss.backward();
        opt.step();
      }
      await loss?.itemAsync();
    };
  },
};

const tfjs = {
  cnn(data, stepsPerCall) {
    const c = tfjsCnn(data, tf);
    return async () => {
      for (let i = 0; i < stepsPerCall - 1; i++) c.run();
      const cost = c.run(true);
      await cost?.data();
      cost?.dispose();
    };
  },
  matmul(size) {
    const a = tf.randomNormal([size, size], 0, 1, 'float32', 1);
    const b = tf.randomNormal([size, size], 0, 1, 'float32', 2);
    return async () => {
      const c = tf.matMul(a, b);
      const corner = tf.slice(c, [0, 0], [1, 1]);
      await corner.data();
      tf.dispose([c, corner]);
    };
  },
  train({ x, labels }, stepsPerCall) {
    const init = (shape, fanIn, seed) => tf.variable(tf.randomUniform(shape, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn), 'float32', seed));
    const w1 = init([784, 256], 784, 3),
      b1 = init([256], 784, 4);
    const w2 = init([256, 10], 256, 5),
      b2 = init([10], 256, 6);
    const input = tf.tensor2d(x, [labels.length, 784]);
    const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), 10).toFloat();
    const opt = tf.train.adam(1e-3);
    return async () => {
      let cost;
      for (let i = 0; i < stepsPerCall; i++) {
        cost?.dispose();
        cost = opt.minimize(() => {
          const h = tf.relu(tf.add(tf.matMul(input, w1), b1));
          return tf.losses.softmaxCrossEntropy(onehot, tf.add(tf.matMul(h, w2), b2));
        }, true);
      }
      await cost?.data();
      cost?.dispose();
    };
  },
};

const frameworks = { gradflow, 'tfjs-webgpu': tfjs };
const data = trainingBatch();
const STEPS_PER_CALL = 5;
const workloads = [
  ...sizes.map((size) => ({
    kind: 'matmul',
    label: `matmul ${String(size)} (GFLOP/s)`,
    make: (f) => f.matmul(size),
    // Large products take seconds on a software adapter: one timed call per sample, fewer samples.
    timing:
      size >= 1024
        ? { warmup: 1, samples: size >= 2048 ? 1 : Math.min(reps, 3), minMs: 0 }
        : { warmup: 2, samples: reps, minMs: quick ? 200 : 500 },
    score: (ms) => (2 * size ** 3) / (ms * 1e6),
  })),
  {
    kind: 'mlp',
    label: 'MLP step, Adam (steps/s)',
    make: (f) => f.train(data, STEPS_PER_CALL),
    timing: { warmup: 1, samples: reps, minMs: quick ? 300 : 1000 },
    score: (ms) => (1000 * STEPS_PER_CALL) / ms,
  },
  {
    kind: 'cnn',
    label: 'CNN step, Adam (steps/s)',
    make: (f) => f.cnn(cnnBatch(), STEPS_PER_CALL),
    timing: { warmup: 1, samples: reps, minMs: quick ? 300 : 1000 },
    score: (ms) => (1000 * STEPS_PER_CALL) / ms,
  },
];
const chosen = args.get('workloads')?.split(',');

const rows = [];
for (const w of workloads.filter((x) => !chosen || chosen.includes(x.kind))) {
  const scores = {};
  for (const [name, f] of Object.entries(frameworks)) scores[name] = w.score(await measureAsync(w.make(f), w.timing));
  rows.push({ label: w.label, scores });
  process.stderr.write(
    `${w.label}: ${Object.entries(scores)
      .map(([n, s]) => `${n} ${s.toFixed(3)}`)
      .join(', ')}\n`,
  );
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
const names = Object.keys(frameworks);
console.log(
  `\nNode ${process.version}, ${String(os.cpus().length)} x ${os.cpus()[0]?.model ?? 'unknown CPU'}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
console.log(
  `WebGPU adapter: ${gpu.vendor}/${gpu.architecture}${gpu.architecture === 'swiftshader' ? ' (software: only the ratio means anything)' : ''}`,
);
console.log(`| workload | ${names.join(' | ')} | gradflow / tfjs-webgpu |`);
console.log(`| --- | ${names.map(() => '---').join(' | ')} | --- |`);
for (const { label, scores } of rows) {
  console.log(`| ${label} | ${names.map((n) => fmt(scores[n])).join(' | ')} | ${(scores.gradflow / scores['tfjs-webgpu']).toFixed(2)}x |`);
}
