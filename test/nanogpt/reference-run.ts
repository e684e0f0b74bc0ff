/**
 * Runs the nanoGPT port (examples/nanogpt/train.ts, unchanged) the way scripts/reference/nanogpt.py
 * runs PyTorch: same config, initial weights and batch offsets from the same integer formulas (INIT,
 * OFFSETS there), and records the same numbers. No Node modules: the browser test bundles it too.
 */
import { noGrad, tensor, type Device, type Tensor } from '@gradflow/autograd';
import type { GPT } from '../../examples/nanogpt/model.js';
import { prepare } from '../../examples/nanogpt/prepare.js';
import { train, trainConfig, type PickOffsets, type Split } from '../../examples/nanogpt/train.js';

type Named<T> = Record<string, T>;

export interface Recorded {
  lr: number[];
  microLosses: number[][];
  gradNorm: number[];
  eval: Named<Record<Split, number>>;
  grads: Named<{ norms: Named<number>; full: Named<number[]> }>;
  params: { norms: Named<number>; full: Named<number[]> };
}

export interface Reference {
  torch: string;
  config: {
    n_layer: number;
    n_head: number;
    n_embd: number;
    block_size: number;
    bias: boolean;
    dropout: number;
    batch_size: number;
    gradient_accumulation_steps: number;
    learning_rate: number;
    max_iters: number;
    weight_decay: number;
    beta1: number;
    beta2: number;
    grad_clip: number;
    decay_lr: boolean;
    warmup_iters: number;
    lr_decay_iters: number;
    min_lr: number;
    eval_interval: number;
    eval_iters: number;
    vocab_size: number;
  };
  gradFull: string[];
  paramFull: string[];
  reference: Recorded;
  float32Deviation: Named<number>;
}

const M = 2147483647; // 2^31 - 1; every product below stays an exact integer in a double (< 2^53)

function nameSeed(name: string): number {
  let h = 7;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % M;
  return h !== 0 ? h : 1;
}

/** INIT of nanogpt.py: Park-Miller uniforms seeded by the parameter's name, mapped per kind. */
export function initValues(name: string, numel: number, nLayer: number): Float64Array {
  let x = nameSeed(name);
  let center = 0;
  let scale = 0.02 * Math.sqrt(12);
  if (name.endsWith('c_proj.weight')) scale = (0.02 / Math.sqrt(2 * nLayer)) * Math.sqrt(12);
  else if (name.endsWith('c_fc.weight'))
    scale = 0.5 * Math.sqrt(12); // std 0.5: GELU's inputs of order 1 (nanogpt.py says why)
  else if (name.endsWith('.weight') && name.includes('ln_')) [center, scale] = [1.0, 0.2];
  else if (name.endsWith('.bias')) scale = 0.02;
  const out = new Float64Array(numel);
  for (let i = 0; i < numel; i++) {
    x = (x * 48271) % M;
    out[i] = center + scale * (x / M - 0.5);
  }
  return out;
}

/** OFFSETS of nanogpt.py: the counter-th get_batch call of a split reads these row starts. */
function formulaOffsets(): PickOffsets {
  const counters: Record<Split, number> = { train: 0, val: 0 };
  return (split, length, cfg) => {
    const c = counters[split]++;
    const salt = split === 'train' ? 0 : 101;
    return Array.from({ length: cfg.batchSize }, (_, b) => ((c * cfg.batchSize + b) * 7919 + salt) % (length - cfg.blockSize));
  };
}

async function values(t: Tensor): Promise<number[]> {
  return ((await t.toArrayAsync()) as unknown[]).flat(Infinity) as number[];
}

function norm(v: readonly number[]): number {
  return Math.sqrt(v.reduce((s, x) => s + x * x, 0));
}

