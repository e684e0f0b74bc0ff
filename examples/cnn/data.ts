/**
 * A generated image set: `n` single-channel `size`×`size` images of six stroke shapes, drawn
 * deterministically from `seed` (mulberry32), so every run and every machine sees the same pixels.
 *
 * class 0: a horizontal bar   1: a vertical bar   2: a diagonal "\"   3: a diagonal "/"
 *       4: a square outline   5: a plus sign
 *
 * Each image: a class chosen uniformly at random; the shape at a random position and size (a bar
 * spans 50–100% of the image; a square or plus 5 to 7 pixels wide, clipped by the border); stroke
 * intensity in [0.6, 1); every pixel plus uniform noise in [0, 0.35). Pixels are then normalised
 * with the set's mean and standard deviation, as main.py normalises MNIST.
 */
export const CLASS_NAMES = ['horizontal bar', 'vertical bar', 'diagonal \\', 'diagonal /', 'square', 'plus'] as const;

/** mulberry32: a tiny 32-bit PRNG with good statistics for this purpose; uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ImageSet {
  /** [n·size·size] pixels, image-major ([N, 1, H, W] once reshaped). */
  images: Float32Array;
  labels: Int32Array;
  n: number;
  size: number;
}

export function generateShapes(n: number, size: number, seed: number): ImageSet {
  const rnd = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1)); // inclusive
  const images = new Float32Array(n * size * size);
  const labels = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const img = images.subarray(s * size * size, (s + 1) * size * size);
    const put = (r: number, c: number, v: number): void => {
      if (r >= 0 && r < size && c >= 0 && c < size) img[r * size + c] = Math.max(img[r * size + c], v);
    };
    const label = int(0, CLASS_NAMES.length - 1);
    labels[s] = label;
    const ink = 0.6 + 0.4 * rnd();
    const len = int(Math.ceil(size / 2), size);
    const start = int(0, size - len);
    const at = int(1, size - 2);
    if (label === 0) for (let c = start; c < start + len; c++) put(at, c, ink);
    else if (label === 1) for (let r = start; r < start + len; r++) put(r, at, ink);
    else if (label === 2 || label === 3) {
      const shift = int(-2, 2);
      for (let k = start; k < start + len; k++) put(k, label === 2 ? k + shift : size - 1 - k + shift, ink);
    } else {
      const w = int(5, 7);
      const r0 = int(0, size - w);
      const c0 = int(0, size - w);
      const mid = Math.floor(w / 2);
      for (let k = 0; k < w; k++) {
        if (label === 4) {
          put(r0, c0 + k, ink);
          put(r0 + w - 1, c0 + k, ink);
          put(r0 + k, c0, ink);
          put(r0 + k, c0 + w - 1, ink);
        } else {
          put(r0 + mid, c0 + k, ink);
          put(r0 + k, c0 + mid, ink);
        }
      }
    }
    for (let i = 0; i < img.length; i++) img[i] += 0.35 * rnd();
  }
  let mean = 0;
  for (const v of images) mean += v;
  mean /= images.length;
  let sq = 0;
  for (const v of images) sq += (v - mean) ** 2;
  const std = Math.sqrt(sq / images.length);
  for (let i = 0; i < images.length; i++) images[i] = (images[i] - mean) / std;
  return { images, labels, n, size };
}
