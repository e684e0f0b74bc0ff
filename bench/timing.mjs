/**
 * Timing helpers. Other processes share the machine's cores, so a single measurement is noisy:
 * each sample runs the body until `minMs` has passed (at least `minIters` times) and reports the
 * mean time per iteration; callers take the median of several samples (bench/run.mjs alternates
 * the frameworks' samples).
 */

/** Mean milliseconds per call of `body` over one sample. */
export function sample(body, { minMs = 200, minIters = 1 } = {}) {
  let iters = 0;
  const t0 = performance.now();
  let t = t0;
  while (iters < minIters || t - t0 < minMs) {
    body();
    iters++;
    t = performance.now();
  }
  return (t - t0) / iters;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
