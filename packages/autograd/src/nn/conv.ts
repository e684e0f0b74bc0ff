import { full, tensor, uniform } from '../creation.js';
import { describeValue, isFloating } from '../dtype.js';
import { fail } from '../errors.js';
import { cat } from '../functions.js';
import { isGradEnabled } from '../grad-mode.js';
import { conv2dOp } from '../ops/conv-ops.js';
import { unfold2d } from '../ops/shape-ops.js';
import { fmtShape } from '../shape.js';
import { fromStorage } from '../tensor-internal.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';
import { checkOptions } from '../options.js';

/**
 * Conv2d, MaxPool2d and AvgPool2d as im2col + the existing GEMM, composed from differentiable ops
 * (so CPU and WebGPU both run them and the backward is the ops' own): the input, padded by `cat`
 * with constant blocks, is unfolded into its windows [N, C, kh·kw, oh, ow] (`unfold2d`, one
 * strided copy; its backward `fold2d` adds each window element back into its pixel, one strided
 * add per kernel offset), which is multiplied by the weight (`matmul`, which saves both operands)
 * or reduced over the kernel axis (`max`: the gradient goes to the first maximum, as PyTorch's;
 * `mean`/`sum`). (A `gather` at window indices had a `scatterAdd` for adjoint, whose WebGPU kernel
 * scans all kh·kw·oh·ow indices for each input pixel: seconds per step of a small CNN.) A
 * convolution with groups 1 is one op (ops/conv-ops.ts) computing exactly that composition, so
 * that a backend with fused kernels (CPU float32) keeps the windows out of tensors altogether.
 */

export type Pair = number | readonly [number, number];

function pair(owner: string, name: string, v: unknown, min: number): [number, number] {
  const p = typeof v === 'number' ? [v, v] : Array.isArray(v) && v.length === 2 ? (v as unknown[]) : null;
  if (p === null || !p.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= min)) {
    fail(
      'INVALID_ARGUMENT',
      `${owner}: ${name} must be an integer >= ${String(min)} or a pair of them, but ${describeValue(v)} was passed`,
    );
  }
  return p as [number, number];
}

/** [N, C, H, W] (or unbatched [C, H, W], given a batch of 1) and whether it was batched. */
function batched(owner: string, input: Tensor): [Tensor, boolean] {
  if (input.ndim === 4) return [input, true];
  if (input.ndim === 3) return [input.unsqueeze(0), false];
  return fail('SHAPE_MISMATCH', `${owner}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got ${fmtShape(input.shape)}`);
}

interface Geometry {
  h: number;
  w: number;
  kernel: [number, number];
  stride: [number, number];
  dilation: [number, number];
  /** Padding before (top, left) and the total (top + bottom, left + right). */
  padBefore: [number, number];
  padTotal: [number, number];
}

function outSize(owner: string, g: Geometry): [number, number] {
  const out = [0, 1].map((i) => Math.floor(([g.h, g.w][i] + g.padTotal[i] - g.dilation[i] * (g.kernel[i] - 1) - 1) / g.stride[i]) + 1);
  if (out[0] <= 0 || out[1] <= 0)
    fail(
      'SHAPE_MISMATCH',
      `${owner}: the output size [${out.join(', ')}] is too small for input ${String(g.h)}×${String(g.w)} with kernel [${g.kernel.join(', ')}], padding and dilation`,
    );
  return [out[0], out[1]];
}

/**
 * int32 indices [channels·kh·kw·oh·ow] (channel outermost, then kernel row, column, output row,
 * column) into a flattened channels×h×w plane followed by one padding element (index channels·h·w).
 * Only avgPool2d's countIncludePad=false divisor needs them now.
 */
function windowIndex(g: Geometry, channels: number, out: [number, number]): Int32Array {
  const [kh, kw] = g.kernel;
  const [oh, ow] = out;
  const plane = g.h * g.w;
  const pad = channels * plane;
  const idx = new Int32Array(channels * kh * kw * oh * ow);
  let n = 0;
  for (let c = 0; c < channels; c++) {
    for (let ki = 0; ki < kh; ki++) {
      for (let kj = 0; kj < kw; kj++) {
        for (let i = 0; i < oh; i++) {
          const ih = i * g.stride[0] - g.padBefore[0] + ki * g.dilation[0];
          for (let j = 0; j < ow; j++) {
            const iw = j * g.stride[1] - g.padBefore[1] + kj * g.dilation[1];
            idx[n++] = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w ? c * plane + ih * g.w + iw : pad;
          }
        }
      }
    }
  }
  return idx;
}

