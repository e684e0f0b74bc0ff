import ts from 'typescript';
import { referenceSymbol } from './declared-types.js';

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
const sitesByProgram = new WeakMap<ts.Program, Map<string, ReadonlyMap<ts.Node, readonly ts.CallExpression[]>>>();

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

/**
 * The symbol a call's callee names, through import aliases. For `recv.m(…)` the member of the
 * receiver's type read from declarations (declared-types.ts), not by typing the whole receiver.
 */
export function calleeSymbol(checker: ts.TypeChecker, call: ts.CallExpression): ts.Symbol | undefined {
  const callee = call.expression;
  const name = ts.isIdentifier(callee) ? callee : ts.isPropertyAccessExpression(callee) ? callee.name : undefined;
  let symbol = name
    ? ts.isPropertyAccessExpression(callee)
      ? referenceSymbol(checker, callee)
      : checker.getSymbolAtLocation(name)
    : undefined;
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  return symbol;
}

/**
 * Every call of the function or method `symbol` in the user files of `program` other than
 * `except` (whose own calls the file index already has).
 */
export function callSitesInOtherFiles(program: ts.Program, symbol: ts.Symbol, except: ts.SourceFile): readonly ts.CallExpression[] {
  const declaration = symbol.valueDeclaration;
  if (!declaration) return [];
  let byName = sitesByProgram.get(program);
  if (!byName) {
    byName = new Map();
    sitesByProgram.set(program, byName);
  }
  const name = symbol.getName();
  const home = declaration.getSourceFile();
  // Only a file that imports the declaring file, directly or through others, can call its
  // functions: the `forward` of a model declared in one training script is called from no other.
  const reaching = filesReaching(program, home);
  if (reaching) {
    const sites: ts.CallExpression[] = [];
    for (const file of reaching) {
      if (file === except || !isUserFile(program, file)) continue;
      for (const call of indexCalls(file).get(name) ?? []) if (calleeDeclaration(program, call) === declaration) sites.push(call);
    }
    return sites;
  }
  // Every call of this name in the program is resolved once and grouped by the declaration it
  // calls: the many `forward` methods of a project share one pass over the `forward(…)` calls.
  let byDeclaration = byName.get(name);
  if (!byDeclaration) {
    const grouped = new Map<ts.Node, ts.CallExpression[]>();
    for (const file of program.getSourceFiles()) {
      if (!isUserFile(program, file)) continue;
      for (const call of indexCalls(file).get(name) ?? []) {
        const callee = calleeDeclaration(program, call);
        if (!callee) continue;
        const list = grouped.get(callee);
        if (list) list.push(call);
        else grouped.set(callee, [call]);
      }
    }
    byDeclaration = grouped;
    byName.set(name, byDeclaration);
  }
  return (byDeclaration.get(declaration) ?? []).filter((site) => site.getSourceFile() !== except);
}

/** The internal resolution API of a program (TypeScript 5.x); absent, every file may reach every other. */
interface Resolutions {
  forEachResolvedModule?: (
    callback: (resolution: { resolvedModule?: { resolvedFileName: string } }, moduleName: string) => void,
    file: ts.SourceFile,
  ) => void;
}

interface ImportGraph {
  readonly importers: Map<ts.SourceFile, ts.SourceFile[]>;
  readonly imports: Map<ts.SourceFile, ts.SourceFile[]>;
  /** Per file, what namesVisibleFrom answered. */
  readonly visible: Map<ts.SourceFile, ReadonlySet<string>>;
  /** The files every file can see: scripts, files with a `declare global`, and what they import (found once). */
  globals?: ReadonlySet<ts.SourceFile>;
  /** Per declaring file, what filesReaching answered (null: any file). */
  readonly reaching: Map<ts.SourceFile, readonly ts.SourceFile[] | null>;
}

/**
 * Per program: for each file, the files that import it directly (module specifiers, import types,
 * dynamic imports, augmentations, as the program resolved them); null when that cannot be told: no
 * resolution API, or a user file with an import the program did not resolve to one of its files
 * while some user file declares an ambient module (`declare module 'x'`) that may stand behind it.
 * An import no file stands behind brings only `any`.
 */
