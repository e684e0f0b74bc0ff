/**
 * Single-precision-friendly GEMM for the CPU backend: C[m,n] = A[m,k] · B[k,n], all row-major
 * contiguous. B is packed into column panels of width 4 so the micro-kernel streams both operands
 * sequentially, and a 4x4 block of C lives in 16 locals across the whole k loop (register blocking).
 * K is blocked so a B panel slice stays in L1/L2 across the rows of A.
 */
import type { TypedArray } from '../../dtype.js';

const NR = 4;
const KC = 256;

let packScratch = new Float64Array(0);

function packB(b: TypedArray, bOff: number, k0: number, kc: number, n: number): Float64Array {
  const panels = Math.ceil(n / NR);
  const need = panels * kc * NR;
  if (packScratch.length < need) packScratch = new Float64Array(need);
  const p = packScratch;
  for (let jp = 0; jp < panels; jp++) {
    const j0 = jp * NR;
    const w = Math.min(NR, n - j0);
    let dst = jp * kc * NR;
    for (let kk = 0; kk < kc; kk++) {
      const src = bOff + (k0 + kk) * n + j0;
      p[dst] = b[src];
      p[dst + 1] = w > 1 ? b[src + 1] : 0;
      p[dst + 2] = w > 2 ? b[src + 2] : 0;
      p[dst + 3] = w > 3 ? b[src + 3] : 0;
      dst += NR;
    }
  }
  return p;
}

export function gemm(
  a: TypedArray, aOff: number,
  b: TypedArray, bOff: number,
  c: TypedArray, cOff: number,
  m: number, k: number, n: number,
): void {
  for (let i = 0; i < m * n; i++) c[cOff + i] = 0;
  const panels = Math.ceil(n / NR);
  for (let k0 = 0; k0 < k; k0 += KC) {
    const kc = Math.min(KC, k - k0);
    const p = packB(b, bOff, k0, kc, n);
    let i = 0;
    for (; i + 4 <= m; i += 4) {
      const a0 = aOff + i * k + k0;
      const a1 = a0 + k;
      const a2 = a1 + k;
      const a3 = a2 + k;
      for (let jp = 0; jp < panels; jp++) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        let pp = jp * kc * NR;
        for (let kk = 0; kk < kc; kk++, pp += NR) {
          const b0 = p[pp], b1 = p[pp + 1], b2 = p[pp + 2], b3 = p[pp + 3];
          const x0 = a[a0 + kk], x1 = a[a1 + kk], x2 = a[a2 + kk], x3 = a[a3 + kk];
          c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
          c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
          c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
          c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
        }
        const j0 = jp * NR;
        const w = Math.min(NR, n - j0);
        const r0 = cOff + i * n + j0, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
        c[r0] += c00; c[r1] += c10; c[r2] += c20; c[r3] += c30;
        if (w > 1) { c[r0 + 1] += c01; c[r1 + 1] += c11; c[r2 + 1] += c21; c[r3 + 1] += c31; }
        if (w > 2) { c[r0 + 2] += c02; c[r1 + 2] += c12; c[r2 + 2] += c22; c[r3 + 2] += c32; }
        if (w > 3) { c[r0 + 3] += c03; c[r1 + 3] += c13; c[r2 + 3] += c23; c[r3 + 3] += c33; }
      }
    }
    for (; i < m; i++) {
      const a0 = aOff + i * k + k0;
      for (let jp = 0; jp < panels; jp++) {
        let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        let pp = jp * kc * NR;
        for (let kk = 0; kk < kc; kk++, pp += NR) {
          const x = a[a0 + kk];
          c0 += x * p[pp]; c1 += x * p[pp + 1]; c2 += x * p[pp + 2]; c3 += x * p[pp + 3];
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
