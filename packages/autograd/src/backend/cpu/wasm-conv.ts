/**
 * conv2d (groups 1) of float32 on the wasm kernels with the windows kept in the kernels' memory.
 * Composed from unfold2d and matmul, the windows matrix [C·kh·kw, N·oh·ow] (9 times the image)
 * was written out to a fresh JS array, copied back in for the GEMM, and in the backward its
 * gradient went out and back in once more for col2im: four passes over the largest arrays of a
 * small CNN's step, two of them fresh allocations that the page faults and the GC then pay for.
 * Here the image goes in, is unfolded there, multiplied there, and only the result comes out (the
 * output with its channel permutation and bias applied in the same pass; in the backward the
 * weight gradient and the col2im-ed image gradient).
 *
 * Every step is the composition's own kernel on the same operands in the same order (the GEMM's
 * blocking, packing and tiles, f32 bias addition, col2im's (ki, kj) order per pixel), so results
 * are bit-identical to it. Each function returns null, having done nothing, where it does not
 * apply (no wasm, a product too small for the wasm GEMM, columns strided in col2im, a view whose
 * storage range is far larger than it); the caller then composes unfold2d and matmul.
 */
import { checkAllocation, type TypedArray } from '../../dtype.js';
import type { View, WindowGeometry } from '../backend.js';
import type { Flat } from './optim-kernels.js';
import { WASM_MIN_MACS } from './matmul.js';
import { MR, NR } from './wasm-code.js';
import { gemmInHeap, gemmPackFloats, type Strided } from './wasm-gemm.js';
import { roundUp, wasmHeap, wasmKernels } from './wasm-runtime.js';
import { foldInHeap, span, unfoldInHeap } from './wasm-windows.js';

/** The dimensions of a convolution: batch, channels in/out, window size K = C·kh·kw, L = oh·ow. */
interface Dims {
  n: number;
  c: number;
  o: number;
  kk: number;
  l: number;
}

function dimsOf(xShape: readonly number[], o: number, g: WindowGeometry): Dims {
  const [n, c] = xShape;
  return { n, c, o, kk: c * g.kernel[0] * g.kernel[1], l: g.out[0] * g.out[1] };
}

/** Whether the fused path applies: the same test as the composed GEMMs' wasm choice, and ranges worth copying. */
function applies(d: Dims, ranges: readonly ({ length: number } | null)[], limit: number): boolean {
  return d.o * d.kk * d.n * d.l >= WASM_MIN_MACS && ranges.every((r) => r !== null && r.length <= limit);
}

/**
 * y [N, O, oh, ow] = the windows of x (the padded image; `xd` its storage) times `w` [O, K]
 * (+ `bias` [O], element i at bias.data[bias.offset + i·bias.stride]).
 */
export function conv2dForwardF32Wasm(
  x: View,
  xd: Float32Array,
  w: Strided<Float32Array>,
  bias: { data: Float32Array; offset: number; stride: number } | null,
  o: number,
  g: WindowGeometry,
): Float32Array | null {
  const k = wasmKernels();
  const d = dimsOf(x.shape, o, g);
  const { n, kk, l } = d;
  const nl = n * l;
  const range = span(x);
  if (!k || !range || !applies(d, [range], 2 * kk * nl)) return null;
  checkAllocation([n, o, g.out[0], g.out[1]], 'float32');
  // heap (floats): [ x's range | windows [K, N·L] | C [O, N·L] padded | bias | y | packing ]
  const colsAt = range.length;
  const cAt = colsAt + kk * nl;
  const nPad = roundUp(nl, NR);
  const biasAt = cAt + roundUp(o, MR) * nPad;
  const yAt = biasAt + o;
  const packAt = yAt + n * o * l;
  const h = wasmHeap(k, packAt + gemmPackFloats(o, kk, nl));
  if (!h) return null;
  h.set(xd.subarray(range.lo, range.lo + range.length), 0);
  unfoldInHeap(k, 0, x.strides, n, d.c, g, true, colsAt);
  gemmInHeap(k, h, w, { at: colsAt, rowStride: nl, colStride: 1 }, o, kk, nl, packAt, cAt);
  // y[b, i, t] = C[i, b·L + t] (+ bias[i]): planes are images, rows channels, columns pixels.
  if (bias) {
    for (let i = 0; i < o; i++) h[biasAt + i] = bias.data[bias.offset + i * bias.stride];
    k.add2d(yAt * 4, l * 4, cAt * 4, nPad * 4, 4, biasAt * 4, 4, 0, o, l, n, o * l * 4, l * 4, 0);
  } else {
    k.copy2d(yAt * 4, l * 4, cAt * 4, nPad * 4, 4, o, l, n, o * l * 4, l * 4);
  }
  return h.slice(yAt, yAt + n * o * l);
}

/**
 * The gradients of conv2dForwardF32Wasm's product for y's gradient `gv` [N, O, oh, ow], the image
 * x being of `xShape`: the padded image's [N, C, H, W] when `w` is given, the weight's [O, K] when
 * `x` (the saved image and its storage) is.
 */
