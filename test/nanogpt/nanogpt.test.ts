/**
 * The nanoGPT port (examples/nanogpt) trains as PyTorch does: 20 iterations of train.py's loop
 * (AdamW param groups, cosine schedule with warmup, 2-step gradient accumulation, clipping at 1.0,
 * estimate_loss) from the same initial weights on the same batches, compared with the float64
 * reference scripts/reference/nanogpt.py wrote (tolerances.ts says why each bound). On the CPU and
 * on WebGPU (Dawn on SwiftShader here: skipped locally without an adapter, a failure under CI).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initWebGPU, manualSeed, tensor } from '@gradflow/autograd';
import { GPT, gptConfig } from '../../examples/nanogpt/model.js';
import { prepare } from '../../examples/nanogpt/prepare.js';
import { getLr, trainConfig } from '../../examples/nanogpt/train.js';
import { deviations, runLikeReference, type Recorded, type Reference } from './reference-run.js';
import { TOLERANCES } from './tolerances.js';

const ref = JSON.parse(readFileSync(new URL('../../scripts/reference/nanogpt.json', import.meta.url), 'utf8')) as Reference;
const text = readFileSync(new URL('../../examples/nanogpt/data/input.txt', import.meta.url), 'utf8');

function meanLoss(r: Recorded, iter: number): number {
  const m = r.microLosses[iter];
  return m.reduce((a, b) => a + b, 0) / m.length;
}

function expectWithinTolerances(ours: Recorded, label: string): void {
  const dev = deviations(ours, ref);
  for (const [key, value] of Object.entries(dev))
    expect(value, `${label}: ${key} deviates by ${value.toExponential(2)}`).toBeLessThan(TOLERANCES[key]);
  // the run really learns (the reference: 4.08 → 3.26 in 20 iterations)
  expect(meanLoss(ours, ref.config.max_iters)).toBeLessThan(meanLoss(ours, 0) - 0.5);
}

describe('nanoGPT port vs PyTorch (scripts/reference/nanogpt.json)', () => {
  it('the tolerances admit PyTorch’s own float32 run, and the reference run learns and clips', () => {
    for (const [key, value] of Object.entries(ref.float32Deviation)) expect(value, key).toBeLessThan(TOLERANCES[key]);
    expect(meanLoss(ref.reference, ref.config.max_iters)).toBeLessThan(meanLoss(ref.reference, 0) - 0.5);
    // clipping acted at some steps and not at others, so both branches are compared
    expect(ref.reference.gradNorm.some((n) => n > ref.config.grad_clip)).toBe(true);
    expect(ref.reference.gradNorm.some((n) => n < ref.config.grad_clip)).toBe(true);
  });

  it('prepare.py: the vocabulary is the sorted set of characters, split 90/10', () => {
    const data = prepare('hello world\n');
    expect(data.chars).toEqual(['\n', ' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(data.decode(data.encode('world'))).toBe('world');
    expect([...data.trainIds]).toEqual(data.encode('hello worl')); // int(12 * 0.9) = 10 characters
    expect([...data.valIds]).toEqual(data.encode('d\n'));
  });

  it('get_lr: linear warmup from lr/(warmup+1), cosine down to min_lr, then min_lr', () => {
    const cfg = trainConfig({ learningRate: 1, minLr: 0.1, warmupIters: 4, lrDecayIters: 14 });
    expect(getLr(0, cfg)).toBeCloseTo(1 / 5, 15);
    expect(getLr(3, cfg)).toBeCloseTo(4 / 5, 15);
    expect(getLr(4, cfg)).toBeCloseTo(1, 15); // decay ratio 0: cos 0 = 1
    expect(getLr(9, cfg)).toBeCloseTo(0.1 + 0.5 * 0.9, 15); // decay ratio 1/2: cos(π/2) = 0
    expect(getLr(14, cfg)).toBeCloseTo(0.1, 15);
    expect(getLr(15, cfg)).toBe(0.1);
  });

  it('GPT: weight tying, PyTorch’s parameter names, configure_optimizers’ groups, the scaled c_proj init', () => {
    manualSeed(0);
    const model = new GPT(gptConfig({ vocabSize: 11, blockSize: 8, nLayer: 3, nHead: 2, nEmbd: 32 }), { quiet: true });
    expect(model.lm_head.weight).toBe(model.transformer.wte.weight);
    const names = model.namedParameters().map(([n]) => n);
    expect(names.slice(0, 6)).toEqual([
      'transformer.wte.weight',
      'transformer.wpe.weight',
      'transformer.h.0.ln_1.weight',
      'transformer.h.0.ln_1.bias',
      'transformer.h.0.attn.c_attn.weight',
      'transformer.h.0.attn.c_attn.bias',
    ]);
    expect(names).not.toContain('lm_head.weight'); // listed once, as PyTorch's named_parameters
    const opt = model.configureOptimizers(0.1, 1e-3, [0.9, 0.95], { quiet: true });
    expect(opt.paramGroups.map((g) => [g.params.length, g.weightDecay])).toEqual([
      [2 + 3 * 4, 0.1], // wte, wpe; per block c_attn, attn.c_proj, c_fc, mlp.c_proj weights
      [3 * 8 + 2, 0], // per block 2 LayerNorms × (weight, bias) + 4 Linear biases; ln_f weight, bias
    ]);
    // std of the residual projections 0.02/√(2·n_layer) ≈ 0.00816 over 3·2·1024 draws (±4% at 3σ), others 0.02
    const std = (suffix: string): number => {
      const v = model
        .namedParameters()
        .filter(([n]) => n.endsWith(suffix))
        .flatMap(([, p]) => (p.toArray() as number[][]).flat());
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    };
    expect(Math.abs(std('c_proj.weight') / (0.02 / Math.sqrt(6)) - 1)).toBeLessThan(0.04);
    expect(Math.abs(std('c_fc.weight') / 0.02 - 1)).toBeLessThan(0.04);
  });

  it('the manual attention path (training with dropout) computes what scaledDotProductAttention does', () => {
    // dropout 1e-12 takes the manual path in training but keeps every element at scale 1/(1-1e-12),
    // which is 1 in float32: the same function as eval mode, which takes the flash path
    manualSeed(3);
    const model = new GPT(gptConfig({ vocabSize: 13, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout: 1e-12 }), { quiet: true });
    const attn = model.transformer.h.at(0).attn;
    expect(attn.flash).toBe(true);
    expect(attn.bias?.shape).toEqual([1, 1, 8, 8]);
    expect(Object.keys(model.stateDict()).filter((k) => k.endsWith('.attn.bias'))).toEqual([]); // not persistent
    const idx = tensor(
      [
        [1, 5, 2, 12, 0, 7],
        [3, 3, 9, 4, 11, 6],
      ],
      { dtype: 'int32' },
    );
    const targets = tensor(
      [
        [5, 2, 12, 0, 7, 8],
        [3, 9, 4, 11, 6, 10],
      ],
      { dtype: 'int32' },
    );
    model.train();
    const [manual, manualLoss] = model.forward(idx, targets);
    model.eval();
    const [flash, flashLoss] = model.forward(idx, targets);
    expect(manualLoss).not.toBeNull();
    const a = (manual.toArray() as number[][][]).flat(2);
    const b = (flash.toArray() as number[][][]).flat(2);
    // float32: the two paths differ only in where -inf enters and in the softmax's rounding
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-6);
    expect(manualLoss?.item()).toBeCloseTo(flashLoss?.item() ?? NaN, 6);
    // and the mask is causal: changing the last token leaves the earlier positions' logits alone
    const idx2 = tensor(
      [
        [1, 5, 2, 12, 0, 9],
        [3, 3, 9, 4, 11, 1],
      ],
      { dtype: 'int32' },
    );
    model.train();
    const [changed] = model.forward(idx2, targets);
    const c = changed.toArray() as number[][][];
    const m = manual.toArray() as number[][][];
    for (const row of [0, 1]) {
      expect(c[row].slice(0, 5)).toEqual(m[row].slice(0, 5));
      expect(c[row][5]).not.toEqual(m[row][5]);
    }
  });

  it('generate: appends max_new_tokens tokens from the vocabulary, crops the context at block_size', () => {
    manualSeed(1);
    const model = new GPT(gptConfig({ vocabSize: 7, blockSize: 4, nLayer: 1, nHead: 1, nEmbd: 8 }), { quiet: true });
    model.eval();
    const out = model.generate(tensor([[1, 2]], { dtype: 'int32' }), 6, 1.0, 3);
    expect(out.shape).toEqual([1, 8]);
    const row = (out.toArray() as number[][])[0];
    expect(row.slice(0, 2)).toEqual([1, 2]);
    for (const t of row) expect(t >= 0 && t < 7 && Number.isInteger(t)).toBe(true);
  });

  it('top_k = 1 is greedy decoding: the arg-max of the last position’s logits', () => {
    manualSeed(2);
    const model = new GPT(gptConfig({ vocabSize: 9, blockSize: 8, nLayer: 1, nHead: 1, nEmbd: 8 }), { quiet: true });
    model.eval();
    const idx = tensor([[3, 1, 4]], { dtype: 'int32' });
    const [logits] = model.forward(idx);
    const last = (logits.toArray() as number[][][])[0][0];
    const out = model.generate(idx, 1, 1.0, 1);
    expect((out.toArray() as number[][])[0][3]).toBe(last.indexOf(Math.max(...last)));
  });

  it('trains on the CPU within float32 tolerance of PyTorch for 20 iterations', async () => {
    expectWithinTolerances(await runLikeReference(ref, text, 'cpu'), 'cpu');
  });
});

const gpu = await initWebGPU().then(
  () => true,
  (e: unknown) => {
    const reason = e instanceof Error ? e.message : String(e);
    if (process.env.CI) throw new Error(`CI must run the WebGPU suites, but no adapter is available: ${reason}`);
    console.warn(`[gradflow] skipping the nanoGPT WebGPU test: ${reason}`);
    return false;
  },
);

describe.skipIf(!gpu)('nanoGPT port vs PyTorch on WebGPU', () => {
  it('trains on WebGPU within float32 tolerance of PyTorch for 20 iterations', async () => {
    expectWithinTolerances(await runLikeReference(ref, text, 'webgpu'), 'webgpu');
  }, 120_000);
});
