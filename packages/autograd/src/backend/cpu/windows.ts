/**
 * The CPU backend's window kernels over [N, C, H, W] images: col2im (fold2d), im2col (unfold2d) and
 * max-pooling's argmax. Each reads its image through the view's strides from the storage array it
 * is given and returns a fresh array, which CpuBackend wraps as a storage. Float32 fold/unfold go
 * to the wasm kernels first (wasm-windows.ts) and fall back to the JS loops here.
 */
import { allocTyped, type TypedArray } from '../../dtype.js';
import type { View, WindowGeometry } from '../backend.js';
import { fold2dF32Wasm, unfold2dF32Wasm } from './wasm-windows.js';

/** col2im: `g` [N, C, kh·kw, oh, ow] added into a fresh [N, C, H, W] image (Backend.fold2d); `src` is g's storage. */
export function fold2dKernel(g: View, src: TypedArray, geometry: WindowGeometry): TypedArray {
  const [n, c] = g.shape;
  const [kh, kw] = geometry.kernel;
  const [oh, ow] = geometry.out;
  const [sh, sw] = geometry.stride;
  const [dh, dw] = geometry.dilation;
  const [h, w] = geometry.size;
  const dtype = g.storage.dtype;
  // g [N, C, kh·kw, oh, ow] is read through its strides (conv2d's gradient comes as a permuted
  // view of a [C, kh·kw, N, oh, ow] matrix), so no packed copy of it is made first.
  if (src instanceof Float32Array && n * c > 0) {
    const viaWasm = fold2dF32Wasm(g, src, geometry);
    if (viaWasm) return viaWasm;
  }
  const [s0, s1, s2, s3, s4] = g.strides;
  const out = allocTyped(dtype, n * c * h * w, [n, c, h, w]);
  // Image-major unless g is channel-major ([C, kh·kw, N, …] underneath): then the images of a
  // channel come next to each other and g is read in its memory order.
  const channelMajor = s0 < s1;
  for (let outer = 0; outer < n * c; outer++) {
    const b = channelMajor ? outer % n : Math.floor(outer / c);
    const ch = channelMajor ? Math.floor(outer / n) : outer % c;
    {
      const base = (b * c + ch) * h * w;
      const q0 = g.offset + b * s0 + ch * s1;
      for (let ki = 0; ki < kh; ki++) {
        for (let kj = 0; kj < kw; kj++) {
          const qk = q0 + (ki * kw + kj) * s2;
          for (let i = 0; i < oh; i++) {
            let o = base + (i * sh + ki * dh) * w + kj * dw;
            let q = qk + i * s3;
            for (let j = 0; j < ow; j++, o += sw, q += s4) out[o] += src[q];
          }
        }
      }
    }
  }
  return out;
}

/** im2col: the windows of x [N, C, H, W] (Backend.unfold2d); `src` is x's storage. */
export function unfold2dKernel(x: View, src: TypedArray, geometry: WindowGeometry, channelsFirst: boolean): TypedArray {
  const [n, c] = x.shape;
  const [kh, kw] = geometry.kernel;
  const [oh, ow] = geometry.out;
  const [sh, sw] = geometry.stride;
  const [dh, dw] = geometry.dilation;
  const [x0, x1, x2, x3] = x.strides;
  const dtype = x.storage.dtype;
  if (src instanceof Float32Array && n * c > 0) {
    const viaWasm = unfold2dF32Wasm(x, src, geometry, channelsFirst);
    if (viaWasm) return viaWasm;
  }
  const l = oh * ow;
  const out = allocTyped(dtype, n * c * kh * kw * l, channelsFirst ? [c, kh * kw, n, oh, ow] : [n, c, kh * kw, oh, ow]);
  // Written in the output's memory order; each window row is read with x's column stride.
  for (let outer = 0; outer < n * c; outer++) {
    const ch = channelsFirst ? Math.floor(outer / n) : outer % c;
    const b = channelsFirst ? outer % n : Math.floor(outer / c);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        const kk = ki * kw + kj;
        let d = channelsFirst ? ((ch * kh * kw + kk) * n + b) * l : ((b * c + ch) * kh * kw + kk) * l;
        const p0 = x.offset + b * x0 + ch * x1 + ki * dh * x2 + kj * dw * x3;
        for (let i = 0; i < oh; i++) {
          let p = p0 + i * sh * x2;
          for (let j = 0; j < ow; j++, p += sw * x3) out[d++] = src[p];
        }
      }
    }
  }
  return out;
}

