/**
 * Trains `Net` on the generated shapes (data.ts) the way pytorch/examples `mnist/main.py` trains
 * on MNIST: shuffled mini-batches, log-softmax + NLL loss, an optimizer stepped every batch and a
 * StepLR stepped every epoch; after each epoch the test set is scored under `noGrad` with
 * `model.eval()` (dropout off, BatchNorm on its running statistics). main.py uses Adadelta
 * (lr 1.0); gradflow has no Adadelta, so this uses Adam.
 */
import { manualSeed, nn, noGrad, optim, tensor, type Device, type Tensor } from '@gradflow/autograd';
import { generateShapes, mulberry32, type ImageSet } from './data.js';
import { DEFAULT_CONFIG, Net } from './model.js';

export interface TrainOptions {
  device?: Device;
  epochs?: number;
  batchSize?: number;
  trainSize?: number;
  testSize?: number;
  lr?: number;
  /** StepLR's decay per epoch (main.py: 0.7). */
  gamma?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface TrainResult {
  /** Test-set accuracy after each epoch, in [0, 1]. */
  testAccuracy: number[];
  /** Mean training loss of each epoch. */
  trainLoss: number[];
}

/** Images `order[from..to)` of `set` as a [B, 1, S, S] tensor and their labels, on `device`. */
function batchOf(set: ImageSet, order: readonly number[], device: Device): { x: Tensor; y: Tensor } {
  const px = set.size * set.size;
  const images = new Float32Array(order.length * px);
  const labels = new Int32Array(order.length);
  order.forEach((i, b) => {
    images.set(set.images.subarray(i * px, (i + 1) * px), b * px);
    labels[b] = set.labels[i];
  });
  return {
    x: tensor(images).reshape([order.length, 1, set.size, set.size]).to(device),
    y: tensor(labels, { dtype: 'int32' }).to(device),
  };
}

/** Fraction of `set` the model classifies correctly (eval mode, no graph recorded). */
async function evaluate(model: Net, set: ImageSet, device: Device, batchSize: number): Promise<number> {
  model.eval();
  let correct = 0;
  for (let start = 0; start < set.n; start += batchSize) {
    const order = Array.from({ length: Math.min(batchSize, set.n - start) }, (_, k) => start + k);
    const { x } = batchOf(set, order, device);
    const predicted = noGrad(() => model.forward(x).argmax(1));
    const values = (await predicted.toArrayAsync()) as number[];
    values.forEach((p, b) => {
      if (p === set.labels[order[b]]) correct++;
    });
  }
  return correct / set.n;
}

export async function train(options: TrainOptions = {}): Promise<TrainResult> {
  const { device = 'cpu', epochs = 3, batchSize = 32, trainSize = 1024, testSize = 512, lr = 3e-3, gamma = 0.7, seed = 1 } = options;
  const log = options.log ?? ((line: string) => console.log(line));
  manualSeed(seed);
  const trainSet = generateShapes(trainSize, DEFAULT_CONFIG.imageSize, seed);
  const testSet = generateShapes(testSize, DEFAULT_CONFIG.imageSize, seed + 1000);
  const model = new Net(DEFAULT_CONFIG).to(device);
  const optimizer = new optim.Adam(model.parameters(), { lr });
  const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: 1, gamma });
  const shuffle = mulberry32(seed + 7);
  const result: TrainResult = { testAccuracy: [], trainLoss: [] };
  const chance = 1 / DEFAULT_CONFIG.classes;
  log(
    `before training: test accuracy ${((await evaluate(model, testSet, device, 256)) * 100).toFixed(1)}% (chance ${(chance * 100).toFixed(1)}%)`,
  );
  for (let epoch = 1; epoch <= epochs; epoch++) {
    model.train();
    const order = Array.from({ length: trainSize }, (_, i) => i);
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(shuffle() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const t0 = performance.now();
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < trainSize; start += batchSize) {
      const { x, y } = batchOf(trainSet, order.slice(start, start + batchSize), device);
      optimizer.zeroGrad({ setToNone: true });
      const loss = nn.functional.nllLoss(model.forward(x), y);
      loss.backward();
      optimizer.step();
      lossSum += await loss.itemAsync();
      batches++;
    }
    scheduler.step();
    const seconds = (performance.now() - t0) / 1000;
    const accuracy = await evaluate(model, testSet, device, 256);
    result.trainLoss.push(lossSum / batches);
    result.testAccuracy.push(accuracy);
    log(
      `epoch ${String(epoch)}: train loss ${(lossSum / batches).toFixed(4)}, test accuracy ${(accuracy * 100).toFixed(1)}%, ` +
        `${seconds.toFixed(1)} s (${String(batches)} steps on ${device}), next lr ${scheduler.getLastLr()[0].toPrecision(3)}`,
    );
  }
  return result;
}
