#!/usr/bin/env node
// Lint benchmark: what gradflow's rules cost inside a type-aware lint.
//
// A generated corpus of 200 training files (~30k lines: models, training loops, evaluation,
// GAN steps, fine-tuning, helpers; some with the mistakes the rules catch) is linted three ways,
// each in a fresh process so no run reuses another's TypeScript program:
//   baseline  typescript-eslint parser + `recommended-type-checked` rules
//   gradflow  `@gradflow/eslint-plugin` configs.recommended alone (parser, type info, our rules)
//   combined  both; per-rule times from ESLint's `stats` (what TIMING=1 prints), to get our share
// Goal: all gradflow rules together < 15% of a type-aware lint (rule time / combined lint time).
//
// The machine may be shared: each mode runs --repeat times (default 3, interleaved) and the
// fastest run of each mode is reported.
// Usage: npm run build && node bench/lint.mjs [--files 200] [--repeat 3] [--json bench/results/lint.json]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
};

if (process.argv[2] === '--run') await runOne(process.argv[3], process.argv[4]);
else await main();

async function main() {
  const files = Number(arg('--files', '200'));
  const corpus = mkdtempSync(join(tmpdir(), 'gradflow-lint-bench-'));
  try {
    const lines = generateCorpus(corpus, files);
    console.log(`corpus: ${files} files, ${lines} lines in ${corpus}`);
    const repeat = Number(arg('--repeat', '3'));
    const results = {};
    for (let round = 0; round < repeat; round++) {
      for (const mode of ['baseline', 'gradflow', 'combined']) {
        const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--run', mode, corpus], {
          cwd: repoRoot,
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
        });
        if (child.status !== 0) throw new Error(`${mode} run failed:\n${child.stderr}`);
        const r = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '');
        if (!results[mode] || r.wallMs < results[mode].wallMs) results[mode] = r;
      }
    }
    for (const [mode, r] of Object.entries(results)) {
      console.log(
        `${mode.padEnd(9)} ${(r.wallMs / 1000).toFixed(2).padStart(7)} s  ${String(r.problems).padStart(5)} problems  rules ${(r.ruleMs / 1000).toFixed(2)} s (gradflow rules ${(r.gradflowRuleMs / 1000).toFixed(2)} s)`,
      );
    }
    const combined = results.combined;
    const share = combined.gradflowRuleMs / combined.wallMs;
    const marginal = (combined.wallMs - results.baseline.wallMs) / results.baseline.wallMs;
    console.log(`\ngradflow rules' share of the combined type-aware lint: ${(share * 100).toFixed(1)}% (goal < 15%)`);
    console.log(`combined vs baseline wall time: ${marginal >= 0 ? '+' : ''}${(marginal * 100).toFixed(1)}%`);
    console.log('slowest gradflow rules (combined run):');
    for (const [id, ms] of Object.entries(combined.perRule)
      .filter(([id]) => id.startsWith('@gradflow/'))
      .sort((a, b) => b[1] - a[1])) {
      console.log(`  ${id.padEnd(38)} ${ms.toFixed(1).padStart(8)} ms`);
    }
    const out = arg('--json', join(repoRoot, 'bench', 'results', 'lint.json'));
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(
      out,
      JSON.stringify({ files, lines, repeat, results, share, marginal, node: process.version, date: new Date().toISOString() }, null, 2),
    );
    console.log(`\nwrote ${out}`);
  } finally {
    rmSync(corpus, { recursive: true, force: true });
  }
}

