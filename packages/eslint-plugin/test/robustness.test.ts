import { analysisFailures } from '@gradflow/rules/analysis';
import { ESLint } from 'eslint';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import plugin from '../src/index.js';

// Broken variants of a real training script (lines deleted, spans cut out, lines swapped): code that
// no longer parses or type-checks must still lint without a rule exception or an analysis failure.
const fixtureDir = fileURLToPath(new URL('./fixture', import.meta.url));

function* variants(text: string): Generator<string> {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) yield lines.filter((_, j) => j !== i).join('\n');
  let seed = 7;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  for (let k = 0; k < 30; k++) {
    const at = next(text.length);
    yield text.slice(0, at) + text.slice(at + 1 + next(25));
    const a = next(lines.length);
    const b = next(lines.length);
    const swapped = [...lines];
    [swapped[a], swapped[b]] = [swapped[b], swapped[a]];
    yield swapped.join('\n');
  }
}

it('lints broken variants of a training script without exceptions', async () => {
  const eslint = new ESLint({
    cwd: fixtureDir,
    overrideConfigFile: true,
    overrideConfig: [plugin.configs.strict, { languageOptions: { parserOptions: { tsconfigRootDir: fixtureDir } } }],
  });
  const filePath = `${fixtureDir}/training.ts`;
  const before = analysisFailures().length;
  let linted = 0;
  let reported = 0;
  for (const text of variants(readFileSync(filePath, 'utf8'))) {
    const [result] = await eslint.lintText(text, { filePath });
    linted++;
    if (result.messages.some((m) => m.ruleId?.startsWith('@gradflow/'))) reported++;
  }
  expect(linted).toBeGreaterThan(80);
  // Most variants still parse, and the rules still find mistakes in them.
  expect(reported).toBeGreaterThan(linted / 2);
  expect(analysisFailures().slice(before)).toEqual([]);
}, 300_000);
