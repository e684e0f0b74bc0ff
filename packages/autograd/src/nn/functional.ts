import { full, tensor } from '../creation.js';
import { fillDropoutMask } from '../random.js';
import { describeValue, isFloating } from '../dtype.js';
import { fail } from '../errors.js';
import { where } from '../functions.js';
import { apply } from '../ops/apply.js';
import { ops } from '../ops/table.js';
import { noGrad } from '../grad-mode.js';
import { fmtShape, normalizeDim, shapeEq } from '../shape.js';
import { Tensor } from '../tensor.js';

export type Reduction = 'mean' | 'sum' | 'none';
export interface LossOptions {
  reduction?: Reduction;
}

function reduce(loss: Tensor, reduction: Reduction | undefined): Tensor {
  switch (reduction ?? 'mean') {
    case 'mean':
      return loss.mean();
    case 'sum':
      return loss.sum();
    case 'none':
      return loss;
    default:
      return fail('INVALID_ARGUMENT', `reduction must be 'mean', 'sum' or 'none', got ${String(reduction)}`);
  }
}

function sameShape(name: string, input: Tensor, target: Tensor): void {
  // PyTorch only warns and broadcasts here; [N, 1] vs [N] silently yields an [N, N] loss. We refuse.
  if (!shapeEq(input.shape, target.shape)) {
    fail(
      'SHAPE_MISMATCH',
      `${name}: input ${fmtShape(input.shape)} and target ${fmtShape(target.shape)} must have the same shape (broadcasting here is almost always a bug). Reshape the target, e.g. target.reshape([${input.shape.join(', ')}]).`,
    );
  }
}

export function relu(input: Tensor): Tensor {
  return input.relu();
}

export function softmax(input: Tensor, dim: number): Tensor {
  return input.softmax(dim);
}

export function logSoftmax(input: Tensor, dim: number): Tensor {
  return input.logSoftmax(dim);
}

export function mseLoss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  sameShape('mseLoss', input, target);
  return reduce(input.sub(target).pow(2), options.reduction);
}

export function l1Loss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  sameShape('l1Loss', input, target);
  return reduce(input.sub(target).abs(), options.reduction);
}

function checkReduction(name: string, options: unknown, allowed: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(
      'INVALID_ARGUMENT',
      `${name}: the options argument must be an object { ${allowed.join(', ')} }, but ${describeValue(options)} was passed`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      fail(
        'INVALID_ARGUMENT',
        `${name}: unknown option '${key}'${camel !== key && allowed.includes(camel) ? ` (did you mean ${camel}? options are camelCase)` : ''}; the options are ${allowed.join(', ')}`,
      );
    }
  }
}

function checkProbability(name: string, p: unknown): number {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1))
    fail('INVALID_ARGUMENT', `${name}: dropout probability has to be between 0 and 1, but got ${describeValue(p)}`);
  return p;
}

function asDtype(t: Tensor, dtype: Tensor['dtype']): Tensor {
  return dtype === 'float64' ? t.double() : dtype === 'int32' ? t.int() : t.float();
}

/** A float 0/1 mask of `target != ignoreIndex` (no gradient). */
function keepMask(target: Tensor, ignoreIndex: number, dtype: Tensor['dtype']): Tensor {
  return noGrad(() => asDtype(target.sub(ignoreIndex).abs().clamp(null, 1), dtype));
}

function classTarget(name: string, input: Tensor, target: Tensor): void {
  if (input.ndim !== 2) fail('SHAPE_MISMATCH', `${name}: input must have shape [N, C], got ${fmtShape(input.shape)}`);
  const n = input.shape[0];
  if (target.dtype !== 'int32') {
    fail(
      'DTYPE_MISMATCH',
      `${name}: target must hold int32 class indices, got ${target.dtype}. Create it with tensor(labels, { dtype: 'int32' }).`,
    );
  }
  if (target.ndim !== 1 || target.shape[0] !== n) {
    fail(
      'SHAPE_MISMATCH',
      `${name}: target must have shape [${String(n)}] for input ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`,
    );
  }
}

