import { ones, randn, tensor, uniform, zeros } from '../creation.js';
import { describeValue } from '../dtype.js';
import { fail } from '../errors.js';
import { noGrad } from '../grad-mode.js';
import { fmtShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import * as F from './functional.js';
import { Module, type AnyModule } from './module.js';
import { Parameter } from './parameter.js';
import { checkOptions } from '../options.js';
import { batchNormStats, batchNormTrain } from '../ops/norm-ops.js';

/** y = x Wᵀ + b, initialised as PyTorch does: U(-1/√in, 1/√in) for weight and bias. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: { bias?: boolean } = {}) {
    super();
    if (!Number.isInteger(inFeatures) || !Number.isInteger(outFeatures) || inFeatures <= 0 || outFeatures <= 0) {
      fail('INVALID_ARGUMENT', `nn.Linear(${String(inFeatures)}, ${String(outFeatures)}): feature counts must be positive integers`);
    }
    const opts: unknown = options;
    if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
      // new nn.Linear(4, 2, false) is Python's positional bias=False: refuse it rather than keep a bias.
      fail(
        'INVALID_ARGUMENT',
        `nn.Linear: the options argument must be an object { bias? }, but ${describeValue(opts)} was passed${typeof opts === 'boolean' ? ` (write new nn.Linear(${String(inFeatures)}, ${String(outFeatures)}, { bias: ${String(opts)} }))` : ''}`,
      );
    }
    for (const key of Object.keys(opts))
      if (key !== 'bias') fail('INVALID_ARGUMENT', `nn.Linear: unknown option '${key}'; the only option is bias`);
    if (options.bias !== undefined && typeof options.bias !== 'boolean')
      fail('INVALID_ARGUMENT', `nn.Linear: bias must be a boolean, but ${describeValue(options.bias)} was passed`);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    // kaiming_uniform_(a=√5) reduces to a bound of 1/√fan_in.
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = new Parameter(uniform([outFeatures, inFeatures], -bound, bound));
    this.bias = (options.bias ?? true) ? new Parameter(uniform([outFeatures], -bound, bound)) : null;
  }

  forward(input: Tensor): Tensor {
    const last = input.shape[input.ndim - 1];
    if (last !== this.inFeatures) {
      fail(
        'SHAPE_MISMATCH',
        `Linear(${String(this.inFeatures)} → ${String(this.outFeatures)}) got input of shape [${input.shape.join(', ')}]: its last dimension must be ${String(this.inFeatures)}`,
      );
    }
    const y = input.matmul(this.weight.transpose(0, 1));
    return this.bias ? y.add(this.bias) : y;
  }
}

/** Runs modules in order; children are named '0', '1', … as in PyTorch. */
export class Sequential extends Module {
  private readonly layers: Module[];

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) fail('INVALID_ARGUMENT', `nn.Sequential: argument ${String(i)} is not a Module`);
    });
    this.layers = modules;
  }

  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  at(index: number): Module {
    const m = this.layers.at(index);
    if (!m) fail('INVALID_ARGUMENT', `nn.Sequential.at(${String(index)}): index out of range for ${String(this.layers.length)} modules`);
    return m;
  }

  get length(): number {
    return this.layers.length;
  }

  forward(input: Tensor): Tensor {
    return this.layers.reduce((x, m) => m.forward(x), input);
  }
}

export class ReLU extends Module {
  forward(input: Tensor): Tensor {
    return input.relu();
  }
}

export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return input.sigmoid();
  }
}

export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return input.tanh();
  }
}

function positiveInt(owner: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    fail('INVALID_ARGUMENT', `${owner}: ${name} must be a positive integer, but ${describeValue(v)} was passed`);
  return v;
}

/** Returns its input unchanged. */
export class Identity extends Module {
  forward(input: Tensor): Tensor {
    return input;
  }
}

/** Flattens dims startDim..endDim (default 1..-1, keeping the batch dim). */
export class Flatten extends Module {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  forward(input: Tensor): Tensor {
    return input.flatten(this.startDim, this.endDim);
  }
}

/** A list of modules registered as children '0', '1', …; it has no forward of its own. */
export class ModuleList<M extends AnyModule = Module> extends Module<never> implements Iterable<M> {
  private readonly items: M[] = [];

  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(module: M): this {
    if (!(module instanceof Module)) fail('INVALID_ARGUMENT', `nn.ModuleList.append: ${describeValue(module)} is not a Module`);
    this.items.push(module);
    return this;
  }

  extend(modules: Iterable<M>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  at(index: number): M {
    const m = this.items.at(index);
    if (!m) fail('INVALID_ARGUMENT', `nn.ModuleList.at(${String(index)}): index out of range for ${String(this.items.length)} modules`);
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }

  override namedChildren(): [string, AnyModule][] {
    return this.items.map((m, i) => [String(i), m]);
  }

  forward(): never {
    return fail('INVALID_ARGUMENT', 'nn.ModuleList has no forward: iterate over it and call its modules');
  }
}

/** Modules by name (insertion order), registered as children under their keys; it has no forward of its own. */
export class ModuleDict<M extends AnyModule = Module> extends Module<never> {
  private readonly items = new Map<string, M>();

