/**
 * The CNN training step (bench/run.mjs's `cnn` workload: examples/cnn's network, Adam, batch 32 of
 * 12×12) of gradflow and of TF.js on its wasm backend, timed in wall time AND in CPU time of this
 * process (process.cpuUsage: user + system). On a machine shared with other jobs the wall time of
 * a sample grows with the load, the CPU time much less, so the CPU-time ratio is the steadier
 * comparison; both are printed. Samples alternate between the frameworks.
 *
 *   node bench/cnn-cpu.mjs                 # 9 samples of >= 500 ms each
 *   node bench/cnn-cpu.mjs --samples=15 --min-ms=1000 --tfjs-cpu
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import * as gradflow from './gradflow.mjs';
import * as tfjs from './tfjs.mjs';
import { cnnBatch, median } from './timing.mjs';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const samples = Number(args.get('samples') ?? 9);
const minMs = Number(args.get('min-ms') ?? 500);
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');

const data = cnnBatch();
/** @type {{ name: string, run: () => unknown, activate: () => Promise<unknown> }[]} */
const runners = [{ name: 'gradflow', run: gradflow.cnnCase(data), activate: async () => {} }];
for (const backend of args.has('tfjs-cpu') ? ['wasm', 'cpu'] : ['wasm']) {
  await tfjs.useBackend(backend);
  const c = tfjs.cnnCase(data);
  runners.push({ name: `tfjs-${backend}`, run: c.run, activate: () => tfjs.useBackend(backend) });
}

/**
 * One sample: mean wall and CPU ms per step over at least minMs of wall time.
 * @param {() => unknown} run
 */
function sample(run) {
  collectGarbage();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (n < 2 || performance.now() - t0 < minMs) {
    run();
    n++;
  }
  const wall = (performance.now() - t0) / n;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 / n };
}

/** @type {Record<string, { wall: number[], cpu: number[] }>} */
const results = Object.fromEntries(runners.map((r) => [r.name, { wall: [], cpu: [] }]));
for (const r of runners) {
  await r.activate();
  for (let i = 0; i < 5; i++) r.run(); // warm-up (JIT, allocations)
}
for (let s = 0; s < samples; s++) {
  for (const r of runners) {
    await r.activate();
    const { wall, cpu } = sample(r.run);
    results[r.name].wall.push(wall);
    results[r.name].cpu.push(cpu);
  }
}
const g = { wall: median(results.gradflow.wall), cpu: median(results.gradflow.cpu) };
console.log(`CNN training step, median of ${String(samples)} samples (ms per step; ratio = other / gradflow, > 1: gradflow faster)`);
console.log('| framework | wall ms | CPU ms | wall ratio | CPU ratio |');
console.log('| --- | --- | --- | --- | --- |');
for (const r of runners) {
  const wall = median(results[r.name].wall);
  const cpu = median(results[r.name].cpu);
  console.log(`| ${r.name} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} | ${(wall / g.wall).toFixed(2)}x | ${(cpu / g.cpu).toFixed(2)}x |`);
}
