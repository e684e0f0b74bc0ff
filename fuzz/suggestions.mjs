// Fixes proven by execution (issue 10): every suggestion a rule offers on a program is applied
// exactly as an editor's quick fix applies it (ESLint's `suggestions[j].fix` = `{ range, text }` on
// the file's text, one suggestion at a time), and the result is type-checked (one TypeScript
// program over all of them), linted (the same ESLint instance) and run with the engine's checker.
// A suggestion is proven when the program still type-checks, the rule reports one finding fewer
// and no rule reports more than before, and at run time the finding is gone (when the linter no
// longer reports the rule) and nothing new appears (an engine error no rule is about, or a finding
// of a rule the linter did not already report). Anything else is a failed suggestion: a rule bug.
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { executeFixture, repoRoot, runtimeRules } from '../test/validation/harness.mjs';

/**
 * @typedef {import('./oracle.mjs').LintMessage} LintMessage
 * @typedef {{ name: string, text: string }} SourceFile
 * @typedef {{ id: string, files: SourceFile[], lint: LintMessage[], runtimeRules: string[] }} Subject
 *   a program with its lint messages (with suggestions) and the rules its run reported
 * @typedef {{ subject: string, rule: string, line: number, file: string, desc: string, ok: boolean, why: string[], revealed: string[], path: string, after: { rule: string, file: string, line: number, message: string }[] }} Proof
 */

/** The file text with one suggestion applied (ESLint's fix: replace `range` with `text`). */
export function applySuggestion(text, /** @type {{ range: [number, number], text: string }} */ fix) {
  return text.slice(0, fix.range[0]) + fix.text + text.slice(fix.range[1]);
}

/** Per rule, how many messages. @param {LintMessage[]} lint */
const countByRule = (lint) => lint.reduce((m, x) => m.set(x.rule, (m.get(x.rule) ?? 0) + 1), new Map());

/** The compiler options of the generated programs (a copy of fixtures/tsconfig.json). */
function compilerOptions(/** @type {string} */ tsconfigDir) {
  const config = ts.readConfigFile(join(tsconfigDir, 'tsconfig.json'), (p) => ts.sys.readFile(p)).config;
  return ts.parseJsonConfigFileContent(config, ts.sys, tsconfigDir).options;
}

/**
 * Applies, checks and runs every suggestion of every subject. Each variant is written as a folder
 * `<dir>/<subject id>-<k>/` holding all the subject's files, the suggestion applied to one of them.
 * @param {{ lint: (files: string[]) => Promise<Map<string, { messages: LintMessage[], failures: string[] }>> }} linter
 * @param {Subject[]} subjects
 * @param {string} dir a folder under a tsconfig.json that gives the linter type information
 * @param {string} tsconfigDir where that tsconfig.json is
 * @returns {Promise<Proof[]>}
 */