/** One lint of the corpus in this process; prints one JSON line. */
async function runOne(mode, corpus) {
  const { ESLint } = await import('eslint');
  const tseslint = (await import('typescript-eslint')).default;
  const gradflow = (await import('@gradflow/eslint-plugin')).default;
  const typeAware = { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: corpus } } };
  const baseline = [...tseslint.configs.recommendedTypeChecked.map((c) => ({ ...c, files: ['**/*.ts'] })), typeAware];
  const ours = [gradflow.configs.recommended, typeAware];
  const config = mode === 'baseline' ? baseline : mode === 'gradflow' ? ours : [...baseline, ...ours];
  const eslint = new ESLint({ cwd: corpus, overrideConfigFile: true, overrideConfig: config, stats: true });
  const start = performance.now();
  const results = await eslint.lintFiles(['**/*.ts']);
  const wallMs = performance.now() - start;
  const perRule = {};
  for (const r of results) {
    for (const pass of r.stats?.times.passes ?? []) {
      for (const [id, t] of Object.entries(pass.rules ?? {})) perRule[id] = (perRule[id] ?? 0) + t.total;
    }
  }
  const ruleMs = Object.values(perRule).reduce((a, b) => a + b, 0);
  const gradflowRuleMs = Object.entries(perRule)
    .filter(([id]) => id.startsWith('@gradflow/'))
    .reduce((a, [, t]) => a + t, 0);
  const fatal = results.flatMap((r) => r.messages.filter((m) => m.fatal).map((m) => `${r.filePath}: ${m.message}`));
  if (fatal.length > 0) throw new Error(`parse failures:\n${fatal.slice(0, 5).join('\n')}`);
  const problems = results.reduce((n, r) => n + r.messages.length, 0);
  console.log(JSON.stringify({ mode, wallMs, ruleMs, gradflowRuleMs, perRule, problems, files: results.length }));
}

/** Writes `count` training files (plus tsconfig and a node_modules link to the engine); returns the line count. */
function generateCorpus(dir, count) {
  mkdirSync(join(dir, 'node_modules', '@gradflow'), { recursive: true });
  symlinkSync(join(repoRoot, 'packages', 'autograd'), join(dir, 'node_modules', '@gradflow', 'autograd'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'lint-bench-corpus', private: true, type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023', 'DOM'],
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
      include: ['src/**/*.ts'],
    }),
  );
  mkdirSync(join(dir, 'src'), { recursive: true });
  let lines = 0;
  for (let i = 0; i < count; i++) {
    const text = trainingFile(i);
    lines += text.split('\n').length;
    writeFileSync(join(dir, 'src', `train-${String(i).padStart(3, '0')}.ts`), text);
  }
  return lines;
}

