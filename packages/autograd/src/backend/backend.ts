import type { Device, DType, TypedArray } from '../dtype.js';
import type { Shape } from '../shape.js';

/** Element-wise unary kernels. `step` is 0 where x <= 0 else 1, NaN included (relu's derivative, PyTorch's threshold_backward). */
export type UnaryOp = 'neg' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'abs' | 'relu' | 'sigmoid' | 'tanh' | 'sign' | 'step';
/** Element-wise binary kernels (broadcasting). Comparisons produce 1/0 in the output dtype. */
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'gt' | 'lt' | 'ge' | 'le' | 'eq';

/**
 * Memory owned by one backend. Views (reshape/transpose) and `detach()` share a Storage and so
 * share its version counter, as PyTorch's views and detached tensors do.
 */
export interface Storage {
  readonly backend: Backend;
  readonly size: number;
  readonly dtype: DType;
  /** In-place modification counter read by the saved-tensor check. */
  version: number;
}

/** A strided window on a storage: what a kernel reads or writes. */
export interface View {
  readonly storage: Storage;
  readonly shape: Shape;
  readonly strides: readonly number[];
  readonly offset: number;
}

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: decoupled decay applied to the parameter before the update. */
  decoupled: boolean;
  amsgrad: boolean;
  step: number;
}

export interface SgdHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  /** First step for this parameter: the momentum buffer is initialised to the gradient. */
  firstStep: boolean;
}

export interface RmspropHyper {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
}

/** The windows of an image: kernel, stride and dilation per axis, the window grid `out` [oh, ow] and the image `size` [H, W]. */
export interface WindowGeometry {
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  out: [number, number];
  size: [number, number];
}

/**
 * The kernel set every backend implements. Kernels write fresh contiguous storages unless they
 * take an explicit destination; the autograd layer above never touches raw memory.
 */
