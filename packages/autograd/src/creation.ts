import { getBackend } from './backend/registry.js';
import { checkDevice, checkDType, type Device, type DType, type TypedArray } from './dtype.js';
import { fail } from './errors.js';
import { randomNormal, randomUniform } from './random.js';
import { checkShape, numel } from './shape.js';
import { Tensor, type NestedArray } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  device?: Device;
}

export type TensorData = number | NestedArray | readonly NestedArray[] | TypedArray;

function inferShape(data: unknown): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function flatten(data: unknown, shape: readonly number[], out: number[], dim: number): void {
  if (dim === shape.length) {
    if (typeof data !== 'number') fail('INVALID_ARGUMENT', `tensor data must contain only numbers, found ${typeof data}`);
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    fail('SHAPE_MISMATCH', `tensor data is ragged: expected ${String(shape[dim])} entries at depth ${String(dim)}, found ${Array.isArray(data) ? String(data.length) : typeof data}. Every row must have the same length.`);
  }
  for (const item of data as unknown[]) flatten(item, shape, out, dim + 1);
}

function defaultDType(data: unknown): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return 'float32';
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** Creates a tensor from a number (0-d), nested arrays or a typed array (1-d). */
export function tensor(data: TensorData, opts: TensorOptions = {}): Tensor {
  const dtype = checkDType(opts.dtype ?? defaultDType(data));
  const device = checkDevice(opts.device ?? 'cpu');
  let shape: number[];
  let values: TypedArray | number[];
  if (ArrayBuffer.isView(data)) {
    shape = [data.length];
    values = data;
  } else {
    shape = inferShape(data);
    const flat: number[] = [];
    flatten(data, shape, flat, 0);
    values = flat;
  }
  const storage = getBackend(device).fromTyped(toTyped(values, dtype), dtype);
  return finish(new Tensor(storage, shape), opts);
}

function toTyped(values: TypedArray | number[], dtype: DType): TypedArray {
  if (dtype === 'float32') return Float32Array.from(values);
  if (dtype === 'float64') return Float64Array.from(values);
  return Int32Array.from(values, (v) => Math.trunc(v));
}

function filled(shape: readonly number[], opts: TensorOptions, value: number | (() => number)): Tensor {
  const s = checkShape(shape);
  const dtype = checkDType(opts.dtype ?? 'float32');
  const device = checkDevice(opts.device ?? 'cpu');
  const backend = getBackend(device);
  let storage;
  if (typeof value === 'number') {
    storage = backend.full(numel(s), dtype, value);
  } else {
    const n = numel(s);
    const values = dtype === 'float64' ? new Float64Array(n) : dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = value();
    storage = backend.fromTyped(values, dtype);
  }
  return finish(new Tensor(storage, s), opts);
}

export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled(shape, opts, 0);
}
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled(shape, opts, 1);
}
/** Samples of N(0, 1) from the seedable generator (`manualSeed`). */
export function randn(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled(shape, opts, randomNormal);
}
/** Samples of U[0, 1) from the seedable generator (`manualSeed`). */
export function rand(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled(shape, opts, randomUniform);
}
/** Samples of U[low, high): used by the layers' default initialisation. */
export function uniform(shape: readonly number[], low: number, high: number, opts: TensorOptions = {}): Tensor {
  return filled(shape, opts, () => low + (high - low) * randomUniform());
}
