// Where a warm edit's lint goes, in one process, as a language-server lint worker runs it: ESLint's
// lintText on unsaved text of a 1,000-line file, (a) with typescript-eslint's project service (what the
// ESLint CLI does), (b) with the server's own incremental program handed to the parser
// (packages/language-server/dist/program-provider.js) and the whole file converted to ESTree, and (c) as
// (b), with the ESTree of the statements an edit did not touch taken from the previous lint
// (incremental-estree.js): what the server does now; interleaved edit by edit. Wraps typescript-estree's steps and reads ESLint's own `stats` (parse vs.
// each rule); prints the median and the minimum (the least disturbed by other processes) per step,
// and the IPC round trip of one edit's text and report between the server and a lint worker process.
// Needs a build first (`npx tsc -b`). Usage: node --max-semi-space-size=32 bench/lsp-breakdown.mjs [edits] [lines, default 1000]
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { IncrementalEstree } from '../packages/language-server/dist/incremental-estree.js';
import { ProgramProvider } from '../packages/language-server/dist/program-provider.js';
import { lspWorkspace } from './lsp-workspace.mjs';

process.env.TSESTREE_SINGLE_RUN = 'false';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const parserPath = require.resolve('@typescript-eslint/parser');
const estreeDir = path.dirname(createRequire(parserPath).resolve('@typescript-eslint/typescript-estree/package.json'));
const ts = createRequire(path.join(estreeDir, 'package.json'))('typescript');

const PROJECT_SERVICE = 'program: project service openClientFile (re-open with the whole text, update the program)';
const SERVER_PROGRAM = "program: server's LanguageService (incremental reparse, new program and checker)";
const CONVERSION = 'typescript-estree conversion (TS AST → ESTree)';
const times = {};
const add = (key, ms) => (times[key] ??= []).push(ms);
function wrapExport(modulePath, name, key) {
  const mod = require(path.join(estreeDir, 'dist', modulePath));
  const original = mod[name];
  mod[name] = function (...args) {
    const started = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      add(key, performance.now() - started);
    }
  };
}
const openClientFile = ts.server.ProjectService.prototype.openClientFile;
ts.server.ProjectService.prototype.openClientFile = function (...args) {
  const started = performance.now();
  try {
    return openClientFile.apply(this, args);
  } finally {
    add(PROJECT_SERVICE, performance.now() - started);
  }
};
wrapExport('parser.js', 'parseAndGenerateServices', 'parseAndGenerateServices');
wrapExport('ast-converter.js', 'astConverter', CONVERSION);
/** A provider whose program updates are timed. */
function timedProvider() {
  const provider = new ProgramProvider(ts);
  const programFor = provider.programFor.bind(provider);
  provider.programFor = (file, code) => {
    const started = performance.now();
    try {
      return programFor(file, code);
    } finally {
      add(SERVER_PROGRAM, performance.now() - started);
    }
  };
  return provider;
}

const EDITS = Number(process.argv[2] ?? 40);
const LINES = Number(process.argv[3] ?? 1000);
const { workDir, filePath, text, lines, editedText } = lspWorkspace('lsp-breakdown', LINES);

const pipelines = {
  'project service (ESLint CLI)': new ESLint({ cwd: workDir, stats: true }),
  "server's program, full ESTree": new ESLint({
    cwd: workDir,
    stats: true,
    // What the server did before incremental-estree.ts: its program, the whole file converted each edit.
    overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: timedProvider().wrap(tseslint.parser) } }],
  }),
  "server's program, incr. ESTree (now)": new ESLint({
    cwd: workDir,
    stats: true,
    // As the server does now: the statements an edit did not touch are converted once (incremental-estree.ts).
    overrideConfig: [
      { files: ['**/*.ts'], languageOptions: { parser: timedProvider().wrap(tseslint.parser, IncrementalEstree.forParser(parserPath)) } },
    ],
  }),
};
/** @type {Record<string, Record<string, number>[]>} */
const rows = Object.fromEntries(Object.keys(pipelines).map((name) => [name, []]));
for (let edit = -3; edit < EDITS; edit++) {
  const edited = editedText(edit + 3);
  for (const [name, eslint] of Object.entries(pipelines)) {
    for (const key of Object.keys(times)) times[key] = [];
    const started = performance.now();
    const [result] = await eslint.lintText(edited, { filePath });
    const total = performance.now() - started;
    if (edit < 0) continue;
    const pass = result.stats?.times.passes[0];
    if (pass === undefined) throw new Error('ESLint gave no stats');
    const parseMs = pass.parse?.total ?? 0;
    const ruleTotal = Object.values(pass.rules ?? {}).reduce((sum, rule) => sum + rule.total, 0);
    /** @type {Record<string, number>} */
    const row = { 'whole lint (lintText)': total, 'parse (typescript-eslint parser, all of it)': parseMs };
    for (const [key, samples] of Object.entries(times))
      if (key !== 'parseAndGenerateServices') row[`  ${key}`] = samples.reduce((a, b) => a + b, 0);
    const sum = (key) => (times[key] ?? []).reduce((a, b) => a + b, 0);
    const outsideParseAndGenerate = sum(SERVER_PROGRAM); // the wrapper asks for the program before calling the parser
    row['  scope analysis and parser glue (the rest of parse)'] = parseMs - sum('parseAndGenerateServices') - outsideParseAndGenerate;
    row['  rest of parseAndGenerateServices'] = sum('parseAndGenerateServices') - sum(CONVERSION) - sum(PROJECT_SERVICE);
    row['rules, all (type checker work they trigger included)'] = ruleTotal;
    for (const [rule, t] of Object.entries(pass.rules ?? {})) if (t.total >= 1) row[`  ${rule}`] = t.total;
    row['ESLint outside parse and rules (traversal, config, directives)'] = total - parseMs - ruleTotal;
    rows[name].push(row);
  }
}

// IPC: one edit's text to a child process over the channel (advanced serialization) and a report back.
const child = fork(path.join(root, 'bench/lsp-breakdown-echo.mjs'), [], {
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  serialization: 'advanced',
});
const [firstResult] = await pipelines["server's program, incr. ESTree (now)"].lintText(text, { filePath });
const report = { messages: firstResult.messages, docsUrls: new Map([['x', 'y']]), related: new Map() };
const ipc = [];
for (let i = 0; i < 60; i++) {
  const started = performance.now();
  await new Promise((resolve) => {
    child.once('message', resolve);
    child.send({ id: i, kind: 'lint', filePath, text, version: i, report });
  });
  ipc.push(performance.now() - started);
}
child.kill();

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const min = (xs) => Math.min(...xs);
console.log(`A warm lint of a ${String(lines.length - 1)}-line file, ${String(EDITS)} one-character edits, ms per edit (median / min):`);
const keys = [...new Set(Object.values(rows).flatMap((list) => list.flatMap((row) => Object.keys(row))))];
const names = Object.keys(rows);
console.log(`${''.padEnd(84)}${names.map((n) => n.padStart(38)).join('')}`);
for (const key of keys) {
  const cells = names.map((name) => {
    const values = rows[name].map((row) => row[key]).filter((v) => v !== undefined);
    return (values.length === 0 ? '—' : `${median(values).toFixed(1)} / ${min(values).toFixed(1)}`).padStart(38);
  });
  console.log(`${key.padEnd(84)}${cells.join('')}`);
}
console.log(
  `IPC round trip to a worker process (the edit's ${String(text.length)}-character text out, a ${String(firstResult.messages.length)}-message report back): median ${median(ipc).toFixed(2)} ms, min ${min(ipc).toFixed(2)} ms`,
);