export function conv2dBackwardF32Wasm(
  gv: View,
  gd: Float32Array,
  x: { view: View; data: Float32Array } | null,
  w: Strided<Float32Array> | null,
  xShape: readonly number[],
  g: WindowGeometry,
): { dx: Float32Array | null; dw: Float32Array | null } | null {
  const k = wasmKernels();
  const o = gv.shape[1];
  const d = dimsOf(xShape, o, g);
  const { n, c, kk, l } = d;
  const nl = n * l;
  const [h0, w0] = g.size;
  const xRange = x ? span(x.view) : { lo: 0, length: 0 };
  const gRange = span(gv);
  // y's gradient is read as [O][N][oh·ow]: its two pixel dims must merge into one stride.
  const mergeable = gv.strides[2] === g.out[1] * gv.strides[3];
  if (!k || g.stride[1] !== 1 || !mergeable || !xRange || !gRange || !applies(d, [xRange, gRange], 2 * kk * nl)) return null;
  checkAllocation([n, c, h0, w0], 'float32');
  // heap (floats): [ x's range | g's range | g as [O, N·L] | windows [K, N·L] | dW [O, K] padded |
  // dWindows [K, N·L] padded | dx [N, C, H, W] | packing ]
  const gAt = xRange.length;
  const g2At = gAt + gRange.length;
  const colsAt = g2At + o * nl;
  const dwAt = colsAt + kk * nl;
  const kPad = roundUp(kk, NR);
  const dColsAt = dwAt + roundUp(o, MR) * kPad;
  const nPad = roundUp(nl, NR);
  const dxAt = dColsAt + roundUp(kk, MR) * nPad;
  const packAt = dxAt + n * c * h0 * w0;
  const h = wasmHeap(k, packAt + Math.max(gemmPackFloats(o, nl, kk), gemmPackFloats(kk, o, nl)));
  if (!h) return null;
  h.set(gd.subarray(gRange.lo, gRange.lo + gRange.length), gAt);
  // g2[i, b·L + t] = g[b, i, t]: planes are output channels, rows images, columns pixels.
  k.copy2d(g2At * 4, l * 4, gAt * 4, gv.strides[0] * 4, gv.strides[3] * 4, n, l, o, nl * 4, gv.strides[1] * 4);
  const g2 = { data: h, offset: g2At, rowStride: nl, colStride: 1 };
  let dw: Float32Array | null = null;
  if (x) {
    // dW = g2 · windowsᵀ, the windows unfolded again from the saved image.
    h.set(x.data.subarray(xRange.lo, xRange.lo + xRange.length), 0);
    unfoldInHeap(k, 0, x.view.strides, n, c, g, true, colsAt);
    gemmInHeap(k, h, g2, { at: colsAt, rowStride: 1, colStride: nl }, o, nl, kk, packAt, dwAt);
    dw = new Float32Array(o * kk);
    for (let i = 0; i < o; i++) dw.set(h.subarray(dwAt + i * kPad, dwAt + i * kPad + kk), i * kk);
  }
  let dx: Float32Array | null = null;
  if (w) {
    // dWindows = Wᵀ · g2, then col2im of it read as [N, C, kh·kw, oh, ow] through its strides.
    const wt = { data: w.data, offset: w.offset, rowStride: w.colStride, colStride: w.rowStride };
    gemmInHeap(k, h, wt, { at: g2At, rowStride: nl, colStride: 1 }, kk, o, nl, packAt, dColsAt);
    const khw = g.kernel[0] * g.kernel[1];
    foldInHeap(k, dColsAt, [l, khw * nPad, nPad, g.out[1], 1], n, c, g, dxAt);
    dx = h.slice(dxAt, dxAt + n * c * h0 * w0);
  }
  return { dx, dw };
}

/** A float32 weight [O, C, kh, kw] (`f` its contiguous data or a packed copy) as the matrix [O, C·kh·kw]. */
function weightMatrix(weight: View, f: Flat): Strided<Float32Array> | null {
  if (!(f.data instanceof Float32Array)) return null;
  return { data: f.data, offset: f.offset, rowStride: weight.shape[1] * weight.shape[2] * weight.shape[3], colStride: 1 };
}

/** Backend.conv2dForward for the CPU (`xd`, `bd`: the storages' arrays, `wf`: the weight's data): float32 only. */
export function conv2dForwardKernel(
  x: View,
  xd: TypedArray,
  weight: View,
  wf: Flat,
  bias: View | null,
  bd: TypedArray | null,
  g: WindowGeometry,
): Float32Array | null {
  const w = weightMatrix(weight, wf);
  if (!(xd instanceof Float32Array) || !w || (bias && !(bd instanceof Float32Array))) return null;
  const b = bias && bd instanceof Float32Array ? { data: bd, offset: bias.offset, stride: bias.strides[0] } : null;
  return conv2dForwardF32Wasm(x, xd, w, b, weight.shape[0], g);
}

/** Backend.conv2dBackward for the CPU (`gd`, `xd`: the storages' arrays, `wf`: the weight's data): float32 only. */
export function conv2dBackwardKernel(
  gv: View,
  gd: TypedArray,
  x: View | null,
  xd: TypedArray | null,
  weight: View | null,
  wf: Flat | null,
  xShape: readonly number[],
  g: WindowGeometry,
): { dx: Float32Array | null; dw: Float32Array | null } | null {
  const w = weight && wf ? weightMatrix(weight, wf) : null;
  if (!(gd instanceof Float32Array) || (weight && !w) || (x && !(xd instanceof Float32Array))) return null;
  return conv2dBackwardF32Wasm(gv, gd, x && xd instanceof Float32Array ? { view: x, data: xd } : null, w, xShape, g);
}
