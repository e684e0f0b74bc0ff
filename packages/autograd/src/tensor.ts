import { runBackward } from './autograd/engine.js';
import type { Node } from './autograd/node.js';
import type { Backend, Storage } from './backend/backend.js';
import { getBackend } from './backend/registry.js';
import { isFloating, promoteWithScalar, type Device, type DType, type TypedArray } from './dtype.js';
import { fail } from './errors.js';
import { noGrad } from './grad-mode.js';
import { checkIndex, ops, sumTo } from './ops/table.js';
import { apply, applyInplace } from './ops/apply.js';
import { broadcastShapes, contiguousStrides, fmtShape, normalizeDim, normalizeDims, numel, shapeEq, type Shape } from './shape.js';
import { nonLeafGradRead } from './observe.js';

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

  /** @internal */
  static fromStorage(storage: Storage, shape: Shape): Tensor {
    return new Tensor(storage, shape);
  }

  /** @internal */
  static zerosOn(device: Device, shape: Shape, dtype: DType): Tensor {
    return new Tensor(getBackend(device).full(numel(shape), dtype, 0), shape);
  }

  /** @internal A number operand as a 0-d constant on `device`. */
  static constant(value: number, device: Device, dtype: DType): Tensor {
    const t = new Tensor(getBackend(device).full(1, dtype, value), []);
    t.scalar = value;
    return t;
  }

  get dtype(): DType {
    return this.storage.dtype;
  }
  get device(): Device {
    return this.storage.backend.device;
  }
  /** @internal */
  get backend(): Backend {
    return this.storage.backend;
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
      fail('DTYPE_REQUIRES_GRAD', `only floating point tensors can require gradients; this one is ${this.dtype} ${fmtShape(this.shape)}. Create it with dtype 'float32' or 'float64'.`);
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
      if (!shapeEq(g.shape, this.shape)) fail('SHAPE_MISMATCH', `assigned grad has shape ${fmtShape(g.shape)} but the tensor has shape ${fmtShape(this.shape)}`);
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
      fail('INVALID_ARGUMENT', `can't retainGrad() on a tensor that does not require grad (${this.dtype} ${fmtShape(this.shape)}): no gradient will ever flow into it. Compute it from tensors that require grad, outside noGrad.`);
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
    if (!this.requiresGrad) {
      fail('NO_GRAD_FN', `element 0 of tensors does not require grad and does not have a gradFn: backward() on ${this.dtype} ${fmtShape(this.shape)} that was computed without any tensor that requires grad (or under noGrad). Make sure the parameters have requiresGrad and the forward pass runs outside noGrad.`);
    }
    let seed: Tensor;
    if (gradient === undefined || gradient === null) {
      if (this.numel() !== 1) {
        fail('SHAPE_MISMATCH', `grad can be implicitly created only for scalar outputs; this tensor has shape ${fmtShape(this.shape)}. Reduce it first (e.g. loss.sum() or loss.mean()) or pass a gradient of the same shape.`);
      }
      seed = Tensor.constant(1, this.device, this.dtype).expand(this.shape).contiguousCopy();
    } else {
      if (!shapeEq(gradient.shape, this.shape)) fail('SHAPE_MISMATCH', `backward: gradient has shape ${fmtShape(gradient.shape)} but the output has shape ${fmtShape(this.shape)}`);
      seed = gradient;
    }
    const retainGraph = options.retainGraph ?? options.createGraph ?? false;
    runBackward([this], [seed], { retainGraph, createGraph: options.createGraph ?? false });
  }

  /** @internal Adds `g` into `.grad` (in place unless building a higher-order graph). */
  accumulateGrad(g: Tensor, createGraph: boolean): void {
    const incoming = g.dtype === this.dtype && shapeEq(g.shape, this.shape) ? g : noGrad(() => sumTo(g, this.shape).castTo(this.dtype));
    if (this.gradValue === null) {
      // With createGraph the grad stays in the graph, but as its own tensor (a recorded clone, as
      // PyTorch's AccumulateGrad): `incoming` may be the very tensor another leaf receives (add's
      // backward hands the same g to both inputs) or the caller's seed, and later accumulation is in place.
      this.gradValue = createGraph ? incoming.clone() : incoming.detach().contiguousCopy();
    } else if (createGraph) {
      this.gradValue = this.gradValue.add(incoming);
    } else {
      const current = this.gradValue;
      noGrad(() => current.add_(incoming));
    }
  }

  // ---- element-wise and reductions (all differentiable) ----
  private operand(x: Operand): Tensor {
    if (typeof x === 'number') return Tensor.constant(x, this.device, promoteWithScalar(this.dtype, x));
    if (!(x instanceof Tensor)) fail('INVALID_ARGUMENT', `expected a Tensor or a number, got ${typeof x}`);
    return x;
  }
  /** @internal dtype of `this op scalar`. */
  scalarResultDtype(scalar: number): DType {
    return promoteWithScalar(this.dtype, scalar);
  }
  add(other: Operand): Tensor { return apply(ops.add, [this, this.operand(other)]); }
  sub(other: Operand): Tensor { return apply(ops.sub, [this, this.operand(other)]); }
  mul(other: Operand): Tensor { return apply(ops.mul, [this, this.operand(other)]); }
  div(other: Operand): Tensor { return apply(ops.div, [this, this.operand(other)]); }
  pow(exponent: Operand): Tensor { return apply(ops.pow, [this, this.operand(exponent)]); }
  neg(): Tensor { return apply(ops.neg, [this]); }
  exp(): Tensor { return apply(ops.exp, [this]); }
  log(): Tensor { return apply(ops.log, [this]); }
  sqrt(): Tensor { return apply(ops.sqrt, [this]); }
  abs(): Tensor { return apply(ops.abs, [this]); }
  relu(): Tensor { return apply(ops.relu, [this]); }
  sigmoid(): Tensor { return apply(ops.sigmoid, [this]); }
  tanh(): Tensor { return apply(ops.tanh, [this]); }

  matmul(other: Tensor): Tensor {
    if (!(other instanceof Tensor)) fail('INVALID_ARGUMENT', 'matmul expects a Tensor');
    if (this.ndim === 0 || other.ndim === 0) fail('SHAPE_MISMATCH', `matmul: both arguments need at least 1 dimension, got ${fmtShape(this.shape)} and ${fmtShape(other.shape)}`);
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

  // ---- views and copies ----
  reshape(shape: readonly number[]): Tensor {
    const resolved = resolveReshape(shape, this.shape);
    return apply(ops.reshape, [this], { shape: resolved });
  }
  transpose(dim0: number, dim1: number): Tensor {
    return apply(ops.transpose, [this], { dim0: normalizeDim(dim0, this.ndim), dim1: normalizeDim(dim1, this.ndim) });
  }
  /** Broadcasts to `shape` without copying (a view with zero strides). */
  expand(shape: readonly number[]): Tensor {
    const target = broadcastShapes(this.shape, shape, 'expand');
    if (!shapeEq(target, shape)) fail('SHAPE_MISMATCH', `expand: cannot expand ${fmtShape(this.shape)} to ${fmtShape(shape)}`);
    return apply(ops.expand, [this], { shape: [...shape] });
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
    if (device === this.device) return this;
    return apply(ops.to, [this], { device, from: this.device });
  }
  /**
   * `to(device)` for moves that leave the GPU, whose read-back is asynchronous. Recorded as the
   * same `to` op (same backward); only its forward uses the values already read.
   */
  async toAsync(device: Device): Promise<Tensor> {
    if (device === this.device || this.device === 'cpu') return this.to(device);
    const values = await this.backend.readAsync(this);
    const moved = new Tensor(getBackend(device).fromTyped(values, this.dtype), this.shape);
    const prefetched = { ...ops.to, forward: () => moved };
    return apply(prefetched, [this], { device, from: this.device });
  }

  // ---- in-place ops (version counter + leaf checks, recorded on non-leaves) ----
  add_(other: Operand): this { return applyInplace(ops.add, this, [this.operand(other)]) as this; }
  sub_(other: Operand): this { return applyInplace(ops.sub, this, [this.operand(other)]) as this; }
  mul_(other: Operand): this { return applyInplace(ops.mul, this, [this.operand(other)]) as this; }
  div_(other: Operand): this { return applyInplace(ops.div, this, [this.operand(other)]) as this; }
  relu_(): this { return applyInplace(ops.relu, this, []) as this; }
  clamp_(min = -Infinity, max = Infinity): this { return applyInplace(ops.clamp, this, [], { min, max }) as this; }
  zero_(): this { return this.fill_(0); }
  fill_(value: number): this { return applyInplace(ops.fill, this, [], { value }) as this; }
  copy_(src: Tensor): this { return applyInplace(ops.copy, this, [src]) as this; }
  /** `t[index] = value`: index is a number or one number per leading dim. */
  setItem_(index: number | readonly number[], value: Operand): this {
    const idx = this.normalizeIndex(index);
    const v = typeof value === 'number' ? Tensor.constant(value, this.device, this.dtype) : value;
    return applyInplace(ops.setItem, this, [v], { index: idx }) as this;
  }
  private normalizeIndex(index: number | readonly number[]): number[] {
    const list = typeof index === 'number' ? [index] : [...index];
    const idx = list.map((i, d) => (i < 0 ? i + (this.shape[d] ?? 0) : i));
    checkIndex(this.shape, idx);
    return idx;
  }

  // ---- non-differentiable helpers (masks for backward formulas) ----
  /** 1 where this > value else 0 (no gradient). */
  gt(value: number): Tensor { return this.compare('gt', value); }
  ge(value: number): Tensor { return this.compare('ge', value); }
  le(value: number): Tensor { return this.compare('le', value); }
  lt(value: number): Tensor { return this.compare('lt', value); }
  /** @internal int32 class indices [n] → one-hot rows [n, numClasses] (no gradient). */
  oneHot(numClasses: number, dtype: DType): Tensor {
    return new Tensor(this.backend.oneHot(this, numClasses, dtype), [this.shape[0], numClasses]);
  }
  sign(): Tensor { return new Tensor(this.backend.unary('sign', this, this.dtype), this.shape); }
  private compare(op: 'gt' | 'ge' | 'le' | 'lt', value: number): Tensor {
    const dtype = isFloating(this.dtype) ? this.dtype : 'float32';
    return new Tensor(this.backend.binaryScalar(op, this, value, false, dtype), this.shape);
  }

  // ---- reading ----
  item(): number {
    if (this.numel() !== 1) fail('INVALID_ARGUMENT', `item() needs a tensor with exactly one element, this one has shape ${fmtShape(this.shape)}`);
    return this.readSync('item')[0];
  }
  toArray(): NestedArray {
    return nest(this.readSync('toArray'), this.shape);
  }
  async itemAsync(): Promise<number> {
    if (this.numel() !== 1) fail('INVALID_ARGUMENT', `itemAsync() needs a tensor with exactly one element, this one has shape ${fmtShape(this.shape)}`);
    return (await this.backend.readAsync(this))[0];
  }
  async toArrayAsync(): Promise<NestedArray> {
    return nest(await this.backend.readAsync(this), this.shape);
  }
  /** The values as a flat typed array (a copy). */
  dataSync(): TypedArray {
    return this.readSync('dataSync');
  }
  private readSync(what: string): TypedArray {
    if (this.device !== 'cpu') fail('DEVICE_SYNC', `${what}() cannot read a ${this.device} tensor synchronously; use await t.${what === 'item' ? 'itemAsync' : 'toArrayAsync'}() (or move it with .to('cpu')).`);
    return this.backend.read(this);
  }

  toString(): string {
    const grad = this.gradFn ? `, gradFn=<${this.gradFn.name}>` : this.requiresGrad ? ', requiresGrad=true' : '';
    const body = this.device === 'cpu' ? JSON.stringify(this.toArray()) : '…';
    return `tensor(${body}, dtype=${this.dtype}, device=${this.device}${grad})`;
  }

  // ---- internal plumbing used by ops ----
  /** @internal */
  isContiguous(): boolean {
    const cs = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d === 1 || this.strides[i] === cs[i]);
  }
  /** @internal A view on the same storage (no autograd). */
  viewAs(shape: readonly number[], strides: readonly number[], offset: number): Tensor {
    const v = new Tensor(this.storage, shape, strides, offset);
    v.viewBase = this.viewBase ?? this;
    return v;
  }
  /** @internal Raw sub-view at `index` (no autograd). */
  indexView(index: readonly number[]): Tensor {
    const offset = index.reduce((o, i, d) => o + i * this.strides[d], this.offset);
    return new Tensor(this.storage, this.shape.slice(index.length), this.strides.slice(index.length), offset);
  }
  /** @internal A contiguous copy on the same backend (no autograd). */
  contiguousCopy(): Tensor {
    const out = Tensor.zerosOn(this.device, this.shape, this.dtype);
    this.backend.copy(out, this);
    return out;
  }
  /** @internal */
  castTo(dtype: DType): Tensor {
    if (dtype === this.dtype) return this;
    const out = Tensor.zerosOn(this.device, this.shape, dtype);
    this.backend.copy(out, this);
    return out;
  }
  /** @internal */
  copyToDevice(device: Device): Tensor {
    const target = getBackend(device);
    if (this.device === 'cpu') return new Tensor(target.fromTyped(this.backend.read(this), this.dtype), this.shape);
    fail('DEVICE_SYNC', `moving a ${this.device} tensor ${fmtShape(this.shape)} to ${device} needs an asynchronous read: use await t.toAsync('${device}') (a module: await model.toAsync('${device}')). backward() cannot carry a gradient from ${this.device} back into a ${device} leaf for the same reason: create the leaf on ${this.device} instead (tensor(data, { device: '${this.device}' }) or model.to('${this.device}')).`);
  }
  /** @internal Writes `src` (same shape) into this tensor's memory and bumps the version. */
  writeFrom(src: Tensor): void {
    this.backend.copy(this, src);
    this.storage.version++;
  }
  /** @internal After a recorded in-place op: this tensor is now the output of `node`. */
  moveToNode(node: Node): void {
    if (this.retainsGradFlag && this.gradFn) this.gradFn.retainedBy = null;
    this.gradFn = node;
    this.leafRequiresGrad = false;
    if (this.retainsGradFlag) node.retainedBy = this;
  }
  /** @internal Moves a leaf's memory to `device` in place (module.to keeps Parameter identity). */
  moveTo(device: Device): void {
    if (device === this.device) return;
    const moved = this.copyToDevice(device);
    this.storage = moved.storage;
    this.strides = moved.strides;
    this.offset = 0;
    const g = this.gradValue;
    if (g) this.gradValue = g.copyToDevice(device);
  }
  /** @internal moveTo for moves that leave the GPU (asynchronous read-back of values and grad). */
  async moveToAsync(device: Device): Promise<void> {
    if (device === this.device) return;
    if (this.device === 'cpu') {
      this.moveTo(device);
      return;
    }
    const target = getBackend(device);
    const values = await this.backend.readAsync(this);
    const g = this.gradValue;
    const gradValues = g ? await g.backend.readAsync(g) : null;
    this.storage = target.fromTyped(values, this.dtype);
    this.strides = contiguousStrides(this.shape);
    this.offset = 0;
    if (g && gradValues) this.gradValue = new Tensor(target.fromTyped(gradValues, g.dtype), g.shape);
  }
}

function resolveReshape(shape: readonly number[], from: Shape): number[] {
  const total = numel(from);
  const out = [...shape];
  const inferred = out.indexOf(-1);
  if (inferred !== -1) {
    const known = out.reduce((n, d, i) => (i === inferred ? n : n * d), 1);
    out[inferred] = known === 0 ? 0 : total / known;
  }
  if (!out.every((d) => Number.isInteger(d) && d >= 0) || numel(out) !== total) {
    fail('SHAPE_MISMATCH', `shape ${fmtShape(shape)} is invalid for input of size ${String(total)} (shape ${fmtShape(from)})`);
  }
  return out;
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
