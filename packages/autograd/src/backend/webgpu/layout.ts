import { broadcastStrides, contiguousStrides, type Shape } from '../../shape.js';
import type { View } from '../backend.js';

/** Shape plus one stride list per operand, with adjacent dims merged where every operand allows. */
export interface Walk {
  shape: number[];
  strides: number[][];
}

/**
 * Merges dims that are contiguous with each other in every operand and drops size-1 dims, so a
 * contiguous (or uniformly broadcast) operation becomes rank 1 and kernels skip index division.
 */
export function coalesce(shape: Shape, strides: readonly (readonly number[])[]): Walk {
  const out: Walk = { shape: [], strides: strides.map(() => []) };
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d];
    if (size === 1) continue;
    const last = out.shape.length - 1;
    if (last >= 0 && strides.every((s, j) => out.strides[j][last] === s[d] * size)) {
      out.shape[last] *= size;
      strides.forEach((s, j) => (out.strides[j][last] = s[d]));
    } else {
      out.shape.push(size);
      strides.forEach((s, j) => out.strides[j].push(s[d]));
    }
  }
  if (out.shape.length === 0) {
    out.shape.push(1);
    out.strides.forEach((s) => s.push(0));
  }
  return out;
}

/** `view`'s strides when read as `target` (0 on broadcast dims). */
export function stridesAs(view: View, target: Shape): number[] {
  return broadcastStrides(view.shape, view.strides, target);
}

export function isContiguous(view: View): boolean {
  const cs = contiguousStrides(view.shape);
  return view.shape.every((d, i) => d === 1 || view.strides[i] === cs[i]);
}
