import { getBackend } from './backend/registry.js';
import {
  checkAllocation,
  checkDevice,
  checkDType,
  describeValue,
  toInt32Checked,
  type Device,
  type DType,
  type TypedArray,
} from './dtype.js';
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
    fail(
      'SHAPE_MISMATCH',
      `tensor data is ragged: expected ${String(shape[dim])} entries at depth ${String(dim)}, found ${Array.isArray(data) ? String(data.length) : typeof data}. Every row must have the same length.`,
    );
  }
  for (const item of data as unknown[]) flatten(item, shape, out, dim + 1);
}

function defaultDType(data: unknown): DType {
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return 'float32';
}

/** Validates the options object of a creation function (a wrong type is an INVALID_ARGUMENT naming it). */
function checkOptions(fn: string, opts: unknown): TensorOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    fail(
      'INVALID_ARGUMENT',
      `${fn}: the options argument must be an object { dtype?, requiresGrad?, device? }, but ${describeValue(opts)} was passed`,
    );
  }
  const o = opts as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (key !== 'dtype' && key !== 'requiresGrad' && key !== 'device') {
      fail('INVALID_ARGUMENT', `${fn}: unknown option '${key}' (the options are dtype, requiresGrad and device)`);
    }
  }
  if (o.requiresGrad !== undefined && typeof o.requiresGrad !== 'boolean') {
    fail('INVALID_ARGUMENT', `${fn}: requiresGrad must be a boolean, but ${describeValue(o.requiresGrad)} was passed`);
  }
  return o;
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

/** Creates a tensor from a number (0-d), nested arrays or a typed array (1-d). */
export function tensor(data: TensorData, options: TensorOptions = {}): Tensor {
  const opts = checkOptions('tensor', options);
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
  checkAllocation(shape, dtype);
  const storage = getBackend(device).fromTyped(toTyped(values, dtype), dtype, shape);
  return finish(new Tensor(storage, shape), opts);
}

function toTyped(values: TypedArray | number[], dtype: DType): TypedArray {
  if (dtype === 'float32') return Float32Array.from(values);
  if (dtype === 'float64') return Float64Array.from(values);
  // PyTorch truncates toward zero and refuses NaN, infinities and out-of-range values.
  return Int32Array.from(values, (v) => toInt32Checked(v, 'tensor(): value'));
}

function filled(fn: string, shape: readonly number[], options: TensorOptions, value: number | (() => number)): Tensor {
  const opts = checkOptions(fn, options);
  const s = checkShape(shape);
  const dtype = checkDType(opts.dtype ?? 'float32');
  const device = checkDevice(opts.device ?? 'cpu');
  checkAllocation(s, dtype);
  const backend = getBackend(device);
  let storage;
  if (typeof value === 'number') {
    if (dtype === 'int32') toInt32Checked(value, `${fn}(): fill value`);
    storage = backend.full(numel(s), dtype, value, s);
  } else {
    const n = numel(s);
    const values = dtype === 'float64' ? new Float64Array(n) : dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = value();
    storage = backend.fromTyped(values, dtype, s);
  }
  return finish(new Tensor(storage, s), opts);
}

export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled('zeros', shape, opts, 0);
}
export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled('ones', shape, opts, 1);
}
/** Samples of N(0, 1) from the seedable generator (`manualSeed`). */
export function randn(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled('randn', shape, opts, randomNormal);
}
/** Samples of U[0, 1) from the seedable generator (`manualSeed`). */
export function rand(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return filled('rand', shape, opts, randomUniform);
}
/** Samples of U[low, high): used by the layers' default initialisation. */
export function uniform(shape: readonly number[], low: number, high: number, opts: TensorOptions = {}): Tensor {
  return filled('uniform', shape, opts, () => low + (high - low) * randomUniform());
}

// ---- second wave ----

/** A tensor of `shape` filled with `value` (dtype float32 unless given). */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  if (typeof value !== 'number') fail('INVALID_ARGUMENT', `full: fill value must be a number, but ${describeValue(value)} was passed`);
  return filled('full', shape, opts, value);
}

function likeOptions(fn: string, t: unknown, opts: TensorOptions): TensorOptions {
  if (!(t instanceof Tensor)) fail('INVALID_ARGUMENT', `${fn}: the first argument must be a Tensor, but ${describeValue(t)} was passed`);
  const o = checkOptions(fn, opts);
  return { dtype: o.dtype ?? t.dtype, device: o.device ?? t.device, requiresGrad: o.requiresGrad };
}

/** zeros shaped like `t`, with its dtype and device unless given. */
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return zeros(t.shape, likeOptions('zerosLike', t, opts));
}
/** ones shaped like `t`, with its dtype and device unless given. */
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return ones(t.shape, likeOptions('onesLike', t, opts));
}
/** N(0, 1) samples shaped like `t` (floating dtypes only, as PyTorch). */
export function randnLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  const o = likeOptions('randnLike', t, opts);
  if (o.dtype === 'int32') fail('DTYPE_MISMATCH', `randnLike: normal samples need a floating dtype, got int32 (pass { dtype: 'float32' })`);
  return randn(t.shape, o);
}

