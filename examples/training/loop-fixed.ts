/**
 * @fixture The same loop, fixed: gradients cleared every step, the weight clamped under noGrad.
 * @runtime ok
 */
import { manualSeed, nn, noGrad, optim, randn } from '@gradflow/autograd';

export function main(): void {
  manualSeed(1);
  const model = new nn.Linear(4, 1);
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01 });
  const x = randn([16, 4]);
  const y = randn([16, 1]);
  for (let step = 0; step < 5; step++) {
    optimizer.zeroGrad({ setToNone: true });
    nn.functional.mseLoss(model.forward(x), y).backward();
    optimizer.step();
    noGrad(() => model.weight.clamp_(-1, 1));
  }
}