/** `x` [N, C, H, W] with `before`/`after` rows (dim 2) or columns (dim 3) of `value` added. */
function padDim(x: Tensor, dim: 2 | 3, before: number, after: number, value: number): Tensor {
  if (before === 0 && after === 0) return x;
  const block = (size: number): Tensor[] =>
    size === 0
      ? []
      : [
          full(
            x.shape.map((s, d) => (d === dim ? size : s)),
            value,
            { dtype: x.dtype, device: x.device },
          ),
        ];
  return cat([...block(before), x, ...block(after)], dim);
}

/**
 * The windows of `x` [N, C, H, W]: [N, C, kh·kw, oh, ow], where [n, c, ki·kw + kj, i, j] is the
 * pixel kernel offset (ki, kj) sees in output position (i, j); padding elements are `value`.
 */
function windows(x: Tensor, g: Geometry, out: [number, number], value: number, channelsFirst = false): Tensor {
  let xp = padDim(x, 2, g.padBefore[0], g.padTotal[0] - g.padBefore[0], value);
  xp = padDim(xp, 3, g.padBefore[1], g.padTotal[1] - g.padBefore[1], value);
  return unfold2d(xp, { kernel: g.kernel, stride: g.stride, dilation: g.dilation, out, size: [xp.shape[2], xp.shape[3]], channelsFirst });
}

export interface Conv2dOptions {
  stride?: Pair;
  /** An integer, a pair, 'valid' (0) or 'same' (stride 1 only; odd total padding puts the extra row/column at the end). */
  padding?: Pair | 'valid' | 'same';
  dilation?: Pair;
  groups?: number;
}

/**
 * 2-D cross-correlation of `input` [N, C, H, W] with `weight` [O, C/groups, kh, kw], plus `bias` [O]:
 * out[n, o] = bias[o] + Σ_{c in o's group, i, j} weight[o, c, i, j]·x[n, c, s·y + d·i - p, s·x + d·j - p].
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  checkOptions('conv2d', options, ['stride', 'padding', 'dilation', 'groups']);
  const [x, isBatched] = batched('conv2d', input);
  if (!isFloating(x.dtype)) fail('DTYPE_MISMATCH', `conv2d: input must be floating point, got ${x.dtype}`);
  if (weight.ndim !== 4)
    fail('SHAPE_MISMATCH', `conv2d: weight must have shape [outChannels, inChannels/groups, kh, kw], got ${fmtShape(weight.shape)}`);
  const [n, c, h, w] = x.shape;
  const [o, cg, kh, kw] = weight.shape;
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups <= 0)
    fail('INVALID_ARGUMENT', `conv2d: groups must be a positive integer, but ${describeValue(groups)} was passed`);
  if (c % groups !== 0 || o % groups !== 0 || cg * groups !== c) {
    fail(
      'SHAPE_MISMATCH',
      `conv2d: input ${fmtShape(x.shape)} with groups=${String(groups)} expects weight [${String(o)}, ${String(c / groups)}, kh, kw] and ${String(o)} divisible by ${String(groups)}, got weight ${fmtShape(weight.shape)}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== o))
    fail('SHAPE_MISMATCH', `conv2d: bias must have shape [${String(o)}], got ${fmtShape(bias.shape)}`);
  const stride = pair('conv2d', 'stride', options.stride ?? 1, 1);
  const dilation = pair('conv2d', 'dilation', options.dilation ?? 1, 1);
  const kernel: [number, number] = [kh, kw];
  let padBefore: [number, number];
  let padTotal: [number, number];
  const padding = options.padding ?? 0;
  if (padding === 'valid') {
    padBefore = [0, 0];
    padTotal = [0, 0];
  } else if (padding === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1) fail('INVALID_ARGUMENT', "conv2d: padding='same' is not supported for strided convolutions");
    padTotal = [dilation[0] * (kh - 1), dilation[1] * (kw - 1)];
    padBefore = [Math.floor(padTotal[0] / 2), Math.floor(padTotal[1] / 2)];
  } else {
    padBefore = pair('conv2d', 'padding', padding, 0);
    padTotal = [2 * padBefore[0], 2 * padBefore[1]];
  }
  const geometry: Geometry = { h, w, kernel, stride, dilation, padBefore, padTotal };
  const out = outSize('conv2d', geometry);
  const l = out[0] * out[1];
  const k = cg * kh * kw;
  let y: Tensor;
  if (groups === 1) {
    // One op (ops/conv-ops.ts): the windows as one matrix [C·kh·kw, N·oh·ow], so the whole batch is
    // one GEMM [O, C·kh·kw] × [C·kh·kw, N·oh·ow] and its backward two GEMMs with no sum over the batch.
    let xp = padDim(x, 2, padBefore[0], padTotal[0] - padBefore[0], 0);
    xp = padDim(xp, 3, padBefore[1], padTotal[1] - padBefore[1], 0);
    // The op saves the image for the weight's gradient. A padded image is already a private copy;
    // the caller's own tensor is cloned, so that changing it in place after the forward stays
    // allowed, as when the saved operand was the windows matrix.
    const saved = xp === x && isGradEnabled() && weight.requiresGrad ? x.clone() : xp;
    y = conv2dOp(saved, weight, bias ?? null, { kernel, stride, dilation, out, size: [xp.shape[2], xp.shape[3]] });
  } else {
    const cols = windows(x, geometry, out, 0).reshape([n, groups, k, l]);
    y = weight
      .reshape([groups, o / groups, k])
      .matmul(cols)
      .reshape([n, o, out[0], out[1]]);
    if (bias) y = y.add(bias.reshape([1, o, 1, 1]));
  }
  return isBatched ? y : y.squeeze(0);
}

export interface Pool2dOptions {
  /** Default: the kernel size. */
  stride?: Pair | null;
  /** Implicit padding on both sides, at most half the kernel. */
  padding?: Pair;
}

