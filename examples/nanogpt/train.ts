/**
 * The essentials of nanoGPT's `train.py` (karpathy/nanoGPT@3adf61e154c3fe3fca428ad6bc3818b27a3b8291,
 * MIT licence, © Andrej Karpathy) on @gradflow/autograd: the poor man's data loader `get_batch`,
 * AdamW from `configure_optimizers`, the cosine learning-rate schedule with warmup `get_lr`,
 * gradient accumulation, `clip_grad_norm_`, and `estimate_loss` under noGrad in eval mode.
 * Left out: DDP, checkpoints, wandb, mixed precision (GradScaler/autocast), torch.compile, MFU.
 *
 * No Node modules here, so the browser bundle can run it too; `run.ts` is the command line.
 */
import { manualSeed, nn, noGrad, randint, tensor, type Device, type Tensor } from '@gradflow/autograd';
import { GPT, gptConfig } from './model.js';
import type { CharDataset } from './prepare.js';

/** train.py's configuration (camelCased); defaults: a baby GPT that learns in well under a minute on a CPU. */
export interface TrainConfig {
  evalInterval: number;
  logInterval: number;
  evalIters: number;
  /** if true, stop right after the first eval */
  evalOnly: boolean;
  /** used to simulate larger batch sizes */
  gradientAccumulationSteps: number;
  /** if gradientAccumulationSteps > 1, this is the micro-batch size */
  batchSize: number;
  blockSize: number;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  /** for pretraining 0 is good, for finetuning try 0.1+ */
  dropout: number;
  /** do we use bias inside LayerNorm and Linear layers? */
  bias: boolean;
  /** max learning rate */
  learningRate: number;
  /** total number of training iterations (the loop runs iterations 0..maxIters, as train.py's) */
  maxIters: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  /** clip gradients at this value, or disable if == 0.0 */
  gradClip: number;
  /** whether to decay the learning rate */
  decayLr: boolean;
  /** how many steps to warm up for */
  warmupIters: number;
  /** should be ~= maxIters per Chinchilla */
  lrDecayIters: number;
  /** minimum learning rate, should be ~= learningRate/10 per Chinchilla */
  minLr: number;
  device: Device;
  seed: number;
}

export function trainConfig(overrides: Partial<TrainConfig> = {}): TrainConfig {
  return {
    evalInterval: 50,
    logInterval: 10,
    evalIters: 10,
    evalOnly: false,
    gradientAccumulationSteps: 1,
    batchSize: 8,
    blockSize: 32,
    nLayer: 2,
    nHead: 2,
    nEmbd: 32,
    dropout: 0.0,
    bias: false,
    learningRate: 1e-2,
    maxIters: 200,
    weightDecay: 1e-1,
    beta1: 0.9,
    beta2: 0.99,
    gradClip: 1.0,
    decayLr: true,
    warmupIters: 10,
    lrDecayIters: 200,
    minLr: 1e-3,
    device: 'cpu',
    seed: 1337,
    ...overrides,
  };
}

export type Split = 'train' | 'val';

/** Start offsets of a batch's rows in a split of `length` tokens: train.py's torch.randint(len(data) - block_size, (batch_size,)). */
export type PickOffsets = (split: Split, length: number, cfg: TrainConfig) => number[];

export const randomOffsets: PickOffsets = (_split, length, cfg) =>
  randint(0, length - cfg.blockSize, [cfg.batchSize]).toArray() as number[];

/** poor man's data loader: x = data[i:i+block_size], y = data[i+1:i+1+block_size] for each start i. */
export function getBatch(data: CharDataset, split: Split, cfg: TrainConfig, pick: PickOffsets = randomOffsets): [Tensor, Tensor] {
  const ids = split === 'train' ? data.trainIds : data.valIds;
  const ix = pick(split, ids.length, cfg);
  const x = new Int32Array(ix.length * cfg.blockSize);
  const y = new Int32Array(ix.length * cfg.blockSize);
  ix.forEach((i, b) => {
    x.set(ids.subarray(i, i + cfg.blockSize), b * cfg.blockSize);
    y.set(ids.subarray(i + 1, i + 1 + cfg.blockSize), b * cfg.blockSize);
  });
  const shape = [ix.length, cfg.blockSize];
  return [tensor(x, { dtype: 'int32' }).reshape(shape).to(cfg.device), tensor(y, { dtype: 'int32' }).reshape(shape).to(cfg.device)];
}

/** learning rate decay scheduler (cosine with warmup), exactly train.py's get_lr */
export function getLr(it: number, cfg: TrainConfig): number {
  // 1) linear warmup for warmup_iters steps
  if (it < cfg.warmupIters) return (cfg.learningRate * (it + 1)) / (cfg.warmupIters + 1);
  // 2) if it > lr_decay_iters, return min learning rate
  if (it > cfg.lrDecayIters) return cfg.minLr;
  // 3) in between, use cosine decay down to min learning rate
  const decayRatio = (it - cfg.warmupIters) / (cfg.lrDecayIters - cfg.warmupIters);
  if (!(decayRatio >= 0 && decayRatio <= 1)) throw new Error(`getLr: decay ratio ${decayRatio} is outside [0, 1]`);
  const coeff = 0.5 * (1.0 + Math.cos(Math.PI * decayRatio)); // coeff ranges 0..1
  return cfg.minLr + coeff * (cfg.learningRate - cfg.minLr);
}

