/**
 * Command line for the nanoGPT port: prepares the bundled text (prepare.ts), trains (train.ts) on
 * the CPU or on WebGPU, and samples from the trained model (nanoGPT's sample.py, in short).
 *
 *   npm run nanogpt                                   # CPU, the default baby config
 *   npm run nanogpt -- --device=webgpu --max_iters=100
 *
 * Overrides are nanoGPT's configurator.py style, `--key=value` with train.py's snake_case names.
 */
import { readFileSync } from 'node:fs';
import { initWebGPU, manualSeed, tensor } from '@gradflow/autograd';
import { prepare } from './prepare.js';
import { train, trainConfig, type TrainConfig } from './train.js';

const camel = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function parseArgs(argv: string[]): Partial<TrainConfig> {
  const defaults = trainConfig();
  const out: Record<string, unknown> = {};
  for (const arg of argv) {
    const m = /^--([a-z_0-9]+)=(.*)$/i.exec(arg);
    if (!m) throw new Error(`unknown argument ${arg}: expected --key=value (e.g. --device=webgpu --max_iters=100)`);
    const key = camel(m[1]);
    if (!(key in defaults)) throw new Error(`unknown config key ${m[1]} (known: ${Object.keys(defaults).join(', ')})`);
    const current = (defaults as unknown as Record<string, unknown>)[key];
    const raw = m[2];
    if (typeof current === 'number') {
      const value = Number(raw);
      if (!Number.isFinite(value)) throw new Error(`--${m[1]} must be a number, got ${raw}`);
      out[key] = value;
    } else if (typeof current === 'boolean') {
      if (raw !== 'true' && raw !== 'false' && raw !== 'True' && raw !== 'False') throw new Error(`--${m[1]} must be true or false`);
      out[key] = raw.toLowerCase() === 'true';
    } else {
      if (key === 'device' && raw !== 'cpu' && raw !== 'webgpu') throw new Error(`--device must be cpu or webgpu, got ${raw}`);
      out[key] = raw;
    }
  }
  return out as Partial<TrainConfig>;
}

const cfg = trainConfig(parseArgs(process.argv.slice(2)));
const text = readFileSync(new URL('../data/input.txt', import.meta.url) /* run from dist/ */, 'utf8');
const data = prepare(text);
console.log(`length of dataset in characters: ${text.length.toLocaleString('en-US')}`);
console.log(
  `vocab size: ${data.vocabSize}; train has ${data.trainIds.length.toLocaleString('en-US')} tokens, val has ${data.valIds.length.toLocaleString('en-US')} tokens`,
);
if (cfg.device === 'webgpu') {
  const info = await initWebGPU();
  console.log(`WebGPU adapter: ${info.vendor}/${info.architecture}`);
}
const t0 = performance.now();
const model = await train(data, cfg);
console.log(`trained ${cfg.maxIters + 1} iterations on ${cfg.device} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// sample.py, in short: start from a newline, 200 characters, temperature 0.8, top_k 200
await model.toAsync('cpu');
model.eval();
manualSeed(cfg.seed);
const start = tensor([data.encode('\n')], { dtype: 'int32' });
const sample = model.generate(start, 200, 0.8, 200);
console.log('---------------');
console.log(data.decode((sample.toArray() as number[][])[0]));
console.log('---------------');
