/**
 * The small training run the browser test executes in Chromium on WebGPU and the test repeats in
 * Node on the CPU: same seed, same data, so the two loss curves must agree.
 */
import { manualSeed, nn, optim, randn, tensor, type Device } from '../../packages/autograd/src/index.js';

export const BROWSER_STEPS = 20;

export async function trainSmallModel(device: Device): Promise<number[]> {
  manualSeed(7);
  const model = new nn.Sequential(new nn.Linear(4, 16), new nn.ReLU(), new nn.Linear(16, 1)).to(device);
  const xCpu = randn([32, 4]);
  const rows = xCpu.toArray() as number[][];
  const yCpu = tensor(rows.map((r) => [r[0] - 2 * r[1] + 0.5 * r[2] * r[3]]));
  const x = xCpu.to(device);
  const y = yCpu.to(device);
  const opt = new optim.Adam(model.parameters(), { lr: 0.02 });
  const losses: number[] = [];
  for (let step = 0; step < BROWSER_STEPS; step++) {
    opt.zeroGrad();
    const loss = nn.functional.mseLoss(model.forward(x), y);
    loss.backward();
    opt.step();
    losses.push(await loss.itemAsync());
  }
  return losses;
}