const importersByProgram = new WeakMap<ts.Program, ImportGraph | null>();

function importGraph(program: ts.Program): ImportGraph | null {
  const known = importersByProgram.get(program);
  if (known !== undefined) return known;
  const forEach = (program as Resolutions).forEachResolvedModule;
  let graph: ImportGraph | null = null;
  if (forEach) {
    const importers = new Map<ts.SourceFile, ts.SourceFile[]>();
    const imports = new Map<ts.SourceFile, ts.SourceFile[]>();
    const state = { unresolved: false, ambient: false };
    for (const file of program.getSourceFiles()) {
      const user = isUserFile(program, file);
      if (user && /\bdeclare\s+module\s*['"`]/.test(file.text)) state.ambient = true;
      forEach.call(
        program,
        (resolution) => {
          const target = resolution.resolvedModule ? program.getSourceFile(resolution.resolvedModule.resolvedFileName) : undefined;
          if (!target) {
            if (user) state.unresolved = true;
            return;
          }
          const list = importers.get(target);
          if (list) list.push(file);
          else importers.set(target, [file]);
          const own = imports.get(file);
          if (own) own.push(target);
          else imports.set(file, [target]);
        },
        file,
      );
    }
    if (!(state.unresolved && state.ambient)) graph = { importers, imports, reaching: new Map(), visible: new Map() };
  }
  importersByProgram.set(program, graph);
  return graph;
}

/** Whether every file can see what `file` declares: a script, or a module with a `declare global`. */
function isGlobal(file: ts.SourceFile): boolean {
  return !ts.isExternalModule(file) || /\bdeclare\s+global\b/.test(file.text);
}

/** `files` and every file they import, directly or through others. */
function importClosure(graph: ImportGraph, files: readonly ts.SourceFile[]): Set<ts.SourceFile> {
  const seen = new Set(files);
  const queue = [...files];
  for (const cur of queue) {
    for (const target of graph.imports.get(cur) ?? []) {
      if (seen.has(target)) continue;
      seen.add(target);
      queue.push(target);
    }
  }
  return seen;
}

/**
 * The names of the functions, methods and variables declared by the user files (other than `file`)
 * whose declarations `file`'s code can reach: those it imports, directly or through others, and
 * those every file can see (scripts, `declare global`, and what they import). A call can run a
 * body of another user file only under one of these names; undefined when the graph is unknown.
 */
function namesVisibleFrom(program: ts.Program, file: ts.SourceFile): ReadonlySet<string> | undefined {
  const graph = importGraph(program);
  if (!graph) return undefined;
  const cached = graph.visible.get(file);
  if (cached) return cached;
  graph.globals ??= importClosure(graph, program.getSourceFiles().filter(isGlobal));
  const names = new Set<string>();
  for (const other of new Set([...importClosure(graph, [file]), ...graph.globals])) {
    if (other !== file && isUserFile(program, other)) for (const name of declaredNames(other).all) names.add(name);
  }
  graph.visible.set(file, names);
  return names;
}

/**
 * The files whose code can name what `file` declares: those that import it, directly or through
 * other files, in the program's order; undefined when any file may (a script's globals, a
 * `declare global` on the way, or an import graph that cannot be told).
 */
function filesReaching(program: ts.Program, file: ts.SourceFile): readonly ts.SourceFile[] | undefined {
  const graph = importGraph(program);
  if (!graph) return undefined;
  const cached = graph.reaching.get(file);
  if (cached !== undefined) return cached ?? undefined;
  const seen = new Set<ts.SourceFile>([file]);
  const queue = [file];
  for (const cur of queue) {
    if (isGlobal(cur)) {
      graph.reaching.set(file, null);
      return undefined;
    }
    for (const importer of graph.importers.get(cur) ?? []) {
      if (seen.has(importer)) continue;
      seen.add(importer);
      queue.push(importer);
    }
  }
  const reaching = program.getSourceFiles().filter((f) => seen.has(f));
  graph.reaching.set(file, reaching);
  return reaching;
}

/**
 * The declaration a call runs, remembered per call across programs: an editor's programs share
 * the syntax trees of unchanged files, so an edit resolves only the calls of the edited file (and
 * calls whose callee's file changed, whose remembered declaration is no longer in the program).
 */
const calleeDeclarations = new WeakMap<ts.CallExpression, ts.Node | null>();

function calleeDeclaration(program: ts.Program, call: ts.CallExpression): ts.Node | undefined {
  const remembered = calleeDeclarations.get(call);
  if (remembered === null) return undefined;
  if (remembered && program.getSourceFile(remembered.getSourceFile().fileName) === remembered.getSourceFile()) return remembered;
  const symbol = calleeSymbol(program.getTypeChecker(), call);
  if (!symbol) return undefined; // unresolved today; another file may declare it tomorrow
  // A call of a library function stays one while its file is unchanged.
  calleeDeclarations.set(call, symbol.valueDeclaration ?? null);
  return symbol.valueDeclaration;
}

/** Whether other files can call a function declared here: it is exported, or a member of an exported class. */
export function isVisibleToOtherFiles(fn: ts.Node): boolean {
  let decl: ts.Node = fn;
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isVariableDeclaration(fn.parent)) decl = fn.parent.parent.parent;
  if (ts.isMethodDeclaration(fn) && ts.isClassLike(fn.parent)) decl = fn.parent;
  return ts.canHaveModifiers(decl) && (ts.getModifiers(decl) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/** The function a call runs, when it has a body in another user file of the program (an imported helper, a method of a class declared elsewhere). */
export function foreignDeclaration(
  program: ts.Program,
  call: ts.CallExpression,
): { fn: ts.FunctionLikeDeclaration; name: string } | undefined {
  // Only a name some user file declares as a function or method can run a body there: tensor ops
  // and library functions are not resolved (the checker's symbol lookup is the cost).
  const callee = call.expression;
  const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
  if (name === undefined || !userDeclaredNames(program).has(name)) return undefined;
  // Nor where no other user file this one can reach declares the name (see namesVisibleFrom).
  const visible = namesVisibleFrom(program, call.getSourceFile());
  if (visible && !visible.has(name)) return undefined;
  const decl = calleeDeclaration(program, call);
  let fn: ts.Node | undefined = decl;
  if (decl && ts.isVariableDeclaration(decl) && decl.initializer) fn = decl.initializer;
  if (!decl || !fn || !isFunctionWithBody(fn)) return undefined;
  const file = fn.getSourceFile();
  if (file === call.getSourceFile() || !isUserFile(program, file)) return undefined;
  const named = (decl as { name?: ts.Node }).name;
  return { fn, name: named && (ts.isIdentifier(named) || ts.isPrivateIdentifier(named)) ? named.text : 'helper' };
}

function isFunctionWithBody(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return (
    (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)) &&
    node.body !== undefined
  );
}

const foreignCallsByProgram = new WeakMap<ts.Program, WeakMap<ts.SourceFile, readonly ts.CallExpression[]>>();
const methodNamesByProgram = new WeakMap<ts.Program, Set<string>>();

/** Names of the methods a file's classes declare (syntax only, once per SourceFile). */
function declaredMethodNames(file: ts.SourceFile): ReadonlySet<string> {
  return declaredNames(file).methods;
}

interface DeclaredNames {
  readonly methods: ReadonlySet<string>;
  readonly all: ReadonlySet<string>;
  /**
   * The names the file may give a class by: the classes it declares, and every name an import or
   * export of it binds or renames (a class of another file is only reached through those).
   */
  readonly classes: ReadonlySet<string>;
}

const namesByFile = new WeakMap<ts.SourceFile, DeclaredNames>();
/**
 * Per top-level statement: an edit in the language server re-parses a file incrementally, and the
 * statements it did not touch are the same node objects in the new source file, so only the edited
 * statement is walked again (a 1 MB notebook is walked once, not once per keystroke).
 */
const namesByStatement = new WeakMap<ts.Node, DeclaredNames>();

/** The methods, every function, method and function-valued variable, and the class names of a file (syntax only, once per SourceFile and statement). */
function declaredNames(file: ts.SourceFile): DeclaredNames {
  let names = namesByFile.get(file);
  if (!names) {
    const methods = new Set<string>();
    const all = new Set<string>();
    const classes = new Set<string>();
    for (const statement of file.statements) {
      const own = statementNames(statement);
      for (const name of own.methods) methods.add(name);
      for (const name of own.all) all.add(name);
      for (const name of own.classes) classes.add(name);
    }
    names = { methods, all, classes };
    namesByFile.set(file, names);
  }
  return names;
}

function statementNames(statement: ts.Statement): DeclaredNames {
  let names = namesByStatement.get(statement);
  if (!names) {
    const methods = new Set<string>();
    const all = new Set<string>();
    const classes = new Set<string>();
    const addClassName = (name: ts.Node | undefined): void => {
      if (name && (ts.isIdentifier(name) || ts.isStringLiteral(name))) classes.add(name.text);
    };
    const visit = (node: ts.Node): void => {
      if (ts.isMethodDeclaration(node) && ts.isIdentifier(node.name) && node.body) {
        methods.add(node.name.text);
        all.add(node.name.text);
      } else if (ts.isFunctionDeclaration(node) && node.name) all.add(node.name.text);
      else if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer) all.add(node.name.text);
      else if (ts.isClassDeclaration(node) || ts.isImportClause(node) || ts.isNamespaceImport(node) || ts.isImportEqualsDeclaration(node))
        addClassName(node.name);
      else if (ts.isImportSpecifier(node) || ts.isExportSpecifier(node)) {
        addClassName(node.name);
        addClassName(node.propertyName);
      } else if (ts.isNamespaceExport(node)) addClassName(node.name);
      ts.forEachChild(node, visit);
    };
    visit(statement);
    names = { methods, all, classes };
    namesByStatement.set(statement, names);
  }
  return names;
}

const classNamesByProgram = new WeakMap<ts.Program, ReadonlySet<string>>();

/** Whether `name` may refer to a class declared in a user file of the program (syntax; false proves it cannot). */
export function mayNameUserClass(program: ts.Program, name: string): boolean {
  let names = classNamesByProgram.get(program);
  if (!names) {
    const all = new Set<string>();
    for (const file of program.getSourceFiles()) if (isUserFile(program, file)) for (const n of declaredNames(file).classes) all.add(n);
    names = all;
    classNamesByProgram.set(program, names);
  }
  return names.has(name);
}

const userNamesByProgram = new WeakMap<ts.Program, ReadonlySet<string>>();

/** Every name a user file of the program declares a function, method or variable by (once per program). */
function userDeclaredNames(program: ts.Program): ReadonlySet<string> {
  let names = userNamesByProgram.get(program);
  if (!names) {
    const all = new Set<string>();
    for (const file of program.getSourceFiles()) if (isUserFile(program, file)) for (const name of declaredNames(file).all) all.add(name);
    names = all;
    userNamesByProgram.set(program, names);
  }
  return names;
}

/**
 * The calls in `file` that run a function or method with a body in another user file: imported
 * helpers (`sgdStep(…)`) and methods of classes declared elsewhere (`trainer.clip()`).
 */
export function callsIntoOtherFiles(program: ts.Program, file: ts.SourceFile): readonly ts.CallExpression[] {
  let byFile = foreignCallsByProgram.get(program);
  if (!byFile) {
    byFile = new WeakMap();
    foreignCallsByProgram.set(program, byFile);
  }
  const cached = byFile.get(file);
  if (cached) return cached;
  let methodNames = methodNamesByProgram.get(program);
  if (!methodNames) {
    methodNames = new Set<string>();
    for (const other of program.getSourceFiles()) {
      if (isUserFile(program, other)) for (const name of declaredMethodNames(other)) methodNames.add(name);
    }
    methodNamesByProgram.set(program, methodNames);
  }
  const out: ts.CallExpression[] = [];
  for (const [name, calls] of indexCalls(file)) {
    for (const call of calls) {
      const byMethod = ts.isPropertyAccessExpression(call.expression) && methodNames.has(name);
      if ((ts.isIdentifier(call.expression) || byMethod) && foreignDeclaration(program, call)) out.push(call);
    }
  }
  out.sort((a, b) => a.getStart() - b.getStart());
  byFile.set(file, out);
  return out;
}
