/**
 * What the CPU kernel tests (cpu-kernels*.test.ts) share: a seeded generator of random arrays, CPU
 * views over plain arrays, and strided element reads the slow obvious way, the reference the
 * kernels are checked against.
 */
import type { View } from '../src/backend/backend.js';
import { cpuBackend, CpuStorage } from '../src/backend/cpu/cpu-backend.js';
import type { DType, TypedArray } from '../src/dtype.js';
import { contiguousStrides, numel } from '../src/shape.js';

/** Each test file has its own generator (a module per file), starting from seed 1. */
let seed = 1;
export function rnd(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
}
export function randomArray(n: number, dtype: 'float32' | 'float64' = 'float32'): Float32Array | Float64Array {
  const a = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rnd();
  return a;
}

export function view(data: TypedArray, dtype: DType, shape: number[], strides = contiguousStrides(shape), offset = 0): View {
  return { storage: new CpuStorage(cpuBackend, data, dtype), shape, strides, offset };
}
export function dataOf(s: { storage?: unknown } | object): TypedArray {
  if (!(s instanceof CpuStorage)) throw new Error('expected a CPU storage');
  return s.data;
}
/** Element of a strided view at a multi-index, read the slow obvious way. */
export function at(v: View, idx: readonly number[]): number {
  let p = v.offset;
  idx.forEach((i, d) => (p += i * v.strides[d]));
  return dataOf(v.storage)[p];
}
export function* indices(shape: readonly number[]): Generator<number[]> {
  const n = numel(shape);
  for (let flat = 0; flat < n; flat++) {
    const idx: number[] = [];
    let r = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx.unshift(r % shape[d]);
      r = Math.floor(r / shape[d]);
    }
    yield idx;
  }
}
