// Shared by the validation suite (vitest) and scripts/validate.mjs: reads the fixtures' labels,
// executes each fixture on the engine with the runtime checker on, and lints them with the
// plugin's recommended config. Plain JS so that the script runs without a build step of its own.
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import * as engine from '@gradflow/autograd';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = join(repoRoot, 'fixtures');

/** The rules, short ids (without the `@gradflow/` prefix), in the engine's order (`RULE_IDS`). */
export const RULES = engine.RULE_IDS.map((id) => id.replace('@gradflow/', ''));

/** A runtime label is `ok` or an outcome a rule is about: an engine error code or an observation. */
function isRuntimeLabel(kind) {
  return kind === 'ok' || engine.ruleForKind(kind) !== null;
}

/**
 * A fixture's header (the leading block comment):
 *   @fixture <one line saying what the program does>
 *   @lint <rule-id> <line>      (zero or more: expected diagnostics; in a folder fixture
 *                               `@lint <rule-id> <file>.ts:<line>` for a file beside main.ts)
 *   @runtime <KIND>[, <KIND>]   (engine error code or observation kinds) or `ok`
 *   @known-difference <rule-id> <why>   (zero or more: the linter deliberately disagrees with the
 *                               runtime here, a blind spot or choice documented in the rule's doc)
 *   @source <repo>/<path>       (optional: the public original a ported program follows)
 */
export function parseHeader(file, text) {
  const header = /^\/\*\*([\s\S]*?)\*\//.exec(text);
  if (!header) throw new Error(`${file}: missing the /** @fixture … */ header`);
  const lint = [];
  const knownDifferences = [];
  let runtime;
  let description;
  let source;
  for (const raw of header[1].split('\n')) {
    const line = raw.replace(/^\s*\*?\s?/, '').trim();
    let m;
    if ((m = /^@fixture\s+(.+)$/.exec(line))) description = m[1];
    else if ((m = /^@source\s+(\S+)$/.exec(line))) source = m[1];
    else if ((m = /^@lint\s+([a-z-]+)\s+(?:([\w.-]+\.ts):)?(\d+)$/.exec(line))) {
      if (!RULES.includes(m[1])) throw new Error(`${file}: unknown rule '${m[1]}' in @lint`);
      lint.push({ rule: m[1], file: m[2] ?? basename(file), line: Number(m[3]) });
    } else if ((m = /^@known-difference\s+([a-z-]+)\s+(.+)$/.exec(line))) {
      if (!RULES.includes(m[1])) throw new Error(`${file}: unknown rule '${m[1]}' in @known-difference`);
      knownDifferences.push({ rule: m[1], reason: m[2] });
    } else if ((m = /^@runtime\s+(.+)$/.exec(line))) {
      runtime = m[1]
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .sort();
      for (const k of runtime) {
        if (!isRuntimeLabel(k)) throw new Error(`${file}: unknown runtime outcome '${k}'`);
      }
    } else if (line.startsWith('@')) throw new Error(`${file}: unknown header tag in '${line}'`);
  }
  if (!description) throw new Error(`${file}: header lacks @fixture`);
  if (!runtime) throw new Error(`${file}: header lacks @runtime`);
  lint.sort(compareLabels);
  return { description, lint, runtime, knownDifferences, source };
}

/** Orders lint labels and messages alike: rule, file, line. */
export function compareLabels(a, b) {
  return String(a.rule).localeCompare(String(b.rule)) || a.file.localeCompare(b.file) || a.line - b.line;
}

/**
 * Every fixture: `fixtures/<rule-id>/<name>.ts`, or a folder `fixtures/<rule-id>/<name>/` whose
 * `main.ts` carries the header and imports the other files (a multi-file project: model.ts,
 * utils.ts, …). `files` lists every file of the fixture, the main one first.
 */
