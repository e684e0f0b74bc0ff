/**
 * @fixture The same fine-tuning, fixed: freeze first, optimize only what trains, clear grads to null.
 * @runtime ok
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
  for (const p of model.backbone.parameters()) p.requiresGrad = false;
  const optimizer = new optim.Adam(model.parameters().filter((p) => p.requiresGrad), { lr: 1e-3 });
  const inputs = randn([12, 8]);
  const labels = tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], { dtype: 'int32' });
  for (let epoch = 0; epoch < 3; epoch++) {
    optimizer.zeroGrad({ setToNone: true });
    const logits = model.forward(inputs);
    logits.retainGrad();
    nn.functional.crossEntropy(logits, labels).backward();
    console.log('logit grad norm', logits.grad?.pow(2).sum().sqrt().item());
    optimizer.step();
  }
}