/** helps estimate an arbitrarily accurate loss over either split using many batches */
export async function estimateLoss(model: GPT, data: CharDataset, cfg: TrainConfig, pick?: PickOffsets): Promise<Record<Split, number>> {
  const out: Record<Split, number> = { train: 0, val: 0 };
  model.eval();
  for (const split of ['train', 'val'] as const) {
    let sum = 0;
    for (let k = 0; k < cfg.evalIters; k++) {
      const [X, Y] = getBatch(data, split, cfg, pick);
      const loss = noGrad(() => model.forward(X, Y)[1]);
      if (!loss) throw new Error('estimateLoss: the model returned no loss');
      sum += await loss.itemAsync();
    }
    out[split] = sum / cfg.evalIters;
  }
  model.train();
  return out;
}

export interface IterInfo {
  iter: number;
  lr: number;
  /** the last micro-step's loss times gradientAccumulationSteps, as train.py logs it */
  lossf: number;
  /** every micro-step's (unscaled) loss */
  microLosses: number[];
  /** the total gradient norm before clipping (clipGradNorm_'s result), or null without clipping */
  gradNorm: number | null;
  /** time since the previous read-back (iterations in between included, as train.py's dt when it logs) */
  ms: number;
}

export interface TrainHooks {
  /** picks batch offsets (default: randint from the engine's seeded generator, as train.py) */
  pick?: PickOffsets;
  /** replaces the model's initial weights (on the CPU, before the move to cfg.device) */
  init?: (model: GPT) => void;
  /** called after backward and before clipping at every iteration (the gradients are in p.grad) */
  afterBackward?: (model: GPT, iter: number) => Promise<void> | void;
  onEval?: (iter: number, losses: Record<Split, number>) => void;
  onIter?: (info: IterInfo) => void;
  /** quiet: no console output */
  quiet?: boolean;
}

/** Builds the model as train.py does from scratch (seeded) and runs its training loop; returns the trained model. */
export async function train(data: CharDataset, cfg: TrainConfig, hooks: TrainHooks = {}): Promise<GPT> {
  const log = hooks.quiet === true ? (): void => undefined : console.log;
  const tokensPerIter = cfg.gradientAccumulationSteps * cfg.batchSize * cfg.blockSize;
  log(`tokens per iteration will be: ${tokensPerIter.toLocaleString('en-US')}`);
  manualSeed(cfg.seed);

  // model init
  const gptconf = gptConfig({
    nLayer: cfg.nLayer,
    nHead: cfg.nHead,
    nEmbd: cfg.nEmbd,
    blockSize: cfg.blockSize,
    bias: cfg.bias,
    vocabSize: data.vocabSize,
    dropout: cfg.dropout,
  });
  const model = new GPT(gptconf, { quiet: hooks.quiet });
  hooks.init?.(model);
  model.to(cfg.device);
  // optimizer
  const optimizer = model.configureOptimizers(cfg.weightDecay, cfg.learningRate, [cfg.beta1, cfg.beta2], { quiet: hooks.quiet });

  // training loop
  let [X, Y] = getBatch(data, 'train', cfg, hooks.pick); // fetch the very first batch
  let t0 = performance.now();
  let iterNum = 0;
  for (;;) {
    // determine and set the learning rate for this iteration
    const lr = cfg.decayLr ? getLr(iterNum, cfg) : cfg.learningRate;
    for (const paramGroup of optimizer.paramGroups) paramGroup.lr = lr;

    // evaluate the loss on train/val sets
    if (iterNum % cfg.evalInterval === 0) {
      const losses = await estimateLoss(model, data, cfg, hooks.pick);
      log(`step ${iterNum}: train loss ${losses.train.toFixed(4)}, val loss ${losses.val.toFixed(4)}`);
      hooks.onEval?.(iterNum, losses);
    }
    if (iterNum === 0 && cfg.evalOnly) break;

    // forward backward update, with optional gradient accumulation to simulate larger batch size
    const microLosses: Tensor[] = [];
    let loss: Tensor | null = null;
    for (let microStep = 0; microStep < cfg.gradientAccumulationSteps; microStep++) {
      const [, raw] = model.forward(X, Y);
      if (!raw) throw new Error('train: the model returned no loss');
      microLosses.push(raw);
      loss = raw.div(cfg.gradientAccumulationSteps); // scale the loss to account for gradient accumulation
      // fetch the next batch (train.py: "immediately async prefetch next batch while model is doing the forward pass on the GPU")
      [X, Y] = getBatch(data, 'train', cfg, hooks.pick);
      // backward pass
      loss.backward();
    }
    await hooks.afterBackward?.(model, iterNum);
    // clip the gradient
    const norm = cfg.gradClip !== 0.0 ? nn.utils.clipGradNorm_(model.parameters(), cfg.gradClip) : null;
    // step the optimizer
    optimizer.step();
    // flush the gradients as soon as we can, no need for this memory anymore
    optimizer.zeroGrad({ setToNone: true });

    // timing and logging: reading the loss is a CPU-GPU sync point on WebGPU, so only when needed
    if (iterNum % cfg.logInterval === 0 || hooks.onIter) {
      // scale up to undo the division above, approximating the true total loss (exact would have been a sum)
      const lossf = loss ? (await loss.itemAsync()) * cfg.gradientAccumulationSteps : NaN;
      const t1 = performance.now();
      const dt = t1 - t0;
      t0 = t1;
      if (iterNum % cfg.logInterval === 0) log(`iter ${iterNum}: loss ${lossf.toFixed(4)}, time ${dt.toFixed(2)}ms`);
      if (hooks.onIter) {
        const microValues: number[] = [];
        for (const m of microLosses) microValues.push(await m.itemAsync());
        const gradNorm = norm ? await norm.itemAsync() : null;
        hooks.onIter({ iter: iterNum, lr, lossf, microLosses: microValues, gradNorm, ms: dt });
      }
    }
    iterNum += 1;

    // termination conditions
    if (iterNum > cfg.maxIters) break;
  }
  return model;
}
