import { paramsBinding, type WgslType } from './common.js';

/** Square output tiles a workgroup may compute: small ones waste less on thin or small products. */
export type MatmulTile = 32 | 64;
/** K slice per shared-memory stage, and outputs per thread along each axis (PER x PER). */
const BK = 16;
const PER = 4;

/**
 * Batched matmul Y[z] = A[z] · B[z] with A, B arbitrary strided views (transposed views and
 * broadcast batch dims read in place). Each workgroup stages a TILE×BK slice of A and a BK×TILE
 * slice of B in workgroup memory; each of its (TILE/PER)² threads accumulates a PER×PER block in
 * registers, rows and columns spaced TILE/PER apart so neighbouring threads write neighbouring outputs.
 * P: M, K, N, batch shape[rb], A (offset, batch strides[rb], row stride, col stride), B (same).
 */
export function matmulShader(T: WgslType, batchRank: number, TILE: MatmulTile): string {
  const THREADS = TILE / PER;
  const rb = batchRank;
  const aBase = 3 + rb;
  const bBase = aBase + rb + 3;
  const batch: string[] = [];
  for (let d = rb - 1; d >= 0; d--) {
    batch.push(`{ let c = ${d === 0 ? 'rem' : `rem % P[${String(3 + d)}]`};`);
    batch.push(`  aBase += c * P[${String(aBase + 1 + d)}]; bBase += c * P[${String(bBase + 1 + d)}];`);
    if (d > 0) batch.push(`  rem = rem / P[${String(3 + d)}];`);
    batch.push('}');
  }
  const loads = (TILE * BK) / (THREADS * THREADS); // elements of each operand a thread stages per K slice
  const idx = (n: number): string[] => Array.from({ length: n }, (_, k) => String(k));
  const accDecl = idx(PER).flatMap((i) => idx(PER).map((j) => `var c${i}${j} = ${T}(0);`));
  const fma = idx(PER).flatMap((i) => idx(PER).map((j) => `c${i}${j} += a${i} * b${j};`));
  const writes = idx(PER).flatMap((i) => idx(PER).map((j) => `if (r${i} < M && n${j} < N) { Y[yBase + r${i} * N + n${j}] = c${i}${j}; }`));
  const rowsCols = [
    ...idx(PER).map((i) => `let r${i} = row0 + lid.y + ${String(Number(i) * THREADS)}u;`),
    ...idx(PER).map((j) => `let n${j} = col0 + lid.x + ${String(Number(j) * THREADS)}u;`),
  ];
  return `
@group(0) @binding(0) var<storage, read_write> Y: array<${T}>;
@group(0) @binding(1) var<storage, read> A: array<${T}>;
@group(0) @binding(2) var<storage, read> B: array<${T}>;
${paramsBinding(3)}
var<workgroup> As: array<array<${T}, ${String(TILE)}>, ${String(BK)}>;
var<workgroup> Bs: array<array<${T}, ${String(TILE)}>, ${String(BK)}>;
@compute @workgroup_size(${String(THREADS)}, ${String(THREADS)})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = P[0]; let K = P[1]; let N = P[2];
  var aBase = P[${String(aBase)}];
  var bBase = P[${String(bBase)}];
  var rem = wid.z;
  ${batch.join('\n  ')}
  let aRs = P[${String(aBase + rb + 1)}]; let aCs = P[${String(aBase + rb + 2)}];
  let bRs = P[${String(bBase + rb + 1)}]; let bCs = P[${String(bBase + rb + 2)}];
  let row0 = wid.y * ${String(TILE)}u;
  let col0 = wid.x * ${String(TILE)}u;
  let tid = lid.y * ${String(THREADS)}u + lid.x;
  ${accDecl.join(' ')}
  for (var k0 = 0u; k0 < K; k0 += ${String(BK)}u) {
    for (var l = 0u; l < ${String(loads)}u; l++) {
      let e = tid + l * ${String(THREADS * THREADS)}u;
      let ar = e / ${String(BK)}u; let ak = e % ${String(BK)}u;
      var av = ${T}(0);
      if (row0 + ar < M && k0 + ak < K) { av = A[aBase + (row0 + ar) * aRs + (k0 + ak) * aCs]; }
      As[ak][ar] = av;
      let bk = e / ${String(TILE)}u; let bc = e % ${String(TILE)}u;
      var bv = ${T}(0);
      if (k0 + bk < K && col0 + bc < N) { bv = B[bBase + (k0 + bk) * bRs + (col0 + bc) * bCs]; }
      Bs[bk][bc] = bv;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${String(BK)}u; kk++) {
      ${idx(PER)
        .map((i) => `let a${i} = As[kk][lid.y + ${String(Number(i) * THREADS)}u];`)
        .join(' ')}
      ${idx(PER)
        .map((j) => `let b${j} = Bs[kk][lid.x + ${String(Number(j) * THREADS)}u];`)
        .join(' ')}
      ${fma.join(' ')}
    }
    workgroupBarrier();
  }
  let yBase = wid.z * M * N;
  ${rowsCols.join(' ')}
  ${writes.join('\n  ')}
}`;
}
