/**
 * Runs one gradflow workload in a loop for profiling, without TensorFlow.js in the process:
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile.mjs train-adam [seconds]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile.mjs matmul-512
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile.mjs cnn
 * and sum the self time per function with `node bench/profile-summary.mjs /tmp/prof/<file>.cpuprofile`.
 */
import * as gradflow from './gradflow.mjs';
import { cnnBatch } from './timing.mjs';

const [what = 'train-sgd', seconds = '5'] = process.argv.slice(2);
const [kind, arg] = what.split('-');
let s = 12345;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
const data = { x: new Float32Array(64 * 784).map(() => rnd()), labels: Int32Array.from({ length: 64 }, () => Math.floor(rnd() * 10)) };
const run =
  kind === 'matmul' ? gradflow.matmulCase(Number(arg)) : kind === 'cnn' ? gradflow.cnnCase(cnnBatch()) : gradflow.trainCase(arg, data);
const t0 = performance.now();
const c0 = process.cpuUsage();
let n = 0;
while (performance.now() - t0 < Number(seconds) * 1000) {
  run();
  n++;
}
const cpu = process.cpuUsage(c0);
// CPU time (user + system) as well as wall time: on a shared machine the former moves less with the load.
console.log(
  `${what}: ${((performance.now() - t0) / n).toFixed(2)} ms per call (${((cpu.user + cpu.system) / 1000 / n).toFixed(2)} ms CPU) over ${String(n)} calls`,
);
