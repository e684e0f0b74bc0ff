#!/usr/bin/env node
// How the rules' cost grows with a file's length, in two shapes of training code:
//   notebook   — every training step at top level, one after another (a notebook exported to a script),
//                reusing names (`loss = …`), or naming each cell's values afresh (notebook-const);
//   functions  — one function per step, each with its own forward, backward and step.
// Each file is linted twice with the plugin's recommended config (the second, warm lint is
// reported) and the table gives the gradflow rules' time per shape and length, with the per-line
// cost, so linear growth shows as a flat last column.
//
//   npm run build && node bench/scaling.mjs [--lines 2500,5000,10000,20000] [--shapes notebook,notebook-const,functions]
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import plugin from '@gradflow/eslint-plugin';

const args = process.argv.slice(2);
const list = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? String(args[i + 1]).split(',') : fallback;
};
const LINES = list('--lines', ['2500', '5000', '10000', '20000']).map(Number);
const SHAPES = list('--shapes', ['notebook', 'notebook-const', 'functions']);
const SHAPE = { notebook, 'notebook-const': notebookConst, functions };

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const workDir = path.join(root, 'node_modules/.cache/gradflow-bench-scaling');
const fixtureDir = path.join(root, 'packages/language-server/test/fixtures/workspace');
mkdirSync(workDir, { recursive: true });
for (const name of ['tsconfig.json', 'package.json']) copyFileSync(path.join(fixtureDir, name), path.join(workDir, name));

const HEADER = [
  "import { nn, noGrad, optim, randn, type Tensor } from '@gradflow/autograd';",
  '',
  'const encoder = new nn.Linear(8, 16);',
  'const head = new nn.Linear(16, 1);',
  'const scale = randn([8, 1], { requiresGrad: true });',
  'const opt = new optim.Adam([...encoder.parameters(), ...head.parameters(), scale], { lr: 0.01 });',
  '',
];

/** A notebook: each step's statements at top level, names reused (`loss = …`) as notebooks do. */
function notebook(target) {
  const lines = [...HEADER, 'let loss: Tensor;', 'let hidden: Tensor;'];
  for (let i = 0; lines.length < target - 12; i++) {
    lines.push(
      `// step ${String(i)}`,
      'opt.zeroGrad({ setToNone: true });',
      `const x${String(i)} = randn([32, 8]);`,
      `hidden = encoder.forward(x${String(i)}).relu();`,
      `loss = head.forward(hidden).sub(x${String(i)}.matmul(scale)).pow(2).mean();`,
      'loss.backward();',
      'opt.step();',
      i % 5 === 0 ? 'scale.mul_(0.5);' : 'noGrad(() => scale.mul_(0.5));',
      `console.log(noGrad(() => head.forward(encoder.forward(x${String(i)})).mean().item()));`,
      '',
    );
  }
  return lines;
}

/** A notebook whose cells name their values afresh (`const loss12 = …`). */
function notebookConst(target) {
  const lines = [...HEADER];
  for (let i = 0; lines.length < target - 12; i++) {
    const n = String(i);
    lines.push(
      `// cell ${n}`,
      'opt.zeroGrad({ setToNone: true });',
      `const x${n} = randn([32, 8]);`,
      `const hidden${n} = encoder.forward(x${n}).relu();`,
      `const loss${n} = head.forward(hidden${n}).sub(x${n}.matmul(scale)).pow(2).mean();`,
      `loss${n}.backward();`,
      'opt.step();',
      i % 5 === 0 ? 'scale.mul_(0.5);' : 'noGrad(() => scale.mul_(0.5));',
      `console.log(loss${n}.item());`,
      '',
    );
  }
  return lines;
}

/** One function per step, each called once from a driver at the end. */
function functions(target) {
  const lines = [...HEADER];
  let i = 0;
  for (; lines.length < target - 20; i++) {
    lines.push(
      `function step${String(i)}(): number {`,
      '  opt.zeroGrad({ setToNone: true });',
      '  const x = randn([32, 8]);',
      '  const hidden = encoder.forward(x).relu();',
      '  const loss = head.forward(hidden).sub(x.matmul(scale)).pow(2).mean();',
      '  loss.backward();',
      '  opt.step();',
      i % 5 === 0 ? '  scale.mul_(0.5);' : '  noGrad(() => scale.mul_(0.5));',
      '  return loss.item();',
      '}',
      '',
    );
  }
  lines.push('export function main(): number {', '  let total = 0;');
  for (let j = 0; j < i; j++) lines.push(`  total += step${String(j)}();`);
  lines.push('  return total;', '}');
  return lines;
}

const eslint = new ESLint({ cwd: workDir, overrideConfigFile: true, overrideConfig: [plugin.configs.recommended], stats: true });
const rows = [];
for (const shape of SHAPES) {
  for (const target of LINES) {
    const lines = SHAPE[shape](target);
    const filePath = path.join(workDir, `${shape}-${String(target)}.ts`);
    const text = `${lines.join('\n')}\n`;
    writeFileSync(filePath, text);
    await eslint.lintText(text, { filePath });
    const [result] = await eslint.lintText(text, { filePath });
    const fatal = result.messages.find((m) => m.fatal);
    if (fatal) throw new Error(`${shape} ${String(target)}: ${fatal.message}`);
    const times = result.stats?.times.passes[0];
    const perRule = Object.entries(times?.rules ?? {}).filter(([id]) => id.startsWith('@gradflow/'));
    const total = perRule.reduce((sum, [, { total: t }]) => sum + t, 0);
    const slowest = perRule
      .map(([id, { total: t }]) => ({ id, ms: t }))
      .sort((a, b) => b.ms - a.ms)
      .at(0) ?? { id: '-', ms: 0 };
    rows.push({
      shape,
      lines: lines.length,
      parse: times?.parse?.total ?? 0,
      rules: total,
      slowest: `${slowest.id.replace('@gradflow/', '')} ${slowest.ms.toFixed(0)} ms`,
      problems: result.messages.length,
    });
    console.error(`${shape} ${String(lines.length)} lines: rules ${total.toFixed(0)} ms`);
  }
}
console.log('| shape | lines | parse ms | gradflow rules ms | µs per line | slowest rule | problems |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.shape} | ${String(r.lines)} | ${r.parse.toFixed(0)} | ${r.rules.toFixed(0)} | ${((r.rules * 1000) / r.lines).toFixed(0)} | ${r.slowest} | ${String(r.problems)} |`,
  );
}
