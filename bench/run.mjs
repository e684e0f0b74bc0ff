/**
 * gradflow vs TensorFlow.js (pure-JS 'cpu' backend and 'wasm' backend), in one run on one machine:
 * float32 matmul GFLOP/s at 128…1024, steps/s of one training step of an MLP 784-256-10
 * (ReLU, cross-entropy, batch 64) with SGD and with Adam, and steps/s of one training step of
 * examples/cnn's CNN (conv, BatchNorm2d, max-pool, dropout, linear; Adam, batch 32 of 12×12).
 *
 *   npm run bench                       # build, then the full table
 *   node bench/run.mjs --quick          # fewer repetitions
 *   node bench/run.mjs --only=gradflow  # skip TensorFlow.js (e.g. under --cpu-prof)
 *   node bench/run.mjs --js-kernels     # add a column: gradflow with its wasm kernels disabled
 *   node bench/run.mjs --workloads=cnn  # only these rows (comma-separated: matmul, train, cnn)
 *
 * Each cell is the median of several timed samples after a warm-up; samples of the frameworks
 * alternate so that load from other processes hits them alike. Ratios are gradflow / other.
 */
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as gradflow from './gradflow.mjs';
import { cnnBatch, median, sample, trainingBatch } from './timing.mjs';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const quick = args.has('quick');
const only = args.get('only');
const reps = quick ? 3 : 5;

const tfjs = only === 'gradflow' ? null : await import('./tfjs.mjs');
const frameworks = ['gradflow', ...(args.has('js-kernels') ? ['gradflow-js'] : []), ...(tfjs ? ['tfjs-cpu', 'tfjs-wasm'] : [])];
const info = {};
// A full GC before every sample, so no framework pays for garbage another one left behind.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');

/** Builds the thunk for one framework and workload (switching the tfjs backend as needed). */
async function setup(framework, workload) {
  if (framework.startsWith('gradflow')) {
    const js = framework === 'gradflow-js';
    const run =
      workload.kind === 'matmul'
        ? gradflow.matmulCase(workload.size)
        : workload.kind === 'cnn'
          ? gradflow.cnnCase(workload.data)
          : gradflow.trainCase(workload.opt, workload.data);
    const activate = async () => gradflow.useJsKernels(js);
    return { run, activate, dispose: () => gradflow.useJsKernels(false) };
  }
  if (!tfjs) throw new Error(`${framework}: TF.js was not loaded (--only gradflow)`);
  const backend = framework === 'tfjs-cpu' ? 'cpu' : 'wasm';
  info[framework] ??= await tfjs.useBackend(backend);
  await tfjs.useBackend(backend);
  const c =
    workload.kind === 'matmul'
      ? tfjs.matmulCase(workload.size)
      : workload.kind === 'cnn'
        ? tfjs.cnnCase(workload.data)
        : tfjs.trainCase(workload.opt, workload.data);
  return { ...c, activate: () => tfjs.useBackend(backend) };
}

/**
 * Median ms per call for every framework on one workload. Samples alternate between the
 * frameworks (gradflow, tfjs-cpu, tfjs-wasm, gradflow, …) so that bursts of load from other
 * processes fall on all of them alike.
 */
async function timeAll(workload) {
  const { warmup, reps, minMs } = workload.timing;
  const runners = {};
  for (const f of frameworks) {
    runners[f] = await setup(f, workload);
    await runners[f].activate();
    for (let i = 0; i < warmup; i++) runners[f].run();
  }
  const samples = Object.fromEntries(frameworks.map((f) => [f, /** @type {number[]} */ ([])]));
  for (let r = 0; r < reps; r++) {
    for (const f of frameworks) {
      await runners[f].activate();
      collectGarbage();
      samples[f].push(sample(runners[f].run, { minMs }));
    }
  }
  for (const f of frameworks) {
    await runners[f].activate();
    runners[f].dispose();
  }
  return Object.fromEntries(frameworks.map((f) => [f, median(samples[f])]));
}

const data = trainingBatch();
const workloads = [
  ...[128, 256, 512, 1024].map((size) => ({
    kind: 'matmul',
    size,
    label: `matmul ${size} (GFLOP/s)`,
    // Slow backends at 1024 take seconds per product: fewer warm-ups, one call per sample.
    timing: { warmup: size >= 512 ? 1 : 3, reps: size >= 1024 ? Math.min(reps, 3) : reps, minMs: quick ? 100 : 300 },
    score: (ms) => (2 * size ** 3) / (ms * 1e6),
  })),
  ...['sgd', 'adam'].map((opt) => ({
    kind: 'train',
    opt,
    data,
    label: `MLP step, ${opt === 'sgd' ? 'SGD' : 'Adam'} (steps/s)`,
    timing: { warmup: 5, reps, minMs: quick ? 300 : 1000 },
    score: (ms) => 1000 / ms,
  })),
  {
    kind: 'cnn',
    data: cnnBatch(),
    label: 'CNN step, Adam (steps/s)',
    // tfjs-cpu needs seconds per step (its conv gradients are plain JS loops): one warm-up.
    timing: { warmup: 1, reps, minMs: quick ? 300 : 1000 },
    score: (ms) => 1000 / ms,
  },
];

const chosen = args.get('workloads')?.split(',');
const rows = [];
for (const w of workloads.filter((x) => !chosen || chosen.includes(x.kind))) {
  const ms = await timeAll(w);
  const scores = Object.fromEntries(frameworks.map((f) => [f, w.score(ms[f])]));
  rows.push({ label: w.label, scores });
  process.stderr.write(`${w.label}: ${frameworks.map((f) => `${f} ${scores[f].toFixed(2)}`).join(', ')}\n`);
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const header = [
  'workload',
  ...frameworks.map((f) => (f === 'gradflow-js' ? 'gradflow (JS kernels)' : f)),
  ...(tfjs ? ['gradflow / tfjs-cpu', 'gradflow / tfjs-wasm'] : []),
];
const lines = [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map(({ label, scores }) => {
    const cells = [label, ...frameworks.map((f) => fmt(scores[f]))];
    if (tfjs) cells.push(`${(scores.gradflow / scores['tfjs-cpu']).toFixed(1)}x`, `${(scores.gradflow / scores['tfjs-wasm']).toFixed(2)}x`);
    return `| ${cells.join(' | ')} |`;
  }),
];
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(
  `\nNode ${process.version}, ${String(os.cpus().length)} x ${cpu}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
if (info['tfjs-wasm']) console.log(`tfjs-wasm: SIMD ${String(info['tfjs-wasm'].simd)}, threads ${String(info['tfjs-wasm'].threads)}`);
console.log(lines.join('\n'));
