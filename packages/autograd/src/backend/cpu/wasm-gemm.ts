/**
 * Float32 GEMM driver for the WebAssembly SIMD tile kernels (wasm-code.ts): blocks the product,
 * packs A and B from any strides into zero-padded panels in the kernels' memory (so transposed
 * operands cost nothing extra), runs the tiles and copies the valid part of C out.
 */
import { MR, NR } from './wasm-code.js';
import { roundUp, wasmHeap, wasmKernels, type WasmKernels } from './wasm-runtime.js';

/** k block: an MR x KC A panel (4 KiB) and an 8 x KC B panel (8 KiB) sit in L1 together. */
const KC = 256;
/** m block: MC x KC packed A (96 KiB, a multiple of MR rows) is re-read from L2 for every B panel. */
const MC = 96;

/** An operand read as element (r, c) = data[offset + r·rowStride + c·colStride]. */
export interface Strided<T> {
  readonly data: T;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** Packs rows [i0, i0+mc) x cols [p0, p0+kc) of A into MR-row panels at heap[dst…] (zero rows past mc). */
function packA(h: Float32Array, dst: number, a: Strided<Float32Array>, i0: number, mc: number, p0: number, kc: number): void {
  const src = a.data,
    rs = a.rowStride,
    cs = a.colStride;
  for (let ip = 0; ip < mc; ip += MR) {
    const rows = Math.min(MR, mc - ip);
    if (rows < MR) h.fill(0, dst, dst + MR * kc);
    const base = a.offset + (i0 + ip) * rs + p0 * cs;
    if (rs === 1 && rows === MR) {
      // A is a transposed view: its MR rows sit side by side in memory at each k.
      for (let kk = 0, s = base, d = dst; kk < kc; kk++, s += cs, d += MR) {
        h[d] = src[s];
        h[d + 1] = src[s + 1];
        h[d + 2] = src[s + 2];
        h[d + 3] = src[s + 3];
      }
    } else if (rows === MR) {
      // Four row streams read in step, the panel written sequentially.
      for (let kk = 0, s = base, d = dst; kk < kc; kk++, s += cs, d += MR) {
        h[d] = src[s];
        h[d + 1] = src[s + rs];
        h[d + 2] = src[s + 2 * rs];
        h[d + 3] = src[s + 3 * rs];
      }
    } else {
      for (let r = 0; r < rows; r++) {
        for (let kk = 0, s = base + r * rs, d = dst + r; kk < kc; kk++, d += MR, s += cs) h[d] = src[s];
      }
    }
    dst += MR * kc;
  }
}

/** Packs rows [p0, p0+kc) x cols [0, n) of B into 8-column panels at heap[dst…] (zero columns past n). */
function packB(h: Float32Array, dst: number, b: Strided<Float32Array>, p0: number, kc: number, n: number, fromColumn = 0): void {
  const src = b.data,
    rs = b.rowStride,
    cs = b.colStride;
  dst += (fromColumn / NR) * NR * kc;
  for (let j0 = fromColumn; j0 < n; j0 += NR) {
    const cols = Math.min(NR, n - j0);
    const base = b.offset + p0 * rs + j0 * cs;
    if (cols === NR && cs === 1) {
      for (let kk = 0, s = base, d = dst; kk < kc; kk++, s += rs, d += NR) {
        h[d] = src[s];
        h[d + 1] = src[s + 1];
        h[d + 2] = src[s + 2];
        h[d + 3] = src[s + 3];
        h[d + 4] = src[s + 4];
        h[d + 5] = src[s + 5];
        h[d + 6] = src[s + 6];
        h[d + 7] = src[s + 7];
      }
    } else if (cols === NR) {
      // A transposed B (rs = 1): eight sequential streams, one per column, written interleaved.
      const c1 = cs,
        c2 = 2 * cs,
        c3 = 3 * cs,
        c4 = 4 * cs,
        c5 = 5 * cs,
        c6 = 6 * cs,
        c7 = 7 * cs;
      for (let kk = 0, s = base, d = dst; kk < kc; kk++, s += rs, d += NR) {
        h[d] = src[s];
        h[d + 1] = src[s + c1];
        h[d + 2] = src[s + c2];
        h[d + 3] = src[s + c3];
        h[d + 4] = src[s + c4];
        h[d + 5] = src[s + c5];
        h[d + 6] = src[s + c6];
        h[d + 7] = src[s + c7];
      }
    } else {
      h.fill(0, dst, dst + NR * kc);
      // The last, partial panel: column by column, zero-padded.
      for (let c = 0; c < cols; c++) {
        for (let kk = 0, s = base + c * cs, d = dst + c; kk < kc; kk++, d += NR, s += rs) h[d] = src[s];
      }
    }
    dst += NR * kc;
  }
}

/**
 * out[outOffset + i·n + j] = Σ_p A(i, p)·B(p, j) in float32 on the wasm kernel. Returns false
 * (computing nothing) when the kernel is unavailable, so the caller falls back to JS.
 */
export function gemmF32Wasm(
  a: Strided<Float32Array>,
  b: Strided<Float32Array>,
  out: Float32Array,
  outOffset: number,
  m: number,
  k: number,
  n: number,
): boolean {
  const kern = wasmKernels();
  if (!kern) return false;
  if (m === 0 || n === 0) return true;
  if (k === 0) {
    out.fill(0, outOffset, outOffset + m * n);
    return true;
  }
  const mPad = roundUp(m, MR);
  const nPad = roundUp(n, NR);
  const kc0 = Math.min(KC, k);
  const mc0 = Math.min(MC, mPad);
  // heap layout (floats): [ packed A block | packed B block (all n) | C (mPad x nPad) ]
  const aAt = 0;
  const bAt = aAt + mc0 * kc0;
  const cAt = bAt + nPad * kc0;
  // B with contiguous rows not far apart (rowStride <= 2n): each k block's rows are copied into
  // the heap at sAt as they lie (one memcpy) and packed there by the wasm kernel.
  const fullPanels = Math.floor(n / NR);
  const wasmPack = b.colStride === 1 && b.rowStride >= n && b.rowStride <= 2 * n && fullPanels > 0;
  // A transposed B (rowStride 1, columns not far apart): all of it copied into the heap once, each
  // k block packed from there by the wasm kernel.
  const wasmPackT = !wasmPack && b.rowStride === 1 && b.colStride >= k && b.colStride <= 2 * k && fullPanels > 0;
  const sAt = cAt + mPad * nPad;
  const h = wasmHeap(kern, sAt + (wasmPack ? (kc0 - 1) * b.rowStride + n : wasmPackT ? (n - 1) * b.colStride + k : 0));
  if (!h) return false;
  if (wasmPackT) h.set(b.data.subarray(b.offset, b.offset + (n - 1) * b.colStride + k), sAt);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    if (wasmPackT) {
      kern.packBT8(bAt * 4, (sAt + p0) * 4, b.colStride * 4, kc, fullPanels);
      if (fullPanels * NR < n) packB(h, bAt, b, p0, kc, n, fullPanels * NR);
    } else if (wasmPack) {
      const from = b.offset + p0 * b.rowStride;
      h.set(b.data.subarray(from, from + (kc - 1) * b.rowStride + n), sAt);
      kern.packB8(bAt * 4, sAt * 4, b.rowStride * 4, kc, fullPanels);
      if (fullPanels * NR < n) packB(h, bAt, b, p0, kc, n, fullPanels * NR);
    } else {
      packB(h, bAt, b, p0, kc, n);
    }
    for (let i0 = 0; i0 < m; i0 += MC) {
      const mc = Math.min(MC, m - i0);
      const mcPad = roundUp(mc, MR);
      packA(h, aAt, a, i0, mc, p0, kc);
      (p0 === 0 ? kern.tilesSet : kern.tilesAdd)(aAt * 4, bAt * 4, (cAt + i0 * nPad) * 4, mcPad / MR, nPad / NR, kc, nPad * 4);
    }
  }
  if (n === nPad) out.set(h.subarray(cAt, cAt + m * n), outOffset);
  else for (let i = 0; i < m; i++) out.set(h.subarray(cAt + i * nPad, cAt + i * nPad + n), outOffset + i * n);
  return true;
}

