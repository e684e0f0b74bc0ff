/**
 * @fixture A regression training loop with a manual weight update and no gradient clearing.
 * @lint require-zero-grad 17
 * @lint no-leaf-inplace 18
 * @runtime LEAF_INPLACE
 */
import { manualSeed, nn, optim, randn } from '@gradflow/autograd';

export function main(): void {
  manualSeed(1);
  const model = new nn.Linear(4, 1);
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.01 });
  const x = randn([16, 4]);
  const y = randn([16, 1]);
  for (let step = 0; step < 5; step++) {
    nn.functional.mseLoss(model.forward(x), y).backward();
    optimizer.step(); // ✗ require-zero-grad
    model.weight.clamp_(-1, 1); // ✗ no-leaf-inplace
  }
}
