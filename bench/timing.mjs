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

/** Fixed synthetic MNIST-shaped batch shared by every framework. */
export function trainingBatch(batch = 64) {
  let s = 12345;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const x = new Float32Array(batch * 784).map(() => rnd());
  const labels = Int32Array.from({ length: batch }, () => Math.floor(rnd() * 10));
  return { x, labels };
}

/** Fixed synthetic batch for the CNN step: 32 images 12×12 (one channel) and labels in 0..5. */
export function cnnBatch(batch = 32) {
  let s = 4242;
  const rnd = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const x = new Float32Array(batch * 144).map(() => rnd());
  const labels = Int32Array.from({ length: batch }, () => Math.floor(rnd() * 6));
  return { x, labels };
}