export interface NllLossOptions extends LossOptions {
  /** A manual rescaling weight per class, shape [C]. */
  weight?: Tensor | null;
  /** Targets equal to this value contribute nothing, to the loss or to the mean's divisor (default -100). */
  ignoreIndex?: number;
}

/**
 * Negative log-likelihood of log-probabilities [N, C] against int32 class indices [N]:
 * ℓₙ = -w[yₙ]·x[n, yₙ] (0 where yₙ = ignoreIndex); 'mean' divides by Σ w[yₙ] over the kept targets.
 */
export function nllLoss(input: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  checkReduction('nllLoss', options, ['reduction', 'weight', 'ignoreIndex']);
  classTarget('nllLoss', input, target);
  return nll(input, target, options);
}

function nll(input: Tensor, target: Tensor, options: NllLossOptions): Tensor {
  const c = input.shape[1];
  const { weight = null, ignoreIndex = -100 } = options;
  if (weight !== null && (!(weight instanceof Tensor) || weight.ndim !== 1 || weight.shape[0] !== c)) {
    fail(
      'SHAPE_MISMATCH',
      `weight tensor should be defined either for all ${String(c)} classes or no classes, but got ${weight instanceof Tensor ? `shape ${fmtShape(weight.shape)}` : describeValue(weight)}`,
    );
  }
  const keep = keepMask(target, ignoreIndex, input.dtype);
  const safe = noGrad(() => target.mul(keep.int()));
  const picked = input.gather(1, safe.unsqueeze(1)).squeeze(1);
  const w =
    weight === null
      ? keep
      : noGrad(() => asDtype(weight.detach(), input.dtype))
          .gather(0, safe)
          .mul(keep);
  const loss = picked.mul(w).neg();
  switch (options.reduction ?? 'mean') {
    case 'mean':
      return loss.sum().div(w.sum());
    case 'sum':
      return loss.sum();
    case 'none':
      return loss;
    default:
      return fail('INVALID_ARGUMENT', `reduction must be 'mean', 'sum' or 'none', got ${String(options.reduction)}`);
  }
}

export interface CrossEntropyOptions extends NllLossOptions {
  /** ε in [0, 1]: the target becomes (1-ε)·one-hot + ε/C (PyTorch's label_smoothing). */
  labelSmoothing?: number;
}

/**
 * Cross-entropy of logits [N, C] against int32 class indices [N] (log-softmax + NLL), with
 * PyTorch's `weight`, `ignoreIndex` and `labelSmoothing`: (1-ε)·nll + ε/C·Σ_c -w_c·log p[n, c]
 * (the smoothing term reduced as PyTorch does: divided by Σ w[yₙ], or by the kept count, for 'mean').
 */
export function crossEntropy(input: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkReduction('crossEntropy', options, ['reduction', 'weight', 'ignoreIndex', 'labelSmoothing']);
  if (input.ndim !== 2) fail('SHAPE_MISMATCH', `crossEntropy: input must be logits of shape [N, C], got ${fmtShape(input.shape)}`);
  classTarget('crossEntropy', input, target);
  const eps = options.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1))
    fail('INVALID_ARGUMENT', `crossEntropy: labelSmoothing must be a number in [0, 1], but ${describeValue(eps)} was passed`);
  const logp = input.logSoftmax(1);
  const nllLossValue = nll(logp, target, options);
  if (eps === 0) return nllLossValue;
  const c = input.shape[1];
  const { weight = null, ignoreIndex = -100 } = options;
  const keep = keepMask(target, ignoreIndex, input.dtype);
  const w = weight === null ? null : noGrad(() => asDtype(weight.detach(), input.dtype));
  const smooth = (w === null ? logp : logp.mul(w)).sum(1).neg().mul(keep);
  let ret: Tensor;
  switch (options.reduction ?? 'mean') {
    case 'mean': {
      const denom = w === null ? keep.sum() : noGrad(() => w.gather(0, target.mul(keep.int())).mul(keep).sum());
      ret = smooth.sum().div(denom);
      break;
    }
    case 'sum':
      ret = smooth.sum();
      break;
    default:
      ret = smooth;
  }
  return nllLossValue.mul(1 - eps).add(ret.mul(eps / c));
}

