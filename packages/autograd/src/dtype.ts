import { fail } from './errors.js';

export type DType = 'float32' | 'float64' | 'int32';
export type Device = 'cpu' | 'webgpu';
export type TypedArray = Float32Array | Float64Array | Int32Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

export function isFloating(dtype: DType): boolean {
  return dtype !== 'int32';
}

export function allocTyped(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
  }
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