/** A ~150-line training program; `i` varies names, sizes and which mistakes appear. */
function trainingFile(i) {
  const h = 4 + (i % 5) * 2;
  const opt = ['SGD', 'Adam', 'AdamW', 'RMSprop'][i % 4];
  const optArgs = opt === 'SGD' ? '{ lr: 0.01, momentum: 0.9 }' : '{ lr: 1e-3 }';
  const buggy = i % 3 === 0;
  return `// Generated training program #${i} for the lint benchmark.
import { autograd, manualSeed, nn, noGrad, ones, optim, randn, tensor, zeros, type Tensor } from '@gradflow/autograd';

export class Encoder${i} extends nn.Module {
  readonly fc1 = new nn.Linear(${h}, ${h * 2});
  readonly fc2 = new nn.Linear(${h * 2}, ${h});
  readonly act = new nn.ReLU();
  forward(x: Tensor): Tensor {
    const hidden = this.act.forward(this.fc1.forward(x));
    return this.fc2.forward(hidden).tanh();
  }
}

export class Head${i} extends nn.Module {
  readonly out = new nn.Linear(${h}, 3);
  forward(x: Tensor): Tensor {
    return this.out.forward(x);
  }
}

export class Model${i} extends nn.Module {
  readonly encoder = new Encoder${i}();
  readonly head = new Head${i}();
  forward(x: Tensor): Tensor {
    return this.head.forward(this.encoder.forward(x));
  }
}

function makeBatch${i}(n: number): [Tensor, Tensor] {
  const x = randn([n, ${h}]);
  const labels = tensor(Array.from({ length: n }, (_, k) => k % 3), { dtype: 'int32' });
  return [x, labels];
}

export function trainEpoch${i}(model: Model${i}, opt: optim.${opt}, steps: number): number {
  let total = 0;
  for (let step = 0; step < steps; step++) {
    const [x, labels] = makeBatch${i}(8);
    opt.zeroGrad(${buggy ? '' : '{ setToNone: true }'});
    const logits = model.forward(x);
    const loss = nn.functional.crossEntropy(logits, labels);
    loss.backward();
    ${buggy ? 'console.log(logits.grad);' : 'logits.detach();'}
    opt.step();
    total += loss.item();
  }
  return total / steps;
}

export function evaluate${i}(model: Model${i}, batches: number): number {
  model.eval();
  let correct = 0;
  for (let b = 0; b < batches; b++) {
    const [x, labels] = makeBatch${i}(8);
    const loss = noGrad(() => nn.functional.crossEntropy(model.forward(x), labels));
    correct += loss.item();
  }
  model.train();
  return correct / batches;
}

export function manualUpdate${i}(params: Tensor[], lr: number): void {
  noGrad(() => {
    for (const p of params) {
      const g = p.grad;
      if (g === null) continue;
      p.sub_(g.mul(lr));
    }
  });
  ${buggy ? 'params[0]?.mul_(0.5);' : 'params[0]?.detach().mul_(1);'}
}

export function ganStep${i}(generator: nn.Module, critic: nn.Module, optG: optim.Adam, optD: optim.Adam): void {
  const noise = randn([4, ${h}]);
  const fake = generator.forward(noise);
  optD.zeroGrad({ setToNone: true });
  const lossD = nn.functional.mseLoss(critic.forward(fake.detach()), zeros([4, 3])).add(nn.functional.mseLoss(critic.forward(randn([4, ${h}])), ones([4, 3])));
  lossD.backward();
  optD.step();
  optG.zeroGrad({ setToNone: true });
  const lossG = nn.functional.mseLoss(critic.forward(fake), ones([4, 3]));
  lossG.backward(${buggy ? '' : 'undefined, { retainGraph: false }'});
  optG.step();
}

export function finetune${i}(model: Model${i}): void {
  ${buggy ? '' : 'for (const p of model.encoder.parameters()) p.requiresGrad = false;'}
  const opt = new optim.${opt}(model.parameters(), ${optArgs});
  ${buggy ? 'for (const p of model.encoder.parameters()) p.requiresGrad = false;' : ''}
  for (let epoch = 0; epoch < 2; epoch++) {
    const [x, labels] = makeBatch${i}(6);
    opt.zeroGrad({ setToNone: true });
    const features = ${buggy ? 'noGrad(() => model.encoder.forward(x))' : 'model.encoder.forward(x).detach()'};
    nn.functional.crossEntropy(model.head.forward(features), labels).backward();
    opt.step();
  }
}

export function saliency${i}(model: Model${i}): Tensor | null {
  const [x] = makeBatch${i}(2);
  const input = x.clone().requiresGrad_();
  const scores = model.forward(input);
  const probs = scores.sigmoid();
  ${buggy ? 'probs.mul_(2);' : 'const scaled = probs.mul(2);'}
  probs.sum().backward();
  const [direct] = autograd.grad(model.forward(input).sum(), [input]);
  return direct ?? input.grad;
}

export function accumulate${i}(model: Model${i}, opt: optim.${opt}): void {
  const micro = 2;
  for (let k = 0; k < 4; k++) {
    const [x, labels] = makeBatch${i}(4);
    nn.functional.crossEntropy(model.forward(x), labels).div(micro).backward();
    if ((k + 1) % micro === 0) {
      opt.step();
      opt.zeroGrad(${buggy ? '' : '{ setToNone: true }'});
    }
  }
}

export function cosineLr${i}(opt: optim.${opt}, epoch: number, epochs: number, base: number): void {
  const factor = 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs));
  for (const group of opt.paramGroups) {
    group.lr = base * factor;
  }
}

export function main${i}(): void {
  manualSeed(${i});
  const model = new Model${i}();
  const opt = new optim.${opt}(model.parameters(), ${optArgs});
  const generator = new nn.Sequential(new nn.Linear(${h}, ${h}), new nn.Tanh(), new nn.Linear(${h}, ${h}));
  const critic = new nn.Sequential(new nn.Linear(${h}, ${h}), new nn.ReLU(), new nn.Linear(${h}, 3));
  const optG = new optim.Adam(generator.parameters(), { lr: 2e-4 });
  const optD = new optim.Adam(critic.parameters(), { lr: 2e-4 });
  for (let epoch = 0; epoch < 2; epoch++) {
    trainEpoch${i}(model, opt, 3);
    evaluate${i}(model, 2);
    ganStep${i}(generator, critic, optG, optD);
    accumulate${i}(model, opt);
    cosineLr${i}(opt, epoch, 2, 1e-3);
  }
  manualUpdate${i}(model.parameters(), 0.01);
  finetune${i}(model);
  const labels = tensor([0, 1, 2], { dtype: 'int32' });
  ${buggy ? 'labels.requiresGrad = true;' : 'labels.detach();'}
  saliency${i}(model);
}
`;
}
