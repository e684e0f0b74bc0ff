import { fail } from './errors.js';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] ?? 1;
  }
  return strides;
}

export function shapeEq(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** NumPy/PyTorch broadcasting of two shapes. */
export function broadcastShapes(a: Shape, b: Shape, what = 'operands'): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      fail(
        'SHAPE_MISMATCH',
        `${what} of shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast: dimension ${String(i - n)} is ${String(da)} vs ${String(db)}. Reshape one of them so that each dimension matches or is 1.`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Strides that read a tensor of `shape`/`strides` as if it had `target` shape (stride 0 where broadcast). */
export function broadcastStrides(shape: Shape, strides: readonly number[], target: Shape): number[] {
  const out = new Array<number>(target.length).fill(0);
  const off = target.length - shape.length;
  for (let i = 0; i < shape.length; i++) {
    out[off + i] = shape[i] === 1 && target[off + i] !== 1 ? 0 : (strides[i] ?? 0);
  }
  return out;
}

export function normalizeDim(dim: number, ndim: number): number {
  const r = ndim === 0 ? 1 : ndim;
  const raw: unknown = dim;
  if (typeof raw !== 'number') {
    fail(
      'INVALID_ARGUMENT',
      `dim must be an integer in [${String(-r)}, ${String(r - 1)}] (the tensor has ${String(ndim)} dimension(s)), but ${raw === undefined ? 'nothing' : typeof raw === 'string' ? `'${raw}' (a string)` : JSON.stringify(raw)} was passed`,
    );
  }
  if (!Number.isInteger(dim) || dim < -r || dim >= r) {
    fail(
      'INVALID_ARGUMENT',
      `dimension ${String(dim)} is out of range for a tensor with ${String(ndim)} dimension(s) (expected in [${String(-r)}, ${String(r - 1)}])`,
    );
  }
  return dim < 0 ? dim + r : dim;
}

export function normalizeDims(dims: number | readonly number[] | undefined, ndim: number): number[] {
  if (dims === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const raw: unknown = dims;
  if (typeof raw !== 'number' && !Array.isArray(raw)) normalizeDim(raw as number, ndim);
  const list = typeof dims === 'number' ? [dims] : dims;
  const out = list.map((d) => normalizeDim(d, ndim));
  if (new Set(out).size !== out.length) fail('INVALID_ARGUMENT', `dimension list [${list.join(', ')}] repeats a dimension`);
  return out.sort((x, y) => x - y);
}

export function checkShape(shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) {
    fail(
      'INVALID_ARGUMENT',
      `shape must be an array of non-negative integers, but ${typeof shape === 'string' ? `'${shape}' (a string)` : JSON.stringify(shape)} was passed`,
    );
  }
  return shape as number[];
}

/** `shape` with its one -1 inferred from the size of `from` (reshape/view's target); SHAPE_MISMATCH where the sizes disagree. */
export function resolveReshape(shape: readonly number[], from: Shape): number[] {
  const total = numel(from);
  const out = [...shape];
  const inferred = out.indexOf(-1);
  if (inferred !== -1) {
    const known = out.reduce((n, d, i) => (i === inferred ? n : n * d), 1);
    out[inferred] = known === 0 ? 0 : total / known;
  }
  if (!out.every((d) => Number.isInteger(d) && d >= 0) || numel(out) !== total) {
    fail('SHAPE_MISMATCH', `shape ${fmtShape(shape)} is invalid for input of size ${String(total)} (shape ${fmtShape(from)})`);
  }
  return out;
}

/** Strides for viewing (shape, strides) as `target` without a copy, or null (PyTorch's computeStride). */
export function viewStrides(shape: Shape, strides: readonly number[], target: readonly number[]): number[] | null {
  if (numel(shape) === 0 || shape.length === 0) return contiguousStrides(target);
  const out = new Array<number>(target.length);
  let viewD = target.length - 1;
  let chunkBase = strides[strides.length - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d];
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || target[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= target[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return out;
}
