/** Device semantics of the WebGPU backend: reads, device moves, dtype limits, version counters, int32, no read-back per step. */
import { describe, expect, it } from 'vitest';
import { GradFlowError, nn, noGrad, optim, tensor, type Tensor } from '../src/index.js';
import { getBackend } from '../src/backend/registry.js';
import { WebGPUBackend } from '../src/backend/webgpu/webgpu-backend.js';
import { webgpuAvailability } from './webgpu-env.js';
import { oneHot } from '../src/tensor-internal.js';

const gpu = await webgpuAvailability();

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof GradFlowError) return e.code;
    throw e;
  }
  return 'no error';
}

describe.skipIf(!gpu.available)('webgpu device semantics', () => {
  it('refuses synchronous reads with DEVICE_SYNC and reads asynchronously', async () => {
    const t = tensor(
      [
        [1.5, -2],
        [3, 4],
      ],
      { device: 'webgpu' },
    );
    expect(codeOf(() => t.toArray())).toBe('DEVICE_SYNC');
    expect(codeOf(() => t.sum().item())).toBe('DEVICE_SYNC');
    expect(codeOf(() => t.dataSync())).toBe('DEVICE_SYNC');
    expect(codeOf(() => t.to('cpu'))).toBe('DEVICE_SYNC');
    expect(await t.toArrayAsync()).toEqual([
      [1.5, -2],
      [3, 4],
    ]);
    expect(await t.sum().itemAsync()).toBe(6.5);
    expect(String(t)).toContain('device=webgpu');
  });

  it('refuses to mix devices with DEVICE_MISMATCH', () => {
    const g = tensor([1, 2, 3], { device: 'webgpu' });
    const c = tensor([1, 2, 3]);
    expect(codeOf(() => g.add(c))).toBe('DEVICE_MISMATCH');
    expect(codeOf(() => c.mul(g))).toBe('DEVICE_MISMATCH');
    expect(codeOf(() => g.reshape([1, 3]).matmul(c.reshape([3, 1])))).toBe('DEVICE_MISMATCH');
    const p = tensor([1, 2, 3], { device: 'webgpu', requiresGrad: true });
    expect(codeOf(() => (p.grad = c))).toBe('DEVICE_MISMATCH');
  });

  it('refuses float64 with a dtype error that names the fix', () => {
    expect(codeOf(() => tensor([1, 2], { dtype: 'float64', device: 'webgpu' }))).toBe('DTYPE_MISMATCH');
    const cpu64 = tensor([1, 2], { dtype: 'float64' });
    expect(() => cpu64.to('webgpu')).toThrow(/WGSL has no 64-bit floats.*float32/);
  });

  it('moves tensors both ways, differentiably', async () => {
    const x = tensor([1, 2, 3], { requiresGrad: true });
    const onGpu = x.to('webgpu').mul(3);
    expect(await onGpu.toArrayAsync()).toEqual([3, 6, 9]);
    // Backward is synchronous, so a gradient cannot be read back into a CPU leaf: a clear error.
    expect(() => {
      onGpu.sum().backward();
    }).toThrow(/create the leaf on webgpu/);

    const w = tensor([1, -2, 3], { device: 'webgpu', requiresGrad: true });
    const back = await w.mul(w).toAsync('cpu');
    expect(back.device).toBe('cpu');
    expect(back.toArray()).toEqual([1, 4, 9]);
    back.sum().backward();
    expect(w.grad?.device).toBe('webgpu');
    expect(await w.grad?.toArrayAsync()).toEqual([2, -4, 6]);
  });

  it('moves a module in place, keeping its Parameter objects', async () => {
    const model = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
    const before = model.parameters();
    const cpuValues = before.map((p) => p.toArray());
    model.to('webgpu');
    expect(model.parameters()).toEqual(before);
    expect(before.every((p) => p.device === 'webgpu' && p.requiresGrad && p.isLeaf)).toBe(true);
    const out = model.forward(tensor([[1, 2, 3]], { device: 'webgpu' }));
    expect(out.device).toBe('webgpu');
    expect(codeOf(() => model.to('cpu'))).toBe('DEVICE_SYNC');
    await model.toAsync('cpu');
    expect(model.parameters().map((p) => p.toArray())).toEqual(cpuValues);
  });

  it('keeps the version-counter semantics of in-place ops', async () => {
    const x = tensor([0.5, 1, 2], { device: 'webgpu', requiresGrad: true });
    const a = x.exp();
    expect(a.version).toBe(0);
    a.add_(1);
    expect(a.version).toBe(1);
    expect(
      codeOf(() => {
        a.sum().backward();
      }),
    ).toBe('SAVED_TENSOR_MODIFIED');
    expect(codeOf(() => x.add_(1))).toBe('LEAF_INPLACE');

    const leafNoGrad = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { device: 'webgpu' },
    );
    const view = leafNoGrad.transpose(0, 1);
    leafNoGrad.mul_(10);
    expect(view.version).toBe(1);
    expect(await view.toArrayAsync()).toEqual([
      [10, 30],
      [20, 40],
    ]);
    const p = tensor([1, 2], { device: 'webgpu', requiresGrad: true });
    noGrad(() => p.sub_(0.5));
    expect(p.version).toBe(1);
    expect(await p.toArrayAsync()).toEqual([0.5, 1.5]);
  });

  it('computes int32 exactly and promotes where PyTorch does', async () => {
    const big = 16777217; // 2^24 + 1: not representable in float32
    const a = tensor([big, -7, 5], { dtype: 'int32', device: 'webgpu' });
    const b = tensor([1, 3, -2], { dtype: 'int32', device: 'webgpu' });
    const sum = a.add(b);
    expect(sum.dtype).toBe('int32');
    expect(await sum.toArrayAsync()).toEqual([big + 1, -4, 3]);
    expect(await a.mul(b).toArrayAsync()).toEqual([big, -21, -10]);
    expect(await a.neg().abs().toArrayAsync()).toEqual([big, 7, 5]);
    expect(await a.sum().itemAsync()).toBe(big - 2);
    const q = a.div(b);
    expect(q.dtype).toBe('float32');
    expect(await q.index(1).itemAsync()).toBeCloseTo(-7 / 3, 6);
    expect(await b.pow(2).toArrayAsync()).toEqual([1, 9, 4]);
    expect(await b.gt(0).toArrayAsync()).toEqual([1, 1, 0]);
    const f = tensor([2.7, -2.7], { device: 'webgpu' });
    const i = tensor([0, 0], { dtype: 'int32', device: 'webgpu' });
    noGrad(() => i.copy_(f));
    expect(await i.toArrayAsync()).toEqual([2, -2]); // truncation toward zero, as PyTorch casts
  });

  it('runs a whole training step without reading back from the GPU', async () => {
    const backend = getBackend('webgpu');
    if (!(backend instanceof WebGPUBackend)) throw new Error('the webgpu device is not served by WebGPUBackend');
    const ctx = backend.ctx;
    const original = ctx.readBytes.bind(ctx);
    let reads = 0;
    ctx.readBytes = (...args) => {
      reads++;
      return original(...args);
    };
    try {
      const model = new nn.Sequential(new nn.Linear(5, 7), new nn.Tanh(), new nn.Linear(7, 3)).to('webgpu');
      const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
      const x = tensor(
        [
          [1, 2, 3, 4, 5],
          [0, -1, 2, 0.5, 1],
        ],
        { device: 'webgpu' },
      );
      const y = tensor([2, 0], { dtype: 'int32', device: 'webgpu' });
      let loss: Tensor | null = null;
      for (let step = 0; step < 3; step++) {
        opt.zeroGrad();
        loss = nn.functional.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
      }
      expect(reads).toBe(0);
      expect(Number.isFinite(await loss?.itemAsync())).toBe(true);
      expect(reads).toBe(1);
    } finally {
      ctx.readBytes = original;
    }
  });

  it('gives an all-zero one-hot row for an out-of-range class (no read-back to check it)', async () => {
    const idx = tensor([1, 5, 0], { dtype: 'int32', device: 'webgpu' });
    const hot = oneHot(idx, 3, 'float32');
    expect(await hot.toArrayAsync()).toEqual([
      [0, 1, 0],
      [0, 0, 0],
      [1, 0, 0],
    ]);
  });

  it('matmul of a 1-element and an empty batch is well defined', async () => {
    const e = tensor([[1, 2]], { device: 'webgpu' })
      .index(0)
      .reshape([1, 2]);
    expect(await e.matmul(tensor([[3], [4]], { device: 'webgpu' })).toArrayAsync()).toEqual([[11]]);
    const empty = tensor([[1, 2]], { device: 'webgpu' })
      .reshape([1, 2])
      .matmul(
        tensor(
          [
            [1, 2],
            [3, 4],
          ],
          { device: 'webgpu' },
        ).transpose(0, 1),
      );
    expect(await empty.toArrayAsync()).toEqual([[5, 11]]);
  });
});
