import type { Shape } from '../../shape.js';

/** Column tile width when the walk is tiled (see walkRows). */
const TILE = 64;

/** Whether walkRows cuts the innermost dim into tiles (see there): some operand reads it transposed. */
export function walksTiled(shape: Shape, strides: readonly (readonly number[])[]): boolean {
  const nd = shape.length;
  return nd >= 2 && shape[nd - 1] > TILE && strides.some((s) => Math.abs(s[nd - 1]) > Math.abs(s[nd - 2]));
}

/**
 * Walks an N-d index space row by row: for every position of the leading dims it calls `row` with
 * each operand's pointer at the start of the innermost row. No per-element work happens here; the
 * row kernels do the arithmetic with their own tight loops.
 *
 * When some operand walks the innermost dim with a larger stride than the dim above it (a
 * transposed view, e.g. the gradient of Linear's weight), plain rows would touch a new cache line
 * per element. Then the innermost dim is cut into tiles of TILE columns and each tile is walked
 * over all rows before the next, so consecutive rows reuse the lines the previous row loaded.
 */
export function walkRows(
  shape: Shape,
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  row: (ptrs: number[], n: number) => void,
): void {
  const nd = shape.length;
  if (nd === 0) {
    row(offsets.slice(), 1);
    return;
  }
  const inner = shape[nd - 1];
  if (!walksTiled(shape, strides)) {
    walkOuter(shape, strides, offsets, inner, row);
    return;
  }
  for (let j0 = 0; j0 < inner; j0 += TILE) {
    walkOuter(
      shape,
      strides,
      offsets.map((o, j) => o + j0 * strides[j][nd - 1]),
      Math.min(TILE, inner - j0),
      row,
    );
  }
}

/** The odometer over every dim but the last, calling `row` with rows of length `len`. */
function walkOuter(
  shape: Shape,
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  len: number,
  row: (ptrs: number[], n: number) => void,
): void {
  const nd = shape.length;
  const k = strides.length;
  const ptrs = offsets.slice();
  let outer = 1;
  for (let d = 0; d < nd - 1; d++) outer *= shape[d];
  if (len === 0 || outer === 0) return;
  if (nd === 1) {
    row(ptrs, len);
    return;
  }
  const idx = new Int32Array(nd);
  for (let o = 0; o < outer; o++) {
    row(ptrs, len);
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

/**
 * acc[slot] += Σ of each innermost row, for a coalesced walk whose first operand (the output) has
 * stride 0 on the innermost dim (a reduction along it, e.g. a bias gradient over [N, C, H·W]):
 * `strides` are [output, input]. Each row is summed left to right in float64 and the row sums are
 * added into their slots in walk order, exactly as a row-by-row walk does, so the result is
 * bit-identical to it. Four rows are summed side by side: one row's float64 additions form a
 * chain bound by the adder's latency, four independent chains keep the adder busy. Only for walks
 * that walkRows does not tile (walksTiled false): a tiled walk adds a row's tiles separately.
 */
export function sumRows(
  acc: Float64Array,
  src: ArrayLike<number>,
  shape: Shape,
  strides: readonly (readonly number[])[],
  offset: number,
): void {
  const nd = shape.length;
  const len = shape[nd - 1];
  const sx = strides[1][nd - 1];
  let rows = 1;
  for (let d = 0; d < nd - 1; d++) rows *= shape[d];
  const po = new Int32Array(rows);
  const px = new Int32Array(rows);
  let r = 0;
  walkOuter(shape, strides, [0, offset], 1, (p) => {
    po[r] = p[0];
    px[r] = p[1];
    r++;
  });
  let i = 0;
  for (; i + 4 <= rows; i += 4) {
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let j = 0, a = px[i], b = px[i + 1], c = px[i + 2], d = px[i + 3]; j < len; j++, a += sx, b += sx, c += sx, d += sx) {
      s0 += src[a];
      s1 += src[b];
      s2 += src[c];
      s3 += src[d];
    }
    acc[po[i]] += s0;
    acc[po[i + 1]] += s1;
    acc[po[i + 2]] += s2;
    acc[po[i + 3]] += s3;
  }
  for (; i < rows; i++) {
    let s = 0;
    for (let j = 0, a = px[i]; j < len; j++, a += sx) s += src[a];
    acc[po[i]] += s;
  }
}
