/**
 * GEMM for the CPU backend: out[m,n] (row-major, contiguous) = A[m,k] · B[k,n], where A and B are
 * read through arbitrary strides, so a transposed operand (Linear's x·Wᵀ, backward's gᵀ·x) is
 * multiplied without materialising the transpose.
 *
 * float32 goes to the WebAssembly SIMD kernel (wasm-gemm.ts) when the runtime has one and the
 * product is big enough to repay packing; everything else (float64, int32, tiny products, no
 * SIMD) runs the JS kernel below: B packed into 4-column panels so the micro-kernel streams both
 * operands sequentially, a 4x4 block of C in 16 locals across the k loop (register blocking), and
 * k blocked so a B panel slice stays in cache across the rows of A.
 */
import type { TypedArray } from '../../dtype.js';
import { gemmF32Wasm, type Strided } from './wasm-gemm.js';

export type { Strided } from './wasm-gemm.js';

const NR = 4;
const KC = 256;
/** Below this many multiply-adds the packing and call overhead of the wasm path dominates. */
export const WASM_MIN_MACS = 4096;

let packScratch = new Float64Array(0);

function packB(b: Strided<TypedArray>, k0: number, kc: number, n: number): Float64Array {
  const panels = Math.ceil(n / NR);
  const need = panels * kc * NR;
  if (packScratch.length < need) packScratch = new Float64Array(need);
  const p = packScratch;
  const src = b.data,
    rs = b.rowStride,
    cs = b.colStride;
  for (let jp = 0; jp < panels; jp++) {
    const j0 = jp * NR;
    const w = Math.min(NR, n - j0);
    let dst = jp * kc * NR;
    let s = b.offset + k0 * rs + j0 * cs;
    for (let kk = 0; kk < kc; kk++, s += rs, dst += NR) {
      p[dst] = src[s];
      p[dst + 1] = w > 1 ? src[s + cs] : 0;
      p[dst + 2] = w > 2 ? src[s + 2 * cs] : 0;
      p[dst + 3] = w > 3 ? src[s + 3 * cs] : 0;
    }
  }
  return p;
}

/** The portable kernel, for every dtype. */
export function gemmJs(a: Strided<TypedArray>, b: Strided<TypedArray>, c: TypedArray, cOff: number, m: number, k: number, n: number): void {
  c.fill(0, cOff, cOff + m * n);
  const x = a.data,
    ars = a.rowStride,
    acs = a.colStride;
  const panels = Math.ceil(n / NR);
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    const p = packB(b, k0, kc, n);
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const a0 = a.offset + i * ars + k0 * acs;
      for (let jp = 0; jp < panels; jp++) {
        let c00 = 0,
          c01 = 0,
          c02 = 0,
          c03 = 0;
        let c10 = 0,
          c11 = 0,
          c12 = 0,
          c13 = 0;
        let c20 = 0,
          c21 = 0,
          c22 = 0,
          c23 = 0;
        let c30 = 0,
          c31 = 0,
          c32 = 0,
          c33 = 0;
        let pp = jp * kc * NR;
        let pa = a0;
        for (let kk = 0; kk < kc; kk++, pp += NR, pa += acs) {
          const b0 = p[pp],
            b1 = p[pp + 1],
            b2 = p[pp + 2],
            b3 = p[pp + 3];
          const x0 = x[pa],
            x1 = x[pa + ars],
            x2 = x[pa + 2 * ars],
            x3 = x[pa + 3 * ars];
          c00 += x0 * b0;
          c01 += x0 * b1;
          c02 += x0 * b2;
          c03 += x0 * b3;
          c10 += x1 * b0;
          c11 += x1 * b1;
          c12 += x1 * b2;
          c13 += x1 * b3;
          c20 += x2 * b0;
          c21 += x2 * b1;
          c22 += x2 * b2;
          c23 += x2 * b3;
          c30 += x3 * b0;
          c31 += x3 * b1;
          c32 += x3 * b2;
          c33 += x3 * b3;
        }
        const j0 = jp * NR;
        const w = Math.min(NR, n - j0);
        const r0 = cOff + i * n + j0,
          r1 = r0 + n,
          r2 = r1 + n,
          r3 = r2 + n;
        c[r0] += c00;
        c[r1] += c10;
        c[r2] += c20;
        c[r3] += c30;
        if (w > 1) {
          c[r0 + 1] += c01;
          c[r1 + 1] += c11;
          c[r2 + 1] += c21;
          c[r3 + 1] += c31;
        }
        if (w > 2) {
          c[r0 + 2] += c02;
          c[r1 + 2] += c12;
          c[r2 + 2] += c22;
          c[r3 + 2] += c32;
        }
        if (w > 3) {
          c[r0 + 3] += c03;
          c[r1 + 3] += c13;
          c[r2 + 3] += c23;
          c[r3 + 3] += c33;
        }
      }
    }
    for (; i < m; i++) {
      const a0 = a.offset + i * ars + k0 * acs;
      for (let jp = 0; jp < panels; jp++) {
        let c0 = 0,
          c1 = 0,
          c2 = 0,
          c3 = 0;
        let pp = jp * kc * NR;
        let pa = a0;
        for (let kk = 0; kk < kc; kk++, pp += NR, pa += acs) {
          const v = x[pa];
          c0 += v * p[pp];
          c1 += v * p[pp + 1];
          c2 += v * p[pp + 2];
          c3 += v * p[pp + 3];
        }
        const j0 = jp * NR;
        const w = Math.min(NR, n - j0);
        const r = cOff + i * n + j0;
        c[r] += c0;
        if (w > 1) c[r + 1] += c1;
        if (w > 2) c[r + 2] += c2;
        if (w > 3) c[r + 3] += c3;
      }
    }
  }
}

/** c[cOff…] = A·B, on the fastest kernel that applies. */
export function gemm(a: Strided<TypedArray>, b: Strided<TypedArray>, c: TypedArray, cOff: number, m: number, k: number, n: number): void {
  if (
    c instanceof Float32Array &&
    a.data instanceof Float32Array &&
    b.data instanceof Float32Array &&
    m * n * k >= WASM_MIN_MACS &&
    gemmF32Wasm(a as Strided<Float32Array>, b as Strided<Float32Array>, c, cOff, m, k, n)
  ) {
    return;
  }
  gemmJs(a, b, c, cOff, m, k, n);
}
