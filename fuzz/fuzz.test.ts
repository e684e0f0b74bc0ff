// Differential testing (issue 10): a fixed-seed batch of generated training programs, each linted
// with the real plugin and run with the engine's checker. Fails on a disagreement that fuzz/known.mjs
// does not explain (a documented blind spot or choice, or an open disagreement already reported),
// on a generated program that does not type-check or run, and when the batch stops covering a rule.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_SAVING_OPS, describeSpec, sampleSpecs, savingOpSweep } from './generator.mjs';
import { repoRoot } from '../test/validation/harness.mjs';
import { KNOWN, KNOWN_SUGGESTION_FAILURES, explainSuggestionFailure, openFixture } from './known.mjs';
import {
  RULES,
  attachUnmasked,
  createLinter,
  evaluate,
  outRoot,
  prepareDir,
  suggestionSubjects,
  summarize,
  unmaskedSpecs,
} from './oracle.mjs';
import { proveSuggestions, type Proof } from './suggestions.mjs';

const SEED = 20261206;
const COUNT = 200;

type Outcome = Awaited<ReturnType<typeof evaluate>>[number];
let outcomes: Outcome[] = [];
let proofs: Proof[] = [];
let dir = '';

describe(`fuzz: ${COUNT} generated programs (seed ${SEED}) and the saving-op sweep, linter vs engine`, () => {
  beforeAll(async () => {
    const linter = await createLinter();
    expect(linter.missing, 'rules missing from the plugin').toEqual([]);
    dir = prepareDir(`test-${SEED}`);
    const first = await evaluate(linter, [...sampleSpecs(SEED, COUNT), ...savingOpSweep()], dir);
    const rerun = unmaskedSpecs(first);
    const again = await evaluate(
      linter,
      rerun.map((r) => r.spec),
      dir,
      'u',
    );
    attachUnmasked(rerun, again);
    outcomes = [...first, ...again];
    proofs = await proveSuggestions(linter, suggestionSubjects(outcomes), join(outRoot, `test-${SEED}-fix`), outRoot);
  }, 600_000);

  it('every generated program runs (errors only from the rules) and lints without a parse error', () => {
    expect(outcomes.filter((o) => o.broken).map((o) => `${o.path}: ${o.broken}`)).toEqual([]);
  });

  it('every generated program type-checks', () => {
    const config: unknown = ts.readConfigFile(join(outRoot, 'tsconfig.json'), (path) => ts.sys.readFile(path)).config;
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, outRoot);
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(dir, f));
    const program = ts.createProgram(files, options);
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(diagnostics).toEqual([]);
  }, 60_000);

  it('the linter agrees with the engine on every rule, except for the explained disagreements', () => {
    const unexplained = outcomes.flatMap((o) =>
      o.disagreements
        .filter((d) => d.status === 'unexplained')
        .map(
          (d) =>
            `${d.cell} ${d.rule}: ${o.path} — ${describeSpec(o.spec)}; runtime ${o.runtimeKinds.join(', ')}; linter ${o.lint.map((m) => `${m.rule}:${String(m.line)}`).join(' ') || 'silent'}`,
        ),
    );
    expect(unexplained, 'shrink one with `npm run fuzz -- --seed 20261206 --count 150`').toEqual([]);
  });

  it('every suggestion the rules offer on the batch, applied as a quick fix, type-checks, removes its finding statically and at run time and adds none', () => {
    const failed = proofs
      .filter((p) => !p.ok && explainSuggestionFailure(p) === null)
      .map((p) => `${p.rule} at ${p.file}:${String(p.line)}, '${p.desc}' (${p.path}): ${p.why.join('; ')}`);
    expect(failed).toEqual([]);
    // Every rule offers suggestions on the batch, and they are applied.
    // (no-freeze-after-optimizer offers its one suggestion, moving the optimizer's construction after the
    // freeze, only where its moveAfter() finds a place: on none of these programs.)
    const rules = new Set(proofs.map((p) => p.rule));
    expect(RULES.filter((r) => !rules.has(r) && r !== 'no-freeze-after-optimizer')).toEqual([]);
  });

  it('programs of several files (helpers.ts, model.ts) are part of the batch', () => {
    expect(summarize(outcomes).multiFile).toBeGreaterThan(COUNT / 4);
  });

  it('the batch covers every rule with a mistake and a near miss', () => {
    const { table } = summarize(outcomes);
    for (const row of table) {
      expect(row.mistakePrograms, `${row.rule}: programs with the mistake`).toBeGreaterThan(0);
      expect(row.nearMissPrograms, `${row.rule}: near misses`).toBeGreaterThan(0);
    }
    expect(table.map((r) => r.rule)).toEqual(RULES);
  });

  it('every saving op of OP_METADATA that a method reaches is exercised, with a saved tensor changed before backward', () => {
    const { savingOps } = summarize(outcomes);
    expect(GENERATED_SAVING_OPS.filter((op) => (savingOps.get(op)?.savedMutations ?? 0) === 0)).toEqual([]);
  });

  it('explained disagreements are counted, not dropped', () => {
    const explained = outcomes.flatMap((o) => o.disagreements.filter((d) => d.status !== 'unexplained' && d.status !== 'masked'));
    for (const d of explained) expect(KNOWN.some((k) => k.reason === d.reason)).toBe(true);
  });

  it('every blind spot and by-design choice quotes its rule doc as the doc reads today', () => {
    // `rules/docs/<rule>.md: "quoted words"`, where `…` or `[…]` elides part of the doc's text.
    const stale = KNOWN.filter((k) => k.status !== 'known-open').flatMap((k) => {
      const quoted = /^(rules\/docs\/[\w-]+\.md)[^"]*"([^"]+)"/.exec(k.reason);
      if (!quoted) return [`${k.rule} ${k.cell}: no quote of a rule doc in "${k.reason.slice(0, 60)}"`];
      const doc = readFileSync(join(repoRoot, quoted[1]), 'utf8').replace(/\s+/g, ' ');
      const parts = quoted[2].split(/\[…\]|…/).map((part) => part.trim().replace(/\s+/g, ' '));
      return parts.filter((part) => part !== '' && !doc.includes(part)).map((part) => `${quoted[1]}: "${part}"`);
    });
    expect(stale).toEqual([]);
  });

  it('every open disagreement and every known suggestion failure has its fixture under fixtures/', () => {
    const missing = KNOWN.filter((k) => k.status === 'known-open').flatMap((k) => {
      const fixture = openFixture(k);
      // null: a checker bug, whose fixture would carry the checker's wrong label.
      if (fixture === null) return k.reason.startsWith('fuzz, a CHECKER') ? [] : [`${k.rule} ${k.cell}: null fixture`];
      return fixture !== undefined && existsSync(join(repoRoot, fixture)) ? [] : [`${k.rule} ${k.cell}: ${k.reason.slice(0, 80)}`];
    });
    expect(missing).toEqual([]);
    for (const k of KNOWN_SUGGESTION_FAILURES) expect(existsSync(join(repoRoot, k.fixture)), k.fixture).toBe(true);
  });
});