export interface BCEOptions extends LossOptions {
  /** A rescaling weight broadcast over the elements. */
  weight?: Tensor | null;
}

/** Binary cross-entropy of probabilities: -w·(y·log x + (1-y)·log(1-x)), each log clamped to >= -100 as PyTorch. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, options: BCEOptions = {}): Tensor {
  checkReduction('binaryCrossEntropy', options, ['reduction', 'weight']);
  sameShape('binaryCrossEntropy', input, target);
  const logX = input.log().clamp(-100, null);
  const log1mX = input.neg().add(1).log().clamp(-100, null);
  let loss = target.mul(logX).add(target.neg().add(1).mul(log1mX)).neg();
  if (options.weight) loss = loss.mul(options.weight);
  return reduce(loss, options.reduction);
}

export interface BCEWithLogitsOptions extends BCEOptions {
  /** Weight of the positive examples, broadcast along the last (class) dimension. */
  posWeight?: Tensor | null;
}

/**
 * Sigmoid + binary cross-entropy in one numerically stable expression (PyTorch's):
 * (1-y)·x + (1 + (pw-1)·y)·softplus(-x), with softplus(-x) = log1p(exp(-|x|)) + max(-x, 0),
 * never exponentiating a positive number.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, options: BCEWithLogitsOptions = {}): Tensor {
  checkReduction('binaryCrossEntropyWithLogits', options, ['reduction', 'weight', 'posWeight']);
  sameShape('binaryCrossEntropyWithLogits', input, target);
  const nonNeg = noGrad(() => input.ge(0));
  // -|x| written with where, so its derivative at 0 is -1 (abs' would be 0 there and lose the log1p term's slope).
  const negAbs = where(nonNeg, input.neg(), input);
  const softplusNeg = negAbs
    .exp()
    .log1p()
    .add(where(nonNeg, 0, input.neg()));
  const logWeight = options.posWeight ? options.posWeight.sub(1).mul(target).add(1) : null;
  let loss = target
    .neg()
    .add(1)
    .mul(input)
    .add(logWeight ? logWeight.mul(softplusNeg) : softplusNeg);
  if (options.weight) loss = loss.mul(options.weight);
  return reduce(loss, options.reduction);
}

export interface SmoothL1Options extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1; 0 gives l1Loss). */
  beta?: number;
}

/** Huber-like loss: 0.5·d²/β where |d| < β, else |d| - 0.5·β. */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  checkReduction('smoothL1Loss', options, ['reduction', 'beta']);
  sameShape('smoothL1Loss', input, target);
  const beta = options.beta ?? 1;
  if (typeof beta !== 'number' || !(beta >= 0))
    fail('INVALID_ARGUMENT', `smoothL1Loss: beta must be a non-negative number, but ${describeValue(beta)} was passed`);
  const d = input.sub(target);
  if (beta === 0) return reduce(d.abs(), options.reduction);
  const absD = d.abs();
  const small = noGrad(() => absD.lt(beta));
  return reduce(where(small, d.pow(2).mul(0.5 / beta), absD.sub(0.5 * beta)), options.reduction);
}

/** max(0, x) + negativeSlope·min(0, x); the derivative at 0 is negativeSlope, as PyTorch's. */
export function leakyRelu(input: Tensor, negativeSlope = 0.01): Tensor {
  if (typeof negativeSlope !== 'number')
    fail('INVALID_ARGUMENT', `leakyRelu: negativeSlope must be a number, but ${describeValue(negativeSlope)} was passed`);
  return where(
    noGrad(() => input.gt(0)),
    input,
    input.mul(negativeSlope),
  );
}

/** x·σ(x) (swish). */
export function silu(input: Tensor): Tensor {
  return input.mul(input.sigmoid());
}

/**
 * erf composed from differentiable ops (Numerical Recipes' erfc Chebyshev fit, relative error
 * < 1.2e-7 everywhere): exact to float32 precision, and its gradient comes from the composition.
 */
