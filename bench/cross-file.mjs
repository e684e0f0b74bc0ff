#!/usr/bin/env node
// Cross-file cost as the editor sees it: N training files import one helper module (utils.ts: a
// manual SGD step, a freezing helper, an evaluation under noGrad). One importer is edited again and
// again (one digit of a learning rate per edit, as bench/lsp.mjs does) and linted in-process with
// the plugin's recommended config, the way the language server's worker lints: the per-edit time of
// the gradflow rules should not grow with N. The helper module itself is also edited and linted
// (its callers in the N files settle its grad mode, up to a limit).
//
//   npm run build && node bench/cross-file.mjs [--files 10,100,1000] [--edits 20]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import plugin from '@gradflow/eslint-plugin';
import { writeProject } from './corpus.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : String(process.argv[i + 1]);
};
const COUNTS = arg('--files', '10,100,1000').split(',').map(Number);
const EDITS = Number(arg('--edits', '20'));

const UTILS = `import { noGrad, nn, type Tensor } from '@gradflow/autograd';

export function sgdStep(params: nn.Parameter[], lr: number): void {
  noGrad(() => {
    for (const p of params) if (p.grad) p.sub_(p.grad.mul(lr));
  });
}

export function freezeAll(model: nn.Module): void {
  for (const p of model.parameters()) p.requiresGrad = false;
}

export function evaluate(model: nn.Module, x: Tensor, y: Tensor): number {
  return noGrad(() => nn.functional.mseLoss(model.forward(x), y).item());
}
`;

/** A training file that uses every helper of utils.ts. */
function importer(i, lr = '0.01') {
  return `import { manualSeed, nn, optim, randn } from '@gradflow/autograd';
import { evaluate, freezeAll, sgdStep } from './utils.js';

export function train${String(i)}(): number {
  manualSeed(${String(i)});
  const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 1));
  const teacher = new nn.Linear(4, 1);
  freezeAll(teacher);
  const opt = new optim.Adam(model.parameters(), { lr: ${lr} });
  let last = 0;
  for (let step = 0; step < 10; step++) {
    opt.zeroGrad({ setToNone: true });
    const x = randn([16, 4]);
    const y = teacher.forward(x);
    const loss = nn.functional.mseLoss(model.forward(x), y);
    loss.backward();
    opt.step();
    sgdStep(model.parameters(), 0.001);
    last = evaluate(model, x, y);
  }
  return last;
}
`;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const rows = [];
for (const count of COUNTS) {
  const dir = mkdtempSync(join(tmpdir(), 'gradflow-cross-file-'));
  try {
    writeProject(dir, { name: 'cross-file-bench', include: ['*.ts'], lib: ['ES2023'] });
    writeFileSync(join(dir, 'utils.ts'), UTILS);
    for (let i = 0; i < count; i++) writeFileSync(join(dir, `train${String(i)}.ts`), importer(i));
    const eslint = new ESLint({ cwd: dir, overrideConfigFile: true, overrideConfig: [plugin.configs.recommended], stats: true });
    const time = async (file, text) => {
      const started = performance.now();
      const [result] = await eslint.lintText(text, { filePath: join(dir, file) });
      const wall = performance.now() - started;
      if (result.messages.some((m) => m.fatal)) throw new Error(`${file}: ${result.messages[0].message}`);
      const rules = Object.entries(result.stats?.times.passes[0]?.rules ?? {})
        .filter(([id]) => id.startsWith('@gradflow/'))
        .reduce((n, [, t]) => n + t.total, 0);
      return { wall, rules, problems: result.messages.length };
    };
    const coldStart = performance.now();
    await time('train0.ts', importer(0));
    const cold = performance.now() - coldStart;
    const importerEdits = [];
    for (let e = 0; e < EDITS; e++) importerEdits.push(await time('train0.ts', importer(0, `0.0${String((e % 9) + 1)}`)));
    const helperEdits = [];
    for (let e = 0; e < EDITS; e++) helperEdits.push(await time('utils.ts', `${UTILS}// edit ${String(e)}\n`));
    rows.push({
      count,
      cold,
      importerRules: median(importerEdits.map((r) => r.rules)),
      importerWall: median(importerEdits.map((r) => r.wall)),
      helperRules: median(helperEdits.map((r) => r.rules)),
      helperWall: median(helperEdits.map((r) => r.wall)),
      problems: importerEdits[0].problems + helperEdits[0].problems,
    });
    console.error(`${String(count)} files done`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(`median of ${String(EDITS)} warm edits per file, ms`);
console.log(
  '| importing files | cold first lint | importer: gradflow rules | importer: whole lint | helper: gradflow rules | helper: whole lint | problems |',
);
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${String(r.count)} | ${r.cold.toFixed(0)} | ${r.importerRules.toFixed(1)} | ${r.importerWall.toFixed(0)} | ${r.helperRules.toFixed(1)} | ${r.helperWall.toFixed(0)} | ${String(r.problems)} |`,
  );
}
