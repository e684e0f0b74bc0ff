import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { declaredTypeOf, referenceSymbol } from '../src/analysis/declared-types.js';
import { libraryClassOf } from '../src/analysis/library.js';

// declared-types.ts reads types from declarations instead of asking the checker. That is only
// sound where both give the same answer, so this test asks both about every expression of every
// fixture program, every example, and cases written to trip it (narrowing, generics, overloads,
// evolving arrays), and requires the same type wherever the declaration-read answer is given.

const root = fileURLToPath(new URL('../..', import.meta.url));
const caseDir = path.join(root, 'rules/test/fixture');

const NARROWING_CASES = `
import { nn, optim, randn, type Tensor } from '@gradflow/autograd';
// Parameter adds no members to Tensor, so only instanceof (which compares classes) narrows one to
// the other; the predicates below narrow a Module to a Linear, which has members of its own.
declare function isLinear(m: nn.Module): m is nn.Linear;
declare function assertLinear(m: nn.Module): asserts m is nn.Linear;
const layer = new nn.Linear(2, 2);
const viaInstanceof: Tensor = layer.weight;
if (viaInstanceof instanceof nn.Parameter) viaInstanceof.mul(2).relu();
const viaPredicate: nn.Module = layer;
if (isLinear(viaPredicate)) viaPredicate.weight.relu();
const viaAssertion: nn.Module = layer;
assertLinear(viaAssertion);
viaAssertion.weight.relu();
function isLinearInferred(m: nn.Module) { return m instanceof nn.Linear; }
const viaInferred: nn.Module = layer;
if (isLinearInferred(viaInferred)) viaInferred.weight.relu();
const isLinearArrow = (m: nn.Module): m is nn.Linear => m instanceof nn.Linear;
const viaArrow: nn.Module = layer;
if (isLinearArrow(viaArrow)) viaArrow.weight.relu();
function train(model: nn.Linear, opt: optim.SGD): void { opt.step(); model.zeroGrad(); }
const passedOn = new optim.SGD(layer.parameters(), { lr: 0.1 });
train(layer, passedOn);
passedOn.step();
const aliased: nn.Module = layer;
const aliasIsLinear = isLinear(aliased);
if (aliasIsLinear) aliased.weight.relu();
let nullable: Tensor | null = null;
nullable = randn([2]);
nullable.relu();
let evolving = [];
evolving.push(randn([1]));
evolving.at(0);
let reassigned = randn([2]);
reassigned = layer.weight;
reassigned.relu();
class Box<T> {
  constructor(readonly value: T) {}
  get(): T { return this.value; }
  self(): this { return this; }
}
new Box(randn([1])).get().relu();
new Box(layer).self().get().forward(randn([2]));
function pick(x: Tensor): Tensor;
function pick(x: number): number;
function pick(x: Tensor | number): Tensor | number { return x; }
pick(randn([1])).relu();
const optional = (x?: Tensor) => x?.relu();
const withDefault = (x = randn([1])) => x.relu();
class Net extends nn.Module {
  readonly fc = new nn.Linear(2, 2);
  head: nn.Linear | null = null;
  forward(x: Tensor) { return this.fc.forward(x).relu(); }
  inferred() { return this.fc; }
  self(): this { return this; }
  chained() { return this.self().fc.forward(randn([1, 2])).relu(); }
  later() { return [1, 2].map(() => this.fc.weight.sum()); }
}
function batch(): [Tensor, Tensor] { return [randn([1]), randn([1])]; }
function maybe(): [Tensor, Tensor?] { return [randn([1])]; }
const [bx, by] = batch();
const [mx, my] = maybe();
bx.relu(); by.relu(); mx.relu(); my?.relu();
for (const p of new Net().parameters()) p.mul(2);
for (const [name, p] of new Net().namedParameters()) p.mul(name.length);
const net = new Net();
const optimizer = new optim.Adam(net.parameters(), { lr: 0.01 });
net.forward(randn([1, 2])).sum().backward();
net.inferred().weight.requiresGrad_(false);
if (net.head) net.head.forward(randn([1, 2]));
optimizer.step();
optional(); withDefault();
`;

