/**
 * examples/cnn's network agrees with PyTorch: the same tiny model (scripts/reference/cnn.py), the
 * same initial weights and batch (closed formulas, evaluated here and there), 20 steps of Adam +
 * StepLR with dropout p = 0 and BatchNorm in train mode. The losses, the last step's gradients, the
 * BatchNorm running statistics and the final parameters must match PyTorch's, on the CPU and on
 * WebGPU (locally skipped without an adapter; under CI a missing adapter fails, as the other
 * WebGPU suites do).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initWebGPU, noGrad, optim, nn, tensor, type Device, type Tensor } from '@gradflow/autograd';
import { Net } from '../../examples/cnn/model.js';
import { expectClose } from '../../packages/autograd/test/backend-harness.js';
import { repoRoot } from '../validation/harness.mjs';

interface Reference {
  config: { image_size: number; channels1: number; channels2: number; hidden: number; classes: number; batch: number };
  steps: number;
  lr: number;
  stepSize: number;
  gamma: number;
  losses: number[];
  grads: Record<string, number[]>;
  params: Record<string, number[]>;
  runningMean: number[];
  runningVar: number[];
  numBatchesTracked: number;
}

const ref = JSON.parse(readFileSync(join(repoRoot, 'scripts', 'reference', 'cnn.json'), 'utf8')) as Reference;
const c = ref.config;

/** cnn.py's formula_value: element i of parameter number p, independent of either engine. */
function formulaValue(name: string, p: number, i: number, shape: readonly number[]): number {
  const s = Math.sin(0.37 * i + 1.3 * p + 0.5);
  if (name.endsWith('bn1.weight')) return 1 + 0.1 * s;
  if (shape.length === 1) return 0.1 * s;
  const fanIn = shape.reduce((a, b) => a * b, 1) / shape[0];
  return s / Math.sqrt(fanIn);
}

interface Run {
  losses: number[];
  grads: Record<string, number[]>;
  params: Record<string, number[]>;
  runningMean: number[];
  runningVar: number[];
  numBatchesTracked: number;
}

async function flat(t: Tensor | null): Promise<number[]> {
  if (t === null) throw new Error('missing tensor');
  return Array.from((await t.reshape([-1]).toArrayAsync()) as number[]);
}

async function run(device: Device): Promise<Run> {
  const model = new Net({
    imageSize: c.image_size,
    channels1: c.channels1,
    channels2: c.channels2,
    hidden: c.hidden,
    classes: c.classes,
    dropout1: 0,
    dropout2: 0,
  });
  noGrad(() => {
    model.namedParameters().forEach(([name, param], p) => {
      const values = Float64Array.from({ length: param.numel() }, (_, i) => formulaValue(name, p, i, param.shape));
      param.copy_(tensor(Float32Array.from(values)).reshape(param.shape));
    });
  });
  model.to(device);
  const size = c.image_size;
  const pixels: number[] = [];
  for (let n = 0; n < c.batch; n++)
    for (let h = 0; h < size; h++)
      for (let w = 0; w < size; w++) pixels.push(Math.sin(0.7 * (n + 1) + 0.45 * h + 0.25 * w * (1 + (n % 3))));
  const x = tensor(Float32Array.from(pixels)).reshape([c.batch, 1, size, size]).to(device);
  const y = tensor(
    Int32Array.from({ length: c.batch }, (_, n) => n % c.classes),
    { dtype: 'int32' },
  ).to(device);
  const optimizer = new optim.Adam(model.parameters(), { lr: ref.lr });
  const scheduler = new optim.lrScheduler.StepLR(optimizer, { stepSize: ref.stepSize, gamma: ref.gamma });
  model.train();
  const losses: number[] = [];
  for (let step = 0; step < ref.steps; step++) {
    optimizer.zeroGrad();
    const loss = nn.functional.nllLoss(model.forward(x), y);
    loss.backward();
    optimizer.step();
    scheduler.step();
    losses.push(await loss.itemAsync());
  }
  const grads: Record<string, number[]> = {};
  const params: Record<string, number[]> = {};
  for (const [name, p] of model.namedParameters()) {
    grads[name] = await flat(p.grad);
    params[name] = await flat(p);
  }
  return {
    losses,
    grads,
    params,
    runningMean: await flat(model.bn1.runningMean),
    runningVar: await flat(model.bn1.runningVar),
    numBatchesTracked: await (model.bn1.numBatchesTracked as Tensor).itemAsync(),
  };
}

/**
 * Tolerances. Both sides compute in float32 (unit roundoff 6e-8) but sum in different orders
 * (PyTorch's conv and GEMM kernels block their reductions differently from ours; on WebGPU each
 * kernel again differently), so every value starts off by a few ulps times its reduction's length,
 * and 20 Adam steps carry the differences forward (Adam divides by √v: a gradient that moves by a
 * relative δ moves its parameter's step by about δ·lr). Measured with torch 2.13 (max over the
 * run of |ours - torch| / (|torch| + 1e-3)): losses 1e-7 on the CPU and 4e-6 on WebGPU
 * (SwiftShader); gradients, parameters and running statistics 5e-5 on the CPU and 3e-4 on WebGPU.
 * The bounds are those with a margin of 5× or more, and far below what a real mistake changes (a
 * biased running variance, a missed scheduler step or a flipped kernel move these by 1e-2 or more).
 */
const LOSS_RTOL = 2e-5;
const RTOL = 2e-3;
const ATOL = 2e-6;

function check(ours: Run, label: string): void {
  expect(ref.losses[ref.steps - 1]).toBeLessThan(0.8 * ref.losses[0]); // the run really learns
  expectClose(ours.losses, ref.losses, LOSS_RTOL, 0, `${label}: losses`);
  expect(Object.keys(ours.grads)).toEqual(Object.keys(ref.grads));
  for (const name of Object.keys(ref.grads)) {
    expectClose(ours.grads[name], ref.grads[name], RTOL, ATOL, `${label}: grad of ${name}`);
    expectClose(ours.params[name], ref.params[name], RTOL, ATOL, `${label}: ${name} after 20 steps`);
  }
  expectClose(ours.runningMean, ref.runningMean, RTOL, ATOL, `${label}: bn1.runningMean`);
  expectClose(ours.runningVar, ref.runningVar, RTOL, ATOL, `${label}: bn1.runningVar`);
  expect(ours.numBatchesTracked).toBe(ref.numBatchesTracked);
}

const gpu = await initWebGPU().then(
  () => true,
  (e: unknown) => {
    const reason = e instanceof Error ? e.message : String(e);
    if (process.env.CI) throw new Error(`CI must run the WebGPU suites, but no adapter is available: ${reason}`);
    console.warn(`[gradflow] skipping the WebGPU CNN reference test: ${reason}`);
    return false;
  },
);

describe('examples/cnn agrees with PyTorch (scripts/reference/cnn.json)', () => {
  it('on the CPU', async () => {
    check(await run('cpu'), 'cpu');
  });
  it.skipIf(!gpu)('on WebGPU', async () => {
    check(await run('webgpu'), 'webgpu');
  });
});
