import { describe, expect, it } from 'vitest';
import { tensor } from '../src/index.js';
import { webgpuAvailability } from './webgpu-env.js';

const gpu = await webgpuAvailability();

describe.skipIf(!gpu.available)('webgpu smoke', () => {
  it('adds on the GPU', async () => {
    const a = tensor([1, 2, 3], { device: 'webgpu' });
    expect(await a.add(1).toArrayAsync()).toEqual([2, 3, 4]);
  });
});
