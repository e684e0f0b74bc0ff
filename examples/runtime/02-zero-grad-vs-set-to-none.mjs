// Seed 002: with Adam + weight decay, a layer whose gradient is only zero-filled keeps moving;
// with zeroGrad({ setToNone: true }) it stays where it is.
import { manualSeed, nn, optim, randn } from '@gradflow/autograd';

for (const setToNone of [false, true]) {
  manualSeed(1);
  const layer1 = new nn.Linear(4, 8, { bias: false });
  const layer2 = new nn.Linear(8, 3, { bias: false });
  const opt = new optim.Adam([...layer1.parameters(), ...layer2.parameters()], { lr: 0.1, weightDecay: 0.5 });
  const x = randn([16, 4]);
  const target = randn([16, 3]);
  for (let epoch = 0; epoch < 4; epoch++) {
    const detachLayer1 = epoch % 2 === 1;
    opt.zeroGrad({ setToNone });
    let h = layer1.forward(x).relu();
    if (detachLayer1) h = h.detach();
    nn.functional.mseLoss(layer2.forward(h), target).backward();
    const before = layer1.weight.dataSync().slice();
    opt.step();
    const after = layer1.weight.dataSync();
    const moved = after.some((v, i) => v !== before[i]);
    if (detachLayer1)
      console.log(`zeroGrad({ setToNone: ${setToNone} }) epoch ${epoch} (layer1 detached): layer1 ${moved ? 'MOVED' : 'stayed'}`);
  }
}
