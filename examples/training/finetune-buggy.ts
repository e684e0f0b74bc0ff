/**
 * @fixture Fine-tuning a classifier whose backbone is frozen after the first epoch — with three gradient-flow mistakes.
 * @lint require-set-to-none 26
 * @lint no-nonleaf-grad 30
 * @lint no-freeze-after-optimizer 34
 * @runtime FROZEN_PARAM_MOVED, NONLEAF_GRAD_NULL, ZERO_GRAD_PARAM_MOVED
 */
import { manualSeed, nn, optim, randn, tensor, type Tensor } from '@gradflow/autograd';

class Classifier extends nn.Module {
  readonly backbone = new nn.Sequential(new nn.Linear(8, 16), new nn.ReLU(), new nn.Linear(16, 16), new nn.ReLU());
  readonly head = new nn.Linear(16, 3);
  forward(x: Tensor): Tensor {
    return this.head.forward(this.backbone.forward(x));
  }
}

export function main(): void {
  manualSeed(0);
  const model = new Classifier();
  const optimizer = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const inputs = randn([12, 8]);
  const labels = tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], { dtype: 'int32' });
  for (let epoch = 0; epoch < 3; epoch++) {
    // Mistake 1: zeroGrad() zero-fills; Adam's moments then move parameters that got no gradient.
    optimizer.zeroGrad(); // ✗ require-set-to-none
    const logits = model.forward(inputs);
    nn.functional.crossEntropy(logits, labels).backward();
    // Mistake 2: logits are not a leaf; their .grad is always null.
    console.log('logit grad', logits.grad); // ✗ no-nonleaf-grad
    optimizer.step();
    // Mistake 3: freezing after the optimizer was built; Adam still holds (and moves) the backbone.
    if (epoch === 0) {
      for (const p of model.backbone.parameters()) p.requiresGrad = false; // ✗ no-freeze-after-optimizer
    }
  }
}
