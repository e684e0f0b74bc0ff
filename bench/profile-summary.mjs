/**
 * Self time per function of a V8 CPU profile (`node --cpu-prof`), largest first:
 *   node bench/profile-summary.mjs /tmp/prof/CPU.….cpuprofile [rows]
 */
import { readFileSync } from 'node:fs';

const [file, rows = '40'] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/profile-summary.mjs <file.cpuprofile> [rows]');
const { nodes, samples, timeDeltas } = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(nodes.map((n) => [n.id, n]));
const self = new Map();
let total = 0;
for (let i = 0; i < samples.length; i++) {
  const n = byId.get(samples[i]);
  const f = n.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(packages|node_modules|bench)\//, '$1/')}:${String(f.lineNumber + 1)}`;
  const dt = timeDeltas[i] ?? 0;
  self.set(key, (self.get(key) ?? 0) + dt);
  total += dt;
}
const sorted = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(rows));
console.log(`total ${(total / 1000).toFixed(0)} ms`);
for (const [key, us] of sorted)
  console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${key}`);
