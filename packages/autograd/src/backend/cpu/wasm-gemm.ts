/**
 * Float32 GEMM on WebAssembly SIMD (f32x4), emitted at load time by wasm-encoder.ts.
 *
 * The module exports its memory and two functions, `tilesSet` and `tilesAdd`, which multiply
 * packed blocks: A in panels of MR rows ([kc][MR] floats per panel), B in panels of NR = 8 columns
 * ([kc][8] floats per panel), storing (first k block) or adding (later ones) each MR x 8 product
 * tile into a zero-padded row-major C. The micro-kernel keeps the tile in
 * 2·MR v128 locals (registers) for the whole k loop: per k it loads two B vectors and MR splatted
 * A values — all with constant offsets from two pointers — and issues 2·MR multiply-adds.
 * Padding every panel with zeros means the wasm code has no edge cases at all; the JS driver
 * (gemmF32Wasm) does the blocking, packs from any strides (so transposed operands cost nothing
 * extra) and copies the valid part of C out. The module is well under 4 KiB, the size Chrome
 * allows to compile synchronously on the main thread.
 */
import { Body, encodeModule, I32, op, simd, V128 } from './wasm-encoder.js';

/**
 * Micro-tile rows. TurboFan hoists the MR splat loads of a k step ahead of the arithmetic, so a
 * step needs 2·MR accumulators + 2 B vectors + MR splats live: with MR = 4 that is 14 of the 15
 * xmm registers it allocates. MR = 6, or unrolling k by 2, spilled accumulators to the stack and
 * ran at ~20 GFLOP/s instead of ~35 here (checked with node --print-wasm-code). Do not unroll.
 */
export const MR = 4;
export const NR = 8;
/** k block: an MR x KC A panel (4 KiB) and an 8 x KC B panel (8 KiB) sit in L1 together. */
const KC = 256;
/** m block: MC x KC packed A (96 KiB, a multiple of MR rows) is re-read from L2 for every B panel. */
const MC = 96;

/** `accumulate`: C += tile (later k blocks); otherwise C = tile (the first, so C needs no zeroing). */
function tilesFunction(accumulate: boolean): Body {
  // params: 0 ap, 1 bp, 2 cp, 3 mPanels, 4 nPanels, 5 kc, 6 ldc (bytes)
  const [AP, BP, CP, M_PANELS, N_PANELS, KC_, LDC] = [0, 1, 2, 3, 4, 5, 6];
  const [JP, IP, KK, A, B, C] = [7, 8, 9, 10, 11, 12];
  const ACC = 13; // ACC .. ACC + 2·MR - 1
  const B0 = ACC + 2 * MR, B1 = B0 + 1, S = B0 + 2;
  const f = new Body();
  const inc = (local: number, by: number | (() => void)): void => {
    f.get(local);
    if (typeof by === 'number') f.i32(by);
    else by();
    f.emit(op.i32Add).set(local);
  };
  f.i32(0).set(JP);
  f.doWhile(() => {
    f.i32(0).set(IP);
    f.doWhile(() => {
      // a = ap + ip·kc·MR·4; b = bp + jp·kc·32
      f.get(AP).get(IP).get(KC_).emit(op.i32Mul).i32(MR * 4).emit(op.i32Mul).emit(op.i32Add).set(A);
      f.get(BP).get(JP).get(KC_).emit(op.i32Mul).i32(NR * 4).emit(op.i32Mul).emit(op.i32Add).set(B);
      for (let r = 0; r < 2 * MR; r++) f.simd(simd.v128Const, ...new Array<number>(16).fill(0)).set(ACC + r);
      f.get(KC_).set(KK);
      f.doWhile(() => {
        f.get(B).mem(simd.v128Load, 4, 0).set(B0);
        f.get(B).mem(simd.v128Load, 4, 16).set(B1);
        for (let r = 0; r < MR; r++) {
          f.get(A).mem(simd.v128Load32Splat, 2, 4 * r).set(S);
          for (const [acc, bv] of [[ACC + 2 * r, B0], [ACC + 2 * r + 1, B1]]) {
            f.get(acc).get(S).get(bv).simd(simd.f32x4Mul).simd(simd.f32x4Add).set(acc);
          }
        }
        inc(A, MR * 4);
        inc(B, NR * 4);
      }, () => f.get(KK).i32(1).emit(op.i32Sub).tee(KK));
      // c = cp + ip·MR·ldc + jp·32; C[r] (+)= acc[r] row by row.
      f.get(CP).get(IP).i32(MR).emit(op.i32Mul).get(LDC).emit(op.i32Mul).emit(op.i32Add)
        .get(JP).i32(NR * 4).emit(op.i32Mul).emit(op.i32Add).set(C);
      for (let r = 0; r < MR; r++) {
        for (const half of [0, 1]) {
          f.get(C);
          if (accumulate) f.get(C).mem(simd.v128Load, 4, 16 * half).get(ACC + 2 * r + half).simd(simd.f32x4Add);
          else f.get(ACC + 2 * r + half);
          f.mem(simd.v128Store, 4, 16 * half);
        }
        inc(C, () => f.get(LDC));
      }
      inc(IP, 1);
    }, () => f.get(IP).get(M_PANELS).emit(op.i32LtU));
    inc(JP, 1);
  }, () => f.get(JP).get(N_PANELS).emit(op.i32LtU));
  return f;
}