function erf(x: Tensor): Tensor {
  const nonNeg = noGrad(() => x.ge(0));
  const a = where(nonNeg, x, x.neg());
  const t = a.mul(0.5).add(1).pow(-1);
  const coeffs = [
    -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277,
  ];
  let poly = t.mul(coeffs[9]);
  for (let i = 8; i >= 1; i--) poly = poly.add(coeffs[i]).mul(t);
  const erfc = t.mul(a.pow(2).neg().add(poly.add(coeffs[0])).exp());
  return where(nonNeg, erfc.neg().add(1), erfc.sub(1));
}

export interface GeluOptions {
  approximate?: 'none' | 'tanh';
}

/** x·Φ(x) = 0.5·x·(1 + erf(x/√2)); with `approximate: 'tanh'`, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export function gelu(input: Tensor, options: GeluOptions = {}): Tensor {
  checkReduction('gelu', options, ['approximate']);
  const approximate: unknown = options.approximate ?? 'none';
  if (approximate === 'tanh') {
    const inner = input.add(input.pow(3).mul(0.044715)).mul(Math.sqrt(2 / Math.PI));
    return input.mul(0.5).mul(inner.tanh().add(1));
  }
  if (approximate !== 'none')
    fail('INVALID_ARGUMENT', `gelu: approximate must be 'none' or 'tanh', but ${describeValue(approximate)} was passed`);
  // One fused kernel where the backend has it (CPU): the composition below is ~25 elementwise ops
  // forward and more backward, the bulk of a transformer MLP's time.
  if (input.storage.backend.gelu && isFloating(input.dtype)) return apply(ops.gelu, [input]);
  return input.mul(0.5).mul(erf(input.mul(Math.SQRT1_2)).add(1));
}

export interface SoftplusOptions {
  beta?: number;
  threshold?: number;
}

/** log(1 + exp(β·x))/β, and x itself where β·x > threshold (default β = 1, threshold = 20). */
export function softplus(input: Tensor, options: SoftplusOptions = {}): Tensor {
  checkReduction('softplus', options, ['beta', 'threshold']);
  const { beta = 1, threshold = 20 } = options;
  const bx = input.mul(beta);
  // The clamp keeps exp finite on the elements the linear branch takes.
  const smooth = bx.clamp(null, threshold).exp().log1p().div(beta);
  return where(
    noGrad(() => bx.gt(threshold)),
    input,
    smooth,
  );
}

/** Zeroes each element with probability p and scales the kept ones by 1/(1-p), when `training`. */
export function dropout(input: Tensor, p = 0.5, training = true): Tensor {
  checkProbability('dropout', p);
  if (typeof training !== 'boolean')
    fail('INVALID_ARGUMENT', `dropout: training must be a boolean, but ${describeValue(training)} was passed`);
  if (!training || p === 0) return input;
  if (!isFloating(input.dtype)) fail('DTYPE_MISMATCH', `dropout: input must be floating point, got ${input.dtype}`);
  if (p === 1) return input.mul(0);
  // The mask 1/(1 − p)·[u < 1 − p] of uniform samples u: the values rand(shape).lt(1 − p).mul(1/(1 − p))
  // gives, from the same random stream, in one pass (no branch on the random comparison).
  const n = input.numel();
  const keep = 1 - p;
  const scale = 1 / keep;
  const values = input.dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  fillDropoutMask(values, keep, scale, input.dtype !== 'float64');
  const mask = tensor(values, { dtype: input.dtype, device: input.device }).reshape([...input.shape]);
  return input.mul(mask);
}

export interface LayerNormOptions {
  eps?: number;
}

/** (x - E[x])/√(Var[x] + eps)·weight + bias over the last dims given by `normalizedShape` (biased variance). */
export function layerNorm(
  input: Tensor,
  normalizedShape: number | readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  options: LayerNormOptions = {},
): Tensor {
  checkReduction('layerNorm', options, ['eps']);
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const k = shape.length;
  if (k === 0 || k > input.ndim || shape.some((s, i) => s !== input.shape[input.ndim - k + i])) {
    fail('SHAPE_MISMATCH', `layerNorm: input ${fmtShape(input.shape)} does not end in normalizedShape ${fmtShape(shape)}`);
  }
  const eps = options.eps ?? 1e-5;
  const dims = shape.map((_, i) => input.ndim - k + i);
  const mean = input.mean(dims, true);
  const variance = input.var(dims, { correction: 0, keepdim: true });
  let y = input.sub(mean).div(variance.add(eps).sqrt());
  if (weight) y = y.mul(weight);
  if (bias) y = y.add(bias);
  return y;
}