export function loadFixtures() {
  const out = [];
  for (const rule of readdirSync(fixturesDir, { withFileTypes: true })) {
    if (!rule.isDirectory()) continue;
    for (const entry of readdirSync(join(fixturesDir, rule.name), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const folder = entry.isDirectory();
      if (!folder && !entry.name.endsWith('.ts')) continue;
      const path = folder ? join(fixturesDir, rule.name, entry.name, 'main.ts') : join(fixturesDir, rule.name, entry.name);
      const others = folder
        ? readdirSync(dirname(path))
            .filter((f) => f.endsWith('.ts') && f !== 'main.ts')
            .sort()
            .map((f) => join(dirname(path), f))
        : [];
      const files = [path, ...others].map((p) => ({ path: p, name: basename(p), text: readFileSync(p, 'utf8') }));
      const text = files[0].text;
      out.push({
        rule: rule.name,
        name: entry.name.replace(/\.ts$/, ''),
        path,
        relPath: relative(repoRoot, folder ? dirname(path) : path),
        text,
        files,
        ...parseHeader(path, text),
      });
    }
  }
  return out.sort((a, b) => a.relPath.localeCompare(b.relPath));
}

/**
 * Executes a fixture in this process on the same engine instance the checker watches: the
 * TypeScript is transpiled to CommonJS and its `require('@gradflow/autograd')` is handed that
 * instance (no temporary files). Returns the checker's findings and the error that stopped it.
 */
export async function executeFixture(fixture) {
  const files = fixture.files ?? [{ path: fixture.path, name: basename(fixture.path), text: fixture.text }];
  const loaded = new Map();
  const load = (file) => {
    const cached = loaded.get(file.path);
    if (cached) return cached.exports;
    const js = ts.transpileModule(file.text, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
      fileName: file.path,
    }).outputText;
    const module = { exports: {} };
    loaded.set(file.path, module);
    new Function('require', 'module', 'exports', js)(requireShim, module, module.exports);
    return module.exports;
  };
  // '@gradflow/autograd' is the engine the checker watches; './utils.js' is a file of the same fixture.
  const requireShim = (id) => {
    if (id === '@gradflow/autograd') return engine;
    const sibling = id.startsWith('./') ? files.find((f) => f.name === basename(id).replace(/\.js$/, '.ts')) : undefined;
    if (sibling) return load(sibling);
    throw new Error(`${fixture.relPath}: fixtures may import only '@gradflow/autograd' and their own files, not '${id}'`);
  };
  const module = { exports: {} };
  const checker = engine.enableGradFlowChecker();
  let error = null;
  const warn = console.warn;
  console.warn = () => {}; // the engine's once-per-process non-leaf warning; the checker records it
  try {
    Object.assign(module.exports, load(files[0]));
    if (typeof module.exports.main === 'function') await module.exports.main();
  } catch (e) {
    error = e;
    checker.recordError(e);
  } finally {
    console.warn = warn;
    checker.dispose();
  }
  const findings = checker.findings();
  const kinds = [...new Set(findings.map((f) => f.kind))].sort();
  return { findings, kinds: kinds.length === 0 ? ['ok'] : kinds, error };
}

/** Runtime findings as short rule ids (engine errors no rule is about are left out). */
export function runtimeRules(findings) {
  return [
    ...new Set(
      findings
        .map((f) => f.ruleId)
        .filter(Boolean)
        .map((id) => id.replace('@gradflow/', '')),
    ),
  ].sort();
}

/** Rule ids implied by a fixture's runtime label. */
export function labelledRuntimeRules(fixture) {
  return [
    ...new Set(
      fixture.runtime
        .filter((k) => k !== 'ok')
        .map((k) => engine.ruleForKind(k)?.replace('@gradflow/', ''))
        .filter(Boolean),
    ),
  ].sort();
}

/**
 * Loads the plugin; `null` (with the reason) when it does not load. `existing` lists the rule ids
 * the plugin has; scripts/validate.mjs reports the others as missing, the tests fail on them.
 */
export async function loadPlugin() {
  try {
    const mod = await import('@gradflow/eslint-plugin');
    const plugin = mod.default ?? mod;
    const existing = RULES.filter((r) => plugin.rules && r in plugin.rules);
    return { plugin, existing, reason: null };
  } catch (e) {
    return { plugin: null, existing: [], reason: e instanceof Error ? e.message.split('\n')[0] : String(e) };
  }
}

/** Lints files with the real ESLint class and the plugin's `configs.recommended`. */
export async function lintFiles(plugin, files) {
  const { ESLint } = await import('eslint');
  const recommended = plugin.configs?.recommended;
  const eslint = new ESLint({
    cwd: repoRoot,
    overrideConfigFile: true,
    overrideConfig: Array.isArray(recommended) ? recommended : [recommended],
  });
  const results = await eslint.lintFiles(files);
  const byFile = new Map();
  for (const r of results) {
    const messages = r.messages.map((m) => ({
      rule: m.ruleId?.replace('@gradflow/', '') ?? null,
      line: m.line,
      message: m.message,
      fatal: m.fatal === true,
    }));
    byFile.set(r.filePath, messages);
  }
  return byFile;
}
