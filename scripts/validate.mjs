#!/usr/bin/env node
// `npm run validate`: per rule, how the static findings (ESLint with the plugin's recommended
// config) agree with the runtime findings (the engine's checker) over every fixture.
//   TP: both flag the rule on a fixture   FP: only the linter does
//   FN: only the runtime does             TN: neither
// Rules the plugin does not have yet are listed as missing (their runtime side is still run).
// Exit status 1 when a fixture's runtime outcome differs from its @runtime label (a broken
// fixture or checker); disagreements between linter and runtime are reported, not fatal.
// Options: --json <file> writes the full table and the per-fixture results.
import { writeFileSync } from 'node:fs';
import { RULES, executeFixture, lintFiles, loadFixtures, loadPlugin, runtimeRules } from '../test/validation/harness.mjs';

const jsonAt = process.argv.indexOf('--json');
const fixtures = loadFixtures();
const { plugin, existing, reason } = await loadPlugin();

const runs = [];
for (const fixture of fixtures) runs.push({ fixture, result: await executeFixture(fixture) });
const linted = plugin
  ? await lintFiles(
      plugin,
      fixtures.flatMap((f) => f.files.map((file) => file.path)),
    )
  : new Map();

const table = RULES.map((rule) => ({
  rule,
  present: existing.includes(rule),
  TP: 0,
  FP: 0,
  FN: 0,
  TN: 0,
  runtimePositives: 0,
  staticVsLabel: 0,
  disagreements: /** @type {string[]} */ ([]),
}));
const labelMismatches = [];
/** Fixtures whose diagnostics differ from their @lint lines (printed; the validation tests fail on them). */
const lintMismatches = [];
for (const { fixture, result } of runs) {
  const runtime = runtimeRules(result.findings);
  const messages = fixture.files.flatMap((file) => (linted.get(file.path) ?? []).map((m) => ({ ...m, file: file.name })));
  const fatal = messages.filter((m) => m.fatal || m.rule === null);
  if (fatal.length > 0) labelMismatches.push(`${fixture.relPath}: lint failed: ${fatal.map((m) => m.message).join('; ')}`);
  if (JSON.stringify(result.kinds) !== JSON.stringify(fixture.runtime)) {
    labelMismatches.push(`${fixture.relPath}: runtime ${result.kinds.join(', ')} but labelled ${fixture.runtime.join(', ')}`);
  }
  for (const row of table) {
    const atRuntime = runtime.includes(row.rule);
    if (atRuntime) row.runtimePositives++;
    if (!row.present) continue;
    const lines = messages
      .filter((m) => m.rule === row.rule)
      .map((m) => `${m.file}:${String(m.line)}`)
      .sort();
    const labelled = fixture.lint
      .filter((d) => d.rule === row.rule)
      .map((d) => `${d.file}:${String(d.line)}`)
      .sort();
    if (JSON.stringify(lines) !== JSON.stringify(labelled)) {
      row.staticVsLabel++;
      lintMismatches.push(`${row.rule} ${fixture.relPath}: linter at [${lines.join(', ')}], labelled [${labelled.join(', ')}]`);
    }
    const statically = lines.length > 0;
    const cell = statically ? (atRuntime ? 'TP' : 'FP') : atRuntime ? 'FN' : 'TN';
    row[cell]++;
    if (cell === 'FP' || cell === 'FN') {
      const known = fixture.knownDifferences.find((d) => d.rule === row.rule);
      const expected = known ? ` (known difference: ${known.reason})` : '';
      row.disagreements.push(
        `${cell} ${fixture.relPath}: ${statically ? `linter at line ${lines.join(', ')}` : 'no diagnostic'}; runtime ${result.kinds.join(', ')}${expected}`,
      );
    }
  }
}

const pad = (s, n) => String(s).padEnd(n);
const num = (s) => String(s).padStart(4);
console.log(
  `gradflow validation: ${fixtures.length} fixtures; plugin rules present ${existing.length}/${RULES.length}${plugin ? '' : ` (plugin not loadable: ${reason})`}\n`,
);
console.log(`${pad('rule', 38)}${pad('static', 9)}${num('TP')}${num('FP')}${num('FN')}${num('TN')}  runtime+  agreement  static≠label`);
for (const row of table) {
  const agreement = row.present ? `${(((row.TP + row.TN) / fixtures.length) * 100).toFixed(1)}%` : '—';
  const cells = (row.present ? [row.TP, row.FP, row.FN, row.TN] : ['—', '—', '—', '—']).map(num).join('');
  console.log(
    `${pad(`@gradflow/${row.rule}`, 38)}${pad(row.present ? 'present' : 'MISSING', 9)}${cells}  ${pad(num(row.runtimePositives), 8)}  ${pad(agreement, 9)}  ${row.present ? row.staticVsLabel : '—'}`,
  );
}
const withDisagreements = table.filter((r) => r.disagreements.length > 0);
if (withDisagreements.length > 0) {
  console.log('\nDisagreements (static vs runtime):');
  for (const row of withDisagreements) for (const d of row.disagreements) console.log(`  @gradflow/${row.rule} ${d}`);
}
if (table.some((r) => !r.present))
  console.log(
    `\nMissing rules (not in the plugin yet; runtime side still checked): ${table
      .filter((r) => !r.present)
      .map((r) => r.rule)
      .join(', ')}`,
  );
if (labelMismatches.length > 0) {
  console.log('\nFixtures whose outcome differs from their label:');
  for (const m of labelMismatches) console.log(`  ${m}`);
}
if (lintMismatches.length > 0) {
  console.log('\nFixtures whose diagnostics differ from their @lint label:');
  for (const m of lintMismatches) console.log(`  ${m}`);
}
if (jsonAt !== -1 && process.argv[jsonAt + 1]) {
  writeFileSync(
    process.argv[jsonAt + 1],
    JSON.stringify(
      {
        table,
        labelMismatches,
        fixtures: runs.map(({ fixture, result }) => ({
          path: fixture.relPath,
          runtime: result.kinds,
          lint: fixture.files.flatMap((file) => linted.get(file.path) ?? []),
        })),
      },
      null,
      2,
    ),
  );
}
process.exitCode = labelMismatches.length > 0 ? 1 : 0;
