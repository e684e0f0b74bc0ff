// The examples project as a user runs it: the real ESLint CLI from the repository root
// (`npx eslint examples`) must pick up examples/eslint.config.mjs, report the labelled mistakes
// in the buggy programs and nothing in the fixed ones, and produce valid SARIF for code scanning.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareLabels, executeFixture, parseHeader, repoRoot } from './harness.mjs';

const eslintBin = join(createRequire(import.meta.url).resolve('eslint/package.json'), '..', 'bin', 'eslint.js');
const trainingDir = join(repoRoot, 'examples', 'training');
const programs = readdirSync(trainingDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => join(trainingDir, f));

function eslint(...args: string[]): string {
  const run = spawnSync(process.execPath, [eslintBin, 'examples', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  // 0: no errors, 1: lint errors found; 2 would mean ESLint itself failed (config, parser, crash).
  expect(run.status, run.stderr).toBeLessThan(2);
  return run.stdout;
}

interface JsonResult {
  filePath: string;
  messages: { ruleId: string | null; line: number; fatal?: boolean; message: string }[];
}

describe('npx eslint examples', () => {
  let results: JsonResult[] = [];
  beforeAll(() => {
    results = JSON.parse(eslint('-f', 'json')) as JsonResult[];
  }, 180_000);

  it('lints every training program with the examples config', () => {
    expect(
      results
        .map((r) => r.filePath)
        .filter((p) => p.startsWith(trainingDir))
        .sort(),
    ).toEqual([...programs].sort());
    for (const r of results)
      expect(
        r.messages.filter((m) => m.fatal === true || m.ruleId === null),
        r.filePath,
      ).toEqual([]);
  });

  it.each(programs.map((p) => [p.slice(repoRoot.length + 1), p] as const))('%s: diagnostics match its labels', (_rel, path) => {
    const { lint } = parseHeader(path, readFileSync(path, 'utf8'));
    const messages = results.find((r) => r.filePath === path)?.messages ?? [];
    const actual = messages
      .map((m) => ({ rule: m.ruleId?.replace('@gradflow/', '') ?? '', file: basename(path), line: m.line }))
      .sort(compareLabels);
    expect(actual).toEqual(lint);
    if (path.endsWith('-fixed.ts')) expect(messages).toEqual([]);
  });

  it('formats the same findings as SARIF 2.1.0 with @microsoft/eslint-formatter-sarif', { timeout: 180_000 }, () => {
    const sarif = JSON.parse(eslint('-f', '@microsoft/eslint-formatter-sarif')) as {
      version: string;
      $schema: string;
      runs: {
        tool: { driver: { name: string; rules?: { id: string }[] } };
        artifacts?: { location: { uri: string } }[];
        results: {
          ruleId: string;
          level: string;
          message: { text: string };
          locations: { physicalLocation: { artifactLocation: { uri?: string; index?: number }; region: { startLine: number } } }[];
        }[];
      }[];
    };
    expect(sarif.version).toBe('2.1.0');
    expect(sarif.$schema).toMatch(/sarif.*2\.1\.0/);
    expect(sarif.runs).toHaveLength(1);
    const run = sarif.runs[0];
    expect(run.tool.driver.name).toBe('ESLint');
    const expected = results
      .flatMap((r) => r.messages.map((m) => `${String(m.ruleId)}@${r.filePath.slice(repoRoot.length + 1)}:${String(m.line)}`))
      .sort();
    const fromSarif = run.results
      .map((res) => {
        const loc = res.locations[0].physicalLocation;
        const uri = loc.artifactLocation.uri ?? run.artifacts?.[loc.artifactLocation.index ?? -1]?.location.uri ?? '';
        expect(['error', 'warning', 'note']).toContain(res.level);
        expect(res.message.text.length).toBeGreaterThan(0);
        return `${res.ruleId}@${decodeURIComponent(uri)
          .replace(/^file:\/\//, '')
          .replace(`${repoRoot}/`, '')}:${String(loc.region.startLine)}`;
      })
      .sort();
    expect(fromSarif).toEqual(expected);
    for (const id of new Set(run.results.map((r) => r.ruleId))) expect(run.tool.driver.rules?.map((r) => r.id)).toContain(id);
  });
});

describe('examples at run time', () => {
  it('type-check against the built engine (examples/tsconfig.json)', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    expect(() => {
      spawnSyncOk(process.execPath, [tsc, '-p', join(repoRoot, 'examples', 'tsconfig.json')]);
    }).not.toThrow();
  });

  it.each(programs.map((p) => [p.slice(repoRoot.length + 1), p] as const))(
    '%s: the checker sees its labelled outcome',
    async (relPath, path) => {
      const text = readFileSync(path, 'utf8');
      const header = parseHeader(path, text);
      const result = await executeFixture({ path, relPath, text });
      expect(result.kinds).toEqual(header.runtime);
    },
  );
});

function spawnSyncOk(command: string, args: string[]): void {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${run.stdout}${run.stderr}`);
}
