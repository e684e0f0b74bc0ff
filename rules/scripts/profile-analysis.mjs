#!/usr/bin/env node
// Profiles the rules' analysis in-process: lints the 1,000-line training file of bench/lsp.mjs
// repeatedly with the plugin's recommended config, one small edit per lint (as the language server
// sees typing), and prints per-rule time (ESLint's `stats`) next to parse time and the whole lint.
//
//   npx tsc -b && node rules/scripts/profile-analysis.mjs [--edits 30] [--lines 1000]
//   node rules/scripts/profile-analysis.mjs --edits 30 --cpu-profile /tmp/warm.cpuprofile
//                                                            # a V8 CPU profile of the warm edits only (open it
//                                                            # in Chrome DevTools); the cold first lint is left out
//   node rules/scripts/profile-analysis.mjs --rules-off      # the same lints with every gradflow rule off
//   node rules/scripts/profile-analysis.mjs --rules <dir>    # another build of the rules (say, an older commit's
//                                                            # rules/dist) in the same plugin config, for before/after
//
// Rule times include the shared per-file analysis: the first rule that asks for it pays for it.
import { ESLint } from 'eslint';
import { Session } from 'node:inspector/promises';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import plugin from '@gradflow/eslint-plugin';
import { trainingFile } from '../../bench/training-file.mjs';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const EDITS = option('--edits', 30);
const TARGET_LINES = option('--lines', 1000);
const rulesOff = args.includes('--rules-off');
const rulesDirIndex = args.indexOf('--rules');
const profileIndex = args.indexOf('--cpu-profile');
const profileFile = profileIndex >= 0 ? path.resolve(args[profileIndex + 1]) : undefined;
const rulesDir = rulesDirIndex >= 0 ? path.resolve(args[rulesDirIndex + 1]) : undefined;

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Inside node_modules so the workspace resolves @gradflow/* like a user's project, and stays untracked.
const workDir = path.join(root, 'node_modules/.cache/gradflow-profile-analysis');
const fixtureDir = path.join(root, 'packages/language-server/test/fixtures/workspace');

mkdirSync(workDir, { recursive: true });
for (const name of ['tsconfig.json', 'package.json']) copyFileSync(path.join(fixtureDir, name), path.join(workDir, name));
const filePath = path.join(workDir, 'train1000.ts');
const text = trainingFile(TARGET_LINES);
writeFileSync(filePath, text);

/** @type {import('eslint').Linter.RulesRecord} */
const rules = rulesOff ? Object.fromEntries(Object.keys(plugin.configs.recommended.rules ?? {}).map((id) => [id, 'off'])) : {};
let recommended = plugin.configs.recommended;
if (rulesDir !== undefined) {
  const other = await import(pathToFileURL(path.join(rulesDir, 'index.js')).href);
  recommended = { ...recommended, plugins: { '@gradflow': { ...plugin, rules: other.rules } } };
}
const eslint = new ESLint({
  cwd: workDir,
  overrideConfigFile: true,
  overrideConfig: [recommended, { rules }],
  stats: true,
});

/** Each edit changes one learning-rate digit, as bench/lsp.mjs does. */
const lines = text.split('\n');
const lrLines = lines.flatMap((line, index) => (line.includes('{ lr: 0.01 }') ? [index] : []));
function edited(edit) {
  const copy = [...lines];
  const line = lrLines[edit % lrLines.length];
  copy[line] = copy[line].replace('{ lr: 0.01 }', `{ lr: 0.0${String((edit % 9) + 1)} }`);
  return copy.join('\n');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
};
const perRule = new Map();
const parse = [];
const rulesTotal = [];
const wall = [];
const cpu = [];
let problems = 0;
// The first lint creates the project service and program: cold, reported apart.
const coldStart = performance.now();
await eslint.lintText(text, { filePath });
const coldMs = performance.now() - coldStart;
const session = profileFile === undefined ? undefined : new Session();
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
for (let edit = 0; edit < EDITS; edit++) {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const [result] = await eslint.lintText(edited(edit), { filePath });
  wall.push(performance.now() - started);
  const used = process.cpuUsage(cpuBefore);
  cpu.push((used.user + used.system) / 1000);
  problems = result.messages.length;
  const fatal = result.messages.find((m) => m.fatal);
  if (fatal) throw new Error(`parse error: ${fatal.message}`);
  const times = result.stats?.times.passes[0];
  if (!times?.parse) throw new Error('ESLint reported no timings (stats: true)');
  parse.push(times.parse.total);
  let sum = 0;
  for (const [id, { total }] of Object.entries(times.rules ?? {})) {
    if (!perRule.has(id)) perRule.set(id, []);
    perRule.get(id).push(total);
    sum += total;
  }
  rulesTotal.push(sum);
}
if (session && profileFile !== undefined) {
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(profileFile, JSON.stringify(profile));
  session.disconnect();
}

const r = (x) => (Math.round(x * 10) / 10).toFixed(1);
console.log(
  `${String(lines.length - 1)}-line file, ${String(EDITS)} warm edits${rulesOff ? ' (gradflow rules off)' : ''}${rulesDir ? ` (rules from ${rulesDir})` : ''}; ${String(problems)} problems; cold first lint ${r(coldMs)} ms`,
);
console.log(
  `  median per edit: lint ${r(median(wall))} ms wall, ${r(median(cpu))} ms CPU; parse ${r(median(parse))} ms; all rules ${r(median(rulesTotal))} ms`,
);
for (const [id, samples] of [...perRule].sort((a, b) => median(b[1]) - median(a[1]))) {
  console.log(`    ${id.padEnd(44)} ${r(median(samples)).padStart(7)} ms`);
}
