import { runBackward } from './autograd/engine.js';
import type { Node } from './autograd/node.js';
import type { Storage } from './backend/backend.js';
import { getBackend } from './backend/registry.js';
import {
  checkDevice,
  describeValue,
  isFloating,
  promoteWithScalar,
  toInt32Checked,
  type Device,
  type DType,
  type TypedArray,
} from './dtype.js';
import { fail } from './errors.js';
import { noGrad } from './grad-mode.js';
import { checkIndex } from './ops/shape-ops.js';
import { ops } from './ops/table.js';
import { apply, applyInplace } from './ops/apply.js';
import {
  broadcastShapes,
  contiguousStrides,
  fmtShape,
  normalizeDim,
  normalizeDims,
  numel,
  resolveReshape,
  shapeEq,
  viewStrides,
  type Shape,
} from './shape.js';
import { nonLeafGradRead } from './observe.js';
import { checkBackwardArgs, checkBoolArg, checkMaskArgs, checkNumberArg, clampBounds, varOptions } from './tensor-args.js';
import { castTo, constant, contiguousCopy, isContiguous, reshapeRaw, squeezeRaw } from './tensor-internal.js';

export type Scalar = number;
export type Operand = Tensor | number;
/** Nested arrays shaped like the tensor (a number for a 0-d tensor). */
export type NestedArray = number | NestedArray[];

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

let warnedNonLeafGrad = false;

/**
 * A strided n-d array on one device, with PyTorch's autograd semantics: leaves accumulate `.grad`,
 * non-leaves carry the `gradFn` that made them, and in-place ops bump a version counter shared
 * with every view and `detach()` of the same storage.
 */
export class Tensor {
  // The representation the kernels read (a Tensor is a backend `View`) is @internal; what the engine
  // does with it (raw views, copies, grad accumulation, device moves) is in tensor-internal.ts.
  /** @internal */ storage: Storage;
  readonly shape: readonly number[];
  /** @internal */ strides: readonly number[];
  /** @internal */ offset: number;
  /** The op that produced this tensor; null for leaves. */
  gradFn: Node | null = null;
  /** @internal The tensor whose storage this view aliases (reshape/transpose/index), if any. */
  viewBase: Tensor | null = null;
  /** @internal Set on the 0-d constants that number operands become. */
  scalar: number | undefined = undefined;
  private leafRequiresGrad = false;
  private gradValue: Tensor | null = null;
  private retainsGradFlag = false;

