import { LINEAR_MAIN, MATH_HELPERS, paramsBinding, stridedOffsets, type WgslType } from './common.js';

/**
 * Reductions (sum, max) over a set of dims. The input is walked as kept dims × reduced dims, each
 * group coalesced separately. Parameter layout: outN, R (reduced count), kept shape[rk], input
 * offset, kept strides[rk], reduced shape[rr], 0, reduced strides[rr]. Output is contiguous.
 */
export interface ReduceSpec {
  readonly op: 'sum' | 'max' | 'min';
  readonly inType: WgslType;
  readonly outType: WgslType;
  readonly keptRank: number;
  readonly reducedRank: number;
  /** One workgroup cooperates on each output (long reductions) instead of one thread per output. */
  readonly cooperative: boolean;
}

/**
 * An int32 sum that PyTorch would widen to int64: the kernel adds in 64 bits (two u32 words, lo
 * and hi, with the carry), writes the low word (the wrapped int32, as before), and where the
 * 64-bit total does not fit in int32 it counts the output in the flag buffer F (binding 2): F[0]
 * the number of such outputs, F[1], F[2] lo and hi of the first one recorded. The backend reads
 * F back before the next read from the device and throws, as the CPU backend throws at once.
 * Bindings: Y, X, F, P.
 */
export function int32SumShader(keptRank: number, reducedRank: number, cooperative: boolean): string {
  const kept = stridedOffsets('i', keptRank, 1, 2, 'k');
  const reduced = stridedOffsets('r', reducedRank, 1, 2 + keptRank + 1 + keptRank, 'q');
  const head = `@group(0) @binding(0) var<storage, read_write> Y: array<i32>;
@group(0) @binding(1) var<storage, read> X: array<i32>;
@group(0) @binding(2) var<storage, read_write> F: array<atomic<u32>>;
${paramsBinding(3)}
// 64-bit two's complement (lo, hi) plus a sign-extended int32, and plus another (lo, hi).
fn addI32(a: vec2<u32>, x: i32) -> vec2<u32> {
  let lo = a.x + bitcast<u32>(x);
  return vec2<u32>(lo, a.y + select(0u, 0xffffffffu, x < 0) + select(0u, 1u, lo < a.x));
}
fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}
fn storeSum(i: u32, acc: vec2<u32>) {
  Y[i] = bitcast<i32>(acc.x);
  // It fits in int32 exactly when hi is lo's sign extension.
  if (acc.y != select(0u, 0xffffffffu, bitcast<i32>(acc.x) < 0)) {
    if (atomicAdd(&F[0], 1u) == 0u) { atomicStore(&F[1], acc.x); atomicStore(&F[2], acc.y); }
  }
}`;
  if (!cooperative) {
    return `${head}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  ${kept}
  var acc = vec2<u32>(0u, 0u);
  for (var r = 0u; r < P[1]; r++) {
    ${reduced}
    acc = addI32(acc, X[k0 + q0]);
  }
  storeSum(i, acc);
}`;
  }
  const wg = String(REDUCE_WG);
  return `${head}
var<workgroup> part: array<vec2<u32>, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = wid.x + wid.y * nwg.x;
  if (i >= P[0]) { return; }
  ${kept}
  var acc = vec2<u32>(0u, 0u);
  for (var r = lid.x; r < P[1]; r += ${wg}u) {
    ${reduced}
    acc = addI32(acc, X[k0 + q0]);
  }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var w = ${String(REDUCE_WG / 2)}u; w > 0u; w = w >> 1u) {
    if (lid.x < w) { part[lid.x] = add64(part[lid.x], part[lid.x + w]); }
    workgroupBarrier();
  }
  if (lid.x == 0u) { storeSum(i, part[0]); }
}`;
}

export const REDUCE_WG = 128;

function reducedBase(s: ReduceSpec): number {
  return 2 + s.keptRank + 1 + s.keptRank;
}

export function reduceShader(s: ReduceSpec): string {
  const T: WgslType = s.inType === 'i32' && s.outType === 'i32' ? 'i32' : 'f32';
  const init =
    s.op === 'sum'
      ? `${T}(0)`
      : s.op === 'max'
        ? T === 'f32'
          ? '-inf_like(0.0)'
          : 'bitcast<i32>(0x80000000u)'
        : T === 'f32'
          ? 'inf_like(0.0)'
          : 'bitcast<i32>(0x7fffffffu)';
  const cmp = s.op === 'min' ? '<' : '>';
  // max propagates NaN (PyTorch; the CPU's `if (x > m || x !== x) m = x`): a NaN b wins, a NaN a stays.
  const combine = (a: string, b: string): string =>
    s.op === 'sum'
      ? `${a} + ${b}`
      : T === 'f32'
        ? `select(${a}, ${b}, ${b} ${cmp} ${a} || isnan_(${b}))`
        : `select(${a}, ${b}, ${b} ${cmp} ${a})`;
  const kept = stridedOffsets('i', s.keptRank, 1, 2, 'k');
  const reduced = stridedOffsets('r', s.reducedRank, 1, reducedBase(s), 'q');
  const head = `${MATH_HELPERS}
@group(0) @binding(0) var<storage, read_write> Y: array<${s.outType}>;
@group(0) @binding(1) var<storage, read> X: array<${s.inType}>;
${paramsBinding(2)}`;
  if (!s.cooperative) {
    return `${head}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  ${kept}
  var acc = ${init};
  for (var r = 0u; r < P[1]; r++) {
    ${reduced}
    acc = ${combine('acc', `${T}(X[k0 + q0])`)};
  }
  Y[i] = ${s.outType}(acc);
}`;
  }
  const wg = String(REDUCE_WG);
  return `${head}
var<workgroup> part: array<${T}, ${wg}>;
@compute @workgroup_size(${wg})
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = wid.x + wid.y * nwg.x;
  if (i >= P[0]) { return; }
  ${kept}
  var acc = ${init};
  for (var r = lid.x; r < P[1]; r += ${wg}u) {
    ${reduced}
    acc = ${combine('acc', `${T}(X[k0 + q0])`)};
  }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var w = ${String(REDUCE_WG / 2)}u; w > 0u; w = w >> 1u) {
    if (lid.x < w) { part[lid.x] = ${combine('part[lid.x]', 'part[lid.x + w]')}; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { Y[i] = ${s.outType}(part[0]); }
}`;
}
