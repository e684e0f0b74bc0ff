/**
 * Runs one gradflow workload in a loop for profiling, without TensorFlow.js in the process:
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile.mjs train-adam [seconds]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile.mjs matmul-512
 */
import * as gradflow from './gradflow.mjs';

const [what = 'train-sgd', seconds = '5'] = process.argv.slice(2);
const [kind, arg] = what.split('-');
let s = 12345;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
const data = { x: new Float32Array(64 * 784).map(() => rnd()), labels: Int32Array.from({ length: 64 }, () => Math.floor(rnd() * 10)) };
const run = kind === 'matmul' ? gradflow.matmulCase(Number(arg)) : gradflow.trainCase(arg, data);
const t0 = performance.now();
let n = 0;
while (performance.now() - t0 < Number(seconds) * 1000) {
  run();
  n++;
}
console.log(`${what}: ${((performance.now() - t0) / n).toFixed(2)} ms per call over ${String(n)} calls`);
