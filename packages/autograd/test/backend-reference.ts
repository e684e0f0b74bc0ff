/**
 * An independent float64 reference for the shared backend suite: plain loops over flat arrays,
 * written from the ops' mathematical definitions (NumPy/PyTorch broadcasting, PyTorch's
 * softmax/cross-entropy), sharing no code with the engine. Gradients are checked against
 * central finite differences of these functions.
 */
export interface Nd {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/** Flat index into `shape` of the broadcast position `idx` (aligned from the right). */
function broadcastIndex(idx: readonly number[], shape: readonly number[]): number {
  const lead = idx.length - shape.length;
  const strides = stridesOf(shape);
  let flat = 0;
  for (let d = 0; d < shape.length; d++) flat += (shape[d] === 1 ? 0 : idx[lead + d]) * strides[d];
  return flat;
}

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`reference: cannot broadcast [${a.join(',')}] with [${b.join(',')}]`);
    return da === 1 ? db : da;
  });
}

export function nd(shape: readonly number[], data: ArrayLike<number>): Nd {
  return { shape: [...shape], data: Float64Array.from(data) };
}

export function map(x: Nd, f: (v: number) => number): Nd {
  return nd(x.shape, x.data.map(f));
}

export function zip(a: Nd, b: Nd, f: (x: number, y: number) => number): Nd {
  const shape = broadcastShape(a.shape, b.shape);
  const out = new Float64Array(numelOf(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = f(a.data[broadcastIndex(idx, a.shape)], b.data[broadcastIndex(idx, b.shape)]);
  }
  return nd(shape, out);
}

export function expand(x: Nd, shape: readonly number[]): Nd {
  return zip(x, nd(shape, new Float64Array(numelOf(shape))), (v) => v);
}

export function sum(x: Nd, dims: readonly number[], keepdim = false): Nd {
  const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const out = new Float64Array(numelOf(kept));
  const ks = stridesOf(kept);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    out[idx.reduce((o, c, d) => o + (dims.includes(d) ? 0 : c * ks[d]), 0)] += x.data[i];
  }
  return nd(keepdim ? kept : x.shape.filter((_, i) => !dims.includes(i)), out);
}

export function transpose(x: Nd, d0: number, d1: number): Nd {
  const shape = [...x.shape];
  [shape[d0], shape[d1]] = [shape[d1], shape[d0]];
  const xs = stridesOf(x.shape);
  const out = new Float64Array(x.data.length);
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    [idx[d0], idx[d1]] = [idx[d1], idx[d0]];
    out[i] = x.data[idx.reduce((o, c, d) => o + c * xs[d], 0)];
  }
  return nd(shape, out);
}

/** [..., m, k] x [..., k, n] with broadcast batch dims (both at least 2-D). */
export function matmul(a: Nd, b: Nd): Nd {
  const m = a.shape[a.shape.length - 2],
    k = a.shape[a.shape.length - 1],
    n = b.shape[b.shape.length - 1];
  const batch = broadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const out = new Float64Array(numelOf(batch) * m * n);
  for (let t = 0; t < numelOf(batch); t++) {
    const bi = unravel(t, batch);
    const ao = broadcastIndex(bi, a.shape.slice(0, -2)) * m * k;
    const bo = broadcastIndex(bi, b.shape.slice(0, -2)) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[ao + i * k + p] * b.data[bo + p * n + j];
        out[t * m * n + i * n + j] = s;
      }
    }
  }
  return nd([...batch, m, n], out);
}

export function softmax(x: Nd, dim: number, log: boolean): Nd {
  const out = new Float64Array(x.data.length);
  const len = x.shape[dim];
  const inner = numelOf(x.shape.slice(dim + 1));
  const outer = x.data.length / (len * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const at = (i: number): number => o * len * inner + i * inner + j;
      let mx = -Infinity;
      for (let i = 0; i < len; i++) mx = Math.max(mx, x.data[at(i)]);
      let s = 0;
      for (let i = 0; i < len; i++) s += Math.exp(x.data[at(i)] - mx);
      for (let i = 0; i < len; i++) out[at(i)] = log ? x.data[at(i)] - mx - Math.log(s) : Math.exp(x.data[at(i)] - mx) / s;
    }
  }
  return nd(x.shape, out);
}

/** Mean over rows of -log_softmax(logits)[target] (PyTorch's cross_entropy, reduction 'mean'). */
export function crossEntropy(logits: Nd, targets: readonly number[]): Nd {
  const ls = softmax(logits, 1, true);
  const c = logits.shape[1];
  const total = targets.reduce((s, t, r) => s - ls.data[r * c + t], 0);
  return nd([], [total / targets.length]);
}

/** Deterministic uniform samples in [lo, hi), kept away from `avoid` points (kinks of relu/abs/clamp). */
export function randomNd(shape: readonly number[], seed: number, lo = -1, hi = 1, avoid: readonly number[] = []): Nd {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float64Array(numelOf(shape));
  for (let i = 0; i < out.length; i++) {
    let v = lo + (hi - lo) * next();
    while (avoid.some((p) => Math.abs(v - p) < 0.02 * (hi - lo))) v = lo + (hi - lo) * next();
    out[i] = Math.fround(v); // the engine stores float32: the reference sees exactly the same inputs
  }
  return nd(shape, out);
}

