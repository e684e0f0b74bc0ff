// The engine's side of a Tensor: tensors made from raw storage, views and copies that autograd does
// not record, gradient accumulation, device moves and the version counter. These functions take the
// tensor as their first argument, so that the Tensor class shows users its public API only; the
// package index exports none of them.
import type { Node } from './autograd/node.js';
import type { Storage } from './backend/backend.js';
import { getBackend } from './backend/registry.js';
import { checkAllocation, toInt32Checked, type Device, type DType } from './dtype.js';
import { fail } from './errors.js';
import { noGrad } from './grad-mode.js';
import { sumTo } from './ops/shape-ops.js';
import { contiguousStrides, fmtShape, numel, shapeEq, type Shape } from './shape.js';
import { Tensor } from './tensor.js';

/** A contiguous tensor over a kernel's fresh `storage`. */
export function fromStorage(storage: Storage, shape: Shape): Tensor {
  return new Tensor(storage, shape);
}

/** A zero-filled contiguous tensor (kernel outputs, optimizer state). */
export function zerosOn(device: Device, shape: Shape, dtype: DType): Tensor {
  checkAllocation(shape, dtype);
  return new Tensor(getBackend(device).full(numel(shape), dtype, 0, shape), shape);
}

/** A number operand as a 0-d constant on `device`. */
export function constant(value: number, device: Device, dtype: DType): Tensor {
  if (dtype === 'int32') toInt32Checked(value);
  const t = new Tensor(getBackend(device).full(1, dtype, value), []);
  t.scalar = value;
  return t;
}

/**
 * The one place a tensor's version counter moves: every write into its memory (in-place ops,
 * optimizer steps) calls this, so the saved-tensor check sees each of them.
 */
export function bumpVersion(t: Tensor): void {
  t.storage.version++;
}

export function isContiguous(t: Tensor): boolean {
  const cs = contiguousStrides(t.shape);
  return t.shape.every((d, i) => d === 1 || t.strides[i] === cs[i]);
}

/** A view on the same storage (no autograd). */
export function viewAs(t: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  const v = new Tensor(t.storage, shape, strides, offset);
  v.viewBase = t.viewBase ?? t;
  return v;
}

/** A reshape of a contiguous tensor without autograd. */
export function reshapeRaw(t: Tensor, shape: readonly number[]): Tensor {
  const base = isContiguous(t) ? t : contiguousCopy(t);
  return new Tensor(base.storage, shape, contiguousStrides(shape), base.offset);
}

/** Drops size-1 dim `d` without autograd. */
export function squeezeRaw(t: Tensor, d: number): Tensor {
  return new Tensor(
    t.storage,
    t.shape.filter((_, i) => i !== d),
    t.strides.filter((_, i) => i !== d),
    t.offset,
  );
}

/** Raw sub-view at `index` (no autograd). */
export function indexView(t: Tensor, index: readonly number[]): Tensor {
  const offset = index.reduce((o, i, d) => o + i * t.strides[d], t.offset);
  return new Tensor(t.storage, t.shape.slice(index.length), t.strides.slice(index.length), offset);
}

/** A contiguous copy on the same backend (no autograd). */
export function contiguousCopy(t: Tensor): Tensor {
  const out = zerosOn(t.device, t.shape, t.dtype);
  t.storage.backend.copy(out, t);
  return out;
}

/** A copy in `dtype` (no autograd); the tensor itself when it already has it. */
export function castTo(t: Tensor, dtype: DType): Tensor {
  if (dtype === t.dtype) return t;
  const out = zerosOn(t.device, t.shape, dtype);
  t.storage.backend.copy(out, t);
  return out;
}

/** int32 class indices [n] → one-hot rows [n, numClasses] (no gradient). */
export function oneHot(t: Tensor, numClasses: number, dtype: DType): Tensor {
  return new Tensor(t.storage.backend.oneHot(t, numClasses, dtype), [t.shape[0], numClasses]);
}

/** A contiguous copy on `device`; only a CPU tensor can be read synchronously to move it. */
export function copyToDevice(t: Tensor, device: Device): Tensor {
  const target = getBackend(device);
  if (t.device === 'cpu') return new Tensor(target.fromTyped(t.storage.backend.read(t), t.dtype), t.shape);
  fail(
    'DEVICE_SYNC',
    `moving a ${t.device} tensor ${fmtShape(t.shape)} to ${device} needs an asynchronous read: use await t.toAsync('${device}') (a module: await model.toAsync('${device}')). backward() cannot carry a gradient from ${t.device} back into a ${device} leaf for the same reason: create the leaf on ${t.device} instead (tensor(data, { device: '${t.device}' }) or model.to('${t.device}')).`,
  );
}

/** Writes `src` (same shape) into the tensor's memory and bumps the version. */
export function writeFrom(t: Tensor, src: Tensor): void {
  t.storage.backend.copy(t, src);
  bumpVersion(t);
}

/**
 * Adds `g` into `.grad` of a leaf or of a non-leaf that retains its grad (in place unless building
 * a higher-order graph).
 */
export function accumulateGrad(t: Tensor, g: Tensor, createGraph: boolean): void {
  const incoming = g.dtype === t.dtype && shapeEq(g.shape, t.shape) ? g : noGrad(() => castTo(sumTo(g, t.shape), t.dtype));
  const current = t.grad;
  if (current === null) {
    // With createGraph the grad stays in the graph, but as its own tensor (a recorded clone, as
    // PyTorch's AccumulateGrad): `incoming` may be the very tensor another leaf receives (add's
    // backward hands the same g to both inputs) or the caller's seed, and later accumulation is in place.
    t.grad = createGraph ? incoming.clone() : contiguousCopy(incoming.detach());
  } else if (createGraph) {
    t.grad = current.add(incoming);
  } else {
    noGrad(() => current.add_(incoming));
  }
}

/** After a recorded in-place op: the tensor is now the output of `node`. */
export function moveToNode(t: Tensor, node: Node): void {
  const retains = t.retainsGrad;
  if (retains && t.gradFn) t.gradFn.retainedBy = null;
  // applyInplace has refused a leaf that requires grad, so this only keeps the flag honest.
  if (t.isLeaf) t.requiresGrad_(false);
  t.gradFn = node;
  if (retains) node.retainedBy = t;
}

/** Moves a leaf's memory (and its grad) to `device` in place: module.to keeps Parameter identity. */
export function moveTo(t: Tensor, device: Device): void {
  if (device === t.device) return;
  const moved = copyToDevice(t, device);
  const g = t.grad;
  t.storage = moved.storage;
  t.strides = moved.strides;
  t.offset = 0;
  if (g) t.grad = copyToDevice(g, device);
}

/** moveTo for moves that leave the GPU (asynchronous read-back of values and grad). */
export async function moveToAsync(t: Tensor, device: Device): Promise<void> {
  if (device === t.device) return;
  if (t.device === 'cpu') {
    moveTo(t, device);
    return;
  }
  const target = getBackend(device);
  const values = await t.storage.backend.readAsync(t);
  const g = t.grad;
  const gradValues = g ? await g.storage.backend.readAsync(g) : null;
  t.storage = target.fromTyped(values, t.dtype);
  t.strides = contiguousStrides(t.shape);
  t.offset = 0;
  if (g && gradValues) t.grad = new Tensor(target.fromTyped(gradValues, g.dtype), g.shape);
}
