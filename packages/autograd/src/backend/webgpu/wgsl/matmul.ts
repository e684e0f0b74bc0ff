import { paramsBinding, type WgslType } from './common.js';

/** Square output tiles a workgroup may compute: small ones waste less on thin or small products. */
export type MatmulTile = 32 | 64;
/** K slice per shared-memory stage, and outputs per thread along each axis (PER x PER). */
const BK = 16;
const PER = 4;

/**
 * Batched matmul Y[z] = A[z] · B[z] with A, B arbitrary strided views (transposed views and
 * broadcast batch dims read in place). Each workgroup stages a TILE×BK slice of A and a BK×TILE
 * slice of B in workgroup memory as vec4s (A along K, B along N), as tfjs-webgpu's packed vec4
 * matmul does; each of its (TILE/PER)² threads accumulates a PER×4 block in PER vec4 registers:
 * rows spaced TILE/PER apart, four neighbouring columns. Per four steps of K a thread reads 4 vec4
 * of B and PER vec4 of A from workgroup memory for 16·PER multiply-adds (a scalar tile read 8 values
 * per 16). K is still added in order, one step at a time. Global loads stay scalar, so any strides work.
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
  const KV = BK / 4; // vec4s of A per row of the slice
  const CV = TILE / 4; // vec4s of B per row of the slice
  const loads = (TILE * KV) / (THREADS * THREADS); // vec4s of each operand a thread stages per K slice
  const V = `vec4<${T}>`;
  const idx = (n: number): string[] => Array.from({ length: n }, (_, k) => String(k));
  const q4 = idx(4);
  const aLoads = q4.map((q) => `if (row0 + ar < M && kk${q} < K) { av[${q}] = A[aBase + (row0 + ar) * aRs + kk${q} * aCs]; }`).join(' ');
  const bLoads = q4.map((q) => `if (k0 + bk < K && cc${q} < N) { bv[${q}] = B[bBase + (k0 + bk) * bRs + cc${q} * bCs]; }`).join(' ');
  const writes = idx(PER).flatMap((i) =>
    q4.map((j) => `if (r${i} < M && c0 + ${j}u < N) { Y[yBase + r${i} * N + c0 + ${j}u] = acc${i}[${j}]; }`),
  );
  return `
@group(0) @binding(0) var<storage, read_write> Y: array<${T}>;
@group(0) @binding(1) var<storage, read> A: array<${T}>;
@group(0) @binding(2) var<storage, read> B: array<${T}>;
${paramsBinding(3)}
var<workgroup> As: array<array<${V}, ${String(KV)}>, ${String(TILE)}>;
var<workgroup> Bs: array<array<${V}, ${String(CV)}>, ${String(BK)}>;
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
  ${idx(PER)
    .map((i) => `var acc${i} = ${V}();`)
    .join(' ')}
  for (var k0 = 0u; k0 < K; k0 += ${String(BK)}u) {
    for (var l = 0u; l < ${String(loads)}u; l++) {
      let e = tid + l * ${String(THREADS * THREADS)}u;
      let ar = e / ${String(KV)}u; let akv = e % ${String(KV)}u;
      ${q4.map((q) => `let kk${q} = k0 + akv * 4u + ${q}u;`).join(' ')}
      var av = ${V}();
      ${aLoads}
      As[ar][akv] = av;
      let bk = e / ${String(CV)}u; let bcv = e % ${String(CV)}u;
      ${q4.map((q) => `let cc${q} = col0 + bcv * 4u + ${q}u;`).join(' ')}
      var bv = ${V}();
      ${bLoads}
      Bs[bk][bcv] = bv;
    }
    workgroupBarrier();
    for (var kv = 0u; kv < ${String(KV)}u; kv++) {
      ${q4.map((q) => `let b${q} = Bs[kv * 4u + ${q}u][lid.x];`).join(' ')}
      ${idx(PER)
        .map(
          (i) =>
            `{ let a = As[lid.y + ${String(Number(i) * THREADS)}u][kv]; acc${i} += b0 * a.x; acc${i} += b1 * a.y; acc${i} += b2 * a.z; acc${i} += b3 * a.w; }`,
        )
        .join('\n      ')}
    }
    workgroupBarrier();
  }
  let yBase = wid.z * M * N;
  let c0 = col0 + lid.x * 4u;
  ${idx(PER)
    .map((i) => `let r${i} = row0 + lid.y + ${String(Number(i) * THREADS)}u;`)
    .join(' ')}
  ${writes.join('\n  ')}
}`;
}
