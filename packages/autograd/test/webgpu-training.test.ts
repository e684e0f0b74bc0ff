/**
 * A whole training run on WebGPU follows the CPU's loss curve: MLP 10-32-32-3, Adam, cross-entropy,
 * 50 full-batch steps from identical initial weights and data.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, optim, randn, tensor, type Device, type Tensor } from '../src/index.js';
import { expectClose } from './backend-harness.js';
import { webgpuAvailability } from './webgpu-env.js';

const STEPS = 50;

function makeModel(): nn.Sequential {
  manualSeed(1234);
  return new nn.Sequential(new nn.Linear(10, 32), new nn.ReLU(), new nn.Linear(32, 32), new nn.Tanh(), new nn.Linear(32, 3));
}

/** 96 points whose class is the arg-max of three fixed linear scores: learnable, not trivially. */
function makeData(): { x: Tensor; y: Tensor } {
  manualSeed(99);
  const x = randn([96, 10]);
  const rows = x.toArray() as number[][];
  const labels = rows.map((r) => {
    const s = [r[0] + r[1] - r[2], r[3] - r[4] + 0.5 * r[5], r[6] + r[7] * r[8] - r[9]];
    return s.indexOf(Math.max(...s));
  });
  return { x, y: tensor(labels, { dtype: 'int32' }) };
}

async function lossCurve(device: Device): Promise<number[]> {
  const model = makeModel().to(device);
  const data = makeData();
  const x = data.x.to(device);
  const y = data.y.to(device);
  const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
  const losses: number[] = [];
  for (let step = 0; step < STEPS; step++) {
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    losses.push(await loss.itemAsync());
  }
  return losses;
}

const gpu = await webgpuAvailability();

describe.skipIf(!gpu.available)('training on webgpu', () => {
  it('MLP + Adam, 50 steps: the loss curve matches the CPU run', async () => {
    const cpu = await lossCurve('cpu');
    const webgpu = await lossCurve('webgpu');
    expect(cpu[STEPS - 1]).toBeLessThan(0.5 * cpu[0]); // the run really learns
    expectClose(webgpu, cpu, 2e-3, 1e-4, 'webgpu loss curve vs cpu');
  });
});
