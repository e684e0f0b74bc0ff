// The incremental ESTree conversion (incremental-estree.ts) must give what typescript-estree's own
// full conversion gives for the same source file — the tree, the tokens, and both node maps — edit
// after edit: edits inside a statement, between statements, that add and remove lines, comments and
// statements, and edits that break the syntax for a while.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type ts from 'typescript';
import tseslint from 'typescript-eslint';
import { afterAll, describe, expect, it } from 'vitest';
import { IncrementalEstree } from '../src/incremental-estree.js';
import { ProgramProvider } from '../src/program-provider.js';

const require = createRequire(import.meta.url);
const parserPath = require.resolve('@typescript-eslint/parser');
const estreeRequire = createRequire(createRequire(parserPath).resolve('@typescript-eslint/typescript-estree/package.json'));
const tsModule = estreeRequire('typescript') as typeof ts;

interface EsNode {
  type: string;
  [key: string]: unknown;
}
interface Parsed {
  ast: EsNode & { body: EsNode[]; tokens: EsNode[]; comments: EsNode[] };
  services: {
    program: ts.Program;
    esTreeNodeToTSNodeMap: WeakMap<object, ts.Node>;
    tsNodeToESTreeNodeMap: WeakMap<ts.Node, object>;
  };
}
type AstConverter = (
  ast: ts.SourceFile,
  parseSettings: Record<string, unknown>,
  preserveNodeMaps: boolean,
) => { estree: Parsed['ast']; astMaps: Pick<Parsed['services'], 'esTreeNodeToTSNodeMap' | 'tsNodeToESTreeNodeMap'> };
const { astConverter } = estreeRequire('./dist/ast-converter.js') as { astConverter: AstConverter };

const serialize = (value: unknown): string => JSON.stringify(value, (key, v: unknown) => (key === 'parent' ? undefined : v));

/** Where two serializations first differ, with some context (a readable failure), or undefined. */
function difference(ours: string, theirs: string): string | undefined {
  if (ours === theirs) return undefined;
  let at = 0;
  while (at < ours.length && ours[at] === theirs[at]) at++;
  return `at ${String(at)}: ours …${ours.slice(Math.max(0, at - 200), at + 100)}… theirs …${theirs.slice(Math.max(0, at - 200), at + 100)}…`;
}

/** ESTree nodes in a fixed order (depth first, keys in order), as the incremental and the full conversion both produce them. */
function nodesOf(root: EsNode): EsNode[] {
  const out: EsNode[] = [];
  const seen = new Set<object>();
  const isNode = (v: unknown): v is EsNode => typeof v === 'object' && v !== null && typeof (v as { type?: unknown }).type === 'string';
  const visit = (node: EsNode): void => {
    if (seen.has(node)) return;
    seen.add(node);
    out.push(node);
    for (const [key, value] of Object.entries(node)) {
      if (key === 'parent' || key === 'tokens' || key === 'comments' || key === 'loc' || key === 'range') continue;
      if (Array.isArray(value)) for (const item of value) if (isNode(item)) visit(item);
      if (isNode(value)) visit(value);
    }
  };
  visit(root);
  return out;
}

function tsNodesOf(sourceFile: ts.SourceFile): ts.Node[] {
  const out: ts.Node[] = [];
  const visit = (node: ts.Node): void => {
    out.push(node);
    tsModule.forEachChild(node, visit);
  };
  visit(sourceFile);
  return out;
}

const SOURCE = `'use strict';
import { nn, optim, randn } from '@gradflow/autograd';

/** A model. */
export class Model<T extends object = {}> {
  readonly #secret = 1;
  constructor(private readonly layer = new nn.Linear(4, 1)) {}
  forward(x: ReturnType<typeof randn>): typeof x {
    return this.layer.forward(x).relu(); // trailing
  }
}

export default function train(steps: number): number {
  const model = new Model();
  const optimizer = new optim.SGD(model.layer.parameters(), { lr: 0.1 });
  let last = 0;
  for (let step = 0; step < steps; step++) {
    optimizer.zeroGrad({ setToNone: true });
    const loss = model.forward(randn([8, 4])).pow(2).mean();
    loss.backward();
    optimizer.step();
    last = loss.item();
  }
  return last;
}

/* block */ const pattern = /a+b/gu;
const template = \`steps: \${String(train(2))} and \${pattern.source}\`;
type Pair<A, B> = [A, B] | Array<Array<A>>;
enum Kind { A = 1 << 2, B }
namespace Space { export const value = 1; }
declare const maybe: { deep?: { value: number } } | undefined;
const [first, ...rest] = [maybe?.deep?.value ?? 0, 2, 3];
const shifted = (first as number) >>> 1;
async function* gen(): AsyncGenerator<number> { yield* [shifted, ...rest]; }
let u = 1; let v = u + 1; /* same line */ let w = [u, v]; w = [v, u];
export { gen, template, Space, Kind, w };
export type { Pair };
`;

