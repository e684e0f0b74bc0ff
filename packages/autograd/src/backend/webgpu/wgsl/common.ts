import type { DType } from '../../../dtype.js';
import { fail } from '../../../errors.js';

/** WGSL element type of a storage dtype; WebGPU has no 64-bit floats. */
export type WgslType = 'f32' | 'i32';

export function wgslType(dtype: DType): WgslType {
  if (dtype === 'float64') {
    fail(
      'DTYPE_MISMATCH',
      `float64 tensors cannot live on WebGPU: WGSL has no 64-bit floats. Create the tensor with dtype 'float32' (the default), or keep float64 work on the CPU.`,
    );
  }
  return dtype === 'int32' ? 'i32' : 'f32';
}

/** Threads per workgroup of the element-wise and row kernels. */
export const WG = 256;

/** Entry-point signature with a linear invocation id `i` that survives 2-D workgroup folding. */
export const LINEAR_MAIN = `@compute @workgroup_size(${String(WG)})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${String(WG)}u;`;

export function paramsBinding(binding: number): string {
  return `@group(0) @binding(${String(binding)}) var<storage, read> P: array<u32>;`;
}

/**
 * WGSL that turns the linear index `idx` over a (coalesced) shape of rank `rank` into one memory
 * offset per operand: `o0`, `o1`, … (or another `prefix`). Parameter layout at `base`: shape[rank], then per operand its
 * offset and strides[rank]. Rank 1 (every contiguous case after coalescing) needs no division.
 */
export function stridedOffsets(idx: string, rank: number, operands: number, base: number, prefix = 'o'): string {
  const shapeAt = (d: number): string => `P[${String(base + d)}]`;
  const operandBase = (j: number): number => base + rank + j * (rank + 1);
  const lines: string[] = [];
  const rem = `${prefix}rem`;
  for (let j = 0; j < operands; j++) lines.push(`var ${prefix}${String(j)} = P[${String(operandBase(j))}];`);
  lines.push(`var ${rem} = ${idx};`);
  for (let d = rank - 1; d >= 0; d--) {
    const c = d === 0 ? rem : `${rem} % ${shapeAt(d)}`;
    lines.push(`{ let c = ${c};`);
    for (let j = 0; j < operands; j++) lines.push(`  ${prefix}${String(j)} += c * P[${String(operandBase(j) + 1 + d)}];`);
    if (d > 0) lines.push(`  ${rem} = ${rem} / ${shapeAt(d)};`);
    lines.push('}');
  }
  return lines.join('\n  ');
}

/** Math helpers whose WGSL builtins are undefined or imprecise where PyTorch is not. */
export const MATH_HELPERS = `
// A NaN test on the bits: comparisons alone may be folded by compilers that assume no NaN.
fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
fn nan_like(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) | 0x7fc00000u); }
fn inf_like(x: f32) -> f32 { return bitcast<f32>((bitcast<u32>(x) & 0u) | 0x7f800000u); }
// WGSL's pow is exp2(b*log2(a)): undefined for a <= 0. PyTorch defines integral powers of negatives.
fn pow_(a: f32, b: f32) -> f32 {
  if (b == 0.0) { return 1.0; }
  if (b == 2.0) { return a * a; }
  if (b == 1.0) { return a; }
  if (a == 0.0) { return select(inf_like(a), 0.0, b > 0.0); }
  let r = pow(abs(a), b);
  if (a < 0.0) {
    if (floor(b) != b) { return nan_like(a); }
    if (fract(b * 0.5) != 0.0) { return -r; }
  }
  return r;
}
// tanh via exp(-2|x|) cannot overflow; near 0 the builtin is exact enough and avoids cancellation.
fn tanh_(x: f32) -> f32 {
  if (abs(x) < 0.5) { return tanh(x); }
  let e = exp(-2.0 * abs(x));
  return sign(x) * (1.0 - e) / (1.0 + e);
}
// log(1 + x) without the cancellation of 1 + x for small x (Goldberg's trick): exact where u == 1.
fn log1p_(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  if (isnan_(x) || u > 3.0e38) { return log(u); }
  return log(u) * x / (u - 1.0);
}
fn sigmoid_(x: f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
`;