export function gemmModuleBytes(): Uint8Array<ArrayBuffer> {
  const locals = [...new Array<number>(6).fill(I32), ...new Array<number>(2 * MR + 3).fill(V128)];
  const params = new Array<number>(7).fill(I32);
  return encodeModule([
    { name: 'tilesAdd', params, locals, body: tilesFunction(true) },
    { name: 'tilesSet', params, locals, body: tilesFunction(false) },
  ], 1);
}

type TilesFn = (ap: number, bp: number, cp: number, mPanels: number, nPanels: number, kc: number, ldcBytes: number) => void;

interface Kernel {
  memory: WebAssembly.Memory;
  tilesAdd: TilesFn;
  tilesSet: TilesFn;
}

let kernel: Kernel | null | undefined;

/** The compiled kernel, or null where WebAssembly or its SIMD extension is unavailable. */
function load(): Kernel | null {
  if (kernel !== undefined) return kernel;
  kernel = null;
  try {
    const bytes = gemmModuleBytes();
    if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
      kernel = instance.exports as unknown as Kernel;
    }
  } catch {
    kernel = null; // e.g. a CSP that forbids compiling WebAssembly: the JS kernel takes over.
  }
  return kernel;
}

let enabled = true;

/** For tests and the benchmark: force the JS kernel (false) or allow the wasm one (true). */
export function setWasmGemmEnabled(on: boolean): void {
  enabled = on;
}

export function wasmGemmAvailable(): boolean {
  return enabled && load() !== null;
}

/** An operand read as element (r, c) = data[offset + r·rowStride + c·colStride]. */
export interface Strided<T> {
  readonly data: T;
  readonly offset: number;
  readonly rowStride: number;
  readonly colStride: number;
}

let heap = new Float32Array(0);

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

function ensureHeap(k: Kernel, floats: number): Float32Array {
  const bytes = floats * 4;
  if (k.memory.buffer.byteLength < bytes) k.memory.grow(Math.ceil((bytes - k.memory.buffer.byteLength) / 65536));
  // Growing detaches old views; re-view whenever the buffer changed.
  if (heap.buffer !== k.memory.buffer) heap = new Float32Array(k.memory.buffer);
  return heap;
}

/** Packs rows [i0, i0+mc) x cols [p0, p0+kc) of A into MR-row panels at heap[dst…] (zero rows past mc). */
function packA(h: Float32Array, dst: number, a: Strided<Float32Array>, i0: number, mc: number, p0: number, kc: number): void {
  const src = a.data, rs = a.rowStride, cs = a.colStride;
  for (let ip = 0; ip < mc; ip += MR) {
    const rows = Math.min(MR, mc - ip);
    if (rows < MR) h.fill(0, dst, dst + MR * kc);
    const base = a.offset + (i0 + ip) * rs + p0 * cs;
    if (rs === 1) {
      // A is a transposed view: its MR rows sit side by side in memory at each k.
      for (let kk = 0, s = base, d = dst; kk < kc; kk++, s += cs, d += MR) {
        for (let r = 0; r < rows; r++) h[d + r] = src[s + r];
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
function packB(h: Float32Array, dst: number, b: Strided<Float32Array>, p0: number, kc: number, n: number): void {
  const src = b.data, rs = b.rowStride, cs = b.colStride;
  for (let j0 = 0; j0 < n; j0 += NR) {
    const cols = Math.min(NR, n - j0);
    const base = b.offset + p0 * rs + j0 * cs;
    if (cols === NR && cs === 1) {
      for (let kk = 0, s = base, d = dst; kk < kc; kk++, s += rs, d += NR) {
        h[d] = src[s]; h[d + 1] = src[s + 1]; h[d + 2] = src[s + 2]; h[d + 3] = src[s + 3];
        h[d + 4] = src[s + 4]; h[d + 5] = src[s + 5]; h[d + 6] = src[s + 6]; h[d + 7] = src[s + 7];
      }
    } else if (cols === NR) {
      // A transposed B (rs = 1): eight sequential streams, one per column, written interleaved.
      const c1 = cs, c2 = 2 * cs, c3 = 3 * cs, c4 = 4 * cs, c5 = 5 * cs, c6 = 6 * cs, c7 = 7 * cs;
      for (let kk = 0, s = base, d = dst; kk < kc; kk++, s += rs, d += NR) {
        h[d] = src[s]; h[d + 1] = src[s + c1]; h[d + 2] = src[s + c2]; h[d + 3] = src[s + c3];
        h[d + 4] = src[s + c4]; h[d + 5] = src[s + c5]; h[d + 6] = src[s + c6]; h[d + 7] = src[s + c7];
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
export function gemmF32Wasm(a: Strided<Float32Array>, b: Strided<Float32Array>, out: Float32Array, outOffset: number, m: number, k: number, n: number): boolean {
  const kern = enabled ? load() : null;
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
  const h = ensureHeap(kern, cAt + mPad * nPad);
  for (let p0 = 0; p0 < k; p0 += KC) {
    const kc = Math.min(KC, k - p0);
    packB(h, bAt, b, p0, kc, n);
    for (let i0 = 0; i0 < m; i0 += MC) {
      const mc = Math.min(MC, m - i0);
      const mcPad = roundUp(mc, MR);
      packA(h, aAt, a, i0, mc, p0, kc);
      (p0 === 0 ? kern.tilesSet : kern.tilesAdd)(aAt * 4, bAt * 4, (cAt + i0 * nPad) * 4, mcPad / MR, nPad / NR, kc, nPad * 4);
    }
  }
  for (let i = 0; i < m; i++) out.set(h.subarray(cAt + i * nPad, cAt + i * nPad + n), outOffset + i * n);
  return true;
}
