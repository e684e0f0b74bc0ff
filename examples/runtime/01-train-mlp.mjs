// Trains a small MLP classifier on a synthetic two-spiral-ish problem with Adam on the CPU engine.
import { manualSeed, nn, optim, randn, tensor } from '@gradflow/autograd';

manualSeed(0);
const n = 256;
const x = randn([n, 2]);
const xs = x.toArray();
const labels = tensor(
  xs.map(([a, b]) => (a * b > 0 ? 1 : 0)),
  { dtype: 'int32' },
);

const model = new nn.Sequential(new nn.Linear(2, 32), new nn.Tanh(), new nn.Linear(32, 2));
const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
for (let step = 0; step <= 200; step++) {
  opt.zeroGrad({ setToNone: true });
  const loss = nn.functional.crossEntropy(model.forward(x), labels);
  loss.backward();
  opt.step();
  if (step % 50 === 0) console.log(`step ${String(step).padStart(3)}  loss ${loss.item().toFixed(4)}`);
}