function poolGeometry(owner: string, x: Tensor, kernelSize: Pair, options: Pool2dOptions & { dilation?: Pair }): Geometry {
  const kernel = pair(owner, 'kernelSize', kernelSize, 1);
  const stride = options.stride === undefined || options.stride === null ? kernel : pair(owner, 'stride', options.stride, 1);
  const padBefore = pair(owner, 'padding', options.padding ?? 0, 0);
  if (padBefore[0] > kernel[0] / 2 || padBefore[1] > kernel[1] / 2)
    fail(
      'INVALID_ARGUMENT',
      `${owner}: pad should be at most half of effective kernel size, but got padding [${padBefore.join(', ')}] and kernel [${kernel.join(', ')}]`,
    );
  const dilation = pair(owner, 'dilation', options.dilation ?? 1, 1);
  return { h: x.shape[2], w: x.shape[3], kernel, stride, dilation, padBefore, padTotal: [2 * padBefore[0], 2 * padBefore[1]] };
}

/** Windows of every channel: [N, C, kh·kw, oh·ow], padding elements set to `value`. */
function poolWindows(x: Tensor, g: Geometry, out: [number, number], value: number): Tensor {
  const [n, c] = x.shape;
  return windows(x, g, out, value).reshape([n, c, g.kernel[0] * g.kernel[1], out[0] * out[1]]);
}

export interface MaxPool2dOptions extends Pool2dOptions {
  dilation?: Pair;
}

/** The maximum of each window (padding counts as -∞); the gradient goes to the first maximum of a window. */
export function maxPool2d(input: Tensor, kernelSize: Pair, options: MaxPool2dOptions = {}): Tensor {
  checkOptions('maxPool2d', options, ['stride', 'padding', 'dilation']);
  const [x, isBatched] = batched('maxPool2d', input);
  const g = poolGeometry('maxPool2d', x, kernelSize, options);
  const out = outSize('maxPool2d', g);
  const [n, c, h, w] = x.shape;
  const backend = x.storage.backend;
  let y: Tensor;
  if (backend.maxPool2dIndices) {
    // Each window's argmax straight from the image, then a gather of those pixels: the backward
    // is one scatter into the image, with no windows materialised and no fold.
    const geometry = { kernel: g.kernel, stride: g.stride, dilation: g.dilation, out, size: [h, w] as [number, number] };
    const indices = fromStorage(backend.maxPool2dIndices(x, geometry, g.padBefore), [n, c, out[0] * out[1]]);
    y = x
      .reshape([n, c, h * w])
      .gather(2, indices)
      .reshape([n, c, out[0], out[1]]);
  } else {
    y = poolWindows(x, g, out, -Infinity).max(2).values.reshape([n, c, out[0], out[1]]);
  }
  return isBatched ? y : y.squeeze(0);
}

