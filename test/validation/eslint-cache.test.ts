// Cross-file facts make a file's diagnostics depend on the files it imports; ESLint's cache
// (`eslint --cache`) keys each file's results by that file's own text and the config only. This
// test shows what the rule docs and the README say (with the content strategy, so file times play no part): after a helper changes, a cached run keeps the
// caller's old result until the caller itself changes, and a run without the cache sees the change.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './harness.mjs';

const eslintBin = join(createRequire(import.meta.url).resolve('eslint/package.json'), '..', 'bin', 'eslint.js');
// Inside the repository (git-ignored) so that @gradflow/* resolve as in a user's project; not under
// node_modules, whose files the analysis treats as packages, not the user's program.
mkdirSync(join(repoRoot, '.cache'), { recursive: true });
// One folder per run, so concurrent runs of the suite never share a cache.
const dir = mkdtempSync(join(repoRoot, '.cache', 'eslint-cache-test-'));
// Not ESLint's default name: a run without --cache deletes ./.eslintcache.
const cacheFile = join(dir, 'gradflow.eslintcache');

const helper = (body: string): string => `import { noGrad, type nn } from '@gradflow/autograd';

export function sgdStep(params: nn.Parameter[], lr: number): void {
${body}
}
`;
const UNDER_NO_GRAD = helper('  noGrad(() => { for (const p of params) if (p.grad) p.sub_(p.grad.mul(lr)); });');
const RECORDING = helper('  for (const p of params) if (p.grad) p.sub_(p.grad.mul(lr));');
const MAIN = `import { manualSeed, nn, randn } from '@gradflow/autograd';
import { sgdStep } from './utils.js';

export function main(): void {
  manualSeed(1);
  const model = new nn.Linear(4, 1);
  nn.functional.mseLoss(model.forward(randn([6, 4])), randn([6, 1])).backward();
  sgdStep(model.parameters(), 0.1);
}
`;

/** Problems per file (by base name) from one ESLint CLI run over the project. */
function lint(...args: string[]): Record<string, string[]> {
  const run = spawnSync(process.execPath, [eslintBin, '-f', 'json', ...args, 'main.ts', 'utils.ts'], { cwd: dir, encoding: 'utf8' });
  if (run.status !== 0 && run.status !== 1) throw new Error(`eslint failed (${String(run.status)}): ${run.stderr}`);
  const results = JSON.parse(run.stdout) as { filePath: string; messages: { ruleId: string | null }[] }[];
  return Object.fromEntries(results.map((r) => [r.filePath.slice(dir.length + 1), r.messages.map((m) => String(m.ruleId))]));
}

describe('eslint --cache and cross-file facts', () => {
  cpSync(join(repoRoot, 'packages/language-server/test/fixtures/workspace/tsconfig.json'), join(dir, 'tsconfig.json'));
  writeFileSync(join(dir, 'package.json'), '{ "name": "gradflow-cache-test", "private": true, "type": "module" }\n');
  writeFileSync(
    join(dir, 'eslint.config.mjs'),
    "import gradflow from '@gradflow/eslint-plugin';\nexport default [gradflow.configs.recommended];\n",
  );
  writeFileSync(join(dir, 'main.ts'), MAIN);
  writeFileSync(join(dir, 'utils.ts'), UNDER_NO_GRAD);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a caller’s cached result when only its helper changes; a run without the cache sees it', { timeout: 120_000 }, () => {
    expect(lint('--cache', '--cache-strategy', 'content', '--cache-location', cacheFile)).toEqual({ 'main.ts': [], 'utils.ts': [] });
    // The helper now updates the parameters with recording on: calling it from main.ts throws.
    writeFileSync(join(dir, 'utils.ts'), RECORDING);
    expect(lint()).toEqual({ 'main.ts': ['@gradflow/no-leaf-inplace'], 'utils.ts': [] });
    // The cache still answers for main.ts, whose own text did not change: the finding is missed.
    expect(lint('--cache', '--cache-strategy', 'content', '--cache-location', cacheFile)).toEqual({ 'main.ts': [], 'utils.ts': [] });
    // Touching main.ts's text (or deleting the cache) brings it back.
    writeFileSync(join(dir, 'main.ts'), `${MAIN}// edited\n`);
    expect(lint('--cache', '--cache-strategy', 'content', '--cache-location', cacheFile)).toEqual({
      'main.ts': ['@gradflow/no-leaf-inplace'],
      'utils.ts': [],
    });
  });
});
