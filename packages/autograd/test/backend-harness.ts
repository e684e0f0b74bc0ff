import { tensor, type Device, type NestedArray, type Tensor } from '../src/index.js';
import type { Nd } from './backend-reference.js';

/** Nested arrays for `tensor()` from a flat reference array. */
export function nested(x: Nd): NestedArray {
  const build = (dim: number, offset: number): NestedArray => {
    if (dim === x.shape.length) return x.data[offset];
    const stride = x.shape.slice(dim + 1).reduce((n, d) => n * d, 1);
    return Array.from({ length: x.shape[dim] }, (_, i) => build(dim + 1, offset + i * stride));
  };
  return build(0, 0);
}

export function flat(v: NestedArray): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v];
}

export function leaf(x: Nd, device: Device, requiresGrad: boolean, dtype: 'float32' | 'int32' = 'float32'): Tensor {
  return tensor(nested(x), { device, requiresGrad, dtype });
}

export async function values(t: Tensor): Promise<number[]> {
  return flat(await t.toArrayAsync());
}

/**
 * Element-wise |actual - expected| <= atol + rtol·|expected| (NaN matches NaN); throws with the
 * first few offending positions so a failure says where and by how much.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, label: string): void {
  if (actual.length !== expected.length) throw new Error(`${label}: ${String(actual.length)} values, expected ${String(expected.length)}`);
  const bad: string[] = [];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i],
      e = expected[i];
    const ok = (Number.isNaN(a) && Number.isNaN(e)) || a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!ok && bad.length < 5) bad.push(`[${String(i)}] got ${String(a)}, expected ${String(e)}`);
  }
  if (bad.length > 0) throw new Error(`${label} differs: ${bad.join('; ')}`);
}