/** int32 [N, C, oh·ow], the flat index of each window's first maximum (Backend.maxPool2dIndices); `src` is x's storage. */
export function maxPool2dIndicesKernel(x: View, src: TypedArray, geometry: WindowGeometry, padding: [number, number]): TypedArray {
  const [n, c, h, w] = x.shape;
  const [kh, kw] = geometry.kernel;
  const [oh, ow] = geometry.out;
  const [sh, sw] = geometry.stride;
  const [dh, dw] = geometry.dilation;
  const [ph, pw] = padding;
  const [x0, x1, x2, x3] = x.strides;
  const out = allocTyped('int32', n * c * oh * ow, [n, c, oh * ow]);
  let q = 0;
  if (ph === 0 && pw === 0) {
    // No padding: every window lies inside the image, so no bounds checks. The window's pixels as
    // offsets from its first one (storage and flat index), in PyTorch's scan order.
    const kk = kh * kw;
    const offs = new Int32Array(kk);
    const flat = new Int32Array(kk);
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        offs[ki * kw + kj] = ki * dh * x2 + kj * dw * x3;
        flat[ki * kw + kj] = ki * dh * w + kj * dw;
      }
    }
    if (kk === 4) return maxPool4Indices(x, src, geometry, offs, flat, out);
    for (let b = 0; b < n; b++) {
      for (let ch = 0; ch < c; ch++) {
        const plane = x.offset + b * x0 + ch * x1;
        for (let i = 0; i < oh; i++) {
          for (let j = 0; j < ow; j++, q++) {
            const p0 = plane + i * sh * x2 + j * sw * x3;
            let best = src[p0];
            let at = 0;
            for (let t = 1; t < kk && best === best; t++) {
              const v = src[p0 + offs[t]];
              if (v > best || v !== v) {
                best = v;
                at = t;
              }
            }
            out[q] = i * sh * w + j * sw + flat[at];
          }
        }
      }
    }
    return out;
  }
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const plane = x.offset + b * x0 + ch * x1;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++, q++) {
          // As PyTorch's kernel: start from the first pixel inside the image, move on a strictly
          // larger value or a NaN (which then stays).
          let best = -Infinity;
          let at = -1;
          for (let ki = 0; ki < kh && best === best; ki++) {
            const ih = i * sh - ph + ki * dh;
            if (ih < 0 || ih >= h) continue;
            for (let kj = 0; kj < kw; kj++) {
              const iw = j * sw - pw + kj * dw;
              if (iw < 0 || iw >= w) continue;
              const v = src[plane + ih * x2 + iw * x3];
              if (at < 0 || v > best || v !== v) {
                best = v;
                at = ih * w + iw;
                if (v !== v) break;
              }
            }
          }
          out[q] = at;
        }
      }
    }
  }
  return out;
}

/** 1 where b should replace a as a window's maximum: strictly larger, or a NaN where a is none. */
function beats(b: number, a: number): number {
  return +(b > a) | (+(b !== b) & +(a === a));
}

/**
 * maxPool2dIndicesKernel for windows of 4 pixels without padding (2x2, the common pooling) as a
 * tournament without data-dependent branches: the first maximum (or first NaN) of pixels 0-1 and
 * of 2-3, then of those two, which is the same pixel the sequential scan picks. On activations each
 * comparison goes either way at random; the branches of the scan were mispredicted often enough
 * to cost ~25 ns per window, about 40% more than this.
 */
function maxPool4Indices(x: View, src: TypedArray, g: WindowGeometry, offs: Int32Array, flat: Int32Array, out: TypedArray): TypedArray {
  const [n, c, , w] = x.shape;
  const [oh, ow] = g.out;
  const [sh, sw] = g.stride;
  const [x0, x1, x2, x3] = x.strides;
  const [o1, o2, o3] = [offs[1], offs[2], offs[3]];
  let q = 0;
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      const plane = x.offset + b * x0 + ch * x1;
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++, q++) {
          const p0 = plane + i * sh * x2 + j * sw * x3;
          const first = 1 & -beats(src[p0 + o1], src[p0]);
          const second = 2 | (1 & -beats(src[p0 + o3], src[p0 + o2]));
          const at = first ^ ((first ^ second) & -beats(src[p0 + offs[second]], src[p0 + offs[first]]));
          out[q] = i * sh * w + j * sw + flat[at];
        }
      }
    }
  }
  return out;
}
