import ts from 'typescript';
import { INPLACE_METHODS } from '@gradflow/autograd';
import { referenceSymbol } from './declared-types.js';
import { NameUseScanner, primeNameUses } from './narrowing.js';
import {
  CREATION_FUNCTIONS,
  FUNCTIONAL_OPS,
  libraryClassOfExpression,
  libraryFunctionName,
  OP_METHOD_NAMES,
  type LibraryClass,
} from './library.js';

/**
 * One pass over a source file that collects every gradflow-relevant site. The checker is asked
 * only about candidates (calls and property accesses whose name the library uses), which keeps a
 * type-aware lint fast on files that have nothing to do with gradflow.
 */

/** A method call on a library object: `x.mul(y)`, `opt.step()`, `model.forward(x)`. */
export interface MethodCall {
  readonly call: ts.CallExpression;
  readonly method: string;
  readonly receiver: ts.Expression;
  readonly receiverClass: LibraryClass;
}

/** `new optim.SGD(params, { momentum: 0.9 })` and where the optimizer lives. */
export interface OptimizerSite {
  /** The construction, or for an optimizer built by a helper of another file, the call of that helper. */
  readonly node: ts.NewExpression | ts.CallExpression;
  readonly className: string;
  readonly params: ts.Expression | undefined;
  readonly options: ts.Expression | undefined;
  /** For an optimizer built by a helper of another file (`makeOptimizer(model)`): the construction in its body. */
  readonly builtIn?: ts.NewExpression;
}

/** `p.requiresGrad = flag` or `p.requiresGrad_(flag)`; `flag` is undefined when not a literal. */
export interface RequiresGradWrite {
  readonly node: ts.Node;
  readonly target: ts.Expression;
  readonly flag: boolean | undefined;
}

export interface FileIndex {
  readonly methodCalls: readonly MethodCall[];
  /** Calls of library functions by name: `noGrad`, `tensor`, `mseLoss`… */
  readonly libraryCalls: ReadonlyMap<ts.CallExpression, string>;
  readonly optimizers: readonly OptimizerSite[];
  readonly requiresGradWrites: readonly RequiresGradWrite[];
  /** `.grad` reads of library tensors (not assignment targets). */
  readonly gradReads: readonly ts.PropertyAccessExpression[];
  /** `.grad = …` writes (a manual way to clear gradients). */
  readonly gradWrites: readonly ts.PropertyAccessExpression[];
  /** Same-file functions: their call sites, so flow can follow a helper back to where it runs. */
  readonly callSites: ReadonlyMap<ts.Symbol, readonly ts.CallExpression[]>;
  /** Writes to local variables after their declaration (`x = …`, `x += …`, `x++`), and to class fields (`this.x = …`). */
  readonly writes: ReadonlyMap<ts.Symbol, readonly ts.Node[]>;
  /** Modules passed by name into `new nn.Sequential(a, b)`: `a` is child 0 of that Sequential. */
  readonly containers: ReadonlyMap<ts.Symbol, { readonly container: ts.NewExpression; readonly index: number }>;
  /** Names of the methods this file declares: only a call by one of these names can run a same-file method. */
  readonly localMethods: ReadonlySet<string>;
  /** Calls of imported functions (`sgdStep(…)` from './utils.js'): where helpers of other files run. */
  readonly importedCalls: readonly ts.CallExpression[];
  readonly hasLibraryUse: boolean;
}

const TENSOR_METHODS = new Set<string>([
  ...OP_METHOD_NAMES,
  ...Object.keys(INPLACE_METHODS),
  'backward',
  'detach',
  'requiresGrad_',
  'retainGrad',
]);
const MODULE_METHODS = new Set(['forward', 'parameters', 'namedParameters', 'zeroGrad', 'at', 'children', 'requiresGrad_']);
const OPTIMIZER_METHODS = new Set(['step', 'zeroGrad', 'addParamGroup']);
const LIBRARY_FUNCTION_NAMES = new Set([...CREATION_FUNCTIONS, ...FUNCTIONAL_OPS, 'noGrad', 'enableGrad', 'grad']);
const BUILTIN_CONSTRUCTORS = new Set([
  'Map',
  'Set',
  'WeakMap',
  'WeakSet',
  'Error',
  'TypeError',
  'RangeError',
  'Array',
  'Date',
  'Promise',
  'RegExp',
  'Float32Array',
  'Float64Array',
  'Int32Array',
  'Uint8Array',
  'Parameter',
  'Linear',
]);

