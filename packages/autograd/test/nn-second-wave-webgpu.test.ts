/**
 * The second-wave nn pieces with device-dependent paths, on WebGPU against the CPU: a CNN with
 * BatchNorm1d, Dropout, Embedding and LayerNorm trained a few steps (buffers moved by `to()`),
 * clipGradNorm_ (coefficient not read back on the GPU), nn.init on a GPU tensor, and
 * the OneCycleLR-driven optimizer. Skipped locally without an adapter (see webgpu-env.ts).
 */
import { describe, expect, it } from 'vitest';
import { cat, manualSeed, nn, optim, tensor, type Device, type Tensor } from '../src/index.js';
import { expectClose, values } from './backend-harness.js';
import { webgpuAvailability } from './webgpu-env.js';

const gpu = await webgpuAvailability();

class Net extends nn.Module {
  emb = new nn.Embedding(5, 4);
  // No conv bias: BatchNorm cancels it, leaving it a noise-level gradient that Adam would amplify.
  conv = new nn.Conv2d(1, 3, 3, { padding: 1, bias: false });
  pool = new nn.AvgPool2d(2);
  bn = new nn.BatchNorm1d(12);
  ln = new nn.LayerNorm(12);
  drop = new nn.Dropout(0.2);
  head = new nn.Linear(16, 2);
  forward(img: Tensor, token: Tensor): Tensor {
    const feats = this.ln.forward(this.bn.forward(this.pool.forward(this.conv.forward(img)).flatten(1)));
    const h = nn.functional.gelu(this.drop.forward(feats));
    return this.head.forward(nn.functional.silu(cat([h, this.emb.forward(token)], 1)));
  }
}
async function run(device: Device): Promise<{ losses: number[]; norms: number[]; state: number[][]; lrs: number[] }> {
  manualSeed(3);
  const net = new Net().to(device);
  const opt = new optim.Adam(net.parameters(), { lr: 0.01 });
  const sched = new optim.lrScheduler.OneCycleLR(opt, { maxLr: 0.05, totalSteps: 6 });
  const img = tensor(Array.from({ length: 6 * 16 }, (_, i) => Math.sin(i * 0.7)))
    .reshape([6, 1, 4, 4])
    .to(device);
  const token = tensor([0, 1, 2, 3, 4, 1], { dtype: 'int32', device });
  const labels = tensor([0, 1, 1, 0, 1, 0], { dtype: 'int32', device });
  const losses: number[] = [];
  const norms: number[] = [];
  const lrs: number[] = [];
  for (let i = 0; i < 5; i++) {
    manualSeed(100 + i);
    opt.zeroGrad();
    const loss = nn.functional.crossEntropy(net.forward(img, token), labels, { labelSmoothing: 0.1 });
    loss.backward();
    norms.push((await values(nn.utils.clipGradNorm_(net.parameters(), 0.5)))[0]);
    opt.step();
    sched.step();
    lrs.push(sched.getLastLr()[0]);
    losses.push((await values(loss))[0]);
  }
  net.eval();
  const state: number[][] = [];
  for (const t of Object.values(net.stateDict())) state.push(await values(t));
  return { losses, norms, state, lrs };
}

describe.skipIf(!gpu.available)('second-wave nn on WebGPU vs CPU', () => {
  it('a small CNN with BatchNorm1d/LayerNorm/Dropout/Embedding trains identically (float32 tolerance)', async () => {
    const cpu = await run('cpu');
    const webgpu = await run('webgpu');
    expectClose(webgpu.losses, cpu.losses, 2e-4, 2e-5, 'losses');
    expectClose(webgpu.norms, cpu.norms, 2e-4, 2e-5, 'gradient norms');
    expect(webgpu.lrs).toEqual(cpu.lrs);
    webgpu.state.forEach((s, i) => {
      expectClose(s, cpu.state[i], 1e-3, 1e-4, `stateDict entry ${String(i)}`);
    });
  });

  it('Module.to moves buffers; eval uses the running statistics on the device', async () => {
    const bn = new nn.BatchNorm1d(3).to('webgpu');
    expect(bn.buffers().map((b) => b.device)).toEqual(['webgpu', 'webgpu', 'webgpu']);
    bn.forward(
      tensor(
        [
          [1, 2, 3],
          [3, 6, 9],
        ],
        { device: 'webgpu' },
      ),
    );
    expect(await values(bn.runningMean as Tensor)).toEqual([0.2, 0.4, 0.6].map((v) => Math.fround(v)));
    expect(await values(bn.numBatchesTracked as Tensor)).toEqual([1]);
    await bn.toAsync('cpu');
    expect(bn.buffers().map((b) => b.device)).toEqual(['cpu', 'cpu', 'cpu']);
  });

  it('nn.init fills a GPU tensor with the CPU values from the same seed', async () => {
    const a = new nn.Linear(6, 5).to('webgpu');
    const b = new nn.Linear(6, 5);
    manualSeed(8);
    nn.init.kaimingNormal_(a.weight);
    manualSeed(8);
    nn.init.kaimingNormal_(b.weight);
    expect(a.weight.device).toBe('webgpu');
    expectClose(await values(a.weight), await values(b.weight), 1e-6, 1e-7, 'kaimingNormal_');
  });
});
