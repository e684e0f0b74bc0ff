/**
 * One training step of the nanoGPT model (examples/nanogpt/model.ts) — forward, cross-entropy loss,
 * backward, AdamW step — on gradflow vs the same model written with TF.js ops, in one run:
 * gradflow CPU vs tfjs-cpu and tfjs-wasm (SIMD), then, when a WebGPU adapter exists, gradflow
 * WebGPU vs tfjs-webgpu on the same adapter and GPUDevice.
 *
 *   npm run bench:nanogpt                      # builds the engine and examples/nanogpt/dist first
 *   node bench/nanogpt.mjs --steps=5           # timed steps per framework (default 3, after 2 warm-up steps)
 *   node bench/nanogpt.mjs --cpu               # skip WebGPU
 *   node bench/nanogpt.mjs --only=gradflow     # gradflow CPU alone (e.g. under node --cpu-prof)
 *   node bench/nanogpt.mjs --only=webgpu       # the WebGPU pair alone (--gpu-steps=N timed steps, default 3)
 *
 * The model is the issue's size: 4 layers, 4 heads, n_embd 128, block 64, batch 16, the
 * full tiny-shakespeare character vocabulary (65, as nanoGPT's shakespeare_char; the bundled excerpt uses 58
 * of them), dropout 0, bias on. The TF.js model takes gradflow's
 * initial weights (Linear weights kept [out, in], products as x·Wᵀ) and does what the port does:
 * embeddings by tf.gather, wpe's first T rows added, causal attention with a −1e9 additive mask
 * before the softmax (exp underflows to exactly 0 as with −inf), layer norm through tf.moments
 * (biased variance, eps 1e-5), exact GELU 0.5·x·(1 + erf(x/√2)), the lm_head tied to wte, mean
 * softmax cross-entropy; gradients by tf.variableGrads; AdamW written as PyTorch's formula
 * (p ← p·(1 − lr·wd), then the bias-corrected Adam update, eps added to √v̂), weight decay 0.1 on
 * the ≥2-dim parameters only, as configureOptimizers' two groups do. Before timing, both sides take
 * two steps from the same weights on the same batch and print their losses: the second loss
 * depends on the gradients and the AdamW update, so equal losses mean equal computations.
 *
 * Each timed sample is one step (ending with reading the loss back); the frameworks alternate
 * sample by sample with a full GC before each, so load from other processes hits them alike; the
 * table gives the median ms/step and gradflow's speed-up (other ms / gradflow ms).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { initWebGPU, manualSeed, tensor } from '@gradflow/autograd';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from './tfjs.mjs';
import { median } from './timing.mjs';

const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const steps = Number(args.get('steps') ?? 3);
const gpuSteps = Number(args.get('gpu-steps') ?? 3);
const warmupSteps = 2; // the two steps of checkLosses
const only = args.get('only');
if (!(Number.isInteger(steps) && steps >= 1)) throw new Error(`--steps must be a positive integer, got ${String(args.get('steps'))}`);
if (!(Number.isInteger(gpuSteps) && gpuSteps >= 1))
  throw new Error(`--gpu-steps must be a positive integer, got ${String(args.get('gpu-steps'))}`);

// The port compiles to examples/nanogpt/dist (`npm run bench:nanogpt` does it). Imported by URL, so that the
// type check of this file (which runs before anything is compiled there) neither needs nor checks dist/.
const dist = (file) => new URL(`../examples/nanogpt/dist/${file}`, import.meta.url).href;
let modelModule, prepareModule;
try {
  [modelModule, prepareModule] = await Promise.all([import(dist('model.js')), import(dist('prepare.js'))]);
} catch (e) {
  throw new Error(`examples/nanogpt/dist is missing: run 'npm run bench:nanogpt' (it compiles examples/nanogpt first)`, { cause: e });
}
const { GPT, gptConfig } = modelModule;
const { prepare } = prepareModule;

v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');

// ---- the data: one fixed batch of the bundled Shakespeare text ----
const text = readFileSync(new URL('../examples/nanogpt/data/input.txt', import.meta.url), 'utf8');
const dataset = prepare(text);
const B = 16,
  T = 64;
const config = gptConfig({ nLayer: 4, nHead: 4, nEmbd: 128, blockSize: T, vocabSize: 65, dropout: 0.0, bias: true });
const LR = 1e-3,
  BETAS = [0.9, 0.99],
  WEIGHT_DECAY = 0.1,
  EPS = 1e-8;
const xIds = new Int32Array(B * T),
  yIds = new Int32Array(B * T);
for (let b = 0; b < B; b++) {
  const off = (b * 1931) % (dataset.trainIds.length - T - 1); // fixed, spread-out offsets
  xIds.set(dataset.trainIds.subarray(off, off + T), b * T);
  yIds.set(dataset.trainIds.subarray(off + 1, off + T + 1), b * T);
}

// ---- gradflow ----
function gradflowCase(device) {
  manualSeed(1337);
  const model = new GPT(config, { quiet: true });
  const initial = model.namedParameters().map(([name, p]) => [name, p.shape, Float32Array.from(p.dataSync())]);
  if (device !== 'cpu') model.to(device);
  const opt = model.configureOptimizers(WEIGHT_DECAY, LR, BETAS, { quiet: true });
  const X = tensor(xIds, { dtype: 'int32' }).reshape([B, T]).to(device);
  const Y = tensor(yIds, { dtype: 'int32' }).reshape([B, T]).to(device);
  const step = () => {
    const [, loss] = model.forward(X, Y);
    if (!loss) throw new Error('GPT.forward returned no loss although targets were given');
    loss.backward();
    opt.step();
    opt.zeroGrad({ setToNone: true });
    return loss;
  };
  return {
    initial,
    step: device === 'cpu' ? () => step().item() : async () => step().itemAsync(),
  };
}

// ---- TF.js: the same model in tf ops, from gradflow's initial weights ----
function tfjsCase(initial, asyncRead) {
  const P = new Map(initial.map(([name, shape, data]) => [name, tf.variable(tf.tensor(data, shape, 'float32'), true)]));
  const vars = [...P.values()];
  const decays = initial.map(([, shape]) => shape.length >= 2);
  const m = vars.map((v) => tf.variable(tf.zerosLike(v), false));
  const s = vars.map((v) => tf.variable(tf.zerosLike(v), false));
  let t = 0;
  const X = tf.tensor2d(xIds, [B, T], 'int32');
  // tf.gather's gradient is UnsortedSegmentSum, which tfjs-backend-wasm 4.22 does not implement: there
  // the token embedding is the equivalent one-hot [B·T, vocab] × wte product (gradient: a matmul).
  const gatherGrad = tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined;
  const xOnehot = gatherGrad ? null : tf.oneHot(tf.tensor1d(xIds, 'int32'), config.vocabSize);
  const onehot = tf.oneHot(tf.tensor1d(yIds, 'int32'), config.vocabSize);
  const C = config.nEmbd,
    nh = config.nHead,
    hs = C / nh;
  const lower = tf.linalg.bandPart(tf.ones([T, T]), -1, 0);
  const maskBias = tf.mul(tf.sub(1, lower), -1e9); // 0 on and below the diagonal, −1e9 above
  const p = (name) => P.get(name);
  const linear = (x, prefix) => tf.add(tf.matMul(x, p(`${prefix}.weight`), false, true), p(`${prefix}.bias`));
  const layerNorm = (x, prefix) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5))), p(`${prefix}.weight`)), p(`${prefix}.bias`));
  };
  const gelu = (x) => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
  const heads = (x) => tf.transpose(tf.reshape(x, [B, T, nh, hs]), [0, 2, 1, 3]);
  const lossFn = () => {
    const wte = p('transformer.wte.weight');
    // activations are kept [B·T, C]: tfjs's BatchMatMul gradient does not reduce a broadcast 2-D weight
    const tok = xOnehot ? tf.reshape(tf.matMul(xOnehot, wte), [B, T, C]) : tf.gather(wte, X);
    let x = tf.reshape(tf.add(tok, tf.slice(p('transformer.wpe.weight'), [0, 0], [T, C])), [B * T, C]);
    for (let l = 0; l < config.nLayer; l++) {
      const h = `transformer.h.${String(l)}`;
      const [q, k, v] = tf.split(linear(layerNorm(x, `${h}.ln_1`), `${h}.attn.c_attn`), 3, -1);
      let att = tf.mul(tf.matMul(heads(q), heads(k), false, true), 1 / Math.sqrt(hs));
      att = tf.softmax(tf.add(att, maskBias), -1);
      const y = tf.reshape(tf.transpose(tf.matMul(att, heads(v)), [0, 2, 1, 3]), [B * T, C]);
      x = tf.add(x, linear(y, `${h}.attn.c_proj`));
      x = tf.add(x, linear(gelu(linear(layerNorm(x, `${h}.ln_2`), `${h}.mlp.c_fc`)), `${h}.mlp.c_proj`));
    }
    x = layerNorm(x, 'transformer.ln_f');
    const logits = tf.matMul(x, wte, false, true); // weight tying: lm_head is wte
    return /** @type {tf.Scalar} */ (tf.losses.softmaxCrossEntropy(onehot, logits));
  };
  const step = () => {
    t++;
    const { value, grads } = tf.variableGrads(lossFn, vars);
    tf.tidy(() => {
      const bc1 = 1 - BETAS[0] ** t,
        bc2 = 1 - BETAS[1] ** t;
      vars.forEach((v, i) => {
        const g = grads[v.name];
        if (decays[i]) v.assign(tf.mul(v, 1 - LR * WEIGHT_DECAY));
        m[i].assign(tf.add(tf.mul(m[i], BETAS[0]), tf.mul(g, 1 - BETAS[0])));
        s[i].assign(tf.add(tf.mul(s[i], BETAS[1]), tf.mul(tf.square(g), 1 - BETAS[1])));
        const denom = tf.add(tf.div(tf.sqrt(s[i]), Math.sqrt(bc2)), EPS);
        v.assign(tf.sub(v, tf.mul(tf.div(m[i], denom), LR / bc1)));
      });
    });
    tf.dispose(Object.values(grads));
    return value;
  };
  return {
    embedding: gatherGrad ? 'tf.gather' : 'one-hot matmul',
    step: asyncRead
      ? async () => {
          const value = step();
          const [loss] = await value.data();
          value.dispose();
          return loss;
        }
      : () => {
          const value = step();
          const [loss] = value.dataSync();
          value.dispose();
          return loss;
        },
  };
}

