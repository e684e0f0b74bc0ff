// Language-server latency: time from `didChange` to `publishDiagnostics` for a 1,000-line training
// file (warm, p50/p95 over 100 edits), hovers sent while the lint of an edit runs, cold start to first
// diagnostics, a one-character edit in a 1 MB file, and the ESLint CLI linting the same files in the
// same run. Needs a build first (`npx tsc -b`).
// Usage: node bench/lsp.mjs [--edits N] [--big-edits N] [--big-think-ms N] [--server path/to/bin.js] [--only-server] [--no-big] [--only-big]
// (--server times another build of the server, e.g. a copy of dist/ from before a change, kept under
// bench/results/ so that its imports resolve; --only-server skips the rules-off run and the ESLint CLI.)
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { trainingFile } from './training-file.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const serverArg = process.argv.indexOf('--server');
const serverBin = serverArg > 0 ? path.resolve(process.argv[serverArg + 1]) : path.join(root, 'packages/language-server/dist/bin.js');
const ONLY_SERVER = process.argv.includes('--only-server');
const NO_BIG = process.argv.includes('--no-big');
/** Only the 1 MB file (with --only-server: no ESLint CLI run on it either). */
const ONLY_BIG = process.argv.includes('--only-big');
/** Hovers sent while a lint runs, and one-character edits of the 1 MB file. */
const HOVERS = 40;
const bigEditsArg = process.argv.indexOf('--big-edits');
const BIG_EDITS = bigEditsArg > 0 ? Number(process.argv[bigEditsArg + 1]) : 10;
/** A pause after each 1 MB edit's diagnostics before the next edit (`--big-think-ms`), as a person reading them makes. */
const bigThinkArg = process.argv.indexOf('--big-think-ms');
const BIG_THINK_MS = bigThinkArg > 0 ? Number(process.argv[bigThinkArg + 1]) : 0;
const fixtureDir = path.join(root, 'packages/language-server/test/fixtures/workspace');
const workDir = path.join(root, 'bench/results/lsp-workspace');
const editsArg = process.argv.indexOf('--edits');
const EDITS = editsArg > 0 ? Number(process.argv[editsArg + 1]) : 100;
const TARGET_LINES = 1000;

/** A process and its descendants (the server starts itself again with heap flags), from /proc (Linux). */
function processTree(pid) {
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // not Linux, or the process is gone
  }
  return [pid, ...children.flatMap(processTree)];
}

/** CPU time (user + system) a process and its descendants have used, in ms, from /proc (Linux; undefined elsewhere). */
function cpuMs(pid) {
  try {
    return processTree(pid).reduce((total, id) => {
      const fields = readFileSync(`/proc/${id}/stat`, 'utf8').split(') ')[1].split(' ');
      return total + ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
    }, 0);
  } catch {
    return undefined;
  }
}

function percentile(sorted, p) {
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted.at(-1),
    inOrder: samples.map((ms) => Math.round(ms)),
  };
}

