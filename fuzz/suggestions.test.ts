// Fixes proven by execution over the hand-written fixtures (issue 10): every suggestion any rule
// offers on a fixture is applied as an editor's quick fix applies it, then the result is
// type-checked, linted and run with the engine's checker (fuzz/suggestions.mjs). A failure is a
// rule bug: it must be one of fuzz/known.mjs's KNOWN_SUGGESTION_FAILURES (each with its fixture).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { executeFixture, loadFixtures, runtimeRules } from '../test/validation/harness.mjs';
import { KNOWN_SUGGESTION_FAILURES, explainSuggestionFailure } from './known.mjs';
import { RULES, createLinter, outRoot, prepareDir } from './oracle.mjs';
import { applySuggestion, proveSuggestions, type Proof, type Subject } from './suggestions.mjs';

let proofs: Proof[] = [];
const fixtures = loadFixtures();

describe('suggestions on every fixture with a diagnostic, applied, type-checked, linted and run', () => {
  beforeAll(async () => {
    const linter = await createLinter();
    prepareDir('fixtures-fix');
    const linted = await linter.lint(fixtures.flatMap((f) => f.files.map((file) => file.path)));
    const subjects: Subject[] = [];
    for (const f of fixtures) {
      const lint = f.files.flatMap((file) => linted.get(file.path)?.messages ?? []);
      if (!lint.some((m) => m.suggestions.length > 0)) continue;
      const result = await executeFixture(f);
      subjects.push({
        id: f.relPath
          .replace(/^fixtures\//, '')
          .replace(/\.ts$/, '')
          .replace(/\//g, '--'),
        files: f.files.map((file) => ({ name: file.name, text: file.text })),
        lint,
        runtimeRules: runtimeRules(result.findings),
      });
    }
    proofs = await proveSuggestions(linter, subjects, join(outRoot, 'fixtures-fix'), outRoot);
  }, 600_000);

  it('applies a suggestion exactly as ESLint gives it (replace the range with the text)', () => {
    expect(applySuggestion('a.clamp_(0, 1);', { range: [0, 14], text: 'noGrad(() => a.clamp_(0, 1))' })).toBe(
      'noGrad(() => a.clamp_(0, 1));',
    );
  });

  it('every rule offers a suggestion on some fixture', () => {
    // (no-freeze-after-optimizer offers its one suggestion, moving the optimizer's construction after the
    // freeze, only where its moveAfter() finds a place: on none of these programs.)
    const rules = new Set(proofs.map((p) => p.rule));
    expect(RULES.filter((r) => !rules.has(r) && r !== 'no-freeze-after-optimizer')).toEqual([]);
  });

  it('every suggestion is proven, except the known failures (rule bugs with a fixture)', () => {
    const failed = proofs
      .filter((p) => !p.ok && explainSuggestionFailure(p) === null)
      .map((p) => `${p.subject} ${p.rule} at ${p.file}:${String(p.line)}, '${p.desc}': ${p.why.join('; ')}`);
    expect(failed).toEqual([]);
  });

  it('each known suggestion failure has its fixture, and the fixture shows the failure', () => {
    for (const k of KNOWN_SUGGESTION_FAILURES) {
      const id = k.fixture
        .replace(/^fixtures\//, '')
        .replace(/\.ts$/, '')
        .replace(/\//g, '--');
      expect(
        proofs.some((p) => p.subject === id && !p.ok && k.matches(p)),
        `${k.fixture}: ${k.reason}`,
      ).toBe(true);
    }
  });
});
