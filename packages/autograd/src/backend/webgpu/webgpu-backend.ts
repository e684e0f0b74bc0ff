/// <reference types="@webgpu/types" />
import { checkAllocation, int32SumOverflow, type DType, type TypedArray } from '../../dtype.js';
import { fail } from '../../errors.js';
import { contiguousStrides, fmtShape, numel, shapeEq, type Shape } from '../../shape.js';
import type { AdamHyper, Backend, BinaryOp, RmspropHyper, SgdHyper, Storage, UnaryOp, View, WindowGeometry } from '../backend.js';
import type { GpuContext } from './context.js';
import { coalesce, isContiguous, stridesAs } from './layout.js';
import { ParamBlock } from './params.js';
import { WebGPUStorage } from './storage.js';
import { WG, wgslType, type WgslType } from './wgsl/common.js';
import { binaryExpr, mapShader, oneHotShader, unaryExpr } from './wgsl/elementwise.js';
import { matmulShader, type MatmulTile } from './wgsl/matmul.js';
import { adamShader, rmspropShader, sgdShader } from './wgsl/optim.js';
import { int32SumShader, REDUCE_WG, reduceShader } from './wgsl/reduce.js';
import { argReduceShader, fold2dShader, gatherShader, multinomialShader, scatterAddShader } from './wgsl/index-ops.js';
import { softmaxShader } from './wgsl/softmax.js';

/** Below this many elements `full` uploads the values; above it a fill kernel avoids a large host array. */
const UPLOAD_FILL_LIMIT = 4096;
/** Reductions at least this long use one workgroup per output instead of one thread. */
const COOPERATIVE_REDUCE = 2 * REDUCE_WG;

function bufferOf(v: View | Storage): GPUBuffer {
  const s = 'storage' in v ? v.storage : v;
  if (!(s instanceof WebGPUStorage)) throw new Error(`internal: a ${s.backend.device} storage reached the WebGPU backend`);
  return s.buffer;
}

function freshView(storage: Storage, shape: Shape): View {
  return { storage, shape, strides: contiguousStrides(shape), offset: 0 };
}

/**
 * The WebGPU implementation of the kernel interface: every op of the op table runs as a WGSL
 * kernel recorded into the shared command batch (see GpuContext); the only host↔device traffic
 * is uploads at creation and `readAsync`. Storages hold float32 or int32.
 */
export class WebGPUBackend implements Backend {
  readonly device = 'webgpu' as const;

  constructor(readonly ctx: GpuContext) {}

  private alloc(size: number, dtype: DType, shape?: Shape): WebGPUStorage {
    wgslType(dtype); // refuses float64 with a clear message
    checkAllocation(shape ?? size, dtype);
    checkAllocation(
      shape ?? size,
      dtype,
      this.ctx.device.limits.maxStorageBufferBindingSize,
      "this WebGPU device's maxStorageBufferBindingSize",
    );
    const buffer = this.ctx.storagePool.acquire(Math.max(1, size) * 4);
    const storage = new WebGPUStorage(this, buffer, size, dtype);
    this.ctx.storagePool.releaseWhenCollected(storage, buffer);
    return storage;
  }

