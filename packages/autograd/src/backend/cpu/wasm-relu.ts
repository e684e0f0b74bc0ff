/**
 * relu and its backward on float32 as WebAssembly SIMD kernels, four lanes at a time, in a module
 * of their own (with its own memory) beside wasm-code.ts's, which stays the small GEMM/optimizer
 * module it is. In JS the branch-free relu on bit patterns (rows.ts) still costs ~2 ns per element;
 * here it is one compare and one and-not per four elements, plus a copy in and one out.
 *
 * Semantics are those of the JS kernels, bit for bit: relu maps every x <= 0 (-0 and -∞ included)
 * to +0 and keeps anything else (positive, NaN with its payload); the backward keeps g where
 * y <= 0 is false (y > 0 or NaN) and gives +0 elsewhere, whatever g is (PyTorch's threshold_backward).
 * `f32x4.le` is false for a NaN, so both are `x AND NOT (x <= 0)` on the bits.
 */
import { checkAllocation } from '../../dtype.js';
import { Body, encodeModule, I32, op, simd } from './wasm-encoder.js';
import { roundUp, wasmKernels } from './wasm-runtime.js';

/** Below this many elements the JS loops are as fast as the copies in and out. */
export const WASM_RELU_MIN = 4096;

/**
 * out[i] = a[i] AND NOT (m[i] <= 0) over n4 groups of four floats (byte offsets out, a, m): relu
 * when a = m = x, its backward when a = g, m = y.
 */
function maskedFunction(): Body {
  // params: 0 out, 1 a, 2 m, 3 n4
  const [OUT, A, M, N4] = [0, 1, 2, 3];
  const f = new Body();
  f.doWhile(
    () => {
      f.get(OUT).get(A).mem(simd.v128Load, 0, 0);
      f.get(M)
        .mem(simd.v128Load, 0, 0)
        .simd(simd.v128Const, ...new Array<number>(16).fill(0))
        .simd(simd.f32x4Le)
        .simd(simd.v128AndNot)
        .mem(simd.v128Store, 0, 0);
      for (const ptr of [OUT, A, M]) f.get(ptr).i32(16).emit(op.i32Add).set(ptr);
    },
    () => f.get(N4).i32(1).emit(op.i32Sub).tee(N4),
  );
  return f;
}

export function reluModuleBytes(): Uint8Array<ArrayBuffer> {
  return encodeModule([{ name: 'masked', params: [I32, I32, I32, I32], locals: [], body: maskedFunction() }], 1);
}

interface ReluKernels {
  memory: WebAssembly.Memory;
  masked: (out: number, a: number, m: number, n4: number) => void;
}

let kernels: ReluKernels | null | undefined;
let heap = new Float32Array(0);

/** The module, or null where wasm is unavailable or disabled (the same switch as wasm-runtime.ts's). */
function reluKernels(): ReluKernels | null {
  if (!wasmKernels()) return null;
  if (kernels === undefined) {
    try {
      kernels = new WebAssembly.Instance(new WebAssembly.Module(reluModuleBytes()), {}).exports as unknown as ReluKernels;
    } catch {
      kernels = null;
    }
  }
  return kernels;
}

/** A view of the module's memory with room for `floats` floats, or null when it cannot grow. */
function reluHeap(k: ReluKernels, floats: number): Float32Array | null {
  const have = k.memory.buffer.byteLength;
  if (have < floats * 4) {
    try {
      k.memory.grow(Math.ceil((floats * 4 - have) / 65536));
    } catch {
      return null;
    }
  }
  if (heap.buffer !== k.memory.buffer) heap = new Float32Array(k.memory.buffer);
  return heap;
}

/**
 * relu (m = a) or its backward (a = g, m = y) of n contiguous floats at a[aOffset…] and
 * m[mOffset…], as a fresh array; null, having done nothing, where the kernel does not apply.
 */
export function maskedF32Wasm(a: Float32Array, aOffset: number, m: Float32Array, mOffset: number, n: number): Float32Array | null {
  const k = n >= WASM_RELU_MIN ? reluKernels() : null;
  if (!k) return null;
  checkAllocation(n, 'float32');
  const n4 = roundUp(n, 4);
  const same = a === m && aOffset === mOffset;
  // heap (floats): [ out | a | m (unless m is a) ], each padded to whole groups of four
  const h = reluHeap(k, (same ? 2 : 3) * n4);
  if (!h) return null;
  h.set(a.subarray(aOffset, aOffset + n), n4);
  if (!same) h.set(m.subarray(mOffset, mOffset + n), 2 * n4);
  k.masked(0, n4 * 4, (same ? n4 : 2 * n4) * 4, n4 / 4);
  return h.slice(0, n);
}
