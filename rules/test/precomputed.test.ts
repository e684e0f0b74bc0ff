import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import ts from 'typescript';
import tseslint from 'typescript-eslint';
import { afterAll, describe, expect, it } from 'vitest';
import { getRelatedLocations } from '../src/analysis/related.js';
import { captureReports } from '../src/util/capture.js';
import { rules } from '../src/index.js';
import { PRECOMPUTED_REPORTS, type CapturedReports, type PrecomputedReports } from '../src/util/precomputed.js';

// The language server computes the rules' reports on a thread of its own (`captureReports`, on a
// program of its own) while ESLint parses the file, and the rules replay them at Program:exit
// (util/precomputed.ts). A replayed lint must be the lint: every message of every labelled
// positive fixture — text, position, severity, suggestions and their fixes — and every related
// location, the same with the reports replayed as with the rules analysing the file themselves.

const fixturesDir = fileURLToPath(new URL('../../fixtures', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? tsFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

// The positives (the files with a report to replay), and the files of their multi-file projects.
const positives = tsFiles(fixturesDir).filter((file) => readFileSync(file, 'utf8').includes('@lint'));
const projectFiles = [...new Set(positives.flatMap((file) => tsFiles(path.dirname(file))))];

const eslint = new ESLint({
  cwd: fixturesDir,
  overrideConfigFile: true,
  overrideConfig: [
    {
      files: ['**/*.ts'],
      languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true, tsconfigRootDir: fixturesDir } },
      // typescript-eslint's rule types and ESLint's plugin type do not meet; the object is a plugin.
      plugins: { gradflow: { rules } as unknown as ESLint.Plugin },
      rules: Object.fromEntries(Object.keys(rules).map((name) => [`gradflow/${name}`, 'error'])),
    },
  ],
});

/** Everything a user sees of a lint: the messages as ESLint gives them and each one's related locations. */
async function lintAll(): Promise<unknown[]> {
  const results = await eslint.lintFiles(positives);
  return results.map((result) => ({
    file: path.relative(fixturesDir, result.filePath),
    messages: result.messages.map((m) => ({ ...m, related: getRelatedLocations(result.filePath, m.ruleId ?? '', m.line, m.column) })),
  }));
}

afterAll(() => {
  Reflect.deleteProperty(globalThis, PRECOMPUTED_REPORTS);
});

describe('reports computed elsewhere and replayed', () => {
  it('give exactly the lint the rules give analysing the file themselves', async () => {
    const direct = await lintAll();
    // A program of its own, as the server's thread has (same texts, not the lint's program).
    const config = ts.getParsedCommandLineOfConfigFile(
      path.join(fixturesDir, 'tsconfig.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: () => undefined,
      },
    );
    const program = ts.createProgram(projectFiles, config?.options ?? {});
    const captured = new Map<string, CapturedReports | undefined>(positives.map((file) => [file, captureReports(program, file)?.reports]));
    let taken = 0;
    const host: PrecomputedReports = {
      take(filename, text, rule) {
        const reports = captured.get(path.resolve(filename));
        if (reports === undefined || text !== readFileSync(filename, 'utf8')) return undefined;
        taken += 1;
        return reports[rule];
      },
    };
    (globalThis as Record<symbol, unknown>)[PRECOMPUTED_REPORTS] = host;
    const replayed = await lintAll();
    // Every rule of every file took its reports from the capture, none analysed the file.
    expect(taken).toBe(positives.length * Object.keys(rules).length);
    expect(replayed).toEqual(direct);
    const reported = direct.flatMap((r) => (r as { messages: { suggestions?: unknown[]; related: unknown[] }[] }).messages);
    // The comparison covers suggestions and related locations, not only message texts.
    expect(reported.length).toBeGreaterThanOrEqual(positives.length);
    expect(reported.filter((m) => (m.suggestions?.length ?? 0) > 0).length).toBeGreaterThan(50);
    expect(reported.filter((m) => m.related.length > 0).length).toBeGreaterThan(50);
  }, 300_000);
});
