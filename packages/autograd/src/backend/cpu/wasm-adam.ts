/**
 * Adam / AdamW on the WebAssembly SIMD kernel (wasm-code.ts) for float32 parameters. The update
 * is memory-bound in JS (a square root and a division per element in float64); in f32x4 lanes it
 * is several times cheaper even with the copies in and out of the kernel's memory, which go in
 * chunks small enough to stay in cache.
 */
import type { AdamHyper } from '../backend.js';
import type { Flat } from './optim-kernels.js';
import { roundUp, wasmHeap, wasmKernels } from './wasm-runtime.js';

/** Elements per chunk: four 16 KiB arrays in flight. */
const CHUNK = 4096;

/**
 * Runs the update and returns true, or returns false (touching nothing) when the wasm kernel does
 * not apply: unavailable, a non-float32 operand, AMSGrad, or coupled weight decay (whose λ·p term
 * the kernel does not have; the JS kernel handles those).
 */
export function adamF32Wasm(p: Flat, g: Flat, m: Flat, v: Flat, n: number, h: AdamHyper): boolean {
  const k = wasmKernels();
  if (!k || h.amsgrad || (h.weightDecay !== 0 && !h.decoupled)) return false;
  const pd = p.data, gd = g.data, md = m.data, vd = v.data;
  if (!(pd instanceof Float32Array && gd instanceof Float32Array && md instanceof Float32Array && vd instanceof Float32Array)) return false;
  const stepSize = h.lr / (1 - Math.pow(h.beta1, h.step));
  const invBc2Sqrt = 1 / Math.sqrt(1 - Math.pow(h.beta2, h.step));
  const decay = h.weightDecay !== 0 ? 1 - h.lr * h.weightDecay : 1;
  const heap = wasmHeap(k, 4 * CHUNK);
  const [P, G, M, V] = [0, CHUNK, 2 * CHUNK, 3 * CHUNK];
  for (let i = 0; i < n; i += CHUNK) {
    const len = Math.min(CHUNK, n - i);
    const len4 = roundUp(len, 4);
    heap.set(pd.subarray(p.offset + i, p.offset + i + len), P);
    heap.set(gd.subarray(g.offset + i, g.offset + i + len), G);
    heap.set(md.subarray(m.offset + i, m.offset + i + len), M);
    heap.set(vd.subarray(v.offset + i, v.offset + i + len), V);
    if (len4 !== len) {
      // Padding lanes hold zeros: their update is 0 / (0 + ε) = 0, and they are not copied back.
      for (const at of [P, G, M, V]) heap.fill(0, at + len, at + len4);
    }
    k.adam(P * 4, G * 4, M * 4, V * 4, len4 / 4, h.beta1, h.beta2, 1 - h.beta1, 1 - h.beta2, stepSize, invBc2Sqrt, h.eps, decay);
    pd.set(heap.subarray(P, P + len), p.offset + i);
    md.set(heap.subarray(M, M + len), m.offset + i);
    vd.set(heap.subarray(V, V + len), v.offset + i);
  }
  return true;
}
