/// <reference types="@webgpu/types" />
import { BufferPool } from './pool.js';

/** One buffer binding of a dispatch: a whole GPU buffer, bound read-only or read-write as the shader declares. */
export type Binding = GPUBuffer;

const WORKGROUPS_PER_DIM = 65535;
/** Alignment of a dispatch's slice of the parameter arena (minStorageBufferOffsetAlignment ≤ 256 everywhere). */
const PARAM_ALIGN = 256;
const PARAM_ARENA_BYTES = 1 << 16;
/** Submit after this many dispatches even if nothing is read back, so queued work keeps flowing. */
const MAX_BATCH = 256;

/**
 * The GPU device plus the machinery every kernel shares: a pipeline cache keyed by WGSL source,
 * the buffer pools, and command batching. Kernels are recorded into one compute pass of one
 * command encoder; their small parameter blocks go into a host-side arena that is uploaded with a
 * single writeBuffer just before the batch is submitted. Nothing waits on the GPU except reads.
 */
export class GpuContext {
  readonly storagePool: BufferPool;
  private readonly stagingPool: BufferPool;
  private readonly pipelines = new Map<string, { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout }>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly paramBuffer: GPUBuffer;
  private readonly paramHost = new ArrayBuffer(PARAM_ARENA_BYTES);
  private paramUsed = 0;
  private dispatches = 0;

  constructor(readonly device: GPUDevice) {
    this.storagePool = new BufferPool(device, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    this.stagingPool = new BufferPool(device, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    this.paramBuffer = device.createBuffer({ size: PARAM_ARENA_BYTES, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  }

  /** Compiles each kernel variant once; `key` names the variant so the WGSL is generated only on a miss. */
  private pipeline(key: string, makeCode: () => string): { pipeline: GPUComputePipeline; layout: GPUBindGroupLayout } {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: makeCode() });
      const pipeline = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      p = { pipeline, layout: pipeline.getBindGroupLayout(0) };
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Records one dispatch of kernel `key` (WGSL from `makeCode`, entry point `main`, bindings 0..n-1 = `buffers`, binding n =
   * the u32 parameter block `params`) over `workgroups` workgroups, folded into 2-D when the
   * count exceeds the per-dimension limit (shaders rebuild the linear id from num_workgroups).
   */
  dispatch(
    key: string,
    makeCode: () => string,
    buffers: readonly Binding[],
    params: Uint32Array,
    workgroups: number | [number, number, number],
  ): void {
    const [x, y, z] = typeof workgroups === 'number' ? fold(workgroups) : workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const bytes = Math.max(4, params.byteLength);
    const slot = Math.ceil(bytes / PARAM_ALIGN) * PARAM_ALIGN;
    if (this.paramUsed + slot > PARAM_ARENA_BYTES) this.flush();
    const offset = this.paramUsed;
    new Uint32Array(this.paramHost, offset, params.length).set(params);
    this.paramUsed += slot;

    const { pipeline, layout } = this.pipeline(key, makeCode);
    const entries: GPUBindGroupEntry[] = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    entries.push({ binding: buffers.length, resource: { buffer: this.paramBuffer, offset, size: bytes } });
    const bindGroup = this.device.createBindGroup({ layout, entries });
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    if (++this.dispatches >= MAX_BATCH) this.flush();
  }

  /** Records a buffer-to-buffer copy (outside any compute pass). */
  copyBuffer(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /** Records a zero fill of a byte range (outside any compute pass). */
  clearBuffer(buffer: GPUBuffer, offset: number, bytes: number): void {
    this.endPass();
    this.commandEncoder().clearBuffer(buffer, offset, bytes);
  }

  /** Submits everything recorded so far. */
  flush(): void {
    this.endPass();
    if (this.encoder) {
      if (this.paramUsed > 0) this.device.queue.writeBuffer(this.paramBuffer, 0, this.paramHost, 0, this.paramUsed);
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
    }
    this.paramUsed = 0;
    this.dispatches = 0;
    this.storagePool.afterSubmit();
    this.stagingPool.afterSubmit();
  }

  /** Copies `bytes` from `src` at `srcOffset` to the host, after all recorded work. */
  async readBytes(src: GPUBuffer, srcOffset: number, bytes: number): Promise<ArrayBuffer> {
    const staging = this.stagingPool.acquire(Math.max(4, bytes));
    if (bytes > 0) this.copyBuffer(src, srcOffset, staging, 0, bytes);
    this.flush();
    await staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, bytes));
    const out = staging.getMappedRange(0, Math.max(4, bytes)).slice(0, bytes);
    staging.unmap();
    this.stagingPool.release(staging);
    return out;
  }

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }
}

/** Splits a linear workgroup count into x*y ≤ limits; shaders skip the overshoot. */
function fold(count: number): [number, number, number] {
  if (count <= WORKGROUPS_PER_DIM) return [count, 1, 1];
  const y = Math.ceil(count / WORKGROUPS_PER_DIM);
  return [Math.ceil(count / y), y, 1];
}
