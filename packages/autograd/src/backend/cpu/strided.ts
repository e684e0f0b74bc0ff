import type { Shape } from '../../shape.js';

/**
 * Walks an N-d index space row by row: for every position of the leading dims it calls `row` with
 * each operand's pointer at the start of the innermost row. No per-element work happens here; the
 * row kernels do the arithmetic with their own tight loops.
 */
export function walkRows(
  shape: Shape,
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  row: (ptrs: number[], n: number) => void,
): void {
  const nd = shape.length;
  const k = strides.length;
  const ptrs = offsets.slice();
  if (nd === 0) {
    row(ptrs, 1);
    return;
  }
  const inner = shape[nd - 1];
  let outer = 1;
  for (let d = 0; d < nd - 1; d++) outer *= shape[d];
  if (inner === 0 || outer === 0) return;
  const idx = new Int32Array(nd);
  for (let o = 0; o < outer; o++) {
    row(ptrs, inner);
    for (let d = nd - 2; d >= 0; d--) {
      const extent = shape[d];
      idx[d]++;
      for (let j = 0; j < k; j++) ptrs[j] += strides[j][d];
      if (idx[d] < extent) break;
      idx[d] = 0;
      for (let j = 0; j < k; j++) ptrs[j] -= strides[j][d] * extent;
    }
  }
}

/** Merges adjacent dims that are contiguous with each other in every operand, shortening walks. */
export function coalesce(shape: Shape, strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const size = shape[d];
    if (size === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, j) => outStrides[j][last] === s[d] * size)) {
      outShape[last] *= size;
      strides.forEach((s, j) => (outStrides[j][last] = s[d]));
    } else {
      outShape.push(size);
      strides.forEach((s, j) => outStrides[j].push(s[d]));
    }
  }
  if (outShape.length === 0) {
    outShape.push(1);
    outStrides.forEach((s) => s.push(0));
  }
  return { shape: outShape, strides: outStrides };
}
