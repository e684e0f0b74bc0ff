import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import tsParser from '@typescript-eslint/parser';
import { ESLint, type Rule } from 'eslint';
import type ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { getFileAnalysis } from '../src/analysis/file-analysis.js';

// The analysis orders sites on TypeScript's syntax tree (so that the language server's hovers can
// ask it without an ESLint run). This test holds that order to ESLint's own code-path analysis:
// for every two calls in one function of every fixture and example, "may the second run after the
// first?" (loops included) must be answered as ESLint's code-path graph answers it.

const root = fileURLToPath(new URL('../..', import.meta.url));

type Segment = Rule.CodePathSegment;
interface Site {
  readonly node: Rule.Node;
  readonly codePath: Rule.CodePath;
  readonly segments: readonly Segment[];
  /** Evaluation order within the file (calls are recorded on exit, after their arguments). */
  readonly order: number;
}

/** Whether `to` can be reached from `from` through one or more edges (loops are edges back). */
function reachable(from: Segment, to: Segment): boolean {
  const seen = new Set<Segment>();
  const queue = [...from.nextSegments];
  while (queue.length > 0) {
    const segment = queue.pop() as Segment;
    if (segment === to) return true;
    if (seen.has(segment)) continue;
    seen.add(segment);
    queue.push(...segment.nextSegments);
  }
  return false;
}

function mayRunAfter(a: Site, b: Site): boolean {
  return a.segments.some((sa) => b.segments.some((sb) => (sa === sb && a.order < b.order) || reachable(sa, sb)));
}

interface Disagreement {
  readonly file: string;
  readonly first: string;
  readonly second: string;
  readonly codePaths: boolean;
  readonly analysis: boolean;
}

function orderRule(file: string, out: Disagreement[], counted: { pairs: number }): Rule.RuleModule {
  return {
    meta: { type: 'problem', schema: [] },
    create(context) {
      const services = context.sourceCode.parserServices as { program?: ts.Program; esTreeNodeToTSNodeMap?: WeakMap<object, ts.Node> };
      const program = services.program;
      const toTs = services.esTreeNodeToTSNodeMap;
      const sourceFile = program?.getSourceFile(context.filename);
      if (!program || !toTs || !sourceFile) throw new Error(`no type information for ${file}`);
      const analysis = getFileAnalysis(program, sourceFile);
      if (!analysis) throw new Error(`no analysis for ${file}`);
      const stack: { codePath: Rule.CodePath; current: Set<Segment> }[] = [];
      const sites: Site[] = [];
      let order = 0;
      const top = () => stack[stack.length - 1];
      const compare = (codePath: Rule.CodePath): void => {
        const own = sites.filter((s) => s.codePath === codePath && s.segments.some((seg) => seg.reachable));
        const line = (node: Rule.Node) =>
          `${String(node.loc?.start.line)}: ${context.sourceCode.getText(node).split('\n')[0].slice(0, 50)}`;
        for (const a of own) {
          for (const b of own) {
            if (a === b) continue;
            counted.pairs += 1;
            const expected = mayRunAfter(a, b);
            const actual = analysis.flow.mayFollow(toTs.get(a.node) as ts.Node, toTs.get(b.node) as ts.Node, { loops: true });
            if (expected !== actual) out.push({ file, first: line(a.node), second: line(b.node), codePaths: expected, analysis: actual });
          }
        }
      };
      return {
        onCodePathStart: (codePath) => {
          stack.push({ codePath, current: new Set() });
        },
        onCodePathEnd: (codePath) => {
          compare(codePath);
          stack.pop();
        },
        onCodePathSegmentStart: (segment) => {
          top().current.add(segment);
        },
        onCodePathSegmentEnd: (segment) => {
          top().current.delete(segment);
        },
        onUnreachableCodePathSegmentStart: (segment) => {
          top().current.add(segment);
        },
        onUnreachableCodePathSegmentEnd: (segment) => {
          top().current.delete(segment);
        },
        'CallExpression:exit': (node) => {
          const frame = top();
          sites.push({ node, codePath: frame.codePath, segments: [...frame.current], order: order++ });
        },
      };
    },
  };
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listTs(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

async function disagreements(dir: string): Promise<{ found: Disagreement[]; pairs: number; files: number }> {
  const found: Disagreement[] = [];
  const counted = { pairs: 0 };
  const files = listTs(dir);
  for (const file of files) {
    const eslint = new ESLint({
      cwd: dir,
      overrideConfigFile: true,
      overrideConfig: [
        {
          files: ['**/*.ts'],
          languageOptions: { parser: tsParser, parserOptions: { projectService: true, tsconfigRootDir: dir } },
          plugins: { check: { rules: { order: orderRule(path.relative(root, file), found, counted) } } },
          rules: { 'check/order': 'error' },
        },
      ],
    });
    const [result] = await eslint.lintFiles([file]);
    const fatal = result.messages.find((m) => m.fatal === true || m.ruleId === null);
    if (fatal) throw new Error(`${file}: ${fatal.message}`);
  }
  return { found, pairs: counted.pairs, files: files.length };
}

describe('flow order agrees with ESLint code paths', () => {
  it('on every pair of calls in one function of every fixture', async () => {
    const { found, pairs, files } = await disagreements(path.join(root, 'fixtures'));
    expect(files).toBeGreaterThan(90);
    expect(pairs).toBeGreaterThan(10_000);
    expect(found).toEqual([]);
  }, 300_000);
});
