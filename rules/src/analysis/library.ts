import ts from 'typescript';
import { OP_METHODS, type OP_METADATA } from '@gradflow/autograd';
import { referenceSymbol, classTarget, typeOfExpression } from './declared-types.js';
import { LIMITS } from './limits.js';

type OpName = keyof typeof OP_METADATA;

/**
 * Recognises `@gradflow/autograd`'s own symbols by where they are declared, never by name alone:
 * a user's `class Tensor` is not the library's. A declaration counts when its file lies in the
 * engine package, whether resolved through the workspace (`packages/autograd/`) or an install
 * (`node_modules/@gradflow/autograd/`), from its `dist/*.d.ts` or its `src/*.ts`.
 */
const LIBRARY_FILE = /(?:^|[\\/])(?:packages[\\/]autograd|node_modules[\\/]@gradflow[\\/]autograd)[\\/](?:dist|src)[\\/]/;

export type LibraryKind = 'tensor' | 'parameter' | 'module' | 'optimizer';

const CLASS_KINDS: Readonly<Partial<Record<string, LibraryKind>>> = {
  Tensor: 'tensor',
  Parameter: 'parameter',
  Module: 'module',
  Optimizer: 'optimizer',
};

export function isLibraryFile(fileName: string): boolean {
  return LIBRARY_FILE.test(fileName);
}

export function isLibraryDeclaration(decl: ts.Node): boolean {
  return isLibraryFile(decl.getSourceFile().fileName);
}

/** The library class a type is or extends, nearest first: `SGD` → 'SGD', then its kind 'optimizer'. */
export interface LibraryClass {
  readonly kind: LibraryKind;
  /** The nearest library class in the chain (`Linear`, `Adam`, `Parameter`, `Tensor`…). */
  readonly className: string;
}

function libraryClassSymbolName(symbol: ts.Symbol | undefined): string | undefined {
  const decl = symbol?.declarations?.[0];
  if (!symbol || !decl || !ts.isClassDeclaration(decl) || !isLibraryDeclaration(decl)) return undefined;
  return symbol.getName();
}

/** The library class of an expression's type (see declared-types.ts for how the type is found). */
export function libraryClassOfExpression(checker: ts.TypeChecker, expr: ts.Expression): LibraryClass | undefined {
  return libraryClassOf(checker, typeOfExpression(checker, expr));
}

/** Types belong to one checker, so their library class can be kept with them. */
const typeClasses = new WeakMap<ts.Type, LibraryClass | null>();

/** Walks a class type and its bases (bounded) for the first library class and the kind it belongs to. */
export function libraryClassOf(checker: ts.TypeChecker, type: ts.Type): LibraryClass | undefined {
  const cached = typeClasses.get(type);
  if (cached !== undefined) return cached ?? undefined;
  const cls = computeLibraryClass(checker, type);
  typeClasses.set(type, cls ?? null);
  return cls;
}

function computeLibraryClass(checker: ts.TypeChecker, type: ts.Type): LibraryClass | undefined {
  // Only a union can hold null or undefined; for an object type the call would resolve all its members.
  let target = type.isUnion() ? checker.getNonNullableType(type) : type;
  if (target.isUnion()) {
    const kinds = target.types.map((t) => libraryClassOf(checker, t));
    const first = kinds[0];
    return first && kinds.every((k) => k?.kind === first.kind) ? first : undefined;
  }
  let nearest: string | undefined;
  for (let depth = 0; depth < LIMITS.classDepth; depth++) {
    const name = libraryClassSymbolName(target.getSymbol());
    if (name !== undefined) {
      nearest ??= name;
      const kind = CLASS_KINDS[name];
      if (kind) return { kind, className: nearest };
    }
    const cls = classTarget(target);
    if (!cls) return undefined;
    const bases = checker.getBaseTypes(cls);
    const base = bases.at(0);
    if (!base) return undefined;
    target = base;
  }
  return undefined;
}

/** The library function a call resolves to (`noGrad`, `tensor`, `mseLoss`…), through imports and namespaces. */
export function libraryFunctionName(checker: ts.TypeChecker, call: ts.CallExpression): string | undefined {
  let symbol = referenceSymbol(checker, call.expression);
  // Through import aliases and `const mse = nn.functional.mseLoss`.
  for (let hops = 0; symbol && hops < LIMITS.aliasDepth; hops++) {
    if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const first = symbol.declarations?.[0];
    const init = first && ts.isVariableDeclaration(first) && isConstDeclaration(first) ? first.initializer : undefined;
    if (!init || !(ts.isIdentifier(init) || ts.isPropertyAccessExpression(init))) break;
    symbol = referenceSymbol(checker, init);
  }
  const decl = symbol?.declarations?.[0];
  if (!symbol || !decl || !ts.isFunctionDeclaration(decl) || !isLibraryDeclaration(decl)) return undefined;
  return symbol.getName();
}

/** Creation functions whose options object may say `requiresGrad` and `dtype`. */
export const CREATION_FUNCTIONS: ReadonlySet<string> = new Set(['tensor', 'zeros', 'ones', 'randn', 'rand', 'uniform']);
/** `nn.functional` entries: their result is computed from their tensor arguments by recorded ops. */
/**
 * Library functions whose result is computed, with a graph, from their tensor arguments. Those named
 * as an op of the engine's table (`gelu`, `relu`, `softmax`, `logSoftmax`, `where`) also save what
 * the table says, their arguments taken as the op's inputs in order; the others (losses, layers as
 * functions) are composites whose internal saves are not modelled: the graph goes on through them.
 */
export const FUNCTIONAL_OPS: ReadonlySet<string> = new Set([
  'relu',
  'softmax',
  'logSoftmax',
  'gelu',
  'where',
  'mseLoss',
  'l1Loss',
  'crossEntropy',
  'nllLoss',
  'binaryCrossEntropy',
  'binaryCrossEntropyWithLogits',
  'smoothL1Loss',
  'leakyRelu',
  'silu',
  'softplus',
  'normalize',
  'layerNorm',
  'conv2d',
  'avgPool2d',
  'maxPool2d',
  'scaledDotProductAttention',
]);

function isConstDeclaration(decl: ts.VariableDeclaration): boolean {
  return ts.isVariableDeclarationList(decl.parent) && (decl.parent.flags & ts.NodeFlags.Const) !== 0;
}

/**
 * Tensor methods that record an op of another name: `t.max()` / `t.min()` with no dim record
 * `amax` (which saves its input and its result). With a dim they return `{ values, indices }`
 * through a gather, which saves only the indices.
 */
const ARGLESS_OP_METHODS: Readonly<Record<string, OpName>> = { max: 'amax', min: 'amax' };

/** The op a tensor method call records directly (`a.exp()` → exp, `a.max()` → amax), if any. */
export function opOfMethod(method: string, call: ts.CallExpression): OpName | undefined {
  if (Object.hasOwn(OP_METHODS, method)) return OP_METHODS[method];
  return call.arguments.length === 0 && Object.hasOwn(ARGLESS_OP_METHODS, method) ? ARGLESS_OP_METHODS[method] : undefined;
}

/** Method names that may record an op (for the file index's first filter). */
export const OP_METHOD_NAMES: readonly string[] = [...Object.keys(OP_METHODS), ...Object.keys(ARGLESS_OP_METHODS)];