const TSX = `import { randn } from '@gradflow/autograd';
const shape = [2, 3];
export const view = <div title={String(shape)}>{shape.map((n) => <span key={n}>{n}</span>)} text</div>;
export const tensor = randn(shape);
`;

/** Whether TypeScript parses `text` without a syntax error (`parseDiagnostics` is internal API). */
const parses = (text: string): boolean =>
  (tsModule.createSourceFile('probe.tsx', text, tsModule.ScriptTarget.Latest) as ts.SourceFile & { parseDiagnostics: readonly unknown[] })
    .parseDiagnostics.length === 0;

/** A deterministic sequence of edits: mostly what typing does, some that break the syntax and are undone. */
function* edits(text: string, count: number): Generator<string> {
  let seed = 7;
  const random = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pieces = ['1', ' ', '\n', 'x', '// comment\n', '/* c */', '\n\n', 'const added = 2;\n', '(', '"', '`'];
  let current = text;
  for (let i = 0; i < count; i++) {
    const at = random(current.length);
    const removed = random(4) === 0 ? random(12) : 0;
    const candidate = current.slice(0, at) + (pieces[random(pieces.length)] ?? '') + current.slice(at + removed);
    yield candidate;
    // Keep edits that still parse; undo the others after one lint (as typing through a mistake does).
    if (parses(candidate)) current = candidate;
    else yield current;
  }
}

describe('incremental ESTree conversion', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gradflow-estree-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, jsx: 'preserve', target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler' } }),
  );

  const incremental = IncrementalEstree.forParser(parserPath);

  it("loads for this repository's typescript-estree", () => {
    expect(incremental).toBeDefined();
  });

  for (const [name, text, count] of [
    ['source.ts', SOURCE, 150],
    ['view.tsx', TSX, 60],
  ] as const) {
    it(`gives the full conversion's tree, tokens, comments and node maps, edit after edit (${name})`, () => {
      if (incremental === undefined) throw new Error('no incremental conversion');
      const filePath = path.join(dir, name);
      writeFileSync(filePath, text);
      const provider = new ProgramProvider(tsModule);
      const parser = provider.wrap(tseslint.parser, incremental);
      const options = {
        filePath,
        projectService: true,
        tsconfigRootDir: dir,
        sourceType: 'module',
        range: true,
        loc: true,
        tokens: true,
        comment: true,
      };
      const before = { ...incremental.stats };
      let compared = 0;
      for (const edited of [text, ...edits(text, count)]) {
        let parsed: Parsed;
        try {
          parsed = parser.parseForESLint?.(edited, options) as Parsed;
        } catch {
          continue; // a syntax error: ESLint reports the parser's error, nothing is converted
        }
        const sourceFile = parsed.services.program.getSourceFile(filePath);
        if (sourceFile === undefined) throw new Error('no source file');
        expect(sourceFile.text).toBe(edited);
        // The same source file converted again by typescript-estree, outside the server's parses.
        const full = astConverter(sourceFile, { ...options, sourceType: 'module' }, true);
        expect(difference(serialize(parsed.ast), serialize(full.estree))).toBeUndefined();
        const ours = nodesOf(parsed.ast);
        const theirs = nodesOf(full.estree);
        expect(ours.length).toBe(theirs.length);
        ours.forEach((node, index) => {
          expect(parsed.services.esTreeNodeToTSNodeMap.get(node)).toBe(full.astMaps.esTreeNodeToTSNodeMap.get(theirs[index] as object));
        });
        const oursIndex = new Map<object, number>(ours.map((node, index) => [node, index]));
        const theirsIndex = new Map<object, number>(theirs.map((node, index) => [node, index]));
        for (const tsNode of tsNodesOf(sourceFile)) {
          const a = parsed.services.tsNodeToESTreeNodeMap.get(tsNode);
          const b = full.astMaps.tsNodeToESTreeNodeMap.get(tsNode);
          expect(a === undefined ? undefined : oursIndex.get(a)).toBe(b === undefined ? undefined : theirsIndex.get(b));
        }
        compared += 1;
      }
      // The comparisons were of incremental conversions: most statements were reused.
      expect(compared).toBeGreaterThan(count / 2);
      expect(incremental.stats.reused - before.reused).toBeGreaterThan(incremental.stats.converted - before.converted);
    }, 120_000);
  }
});
