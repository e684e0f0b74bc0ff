#!/usr/bin/env node
// Monorepo benchmark: the real ESLint CLI with `configs.recommended` (type-aware) over a generated
// training monorepo (bench/corpus.mjs: packages of 100 training files, each package with a
// helpers module and a Trainer class its files import), with one thread and with
// `--concurrency auto` (and an explicit worker count), at 200 and 2,000 files.
//
// For each run: wall time and peak RSS of the ESLint process (GNU time), and the peak V8 heap of
// each thread that lints (a probe rule in the corpus's config records `used_heap_size` per thread:
// thread 0 is the main thread, others are ESLint's workers). ESLint's `auto` starts at most half
// the available cores as workers, and none when that is one: on a 2-core machine `auto` is one
// thread, so `--workers` (default 2) shows what parallel linting costs here.
//
// Usage: npm run build && node bench/monorepo.mjs [--sizes 200,2000] [--workers 2] [--json bench/results/monorepo.json]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { generateCorpus } from './corpus.mjs';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? fallback : process.argv[i + 1];
};
const sizes = arg('--sizes', '200,2000').split(',').map(Number);
const workers = arg('--workers', '2');
const eslintBin = join(repoRoot, 'node_modules', 'eslint', 'bin', 'eslint.js');
const timeBin = '/usr/bin/time';
if (!existsSync(timeBin)) throw new Error(`${timeBin} (GNU time) is needed for peak memory: apt-get install time`);

const rows = [];
for (const files of sizes) {
  const corpus = mkdtempSync(join(tmpdir(), 'gradflow-monorepo-'));
  try {
    const lines = generateCorpus(corpus, files);
    writeConfig(corpus);
    console.log(`corpus: ${files} training files (+ helpers), ${lines} lines`);
    for (const concurrency of ['off', 'auto', workers]) {
      const heapDir = join(corpus, '.heap');
      rmSync(heapDir, { recursive: true, force: true });
      mkdirSync(heapDir);
      const out = join(corpus, 'report.json');
      const child = spawnSync(
        timeBin,
        ['-f', 'GNU_TIME %e %M', process.execPath, eslintBin, '--concurrency', concurrency, '-f', 'json', '-o', out, 'src'],
        { cwd: corpus, encoding: 'utf8', env: { ...process.env, GRADFLOW_HEAP_DIR: heapDir }, maxBuffer: 64 * 1024 * 1024 },
      );
      const timing = /GNU_TIME ([\d.]+) (\d+)/.exec(child.stderr);
      // ESLint exits 1 when it reports problems (a third of the corpus is buggy); 2 is a crash.
      if (!timing || child.status === 2 || !existsSync(out))
        throw new Error(`eslint --concurrency ${concurrency} failed:\n${child.stderr}`);
      const report = JSON.parse(readFileSync(out, 'utf8'));
      const fatal = report.flatMap((r) => r.messages.filter((m) => m.fatal));
      if (fatal.length > 0) throw new Error(`parse failures: ${fatal[0].message}`);
      const heaps = readdirSync(heapDir).map((f) => ({ thread: Number(f), mb: Number(readFileSync(join(heapDir, f), 'utf8')) / 2 ** 20 }));
      const lintThreads = heaps.filter((h) => h.thread !== 0 || heaps.length === 1);
      const row = {
        files,
        concurrency,
        lintThreads: lintThreads.length,
        wallS: Number(timing[1]),
        peakRssMb: Number(timing[2]) / 1024,
        peakHeapPerThreadMb: Math.max(...lintThreads.map((h) => h.mb)),
        problems: report.reduce((n, r) => n + r.messages.length, 0),
        linted: report.length,
      };
      rows.push(row);
      console.log(
        `  --concurrency ${concurrency.padEnd(4)} threads ${row.lintThreads}  ${row.wallS.toFixed(1).padStart(6)} s  peak RSS ${row.peakRssMb.toFixed(0).padStart(5)} MB  peak heap/thread ${row.peakHeapPerThreadMb.toFixed(0).padStart(5)} MB  ${row.problems} problems in ${row.linted} files`,
      );
    }
  } finally {
    rmSync(corpus, { recursive: true, force: true });
  }
}

console.log(`\n${availableParallelism()} cores available; ESLint's auto uses at most half as workers.\n`);
console.log('| files | --concurrency | lint threads | wall s | peak RSS MB | peak heap per lint thread MB | problems |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.files} | ${r.concurrency} | ${r.lintThreads} | ${r.wallS.toFixed(1)} | ${r.peakRssMb.toFixed(0)} | ${r.peakHeapPerThreadMb.toFixed(0)} | ${r.problems} |`,
  );
if (sizes.length >= 2) {
  const [small, large] = [Math.min(...sizes), Math.max(...sizes)];
  console.log(`\ngrowth ${small} → ${large} files (×${large / small} files):`);
  for (const concurrency of ['off', 'auto', workers]) {
    const a = rows.find((r) => r.files === small && r.concurrency === concurrency);
    const b = rows.find((r) => r.files === large && r.concurrency === concurrency);
    if (a && b)
      console.log(
        `  ${concurrency.padEnd(4)} time ×${(b.wallS / a.wallS).toFixed(1)}, peak RSS ×${(b.peakRssMb / a.peakRssMb).toFixed(1)}, peak heap per thread ×${(b.peakHeapPerThreadMb / a.peakHeapPerThreadMb).toFixed(1)}`,
      );
  }
}
const json = arg('--json', join(repoRoot, 'bench', 'results', 'monorepo.json'));
mkdirSync(dirname(json), { recursive: true });
writeFileSync(
  json,
  JSON.stringify({ rows, cores: availableParallelism(), node: process.version, date: new Date().toISOString() }, null, 2),
);
console.log(`\nwrote ${json}`);

/** The corpus's eslint.config.mjs: the plugin's recommended config and a probe of each lint thread's peak heap. */
function writeConfig(corpus) {
  const plugin = pathToFileURL(join(repoRoot, 'packages', 'eslint-plugin', 'dist', 'index.js')).href;
  writeFileSync(
    join(corpus, 'eslint.config.mjs'),
    `import { writeFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { threadId } from 'node:worker_threads';
import gradflow from '${plugin}';

let peak = 0;
const probe = {
  rules: {
    heap: {
      meta: { type: 'problem', schema: [] },
      create: () => ({
        'Program:exit'() {
          const used = getHeapStatistics().used_heap_size;
          if (used <= peak) return;
          peak = used;
          writeFileSync(process.env.GRADFLOW_HEAP_DIR + '/' + threadId, String(peak));
        },
      }),
    },
  },
};

export default [
  gradflow.configs.recommended,
  { languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } } },
  { files: ['**/*.ts'], plugins: { probe }, rules: { 'probe/heap': 'error' } },
];
`,
  );
}
