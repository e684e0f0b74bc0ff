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