  /** @internal Use `tensor()`, `zeros()`, … to create tensors. */
  constructor(storage: Storage, shape: Shape, strides?: readonly number[], offset = 0) {
    this.storage = storage;
    this.shape = shape.slice();
    this.strides = strides ? strides.slice() : contiguousStrides(shape);
    this.offset = offset;
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): Device {
    return this.storage.backend.device;
  }
  get ndim(): number {
    return this.shape.length;
  }
  numel(): number {
    return numel(this.shape);
  }
  /** In-place modification counter, shared with views and detached aliases. */
  get version(): number {
    return this.storage.version;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  get requiresGrad(): boolean {
    return this.gradFn !== null || this.leafRequiresGrad;
  }
  set requiresGrad(flag: boolean) {
    this.requiresGrad_(flag);
  }
  requiresGrad_(flag = true): this {
    if (!this.isLeaf) {
      if (flag) return this;
      fail(
        'NONLEAF_REQUIRES_GRAD',
        `you can only change requiresGrad flags of leaf tensors; this tensor was produced by ${this.gradFn?.name ?? 'an op'}. To stop gradients here use x.detach() (a new leaf sharing storage), or set requiresGrad on the leaves that produce it.`,
      );
    }
    if (flag && !isFloating(this.dtype)) {
      fail(
        'DTYPE_REQUIRES_GRAD',
        `only floating point tensors can require gradients; this one is ${this.dtype} ${fmtShape(this.shape)}. Create it with dtype 'float32' or 'float64'.`,
      );
    }
    this.leafRequiresGrad = flag;
    return this;
  }

  get grad(): Tensor | null {
    if (!this.isLeaf && !this.retainsGradFlag) {
      nonLeafGradRead(this);
      if (!warnedNonLeafGrad) {
        warnedNonLeafGrad = true;
        console.warn(
          `[gradflow] The .grad of a tensor that is not a leaf is being read. Its .grad is not populated during backward(); it stays null. Call .retainGrad() on it before backward() if you want it, or read the gradient of a leaf instead.`,
        );
      }
      return null;
    }
    return this.gradValue;
  }
  set grad(g: Tensor | null) {
    if (g !== null) {
      if (!(g instanceof Tensor)) fail('INVALID_ARGUMENT', 'grad must be a Tensor or null');
      if (!shapeEq(g.shape, this.shape))
        fail('SHAPE_MISMATCH', `assigned grad has shape ${fmtShape(g.shape)} but the tensor has shape ${fmtShape(this.shape)}`);
      if (g.dtype !== this.dtype) fail('DTYPE_MISMATCH', `assigned grad has dtype ${g.dtype} but the tensor is ${this.dtype}`);
      if (g.device !== this.device) fail('DEVICE_MISMATCH', `assigned grad is on ${g.device} but the tensor is on ${this.device}`);
    }
    this.gradValue = g;
  }
  /** Whether `retainGrad()` was called on this non-leaf. */
  get retainsGrad(): boolean {
    return this.retainsGradFlag;
  }

  retainGrad(): void {
    if (!this.requiresGrad) {
      fail(
        'INVALID_ARGUMENT',
        `can't retainGrad() on a tensor that does not require grad (${this.dtype} ${fmtShape(this.shape)}): no gradient will ever flow into it. Compute it from tensors that require grad, outside noGrad.`,
      );
    }
    if (this.isLeaf) return;
    this.retainsGradFlag = true;
    if (this.gradFn) this.gradFn.retainedBy = this;
  }

  /** A new leaf sharing storage and version counter, with requiresGrad false. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  backward(gradient?: Tensor | null, options: BackwardOptions = {}): void {
    checkBackwardArgs(gradient, options);
    if (!this.requiresGrad) {
      fail(
        'NO_GRAD_FN',
        `element 0 of tensors does not require grad and does not have a gradFn: backward() on ${this.dtype} ${fmtShape(this.shape)} that was computed without any tensor that requires grad (or under noGrad). Make sure the parameters have requiresGrad and the forward pass runs outside noGrad.`,
      );
    }
    let seed: Tensor;
    if (gradient === undefined || gradient === null) {
      if (this.numel() !== 1) {
        fail(
          'SHAPE_MISMATCH',
          `grad can be implicitly created only for scalar outputs; this tensor has shape ${fmtShape(this.shape)}. Reduce it first (e.g. loss.sum() or loss.mean()) or pass a gradient of the same shape.`,
        );
      }
      seed = contiguousCopy(constant(1, this.device, this.dtype).expand(this.shape));
    } else {
      if (!shapeEq(gradient.shape, this.shape))
        fail('SHAPE_MISMATCH', `backward: gradient has shape ${fmtShape(gradient.shape)} but the output has shape ${fmtShape(this.shape)}`);
      seed = gradient;
    }
    const retainGraph = options.retainGraph ?? options.createGraph ?? false;
    runBackward([this], [seed], { retainGraph, createGraph: options.createGraph ?? false });
  }

  // ---- element-wise and reductions (all differentiable) ----
  private operand(x: Operand): Tensor {
    if (typeof x === 'number') return constant(x, this.device, promoteWithScalar(this.dtype, x));
    if (!(x instanceof Tensor))
      fail('INVALID_ARGUMENT', `expected a Tensor or a number as the operand, but ${describeValue(x)} was passed (got ${typeof x})`);
    return x;
  }
  add(other: Operand): Tensor {
    return apply(ops.add, [this, this.operand(other)]);
  }
  sub(other: Operand): Tensor {
    return apply(ops.sub, [this, this.operand(other)]);
  }
  mul(other: Operand): Tensor {
    return apply(ops.mul, [this, this.operand(other)]);
  }
  div(other: Operand): Tensor {
    return apply(ops.div, [this, this.operand(other)]);
  }
  pow(exponent: Operand): Tensor {
    return apply(ops.pow, [this, this.operand(exponent)]);
  }
  neg(): Tensor {
    return apply(ops.neg, [this]);
  }
  exp(): Tensor {
    return apply(ops.exp, [this]);
  }
  log(): Tensor {
    return apply(ops.log, [this]);
  }
  sqrt(): Tensor {
    return apply(ops.sqrt, [this]);
  }
  /** log(1 + x), accurate for small x. */
  log1p(): Tensor {
    return apply(ops.log1p, [this]);
  }
  abs(): Tensor {
    return apply(ops.abs, [this]);
  }
  relu(): Tensor {
    return apply(ops.relu, [this]);
  }
  sigmoid(): Tensor {
    return apply(ops.sigmoid, [this]);
  }
  tanh(): Tensor {
    return apply(ops.tanh, [this]);
  }

  matmul(other: Tensor): Tensor {
    if (!(other instanceof Tensor)) fail('INVALID_ARGUMENT', `matmul expects a Tensor as other, but ${describeValue(other)} was passed`);
    if (this.ndim === 0 || other.ndim === 0)
      fail('SHAPE_MISMATCH', `matmul: both arguments need at least 1 dimension, got ${fmtShape(this.shape)} and ${fmtShape(other.shape)}`);
    // PyTorch's 1-D rules: a vector on the left gains a leading 1, on the right a trailing 1.
    const a = this.ndim === 1 ? this.reshape([1, this.shape[0]]) : this;
    const b = other.ndim === 1 ? other.reshape([other.shape[0], 1]) : other;
    let out = apply(ops.matmul, [a, b]);
    if (this.ndim === 1 && other.ndim === 1) out = out.reshape([]);
    else if (this.ndim === 1) out = out.reshape([...out.shape.slice(0, -2), out.shape[out.ndim - 1]]);
    else if (other.ndim === 1) out = out.reshape(out.shape.slice(0, -1));
    return out;
  }

  sum(dim?: number | readonly number[], keepdim = false): Tensor {
    return apply(ops.sum, [this], { dims: normalizeDims(dim, this.ndim), keepdim });
  }
  mean(dim?: number | readonly number[], keepdim = false): Tensor {
    if (!isFloating(this.dtype)) fail('DTYPE_MISMATCH', `mean() needs a floating point tensor, got ${this.dtype}; convert it first`);
    return apply(ops.mean, [this], { dims: normalizeDims(dim, this.ndim), keepdim });
  }
  softmax(dim: number): Tensor {
    return apply(ops.softmax, [this.floatOrFail('softmax')], { dim: normalizeDim(dim, this.ndim) });
  }
  logSoftmax(dim: number): Tensor {
    return apply(ops.logSoftmax, [this.floatOrFail('logSoftmax')], { dim: normalizeDim(dim, this.ndim) });
  }
  private floatOrFail(op: string): this {
    if (!isFloating(this.dtype)) fail('DTYPE_MISMATCH', `${op}() needs a floating point tensor, got ${this.dtype} ${fmtShape(this.shape)}`);
    return this;
  }

  // ---- second wave: reductions and selection ----
  /**
   * Without `dim`: the largest element (0-d; gradient shared evenly among ties, as PyTorch). With
   * `dim`: `{ values, indices }` of the first maximum along it (indices int32; PyTorch's are int64).
   * NaN propagates: a slice holding NaN has max NaN at the first NaN's index.
   */
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return this.extreme('max', dim, keepdim);
  }
  /** `max`'s counterpart: the smallest element, or `{ values, indices }` along `dim`. */
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return this.extreme('min', dim, keepdim);
  }
  /** int32 index of the first maximum (over the flattened tensor without `dim`). */
  argmax(dim?: number, keepdim = false): Tensor {
    return this.argExtreme('max', dim, keepdim);
  }
  /** int32 index of the first minimum (over the flattened tensor without `dim`). */
  argmin(dim?: number, keepdim = false): Tensor {
    return this.argExtreme('min', dim, keepdim);
  }
  private extreme(op: 'max' | 'min', dim: number | undefined, keepdim: boolean): Tensor | { values: Tensor; indices: Tensor } {
    if (dim === undefined) {
      if (this.numel() === 0) fail('INVALID_ARGUMENT', `${op}(): the tensor ${fmtShape(this.shape)} is empty; specify a dim`);
      return apply(ops.amax, [this], { op });
    }
    checkBoolArg(op, 'keepdim', keepdim);
    const d = normalizeDim(dim, this.ndim);
    if (this.ndim === 0) return { values: this.clone(), indices: this.argExtreme(op, dim, keepdim) };
    if (this.shape[d] === 0)
      fail('INVALID_ARGUMENT', `${op}(dim=${String(dim)}): dimension ${String(d)} of ${fmtShape(this.shape)} is empty`);
    const indices = new Tensor(
      this.storage.backend.argReduce(op, this, d),
      this.shape.map((s, i) => (i === d ? 1 : s)),
    );
    const values = this.gather(d, indices);
    return keepdim ? { values, indices } : { values: values.squeeze(d), indices: squeezeRaw(indices, d) };
  }
  private argExtreme(op: 'max' | 'min', dim: number | undefined, keepdim: boolean): Tensor {
    if (dim === undefined) {
      if (this.numel() === 0) fail('INVALID_ARGUMENT', `arg${op}(): the tensor ${fmtShape(this.shape)} is empty; specify a dim`);
      const flat = isContiguous(this)
        ? new Tensor(this.storage, [this.numel()], [1], this.offset)
        : reshapeRaw(contiguousCopy(this), [this.numel()]);
      const r = new Tensor(this.storage.backend.argReduce(op, flat, 0), [1]);
      return keepdim
        ? reshapeRaw(
            r,
            this.shape.map(() => 1),
          )
        : reshapeRaw(r, []);
    }
    const d = normalizeDim(dim, this.ndim);
    if (this.ndim === 0) return new Tensor(this.storage.backend.full(1, 'int32', 0), []);
    const r = new Tensor(
      this.storage.backend.argReduce(op, this, d),
      this.shape.map((s, i) => (i === d ? 1 : s)),
    );
    return keepdim ? r : squeezeRaw(r, d);
  }
  /** Gathers values along `dim` at an int32 `index` of the same rank (out[i][j] = self[i][index[i][j]] for dim 1). */
  gather(dim: number, index: Tensor): Tensor {
    if (!(index instanceof Tensor))
      fail('INVALID_ARGUMENT', `gather: index must be an int32 Tensor, but ${describeValue(index)} was passed`);
    if (index.dtype !== 'int32') fail('DTYPE_MISMATCH', `gather: index must be int32, got ${index.dtype} ${fmtShape(index.shape)}`);
    const d = normalizeDim(dim, this.ndim);
    if (index.ndim !== Math.max(this.ndim, 1) && !(this.ndim === 0 && index.ndim === 0)) {
      fail('SHAPE_MISMATCH', `gather: index ${fmtShape(index.shape)} must have as many dimensions as the input ${fmtShape(this.shape)}`);
    }
    index.shape.forEach((s, i) => {
      if (i !== d && s > (this.shape[i] ?? 1))
        fail(
          'SHAPE_MISMATCH',
          `gather: index ${fmtShape(index.shape)} is larger than the input ${fmtShape(this.shape)} in dimension ${String(i)} (only dimension ${String(d)} may differ freely)`,
        );
    });
    if (this.ndim === 0)
      return this.reshape([1])
        .gather(0, index.reshape([1]))
        .reshape([]);
    return apply(ops.gather, [this, index], { dim: d });
  }
  /** p-norm over `dim` (all elements without it): p = 2 by default; also 1, 0, ±Infinity and any other p. */
  norm(p = 2, dim?: number | readonly number[], keepdim = false): Tensor {
    checkNumberArg('norm', 'p', p);
    this.floatOrFail('norm');
    return apply(ops.norm, [this], { p, dims: normalizeDims(dim, this.ndim), keepdim });
  }
  /** Variance over `dim` (all elements without it) with Bessel's `correction` (default 1), as torch.var. */
  var(dim?: number | readonly number[] | null, options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    const { correction, keepdim } = varOptions('var', options);
    this.floatOrFail('var');
    return apply(ops.var, [this], { dims: normalizeDims(dim ?? undefined, this.ndim), correction, keepdim });
  }
  /** Standard deviation: the square root of `var(...)`, with PyTorch's zero gradient where it is 0. */
  std(dim?: number | readonly number[] | null, options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    const { correction, keepdim } = varOptions('std', options);
    this.floatOrFail('std');
    return apply(ops.std, [this], { dims: normalizeDims(dim ?? undefined, this.ndim), correction, keepdim });
  }
  /** Lower triangle of the last two dims (elements with j - i <= k), zeros elsewhere. */
  tril(k = 0): Tensor {
    return apply(ops.tril, [this.triangleInput('tril', k)], { k, upper: false });
  }
  /** Upper triangle of the last two dims (elements with j - i >= k), zeros elsewhere. */
  triu(k = 0): Tensor {
    return apply(ops.triu, [this.triangleInput('triu', k)], { k, upper: true });
  }
  private triangleInput(method: string, k: unknown): this {
    if (typeof k !== 'number' || !Number.isInteger(k))
      fail('INVALID_ARGUMENT', `${method}: k must be an integer, but ${describeValue(k)} was passed`);
    if (this.ndim < 2) fail('SHAPE_MISMATCH', `${method}: input needs at least 2 dimensions, got ${fmtShape(this.shape)}`);
    return this;
  }
  /** x with elements where `mask` is non-zero replaced by `value` (mask broadcasts). */
  maskedFill(mask: Tensor, value: number): Tensor {
    checkMaskArgs('maskedFill', mask, value);
    return apply(ops.maskedFill, [this, mask], { value });
  }
  /** Elements outside [min, max] moved to the bound (either may be omitted); NaN stays NaN. */
  clamp(min?: number | null, max?: number | null): Tensor {
    if ((min === undefined || min === null) && (max === undefined || max === null))
      fail('INVALID_ARGUMENT', 'clamp: at least one of min and max must be given');
    return apply(ops.clamp, [this], clampBounds('clamp', min, max));
  }
  /** A float32 copy (differentiable from float64; from int32 it starts a new leaf); itself if already float32. */
  float(): Tensor {
    return this.dtype === 'float64' ? apply(ops.cast, [this], { dtype: 'float32', from: 'float64' }) : this.convert('float32');
  }
  /** A float64 copy (CPU; differentiable from float32); itself if already float64. */
  double(): Tensor {
    return this.dtype === 'float32' ? apply(ops.cast, [this], { dtype: 'float64', from: 'float32' }) : this.convert('float64');
  }
  /** An int32 copy, truncating toward zero (never requires grad, as in PyTorch). */
  int(): Tensor {
    return this.convert('int32');
  }
  /** Conversions that record nothing: to or from int32 (an integer tensor never requires grad). */
  private convert(dtype: DType): Tensor {
    if (dtype === this.dtype) return this;
    return noGrad(() => castTo(this, dtype));
  }

  // ---- views and copies ----
  reshape(shape: readonly number[]): Tensor {
    if (!Array.isArray(shape))
      fail('INVALID_ARGUMENT', `reshape: shape must be an array of numbers, but ${describeValue(shape)} was passed`);
    const resolved = resolveReshape(shape, this.shape);
    return apply(ops.reshape, [this], { shape: resolved });
  }
  transpose(dim0: number, dim1: number): Tensor {
    return apply(ops.transpose, [this], { dim0: normalizeDim(dim0, this.ndim), dim1: normalizeDim(dim1, this.ndim) });
  }
  /** Broadcasts to `shape` without copying (a view with zero strides). */
  expand(...sizes: (number | readonly number[])[]): Tensor {
    const raw = (sizes.length === 1 && Array.isArray(sizes[0]) ? sizes[0] : sizes) as number[];
    if (raw.length < this.ndim)
      fail(
        'SHAPE_MISMATCH',
        `expand: the number of sizes provided (${String(raw.length)}) must be greater or equal to the number of dimensions in the tensor ${fmtShape(this.shape)} (cannot expand ${fmtShape(this.shape)} to ${fmtShape(raw)})`,
      );
    // -1 keeps the size of that dimension (only for existing dims, as PyTorch).
    const lead = raw.length - this.ndim;
    const shape = raw.map((d, i) => {
      if (d !== -1) return d;
      if (i < lead)
        fail('INVALID_ARGUMENT', `expand: -1 is not allowed in a leading, new dimension (position ${String(i)} of ${fmtShape(raw)})`);
      return this.shape[i - lead];
    });
    const target = broadcastShapes(this.shape, shape, 'expand');
    if (!shapeEq(target, shape)) fail('SHAPE_MISMATCH', `expand: cannot expand ${fmtShape(this.shape)} to ${fmtShape(shape)}`);
    return apply(ops.expand, [this], { shape: [...shape] });
  }
  /** A view with the dims reordered (`dims` a permutation, negative dims allowed). */
  permute(...dims: (number | readonly number[])[]): Tensor {
    const list = (dims.length === 1 && Array.isArray(dims[0]) ? dims[0] : dims) as unknown[];
    if (list.length !== this.ndim || !list.every((d) => typeof d === 'number')) {
      fail(
        'INVALID_ARGUMENT',
        `permute: dims [${list.map(String).join(', ')}] must list each of the ${String(this.ndim)} dimensions of ${fmtShape(this.shape)} once`,
      );
    }
    const norm = list.map((d) => normalizeDim(d, this.ndim));
    if (new Set(norm).size !== norm.length) fail('INVALID_ARGUMENT', `permute: dims [${list.map(String).join(', ')}] repeat a dimension`);
    return apply(ops.permute, [this], { dims: norm });
  }
  /** A view with a size-1 dim inserted at `dim` (in [-ndim-1, ndim]). */
  unsqueeze(dim: number): Tensor {
    return apply(ops.unsqueeze, [this], { dim: normalizeDim(dim, this.ndim + 1) });
  }
  /** A view without size-1 dims: all of them, or those among `dim` (others are left alone, as PyTorch). */
  squeeze(dim?: number | readonly number[]): Tensor {
    const dims =
      dim === undefined ? this.shape.map((_, i) => i) : this.ndim === 0 ? (normalizeDims(dim, 0), []) : normalizeDims(dim, this.ndim);
    return apply(ops.squeeze, [this], { dims: dims.filter((d) => this.shape[d] === 1) });
  }
  /** Merges dims startDim..endDim into one (a view when possible, else a copy, as reshape). */
  flatten(startDim = 0, endDim = -1): Tensor {
    if (this.ndim === 0) return this.reshape([1]);
    const s = normalizeDim(startDim, this.ndim);
    const e = normalizeDim(endDim, this.ndim);
    if (s > e)
      fail('INVALID_ARGUMENT', `flatten: startDim ${String(startDim)} comes after endDim ${String(endDim)} for ${fmtShape(this.shape)}`);
    const merged = this.shape.slice(s, e + 1).reduce((n, d) => n * d, 1);
    return this.reshape([...this.shape.slice(0, s), merged, ...this.shape.slice(e + 1)]);
  }
  /** A view with a new shape (one -1 inferred); throws where the strides cannot express it (use reshape). */
  view(...shape: (number | readonly number[])[]): Tensor {
    const list = (shape.length === 1 && Array.isArray(shape[0]) ? shape[0] : shape) as number[];
    const resolved = resolveReshape(list, this.shape);
    const strides = viewStrides(this.shape, this.strides, resolved);
    if (strides === null) {
      fail(
        'SHAPE_MISMATCH',
        `view size ${fmtShape(resolved)} is not compatible with the input's size and stride (${fmtShape(this.shape)} with strides ${fmtShape(this.strides)}): at least one dimension spans two contiguous subspaces. Use .reshape(...) instead.`,
      );
    }
    return apply(ops.view, [this], { shape: resolved, strides });
  }
  /** `t[start:end:step]` along `dim`, a view (negative start/end count from the end; clamped like Python). */
  slice(dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
    const d = normalizeDim(dim, this.ndim);
    if (this.ndim === 0) fail('INVALID_ARGUMENT', 'slice() cannot be applied to a 0-dim tensor');
    for (const [name, v] of [
      ['start', start],
      ['end', end],
    ] as const) {
      if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isInteger(v)))
        fail('INVALID_ARGUMENT', `slice: ${name} must be an integer, but ${describeValue(v)} was passed`);
    }
    if (typeof step !== 'number' || !Number.isInteger(step) || step <= 0)
      fail('INVALID_ARGUMENT', `slice: step must be a positive integer, but ${describeValue(step)} was passed`);
    const size = this.shape[d];
    const clampIndex = (v: number | null | undefined, dflt: number): number => {
      if (v === undefined || v === null) return dflt;
      const w = v < 0 ? v + size : v;
      return Math.min(Math.max(w, 0), size);
    };
    const s = clampIndex(start, 0);
    const e = Math.max(s, clampIndex(end, size));
    return apply(ops.slice, [this], { dim: d, start: s, end: e, step });
  }
  /** Splits into pieces of `size` (the last may be smaller) or of the listed sizes along `dim`: views. */
  split(sizes: number | readonly number[], dim = 0): Tensor[] {
    const d = normalizeDim(dim, this.ndim);
    const total = this.shape[d];
    let list: number[];
    if (typeof sizes === 'number') {
      if (!Number.isInteger(sizes) || sizes <= 0)
        fail('INVALID_ARGUMENT', `split: split size must be a positive integer, but ${describeValue(sizes)} was passed`);
      list = [];
      for (let at = 0; at < total; at += sizes) list.push(Math.min(sizes, total - at));
      if (list.length === 0) list.push(0);
    } else if (Array.isArray(sizes)) {
      list = [...(sizes as number[])];
      if (!list.every((n) => Number.isInteger(n) && n >= 0) || list.reduce((a, b) => a + b, 0) !== total) {
        fail(
          'INVALID_ARGUMENT',
          `split: sizes [${list.join(', ')}] must be non-negative integers summing to ${String(total)} (dimension ${String(d)} of ${fmtShape(this.shape)})`,
        );
      }
    } else {
      fail('INVALID_ARGUMENT', `split: sizes must be a number or an array of numbers, but ${describeValue(sizes)} was passed`);
    }
    let at = 0;
    return list.map((n) => {
      const piece = this.slice(d, at, at + n);
      at += n;
      return piece;
    });
  }
  /** Splits into `chunks` pieces of ceil(size / chunks) along `dim` (fewer if the size runs out), as PyTorch. */
  chunk(chunks: number, dim = 0): Tensor[] {
    if (typeof chunks !== 'number' || !Number.isInteger(chunks) || chunks <= 0)
      fail('INVALID_ARGUMENT', `chunk: chunks must be a positive integer, but ${describeValue(chunks)} was passed`);
    const d = normalizeDim(dim, this.ndim);
    const size = this.shape[d];
    return this.split(Math.max(1, Math.ceil(size / chunks)), d);
  }
  /** The sub-tensor at `index` (leading dims), a view: what Python writes `t[i]` or `t[i, j]`. */
  index(index: number | readonly number[]): Tensor {
    const idx = this.normalizeIndex(index);
    return apply(ops.index, [this], { index: idx });
  }
  clone(): Tensor {
    return apply(ops.clone, [this]);
  }
  to(device: Device): Tensor {
    checkDevice(device);
    if (device === this.device) return this;
    return apply(ops.to, [this], { device, from: this.device });
  }
  /**
   * `to(device)` for moves that leave the GPU, whose read-back is asynchronous. Recorded as the
   * same `to` op (same backward); only its forward uses the values already read.
   */
  async toAsync(device: Device): Promise<Tensor> {
    if (device === this.device || this.device === 'cpu') return this.to(device);
    const values = await this.storage.backend.readAsync(this);
    const moved = new Tensor(getBackend(device).fromTyped(values, this.dtype), this.shape);
    const prefetched = { ...ops.to, forward: () => moved };
    return apply(prefetched, [this], { device, from: this.device });
  }

  // ---- in-place ops (version counter + leaf checks, recorded on non-leaves) ----
  add_(other: Operand): this {
    return applyInplace(ops.add, this, [this.operand(other)]) as this;
  }
  sub_(other: Operand): this {
    return applyInplace(ops.sub, this, [this.operand(other)]) as this;
  }
  mul_(other: Operand): this {
    return applyInplace(ops.mul, this, [this.operand(other)]) as this;
  }
  div_(other: Operand): this {
    return applyInplace(ops.div, this, [this.operand(other)]) as this;
  }
  relu_(): this {
    return applyInplace(ops.relu, this, []) as this;
  }
  clamp_(min = -Infinity, max = Infinity): this {
    return applyInplace(ops.clamp, this, [], clampBounds('clamp_', min, max)) as this;
  }
  zero_(): this {
    return this.fill_(0);
  }
  fill_(value: number): this {
    checkNumberArg('fill_', 'value', value);
    if (this.dtype === 'int32') toInt32Checked(value, 'fill_: value');
    return applyInplace(ops.fill, this, [], { value }) as this;
  }
  copy_(src: Tensor): this {
    return applyInplace(ops.copy, this, [src]) as this;
  }
  /** In-place maskedFill. */
  maskedFill_(mask: Tensor, value: number): this {
    checkMaskArgs('maskedFill_', mask, value);
    broadcastShapes(mask.shape, this.shape, 'maskedFill_: mask');
    if (!shapeEq(broadcastShapes(mask.shape, this.shape), this.shape))
      fail('SHAPE_MISMATCH', `maskedFill_: mask ${fmtShape(mask.shape)} must broadcast to the tensor's shape ${fmtShape(this.shape)}`);
    if (this.dtype === 'int32') toInt32Checked(value, 'maskedFill_: value');
    return applyInplace(ops.maskedFill, this, [mask], { value }) as this;
  }
  /** `t[index] = value`: index is a number or one number per leading dim. */
  setItem_(index: number | readonly number[], value: Operand): this {
    const idx = this.normalizeIndex(index);
    const v = typeof value === 'number' ? constant(value, this.device, this.dtype) : value;
    return applyInplace(ops.setItem, this, [v], { index: idx }) as this;
  }
  private normalizeIndex(index: number | readonly number[]): number[] {
    if (typeof index !== 'number' && !Array.isArray(index)) {
      fail(
        'INVALID_ARGUMENT',
        `index must be a number or an array of numbers (one per leading dimension), but ${describeValue(index)} was passed`,
      );
    }
    const list: unknown[] = typeof index === 'number' ? [index] : [...(index as readonly unknown[])];
    if (list.length > this.ndim) {
      fail(
        'INVALID_ARGUMENT',
        `index [${list.map(String).join(', ')}] has more entries (${String(list.length)}) than the tensor ${fmtShape(this.shape)} has dimensions (${String(this.ndim)})`,
      );
    }
    const idx = list.map((i, d) => {
      const size = this.shape[d];
      // PyTorch: "index -4 is out of bounds for dimension 0 with size 3" (the index as passed).
      if (typeof i !== 'number' || !Number.isInteger(i) || i < -size || i >= size) {
        fail(
          'INVALID_ARGUMENT',
          `index ${typeof i === 'number' ? String(i) : describeValue(i)} is out of bounds for dimension ${String(d)} with size ${String(size)} (tensor ${fmtShape(this.shape)}): valid indices are ${size === 0 ? 'none (the dimension is empty)' : `${String(-size)} to ${String(size - 1)}`}`,
        );
      }
      return i < 0 ? i + size : i;
    });
    checkIndex(this.shape, idx);
    return idx;
  }

  // ---- non-differentiable helpers (masks for backward formulas) ----
  /** 1 where this > value else 0 (no gradient). */
  gt(value: number): Tensor {
    return this.compare('gt', value);
  }
  ge(value: number): Tensor {
    return this.compare('ge', value);
  }
  le(value: number): Tensor {
    return this.compare('le', value);
  }
  lt(value: number): Tensor {
    return this.compare('lt', value);
  }
  sign(): Tensor {
    return new Tensor(this.storage.backend.unary('sign', this, this.dtype), this.shape);
  }
  private compare(op: 'gt' | 'ge' | 'le' | 'lt', value: number): Tensor {
    const dtype = isFloating(this.dtype) ? this.dtype : 'float32';
    return new Tensor(this.storage.backend.binaryScalar(op, this, value, false, dtype), this.shape);
  }

  // ---- reading ----
  item(): number {
    if (this.numel() !== 1)
      fail('INVALID_ARGUMENT', `item() needs a tensor with exactly one element, this one has shape ${fmtShape(this.shape)}`);
    return this.readSync('item')[0];
  }
  toArray(): NestedArray {
    return nest(this.readSync('toArray'), this.shape);
  }
  async itemAsync(): Promise<number> {
    if (this.numel() !== 1)
      fail('INVALID_ARGUMENT', `itemAsync() needs a tensor with exactly one element, this one has shape ${fmtShape(this.shape)}`);
    return (await this.storage.backend.readAsync(this))[0];
  }
  async toArrayAsync(): Promise<NestedArray> {
    return nest(await this.storage.backend.readAsync(this), this.shape);
  }
  /** The values as a flat typed array (a copy). */
  dataSync(): TypedArray {
    return this.readSync('dataSync');
  }
  private readSync(what: string): TypedArray {
    if (this.device !== 'cpu')
      fail(
        'DEVICE_SYNC',
        `${what}() cannot read a ${this.device} tensor synchronously; use await t.${what === 'item' ? 'itemAsync' : 'toArrayAsync'}() (or move it with .to('cpu')).`,
      );
    return this.storage.backend.read(this);
  }

  toString(): string {
    const grad = this.gradFn ? `, gradFn=<${this.gradFn.name}>` : this.requiresGrad ? ', requiresGrad=true' : '';
    const body = this.device === 'cpu' ? JSON.stringify(this.toArray()) : '…';
    return `tensor(${body}, dtype=${this.dtype}, device=${this.device}${grad})`;
  }
}

function nest(flat: TypedArray, shape: Shape): NestedArray {
  if (shape.length === 0) return flat[0];
  const build = (dim: number, offset: number): NestedArray[] => {
    const n = shape[dim];
    const stride = numel(shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < n; i++) {
      out.push(dim === shape.length - 1 ? flat[offset + i] : build(dim + 1, offset + i * stride));
    }
    return out;
  };
  return build(0, 0);
}