export interface AvgPool2dOptions extends Pool2dOptions {
  /** Whether padding elements count in the divisor (default true, as PyTorch). */
  countIncludePad?: boolean;
  /** Divide every window's sum by this instead. */
  divisorOverride?: number | null;
}

/** The mean of each window (padding elements are zeros, counted in the divisor unless countIncludePad is false). */
export function avgPool2d(input: Tensor, kernelSize: Pair, options: AvgPool2dOptions = {}): Tensor {
  checkOptions('avgPool2d', options, ['stride', 'padding', 'countIncludePad', 'divisorOverride']);
  const [x, isBatched] = batched('avgPool2d', input);
  const g = poolGeometry('avgPool2d', x, kernelSize, options);
  const out = outSize('avgPool2d', g);
  const sums = poolWindows(x, g, out, 0).sum(2);
  const { countIncludePad = true, divisorOverride = null } = options;
  let y: Tensor;
  if (divisorOverride !== null) {
    if (typeof divisorOverride !== 'number' || divisorOverride === 0)
      fail('INVALID_ARGUMENT', `avgPool2d: divisorOverride must be a non-zero number, but ${describeValue(divisorOverride)} was passed`);
    y = sums.div(divisorOverride);
  } else if (countIncludePad) {
    y = sums.div(g.kernel[0] * g.kernel[1]);
  } else {
    const idx = windowIndex(g, 1, out);
    const l = out[0] * out[1];
    const counts = new Float64Array(l);
    for (let i = 0; i < idx.length; i++) if (idx[i] !== g.h * g.w) counts[i % l] += 1;
    y = sums.div(tensor(counts, { dtype: x.dtype, device: x.device }));
  }
  y = y.reshape([x.shape[0], x.shape[1], out[0], out[1]]);
  return isBatched ? y : y.squeeze(0);
}

export interface Conv2dModuleOptions extends Conv2dOptions {
  bias?: boolean;
}

/** A 2-D convolution layer; weight and bias initialised from U(-1/√fanIn, 1/√fanIn) as PyTorch (fanIn = inChannels/groups·kh·kw). */
export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly options: Conv2dOptions;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: Pair, options: Conv2dModuleOptions = {}) {
    super();
    checkOptions('nn.Conv2d', options, ['stride', 'padding', 'dilation', 'groups', 'bias']);
    for (const [name, v] of [
      ['inChannels', inChannels],
      ['outChannels', outChannels],
    ] as const) {
      if (!Number.isInteger(v) || v <= 0)
        fail('INVALID_ARGUMENT', `nn.Conv2d: ${name} must be a positive integer, but ${describeValue(v)} was passed`);
    }
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups <= 0 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      fail(
        'INVALID_ARGUMENT',
        `nn.Conv2d: groups (${describeValue(groups)}) must be a positive integer dividing inChannels (${String(inChannels)}) and outChannels (${String(outChannels)})`,
      );
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair('nn.Conv2d', 'kernelSize', kernelSize, 1);
    const { bias = true, ...convOptions } = options;
    this.options = convOptions;
    const fanIn = (inChannels / groups) * this.kernelSize[0] * this.kernelSize[1];
    // kaiming_uniform_(a=√5) reduces to a bound of 1/√fanIn, the bias's bound too.
    const bound = 1 / Math.sqrt(fanIn);
    this.weight = new Parameter(uniform([outChannels, inChannels / groups, ...this.kernelSize], -bound, bound));
    this.bias = bias ? new Parameter(uniform([outChannels], -bound, bound)) : null;
  }

  forward(input: Tensor): Tensor {
    return conv2d(input, this.weight, this.bias, this.options);
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: MaxPool2dOptions = {},
  ) {
    super();
    checkOptions('nn.MaxPool2d', options, ['stride', 'padding', 'dilation']);
  }
  forward(input: Tensor): Tensor {
    return maxPool2d(input, this.kernelSize, this.options);
  }
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: Pair,
    readonly options: AvgPool2dOptions = {},
  ) {
    super();
    checkOptions('nn.AvgPool2d', options, ['stride', 'padding', 'countIncludePad', 'divisorOverride']);
  }
  forward(input: Tensor): Tensor {
    return avgPool2d(input, this.kernelSize, this.options);
  }
}
