// Code in the docs must compile: every ```ts block of the READMEs and of rules/docs/*.md is
// type-checked, as its own module, against the built engine (`@gradflow/autograd`'s shipped
// declarations, checked too: no skipLibCheck). Conventions, so that a snippet can stay short:
// - A block without `import` lines is checked as if it began with
//   `import { <every export of @gradflow/autograd> } from '@gradflow/autograd'`.
// - Anything else a snippet uses is declared in the block itself (`declare const x: Tensor;`).
// - A block may be left out only with a visible reason: its first line is `// fragment: <why>`.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DOCS = [
  'README.md',
  'rules/README.md',
  ...readdirSync(path.join(repoRoot, 'packages')).map((p) => `packages/${p}/README.md`),
  ...readdirSync(path.join(repoRoot, 'rules/docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `rules/docs/${f}`),
].filter((doc) => {
  try {
    readFileSync(path.join(repoRoot, doc));
    return true;
  } catch {
    return false;
  }
});

interface Block {
  doc: string;
  line: number;
  code: string;
  fragment: string | undefined;
}

function blocksOf(doc: string): Block[] {
  const lines = readFileSync(path.join(repoRoot, doc), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(ts|typescript|tsx)\s*$/.exec(lines[i] ?? '');
    if (!open) continue;
    const indent = open[1].length;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? ''); j++) body.push((lines[j] ?? '').slice(indent));
    const fragment = /^\/\/\s*fragment:\s*(.*)$/.exec(body[0] ?? '')?.[1];
    blocks.push({ doc, line: i + 1, code: body.join('\n'), fragment });
    i = j;
  }
  return blocks;
}

const blocks = DOCS.flatMap(blocksOf);
const engineExports = Object.keys(await import('@gradflow/autograd')).filter((name) => name !== 'default');

function virtualName(block: Block): string {
  // Inside the repository, so that `@gradflow/autograd` resolves to the workspace package's dist.
  return path.join(repoRoot, '.doc-blocks', `${block.doc.replace(/[/.]/g, '_')}_${String(block.line)}.mts`);
}

function sourceOf(block: Block): string {
  const hasImports = /^\s*import\s/m.test(block.code);
  return hasImports ? block.code : `import { ${engineExports.join(', ')} } from '@gradflow/autograd';\n${block.code}`;
}

function typeCheck(checked: Block[]): Map<Block, string[]> {
  const options: ts.CompilerOptions = {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: [],
    noEmit: true,
    skipLibCheck: false,
  };
  const virtual = new Map(checked.map((block) => [virtualName(block), sourceOf(block)]));
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (file) => virtual.has(file) || fileExists(file);
  host.readFile = (file) => virtual.get(file) ?? readFile(file);
  host.getSourceFile = (file, language, onError, create) => {
    const text = virtual.get(file);
    return text !== undefined ? ts.createSourceFile(file, text, language) : getSourceFile(file, language, onError, create);
  };
  const program = ts.createProgram([...virtual.keys()], options, host);
  const byFile = new Map<string, string[]>();
  const global: string[] = [];
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file && virtual.has(d.file.fileName)) {
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      const list = byFile.get(d.file.fileName) ?? [];
      list.push(`line ${String(line)} of the block: ${text}`);
      byFile.set(d.file.fileName, list);
    } else {
      global.push(`${d.file?.fileName ?? ''}: ${text}`);
    }
  }
  expect(global, "errors outside the doc blocks (the engine's declarations)").toEqual([]);
  return new Map(checked.map((block) => [block, byFile.get(virtualName(block)) ?? []]));
}

describe('TypeScript in the docs', () => {
  it('finds the blocks (README.md and every rule doc have some)', () => {
    expect(blocks.some((b) => b.doc === 'README.md')).toBe(true);
    for (const doc of DOCS.filter((d) => d.startsWith('rules/docs/')))
      expect(
        blocks.some((b) => b.doc === doc),
        doc,
      ).toBe(true);
  });

  it('skips a block only with a visible reason', () => {
    for (const block of blocks.filter((b) => b.fragment !== undefined)) {
      expect(block.fragment?.trim().length, `${block.doc}:${String(block.line)}`).toBeGreaterThan(10);
    }
  });

  it('every other block type-checks against the built engine', { timeout: 120_000 }, () => {
    const results = typeCheck(blocks.filter((b) => b.fragment === undefined));
    const failures = [...results]
      .filter(([, errors]) => errors.length > 0)
      .map(([b, errors]) => `${b.doc}:${String(b.line)}\n  ${errors.join('\n  ')}`);
    expect(failures).toEqual([]);
  });
});