  constructor(modules: Record<string, M> | Iterable<[string, M]> = {}) {
    super();
    const entries = Symbol.iterator in modules ? [...modules] : Object.entries(modules);
    for (const [k, m] of entries) this.set(k, m);
  }

  set(key: string, module: M): this {
    if (typeof key !== 'string' || key === '' || key.includes('.'))
      fail('INVALID_ARGUMENT', `nn.ModuleDict: key must be a non-empty string without '.', but ${describeValue(key)} was passed`);
    if (!(module instanceof Module)) fail('INVALID_ARGUMENT', `nn.ModuleDict.set('${key}'): ${describeValue(module)} is not a Module`);
    this.items.set(key, module);
    return this;
  }

  get(key: string): M {
    const m = this.items.get(key);
    if (!m) fail('INVALID_ARGUMENT', `nn.ModuleDict: no module named '${key}' (keys: ${[...this.items.keys()].join(', ')})`);
    return m;
  }

  has(key: string): boolean {
    return this.items.has(key);
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  values(): M[] {
    return [...this.items.values()];
  }

  entries(): [string, M][] {
    return [...this.items.entries()];
  }

  get size(): number {
    return this.items.size;
  }

  override namedChildren(): [string, AnyModule][] {
    return this.entries();
  }

  forward(): never {
    return fail('INVALID_ARGUMENT', 'nn.ModuleDict has no forward: call its modules by key');
  }
}

export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  constructor(negativeSlope = 0.01) {
    super();
    if (typeof negativeSlope !== 'number')
      fail('INVALID_ARGUMENT', `nn.LeakyReLU: negativeSlope must be a number, but ${describeValue(negativeSlope)} was passed`);
    this.negativeSlope = negativeSlope;
  }
  forward(input: Tensor): Tensor {
    return F.leakyRelu(input, this.negativeSlope);
  }
}

export class SiLU extends Module {
  forward(input: Tensor): Tensor {
    return F.silu(input);
  }
}

export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(options: F.GeluOptions = {}) {
    super();
    checkOptions('nn.GELU', options, ['approximate']);
    const approximate: unknown = options.approximate ?? 'none';
    if (approximate !== 'none' && approximate !== 'tanh')
      fail('INVALID_ARGUMENT', `nn.GELU: approximate must be 'none' or 'tanh', but ${describeValue(approximate)} was passed`);
    this.approximate = approximate;
  }
  forward(input: Tensor): Tensor {
    return F.gelu(input, { approximate: this.approximate });
  }
}

export class Softmax extends Module {
  constructor(readonly dim: number) {
    super();
    if (typeof dim !== 'number' || !Number.isInteger(dim))
      fail('INVALID_ARGUMENT', `nn.Softmax: dim must be an integer, but ${describeValue(dim)} was passed`);
  }
  forward(input: Tensor): Tensor {
    return input.softmax(this.dim);
  }
}

/** Zeroes elements with probability p in training mode (kept ones scaled by 1/(1-p)); identity in eval mode. */
export class Dropout extends Module {
  readonly p: number;
  constructor(p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1))
      fail('INVALID_ARGUMENT', `nn.Dropout: dropout probability has to be between 0 and 1, but got ${describeValue(p)}`);
    this.p = p;
  }
  forward(input: Tensor): Tensor {
    return F.dropout(input, this.p, this.training);
  }
}

/** A lookup table [numEmbeddings, embeddingDim] initialised from N(0, 1), indexed by int32 tensors. */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  weight: Parameter;
  constructor(numEmbeddings: number, embeddingDim: number) {
    super();
    this.numEmbeddings = positiveInt('nn.Embedding', 'numEmbeddings', numEmbeddings);
    this.embeddingDim = positiveInt('nn.Embedding', 'embeddingDim', embeddingDim);
    this.weight = new Parameter(randn([numEmbeddings, embeddingDim]));
  }
  forward(input: Tensor): Tensor {
    return F.embedding(input, this.weight);
  }
}

export interface LayerNormModuleOptions {
  eps?: number;
  elementwiseAffine?: boolean;
  bias?: boolean;
}

