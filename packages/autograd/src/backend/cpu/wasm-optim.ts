/**
 * Optimizer updates on the WebAssembly SIMD kernels (wasm-code.ts) for float32 parameters. In JS
 * these loops cost a few ns per element (float64 arithmetic, and for Adam a square root and a
 * division); in f32x4 lanes they are several times cheaper even with the copies in and out of the
 * kernels' memory, which go in chunks small enough to stay in cache. Each function returns false,
 * touching nothing, when its kernel does not apply, and the caller runs the JS kernel.
 */
import type { TypedArray } from '../../dtype.js';
import type { AdamHyper, SgdHyper } from '../backend.js';
import type { Flat } from './optim-kernels.js';
import { roundUp, wasmHeap, wasmKernels, type WasmKernels } from './wasm-runtime.js';

/** Elements per chunk: at most four 16 KiB arrays in flight. */
const CHUNK = 4096;

function allFloat32(...arrays: TypedArray[]): boolean {
  return arrays.every((a) => a instanceof Float32Array);
}

/**
 * Copies chunk [i, i+len) of every operand into consecutive CHUNK-sized slots of the heap
 * (zero-padded to a multiple of 4), runs `kernel(len4 / 4)`, and copies back the operands marked
 * as outputs. Padding lanes compute on zeros and are never copied back.
 */
function chunked(k: WasmKernels, operands: readonly Flat[], outputs: readonly boolean[], n: number, kernel: (n4: number) => void): boolean {
  const heap = wasmHeap(k, operands.length * CHUNK);
  if (!heap) return false;
  for (let i = 0; i < n; i += CHUNK) {
    const len = Math.min(CHUNK, n - i);
    const len4 = roundUp(len, 4);
    operands.forEach((o, s) => {
      heap.set(o.data.subarray(o.offset + i, o.offset + i + len), s * CHUNK);
      if (len4 !== len) heap.fill(0, s * CHUNK + len, s * CHUNK + len4);
    });
    kernel(len4 / 4);
    operands.forEach((o, s) => {
      if (outputs[s]) o.data.set(heap.subarray(s * CHUNK, s * CHUNK + len), o.offset + i);
    });
  }
  return true;
}

/** Adam and AdamW; not AMSGrad, nor coupled weight decay (the kernel has no λ·p gradient term). */
export function adamF32Wasm(p: Flat, g: Flat, m: Flat, v: Flat, n: number, h: AdamHyper): boolean {
  const k = wasmKernels();
  if (!k || h.amsgrad || (h.weightDecay !== 0 && !h.decoupled) || !allFloat32(p.data, g.data, m.data, v.data)) return false;
  const stepSize = h.lr / (1 - Math.pow(h.beta1, h.step));
  const invBc2Sqrt = 1 / Math.sqrt(1 - Math.pow(h.beta2, h.step));
  const decay = h.weightDecay !== 0 ? 1 - h.lr * h.weightDecay : 1;
  const B = CHUNK * 4; // bytes per slot
  return chunked(k, [p, g, m, v], [true, false, true, true], n, (n4) => {
    k.adam(0, B, 2 * B, 3 * B, n4, h.beta1, h.beta2, 1 - h.beta1, 1 - h.beta2, stepSize, invBc2Sqrt, h.eps, decay);
  });
}

/** SGD without weight decay: plain, or with (non-Nesterov) momentum after its first step. */
export function sgdF32Wasm(p: Flat, g: Flat, buf: Flat | null, n: number, h: SgdHyper): boolean {
  const k = wasmKernels();
  if (!k || h.weightDecay !== 0 || (buf && (h.nesterov || h.firstStep)) || !allFloat32(p.data, g.data, ...(buf ? [buf.data] : [])))
    return false;
  const B = CHUNK * 4;
  return buf
    ? chunked(k, [p, g, buf], [true, false, true], n, (n4) => {
        k.sgdMomentum(0, B, 2 * B, n4, h.lr, h.momentum, 1 - h.dampening);
      })
    : chunked(k, [p, g], [true, false], n, (n4) => {
        k.sgd(0, B, 0, n4, h.lr, 0, 1);
      });
}