/** Two steps from the same weights on every framework: print the losses, stop if they differ. */
async function checkLosses(cases) {
  const losses = {};
  for (const [name, c] of Object.entries(cases)) {
    await c.activate();
    losses[name] = [await c.step(), await c.step()];
  }
  const ref = Object.values(losses)[0];
  for (const [name, l] of Object.entries(losses)) {
    console.log(`  ${name.padEnd(16)} loss step 1 ${l[0].toFixed(6)}, step 2 ${l[1].toFixed(6)}`);
  }
  for (const [name, l] of Object.entries(losses)) {
    // float32 over a 4-layer model and ~1e5-term sums: 1e-3 relative is generous for rounding, far below any real difference
    if (l.some((x, i) => !(Math.abs(x - ref[i]) <= 1e-3 * Math.abs(ref[i])))) {
      throw new Error(
        `${name} computes a different loss (${l.join(', ')}) from ${Object.keys(losses)[0]} (${ref.join(', ')}): not the same model`,
      );
    }
  }
}

/** Median ms/step per framework; samples (one step each) alternate between the frameworks. */
async function timeAll(cases, n) {
  /** @type {Record<string, number[]>} */
  const ms = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < n; i++) {
    for (const [name, c] of Object.entries(cases)) {
      await c.activate();
      collectGarbage();
      const t0 = performance.now();
      await c.step();
      ms[name].push(performance.now() - t0);
    }
    process.stderr.write(`  step ${String(i + 1)}/${String(n)}\r`);
  }
  process.stderr.write('\n');
  return Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, median(v)]));
}