function isAssignmentTarget(node: ts.Node): boolean {
  const parent = node.parent;
  return (
    ts.isBinaryExpression(parent) &&
    parent.left === node &&
    parent.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
    parent.operatorToken.kind <= ts.SyntaxKind.LastAssignment
  );
}

function booleanLiteral(node: ts.Node | undefined): boolean | undefined {
  if (!node) return undefined;
  if (node.kind === ts.SyntaxKind.TrueKeyword) return true;
  if (node.kind === ts.SyntaxKind.FalseKeyword) return false;
  return undefined;
}

export function buildFileIndex(checker: ts.TypeChecker, sourceFile: ts.SourceFile): FileIndex {
  const methodCalls: MethodCall[] = [];
  const libraryCalls = new Map<ts.CallExpression, string>();
  const optimizers: OptimizerSite[] = [];
  const requiresGradWrites: RequiresGradWrite[] = [];
  const gradReads: ts.PropertyAccessExpression[] = [];
  const gradWrites: ts.PropertyAccessExpression[] = [];
  const callSites = new Map<ts.Symbol, ts.CallExpression[]>();
  const writes = new Map<ts.Symbol, ts.Node[]>();
  // Files that never mention the library skip every checker question.
  const text = sourceFile.text;
  // A helper file may reach the library only through another user file's types (`model: Classifier`).
  const mayUseLibrary =
    text.includes('gradflow') ||
    /\b(?:Tensor|Parameter|Module|Optimizer|requiresGrad_?|parameters|namedParameters|backward|zeroGrad|grad|forward|step)\b/.test(text);

  const classOf = (expr: ts.Expression): LibraryClass | undefined => libraryClassOfExpression(checker, expr);

  const containers = new Map<ts.Symbol, { container: ts.NewExpression; index: number }>();
  // Methods declared in this file: calls to them are call sites a helper can be followed back to.
  const localMethods = new Set<string>();
  const importedCalls: ts.CallExpression[] = [];

  const addWrite = (target: ts.Node, at: ts.Node): void => {
    const name = ts.isIdentifier(target)
      ? target
      : ts.isPropertyAccessExpression(target) && target.expression.kind === ts.SyntaxKind.ThisKeyword
        ? target.name
        : undefined;
    if (!name) return;
    const symbol = checker.getSymbolAtLocation(name);
    if (!symbol) return;
    const list = writes.get(symbol) ?? [];
    list.push(at);
    writes.set(symbol, list);
  };

  const visitCall = (call: ts.CallExpression): void => {
    const callee = call.expression;
    if (ts.isIdentifier(callee)) {
      const symbol = checker.getSymbolAtLocation(callee);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) importedCalls.push(call);
      if (symbol && !(symbol.flags & ts.SymbolFlags.Alias)) {
        const list = callSites.get(symbol) ?? [];
        list.push(call);
        callSites.set(symbol, list);
      }
    }
    const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
    if (name !== undefined && ts.isPropertyAccessExpression(callee) && localMethods.has(name)) {
      const symbol = referenceSymbol(checker, callee);
      if (symbol) {
        const list = callSites.get(symbol) ?? [];
        list.push(call);
        callSites.set(symbol, list);
      }
    }
    if (name === undefined || !mayUseLibrary) return;
    if (
      LIBRARY_FUNCTION_NAMES.has(name) ||
      (ts.isIdentifier(callee) && LIBRARY_FUNCTION_NAMES.has(constAliasName(checker, callee) ?? ''))
    ) {
      const fn = libraryFunctionName(checker, call);
      if (fn !== undefined) {
        libraryCalls.set(call, fn);
        return;
      }
    }
    if (!ts.isPropertyAccessExpression(callee)) return;
    if (!TENSOR_METHODS.has(name) && !MODULE_METHODS.has(name) && !OPTIMIZER_METHODS.has(name)) return;
    const receiverClass = classOf(callee.expression);
    if (!receiverClass) return;
    methodCalls.push({ call, method: name, receiver: callee.expression, receiverClass });
    // `p.requiresGrad_(false)`, and `module.requiresGrad_(false)`, which freezes every parameter of the module.
    if (
      name === 'requiresGrad_' &&
      (receiverClass.kind === 'tensor' || receiverClass.kind === 'parameter' || receiverClass.kind === 'module')
    ) {
      const arg = call.arguments.at(0);
      requiresGradWrites.push({ node: call, target: callee.expression, flag: arg ? booleanLiteral(arg) : true });
    }
  };

  const process = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) visitCall(node);
    else if (ts.isNewExpression(node) && mayUseLibrary) {
      const callee = node.expression;
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : '';
      // Users subclass and alias optimizers, so the type decides, not the constructor's name.
      if (name !== '' && !BUILTIN_CONSTRUCTORS.has(name)) {
        const cls = classOf(node);
        if (cls?.kind === 'optimizer') {
          optimizers.push({ node, className: cls.className, params: node.arguments?.[0], options: node.arguments?.[1] });
        }
        if (cls?.className === 'Sequential') {
          node.arguments?.forEach((arg, index) => {
            const symbol = ts.isIdentifier(arg) ? checker.getSymbolAtLocation(arg) : undefined;
            if (symbol) containers.set(symbol, { container: node, index });
          });
        }
      }
    } else if (ts.isPropertyAccessExpression(node) && mayUseLibrary) {
      const prop = node.name.text;
      if (prop === 'grad' || prop === 'requiresGrad') {
        const cls = classOf(node.expression);
        if (cls && (cls.kind === 'tensor' || cls.kind === 'parameter')) {
          if (prop === 'grad') (isAssignmentTarget(node) ? gradWrites : gradReads).push(node);
          else if (
            isAssignmentTarget(node) &&
            ts.isBinaryExpression(node.parent) &&
            node.parent.operatorToken.kind === ts.SyntaxKind.EqualsToken
          ) {
            requiresGradWrites.push({ node: node.parent, target: node.expression, flag: booleanLiteral(node.parent.right) });
          }
        }
      }
    } else if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind >= ts.SyntaxKind.FirstAssignment &&
      node.operatorToken.kind <= ts.SyntaxKind.LastAssignment
    ) {
      addWrite(node.left, node);
    } else if (
      (ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) &&
      (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)
    ) {
      addWrite(node.operand, node);
    }
  };
  // One walk collects, in source order, the nodes the checker will be asked about, the methods
  // this file declares, and how each name is used (for declared-types.ts); the checker's questions
  // come after, once the walk has seen every use of every name.
  const candidates: ts.Node[] = [];
  const names = new NameUseScanner();
  const walk = (node: ts.Node): void => {
    names.visit(node);
    if (ts.isMethodDeclaration(node) && ts.isIdentifier(node.name)) localMethods.add(node.name.text);
    if (
      ts.isCallExpression(node) ||
      ts.isNewExpression(node) ||
      ts.isPropertyAccessExpression(node) ||
      ts.isBinaryExpression(node) ||
      ts.isPrefixUnaryExpression(node) ||
      ts.isPostfixUnaryExpression(node)
    )
      candidates.push(node);
    ts.forEachChild(node, walk);
  };
  walk(sourceFile);
  primeNameUses(sourceFile, names);
  for (const node of candidates) process(node);
  return {
    methodCalls,
    libraryCalls,
    optimizers,
    requiresGradWrites,
    gradReads,
    gradWrites,
    callSites,
    writes,
    containers,
    localMethods,
    importedCalls,
    hasLibraryUse: methodCalls.length + libraryCalls.size + optimizers.length > 0,
  };
}

/** `mse` in `const mse = nn.functional.mseLoss`: the name the alias stands for (syntax, one hop). */
function constAliasName(checker: ts.TypeChecker, callee: ts.Identifier): string | undefined {
  const decl = checker.getSymbolAtLocation(callee)?.valueDeclaration;
  if (!decl || !ts.isVariableDeclaration(decl) || !ts.isVariableDeclarationList(decl.parent) || !(decl.parent.flags & ts.NodeFlags.Const))
    return undefined;
  const init = decl.initializer;
  return init && ts.isPropertyAccessExpression(init) ? init.name.text : init && ts.isIdentifier(init) ? init.text : undefined;
}