export async function proveSuggestions(linter, subjects, dir, tsconfigDir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // Its own tsconfig.json: the fixed programs form one program of their own (see prepareDir).
  copyFileSync(join(tsconfigDir, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  const variants = [];
  for (const s of subjects) {
    let k = 0;
    for (const m of s.lint) {
      for (const sug of m.suggestions) {
        const folder = join(dir, `${s.id}-${String(k++)}`);
        mkdirSync(folder, { recursive: true });
        const files = s.files.map((f) => {
          const text = f.name === m.file ? applySuggestion(f.text, sug.fix) : f.text;
          const path = join(folder, f.name);
          writeFileSync(path, text);
          return { path, name: f.name, text };
        });
        variants.push({ subject: s, message: m, desc: sug.desc, folder, files });
      }
    }
  }
  if (variants.length === 0) return [];
  const allPaths = variants.flatMap((v) => v.files.map((f) => f.path));
  const linted = await linter.lint(allPaths);
  const program = ts.createProgram(allPaths, compilerOptions(tsconfigDir));
  /** @type {Map<string, string[]>} */
  const typeErrors = new Map();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const file = d.file?.fileName ?? '';
    const at = d.file && d.start !== undefined ? `:${String(d.file.getLineAndCharacterOfPosition(d.start).line + 1)}` : '';
    typeErrors.set(file, [
      ...(typeErrors.get(file) ?? []),
      `${relative(repoRoot, file)}${at}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
    ]);
  }
  /** @type {Proof[]} */
  const proofs = [];
  for (const v of variants) {
    const why = [];
    const { subject: s, message: m } = v;
    for (const f of v.files) why.push(...(typeErrors.get(f.path) ?? []).map((e) => `type error ${e}`));
    const perFile = v.files.map((f) => linted.get(f.path) ?? { messages: [], failures: ['not linted'] });
    const lint = perFile.flatMap((r) => r.messages);
    why.push(...perFile.flatMap((r) => r.failures).map((e) => `lint failure ${e}`));
    const before = countByRule(s.lint);
    const after = countByRule(lint);
    if ((after.get(m.rule) ?? 0) >= (before.get(m.rule) ?? 0)) why.push(`the ${m.rule} finding is still reported`);
    // A mistake the program already had but the finding's own mistake hid (a freeze after the
    // optimizer that mattered only once the noGrad around the trunk is gone): the generator marked its
    // line, so a new finding of that rule is revealed, not made by the fix. Counted apart, never as proven silently.
    const marks = s.files.flatMap((f) => [...f.text.matchAll(/\/\/ ✗ ([a-z-]+(?:, [a-z-]+)*)/g)].flatMap((x) => x[1].split(', ')));
    const marked = new Set(marks);
    const revealed = [];
    for (const [rule, n] of after) {
      if (rule !== m.rule && n > (before.get(rule) ?? 0))
        (marked.has(rule) ? revealed : why).push(`a new ${rule} finding: ${lint.find((x) => x.rule === rule)?.message ?? ''}`);
    }
    const main = v.files[0];
    const result = await executeFixture({ path: main.path, text: main.text, files: v.files, relPath: relative(repoRoot, main.path) });
    const thrown = /** @type {any} */ (result.error);
    const rtAfter = runtimeRules(result.findings);
    if (thrown && !(thrown.code && result.findings.some((f) => f.kind === thrown.code && f.ruleId)))
      why.push(`the run stops at ${thrown.code ?? thrown.name}: ${String(thrown.message).split('\n')[0]}`);
    // The engine reports the rule's error wherever it happens: with another mistake of the same rule
    // marked in the program (one the linter misses, say), that report is not this finding's.
    if (rtAfter.includes(m.rule) && !after.has(m.rule))
      (marks.filter((r) => r === m.rule).length > 1 ? revealed : why).push(
        `the engine still reports ${m.rule} (${result.kinds.join(', ')})`,
      );
    const staticBefore = new Set(s.lint.map((x) => x.rule));
    for (const rule of rtAfter) {
      // A finding the run did not reach before (it stopped at the error the fix removes) is not
      // new when the linter already reported it.
      if (!s.runtimeRules.includes(rule) && !staticBefore.has(rule))
        (marked.has(rule) ? revealed : why).push(`a new runtime finding of ${rule} (${result.kinds.join(', ')})`);
    }
    proofs.push({
      subject: s.id,
      rule: m.rule,
      line: m.line,
      file: m.file,
      desc: v.desc,
      ok: why.length === 0,
      why,
      revealed,
      path: v.folder,
      after: lint.map((x) => ({ rule: x.rule, file: x.file, line: x.line, message: x.message })),
    });
  }
  return proofs;
}

/**
 * Per rule and suggestion (its description with the names taken out): applied / proven / revealed (the
 * finding is gone and nothing broke, but a mistake the program already had, marked by the generator,
 * now shows) / failed. @param {Proof[]} proofs
 */
export function summarizeProofs(proofs) {
  /** @type {Map<string, { rule: string, suggestion: string, applied: number, proven: number, revealed: number, failed: number }>} */
  const rows = new Map();
  for (const p of proofs) {
    const suggestion = p.desc.replace(/`[^`]*`/g, '`…`').replace(/'[^']*'/g, "'…'");
    const key = `${p.rule}\u0000${suggestion}`;
    const row = rows.get(key) ?? { rule: p.rule, suggestion, applied: 0, proven: 0, revealed: 0, failed: 0 };
    row.applied++;
    if (!p.ok) row.failed++;
    else if (p.revealed.length > 0) row.revealed++;
    else row.proven++;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.rule.localeCompare(b.rule) || a.suggestion.localeCompare(b.suggestion));
}
