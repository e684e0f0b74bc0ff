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
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { generateCorpus } from './corpus.mjs';
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
