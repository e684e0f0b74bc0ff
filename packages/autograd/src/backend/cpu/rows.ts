import type { TypedArray } from '../../dtype.js';
import type { BinaryOp, UnaryOp } from '../backend.js';

/**
 * Row kernels: one tight loop per op, so each stays monomorphic in V8. The strided walker calls
 * them once per innermost row; a contiguous tensor is a single row.
 */
export type UnaryRow = (out: TypedArray, po: number, x: TypedArray, px: number, sx: number, n: number) => void;
export type BinaryRow = (
  out: TypedArray,
  po: number,
  a: TypedArray,
  pa: number,
  sa: number,
  b: TypedArray,
  pb: number,
  sb: number,
  n: number,
) => void;

export const UNARY_ROWS: Record<UnaryOp, UnaryRow> = {
  neg: (o, po, x, px, sx, n) => {
    for (let i = 0; i < n; i++, px += sx) o[po + i] = -x[px];
  },
  exp: (o, po, x, px, sx, n) => {
    for (let i = 0; i < n; i++, px += sx) o[po + i] = Math.exp(x[px]);
  },
  log: (o, po, x, px, sx, n) => {
    for (let i = 0; i < n; i++, px += sx) o[po + i] = Math.log(x[px]);
  },
  log1p: (o, po, x, px, sx, n) => {
    for (let i = 0; i < n; i++, px += sx) o[po + i] = Math.log1p(x[px]);
  },
  sqrt: (o, po, x, px, sx, n) => {
    for (let i = 0; i < n; i++, px += sx) o[po + i] = Math.sqrt(x[px]);
  },
  abs: (o, po, x, px, sx, n) => {
    for (let i = 0; i < n; i++, px += sx) o[po + i] = Math.abs(x[px]);
  },
  // `v <= 0 ? 0 : v` lets NaN through, as PyTorch's relu(NaN) = NaN.
  relu: (o, po, x, px, sx, n) => {
    if (sx === 1 && n >= 64 && o instanceof Float32Array && x instanceof Float32Array) {
      reluF32Bits(o, po, x, px, n);
      return;
    }
    for (let i = 0; i < n; i++, px += sx) {
      const v = x[px];
      o[po + i] = v <= 0 ? 0 : v;
    }
  },
  sigmoid: (o, po, x, px, sx, n) => {
    for (let i = 0; i < n; i++, px += sx) o[po + i] = 1 / (1 + Math.exp(-x[px]));
  },
  tanh: (o, po, x, px, sx, n) => {
    for (let i = 0; i < n; i++, px += sx) o[po + i] = Math.tanh(x[px]);
  },
  sign: (o, po, x, px, sx, n) => {
    for (let i = 0; i < n; i++, px += sx) o[po + i] = Math.sign(x[px]);
  },
  // 1 where x > 0 or NaN. `+!(x <= 0)` has no branch: on activations of random sign a branch is
  // mispredicted half the time, which costs V8-compiled code several times the loop itself.
  step: (o, po, x, px, sx, n) => {
    for (let i = 0; i < n; i++, px += sx) o[po + i] = +!(x[px] <= 0);
  },
};

/**
 * relu on float32 bit patterns, without a data-dependent branch (see `step`): a negative number
 * (sign bit set, not NaN; -0 and -∞ included) becomes +0, anything else (positive, NaN) is kept.
 */
function reluF32Bits(o: Float32Array, po: number, x: Float32Array, px: number, n: number): void {
  const oi = new Int32Array(o.buffer, o.byteOffset + 4 * po, n);
  const xi = new Int32Array(x.buffer, x.byteOffset + 4 * px, n);
  for (let i = 0; i < n; i++) {
    const b = xi[i];
    // -1 when the magnitude bits exceed +∞'s (a NaN), else 0; b >> 31 is -1 when the sign is set.
    const nan = (0x7f800000 - (b & 0x7fffffff)) >> 31;
    oi[i] = b & ~((b >> 31) & ~nan);
  }
}