export interface Backend {
  readonly device: Device;
  /** `shape` (optional) only names the tensor in an OUT_OF_MEMORY error. */
  fromTyped(values: TypedArray, dtype: DType, shape?: Shape): Storage;
  full(size: number, dtype: DType, value: number, shape?: Shape): Storage;
  /** Synchronous read of a view as a contiguous typed array (throws DEVICE_SYNC on WebGPU). */
  read(view: View): TypedArray;
  readAsync(view: View): Promise<TypedArray>;
  /** dst[i] = src[i] with src broadcast to dst's shape and cast to dst's dtype. */
  copy(dst: View, src: View): void;
  fill(dst: View, value: number): void;
  unary(op: UnaryOp, x: View, dtype: DType): Storage;
  binary(op: BinaryOp, a: View, b: View, outShape: Shape, dtype: DType): Storage;
  binaryScalar(op: BinaryOp, a: View, scalar: number, scalarFirst: boolean, dtype: DType): Storage;
  /** Sum over `dims` (sorted, distinct); the result has size 1 on reduced dims. */
  sum(x: View, dims: readonly number[], dtype: DType): Storage;
  /** Max over one dim; the result has size 1 on it. NaN propagates. */
  max(x: View, dim: number): Storage;
  /** Min over one dim; the result has size 1 on it. NaN propagates. */
  min(x: View, dim: number): Storage;
  /**
   * int32 index of the first max (min) along `dim` (size 1 there), as PyTorch's argmax: a NaN
   * counts as the largest (smallest) value, so the first NaN's index is returned.
   */
  argReduce(op: 'max' | 'min', x: View, dim: number): Storage;
  /** out = cond ? a : b (cond non-zero, NaN included, is true), all three broadcast to `outShape`. */
  where(cond: View, a: View, b: View, outShape: Shape, dtype: DType): Storage;
  /** out[..i..] = x[..index[..i..]..] along `dim`; out has index's shape (int32 index). */
  gather(x: View, dim: number, index: View): Storage;
  /**
   * The adjoint of gather: a zero tensor of `outShape` into which every src element adds at
   * index along `dim`. Each output element sums its own contributions (no atomics, deterministic).
   */
  scatterAdd(src: View, dim: number, index: View, outShape: Shape): Storage;
  /**
   * col2im, the adjoint of unfolding an image [N, C, H, W] into its windows: `g` [N, C, kh·kw, oh, ow]
   * added into a zero [N, C, H, W] image, element (ki·kw + kj, i, j) at pixel
   * (stride·i + dilation·ki, stride·j + dilation·kj). Deterministic (no atomics).
   */
  fold2d(g: View, geometry: WindowGeometry): Storage;
  /**
   * Optional im2col, fold2d's adjoint: the windows of x [N, C, H, W] as a fresh [N, C, kh·kw, oh, ow]
   * or, `channelsFirst`, [C, kh·kw, N, oh, ow]. Where a backend lacks it, it is a strided `copy`.
   */
  unfold2d?(x: View, geometry: WindowGeometry, channelsFirst: boolean): Storage;
  /**
   * Optional max-pooling argmax: int32 [N, C, oh·ow], for each window of x [N, C, H, W] (`size` is
   * [H, W], `padding` the implicit rows/columns before, outside which nothing is read) the flat
   * index h·W + w of its first maximum, a NaN winning (PyTorch's max_pool2d indices). Where a
   * backend lacks it, max-pooling reduces unfold2d's windows.
   */
  maxPool2dIndices?(x: View, geometry: WindowGeometry, padding: [number, number]): Storage;
  /**
   * Optional conv2d with groups 1 as one kernel: y [N, O, oh, ow] = weight [O, C, kh, kw] applied to
   * the windows of x [N, C, H, W] (already padded: `geometry.size` is [H, W]) plus `bias` [O] when
   * given. Null where the backend declines (dtypes, sizes): the caller then composes unfold2d,
   * matmul and the bias addition, whose results the kernel must equal.
   */
  conv2dForward?(x: View, weight: View, bias: View | null, geometry: WindowGeometry): Storage | null;
  /**
   * Optional backward of conv2dForward for y's gradient g [N, O, oh, ow], x being [N, C, H, W] of
   * `xShape`: [x's gradient, weight's gradient], the first computed only when `weight` is given, the
   * second only when `x` is (each is what the other's gradient needs), or null where declined.
   */
  conv2dBackward?(
    g: View,
    x: View | null,
    weight: View | null,
    xShape: Shape,
    geometry: WindowGeometry,
  ): [Storage | null, Storage | null] | null;
  /**
   * int32 [rows, numSamples] category indices drawn from the rows of non-negative weights `probs`
   * ([rows, n]) with the given U[0, 1) samples: inverse CDF (with replacement, `rows·numSamples`
   * uniforms) or Efraimidis–Spirakis keys log(u)/w, the largest `numSamples` (without, `rows·n`).
   */
  multinomial(probs: View, numSamples: number, replacement: boolean, uniforms: Float32Array): Storage;
  softmax(x: View, dim: number, log: boolean): Storage;
  /** Batched matmul of [..., m, k] x [..., k, n] with batch dims already broadcast to `batch`. */
  matmul(a: View, b: View, batch: Shape, m: number, k: number, n: number, dtype: DType): Storage;
  clamp(x: View, min: number, max: number): Storage;
  /**
   * Optional fused exact GELU on a float view: x·Φ(x) (`grad` false) or its derivative Φ(x) + x·φ(x)
   * (`grad` true), Φ/φ the standard normal CDF/density. Where a backend lacks it, `gelu` is composed
   * from the kernels above.
   */
  gelu?(x: View, grad: boolean): Storage;
  /**
   * Optional fused BatchNorm over channel dim 1 of a float x [N, C, …] (M = N·∏rest values per
   * channel), all per-channel views [C] of x's dtype. `batchNormStats`: [2, C], the means then the
   * biased variances. `batchNormForward`: (x − mean)·invstd·weight + bias, invstd = 1/√(var + eps).
   * `batchNormBackward`: the gradients of that map for x (the statistics being x's own, so
   * dx = invstd·weight·(g − mean(g) − x̂·mean(g·x̂)), x̂ = (x − mean)·invstd), weight (Σ g·x̂)
   * and bias (Σ g). Where a backend lacks them, the op is composed from the kernels above.
   */
  batchNormStats?(x: View): Storage;
  batchNormForward?(x: View, mean: View, variance: View, weight: View, bias: View, eps: number): Storage;
  batchNormBackward?(g: View, x: View, mean: View, variance: View, weight: View, eps: number): [Storage, Storage, Storage];
  /**
   * Optional relu backward (PyTorch's threshold_backward): g where the relu output y is > 0 or NaN,
   * +0 elsewhere, for g and y of one shape and dtype. Where a backend lacks it, g·step(y).
   */
  reluBackward?(g: View, y: View): Storage;
  /** [n] int32 class indices → [n, numClasses] one-hot rows (invalid indices throw INVALID_ARGUMENT where checkable). */
  oneHot(indices: View, numClasses: number, dtype: DType): Storage;
  /** Fused optimiser updates, in place on contiguous param/state views. */
  sgdStep(param: View, grad: View, momentumBuf: View | null, h: SgdHyper): void;
  adamStep(param: View, grad: View, expAvg: View, expAvgSq: View, maxExpAvgSq: View | null, h: AdamHyper): void;
  rmspropStep(param: View, grad: View, squareAvg: View, momentumBuf: View | null, gradAvg: View | null, h: RmspropHyper): void;
}
