/** A seedable PRNG (mulberry32) shared by rand/randn and the layers' initialisation. */
let state = 0x2545f491;
let spareNormal: number | null = null;

export function manualSeed(seed: number): void {
  state = (Math.floor(seed) ^ 0x2545f491) >>> 0;
  spareNormal = null;
}

export function randomUniform(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
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