function checkFinite(fn: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    fail('INVALID_ARGUMENT', `${fn}: ${name} must be a finite number, but ${describeValue(v)} was passed`);
  return v;
}

/**
 * Values from start (inclusive) to end (exclusive) by step: `arange(end)`, `arange(start, end, step?)`.
 * int32 when every argument is an integer (PyTorch: int64), float32 otherwise, unless a dtype is given.
 */
export function arange(start: number, end?: number | TensorOptions, step: number | TensorOptions = 1, opts: TensorOptions = {}): Tensor {
  let options = opts;
  if (typeof end === 'object') {
    options = end;
    end = undefined;
  }
  if (typeof step === 'object') {
    options = step;
    step = 1;
  }
  const [lo, hi] =
    end === undefined
      ? [0, checkFinite('arange', 'end', start)]
      : [checkFinite('arange', 'start', start), checkFinite('arange', 'end', end)];
  const st = checkFinite('arange', 'step', step);
  if (st === 0) fail('INVALID_ARGUMENT', 'arange: step must be nonzero');
  if ((hi - lo) * st < 0)
    fail(
      'INVALID_ARGUMENT',
      `arange: upper bound ${String(hi)} and lower bound ${String(lo)} are inconsistent with the sign of step ${String(st)}`,
    );
  const o = checkOptions('arange', options);
  const n = Math.max(0, Math.ceil((hi - lo) / st));
  const dtype = o.dtype ?? ([lo, hi, st].every(Number.isInteger) ? 'int32' : 'float32');
  checkAllocation([n], checkDType(dtype));
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = lo + i * st;
  return tensor(values, { ...o, dtype });
}

/** `steps` evenly spaced values from start to end, both included (float32 unless given). */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  checkFinite('linspace', 'start', start);
  checkFinite('linspace', 'end', end);
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 0)
    fail('INVALID_ARGUMENT', `linspace: steps must be a non-negative integer, but ${describeValue(steps)} was passed`);
  const o = checkOptions('linspace', opts);
  checkAllocation([steps], checkDType(o.dtype ?? 'float32'));
  const values = new Float64Array(steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // PyTorch's kernel: the first half counts up from start, the second half down from end (exact ends).
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) values[i] = steps === 1 ? start : i < half ? start + step * i : end - step * (steps - i - 1);
  return tensor(values, { ...o, dtype: o.dtype ?? 'float32' });
}

/** The n×m identity (m = n by default). */
export function eye(n: number, m?: number | TensorOptions, opts: TensorOptions = {}): Tensor {
  let options = opts;
  if (typeof m === 'object') {
    options = m;
    m = undefined;
  }
  const cols = m ?? n;
  for (const [name, v] of [
    ['n', n],
    ['m', cols],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      fail('INVALID_ARGUMENT', `eye: ${name} must be a non-negative integer, but ${describeValue(v)} was passed`);
  }
  const o = checkOptions('eye', options);
  checkAllocation([n, cols], checkDType(o.dtype ?? 'float32'));
  const values = new Float64Array(n * cols);
  for (let i = 0; i < Math.min(n, cols); i++) values[i * cols + i] = 1;
  // Built as a flat leaf, then given its shape without recording anything.
  const flat = tensor(values, { dtype: o.dtype ?? 'float32', device: o.device });
  const t = new Tensor(flat.storage, [n, cols]);
  return finish(t, o);
}

/**
 * Uniform random integers in [low, high): `randint(high, shape)` or `randint(low, high, shape)`,
 * int32 unless a dtype is given, from the seedable generator.
 */
export function randint(
  low: number,
  high: number | readonly number[],
  shape?: readonly number[] | TensorOptions,
  opts: TensorOptions = {},
): Tensor {
  let lo = low;
  let hi: number;
  let s: readonly number[];
  let options = opts;
  if (Array.isArray(high)) {
    lo = 0;
    hi = low;
    s = high as readonly number[];
    if (shape !== undefined && !Array.isArray(shape)) options = shape as TensorOptions;
  } else {
    hi = high as number;
    s = shape as readonly number[];
  }
  for (const [name, v] of [
    ['low', lo],
    ['high', hi],
  ] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v))
      fail('INVALID_ARGUMENT', `randint: ${name} must be an integer, but ${describeValue(v)} was passed`);
  }
  if (!(hi > lo))
    fail('INVALID_ARGUMENT', `randint: random_ expects 'from' to be less than 'to', but got from=${String(lo)} >= to=${String(hi)}`);
  const o = checkOptions('randint', options);
  const dtype = o.dtype ?? 'int32';
  if (dtype === 'int32') {
    toInt32Checked(lo, 'randint: low');
    toInt32Checked(hi - 1, 'randint: high - 1');
  }
  return filled('randint', s, { ...o, dtype }, () => lo + Math.floor((hi - lo) * randomUniform()));
}
