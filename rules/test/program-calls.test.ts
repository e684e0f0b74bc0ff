import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { calleeSymbol, callSitesInOtherFiles, foreignDeclaration } from '../src/analysis/program-calls.js';

// callSitesInOtherFiles looks for a method's callers only in the files that can reach its file
// through imports (or everywhere, where globals can carry its class): its answer must be what
// resolving every call of the name in the program gives.
const root = fileURLToPath(new URL('./fixture/program-calls/', import.meta.url));
const FILES: Record<string, string> = {
  'a/model.ts': 'export class Net {\n  forward(x: number): number {\n    return x;\n  }\n}\n',
  'a/index.ts': "export * from './model.js';\n",
  'b/use-reexport.ts': "import { Net } from '../a/index.js';\nexport const y = new Net().forward(1);\n",
  'b/use-type.ts': "export function run(m: import('../a/model.js').Net): number {\n  return m.forward(2);\n}\n",
  'b/lonely.ts': 'export class Lonely {\n  forward(): number {\n    return 0;\n  }\n}\nexport const l = new Lonely().forward();\n',
  'c/hidden.ts': 'export class Hidden {\n  forward(): number {\n    return 1;\n  }\n}\n',
  'c/global-aug.ts':
    "import { Hidden } from './hidden.js';\ndeclare global {\n  var hidden: Hidden;\n}\nglobalThis.hidden = new Hidden();\n",
  'c/uses-global.ts': 'export const h = hidden.forward();\n',
  'd/script.ts': 'class Scripted {\n  forward(): number {\n    return 3;\n  }\n}\nconst scripted = new Scripted();\n',
  'd/uses-script.ts': 'export const s = scripted.forward();\n',
  'e/unrelated.ts': 'const o = { forward: (): number => 4 };\nexport const u = o.forward();\n',
  'f/helpers.ts': 'export function helper(): number {\n  return 5;\n}\nexport const arrow = (): number => 6;\n',
  'f/uses-helpers.ts':
    "import { helper, arrow } from './helpers.js';\nexport const f = helper() + arrow();\nexport function own(): number {\n  return helper();\n}\n",
  'f/shadow.ts': 'function helper(): number {\n  return 7;\n}\nexport const g = helper();\n',
};

function makeProgram(): ts.Program {
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const text = (name: string): string | undefined => (name.startsWith(root) ? FILES[name.slice(root.length)] : undefined);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => {
    const code = text(name);
    return code === undefined ? getSourceFile(name, language, ...rest) : ts.createSourceFile(name, code, language, true);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => text(name) !== undefined || fileExists(name);
  const directoryExists = host.directoryExists?.bind(host);
  host.directoryExists = (name) =>
    Object.keys(FILES).some((file) => (root + file).startsWith(`${name.replace(/\/$/, '')}/`)) || (directoryExists?.(name) ?? true);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => text(name) ?? readFile(name);
  return ts.createProgram(
    Object.keys(FILES).map((name) => root + name),
    options,
    host,
  );
}

describe('foreignDeclaration', () => {
  it('finds the body of another user file that each call runs, as the checker resolves it', () => {
    const program = makeProgram();
    const checker = program.getTypeChecker();
    const found: string[] = [];
    for (const name of Object.keys(FILES)) {
      const file = program.getSourceFile(root + name);
      if (!file) throw new Error(`no ${name}`);
      const visit = (node: ts.Node): void => {
        if (ts.isCallExpression(node)) {
          const decl = calleeSymbol(checker, node)?.valueDeclaration;
          const fn = decl && ts.isVariableDeclaration(decl) ? decl.initializer : decl;
          const expected = fn && ts.isFunctionLike(fn) && fn.getSourceFile() !== file ? fn : undefined;
          const actual = foreignDeclaration(program, node)?.fn;
          expect(actual).toBe(expected);
          if (actual) found.push(`${name}: ${node.getText()}`);
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
    expect(found).toEqual([
      'b/use-reexport.ts: new Net().forward(1)',
      'b/use-type.ts: m.forward(2)',
      'c/uses-global.ts: hidden.forward()',
      'd/uses-script.ts: scripted.forward()',
      'f/uses-helpers.ts: helper()',
      'f/uses-helpers.ts: arrow()',
      'f/uses-helpers.ts: helper()',
    ]);
  });
});

describe('callSitesInOtherFiles', () => {
  it('finds the callers of each forward() that resolving every call finds', () => {
    const program = makeProgram();
    const checker = program.getTypeChecker();
    const errors = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(errors).toEqual([]);
    const calls: ts.CallExpression[] = [];
    const methods: ts.MethodDeclaration[] = [];
    for (const name of Object.keys(FILES)) {
      const file = program.getSourceFile(root + name);
      if (!file) throw new Error(`no ${name}`);
      const visit = (node: ts.Node): void => {
        if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) calls.push(node);
        if (ts.isMethodDeclaration(node)) methods.push(node);
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
    const found: Record<string, string[]> = {};
    for (const method of methods) {
      const symbol = checker.getSymbolAtLocation(method.name);
      if (!symbol) throw new Error('no symbol');
      const file = method.getSourceFile();
      const expected = calls.filter(
        (call) =>
          call.getSourceFile() !== file &&
          ts.isPropertyAccessExpression(call.expression) &&
          checker.getSymbolAtLocation(call.expression.name)?.valueDeclaration === method,
      );
      const sites = callSitesInOtherFiles(program, symbol, file);
      expect(sites).toEqual(expected);
      found[file.fileName.slice(root.length)] = sites.map((site) => site.getSourceFile().fileName.slice(root.length));
    }
    expect(found).toEqual({
      'a/model.ts': ['b/use-reexport.ts', 'b/use-type.ts'],
      'b/lonely.ts': [],
      'c/hidden.ts': ['c/uses-global.ts'],
      'd/script.ts': ['d/uses-script.ts'],
    });
  });
});
