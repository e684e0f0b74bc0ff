import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { getFileAnalysis } from '../src/analysis/file-analysis.js';

// Order questions on small programs: `a()` and `b()` mark the two sites asked about.
const fileName = fileURLToPath(new URL('./fixture/flow-case.ts', import.meta.url));

function mayFollow(body: string, loops = false): boolean {
  const code = `declare function a(): void;\ndeclare function b(): void;\ndeclare const cond: boolean;\n${body}`;
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName ? ts.createSourceFile(name, code, language, true) : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  const sourceFile = program.getSourceFile(fileName);
  if (!sourceFile) throw new Error('no source file');
  const analysis = getFileAnalysis(program, sourceFile);
  if (!analysis) throw new Error('analysis failed');
  const calls: Record<string, ts.CallExpression> = {};
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && ['a', 'b'].includes(node.expression.text))
      calls[node.expression.text] = node;
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return analysis.flow.mayFollow(calls.a, calls.b, { loops });
}

describe('flow: may b run after a?', () => {
  it('follows statement order', () => {
    expect(mayFollow('a();\nb();')).toBe(true);
    expect(mayFollow('b();\na();')).toBe(false);
  });
  it('never joins exclusive branches', () => {
    expect(mayFollow('if (cond) a(); else b();')).toBe(false);
    expect(mayFollow('if (cond) a();\nb();')).toBe(true);
    expect(mayFollow('const x = cond ? a() : b();')).toBe(false);
    expect(mayFollow('switch (Number(cond)) { case 0: a(); break; case 1: b(); }')).toBe(false);
    expect(mayFollow('switch (Number(cond)) { case 0: a(); case 1: b(); }')).toBe(true);
  });
  it('stops at early exits', () => {
    expect(mayFollow('function f() {\n  if (cond) { a(); return; }\n  b();\n}\nf();')).toBe(false);
    expect(mayFollow('function f() {\n  if (cond) { a(); if (cond) return; }\n  b();\n}\nf();')).toBe(true);
    expect(mayFollow('for (;;) { a(); break; }\nb();')).toBe(true);
    expect(mayFollow('for (;;) { a(); throw new Error(); }\nb();')).toBe(false);
    expect(mayFollow('for (;;) { a(); break;\nb(); }')).toBe(false);
    expect(mayFollow('function f() {\n  a();\n  return;\n  b();\n}\nf();')).toBe(false);
    // The return that leaves runs its own expression first.
    expect(mayFollow('function f() {\n  a();\n  return b();\n}\nf();')).toBe(true);
  });
  it('comes round a loop only when asked to', () => {
    expect(mayFollow('for (let i = 0; i < 3; i++) { b(); a(); }')).toBe(false);
    expect(mayFollow('for (let i = 0; i < 3; i++) { b(); a(); }', true)).toBe(true);
    expect(mayFollow('while (cond) { if (cond) a(); else b(); }', true)).toBe(true);
    expect(mayFollow('for (let i = 0; i < 3; i++) { b(); a(); break; }', true)).toBe(false);
    // An argument runs before its call, and again after it on the next iteration.
    expect(mayFollow('declare function g(x: void): void;\nwhile (cond) g(a(b()));')).toBe(false);
    expect(mayFollow('declare function g(x: void): void;\nwhile (cond) g(a(b()));', true)).toBe(true);
    // A for-of iterable and a for initializer run once per entry into the loop, not per iteration.
    expect(mayFollow('for (const x of [b()]) { a(); }', true)).toBe(false);
    expect(mayFollow('for (let i = b(); i < 3; i++) { a(); }', true)).toBe(false);
    expect(mayFollow('while (cond) { for (const x of [b()]) { a(); } }', true)).toBe(true);
  });
  it('follows callbacks and helpers called from one place', () => {
    expect(mayFollow('a();\n[1, 2].forEach(() => b());')).toBe(true);
    expect(mayFollow('function helper() { b(); }\na();\nhelper();')).toBe(true);
    expect(mayFollow('function helper() { a(); }\nhelper();\nb();')).toBe(true);
    expect(mayFollow('function helper() { a(); }\nb();\nhelper();')).toBe(false);
    // Called from two places: which call is meant is unknown, so no order is claimed.
    expect(mayFollow('function helper() { a(); }\nhelper();\nb();\nhelper();')).toBe(false);
  });
});