export const BINARY_ROWS: Record<BinaryOp, BinaryRow> = {
  add: (o, po, a, pa, sa, b, pb, sb, n) => {
    for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = a[pa] + b[pb];
  },
  sub: (o, po, a, pa, sa, b, pb, sb, n) => {
    for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = a[pa] - b[pb];
  },
  mul: (o, po, a, pa, sa, b, pb, sb, n) => {
    for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = a[pa] * b[pb];
  },
  div: (o, po, a, pa, sa, b, pb, sb, n) => {
    for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = a[pa] / b[pb];
  },
  pow: (o, po, a, pa, sa, b, pb, sb, n) => {
    for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = Math.pow(a[pa], b[pb]);
  },
  gt: (o, po, a, pa, sa, b, pb, sb, n) => {
    for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = +(a[pa] > b[pb]);
  },
  lt: (o, po, a, pa, sa, b, pb, sb, n) => {
    for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = +(a[pa] < b[pb]);
  },
  ge: (o, po, a, pa, sa, b, pb, sb, n) => {
    for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = +(a[pa] >= b[pb]);
  },
  le: (o, po, a, pa, sa, b, pb, sb, n) => {
    for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = +(a[pa] <= b[pb]);
  },
  eq: (o, po, a, pa, sa, b, pb, sb, n) => {
    for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = +(a[pa] === b[pb]);
  },
};

/**
 * int32 products wrap modulo 2³², as PyTorch's int32 mul (and WGSL's i32) do. A float64 product
 * beyond 2⁵³ has lost its low bits before an Int32Array store could wrap it; Math.imul has not.
 */
export const IMUL_ROW: BinaryRow = (o, po, a, pa, sa, b, pb, sb, n) => {
  for (let i = 0; i < n; i++, pa += sa, pb += sb) o[po + i] = Math.imul(a[pa], b[pb]);
};

/** Scalar forms (`x op s` and `s op x`) avoid materialising the scalar. */
export type ScalarRow = (o: TypedArray, po: number, x: TypedArray, px: number, sx: number, s: number, n: number) => void;

function scalarRows(first: boolean): Record<BinaryOp, ScalarRow> {
  // For commutative ops the order does not matter; for the others we spell out both.
  return {
    add: (o, po, x, px, sx, s, n) => {
      for (let i = 0; i < n; i++, px += sx) o[po + i] = x[px] + s;
    },
    mul: (o, po, x, px, sx, s, n) => {
      for (let i = 0; i < n; i++, px += sx) o[po + i] = x[px] * s;
    },
    eq: (o, po, x, px, sx, s, n) => {
      for (let i = 0; i < n; i++, px += sx) o[po + i] = +(x[px] === s);
    },
    sub: first
      ? (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = s - x[px];
        }
      : (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = x[px] - s;
        },
    div: first
      ? (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = s / x[px];
        }
      : (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = x[px] / s;
        },
    pow: first
      ? (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = Math.pow(s, x[px]);
        }
      : (o, po, x, px, sx, s, n) => {
          if (s === 2)
            for (let i = 0; i < n; i++, px += sx) {
              const v = x[px];
              o[po + i] = v * v;
            }
          else for (let i = 0; i < n; i++, px += sx) o[po + i] = Math.pow(x[px], s);
        },
    gt: first
      ? (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = +(s > x[px]);
        }
      : (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = +(x[px] > s);
        },
    lt: first
      ? (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = +(s < x[px]);
        }
      : (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = +(x[px] < s);
        },
    ge: first
      ? (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = +(s >= x[px]);
        }
      : (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = +(x[px] >= s);
        },
    le: first
      ? (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = +(s <= x[px]);
        }
      : (o, po, x, px, sx, s, n) => {
          for (let i = 0; i < n; i++, px += sx) o[po + i] = +(x[px] <= s);
        },
  };
}

export const IMUL_SCALAR_ROW: ScalarRow = (o, po, x, px, sx, s, n) => {
  for (let i = 0; i < n; i++, px += sx) o[po + i] = Math.imul(x[px], s);
};

export const SCALAR_ROWS_TENSOR_FIRST = scalarRows(false);
export const SCALAR_ROWS_SCALAR_FIRST = scalarRows(true);

/**
 * Φ(x) = ½·erfc(−x/√2), erfc by Numerical Recipes' Chebyshev fit (relative error < 1.2e-7
 * everywhere, the same fit the composed GELU of other backends uses), in float64.
 */
function normalCdf(x: number): number {
  const z = Math.abs(x) * Math.SQRT1_2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - 0.5 * erfc : 0.5 * erfc;
}

/** o[i] = x·Φ(x) (exact GELU; NaN propagates). */
export function geluRow(o: TypedArray, x: TypedArray): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    o[i] = v * normalCdf(v);
  }
}

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** o[i] = Φ(x) + x·φ(x), GELU's derivative. */
export function geluGradRow(o: TypedArray, x: TypedArray): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    o[i] = normalCdf(v) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
  }
}
