import ts from 'typescript';

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

/**
 * Per checker, the library class of each expression asked about: the index, the values and the
 * paths ask about the same receivers, and `getTypeAtLocation` on an identifier redoes its flow
 * narrowing every time. A new checker (every edit makes a new program) starts empty.
 */
const expressionClasses = new WeakMap<ts.TypeChecker, WeakMap<ts.Node, LibraryClass | null>>();

export function libraryClassOfExpression(checker: ts.TypeChecker, expr: ts.Expression): LibraryClass | undefined {
  let memo = expressionClasses.get(checker);
  if (!memo) {
    memo = new WeakMap();
    expressionClasses.set(checker, memo);
  }
  const cached = memo.get(expr);
  if (cached !== undefined) return cached ?? undefined;
  const cls = libraryClassOf(checker, constructedType(checker, expr) ?? checker.getTypeAtLocation(expr));
  memo.set(expr, cls ?? null);
  return cls;
}

/**
 * The instance type of `new C(…)`, or of a `const x = new C(…)` that no condition or call can narrow,
 * read from the class symbol: typing the expression instead resolves the constructor call and
 * checks every argument (`new optim.Adam([...a.parameters(), ...b.parameters()])`), which is most
 * of the checker's time on a training file. Undefined where the checker's answer could differ.
 */
export function constructedType(checker: ts.TypeChecker, expr: ts.Expression): ts.Type | undefined {
  if (ts.isNewExpression(expr)) return classInstanceType(checker, expr);
  if (!ts.isIdentifier(expr) || !onlyReceiverReferences(expr)) return undefined;
  const decl = checker.getSymbolAtLocation(expr)?.valueDeclaration;
  if (!decl || !ts.isVariableDeclaration(decl) || decl.type || !decl.initializer || !ts.isIdentifier(decl.name)) return undefined;
  if (!(ts.getCombinedNodeFlags(decl) & ts.NodeFlags.Const)) return undefined;
  let init = decl.initializer;
  while (ts.isParenthesizedExpression(init)) init = init.expression;
  return ts.isNewExpression(init) ? classInstanceType(checker, init) : undefined;
}

function classInstanceType(checker: ts.TypeChecker, expr: ts.NewExpression): ts.Type | undefined {
  const callee = expr.expression;
  const nameNode = ts.isPropertyAccessExpression(callee) ? callee.name : callee;
  if (!ts.isIdentifier(nameNode)) return undefined;
  let symbol = checker.getSymbolAtLocation(nameNode);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) {
    // A type-only import cannot be constructed: the checker types it as an error.
    if (symbol.declarations?.some((d) => ts.isTypeOnlyImportOrExportDeclaration(d))) return undefined;
    symbol = checker.getAliasedSymbol(symbol);
  }
  if (!symbol || !(symbol.flags & ts.SymbolFlags.Class) || symbol.flags & ts.SymbolFlags.Alias) return undefined;
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  return constructibleEverywhere(checker, type) ? type : undefined;
}

/**
 * `new` of an abstract class, or through a non-public constructor (its own, or else the nearest
 * base's that it inherits), is an error the checker types as `any`: leave those to the checker.
 */
function constructibleEverywhere(checker: ts.TypeChecker, type: ts.Type): boolean {
  let target: ts.Type | undefined = type;
  for (let depth = 0; target && depth < 12; depth++) {
    const decls = target.getSymbol()?.declarations ?? [];
    const classes = decls.filter(ts.isClassDeclaration);
    const decl = classes.at(0);
    if (!decl || classes.length !== 1 || decls.some((d) => ts.isClassExpression(d))) return false;
    if (depth === 0 && ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Abstract) return false;
    const ctors = decl.members.filter(ts.isConstructorDeclaration);
    if (ctors.length > 0) return ctors.every((c) => !(ts.getCombinedModifierFlags(c) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)));
    const cls = classTarget(target);
    if (!cls) return false;
    target = checker.getBaseTypes(cls).at(0);
  }
  return target === undefined;
}

/**
 * Narrowing needs the variable itself in a condition, a comparison or a call argument (a type
 * guard); when every occurrence of its name in the file is the receiver of a property access
 * (or the declared name), its type is its declared type everywhere.
 */
const receiverOnlyNames = new WeakMap<ts.SourceFile, Map<string, boolean>>();

function onlyReceiverReferences(id: ts.Identifier): boolean {
  const sourceFile = id.getSourceFile();
  let names = receiverOnlyNames.get(sourceFile);
  if (!names) {
    const found = new Map<string, boolean>();
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node)) {
        const parent = node.parent;
        const receiver = (ts.isPropertyAccessExpression(parent) && parent.expression === node)
          || (ts.isVariableDeclaration(parent) && parent.name === node);
        const name = parent.kind === ts.SyntaxKind.PropertyAccessExpression && (parent as ts.PropertyAccessExpression).name === node;
        if (!name) found.set(node.text, (found.get(node.text) ?? true) && receiver);
      }
      ts.forEachChild(node, visit);
    };
    visit(sourceFile);
    names = found;
    receiverOnlyNames.set(sourceFile, names);
  }
  return names.get(id.text) === true;
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
  let target = checker.getNonNullableType(type);
  if (target.isUnion()) {
    const kinds = target.types.map((t) => libraryClassOf(checker, t));
    const first = kinds[0];
    return first && kinds.every((k) => k?.kind === first.kind) ? first : undefined;
  }
  let nearest: string | undefined;
  for (let depth = 0; depth < 12; depth++) {
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

function classTarget(type: ts.Type): ts.InterfaceType | undefined {
  if (type.isClassOrInterface()) return type;
  if (type.flags & ts.TypeFlags.Object && (type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) {
    const target = (type as ts.TypeReference).target;
    return target.isClassOrInterface() ? target : undefined;
  }
  return undefined;
}

/** The library function a call resolves to (`noGrad`, `tensor`, `mseLoss`…), through imports and namespaces. */
export function libraryFunctionName(checker: ts.TypeChecker, call: ts.CallExpression): string | undefined {
  const callee = call.expression;
  const nameNode = ts.isPropertyAccessExpression(callee) ? callee.name : callee;
  if (!ts.isIdentifier(nameNode)) return undefined;
  let symbol = checker.getSymbolAtLocation(nameNode);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const decl = symbol?.declarations?.[0];
  if (!symbol || !decl || !ts.isFunctionDeclaration(decl) || !isLibraryDeclaration(decl)) return undefined;
  return symbol.getName();
}

/** Creation functions whose options object may say `requiresGrad` and `dtype`. */
export const CREATION_FUNCTIONS: ReadonlySet<string> = new Set(['tensor', 'zeros', 'ones', 'randn', 'rand', 'uniform']);
/** `nn.functional` entries: their result is computed from their tensor arguments by recorded ops. */
export const FUNCTIONAL_OPS: ReadonlySet<string> = new Set(['relu', 'softmax', 'logSoftmax', 'mseLoss', 'l1Loss', 'crossEntropy']);
