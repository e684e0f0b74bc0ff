// The rules know Tensor methods only through OP_METHODS and INPLACE_METHODS: a method missing from
// both is "unknown" to every rule. Read the Tensor class's public methods from its source and make
// each one known: an op (it runs that table op), an in-place op, or listed here as recording none.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { INPLACE_METHODS, OP_METHODS } from '../src/index.js';

/** Public Tensor methods that record no op of the table, and why. */
const NOT_OPS: Readonly<Record<string, string>> = {
  numel: 'reads the shape',
  requiresGrad_: 'sets a leaf flag (the rules model it directly)',
  retainGrad: 'marks a non-leaf to keep its .grad',
  detach: 'a new leaf sharing storage, not recorded',
  backward: 'runs the graph, records nothing',
  gt: 'a non-differentiable mask for backward formulas',
  ge: 'a non-differentiable mask for backward formulas',
  le: 'a non-differentiable mask for backward formulas',
  lt: 'a non-differentiable mask for backward formulas',
  sign: 'a non-differentiable mask for backward formulas',
  item: 'reads values',
  toArray: 'reads values',
  itemAsync: 'reads values',
  toArrayAsync: 'reads values',
  dataSync: 'reads values',
  toString: 'formats values',
  toAsync: "records `to`, but its result is a Promise: what the rules see is not the op's output",
  argmax: 'int32 indices, not differentiable',
  argmin: 'int32 indices, not differentiable',
  int: 'an int32 copy, never recorded (an integer tensor never requires grad)',
};

/**
 * Public methods that record ops only through other public methods, so no single table op
 * describes them; the rules treat their results as unknown (a blind spot, never a false report).
 */
const COMPOSITE: Readonly<Record<string, string>> = {
  split: 'an array of slice views',
  chunk: 'an array of slice views (through split)',
  max: 'amax without a dim; with one, gather at argmax indices (saves the indices, not self) then squeeze',
  min: 'amax without a dim; with one, gather at argmin indices (saves the indices, not self) then squeeze',
  flatten: 'reshape (through the reshape method)',
  float: '`cast` from float64 (saves nothing); nothing from int32',
  double: '`cast` from float32 (saves nothing); nothing from int32',
};

const source = ts.createSourceFile(
  'tensor.ts',
  readFileSync(new URL('../src/tensor.ts', import.meta.url), 'utf8'),
  ts.ScriptTarget.ES2022,
  true,
);

/** Tensor's public instance methods (not private, static or `@internal`) with their bodies' text. */
function publicMethods(): Map<string, string> {
  const tensorClass = source.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === 'Tensor');
  if (!tensorClass) throw new Error('class Tensor not found in src/tensor.ts');
  const methods = new Map<string, string>();
  for (const member of tensorClass.members) {
    if (!ts.isMethodDeclaration(member) || !ts.isIdentifier(member.name)) continue;
    const modifiers = ts.getCombinedModifierFlags(member);
    if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected | ts.ModifierFlags.Static)) continue;
    if (ts.getJSDocTags(member).some((tag) => tag.tagName.text === 'internal')) continue;
    methods.set(member.name.text, member.body?.getText(source) ?? '');
  }
  return methods;
}

describe('Tensor methods known to the rules', () => {
  const methods = publicMethods();

  it('finds the class and its methods', () => {
    expect(methods.size).toBeGreaterThan(30);
    expect(methods.has('add')).toBe(true);
  });

  it('every public method is an op, an in-place op, or known to record no op', () => {
    const unknown = [...methods.keys()].filter(
      (m) => !(m in OP_METHODS) && !(m in INPLACE_METHODS) && !(m in NOT_OPS) && !(m in COMPOSITE),
    );
    expect(unknown, 'add these to the op table (with a same-named method), to INPLACE_METHODS, or to NOT_OPS here').toEqual([]);
  });

  it('no method is in two lists, and every listed method exists', () => {
    const lists = [Object.keys(OP_METHODS), Object.keys(INPLACE_METHODS), Object.keys(NOT_OPS), Object.keys(COMPOSITE)];
    const all = lists.flat();
    expect(all.filter((m, i) => all.indexOf(m) !== i)).toEqual([]);
    expect(all.filter((m) => !methods.has(m))).toEqual([]);
  });

  it('an op method runs its op; an in-place method records its op (or calls one that does)', () => {
    for (const [method, op] of Object.entries(OP_METHODS)) expect(methods.get(method), method).toContain(`ops.${op}`);
    for (const [method, op] of Object.entries(INPLACE_METHODS)) {
      const body = methods.get(method) ?? '';
      const delegate = Object.keys(INPLACE_METHODS).find(
        (other) => other !== method && INPLACE_METHODS[other] === op && body.includes(`this.${other}(`),
      );
      expect(body.includes(`applyInplace(ops.${op},`) || delegate !== undefined, method).toBe(true);
    }
  });

  it('a method known to record no op does not apply one', () => {
    for (const method of Object.keys(NOT_OPS)) {
      if (method === 'toAsync') continue;
      expect(methods.get(method), method).not.toMatch(/\bapply(Inplace)?\(/);
    }
  });
});