/** sum(W * f(inputs)): the scalar whose gradient the suite compares. */
export function weighted(f: (xs: Nd[]) => Nd, xs: Nd[], w: Nd): number {
  const y = f(xs);
  return y.data.reduce((s, v, i) => s + v * w.data[i], 0);
}

/** d/dx_i of sum(W * f(x)) by central differences, element by element. */
export function finiteDifferenceGrad(f: (xs: Nd[]) => Nd, xs: Nd[], w: Nd, input: number, h = 1e-6): Float64Array {
  const x = xs[input];
  const g = new Float64Array(x.data.length);
  for (let i = 0; i < x.data.length; i++) {
    const orig = x.data[i];
    x.data[i] = orig + h;
    const up = weighted(f, xs, w);
    x.data[i] = orig - h;
    const down = weighted(f, xs, w);
    x.data[i] = orig;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

/** The directional derivative of sum(W * f(x)) along `dir` for input `input`. */
export function directionalDerivative(f: (xs: Nd[]) => Nd, xs: Nd[], w: Nd, input: number, dir: Nd, h = 1e-6): number {
  const shifted = (sign: number): Nd[] =>
    xs.map((x, j) =>
      j === input
        ? nd(
            x.shape,
            x.data.map((v, i) => v + sign * h * dir.data[i]),
          )
        : x,
    );
  return (weighted(f, shifted(1), w) - weighted(f, shifted(-1), w)) / (2 * h);
}

// ---- second-wave ops, from their definitions ----

/** Generic gather-by-coordinates: out[idx] = x[source(idx)] (source returns x's coordinates). */
function pick(x: Nd, shape: readonly number[], source: (idx: number[]) => number[]): Nd {
  const xs = stridesOf(x.shape);
  const out = new Float64Array(numelOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = x.data[source(unravel(i, shape)).reduce((o, c, d) => o + c * xs[d], 0)];
  return nd(shape, out);
}

export function permute(x: Nd, dims: readonly number[]): Nd {
  const shape = dims.map((d) => x.shape[d]);
  return pick(x, shape, (idx) => {
    const src = new Array<number>(dims.length);
    dims.forEach((d, i) => (src[d] = idx[i]));
    return src;
  });
}

/** x[start:end:step] along dim (start/end already non-negative and in range). */
export function slice(x: Nd, dim: number, start: number, end: number, step = 1): Nd {
  const shape = [...x.shape];
  shape[dim] = Math.max(0, Math.ceil((end - start) / step));
  return pick(x, shape, (idx) => idx.map((c, d) => (d === dim ? start + c * step : c)));
}

export function cat(xs: readonly Nd[], dim: number): Nd {
  const shape = [...xs[0].shape];
  shape[dim] = xs.reduce((n, x) => n + x.shape[dim], 0);
  const out = new Float64Array(numelOf(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    let c = idx[dim];
    let k = 0;
    while (c >= xs[k].shape[dim]) c -= xs[k++].shape[dim];
    const src = idx.map((v, d) => (d === dim ? c : v));
    out[i] = xs[k].data[src.reduce((o, v, d) => o + v * stridesOf(xs[k].shape)[d], 0)];
  }
  return nd(shape, out);
}

export function gather(x: Nd, dim: number, index: Nd): Nd {
  return pick(x, index.shape, (idx) =>
    idx.map((c, d) => (d === dim ? index.data[idx.reduce((o, v, e) => o + v * stridesOf(index.shape)[e], 0)] : c)),
  );
}

/** cond ? a : b, all three broadcast. */
export function where(cond: Nd, a: Nd, b: Nd): Nd {
  const shape = broadcastShape(broadcastShape(cond.shape, a.shape), b.shape);
  const out = new Float64Array(numelOf(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    out[i] = cond.data[broadcastIndex(idx, cond.shape)] !== 0 ? a.data[broadcastIndex(idx, a.shape)] : b.data[broadcastIndex(idx, b.shape)];
  }
  return nd(shape, out);
}

/** Reduction of one dim by `f` over the values along it (keepdim false). */
export function reduceDim(x: Nd, dim: number, f: (vals: number[]) => number): Nd {
  const shape = x.shape.filter((_, i) => i !== dim);
  const xs = stridesOf(x.shape);
  const out = new Float64Array(numelOf(shape));
  for (let i = 0; i < out.length; i++) {
    const idx = unravel(i, shape);
    const vals: number[] = [];
    for (let k = 0; k < x.shape[dim]; k++) {
      const full = [...idx.slice(0, dim), k, ...idx.slice(dim)];
      vals.push(x.data[full.reduce((o, c, d) => o + c * xs[d], 0)]);
    }
    out[i] = f(vals);
  }
  return nd(shape, out);
}

export function variance(vals: number[], correction: number): number {
  const m = vals.reduce((a, b) => a + b, 0) / vals.length;
  return vals.reduce((a, v) => a + (v - m) ** 2, 0) / (vals.length - correction);
}

/** Keeps elements with j - i <= k (tril) or >= k (triu) on the last two dims. */
export function triangle(x: Nd, k: number, upper: boolean): Nd {
  const n = x.shape.length;
  return nd(
    x.shape,
    x.data.map((v, i) => {
      const idx = unravel(i, x.shape);
      const diff = idx[n - 1] - idx[n - 2];
      return (upper ? diff >= k : diff <= k) ? v : 0;
    }),
  );
}