async function runServer(filePath, text, debounceMs, { edits = EDITS, hovers = 0, thinkMs = 0 } = {}) {
  const uri = pathToFileURL(filePath).href;
  const started = performance.now();
  const child = spawn(process.execPath, [serverBin, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const waiting = new Map();
  connection.onNotification('textDocument/publishDiagnostics', (params) => {
    if (params.uri !== uri) return;
    const resolve = waiting.get(params.version);
    if (resolve !== undefined) {
      waiting.delete(params.version);
      resolve(params);
    }
  });
  connection.onRequest('client/registerCapability', () => null);
  connection.listen();
  const published = (version) => new Promise((resolve) => waiting.set(version, resolve));

  await connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(workDir).href,
    capabilities: { textDocument: { publishDiagnostics: { relatedInformation: true, versionSupport: true } } },
    initializationOptions: { debounceMs },
  });
  const initializedMs = performance.now() - started;
  await connection.sendNotification('initialized', {});
  const first = published(1);
  await connection.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'typescript', version: 1, text },
  });
  const firstDiagnostics = await first;
  const coldMs = performance.now() - started;
  // Let the start-up work that goes on after the first diagnostics (a hover worker building its
  // program) finish, so that the warm edits measure edits: until the server's processes use less
  // than 10 % of a core over half a second (at most 60 s).
  for (let waited = 0, before = cpuMs(child.pid); waited < 60_000; waited += 500) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const now = cpuMs(child.pid);
    if (before === undefined || now === undefined || now - before < 50) break;
    before = now;
  }

  // Warm edits: change one number literal (the learning rate of one block) per edit, as typing does.
  const lines = text.split('\n');
  const lrLines = lines.flatMap((line, index) => (line.includes('{ lr: 0.01 }') ? [index] : []));
  // The digit each learning rate ends with now: every edit writes a different one, so that no edit
  // leaves the text as it was (a no-op edit lints the previous program again, in half the time).
  const digits = new Map();
  const nextDigit = (line, counter) => {
    const now = digits.get(line) ?? '1';
    let digit = String((counter % 9) + 1);
    if (digit === now) digit = String(((counter + 1) % 9) + 1);
    digits.set(line, digit);
    return digit;
  };
  const samples = [];
  const cpuBefore = cpuMs(child.pid);
  for (let edit = 0; edit < edits; edit++) {
    const version = edit + 2;
    const line = lrLines[edit % lrLines.length];
    const character = lines[line].indexOf('0.01') + 3;
    const done = published(version);
    const sent = performance.now();
    await connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [{ range: { start: { line, character }, end: { line, character: character + 1 } }, text: nextDigit(line, edit) }],
    });
    await done;
    samples.push(performance.now() - sent);
    if (thinkMs > 0) await new Promise((resolve) => setTimeout(resolve, thinkMs));
  }
  const cpuAfter = cpuMs(child.pid);
  // Server CPU per edit: less sensitive than wall time to other processes sharing the cores.
  const cpuPerEditMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : (cpuAfter - cpuBefore) / edits;

  // Hovers while a lint runs: an edit, then (10 ms later, the lint under way) a hover on the
  // optimizer of another block; counted when it was sent before the edit's diagnostics arrived.
  const hoverSamples = [];
  let hoverAnswered = 0;
  let hoversAfterLint = 0;
  let hoversBeforeDiagnostics = 0;
  const optimizerLines = lines.flatMap((line, index) => (line.includes('const optimizer') ? [index] : []));
  for (let i = 0; i < hovers; i++) {
    const version = edits + 2 + i;
    const line = lrLines[i % lrLines.length];
    const character = lines[line].indexOf('0.01') + 3;
    let linted = false;
    const done = published(version).then(() => {
      linted = true;
    });
    await connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version },
      contentChanges: [{ range: { start: { line, character }, end: { line, character: character + 1 } }, text: nextDigit(line, i) }],
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    const hoverLine = optimizerLines[(i * 7 + 3) % optimizerLines.length];
    const lintRunning = !linted;
    const sent = performance.now();
    const hover = await connection.sendRequest('textDocument/hover', {
      textDocument: { uri },
      position: { line: hoverLine, character: lines[hoverLine].indexOf('optimizer') + 2 },
    });
    const ms = performance.now() - sent;
    if (!lintRunning) hoversAfterLint += 1;
    else {
      hoverSamples.push(ms);
      if (hover !== null) hoverAnswered += 1;
      if (!linted) hoversBeforeDiagnostics += 1;
    }
    await done;
  }
  await connection.sendRequest('shutdown');
  await connection.sendNotification('exit');
  child.kill();
  return {
    initializedMs,
    coldMs,
    diagnostics: firstDiagnostics.diagnostics.length,
    warm: summary(samples),
    cpuPerEditMs,
    ...(hovers > 0
      ? {
          hoverDuringLint: {
            ...summary(hoverSamples),
            answered: hoverAnswered,
            answeredBeforeTheDiagnostics: hoversBeforeDiagnostics,
            sentAfterTheLint: hoversAfterLint,
          },
        }
      : {}),
  };
}

