import { fail } from './errors.js';

export type DType = 'float32' | 'float64' | 'int32';
export type Device = 'cpu' | 'webgpu';
export type TypedArray = Float32Array | Float64Array | Int32Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

export function isFloating(dtype: DType): boolean {
  return dtype !== 'int32';
}

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = { float32: 4, float64: 8, int32: 4 };

/**
 * The largest single tensor the engine will allocate, in bytes. The default, 4 GiB, is the
 * largest ArrayBuffer many JavaScript engines allow (Node ≤ 20 on 64-bit: `buffer.constants.MAX_LENGTH`)
 * and far above what a CPU training step needs; raise it with `setMaxTensorBytes` on machines that
 * have the memory. WebGPU storages are further bounded by the device's `maxStorageBufferBindingSize`.
 */
export const DEFAULT_MAX_TENSOR_BYTES = 2 ** 32;
let maxTensorBytes = DEFAULT_MAX_TENSOR_BYTES;

/** Sets the per-tensor allocation limit (bytes; `Infinity` leaves only the platform's own limit). */
export function setMaxTensorBytes(bytes: number): void {
  if (typeof bytes !== 'number' || !(bytes > 0)) {
    fail('INVALID_ARGUMENT', `setMaxTensorBytes: bytes must be a positive number, but ${describeValue(bytes)} was passed`);
  }
  maxTensorBytes = bytes;
}

export function getMaxTensorBytes(): number {
  return maxTensorBytes;
}

function fmtBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${String(bytes)} bytes` : `${v.toFixed(2)} ${units[u]} (${String(bytes)} bytes)`;
}

/**
 * Refuses, before any memory is touched, a tensor larger than the limit (`limit` defaults to the
 * per-tensor limit). `shape` is the tensor's shape, or its element count where no shape is at hand.
 */
export function checkAllocation(
  shape: readonly number[] | number,
  dtype: DType,
  limit = maxTensorBytes,
  where = "the engine's per-tensor limit",
): void {
  const n = typeof shape === 'number' ? shape : shape.reduce((a, d) => a * d, 1);
  const bytes = n * BYTES_PER_ELEMENT[dtype];
  if (bytes <= limit && n <= Number.MAX_SAFE_INTEGER) return;
  const what = typeof shape === 'number' ? `${String(n)} elements` : `shape [${shape.join(', ')}] (${String(n)} elements)`;
  fail(
    'OUT_OF_MEMORY',
    `cannot allocate a ${dtype} tensor of ${what}: it needs ${fmtBytes(bytes)}, more than ${where} of ${fmtBytes(limit)}. Use a smaller shape (smaller batches, chunks), or raise the limit with setMaxTensorBytes(bytes) if the machine has the memory.`,
  );
}

/** A short description of a value for argument errors: `'0.1' (a string)`, `null`, `[object] {…}`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `'${v}' (a string)`;
  if (typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return `${String(v)} (a boolean)`;
  if (typeof v === 'bigint') return `${String(v)}n (a bigint)`;
  if (typeof v === 'function') return 'a function';
  if (Array.isArray(v)) return `an array [${v.map((x) => (typeof x === 'object' && x !== null ? '…' : String(x))).join(', ')}]`;
  const name = (v.constructor as { name?: string } | undefined)?.name;
  if (name && name !== 'Object') return `a ${name}`;
  const keys = Object.keys(v);
  return `an object { ${keys.map((k) => `${k}: ${describeValue((v as Record<string, unknown>)[k])}`).join(', ')} }`;
}

export function allocTyped(dtype: DType, size: number, shape?: readonly number[]): TypedArray {
  checkAllocation(shape ?? size, dtype);
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
  }
}

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

/**
 * A number stored into an int32 tensor: truncated toward zero (as PyTorch converts 2.7 to 2), but a
 * NaN, an infinity or a value outside int32 throws, as PyTorch's "value cannot be converted to type
 * int32 without overflow" does, instead of wrapping.
 */
export function toInt32Checked(value: number, what = 'value'): number {
  const t = Math.trunc(value);
  if (!(t >= INT32_MIN && t <= INT32_MAX)) {
    fail(
      'INVALID_ARGUMENT',
      `${what} ${String(value)} cannot be converted to type int32 without overflow (int32 holds integers in [${String(INT32_MIN)}, ${String(INT32_MAX)}]; NaN and infinities have no int32 value). Use dtype 'float32' or 'float64' for it.`,
    );
  }
  return t;
}

/**
 * An int32 sum whose total int32 cannot hold: PyTorch widens int32 sums to int64, which gradflow
 * lacks, so both backends throw this rather than wrap (`where` adds how the backend found out).
 */
export function int32SumOverflow(value: number, shape: readonly number[], where = ''): never {
  return fail(
    'DTYPE_MISMATCH',
    `sum of int32 values overflows int32: an output element is ${String(value)}, outside [${String(INT32_MIN)}, ${String(INT32_MAX)}] (tensor [${shape.join(', ')}])${where}. PyTorch would return an int64 sum; gradflow has no int64, so sum a float64 copy instead (float64 holds every such sum exactly).`,
  );
}

export function checkDType(dtype: unknown): DType {
  if (dtype === 'float32' || dtype === 'float64' || dtype === 'int32') return dtype;
  return fail('INVALID_ARGUMENT', `unknown dtype ${String(dtype)}; use 'float32', 'float64' or 'int32'`);
}

export function checkDevice(device: unknown): Device {
  if (device === 'cpu' || device === 'webgpu') return device;
  return fail('INVALID_ARGUMENT', `unknown device ${String(device)}; use 'cpu' or 'webgpu'`);
}

/** PyTorch's type promotion restricted to our three dtypes. */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  if (a === 'float64' || b === 'float64') return 'float64';
  return 'float32';
}

/** dtype of `tensor op scalar`: a float scalar lifts an int tensor to the default float dtype. */
export function promoteWithScalar(a: DType, scalar: number): DType {
  if (a === 'int32' && !Number.isInteger(scalar)) return 'float32';
  return a;
}