/** Trains the port on `device` exactly as the reference did and records what it recorded. */
export async function runLikeReference(ref: Reference, text: string, device: Device, iters?: number): Promise<Recorded> {
  const c = ref.config;
  const data = prepare(text);
  if (data.vocabSize !== c.vocab_size) throw new Error(`vocab size ${data.vocabSize} differs from the reference's ${c.vocab_size}`);
  const cfg = trainConfig({
    nLayer: c.n_layer,
    nHead: c.n_head,
    nEmbd: c.n_embd,
    blockSize: c.block_size,
    bias: c.bias,
    dropout: c.dropout,
    batchSize: c.batch_size,
    gradientAccumulationSteps: c.gradient_accumulation_steps,
    learningRate: c.learning_rate,
    maxIters: iters === undefined ? c.max_iters : iters - 1,
    weightDecay: c.weight_decay,
    beta1: c.beta1,
    beta2: c.beta2,
    gradClip: c.grad_clip,
    decayLr: c.decay_lr,
    warmupIters: c.warmup_iters,
    lrDecayIters: c.lr_decay_iters,
    minLr: c.min_lr,
    evalInterval: c.eval_interval,
    evalIters: c.eval_iters,
    device,
  });
  const rec: Recorded = { lr: [], microLosses: [], gradNorm: [], eval: {}, grads: {}, params: { norms: {}, full: {} } };
  const model: GPT = await train(data, cfg, {
    quiet: true,
    pick: formulaOffsets(),
    init: (m) => {
      noGrad(() => {
        for (const [name, p] of m.namedParameters())
          p.copy_(tensor(initValues(name, p.numel(), c.n_layer), { dtype: 'float32' }).reshape([...p.shape]));
      });
    },
    afterBackward: async (m, iter) => {
      if (iter !== 0 && iter !== c.max_iters) return;
      const norms: Named<number> = {};
      const full: Named<number[]> = {};
      for (const [name, p] of m.namedParameters()) {
        if (!p.grad) throw new Error(`${name} has no gradient after backward`);
        const g = await values(p.grad);
        norms[name] = norm(g);
        if (ref.gradFull.includes(name)) full[name] = g;
      }
      rec.grads[String(iter)] = { norms, full };
    },
    onEval: (iter, losses) => {
      rec.eval[String(iter)] = losses;
    },
    onIter: (info) => {
      rec.lr.push(info.lr);
      rec.microLosses.push(info.microLosses);
      rec.gradNorm.push(info.gradNorm ?? NaN);
    },
  });
  for (const [name, p] of model.namedParameters()) {
    const v = await values(p);
    rec.params.norms[name] = norm(v);
    if (ref.paramFull.includes(name)) rec.params.full[name] = v;
  }
  return rec;
}

/** max |a - b| / max |b|: the error relative to the tensor's scale (what float32 rounding bounds). */
export function relDev(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    num = Number.isNaN(d) ? Infinity : Math.max(num, d);
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

/** The largest relative deviation of each recorded quantity from the reference (keys as float32Deviation's). */
export function deviations(ours: Recorded, ref: Reference, iters = ref.config.max_iters + 1): Named<number> {
  const r = ref.reference;
  const last = String(ref.config.max_iters);
  const n = iters;
  const out: Named<number> = {
    lr: relDev(ours.lr, r.lr.slice(0, n)),
    microLosses: relDev(ours.microLosses.flat(), r.microLosses.slice(0, n).flat()),
    gradNorm: relDev(ours.gradNorm, r.gradNorm.slice(0, n)),
    eval: relDev(
      Object.values(ours.eval).flatMap((e) => [e.train, e.val]),
      Object.values(r.eval)
        .flatMap((e) => [e.train, e.val])
        .slice(0, 2 * Object.keys(ours.eval).length),
    ),
    gradsStep0: Math.max(...ref.gradFull.map((name) => relDev(ours.grads['0'].full[name], r.grads['0'].full[name]))),
    gradNormsStep0: Math.max(...Object.entries(r.grads['0'].norms).map(([name, v]) => Math.abs(ours.grads['0'].norms[name] / v - 1))),
  };
  if (n === ref.config.max_iters + 1) {
    out.gradsLast = Math.max(...ref.gradFull.map((name) => relDev(ours.grads[last].full[name], r.grads[last].full[name])));
    out.gradNormsLast = Math.max(...Object.entries(r.grads[last].norms).map(([name, v]) => Math.abs(ours.grads[last].norms[name] / v - 1)));
    out.params = Math.max(...ref.paramFull.map((name) => relDev(ours.params.full[name], r.params.full[name])));
    out.paramNorms = Math.max(...Object.entries(r.params.norms).map(([name, v]) => Math.abs(ours.params.norms[name] / v - 1)));
  }
  return out;
}
