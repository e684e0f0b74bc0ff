import ts from 'typescript';

/**
 * Call sites across the whole program: where a helper declared in one file is called from the
 * others. This file owns the program-wide call index and nothing else.
 *
 * Each user file's calls are indexed by the callee's name once per `SourceFile` object; the
 * TypeScript language service (and typescript-eslint's project service) keeps the `SourceFile` of
 * an unchanged file across edits, so an edit re-indexes only the edited file. Resolving a name to a
 * symbol is done per program, only for the calls whose name matches.
 */
const callsByFile = new WeakMap<ts.SourceFile, ReadonlyMap<string, readonly ts.CallExpression[]>>();
const sitesByProgram = new WeakMap<ts.Program, Map<ts.Symbol, readonly ts.CallExpression[]>>();

/** Files of the user's program: not declaration files, not packages. */
export function isUserFile(program: ts.Program, file: ts.SourceFile): boolean {
  return !file.isDeclarationFile && !program.isSourceFileFromExternalLibrary(file) && !file.fileName.includes('/node_modules/');
}

function indexCalls(file: ts.SourceFile): ReadonlyMap<string, readonly ts.CallExpression[]> {
  const cached = callsByFile.get(file);
  if (cached) return cached;
  const byName = new Map<string, ts.CallExpression[]>();
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
      if (name !== undefined) {
        const list = byName.get(name);
        if (list) list.push(node);
        else byName.set(name, [node]);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  callsByFile.set(file, byName);
  return byName;
}

/** The symbol a call's callee names, through import aliases. */
export function calleeSymbol(checker: ts.TypeChecker, call: ts.CallExpression): ts.Symbol | undefined {
  const callee = call.expression;
  const name = ts.isIdentifier(callee) ? callee : ts.isPropertyAccessExpression(callee) ? callee.name : undefined;
  let symbol = name ? checker.getSymbolAtLocation(name) : undefined;
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  return symbol;
}

/**
 * Every call of the function or method `symbol` in the user files of `program` other than
 * `except` (whose own calls the file index already has).
 */
export function callSitesInOtherFiles(program: ts.Program, symbol: ts.Symbol, except: ts.SourceFile): readonly ts.CallExpression[] {
  let bySymbol = sitesByProgram.get(program);
  if (!bySymbol) {
    bySymbol = new Map();
    sitesByProgram.set(program, bySymbol);
  }
  let sites = bySymbol.get(symbol);
  if (!sites) {
    const checker = program.getTypeChecker();
    const name = symbol.getName();
    const found: ts.CallExpression[] = [];
    for (const file of program.getSourceFiles()) {
      if (!isUserFile(program, file)) continue;
      for (const call of indexCalls(file).get(name) ?? []) {
        if (calleeSymbol(checker, call) === symbol) found.push(call);
      }
    }
    sites = found;
    bySymbol.set(symbol, sites);
  }
  return sites.filter((site) => site.getSourceFile() !== except);
}

/** Whether other files can call a function declared here: it is exported, or a member of an exported class. */
export function isVisibleToOtherFiles(fn: ts.Node): boolean {
  let decl: ts.Node = fn;
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isVariableDeclaration(fn.parent)) decl = fn.parent.parent.parent;
  if (ts.isMethodDeclaration(fn) && ts.isClassLike(fn.parent)) decl = fn.parent;
  return ts.canHaveModifiers(decl) && (ts.getModifiers(decl) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/** The function a call runs, when it has a body in another user file of the program (an imported helper, a method of a class declared elsewhere). */
export function foreignDeclaration(program: ts.Program, call: ts.CallExpression): { fn: ts.FunctionLikeDeclaration; symbol: ts.Symbol } | undefined {
  const symbol = calleeSymbol(program.getTypeChecker(), call);
  const decl = symbol?.valueDeclaration;
  let fn: ts.Node | undefined = decl;
  if (decl && ts.isVariableDeclaration(decl) && decl.initializer) fn = decl.initializer;
  if (!symbol || !fn || !isFunctionWithBody(fn)) return undefined;
  const file = fn.getSourceFile();
  return file !== call.getSourceFile() && isUserFile(program, file) ? { fn, symbol } : undefined;
}

function isFunctionWithBody(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && node.body !== undefined;
}
