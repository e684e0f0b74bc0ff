#!/usr/bin/env node
// Crash check: runs every gradflow rule over TypeScript files that are not ours (.ts/.d.ts/.mts/.cts
// under node_modules) and fails on any rule exception or any analysis failure the rules swallowed.
//
//   node rules/scripts/crash-check.mjs                 # every file (thousands; slow)
//   node rules/scripts/crash-check.mjs --limit 400     # a sample spread round-robin across packages
//   node rules/scripts/crash-check.mjs --root <dir>    # another node_modules
//
// Needs a build first (`npx tsc -b`). Prints one JSON summary line; exit code 1 on any failure.
import { ESLint } from 'eslint';
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import plugin from '@gradflow/eslint-plugin';
import { analysisFailures, describeGradientStatus } from '@gradflow/rules/analysis';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const root = resolve(option('--root') ?? join(repoRoot, 'node_modules'));
const limit = option('--limit') === undefined ? Infinity : Number(option('--limit'));
const CHUNK = 200;
const HOVERS_PER_FILE = 20;

/** TypeScript files per package, without following links (the workspace's own packages are links). */
function collect() {
  const byPackage = new Map();
  const walk = (dir, pkg) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isSymbolicLink()) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === '.bin' || entry.name === '.cache') continue;
        const isPackageDir =
          dir === root || (dir !== root && relative(root, dir).split(/[\\/]/).length === 1 && relative(root, dir).startsWith('@'));
        walk(path, pkg ?? (isPackageDir ? relative(root, path) : undefined));
      } else if (/\.(?:d\.)?[mc]?ts$/.test(entry.name)) {
        const key = pkg ?? '(root)';
        if (!byPackage.has(key)) byPackage.set(key, []);
        byPackage.get(key).push(path);
      }
    }
  };
  walk(root, undefined);
  return byPackage;
}

/** Round-robin over packages so a bounded sample still covers many of them. */
function sample(byPackage) {
  const lists = [...byPackage.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, files]) => files.sort());
  const out = [];
  for (let i = 0; out.length < limit; i++) {
    let added = false;
    for (const files of lists) {
      if (i < files.length && out.length < limit) {
        out.push(files[i]);
        added = true;
      }
    }
    if (!added) break;
  }
  return out;
}

const files = sample(collect());
const failures = [];
let linted = 0;
let parseErrors = 0;
let reports = 0;
let hovers = 0;
const started = Date.now();

for (let start = 0; start < files.length; start += CHUNK) {
  const chunk = files.slice(start, start + CHUNK);
  // One program per chunk: the files are not part of any tsconfig, and type information is what the rules use.
  const program = ts.createProgram(chunk, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowJs: false,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  });
  const eslint = new ESLint({
    cwd: root,
    ignore: false,
    overrideConfigFile: true,
    overrideConfig: [
      plugin.configs.strict,
      { files: ['**/*.ts', '**/*.mts', '**/*.cts'], languageOptions: { parserOptions: { projectService: false, programs: [program] } } },
    ],
  });
  for (const file of chunk) {
    try {
      const [result] = await eslint.lintFiles([file]);
      linted++;
      for (const message of result.messages) {
        if (message.fatal) parseErrors++;
        else if (message.ruleId?.startsWith('@gradflow/')) reports++;
      }
    } catch (error) {
      failures.push({ file: relative(root, file), error: stackHead(error) });
    }
    // The hover path too, at a spread of identifiers (its failures are recorded like the rules').
    const sourceFile = program.getSourceFile(file);
    if (sourceFile) {
      const identifiers = [];
      const visit = (node) => {
        if (ts.isIdentifier(node)) identifiers.push(node.getStart(sourceFile));
        ts.forEachChild(node, visit);
      };
      visit(sourceFile);
      const step = Math.max(1, Math.floor(identifiers.length / HOVERS_PER_FILE));
      for (let i = 0; i < identifiers.length; i += step) {
        describeGradientStatus(program, file, identifiers[i]);
        hovers++;
      }
    }
  }
}

const swallowed = analysisFailures().map(({ fileName, error }) => ({ file: relative(root, fileName), error: stackHead(error) }));
const summary = {
  root,
  files: files.length,
  linted,
  parseErrors,
  reports,
  hovers,
  ruleExceptions: failures.length,
  analysisFailures: swallowed.length,
  seconds: Math.round((Date.now() - started) / 1000),
};
console.log(JSON.stringify(summary));
for (const f of [...failures, ...swallowed].slice(0, 20)) console.error(`${f.file}\n${f.error}\n`);
process.exitCode = failures.length + swallowed.length > 0 ? 1 : 0;

/** The first lines of an error's stack (its text, for a thrown non-Error). */
function stackHead(error) {
  return (error instanceof Error ? (error.stack ?? error.message) : String(error)).split('\n').slice(0, 6).join('\n');
}
