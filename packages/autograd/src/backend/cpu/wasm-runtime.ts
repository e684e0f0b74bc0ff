/**
 * Instantiates the kernels of wasm-code.ts once, and manages their linear memory: drivers copy
 * operands in, call a kernel, and copy results out. Everything here is synchronous; where
 * WebAssembly or its SIMD extension is missing (or compiling is forbidden) `wasmKernels()` is null
 * and callers use their JS kernels.
 */
import { kernelModuleBytes } from './wasm-code.js';

type TilesFn = (ap: number, bp: number, cp: number, mPanels: number, nPanels: number, kc: number, ldcBytes: number) => void;
type AdamFn = (
  p: number,
  g: number,
  m: number,
  v: number,
  n4: number,
  beta1: number,
  beta2: number,
  c1: number,
  c2: number,
  stepSize: number,
  invBc2Sqrt: number,
  eps: number,
  decay: number,
) => void;

type SgdFn = (p: number, g: number, b: number, n4: number, lr: number, momentum: number, oneMinusDampening: number) => void;

/** Byte offsets and strides: out, outRow, a, aRow, aCol, b, bRow, bCol; rows, cols; planes and the plane strides of out, a, b. */
type Binary2dFn = (
  out: number,
  outRow: number,
  a: number,
  aRow: number,
  aCol: number,
  b: number,
  bRow: number,
  bCol: number,
  rows: number,
  cols: number,
  planes: number,
  outPlane: number,
  aPlane: number,
  bPlane: number,
) => void;

export interface WasmKernels {
  memory: WebAssembly.Memory;
  tilesAdd: TilesFn;
  tilesSet: TilesFn;
  adam: AdamFn;
  sgd: SgdFn;
  sgdMomentum: SgdFn;
  add2d: Binary2dFn;
  sub2d: Binary2dFn;
  mul2d: Binary2dFn;
  div2d: Binary2dFn;
  /** (out, outRow, a, aRow, aCol, rows, cols, planes, outPlane, aPlane), byte offsets and strides: see wasm-code.ts copy2dFunction. */
  copy2d: (
    out: number,
    outRow: number,
    a: number,
    aRow: number,
    aCol: number,
    rows: number,
    cols: number,
    planes: number,
    outPlane: number,
    aPlane: number,
  ) => void;
  /** (dst, src, colStride bytes, kc, panels): see wasm-code.ts packBT8Function. */
  packBT8: (dst: number, src: number, colStride: number, kc: number, panels: number) => void;
  /** (dst, src, rowStride bytes, kc, panels): see wasm-code.ts packB8Function. */
  packB8: (dst: number, src: number, rowStride: number, kc: number, panels: number) => void;
}

let kernels: WasmKernels | null | undefined;

function load(): WasmKernels | null {
  if (kernels !== undefined) return kernels;
  kernels = null;
  try {
    const bytes = kernelModuleBytes();
    if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) {
      kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as WasmKernels;
    }
  } catch {
    kernels = null; // e.g. a CSP that forbids compiling WebAssembly: the JS kernels take over.
  }
  return kernels;
}

let enabled = true;

/** For tests and the benchmark: force the JS kernels (false) or allow the wasm ones (true). */
export function setWasmKernelsEnabled(on: boolean): void {
  enabled = on;
}

/** The compiled kernels, or null when unavailable or disabled. */
export function wasmKernels(): WasmKernels | null {
  return enabled ? load() : null;
}

let heap = new Float32Array(0);

/**
 * A float32 view of the kernels' memory holding at least `floats` elements (grown as needed, never
 * shrunk), or null when it cannot grow that far (wasm32 memory tops out at a few GiB): callers then
 * fall back to their JS kernels.
 */
export function wasmHeap(k: WasmKernels, floats: number): Float32Array | null {
  const bytes = floats * 4;
  const have = k.memory.buffer.byteLength;
  if (have < bytes) {
    try {
      k.memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return null;
    }
  }
  // Growing detaches old views; re-view whenever the buffer changed.
  if (heap.buffer !== k.memory.buffer) heap = new Float32Array(k.memory.buffer);
  return heap;
}

export function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}
