import { describeValue, isFloating, promoteWithScalar } from './dtype.js';
import { randomUniform } from './random.js';
import { fail } from './errors.js';
import { ops } from './ops/table.js';
import { apply } from './ops/apply.js';
import { fmtShape, normalizeDim } from './shape.js';
import { Tensor, type Operand } from './tensor.js';
import { constant, reshapeRaw } from './tensor-internal.js';

function checkList(fn: string, tensors: unknown): Tensor[] {
  if (!Array.isArray(tensors) || tensors.length === 0 || !tensors.every((t) => t instanceof Tensor)) {
    fail('INVALID_ARGUMENT', `${fn}: tensors must be a non-empty array of Tensors, but ${describeValue(tensors)} was passed`);
  }
  return tensors;
}

/** Concatenates along an existing `dim` (every other dim must match; dtypes promote). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  const list = checkList('cat', tensors);
  const first = list[0];
  if (first.ndim === 0)
    fail('INVALID_ARGUMENT', 'cat: zero-dimensional tensors cannot be concatenated; use stack, or unsqueeze them first');
  const d = normalizeDim(dim, first.ndim);
  list.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, j) => j !== d && s !== first.shape[j])) {
      fail(
        'SHAPE_MISMATCH',
        `cat: sizes of tensors must match except in dimension ${String(d)}: tensor 0 is ${fmtShape(first.shape)}, tensor ${String(i)} is ${fmtShape(t.shape)}`,
      );
    }
  });
  return apply(ops.cat, list, { dim: d });
}

/** Stacks equal-shaped tensors along a new `dim` (in [-ndim-1, ndim]). */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  const list = checkList('stack', tensors);
  const first = list[0];
  list.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, j) => s !== first.shape[j])) {
      fail(
        'SHAPE_MISMATCH',
        `stack expects each tensor to be equal size, but got ${fmtShape(first.shape)} at entry 0 and ${fmtShape(t.shape)} at entry ${String(i)}`,
      );
    }
  });
  const d = normalizeDim(dim, first.ndim + 1);
  return cat(
    list.map((t) => t.unsqueeze(d)),
    d,
  );
}

/** Elements of `a` where `condition` is non-zero, else of `b` (all three broadcast; numbers allowed). */
export function where(condition: Tensor, a: Operand, b: Operand): Tensor {
  if (!(condition instanceof Tensor))
    fail('INVALID_ARGUMENT', `where: condition must be a Tensor, but ${describeValue(condition)} was passed`);
  const pick = (x: Operand, other: Operand, name: string): Tensor => {
    if (x instanceof Tensor) return x;
    if (typeof x !== 'number') fail('INVALID_ARGUMENT', `where: ${name} must be a Tensor or a number, but ${describeValue(x)} was passed`);
    // A number takes the other operand's dtype (as a Python scalar); two integers give int32 (PyTorch: int64).
    const dtype =
      other instanceof Tensor ? promoteWithScalar(other.dtype, x) : Number.isInteger(x) && Number.isInteger(other) ? 'int32' : 'float32';
    return constant(x, condition.device, dtype);
  };
  return apply(ops.where, [condition, pick(a, b, 'input'), pick(b, a, 'other')]);
}

/**
 * Samples `numSamples` category indices from each row of non-negative weights (`input` [n] or
 * [rows, n], need not sum to 1), as torch.multinomial: int32 indices (PyTorch: int64), from the
 * seedable generator. Without replacement a category is drawn at most once per row.
 */
export function multinomial(input: Tensor, numSamples: number, replacement = false): Tensor {
  if (!(input instanceof Tensor))
    fail('INVALID_ARGUMENT', `multinomial: input must be a Tensor of weights, but ${describeValue(input)} was passed`);
  if (!isFloating(input.dtype))
    fail('DTYPE_MISMATCH', `multinomial: the weights must be a floating point tensor, got ${input.dtype} ${fmtShape(input.shape)}`);
  if (input.ndim !== 1 && input.ndim !== 2)
    fail('SHAPE_MISMATCH', `multinomial: prob_dist must be 1 or 2 dim, got ${fmtShape(input.shape)}`);
  if (typeof numSamples !== 'number' || !Number.isInteger(numSamples) || numSamples <= 0) {
    fail('INVALID_ARGUMENT', `multinomial: numSamples must be a positive integer, but ${describeValue(numSamples)} was passed`);
  }
  if (typeof replacement !== 'boolean')
    fail('INVALID_ARGUMENT', `multinomial: replacement must be a boolean, but ${describeValue(replacement)} was passed`);
  const n = input.shape[input.ndim - 1];
  const rows = input.ndim === 2 ? input.shape[0] : 1;
  if (n === 0) fail('INVALID_ARGUMENT', `multinomial: the weights ${fmtShape(input.shape)} have no categories`);
  if (!replacement && numSamples > n)
    fail(
      'INVALID_ARGUMENT',
      `multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement (${String(numSamples)} > ${String(n)})`,
    );
  const uniforms = new Float32Array(rows * (replacement ? numSamples : n));
  for (let i = 0; i < uniforms.length; i++) {
    // Strictly inside (0, 1): log(u) stays finite for the keys, and u·total stays below total.
    let u = Math.fround(randomUniform());
    while (u <= 0 || u >= 1) u = Math.fround(randomUniform());
    uniforms[i] = u;
  }
  const out = new Tensor(input.storage.backend.multinomial(input, numSamples, replacement, uniforms), [rows, numSamples]);
  return input.ndim === 1 ? reshapeRaw(out, [numSamples]) : out;
}