/** Normalises over the last dims `normalizedShape`; affine weight (ones) and bias (zeros) by default. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  weight: Parameter | null;
  bias: Parameter | null;
  constructor(normalizedShape: number | readonly number[], options: LayerNormModuleOptions = {}) {
    super();
    checkOptions('nn.LayerNorm', options, ['eps', 'elementwiseAffine', 'bias']);
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.normalizedShape.forEach((d) => positiveInt('nn.LayerNorm', 'normalizedShape', d));
    this.eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? new Parameter(ones(this.normalizedShape)) : null;
    this.bias = affine && (options.bias ?? true) ? new Parameter(zeros(this.normalizedShape)) : null;
  }
  forward(input: Tensor): Tensor {
    return F.layerNorm(input, this.normalizedShape, this.weight, this.bias, { eps: this.eps });
  }
}

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running average; null: a cumulative average. */
  momentum?: number | null;
  affine?: boolean;
  trackRunningStats?: boolean;
}

/**
 * Batch normalisation per channel (dim 1). Training normalises with the batch mean and biased
 * variance over every dim but the channel's, and updates the buffers `runningMean`/`runningVar`
 * (the latter with the unbiased variance) and `numBatchesTracked`; eval normalises with the
 * running statistics (batch statistics again when `trackRunningStats` is false).
 */
abstract class BatchNorm extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  declare numBatchesTracked: Tensor | null;

  protected constructor(owner: string, numFeatures: number, options: BatchNormOptions) {
    super();
    checkOptions(owner, options, ['eps', 'momentum', 'affine', 'trackRunningStats']);
    this.numFeatures = positiveInt(owner, 'numFeatures', numFeatures);
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    const affine = options.affine ?? true;
    this.trackRunningStats = options.trackRunningStats ?? true;
    this.weight = affine ? new Parameter(ones([numFeatures])) : null;
    this.bias = affine ? new Parameter(zeros([numFeatures])) : null;
    this.registerBuffer('runningMean', this.trackRunningStats ? zeros([numFeatures]) : null);
    this.registerBuffer('runningVar', this.trackRunningStats ? ones([numFeatures]) : null);
    this.registerBuffer('numBatchesTracked', this.trackRunningStats ? tensor(0, { dtype: 'int32' }) : null);
  }

  /** Fails unless `input` has a rank this layer accepts and numFeatures channels in dim 1. */
  protected abstract checkInput(input: Tensor): void;

  forward(input: Tensor): Tensor {
    this.checkInput(input);
    const useBatchStats = this.training || this.runningMean === null || this.runningVar === null;
    if (useBatchStats) {
      const count = input.numel() / this.numFeatures;
      if (this.training && count <= 1)
        fail(
          'SHAPE_MISMATCH',
          `${this.constructor.name}: expected more than 1 value per channel when training, got input of shape ${fmtShape(input.shape)}`,
        );
      // The batch's statistics, then one op normalising with them (fused kernels where the backend has them).
      const stats = batchNormStats(input);
      if (this.training && this.runningMean && this.runningVar && this.numBatchesTracked) {
        const rm = this.runningMean;
        const rv = this.runningVar;
        const nbt = this.numBatchesTracked;
        noGrad(() => {
          nbt.add_(1);
          const factor = this.momentum ?? 1 / nbt.item();
          const unbiased = stats.variance.mul(count / (count - 1));
          rm.mul_(1 - factor).add_(stats.mean.mul(factor));
          rv.mul_(1 - factor).add_(unbiased.mul(factor));
        });
      }
      const c = this.numFeatures;
      const like = { dtype: input.dtype, device: input.device };
      return batchNormTrain(input, this.weight ?? ones([c], like), this.bias ?? zeros([c], like), stats, this.eps);
    }
    const statShape = input.shape.map((s, i) => (i === 1 ? s : 1));
    const mean = (this.runningMean as Tensor).reshape(statShape);
    const variance = (this.runningVar as Tensor).reshape(statShape);
    let y = input.sub(mean).div(variance.add(this.eps).sqrt());
    if (this.weight) y = y.mul(this.weight.reshape(statShape));
    if (this.bias) y = y.add(this.bias.reshape(statShape));
    return y;
  }
}

/** BatchNorm over [N, C] or [N, C, L] (statistics over N, and L). */
export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('nn.BatchNorm1d', numFeatures, options);
  }
  protected checkInput(input: Tensor): void {
    if ((input.ndim !== 2 && input.ndim !== 3) || input.shape[1] !== this.numFeatures) {
      fail(
        'SHAPE_MISMATCH',
        `BatchNorm1d(${String(this.numFeatures)}): expected input [N, ${String(this.numFeatures)}] or [N, ${String(this.numFeatures)}, L], got ${fmtShape(input.shape)}`,
      );
    }
  }
}

/** BatchNorm over [N, C, H, W] (statistics over N, H and W). */
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super('nn.BatchNorm2d', numFeatures, options);
  }
  protected checkInput(input: Tensor): void {
    if (input.ndim !== 4 || input.shape[1] !== this.numFeatures) {
      fail(
        'SHAPE_MISMATCH',
        `BatchNorm2d(${String(this.numFeatures)}): expected input [N, ${String(this.numFeatures)}, H, W], got ${fmtShape(input.shape)}`,
      );
    }
  }
}
