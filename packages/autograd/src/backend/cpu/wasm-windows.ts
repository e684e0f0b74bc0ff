/**
 * im2col (unfold2d) and col2im (fold2d) of float32 images on the wasm kernels: the source's storage
 * range is copied into the kernels' memory, the window rows of one channel and kernel offset, for
 * every image, are moved there by one `copy2d` call (unfold) or added by one `add2d` call (fold) without JS's float32 → float64 → float32 conversions, and the result
 * leaves with one copy. f32 additions round exactly as the JS kernel's float64 addition rounded to
 * float32 does, so results are bit-identical to it. Each function returns null, having done
 * nothing, where the wasm path does not apply; the caller then runs its JS loops.
 */
import { checkAllocation } from '../../dtype.js';
import type { View, WindowGeometry } from '../backend.js';
import { wasmHeap, wasmKernels, type WasmKernels } from './wasm-runtime.js';

/** Below this many output elements the JS loops are as fast. */
const WASM_WINDOWS_MIN = 4096;

/** [lo, lo + length) of the storage a view touches (non-negative strides only), or null. */
export function span(v: View): { lo: number; length: number } | null {
  if (v.strides.some((s) => s < 0)) return null;
  const last = v.shape.reduce((acc, d, i) => acc + (d - 1) * v.strides[i], 0);
  return { lo: v.offset, length: last + 1 };
}

export function unfold2dF32Wasm(x: View, data: Float32Array, g: WindowGeometry, channelsFirst: boolean): Float32Array | null {
  const k = wasmKernels();
  const [n, c] = x.shape;
  const [kh, kw] = g.kernel;
  const [oh, ow] = g.out;
  const l = oh * ow;
  const total = n * c * kh * kw * l;
  const range = span(x);
  if (!k || total < WASM_WINDOWS_MIN || !range || range.length > 2 * total) return null;
  checkAllocation(channelsFirst ? [c, kh * kw, n, oh, ow] : [n, c, kh * kw, oh, ow], 'float32');
  // heap (floats): [ x's range | output ]
  const outAt = range.length;
  const heap = wasmHeap(k, outAt + total);
  if (!heap) return null;
  heap.set(data.subarray(range.lo, range.lo + range.length), 0);
  unfoldInHeap(k, 0, x.strides, n, c, g, channelsFirst, outAt);
  return heap.slice(outAt, outAt + total);
}

/**
 * im2col inside the kernels' memory: the windows of an image [N, C, H, W] at heap[xAt…] (element
 * (b, ch, i, j) at xAt + b·x0 + ch·x1 + i·x2 + j·x3) written packed at heap[outAt…] as
 * [N, C, kh·kw, oh, ow], or, `channelsFirst`, [C, kh·kw, N, oh, ow].
 */
export function unfoldInHeap(
  k: WasmKernels,
  xAt: number,
  strides: readonly number[],
  n: number,
  c: number,
  g: WindowGeometry,
  channelsFirst: boolean,
  outAt: number,
): void {
  const [x0, x1, x2, x3] = strides;
  const [kh, kw] = g.kernel;
  const [oh, ow] = g.out;
  const l = oh * ow;
  const [sh, sw] = g.stride;
  const [dh, dw] = g.dilation;
  // One call per channel and kernel offset moves that offset's windows of every image (planes =
  // images): with a call per image the JS-to-wasm transitions cost more than the copying.
  const imageStep = channelsFirst ? l : c * kh * kw * l;
  for (let ch = 0; ch < c; ch++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const kk = ki * kw + kj;
        const d = channelsFirst ? (ch * kh * kw + kk) * n * l : (ch * kh * kw + kk) * l;
        const p = xAt + ch * x1 + ki * dh * x2 + kj * dw * x3;
        k.copy2d((outAt + d) * 4, ow * 4, p * 4, sh * x2 * 4, sw * x3 * 4, oh, ow, n, imageStep * 4, x0 * 4);
      }
    }
  }
}

/** col2im of g [N, C, kh·kw, oh, ow] (any strides) into a fresh [N, C, H, W]; stride-1 columns only. */
export function fold2dF32Wasm(gv: View, data: Float32Array, g: WindowGeometry): Float32Array | null {
  const k = wasmKernels();
  const [n, c] = gv.shape;
  const [kh, kw] = g.kernel;
  const [oh, ow] = g.out;
  const [h, w] = g.size;
  const total = n * c * h * w;
  const range = span(gv);
  const count = n * c * kh * kw * oh * ow;
  if (!k || g.stride[1] !== 1 || count < WASM_WINDOWS_MIN || !range || range.length > 2 * count) return null;
  checkAllocation([n, c, h, w], 'float32');
  // heap (floats): [ g's range | output ]
  const outAt = range.length;
  const heap = wasmHeap(k, outAt + total);
  if (!heap) return null;
  heap.set(data.subarray(range.lo, range.lo + range.length), 0);
  foldInHeap(k, 0, gv.strides, n, c, g, outAt);
  return heap.slice(outAt, outAt + total);
}

/**
 * col2im inside the kernels' memory: window elements g [N, C, kh·kw, oh, ow] at heap[gAt…] (strides
 * s0…s4) added into a zeroed image [N, C, H, W] written at heap[outAt…]; stride-1 columns only.
 */
export function foldInHeap(
  k: WasmKernels,
  gAt: number,
  strides: readonly number[],
  n: number,
  c: number,
  g: WindowGeometry,
  outAt: number,
): void {
  const [s0, s1, s2, s3, s4] = strides;
  const [kh, kw] = g.kernel;
  const [oh, ow] = g.out;
  const [h, w] = g.size;
  const [sh] = g.stride;
  const [dh, dw] = g.dilation;
  const heap = new Float32Array(k.memory.buffer);
  heap.fill(0, outAt, outAt + n * c * h * w);
  // One call per channel and kernel offset adds that offset's windows of every image (planes =
  // images). Each pixel still receives its window elements in (ki, kj) order, as in the JS loop.
  for (let ch = 0; ch < c; ch++) {
    const base = outAt + ch * h * w;
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const o = (base + ki * dh * w + kj * dw) * 4;
        const q = (gAt + ch * s1 + (ki * kw + kj) * s2) * 4;
        // out window (rows sh·w apart, columns adjacent) += g's [oh, ow] block, for every image
        k.add2d(o, sh * w * 4, o, sh * w * 4, 4, q, s3 * 4, s4 * 4, oh, ow, n, c * h * w * 4, c * h * w * 4, s0 * 4);
      }
    }
  }
}
