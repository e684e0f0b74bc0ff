// What a hover costs inside the language server's hover worker (packages/language-server/dist/hover-service.js)
// right after an edit of the 1,000-line bench file: the hover is answered from the analysis of the text
// before the edit (its line unchanged), which the worker built after the previous hover. Two ways, in the
// same run: (a) as the worker does now, that analysis answered the last hover's question ahead of time;
// (b) as before, it was only built (asked about offset 0). Timed in this process: no IPC, no other
// process, so that the numbers are the hover's own work. Needs a build first (`npx tsc -b`).
// Usage: node --max-semi-space-size=32 bench/lsp-hover.mjs [hovers]
import { performance } from 'node:perf_hooks';
import { HoverService } from '../packages/language-server/dist/hover-service.js';
import { lspWorkspace } from './lsp-workspace.mjs';

const HOVERS = Number(process.argv[2] ?? 30);
const { filePath, text, lines, editedText } = lspWorkspace('lsp-hover');

const optimizerLines = lines.flatMap((line, index) => (line.includes('const optimizer') ? [index] : []));
/** @type {number[]} */
const lineStarts = [];
let start = 0;
for (const line of lines) {
  lineStarts.push(start);
  start += line.length + 1;
}
// As bench/lsp.mjs hovers: the optimizer of another block than the edited one.
const hoverOffset = (i) => {
  const line = optimizerLines[(i * 7 + 3) % optimizerLines.length];
  return lineStarts[line] + lines[line].indexOf('optimizer') + 2;
};

const now = new HoverService();
const before = new HoverService();
await now.prepare(filePath, text);
await now.hover(filePath, text, hoverOffset(0));
/** @type {{ now: number[]; before: number[] }} */
const samples = { now: [], before: [] };
for (let i = 1; i <= HOVERS; i++) {
  // (b): the analysis of the previous text, only built.
  await before.prepare(filePath, editedText(i - 1));
  let started = performance.now();
  await before.hover(filePath, editedText(i), hoverOffset(i));
  samples.before.push(performance.now() - started);
  before.forget(filePath);
  // (a): the worker's refresh after the previous hover built the previous text's analysis and asked the last hover's question.
  await now.prepare(filePath, editedText(i - 1));
  started = performance.now();
  await now.hover(filePath, editedText(i), hoverOffset(i));
  samples.now.push(performance.now() - started);
}

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
console.log(
  `A hover right after an edit of a ${String(lines.length - 1)}-line file, in the hover worker's code (${String(HOVERS)} hovers, ms):`,
);
console.log(`${''.padEnd(72)}${'p50'.padStart(8)}${'p95'.padStart(8)}`);
for (const [name, label] of [
  ['before', '(b) from an analysis only built (before)'],
  ['now', "(a) from an analysis that answered the last hover's question (now)"],
]) {
  console.log(
    `${label.padEnd(72)}${percentile(samples[name], 50).toFixed(1).padStart(8)}${percentile(samples[name], 95).toFixed(1).padStart(8)}`,
  );
}
console.log(`ratio of medians (b)/(a): ${(percentile(samples.before, 50) / percentile(samples.now, 50)).toFixed(1)}`);
