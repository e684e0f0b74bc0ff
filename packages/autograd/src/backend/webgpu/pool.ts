/// <reference types="@webgpu/types" />

/**
 * GPU buffers reused by size class. A storage's buffer comes back here when its Storage is
 * garbage-collected (a FinalizationRegistry) or when a kernel drops a temporary. Returned buffers
 * wait in `pending` until the command batch that may still use them has been submitted: after
 * that, a `queue.writeBuffer` into a reused buffer is ordered after every earlier use.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private pending: GPUBuffer[] = [];
  /** Bytes held by live (not pooled) buffers, for tests and benchmarks. */
  liveBytes = 0;
  /** Bytes waiting in the free lists; beyond `maxFreeBytes` returned buffers are destroyed instead. */
  freeBytes = 0;
  private readonly reclaim = new FinalizationRegistry<GPUBuffer>((buffer) => {
    this.release(buffer);
  });

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: GPUBufferUsageFlags,
    private readonly maxFreeBytes = 256 * 2 ** 20,
  ) {}

  /** A buffer of at least `bytes` (rounded up to a size class). Its contents are undefined. */
  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const reused = this.free.get(size)?.pop();
    this.liveBytes += size;
    if (reused) {
      this.freeBytes -= size;
      return reused;
    }
    return this.device.createBuffer({ size, usage: this.usage });
  }

  /** Returns `buffer` once `owner` is collected. */
  releaseWhenCollected(owner: object, buffer: GPUBuffer): void {
    this.reclaim.register(owner, buffer);
  }

  release(buffer: GPUBuffer): void {
    this.liveBytes -= buffer.size;
    this.pending.push(buffer);
  }

  /** Called right after a submit: everything released before it may be handed out again. */
  afterSubmit(): void {
    for (const b of this.pending) {
      if (this.freeBytes + b.size > this.maxFreeBytes) {
        b.destroy(); // a burst of large temporaries must not stay reserved forever
        continue;
      }
      this.freeBytes += b.size;
      const list = this.free.get(b.size);
      if (list) list.push(b);
      else this.free.set(b.size, [b]);
    }
    this.pending = [];
  }
}

/** Powers of two from 256 bytes to 1 MiB, then multiples of 1 MiB: bounded waste, few classes. */
export function sizeClass(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  const mib = 1 << 20;
  if (bytes <= mib) return 2 ** Math.ceil(Math.log2(bytes));
  return Math.ceil(bytes / mib) * mib;
}
