/** A seedable PRNG (mulberry32) shared by rand/randn and the layers' initialisation. */
let state = 0x2545f491;
let spareNormal: number | null = null;

export function manualSeed(seed: number): void {
  state = (Math.floor(seed) ^ 0x2545f491) >>> 0;
  spareNormal = null;
}

const STEP = 0x6d2b79f5;

/** mulberry32's output for a state already advanced by STEP: a uniform sample in [0, 1). */
function mix(s: number): number {
  let t = Math.imul(s ^ (s >>> 15), s | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

export function randomUniform(): number {
  state = (state + STEP) >>> 0;
  return mix(state);
}

/**
 * out[i] = scale·[u_i < keep] for the next out.length uniform samples u_i of the stream (each
 * rounded to float32 first when `float32`, as a float32 rand() would hold it): dropout's mask.
 * The same values as calling randomUniform() per element, but the state stays in a local: a
 * module-level number above 2³¹ is boxed in a fresh heap object on every store, which made mask
 * generation cost ~10 ns per element.
 */
export function fillDropoutMask(out: Float32Array | Float64Array, keep: number, scale: number, float32: boolean): void {
  let s = state;
  const n = out.length;
  if (float32) {
    for (let i = 0; i < n; i++) {
      s = (s + STEP) >>> 0;
      out[i] = scale * +(Math.fround(mix(s)) < keep);
    }
  } else {
    for (let i = 0; i < n; i++) {
      s = (s + STEP) >>> 0;
      out[i] = scale * +(mix(s) < keep);
    }
  }
  state = s;
}

/** Standard normal samples by Box-Muller. */
export function randomNormal(): number {
  if (spareNormal !== null) {
    const s = spareNormal;
    spareNormal = null;
    return s;
  }
  let u = 0;
  while (u === 0) u = randomUniform();
  const v = randomUniform();
  const r = Math.sqrt(-2 * Math.log(u));
  spareNormal = r * Math.sin(2 * Math.PI * v);
  return r * Math.cos(2 * Math.PI * v);
}
