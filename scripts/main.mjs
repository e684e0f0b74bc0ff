// The main job (`npm start`), on the bundled examples with no configuration:
//   1. lint the example training project with the real ESLint CLI and gradflow's recommended config;
//   2. execute the same programs on the engine with the runtime gradient-flow checker switched on,
//      so the static findings can be compared with what actually happens;
//   3. run the runtime demos (an MLP trained with Adam; seed 002's zero-filled-gradient effect).
// `npm run validate` does steps 1–2 over every labelled fixture and prints the agreement table.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { executeFixture, repoRoot } from '../test/validation/harness.mjs';

const heading = (text) => console.log(`\n=== ${text}`);

heading('npx eslint examples   (static: @gradflow/eslint-plugin, configs.recommended)');
const eslintBin = join(repoRoot, 'node_modules', 'eslint', 'bin', 'eslint.js');
const lint = spawnSync(process.execPath, [eslintBin, 'examples'], { cwd: repoRoot, stdio: 'inherit' });
// Exit status 1 only means the buggy examples were flagged, which is the point; 2 is a real failure.
if (lint.status !== 0 && lint.status !== 1) process.exit(lint.status ?? 2);

heading('the same programs on the engine   (runtime: enableGradFlowChecker)');
const trainingDir = join(repoRoot, 'examples', 'training');
for (const file of readdirSync(trainingDir)
  .filter((f) => f.endsWith('.ts'))
  .sort()) {
  const path = join(trainingDir, file);
  const relPath = relative(repoRoot, path);
  const { findings, error } = await executeFixture({ path, relPath, text: readFileSync(path, 'utf8') });
  const seen = new Set();
  const lines = findings.map((f) => `  ${f.ruleId ?? f.kind}: ${f.message}`).filter((l) => !seen.has(l) && seen.add(l));
  const SHOWN = 5;
  console.log(
    `${relPath}: ${lines.length === 0 ? 'nothing went wrong' : `${lines.length} finding(s)${lines.length > SHOWN ? `, the first ${SHOWN} shown` : ''}`}`,
  );
  for (const l of lines.slice(0, SHOWN)) console.log(l.length > 220 ? `${l.slice(0, 217)}...` : l);
  if (lines.length > SHOWN) {
    console.log(`  … and ${lines.length - SHOWN} more not shown`);
  }
  if (error && !findings.length) console.log(`  stopped by: ${error instanceof Error ? error.message : String(error)}`);
}

const runtimeDir = join(repoRoot, 'examples', 'runtime');
for (const file of readdirSync(runtimeDir)
  .filter((f) => f.endsWith('.mjs'))
  .sort()) {
  heading(`examples/runtime/${file}`);
  await import(pathToFileURL(join(runtimeDir, file)).href);
}
console.log('\nNext: `npm run validate` prints, per rule, how the linter agrees with the engine over every fixture.');