const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
function table(title, results, base) {
  console.log(`\n${title}`);
  console.log(`| framework | median ms/step | ${base} speed-up (their ms / ${base} ms) |`);
  console.log('| --- | --- | --- |');
  for (const [name, msPerStep] of Object.entries(results)) {
    console.log(`| ${name} | ${fmt(msPerStep)} | ${name === base ? '—' : `${(msPerStep / results[base]).toFixed(2)}x`} |`);
  }
}

console.log(
  `nanoGPT training step: ${String(config.nLayer)} layers, ${String(config.nHead)} heads, n_embd ${String(config.nEmbd)}, block ${String(T)}, ` +
    `batch ${String(B)}, vocab ${String(config.vocabSize)}, dropout 0; AdamW lr ${String(LR)}, betas ${BETAS.join('/')}, wd ${String(WEIGHT_DECAY)}. ` +
    `${String(warmupSteps)} warm-up + ${String(steps)} timed steps each on the CPU (--steps), ${String(gpuSteps)} on WebGPU (--gpu-steps).`,
);
console.log(
  `Node ${process.version}, ${String(os.cpus().length)} x ${os.cpus()[0]?.model ?? 'unknown CPU'}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);

// ---- CPU: gradflow vs tfjs-cpu vs tfjs-wasm ----
if (only !== 'webgpu') {
  const gf = gradflowCase('cpu');
  const cpuCases = { gradflow: { step: gf.step, activate: async () => {} } };
  if (only !== 'gradflow') {
    for (const backend of ['cpu', 'wasm']) {
      const info = await useBackend(backend);
      if (backend === 'wasm') console.log(`tfjs-wasm: SIMD ${String(info.simd)}, threads ${String(info.threads)}`);
      cpuCases[`tfjs-${backend}`] = { ...tfjsCase(gf.initial, false), activate: () => useBackend(backend) };
      console.log(`tfjs-${backend}: token embedding by ${cpuCases[`tfjs-${backend}`].embedding}`);
    }
  }
  console.log('Same weights, same batch, two steps each (loss after AdamW step 1 is step 2):');
  await checkLosses(cpuCases);
  table('CPU', await timeAll(cpuCases, steps), 'gradflow');
}

// ---- WebGPU: gradflow vs tfjs-webgpu on the same GPUDevice ----
if (!args.has('cpu') && only !== 'gradflow') {
  let gpu = null;
  try {
    gpu = await initWebGPU();
  } catch (e) {
    console.log(`\nWebGPU: no adapter (${e instanceof Error ? e.message : String(e)}); skipped.`);
  }
  if (gpu) {
    const software = /swiftshader|llvmpipe|lavapipe|software/i.test(`${gpu.vendor} ${gpu.architecture}`);
    console.log(
      `\nWebGPU adapter ${gpu.vendor}/${gpu.architecture}` +
        (software
          ? `: a software renderer (a CPU emulating a GPU). The WebGPU part takes many minutes (on a 2-core machine about a minute per step and framework, ${String(2 + gpuSteps)} steps each), and only the ratio means anything. ` +
            `Shorten it with --gpu-steps=1, skip it with --cpu.`
          : '.'),
    );
    // tfjs-backend-webgpu insists on navigator.gpu (absent in Node 20): give it Dawn's, then hand it our device.
    if (!globalThis.navigator?.gpu) {
      const { create } = await import('webgpu');
      Object.defineProperty(globalThis, 'navigator', { value: { ...globalThis.navigator, gpu: create([]) }, configurable: true });
    }
    const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu');
    tf.removeBackend('webgpu');
    tf.registerBackend('webgpu', () => new WebGPUBackend(gpu.device), 3);
    await useBackend('webgpu');
    const gg = gradflowCase('webgpu');
    const gpuCases = {
      'gradflow-webgpu': { step: gg.step, activate: async () => {} },
      'tfjs-webgpu': { ...tfjsCase(gg.initial, true), activate: () => useBackend('webgpu') },
    };
    console.log(`tfjs-webgpu: token embedding by ${gpuCases['tfjs-webgpu'].embedding}`);
    await checkLosses(gpuCases);
    table(`WebGPU (${gpu.vendor}/${gpu.architecture})`, await timeAll(gpuCases, gpuSteps), 'gradflow-webgpu');
  }
}