/** A matrix already in the kernels' memory: element (r, c) at heap[at + r·rowStride + c·colStride]. */
export interface HeapMatrix {
  readonly at: number;
  readonly rowStride: number;
  readonly colStride: number;
}

/** Floats of packing space gemmInHeap needs at its `packAt`: an A block and a B block. */
export function gemmPackFloats(m: number, k: number, n: number): number {
  return Math.min(MC, roundUp(m, MR)) * Math.min(KC, k) + roundUp(n, NR) * Math.min(KC, k);
}

/**
 * C = A·B into the heap at cAt (roundUp(m, MR) rows of roundUp(n, NR) floats, padding included)
 * for a B that already lies in the heap (an image's windows unfolded there, a gradient permuted
 * there), so it is neither copied out to JS nor back in. A is read through its strides (it may be
 * `h` itself). Same blocking, packing and tile calls as gemmF32Wasm, so the same result bit for
 * bit. The caller has sized the heap (`h` must stay valid: nothing here grows it), m, k, n > 0.
 */
export function gemmInHeap(
  kern: WasmKernels,
  h: Float32Array,
  a: Strided<Float32Array>,
  b: HeapMatrix,
  m: number,
  k: number,
  n: number,
  packAt: number,
  cAt: number,
): void {
  const nPad = roundUp(n, NR);
  const aAt = packAt;
  const bAt = aAt + Math.min(MC, roundUp(m, MR)) * Math.min(KC, k);
  const fullPanels = Math.floor(n / NR);
  const bView = { data: h, offset: b.at, rowStride: b.rowStride, colStride: b.colStride };
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    if (fullPanels > 0 && b.colStride === 1) kern.packB8(bAt * 4, (b.at + p0 * b.rowStride) * 4, b.rowStride * 4, kc, fullPanels);
    else if (fullPanels > 0 && b.rowStride === 1) kern.packBT8(bAt * 4, (b.at + p0) * 4, b.colStride * 4, kc, fullPanels);
    if (fullPanels * NR < n || (b.colStride !== 1 && b.rowStride !== 1)) {
      const from = b.colStride === 1 || b.rowStride === 1 ? fullPanels * NR : 0;
      packB(h, bAt, bView, p0, kc, n, from);
    }
    for (let i0 = 0; i0 < m; i0 += MC) {
      const mc = Math.min(MC, m - i0);
      packA(h, aAt, a, i0, mc, p0, kc);
      (p0 === 0 ? kern.tilesSet : kern.tilesAdd)(aAt * 4, bAt * 4, (cAt + i0 * nPad) * 4, roundUp(mc, MR) / MR, nPad / NR, kc, nPad * 4);
    }
  }
}
