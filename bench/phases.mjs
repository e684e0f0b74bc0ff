/**
 * Where one gradflow MLP training step (784-256-10, batch 64) spends its time: zeroGrad, forward +
 * loss, backward, optimizer step. Prints the fastest of many steps per phase (the least disturbed
 * by other processes), not a typical step; use bench/run.mjs for throughput.
 *   node bench/phases.mjs [sgd|adam] [steps]
 */
import { manualSeed, nn, optim, tensor } from '@gradflow/autograd';

const [which = 'sgd', stepsArg = '400'] = process.argv.slice(2);
manualSeed(2);
const model = new nn.Sequential(new nn.Linear(784, 256), new nn.ReLU(), new nn.Linear(256, 10));
const opt = which === 'sgd' ? new optim.SGD(model.parameters(), { lr: 0.01 }) : new optim.Adam(model.parameters(), { lr: 1e-3 });
let s = 12345;
const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
const input = tensor(new Float32Array(64 * 784).map(() => rnd())).reshape([64, 784]);
const target = tensor(
  Int32Array.from({ length: 64 }, () => Math.floor(rnd() * 10)),
  { dtype: 'int32' },
);
const best = { zeroGrad: Infinity, forward: Infinity, backward: Infinity, step: Infinity, total: Infinity };
for (let i = 0; i < Number(stepsArg); i++) {
  const t0 = performance.now();
  opt.zeroGrad();
  const t1 = performance.now();
  const loss = nn.functional.crossEntropy(model.forward(input), target);
  const t2 = performance.now();
  loss.backward();
  const t3 = performance.now();
  opt.step();
  const t4 = performance.now();
  const d = { zeroGrad: t1 - t0, forward: t2 - t1, backward: t3 - t2, step: t4 - t3, total: t4 - t0 };
  for (const k of Object.keys(best)) best[k] = Math.min(best[k], d[k]);
}
console.log(
  `${which}: fastest of ${stepsArg} steps, ms — ${Object.entries(best)
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(', ')}`,
);