const THIS_PREDICATE_CASES = `
import { nn, randn, Tensor } from '@gradflow/autograd';
class Gate extends nn.Module {
  readonly fc = new nn.Linear(2, 2);
  forward(x: Tensor) { return this.fc.forward(x); }
  isOpen(): this is OpenGate { return true; }
}
class OpenGate extends Gate { extra = new nn.Linear(2, 2); }
const gate: Gate = new Gate();
if (gate.isOpen()) gate.extra.forward(randn([1, 2]));
gate.forward(randn([1, 2])).relu();
`;

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return listTs(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

function programOf(files: string[], virtual: Record<string, string>): ts.Program {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    noEmit: true,
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) =>
    name in virtual ? ts.createSourceFile(name, virtual[name], language, true) : getSourceFile(name, language, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name in virtual || fileExists(name);
  return ts.createProgram([...files, ...Object.keys(virtual)], options, host);
}

interface Comparison {
  answered: number;
  libraryExpressions: number;
  libraryAnswered: number;
  symbols: number;
  mismatches: string[];
}

function compare(program: ts.Program, files: readonly string[]): Comparison {
  const checker = program.getTypeChecker();
  const result: Comparison = { answered: 0, libraryExpressions: 0, libraryAnswered: 0, symbols: 0, mismatches: [] };
  for (const file of files) {
    const sourceFile = program.getSourceFile(file);
    if (!sourceFile) throw new Error(`not in the program: ${file}`);
    const visit = (node: ts.Node): void => {
      if (ts.isPropertyAccessExpression(node) && !ts.isPrivateIdentifier(node.name)) {
        // Members are looked up on the receiver's type: the same symbol the checker resolves.
        const symbol = referenceSymbol(checker, node);
        const expected = checker.getSymbolAtLocation(node.name);
        result.symbols += 1;
        if (symbol !== expected) {
          const { line } = sourceFile.getLineAndCharacterOfPosition(node.getStart());
          result.mismatches.push(
            `${path.relative(root, file)}:${String(line + 1)} \`${node.getText()}\`: symbol ${symbol?.getName() ?? 'none'}, checker ${expected?.getName() ?? 'none'}`,
          );
        }
      }
      if (ts.isExpression(node) && !ts.isPartOfTypeNode(node)) {
        const declared = declaredTypeOf(checker, node);
        const actual = checker.getTypeAtLocation(node);
        const isLibrary = libraryClassOf(checker, actual) !== undefined;
        if (isLibrary) result.libraryExpressions += 1;
        if (declared) {
          result.answered += 1;
          if (isLibrary) result.libraryAnswered += 1;
          const same =
            checker.typeToString(declared) === checker.typeToString(actual) &&
            JSON.stringify(libraryClassOf(checker, declared)) === JSON.stringify(libraryClassOf(checker, actual));
          if (!same) {
            const { line } = sourceFile.getLineAndCharacterOfPosition(node.getStart());
            result.mismatches.push(
              `${path.relative(root, file)}:${String(line + 1)} \`${node.getText()}\`: declared ${checker.typeToString(declared)}, checker ${checker.typeToString(actual)}`,
            );
          }
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sourceFile);
  }
  return result;
}

describe('declaration-read types agree with the checker', () => {
  it('on every expression of the fixtures and examples, and answers for most library values', () => {
    const files = [...listTs(path.join(root, 'fixtures')), ...listTs(path.join(root, 'examples/training'))];
    expect(files.length).toBeGreaterThan(90);
    const comparison = compare(programOf(files, {}), files);
    expect(comparison.mismatches).toEqual([]);
    // The point is to spare the checker: most tensors, modules and optimizers must be answered here.
    expect(comparison.libraryAnswered / comparison.libraryExpressions).toBeGreaterThan(0.6);
  });

  it('defers or agrees where conditions, assertions, generics and overloads change the answer', () => {
    const narrowing = path.join(caseDir, 'declared-types-narrowing.ts');
    const thisPredicate = path.join(caseDir, 'declared-types-this-predicate.ts');
    const program = programOf([], { [narrowing]: NARROWING_CASES, [thisPredicate]: THIS_PREDICATE_CASES });
    // The cases must type-check, or the checker's answers would not show any narrowing.
    expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
    const comparison = compare(program, [narrowing, thisPredicate]);
    expect(comparison.mismatches).toEqual([]);
    expect(comparison.answered).toBeGreaterThan(10);
  });

  it('reads a narrowable reference from the checker, not from its declaration', () => {
    const narrowing = path.join(caseDir, 'declared-types-narrowing.ts');
    const program = programOf([], { [narrowing]: NARROWING_CASES });
    const checker = program.getTypeChecker();
    const sourceFile = program.getSourceFile(narrowing);
    if (!sourceFile) throw new Error('no source file');
    const answers = new Map<string, string | undefined>();
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node) && ts.isPropertyAccessExpression(node.parent) && node.parent.expression === node) {
        const declared = declaredTypeOf(checker, node);
        answers.set(node.text, declared ? checker.typeToString(declared) : undefined);
      }
      ts.forEachChild(node, visit);
    };
    visit(sourceFile);
    // Each of these is narrowed somewhere in the file, so its declared type is not trusted.
    for (const name of ['viaInstanceof', 'viaPredicate', 'viaAssertion', 'viaInferred', 'viaArrow', 'aliased', 'nullable', 'evolving']) {
      expect(answers.get(name), name).toBeUndefined();
    }
    // Never narrowed: read from the declaration.
    expect(answers.get('net')).toBe('Net');
    expect(answers.get('optimizer')).toBe('Adam');
    // Passed to a function that is neither a predicate nor an assertion: nothing narrows it.
    expect(answers.get('passedOn')).toBe('SGD');
  });
});
