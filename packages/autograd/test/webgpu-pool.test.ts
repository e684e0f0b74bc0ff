/** The buffer pool's reuse rules, on a stand-in device (no GPU needed). */
import { describe, expect, it } from 'vitest';
import { BufferPool, sizeClass } from '../src/backend/webgpu/pool.js';

interface FakeBuffer {
  size: number;
  destroyed: boolean;
}

function fakeDevice(): { device: GPUDevice; created: FakeBuffer[] } {
  const created: FakeBuffer[] = [];
  const device = {
    createBuffer: ({ size }: { size: number }) => {
      const b = {
        size,
        destroyed: false,
        destroy: () => {
          b.destroyed = true;
        },
      };
      created.push(b);
      return b;
    },
  } as unknown as GPUDevice;
  return { device, created };
}

describe('webgpu buffer pool', () => {
  it('rounds sizes to powers of two up to 1 MiB, then to whole MiB', () => {
    expect(sizeClass(1)).toBe(256);
    expect(sizeClass(256)).toBe(256);
    expect(sizeClass(257)).toBe(512);
    expect(sizeClass(4000)).toBe(4096);
    expect(sizeClass(1 << 20)).toBe(1 << 20);
    expect(sizeClass((1 << 20) + 1)).toBe(2 << 20);
    expect(sizeClass(3.5 * (1 << 20))).toBe(4 << 20);
  });

  it('hands a released buffer out again only after the batch that used it was submitted', () => {
    const { device, created } = fakeDevice();
    const pool = new BufferPool(device, 0);
    const first = pool.acquire(1000);
    expect(created).toHaveLength(1);
    expect(first.size).toBe(1024);
    expect(pool.liveBytes).toBe(1024);
    pool.release(first);
    expect(pool.liveBytes).toBe(0);
    const second = pool.acquire(900); // same size class, but `first` may still be read by queued work
    expect(second).not.toBe(first);
    expect(created).toHaveLength(2);
    pool.afterSubmit();
    expect(pool.acquire(1024)).toBe(first);
    expect(pool.acquire(600)).not.toBe(first); // a different size class never shares
    expect(created).toHaveLength(3);
  });

  it('destroys returned buffers beyond its free-bytes budget instead of keeping them', () => {
    const { device, created } = fakeDevice();
    const pool = new BufferPool(device, 0, 2048);
    const buffers = [pool.acquire(1024), pool.acquire(1024), pool.acquire(1024)];
    buffers.forEach((b) => {
      pool.release(b);
    });
    pool.afterSubmit();
    expect(pool.freeBytes).toBe(2048);
    expect(created.map((b) => b.destroyed)).toEqual([false, false, true]);
    pool.acquire(1024);
    expect(pool.freeBytes).toBe(1024);
  });
});