/** Rows of `weight` [n, d] picked by the int32 indices `input` (any shape): output [...input.shape, d]. */
export function embedding(input: Tensor, weight: Tensor): Tensor {
  if (input.dtype !== 'int32') fail('DTYPE_MISMATCH', `embedding: input must hold int32 indices, got ${input.dtype}`);
  if (weight.ndim !== 2)
    fail('SHAPE_MISMATCH', `embedding: weight must have shape [numEmbeddings, embeddingDim], got ${fmtShape(weight.shape)}`);
  const d = weight.shape[1];
  const flat = input.reshape([input.numel()]);
  const rows = weight.gather(0, flat.unsqueeze(1).expand([flat.shape[0], d]).clone());
  return rows.reshape([...input.shape, d]);
}

export interface NormalizeOptions {
  p?: number;
  dim?: number;
  eps?: number;
}

/** x / max(‖x‖_p, eps) along `dim` (defaults p = 2, dim = 1, eps = 1e-12). */
export function normalize(input: Tensor, options: NormalizeOptions = {}): Tensor {
  checkReduction('normalize', options, ['p', 'dim', 'eps']);
  const { p = 2, dim = 1, eps = 1e-12 } = options;
  const d = normalizeDim(dim, input.ndim);
  return input.div(input.norm(p, d, true).clamp(eps, null));
}

export interface ScaledDotProductAttentionOptions {
  /** Broadcast to [..., L, S]: an int32 0/1 mask (PyTorch's bool mask: 0 = may not attend) or a float mask added to the scores. */
  attnMask?: Tensor | null;
  /** Mask out key positions j > i (query i attends to keys 0..i). */
  isCausal?: boolean;
  scale?: number | null;
}

/**
 * softmax(q·kᵀ·scale + mask)·v, composed from matmul, maskedFill and softmax (so its backward is
 * theirs). scale defaults to 1/√E; `isCausal` masks j > i; an int32 `attnMask` is boolean
 * (0 = may not attend, as PyTorch's False), a float one is added to the scores.
 */
export function scaledDotProductAttention(
  query: Tensor,
  key: Tensor,
  value: Tensor,
  options: ScaledDotProductAttentionOptions = {},
): Tensor {
  checkReduction('scaledDotProductAttention', options, ['attnMask', 'isCausal', 'scale']);
  if (query.ndim < 2 || key.ndim < 2 || value.ndim < 2)
    fail('SHAPE_MISMATCH', 'scaledDotProductAttention: query, key and value need at least 2 dimensions ([..., L, E])');
  const { attnMask = null, isCausal = false, scale = null } = options;
  if (attnMask !== null && isCausal)
    fail('INVALID_ARGUMENT', 'scaledDotProductAttention: explicit attnMask should not be set when isCausal=true');
  const l = query.shape[query.ndim - 2];
  const s = key.shape[key.ndim - 2];
  const e = query.shape[query.ndim - 1];
  const factor = scale ?? 1 / Math.sqrt(e);
  let scores = query.matmul(key.transpose(-2, -1)).mul(factor);
  if (isCausal) {
    const blocked = noGrad(() => full([l, s], 1, { device: query.device, dtype: query.dtype }).triu(1));
    scores = scores.maskedFill(blocked, -Infinity);
  } else if (attnMask !== null) {
    if (attnMask.dtype === 'int32')
      scores = scores.maskedFill(
        noGrad(() => attnMask.lt(1)),
        -Infinity,
      );
    else scores = scores.add(attnMask);
  }
  return scores.softmax(-1).matmul(value);
}

export { conv2d, maxPool2d, avgPool2d } from './conv.js';
export type { Conv2dOptions, Pool2dOptions, MaxPool2dOptions, AvgPool2dOptions, Pair } from './conv.js';