  fromTyped(values: TypedArray, dtype: DType, shape?: Shape): Storage {
    const storage = this.alloc(values.length, dtype, shape);
    if (values.length > 0) {
      const data =
        dtype === 'int32'
          ? values instanceof Int32Array
            ? values
            : Int32Array.from(values, Math.trunc)
          : values instanceof Float32Array
            ? values
            : Float32Array.from(values);
      this.ctx.device.queue.writeBuffer(storage.buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    }
    return storage;
  }

  full(size: number, dtype: DType, value: number, shape?: Shape): Storage {
    if (size > UPLOAD_FILL_LIMIT) {
      const storage = this.alloc(size, dtype, shape);
      this.fill(freshView(storage, [size]), value);
      return storage;
    }
    const values = dtype === 'int32' ? new Int32Array(size) : new Float32Array(size);
    values.fill(dtype === 'int32' ? Math.trunc(value) : value);
    return this.fromTyped(values, dtype);
  }

  read(view: View): TypedArray {
    return fail(
      'DEVICE_SYNC',
      `a webgpu tensor ${fmtShape(view.shape)} cannot be read synchronously: use await t.itemAsync() / await t.toArrayAsync(), or move it with await t.toAsync('cpu').`,
    );
  }

  async readAsync(view: View): Promise<TypedArray> {
    await this.checkOverflow();
    const n = numel(view.shape);
    const dtype = view.storage.dtype;
    if (n === 0) return dtype === 'int32' ? new Int32Array(0) : new Float32Array(0);
    const source = isContiguous(view) ? view : this.contiguous(view);
    const bytes = await this.ctx.readBytes(bufferOf(source), source.offset * 4, n * 4);
    if (source !== view) this.ctx.storagePool.release(bufferOf(source));
    return dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  /** A contiguous copy of `view` in a temporary buffer the caller may release. */
  private contiguous(view: View): View {
    const out = freshView(
      new WebGPUStorage(this, this.ctx.storagePool.acquire(Math.max(1, numel(view.shape)) * 4), numel(view.shape), view.storage.dtype),
      view.shape,
    );
    this.map(out, [view], () => 'x0');
    return out;
  }

  /**
   * The strided element-wise kernel behind most ops: out[i] = expr(inputs[i]…), inputs broadcast
   * to out's shape, dims coalesced so contiguous work runs at rank 1.
   */
  private map(
    out: View,
    inputs: readonly View[],
    exprFor: (compute: WgslType) => string,
    scalars: readonly [number, number] = [0, 0],
  ): void {
    const n = numel(out.shape);
    if (n === 0) return;
    const outType = wgslType(out.storage.dtype);
    const inTypes = inputs.map((v) => wgslType(v.storage.dtype));
    const compute: WgslType = outType === 'i32' && inTypes.every((t) => t === 'i32') ? 'i32' : 'f32';
    const walk = coalesce(out.shape, [out.strides, ...inputs.map((v) => stridesAs(v, out.shape))]);
    const rank = walk.shape.length;
    const expr = exprFor(compute);
    const key = `map|${outType}|${inTypes.join(',')}|${compute}|${String(rank)}|${expr}`;
    const params = new ParamBlock()
      .u32(n)
      .scalar(scalars[0])
      .scalar(scalars[1])
      .u32(...walk.shape);
    [out, ...inputs].forEach((v, j) => params.u32(v.offset, ...walk.strides[j]));
    this.ctx.dispatch(
      key,
      () => mapShader({ outType, inTypes, compute, expr, rank }),
      [bufferOf(out), ...inputs.map(bufferOf)],
      params.build(),
      Math.ceil(n / WG),
    );
  }

  copy(dst: View, src: View): void {
    const n = numel(dst.shape);
    if (
      dst.storage !== src.storage &&
      dst.storage.dtype === src.storage.dtype &&
      shapeEq(dst.shape, src.shape) &&
      isContiguous(dst) &&
      isContiguous(src)
    ) {
      // Same layout, no cast: a buffer copy (a memcpy on software adapters) beats a shader.
      if (n > 0) this.ctx.copyBuffer(bufferOf(src), src.offset * 4, bufferOf(dst), dst.offset * 4, n * 4);
      return;
    }
    // A dispatch may not read and write one buffer: stage an aliasing source first.
    const source = dst.storage === src.storage ? this.contiguous(src) : src;
    this.map(dst, [source], () => 'x0');
    if (source !== src) this.ctx.storagePool.release(bufferOf(source));
  }

  fill(dst: View, value: number): void {
    const n = numel(dst.shape);
    if (value === 0 && !Object.is(value, -0) && isContiguous(dst)) {
      // 0 is all-zero bits in float32 and int32 alike.
      if (n > 0) this.ctx.clearBuffer(bufferOf(dst), dst.offset * 4, n * 4);
      return;
    }
    this.map(dst, [], () => 's0', [value, 0]);
  }

  unary(op: UnaryOp, x: View, dtype: DType): Storage {
    const out = freshView(this.alloc(numel(x.shape), dtype, x.shape), x.shape);
    this.map(out, [x], (T) => unaryExpr(op, 'x0', T));
    return out.storage;
  }

  binary(op: BinaryOp, a: View, b: View, outShape: Shape, dtype: DType): Storage {
    const out = freshView(this.alloc(numel(outShape), dtype, outShape), outShape);
    this.map(out, [a, b], (T) => binaryExpr(op, 'x0', 'x1', T));
    return out.storage;
  }

  binaryScalar(op: BinaryOp, a: View, scalar: number, scalarFirst: boolean, dtype: DType): Storage {
    const out = freshView(this.alloc(numel(a.shape), dtype, a.shape), a.shape);
    this.map(out, [a], (T) => (scalarFirst ? binaryExpr(op, 's0', 'x0', T) : binaryExpr(op, 'x0', 's0', T)), [scalar, 0]);
    return out.storage;
  }

  clamp(x: View, min: number, max: number): Storage {
    const out = freshView(this.alloc(numel(x.shape), x.storage.dtype), x.shape);
    // NaN stays NaN (PyTorch's clamp); WGSL's min/max may drop it.
    this.map(out, [x], (T) => (T === 'f32' ? 'select(min(max(x0, s0), s1), x0, isnan_(x0))' : 'min(max(x0, s0), s1)'), [min, max]);
    return out.storage;
  }

  /**
   * An int32 sum whose total int32 cannot hold throws, as on the CPU (PyTorch would widen to
   * int64, which gradflow lacks), but a kernel cannot throw: the kernel sums in 64 bits and counts
   * such outputs in a small flag buffer, and the next read from this device (`readAsync`, which
   * every way of looking at a WebGPU tensor goes through) reads the flags first and throws
   * DTYPE_MISMATCH there, naming the value and the summed tensor's shape.
   */
  sum(x: View, dims: readonly number[], dtype: DType): Storage {
    if (dtype === 'int32' && x.storage.dtype === 'int32') return this.int32Sum(x, dims);
    return this.reduce('sum', x, dims, dtype);
  }

  /** Int32 sums whose overflow flags no read has checked yet: the flag buffer and the summed shape. */
  private pendingOverflow: { flags: GPUBuffer; shape: Shape }[] = [];

  private int32Sum(x: View, dims: readonly number[]): Storage {
    const flags = this.ctx.storagePool.acquire(16);
    this.ctx.clearBuffer(flags, 0, 16);
    const out = this.reduce('sum', x, dims, 'int32', flags);
    this.pendingOverflow.push({ flags, shape: x.shape });
    return out;
  }

  /** Throws for the first pending int32 sum whose kernel found an overflow (after releasing every flag buffer). */
  private async checkOverflow(): Promise<void> {
    if (this.pendingOverflow.length === 0) return;
    const pending = this.pendingOverflow;
    this.pendingOverflow = [];
    let found: { value: number; shape: Shape } | null = null;
    for (const { flags, shape } of pending) {
      const words = new Uint32Array(await this.ctx.readBytes(flags, 0, 12));
      this.ctx.storagePool.release(flags);
      // words[1], words[2]: lo and hi of a 64-bit two's complement total.
      if (words[0] !== 0 && found === null) found = { value: (words[2] | 0) * 2 ** 32 + words[1], shape };
    }
    if (found) int32SumOverflow(found.value, found.shape, ' (summed on WebGPU, found when reading back)');
  }

  max(x: View, dim: number): Storage {
    return this.reduce('max', x, [dim], x.storage.dtype);
  }

  min(x: View, dim: number): Storage {
    return this.reduce('min', x, [dim], x.storage.dtype);
  }

  argReduce(op: 'max' | 'min', x: View, dim: number): Storage {
    const outShape = x.shape.map((d, i) => (i === dim ? 1 : d));
    const outN = numel(outShape);
    const out = this.alloc(outN, 'int32', outShape);
    if (outN === 0) return out;
    const T = wgslType(x.storage.dtype);
    const source = isContiguous(x) ? x : this.contiguous(x);
    const params = new ParamBlock().u32(outN, x.shape[dim] ?? 1, numel(x.shape.slice(dim + 1)), source.offset);
    this.ctx.dispatch(
      `argReduce|${op}|${T}`,
      () => argReduceShader(op, T),
      [out.buffer, bufferOf(source)],
      params.build(),
      Math.ceil(outN / WG),
    );
    if (source !== x) this.ctx.storagePool.release(bufferOf(source));
    return out;
  }

  where(cond: View, a: View, b: View, outShape: Shape, dtype: DType): Storage {
    const out = freshView(this.alloc(numel(outShape), dtype, outShape), outShape);
    this.map(out, [cond, a, b], (T) => `select(x2, x1, x0 != ${T}(0))`);
    return out.storage;
  }

  gather(x: View, dim: number, index: View): Storage {
    const shape = index.shape;
    const n = numel(shape);
    const T = wgslType(x.storage.dtype);
    const out = freshView(this.alloc(n, x.storage.dtype, shape), shape);
    if (n === 0) return out.storage;
    const inputStrides = x.strides.map((s, d) => (d === dim ? 0 : s));
    const walk = coalesce(shape, [out.strides, index.strides, inputStrides]);
    const params = new ParamBlock().u32(n, x.strides[dim] ?? 0, x.shape[dim] ?? 1, ...walk.shape);
    [out.offset, index.offset, x.offset].forEach((o, j) => params.u32(o, ...walk.strides[j]));
    const rank = walk.shape.length;
    this.ctx.dispatch(
      `gather|${T}|${String(rank)}`,
      () => gatherShader(T, rank),
      [bufferOf(out), bufferOf(index), bufferOf(x)],
      params.build(),
      Math.ceil(n / WG),
    );
    return out.storage;
  }

  fold2d(g: View, geometry: WindowGeometry): Storage {
    const [n, c] = g.shape;
    const [h, w] = geometry.size;
    const outN = n * c * h * w;
    const T = wgslType(g.storage.dtype);
    const out = this.alloc(outN, g.storage.dtype, [n, c, h, w]);
    if (outN === 0) return out;
    const source = isContiguous(g) ? g : this.contiguous(g);
    const { kernel, out: grid, stride, dilation } = geometry;
    const params = new ParamBlock().u32(outN, h, w, ...kernel, ...grid, ...stride, ...dilation, source.offset);
    this.ctx.dispatch(`fold2d|${T}`, () => fold2dShader(T), [out.buffer, bufferOf(source)], params.build(), Math.ceil(outN / WG));
    if (source !== g) this.ctx.storagePool.release(bufferOf(source));
    return out;
  }

  scatterAdd(src: View, dim: number, index: View, outShape: Shape): Storage {
    const outN = numel(outShape);
    const T = wgslType(src.storage.dtype);
    const out = this.alloc(outN, src.storage.dtype, outShape);
    if (outN === 0) return out;
    const rank = outShape.length;
    const params = new ParamBlock()
      .u32(outN, rank, dim, index.shape[dim] ?? 1, index.offset, src.offset)
      .u32(...outShape, ...index.shape, ...index.strides, ...src.strides);
    this.ctx.dispatch(
      `scatterAdd|${T}`,
      () => scatterAddShader(T),
      [out.buffer, bufferOf(index), bufferOf(src)],
      params.build(),
      Math.ceil(outN / WG),
    );
    return out;
  }

  multinomial(probs: View, numSamples: number, replacement: boolean, uniforms: Float32Array): Storage {
    const n = probs.shape[probs.shape.length - 1];
    const rows = n === 0 ? 0 : numel(probs.shape) / n;
    const out = this.alloc(rows * numSamples, 'int32', [rows, numSamples]);
    if (rows * numSamples === 0) return out;
    const source = isContiguous(probs) ? probs : this.contiguous(probs);
    const u = this.fromTyped(uniforms, 'float32');
    const params = new ParamBlock().u32(rows, n, numSamples, source.offset);
    this.ctx.dispatch(
      `multinomial|${String(replacement)}`,
      () => multinomialShader(replacement),
      [out.buffer, bufferOf(source), bufferOf(u)],
      params.build(),
      Math.ceil(rows / WG),
    );
    if (source !== probs) this.ctx.storagePool.release(bufferOf(source));
    return out;
  }

  /** `overflowFlags`: an int32 sum that flags totals int32 cannot hold there (see int32SumShader). */
  private reduce(op: 'sum' | 'max' | 'min', x: View, dims: readonly number[], dtype: DType, overflowFlags?: GPUBuffer): Storage {
    const outShape = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
    const outN = numel(outShape);
    const out = this.alloc(outN, dtype);
    if (outN === 0) return out;
    const keptDims = x.shape.map((_, i) => i).filter((i) => !dims.includes(i));
    const kept = coalesce(
      keptDims.map((d) => x.shape[d]),
      [keptDims.map((d) => x.strides[d])],
    );
    const reduced = coalesce(
      dims.map((d) => x.shape[d]),
      [dims.map((d) => x.strides[d])],
    );
    const count = numel(dims.map((d) => x.shape[d]));
    const spec = {
      op,
      inType: wgslType(x.storage.dtype),
      outType: wgslType(dtype),
      keptRank: kept.shape.length,
      reducedRank: reduced.shape.length,
      cooperative: count >= COOPERATIVE_REDUCE,
    };
    const params = new ParamBlock().u32(
      outN,
      count,
      ...kept.shape,
      x.offset,
      ...kept.strides[0],
      ...reduced.shape,
      0,
      ...reduced.strides[0],
    );
    const workgroups = spec.cooperative ? outN : Math.ceil(outN / WG);
    if (overflowFlags) {
      this.ctx.dispatch(
        `int32Sum|${String(spec.keptRank)}|${String(spec.reducedRank)}|${String(spec.cooperative)}`,
        () => int32SumShader(spec.keptRank, spec.reducedRank, spec.cooperative),
        [out.buffer, bufferOf(x), overflowFlags],
        params.build(),
        workgroups,
      );
      return out;
    }
    const key = `reduce|${spec.op}|${spec.inType}|${spec.outType}|${String(spec.keptRank)}|${String(spec.reducedRank)}|${String(spec.cooperative)}`;
    this.ctx.dispatch(key, () => reduceShader(spec), [out.buffer, bufferOf(x)], params.build(), workgroups);
    return out;
  }

  softmax(x: View, dim: number, log: boolean): Storage {
    const n = numel(x.shape);
    const out = this.alloc(n, x.storage.dtype);
    const len = x.shape[dim] ?? 1;
    if (n === 0) return out;
    const source = isContiguous(x) ? x : this.contiguous(x);
    const inner = numel(x.shape.slice(dim + 1));
    const rows = n / len;
    const params = new ParamBlock().u32(rows, len, inner, source.offset);
    this.ctx.dispatch(
      `softmax|${String(log)}`,
      () => softmaxShader(log),
      [out.buffer, bufferOf(source)],
      params.build(),
      Math.ceil(rows / WG),
    );
    if (source !== x) this.ctx.storagePool.release(bufferOf(source));
    return out;
  }

  matmul(a: View, b: View, batch: Shape, m: number, k: number, n: number, dtype: DType): Storage {
    const batches = numel(batch);
    const out = this.alloc(batches * m * n, dtype);
    if (batches * m * n === 0) return out;
    if (batches > 65535)
      fail(
        'INVALID_ARGUMENT',
        `matmul on WebGPU supports at most 65535 batched matrices, got ${String(batches)} (batch ${fmtShape(batch)}); reshape the batch into fewer, larger matrices.`,
      );
    const T = wgslType(dtype);
    const batchStrides = (v: View): number[] => stridesAs({ ...v, shape: v.shape.slice(0, -2), strides: v.strides.slice(0, -2) }, batch);
    const nd = (v: View): number => v.shape.length;
    const params = new ParamBlock()
      .u32(m, k, n, ...batch)
      .u32(a.offset, ...batchStrides(a), a.strides[nd(a) - 2], a.strides[nd(a) - 1])
      .u32(b.offset, ...batchStrides(b), b.strides[nd(b) - 2], b.strides[nd(b) - 1]);
    const tile: MatmulTile = Math.min(m, n) <= 32 || m * n <= 256 * 256 ? 32 : 64;
    this.ctx.dispatch(
      `matmul|${T}|${String(batch.length)}|${String(tile)}`,
      () => matmulShader(T, batch.length, tile),
      [out.buffer, bufferOf(a), bufferOf(b)],
      params.build(),
      [Math.ceil(n / tile), Math.ceil(m / tile), batches],
    );
    return out;
  }

  /** Out-of-range class indices give an all-zero row here: checking them would need a read-back. */
  oneHot(indices: View, numClasses: number, dtype: DType): Storage {
    const rows = indices.shape[0] ?? 1;
    const out = this.alloc(rows * numClasses, dtype);
    if (rows * numClasses === 0) return out;
    const T = wgslType(dtype);
    const params = new ParamBlock().u32(rows * numClasses, numClasses, indices.offset, indices.strides[0] ?? 0);
    this.ctx.dispatch(
      `oneHot|${T}`,
      () => oneHotShader(T),
      [out.buffer, bufferOf(indices)],
      params.build(),
      Math.ceil((rows * numClasses) / WG),
    );
    return out;
  }

  /** Optimizer kernels read the gradient contiguously; a strided one is staged first. */
  private withContiguous(view: View, body: (v: View) => void): void {
    const source = isContiguous(view) ? view : this.contiguous(view);
    body(source);
    if (source !== view) this.ctx.storagePool.release(bufferOf(source));
  }

  sgdStep(param: View, grad: View, momentumBuf: View | null, h: SgdHyper): void {
    const n = numel(param.shape);
    this.withContiguous(grad, (g) => {
      const params = new ParamBlock()
        .u32(n, param.offset, g.offset, momentumBuf?.offset ?? 0)
        .f32(h.lr)
        .f32(h.momentum)
        .f32(h.dampening)
        .f32(h.weightDecay)
        .u32(h.nesterov ? 1 : 0, h.firstStep ? 1 : 0);
      const buffers = [bufferOf(param), bufferOf(g), ...(momentumBuf ? [bufferOf(momentumBuf)] : [])];
      this.ctx.dispatch(
        `sgd|${String(momentumBuf !== null)}`,
        () => sgdShader(momentumBuf !== null),
        buffers,
        params.build(),
        Math.ceil(n / WG),
      );
    });
  }

  adamStep(param: View, grad: View, expAvg: View, expAvgSq: View, maxExpAvgSq: View | null, h: AdamHyper): void {
    const n = numel(param.shape);
    const stepSize = h.lr / (1 - Math.pow(h.beta1, h.step));
    const bc2Sqrt = Math.sqrt(1 - Math.pow(h.beta2, h.step));
    this.withContiguous(grad, (g) => {
      const params = new ParamBlock()
        .u32(n, param.offset, g.offset, expAvg.offset, expAvgSq.offset, maxExpAvgSq?.offset ?? 0)
        .f32(h.lr)
        .f32(h.beta1)
        .f32(h.beta2)
        .f32(h.eps)
        .f32(h.weightDecay)
        .u32(h.decoupled ? 1 : 0)
        .f32(stepSize)
        .f32(bc2Sqrt);
      const buffers = [bufferOf(param), bufferOf(g), bufferOf(expAvg), bufferOf(expAvgSq), ...(maxExpAvgSq ? [bufferOf(maxExpAvgSq)] : [])];
      this.ctx.dispatch(
        `adam|${String(maxExpAvgSq !== null)}`,
        () => adamShader(maxExpAvgSq !== null),
        buffers,
        params.build(),
        Math.ceil(n / WG),
      );
    });
  }

  rmspropStep(param: View, grad: View, squareAvg: View, momentumBuf: View | null, gradAvg: View | null, h: RmspropHyper): void {
    const n = numel(param.shape);
    this.withContiguous(grad, (g) => {
      const params = new ParamBlock()
        .u32(n, param.offset, g.offset, squareAvg.offset, momentumBuf?.offset ?? 0, gradAvg?.offset ?? 0)
        .f32(h.lr)
        .f32(h.alpha)
        .f32(h.eps)
        .f32(h.weightDecay)
        .f32(h.momentum);
      const buffers = [
        bufferOf(param),
        bufferOf(g),
        bufferOf(squareAvg),
        ...(momentumBuf ? [bufferOf(momentumBuf)] : []),
        ...(gradAvg ? [bufferOf(gradAvg)] : []),
      ];
      const variant = `${String(momentumBuf !== null)}|${String(gradAvg !== null)}`;
      this.ctx.dispatch(
        `rmsprop|${variant}`,
        () => rmspropShader(momentumBuf !== null, gradAvg !== null),
        buffers,
        params.build(),
        Math.ceil(n / WG),
      );
    });
  }
}
