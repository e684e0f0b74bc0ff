import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const script = fileURLToPath(new URL('../scripts/crash-check.mjs', import.meta.url));

// A bounded sample keeps CI fast; `node rules/scripts/crash-check.mjs` without --limit runs all files.
it('lints 400 TypeScript files from node_modules that are not ours without a rule exception', () => {
  const output = execFileSync(process.execPath, [script, '--limit', '400'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const summary = JSON.parse(output.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
  expect(summary).toMatchObject({ files: 400, linted: 400, ruleExceptions: 0, analysisFailures: 0 });
  expect(summary.hovers).toBeGreaterThan(400);
}, 600_000);
