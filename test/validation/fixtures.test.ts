// The runtime validation suite: every fixture is executed on the engine with the runtime checker
// as oracle (its outcome must equal the fixture's @runtime label) and linted with the plugin's
// recommended config (its diagnostics must equal the @lint labels, for the rules that exist now).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { GradFlowError } from '@gradflow/autograd';
import { beforeAll, describe, expect, it } from 'vitest';
import { RULES, executeFixture, fixturesDir, labelledRuntimeRules, lintFiles, loadFixtures, loadPlugin, runtimeRules } from './harness.mjs';

const fixtures = loadFixtures();
const { plugin, existing, reason } = await loadPlugin();

describe('fixture set', () => {
  it.each(RULES)('%s has at least 4 buggy programs and 4 near misses', (rule) => {
    const own = fixtures.filter((f) => f.rule === rule);
    expect(own.filter((f) => !f.runtime.includes('ok')).length).toBeGreaterThanOrEqual(4);
    expect(own.filter((f) => f.runtime.includes('ok')).length).toBeGreaterThanOrEqual(4);
  });

  it('labels every buggy program with its own rule, statically and at run time', () => {
    for (const f of fixtures) {
      const buggy = !f.runtime.includes('ok');
      const documentedMiss = f.knownDifferences.some((d) => d.rule === f.rule);
      expect(f.lint.some((d) => d.rule === f.rule) || documentedMiss, f.relPath).toBe(buggy);
      expect(labelledRuntimeRules(f).includes(f.rule), f.relPath).toBe(buggy);
    }
  });

  it('marks each labelled line with a // ✗ <rule-id> comment (headers stay in step with edits)', () => {
    for (const f of fixtures) {
      const marked = f.text.split('\n').flatMap((text, i) => {
        const m = /\/\/ ✗ ([a-z-]+(?:, [a-z-]+)*)\s*$/.exec(text);
        return m ? m[1].split(', ').map((rule) => ({ rule, line: i + 1 })) : [];
      });
      marked.sort((a, b) => a.rule.localeCompare(b.rule) || a.line - b.line);
      expect(marked, f.relPath).toEqual(f.lint);
    }
  });

  it('type-checks against the built engine (fixtures/tsconfig.json)', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    expect(() => execFileSync(process.execPath, [tsc, '-p', `${fixturesDir}/tsconfig.json`], { encoding: 'utf8' })).not.toThrow();
  });
});

describe('runtime outcome (checker as oracle)', () => {
  it.each(fixtures.map((f) => [f.relPath, f] as const))('%s', async (_path, fixture) => {
    const result = await executeFixture(fixture);
    // An error that is not the engine's means the fixture itself is broken.
    if (result.error !== null && !(result.error instanceof GradFlowError)) throw result.error;
    expect(result.kinds).toEqual(fixture.runtime);
    expect(runtimeRules(result.findings)).toEqual(labelledRuntimeRules(fixture));
  });
});

describe.runIf(plugin !== null && existing.length > 0)(`static diagnostics (rules present: ${existing.join(', ') || `none: ${String(reason)}`})`, () => {
  let linted = new Map<string, { rule: string | null; line: number; message: string; fatal: boolean }[]>();
  beforeAll(async () => {
    linted = await lintFiles(plugin, fixtures.map((f) => f.path));
  }, 300_000);

  it.each(fixtures.map((f) => [f.relPath, f] as const))('%s', (_path, fixture) => {
    const messages = linted.get(fixture.path) ?? [];
    expect(messages.filter((m) => m.fatal || m.rule === null)).toEqual([]);
    const actual = messages
      .filter((m) => m.rule !== null && existing.includes(m.rule))
      .map((m) => ({ rule: m.rule, line: m.line }))
      .sort((a, b) => String(a.rule).localeCompare(String(b.rule)) || a.line - b.line);
    const expected = fixture.lint.filter((d) => existing.includes(d.rule));
    expect(actual).toEqual(expected);
  });
});
