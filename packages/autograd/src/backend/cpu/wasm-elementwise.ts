/**
 * Large float32 add/sub/mul/div on the wasm 2-D kernels (wasm-code.ts). The case that matters is
 * gradient accumulation: Linear's weight gradient arrives as a transposed view and is added into
 * the contiguous `.grad` — in JS ~2-4 ns per element (float64 conversions, strided reads), in
 * wasm several times less even with the copies in and out.
 */
import type { BinaryOp } from '../backend.js';
import { BINARY_2D_OPS } from './wasm-code.js';
import { wasmHeap, wasmKernels } from './wasm-runtime.js';

/**
 * A [planes, rows, cols] window on a float32 array: element (q, i, j) at offset + q·planeStride +
 * i·rowStride + j·colStride.
 */
export interface Window2D {
  readonly data: Float32Array;
  readonly offset: number;
  readonly planeStride: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** Below this many elements the JS row kernels are as fast. */
export const WASM_BINARY_MIN = 4096;
/** Column tile when an operand is read down its columns, so rows reuse the cache lines just loaded. */
const TILE = 64;

function isBinary2dOp(op: BinaryOp): op is keyof typeof BINARY_2D_OPS {
  return op in BINARY_2D_OPS;
}

/** The storage range [lo, lo + length) a window touches (strides are never negative here). */
function span(w: Window2D, planes: number, rows: number, cols: number): { lo: number; length: number } {
  return { lo: w.offset, length: (planes - 1) * w.planeStride + (rows - 1) * w.rowStride + (cols - 1) * w.colStride + 1 };
}

/**
 * out[(q·rows + i)·cols + j] = a(q, i, j) OP b(q, i, j). Returns false, touching nothing, when the
 * kernel does not apply (unavailable, another op, or an operand whose storage range is far larger
 * than the window, which would make the copy in cost more than it saves).
 */
export function binaryF32Wasm(
  op: BinaryOp,
  out: Float32Array,
  a: Window2D,
  b: Window2D,
  planes: number,
  rows: number,
  cols: number,
): boolean {
  const k = wasmKernels();
  if (!k || !isBinary2dOp(op) || [a, b].some((w) => w.planeStride < 0 || w.rowStride < 0 || w.colStride < 0)) return false;
  const n = planes * rows * cols;
  const sa = span(a, planes, rows, cols),
    sb = span(b, planes, rows, cols);
  if (sa.length > 2 * n || sb.length > 2 * n) return false;
  // heap (floats): [ out n | a's range | b's range ]
  const aAt = n,
    bAt = n + sa.length;
  const heap = wasmHeap(k, bAt + sb.length);
  if (!heap) return false;
  heap.set(a.data.subarray(sa.lo, sa.lo + sa.length), aAt);
  heap.set(b.data.subarray(sb.lo, sb.lo + sb.length), bAt);
  const kernel = k[`${op}2d`];
  const down = (w: Window2D): boolean => w.colStride > w.rowStride && w.rowStride !== 0;
  const tile = down(a) || down(b) ? TILE : cols;
  for (let j0 = 0; j0 < cols; j0 += tile) {
    kernel(
      j0 * 4,
      cols * 4,
      (aAt + j0 * a.colStride) * 4,
      a.rowStride * 4,
      a.colStride * 4,
      (bAt + j0 * b.colStride) * 4,
      b.rowStride * 4,
      b.colStride * 4,
      rows,
      Math.min(tile, cols - j0),
      planes,
      rows * cols * 4,
      a.planeStride * 4,
      b.planeStride * 4,
    );
  }
  out.set(heap.subarray(0, n));
  return true;
}