function runEslintCli(filePath, runs = 3) {
  const samples = [];
  let problems = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const result = spawnSync(process.execPath, [path.join(root, 'node_modules/eslint/bin/eslint.js'), '--format', 'json', filePath], {
      cwd: workDir,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    samples.push(performance.now() - started);
    const parsed = JSON.parse(result.stdout);
    problems = parsed[0]?.messages.length ?? 0;
  }
  return { problems, ...summary(samples) };
}

mkdirSync(workDir, { recursive: true });
for (const name of ['tsconfig.json', 'eslint.config.mjs', 'package.json']) {
  copyFileSync(path.join(fixtureDir, name), path.join(workDir, name));
}
const text = trainingFile(TARGET_LINES);
const filePath = path.join(workDir, 'train1000.ts');
writeFileSync(filePath, text);

// The same file in a workspace whose config turns every gradflow rule off: what parsing with type
// information and the server cost on their own, without the rules' analysis.
const rulesOffDir = path.join(root, 'bench/results/lsp-workspace-rules-off');
mkdirSync(rulesOffDir, { recursive: true });
for (const name of ['tsconfig.json', 'package.json']) copyFileSync(path.join(fixtureDir, name), path.join(rulesOffDir, name));
writeFileSync(
  path.join(rulesOffDir, 'eslint.config.mjs'),
  "import gradflow from '@gradflow/eslint-plugin';\n" +
    'const off = Object.fromEntries(Object.keys(gradflow.configs.recommended.rules).map((id) => [id, "off"]));\n' +
    'export default [gradflow.configs.recommended, { rules: off }];\n',
);
const rulesOffFile = path.join(rulesOffDir, 'train1000.ts');
writeFileSync(rulesOffFile, text);

const round = (x) => Math.round(x * 10) / 10;
const results = {
  server: path.relative(root, serverBin),
  lines: text.split('\n').length - 1,
  edits: EDITS,
  node: process.version,
  loadAverageAtStart: loadavg()[0],
  runs: {},
};
// A 1 MB file of the same blocks.
const bigText = trainingFile(34_000);
const bigFile = path.join(workDir, 'train1mb.ts');
writeFileSync(bigFile, bigText);

for (const debounceMs of ONLY_BIG ? [] : [50, 0]) {
  results.runs[`debounce ${debounceMs} ms`] = await runServer(filePath, text, debounceMs, { hovers: debounceMs === 0 ? HOVERS : 0 });
}
if (!ONLY_SERVER && !ONLY_BIG) {
  results.runs['debounce 0 ms, every gradflow rule off (parser + server floor)'] = await runServer(rulesOffFile, text, 0);
  results.eslintCli = runEslintCli(filePath);
}
if (!NO_BIG) {
  results.big = { bytes: bigText.length, lines: bigText.split('\n').length - 1 };
  results.runs[`1 MB file (${results.big.lines} lines), debounce 0 ms`] = await runServer(bigFile, bigText, 0, {
    edits: BIG_EDITS,
    thinkMs: BIG_THINK_MS,
  });
  if (!ONLY_SERVER) results.eslintCliBig = runEslintCli(bigFile, 1);
}

console.log(`server: ${path.relative(root, serverBin)}`);
console.log(
  `gradflow-language-server on a ${results.lines}-line training file, ${EDITS} warm edits (${process.version}, load average ${loadavg()[0].toFixed(1)})`,
);
for (const [name, run] of Object.entries(results.runs)) {
  console.log(
    `  ${name}: didChange→publishDiagnostics p50 ${round(run.warm.p50)} ms, p95 ${round(run.warm.p95)} ms, max ${round(run.warm.max)} ms (${run.warm.n} edits);` +
      ` server CPU ${run.cpuPerEditMs === undefined ? '?' : round(run.cpuPerEditMs)} ms/edit;` +
      ` cold start→first diagnostics ${round(run.coldMs)} ms (initialize ${round(run.initializedMs)} ms); ${run.diagnostics} diagnostics`,
  );
  if (run.warm.n <= 20) console.log(`    each edit, in order: ${run.warm.inOrder.join(', ')} ms`);
  const hovers = run.hoverDuringLint;
  if (hovers !== undefined)
    console.log(
      `    hover while the edit's lint runs: p50 ${round(hovers.p50)} ms, p95 ${round(hovers.p95)} ms, max ${round(hovers.max)} ms` +
        ` (${hovers.n} hovers sent while the lint ran: ${hovers.answered} with content, ${hovers.answeredBeforeTheDiagnostics} answered before the diagnostics came;` +
        ` ${hovers.sentAfterTheLint} not counted: the lint had ended before the hover was sent)`,
    );
}
if (results.eslintCli !== undefined)
  console.log(
    `  ESLint CLI, same file, ${results.eslintCli.n} runs: median ${round(results.eslintCli.p50)} ms, max ${round(results.eslintCli.max)} ms; ${results.eslintCli.problems} problems`,
  );
if (results.eslintCliBig !== undefined)
  console.log(`  ESLint CLI, the 1 MB file, 1 run: ${round(results.eslintCliBig.p50)} ms; ${results.eslintCliBig.problems} problems`);
writeFileSync(
  path.join(root, ONLY_SERVER ? 'bench/results/lsp-server.json' : 'bench/results/lsp.json'),
  `${JSON.stringify(results, null, 2)}\n`,
);
