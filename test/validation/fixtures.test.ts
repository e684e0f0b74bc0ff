// The runtime validation suite: every fixture is executed on the engine with the runtime checker
// as oracle (its outcome must equal the fixture's @runtime label) and linted with the plugin's
// recommended config (its diagnostics must equal the @lint labels).
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { GradFlowError } from '@gradflow/autograd';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  RULES,
  compareLabels,
  executeFixture,
  fixturesDir,
  labelledRuntimeRules,
  lintFiles,
  loadFixtures,
  loadPlugin,
  parseHeader,
  runtimeRules,
  type LintMessage,
} from './harness.mjs';

const fixtures = loadFixtures();
const { plugin, existing, reason } = await loadPlugin();

describe('fixture set', () => {
  it("accepts as @runtime labels only the outcomes a rule is about (the engine's ruleForKind)", () => {
    const header = (runtime: string): string => `/**\n * @fixture f\n * @runtime ${runtime}\n */\n`;
    expect(parseHeader('f.ts', header('LEAF_INPLACE, STALE_GRADIENTS')).runtime).toEqual(['LEAF_INPLACE', 'STALE_GRADIENTS']);
    for (const notALabel of ['SHAPE_MISMATCH', 'constructor', 'leaf_inplace']) {
      expect(() => parseHeader('f.ts', header(notALabel)), notALabel).toThrow(/unknown runtime outcome/);
    }
  });

  it.each(RULES)('%s has at least 4 buggy programs and 4 near misses', (rule) => {
    const own = fixtures.filter((f) => f.rule === rule);
    expect(own.filter((f) => !f.runtime.includes('ok')).length).toBeGreaterThanOrEqual(4);
    expect(own.filter((f) => f.runtime.includes('ok')).length).toBeGreaterThanOrEqual(4);
  });

  it('labels every buggy program with its own rule, statically and at run time', () => {
    for (const f of fixtures) {
      const buggy = !f.runtime.includes('ok');
      // A documented difference of the fixture's own rule: a miss (buggy, not reported) or a false
      // alarm (reported, the engine sees nothing wrong), e.g. the fuzzer's open findings (issue 10).
      const documented = f.knownDifferences.some((d) => d.rule === f.rule);
      expect(
        f.lint.some((d) => d.rule === f.rule),
        f.relPath,
      ).toBe(documented ? !buggy : buggy);
      expect(labelledRuntimeRules(f).includes(f.rule), f.relPath).toBe(buggy);
    }
  });

  it('marks each labelled line with a // ✗ <rule-id> comment (headers stay in step with edits)', () => {
    for (const f of fixtures) {
      const marked = f.files.flatMap((file) =>
        file.text.split('\n').flatMap((text, i) => {
          const m = /\/\/ ✗ ([a-z-]+(?:, [a-z-]+)*)\s*$/.exec(text);
          return m ? m[1].split(', ').map((rule) => ({ rule, file: file.name, line: i + 1 })) : [];
        }),
      );
      marked.sort(compareLabels);
      // One mark per rule and line, however many findings the line has (a chained call).
      const labels = f.lint.filter((l, i) => i === 0 || compareLabels(l, f.lint[i - 1]) !== 0);
      expect(marked, f.relPath).toEqual(labels);
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
    if (result.error !== null && !(result.error instanceof GradFlowError)) {
      throw new Error(`${fixture.relPath} threw an error that is not the engine's`, { cause: result.error });
    }
    expect(result.kinds).toEqual(fixture.runtime);
    expect(runtimeRules(result.findings)).toEqual(labelledRuntimeRules(fixture));
  });
});

describe("static diagnostics (the plugin's recommended config)", () => {
  let linted = new Map<string, LintMessage[]>();
  beforeAll(async () => {
    // A plugin that does not load (a broken build) fails every fixture here, never skips them.
    if (plugin === null) throw new Error(`@gradflow/eslint-plugin did not load: ${String(reason)}`);
    linted = await lintFiles(
      plugin,
      fixtures.flatMap((f) => f.files.map((file) => file.path)),
    );
  }, 300_000);

  it('the plugin has every rule the fixtures are labelled with', () => {
    expect(reason).toBeNull();
    expect(existing).toEqual(RULES);
  });

  it.each(fixtures.map((f) => [f.relPath, f] as const))('%s', (_path, fixture) => {
    const messages = fixture.files.flatMap((file) => (linted.get(file.path) ?? []).map((m) => ({ ...m, file: file.name })));
    expect(messages.filter((m) => m.fatal || m.rule === null)).toEqual([]);
    const actual = messages.map((m) => ({ rule: m.rule, file: m.file, line: m.line })).sort(compareLabels);
    expect(actual).toEqual(fixture.lint);
  });
});
