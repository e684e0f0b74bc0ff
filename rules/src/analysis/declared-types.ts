import ts from 'typescript';
import { neverNarrowed } from './narrowing.js';
import { LIMITS } from './limits.js';

/**
 * Types of the expressions the rules ask about, read from declarations wherever the checker's own
 * answer is known to be the same, and from the checker everywhere else.
 *
 * Asking the checker for the type of `head.forward(h).sub(t).pow(2).mean()` resolves every call in
 * the chain (overload resolution, checking each argument) and, for each identifier, walks the flow
 * graph back to its declaration looking for narrowing. Each edit in an editor makes a new program
 * and so a new checker with empty caches, so this was most of the rules' time. For a method with a
 * single, non-generic signature the type of a call is its declared return type whatever the
 * arguments are; for a variable that no condition can narrow, the type of a reference is its
 * declared type. Those two facts, checked syntactically and conservatively, answer nearly every
 * question a training script raises; anything else (overloads, generics, unions, narrowing
 * positions, destructuring…) goes to the checker. `rules/test/declared-types.test.ts` checks the
 * answers against the checker's on every expression of the fixtures and examples.
 */

/** Per checker: every type answered, checker fallbacks included (`null` while being computed). */
const memo = new WeakMap<ts.TypeChecker, WeakMap<ts.Node, ts.Type | null>>();

/** The type of `expr` as `checker.getTypeAtLocation` gives it, computed more cheaply where possible. */
export function typeOfExpression(checker: ts.TypeChecker, expr: ts.Expression): ts.Type {
  return typeOf(checker, expr, 0);
}

/** Only the declaration-read answer: undefined where the checker would have to be asked. For tests. */
export function declaredTypeOf(checker: ts.TypeChecker, expr: ts.Expression): ts.Type | undefined {
  return declared(checker, expr, 0);
}

function typeOf(checker: ts.TypeChecker, expr: ts.Expression, depth: number): ts.Type {
  let types = memo.get(checker);
  if (!types) {
    types = new WeakMap();
    memo.set(checker, types);
  }
  const known = types.get(expr);
  if (known) return known;
  // A cycle (`const x = x.relu()`, an error) or a deep chain: the checker answers.
  if (known === null || depth > LIMITS.declaredTypeDepth) return checker.getTypeAtLocation(expr);
  types.set(expr, null);
  let type: ts.Type | undefined;
  try {
    type = declared(checker, expr, depth);
  } finally {
    types.delete(expr);
  }
  type ??= checker.getTypeAtLocation(expr);
  types.set(expr, type);
  return type;
}

function declared(checker: ts.TypeChecker, expr: ts.Expression, depth: number): ts.Type | undefined {
  if (ts.isParenthesizedExpression(expr)) return typeOf(checker, expr.expression, depth + 1);
  if (ts.isNewExpression(expr)) return classInstanceType(checker, expr);
  if (ts.isIdentifier(expr)) return variableType(checker, expr, depth);
  if (ts.isCallExpression(expr)) return returnType(checker, expr, depth);
  if (ts.isPropertyAccessExpression(expr)) return propertyType(checker, expr, depth);
  return undefined;
}

/** Object types that are not unions, intersections, type parameters, `any` or errors. */
/**
 * An object type whose members are the checker's own symbols. An object literal's type is not:
 * the checker reads members of the widened type it gives the variable, whose property symbols are
 * copies of the literal's (`const opt = { lr: 0.1 }` then `opt.lr`).
 */
function isPlainObject(type: ts.Type): boolean {
  return (type.flags & ts.TypeFlags.Object) !== 0 && ((type as ts.ObjectType).objectFlags & ts.ObjectFlags.ObjectLiteral) === 0;
}

function isGenericInstance(checker: ts.TypeChecker, type: ts.Type): boolean {
  if (type.isClassOrInterface()) return (type.typeParameters?.length ?? 0) > 0;
  const objectType = type as ts.ObjectType;
  return (objectType.objectFlags & ts.ObjectFlags.Reference) !== 0 && checker.getTypeArguments(type as ts.TypeReference).length > 0;
}

/** A `const`/`let`/`var` or a parameter, referenced only where no condition can narrow it. */
function variableType(checker: ts.TypeChecker, id: ts.Identifier, depth: number): ts.Type | undefined {
  if (!neverNarrowed(id.getSourceFile(), id.text, 'variables', (call) => cannotNarrow(checker, call))) return undefined;
  const symbol = checker.getSymbolAtLocation(id);
  if (!symbol || symbol.flags & ts.SymbolFlags.Alias) return undefined;
  const decl = symbol.valueDeclaration;
  const declarations = symbol.declarations ?? [];
  if (!decl || declarations.length === 0) return undefined;
  let type: ts.Type | undefined;
  if (declarations.length > 1) {
    // Merged declarations (`var console` in lib files, with a types-only namespace beside it): the
    // value declarations must all be annotated, and the symbol's type merges them.
    const values = declarations.filter((d) => !ts.isInterfaceDeclaration(d) && !ts.isModuleDeclaration(d));
    if (values.length > 0 && values.every((d) => ts.isVariableDeclaration(d) && d.type)) type = checker.getTypeOfSymbol(symbol);
  } else if (ts.isVariableDeclaration(decl) && ts.isIdentifier(decl.name) && !decl.exclamationToken) {
    const statement = decl.parent.parent;
    if (ts.isForOfStatement(statement))
      type = statement.awaitModifier ? undefined : arrayElementType(checker, typeOf(checker, statement.expression, depth + 1));
    else if (ts.isForInStatement(statement)) return undefined;
    else if (decl.type) type = annotatedType(checker, decl.type);
    else if (decl.initializer && !autoTyped(decl.initializer)) type = typeOf(checker, decl.initializer, depth + 1);
  } else if (ts.isBindingElement(decl)) {
    type = tupleElementType(checker, decl, depth);
  } else if (
    ts.isParameter(decl) &&
    ts.isIdentifier(decl.name) &&
    decl.type &&
    !decl.questionToken &&
    !decl.dotDotDotToken &&
    !decl.initializer
  ) {
    type = annotatedType(checker, decl.type);
  }
  // The declared type of a union can be narrowed by assignment; of a plain object type, it cannot.
  return type && isPlainObject(type) ? type : undefined;
}

/** `for (const p of xs)` over an array: its element type. */
function arrayElementType(checker: ts.TypeChecker, type: ts.Type): ts.Type | undefined {
  return checker.isArrayType(type) ? checker.getTypeArguments(type as ts.TypeReference).at(0) : undefined;
}

/** `const [x, y] = batch()` where `batch` returns a tuple: the element at that position, if required. */
function tupleElementType(checker: ts.TypeChecker, element: ts.BindingElement, depth: number): ts.Type | undefined {
  const pattern = element.parent;
  const holder = pattern.parent;
  if (!ts.isArrayBindingPattern(pattern) || element.dotDotDotToken || element.initializer || !ts.isIdentifier(element.name))
    return undefined;
  if (!ts.isVariableDeclaration(holder) || holder.type || !holder.initializer || !ts.isVariableDeclarationList(holder.parent))
    return undefined;
  if (!ts.isVariableStatement(holder.parent.parent)) return undefined;
  const tuple = typeOf(checker, holder.initializer, depth + 1);
  if (!checker.isTupleType(tuple)) return undefined;
  const index = pattern.elements.indexOf(element);
  const flags = ((tuple as ts.TypeReference).target as ts.TupleType).elementFlags.at(index);
  return flags === ts.ElementFlags.Required ? checker.getTypeArguments(tuple as ts.TypeReference).at(index) : undefined;
}

function annotatedType(checker: ts.TypeChecker, node: ts.TypeNode): ts.Type | undefined {
  if (ts.isUnionTypeNode(node) || ts.isIntersectionTypeNode(node) || ts.isTypeQueryNode(node)) return undefined;
  return checker.getTypeFromTypeNode(node);
}

/** `let x = []`, `let x = null`: the variable's type evolves with later assignments and pushes. */
function autoTyped(init: ts.Expression): boolean {
  return (
    (ts.isArrayLiteralExpression(init) && init.elements.length === 0) ||
    init.kind === ts.SyntaxKind.NullKeyword ||
    (ts.isIdentifier(init) && init.text === 'undefined')
  );
}

/** `obj.field`: the declared type of a property (not a method, not optional) of a non-union receiver. */
function propertyType(checker: ts.TypeChecker, access: ts.PropertyAccessExpression, depth: number): ts.Type | undefined {
  if (access.questionDotToken || ts.isPrivateIdentifier(access.name)) return undefined;
  if (!neverNarrowed(access.getSourceFile(), access.name.text, 'properties', (call) => cannotNarrow(checker, call))) return undefined;
  const receiver = receiverType(checker, access.expression, depth);
  if (!receiver) return undefined;
  const property = checker.getPropertyOfType(receiver, access.name.text);
  if (!property || !(property.flags & ts.SymbolFlags.Property) || property.flags & ts.SymbolFlags.Optional) return undefined;
  const decl = property.valueDeclaration;
  if (!decl || property.declarations?.length !== 1 || !(ts.isPropertyDeclaration(decl) || ts.isPropertySignature(decl))) return undefined;
  const type = checker.getTypeOfSymbol(property);
  return isPlainObject(type) ? type : undefined;
}

/**
 * The symbol a name or `recv.name` refers to. For `recv.name` it is the member of the receiver's
 * type (typed as above), where `getSymbolAtLocation` would type the whole receiver with the checker.
 */
export function referenceSymbol(checker: ts.TypeChecker, reference: ts.Expression): ts.Symbol | undefined {
  if (ts.isIdentifier(reference)) return checker.getSymbolAtLocation(reference);
  if (!ts.isPropertyAccessExpression(reference) || ts.isPrivateIdentifier(reference.name)) return undefined;
  // A namespace's export (`nn.functional.mseLoss`): the module's own table, without typing `nn`.
  const exported = namespaceMember(checker, reference);
  if (exported) return exported;
  const receiver = reference.questionDotToken ? undefined : receiverType(checker, reference.expression, 0);
  // A generic instance's members are instantiated symbols, one per lookup: leave those to the checker.
  const member = receiver && !isGenericInstance(checker, receiver) ? checker.getPropertyOfType(receiver, reference.name.text) : undefined;
  // So is any transient member (a class's type instantiated for its `this`, as the checker may have
  // cached it from an earlier question about another file): the checker's own symbol is the real one.
  return member && !(member.flags & ts.SymbolFlags.Transient) ? member : checker.getSymbolAtLocation(reference.name);
}

/**
 * The type whose members a property access reads: a plain object type, or inside a class the class
 * itself for `this` (whose own type is the polymorphic `this` type parameter).
 */
function receiverType(checker: ts.TypeChecker, expr: ts.Expression, depth: number): ts.Type | undefined {
  if (expr.kind === ts.SyntaxKind.ThisKeyword) {
    const own = enclosingClassType(checker, expr);
    if (own) return own;
  }
  const type = typeOf(checker, expr, depth + 1);
  if (isPlainObject(type)) return type;
  if (expr.kind === ts.SyntaxKind.ThisKeyword && type.flags & ts.TypeFlags.TypeParameter) {
    const apparent = checker.getApparentType(type);
    return isPlainObject(apparent) ? apparent : undefined;
  }
  return undefined;
}

/**
 * `this` in an instance member of a class (through arrow functions, which keep it) is the class's
 * `this` type, whose members are the class's own: read them from the class, not by typing `this`.
 */
function enclosingClassType(checker: ts.TypeChecker, expr: ts.Node): ts.Type | undefined {
  let cur = expr.parent;
  while (
    ts.isArrowFunction(cur) ||
    !(
      ts.isFunctionLike(cur) ||
      ts.isClassLike(cur) ||
      ts.isSourceFile(cur) ||
      ts.isPropertyDeclaration(cur) ||
      ts.isClassStaticBlockDeclaration(cur)
    )
  )
    cur = cur.parent;
  const member = cur;
  const isInstanceMember =
    (ts.isMethodDeclaration(member) ||
      ts.isConstructorDeclaration(member) ||
      ts.isGetAccessor(member) ||
      ts.isSetAccessor(member) ||
      ts.isPropertyDeclaration(member)) &&
    !(ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Static);
  const cls = member.parent;
  if (!isInstanceMember || !ts.isClassDeclaration(cls) || !cls.name || cls.typeParameters) return undefined;
  const symbol = checker.getSymbolAtLocation(cls.name);
  if (!symbol) return undefined;
  // As the checker reads `this.x`: on the apparent type of the class's `this` type (its members are
  // instantiated for `this`, so they are other symbols than the declared type's).
  const declared = checker.getDeclaredTypeOfSymbol(symbol) as ts.InterfaceType;
  const apparent = declared.thisType ? checker.getApparentType(declared.thisType) : declared;
  return isPlainObject(apparent) ? apparent : undefined;
}

/**
 * `recv.method(…)` and `fn(…)` with one non-generic signature: the declared (or, for a same-file
 * function without an annotation, the inferred) return type. A `this` return type is the receiver's.
 */
function returnType(checker: ts.TypeChecker, call: ts.CallExpression, depth: number): ts.Type | undefined {
  if (call.questionDotToken || call.typeArguments || ts.isOptionalChain(call)) return undefined;
  const callee = call.expression;
  let receiver: ts.Type | undefined;
  let symbol: ts.Symbol | undefined;
  const member = ts.isPropertyAccessExpression(callee) ? namespaceMember(checker, callee) : undefined;
  if (member) {
    symbol = member.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(member) : member;
    if (!(symbol.flags & ts.SymbolFlags.Function)) return undefined;
  } else if (ts.isPropertyAccessExpression(callee)) {
    if (ts.isPrivateIdentifier(callee.name)) return undefined;
    receiver = receiverType(checker, callee.expression, depth);
    if (!receiver) return undefined;
    symbol = checker.getPropertyOfType(receiver, callee.name.text);
    if (symbol && !(symbol.flags & ts.SymbolFlags.Method)) {
      // A namespace's function (`nn.functional.mseLoss`), or an alias to it.
      if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      if (!(symbol.flags & ts.SymbolFlags.Function)) return undefined;
      receiver = undefined;
    } else if (isGenericInstance(checker, receiver)) {
      return undefined;
    }
  } else if (ts.isIdentifier(callee)) {
    symbol = checker.getSymbolAtLocation(callee);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    if (symbol && !(symbol.flags & ts.SymbolFlags.Function)) return undefined;
  }
  const decl = symbol?.declarations?.length === 1 ? symbol.declarations[0] : undefined;
  if (!decl || !singleSignature(decl)) return undefined;
  const signature = checker.getSignatureFromDeclaration(decl);
  if (!signature) return undefined;
  if (decl.type?.kind === ts.SyntaxKind.ThisType) {
    // `this.self()` is of the polymorphic `this` type itself, not the class: the checker says which.
    const onThis = ts.isPropertyAccessExpression(callee) && callee.expression.kind === ts.SyntaxKind.ThisKeyword;
    return onThis ? undefined : receiver;
  }
  const type = checker.getReturnTypeOfSignature(signature);
  return isPlainObject(type) ? type : undefined;
}

/** A method or function declared once, not generic, in a class or interface that is not generic either. */
function singleSignature(decl: ts.Declaration): decl is ts.MethodDeclaration | ts.MethodSignature | ts.FunctionDeclaration {
  if (ts.isFunctionDeclaration(decl)) return !decl.typeParameters && !decl.asteriskToken;
  if (!ts.isMethodDeclaration(decl) && !ts.isMethodSignature(decl)) return false;
  if (decl.typeParameters || decl.questionToken || (ts.isMethodDeclaration(decl) && decl.asteriskToken)) return false;
  const owner = decl.parent;
  return (ts.isClassDeclaration(owner) || ts.isInterfaceDeclaration(owner)) && !owner.typeParameters;
}

/**
 * The instance type of `new C(…)`, read from the class symbol: typing the expression instead
 * resolves the constructor call and checks every argument (`new optim.Adam([...a.parameters(),
 * ...b.parameters()])`). Undefined where the checker's answer could differ.
 */
function classInstanceType(checker: ts.TypeChecker, expr: ts.NewExpression): ts.Type | undefined {
  if (expr.typeArguments) return undefined;
  let symbol = entitySymbol(checker, expr.expression);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) {
    // A type-only import cannot be constructed: the checker types it as an error.
    if (symbol.declarations?.some((d) => ts.isTypeOnlyImportOrExportDeclaration(d))) return undefined;
    symbol = checker.getAliasedSymbol(symbol);
  }
  if (!symbol || !(symbol.flags & ts.SymbolFlags.Class) || symbol.flags & ts.SymbolFlags.Alias) return undefined;
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  return !isGenericInstance(checker, type) && constructibleEverywhere(checker, type) ? type : undefined;
}

/**
 * The symbol `C` or `ns.C` names. A namespace's member is looked up in the namespace's exports:
 * `getSymbolAtLocation` on `nn.Linear` would type the property access instead.
 */
function entitySymbol(checker: ts.TypeChecker, expr: ts.Expression): ts.Symbol | undefined {
  if (ts.isIdentifier(expr)) return checker.getSymbolAtLocation(expr);
  if (!ts.isPropertyAccessExpression(expr) || !ts.isIdentifier(expr.name)) return undefined;
  return namespaceMember(checker, expr) ?? checker.getSymbolAtLocation(expr.name);
}

/** `ns.name` (`nn.functional.mseLoss`) when `ns` is a namespace: the export of that name; else undefined. */
function namespaceMember(checker: ts.TypeChecker, access: ts.PropertyAccessExpression): ts.Symbol | undefined {
  if (!ts.isIdentifier(access.name) || access.questionDotToken) return undefined;
  const left = access.expression;
  let namespace = ts.isIdentifier(left)
    ? checker.getSymbolAtLocation(left)
    : ts.isPropertyAccessExpression(left)
      ? namespaceMember(checker, left)
      : undefined;
  if (namespace && namespace.flags & ts.SymbolFlags.Alias) namespace = checker.getAliasedSymbol(namespace);
  if (
    !namespace ||
    !(namespace.flags & ts.SymbolFlags.Module) ||
    namespace.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Variable | ts.SymbolFlags.Function)
  )
    return undefined;
  return checker.tryGetMemberInModuleExports(access.name.text, namespace);
}

/**
 * `new` of an abstract class, or through a non-public constructor (its own, or else the nearest
 * base's that it inherits), is an error the checker types as `any`: leave those to the checker.
 */
function constructibleEverywhere(checker: ts.TypeChecker, type: ts.Type): boolean {
  let target: ts.Type | undefined = type;
  for (let depth = 0; target && depth < LIMITS.classDepth; depth++) {
    const decls = target.getSymbol()?.declarations ?? [];
    const classes = decls.filter(ts.isClassDeclaration);
    const decl = classes.at(0);
    if (!decl || classes.length !== 1 || decls.some((d) => ts.isClassExpression(d))) return false;
    if (depth === 0 && ts.getCombinedModifierFlags(decl) & ts.ModifierFlags.Abstract) return false;
    const ctors = decl.members.filter(ts.isConstructorDeclaration);
    if (ctors.length > 0)
      return ctors.every((c) => !(ts.getCombinedModifierFlags(c) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)));
    const cls = classTarget(target);
    if (!cls) return false;
    target = checker.getBaseTypes(cls).at(0);
  }
  return target === undefined;
}

export function classTarget(type: ts.Type): ts.InterfaceType | undefined {
  if (type.isClassOrInterface()) return type;
  if (type.flags & ts.TypeFlags.Object && (type as ts.ObjectType).objectFlags & ts.ObjectFlags.Reference) {
    const target = (type as ts.TypeReference).target;
    return target.isClassOrInterface() ? target : undefined;
  }
  return undefined;
}

const callsThatCannotNarrow = new WeakMap<ts.TypeChecker, WeakMap<ts.CallExpression, boolean>>();

/** A call none of whose callee's signatures is a type predicate or an assertion (declared or inferred). */
function cannotNarrow(checker: ts.TypeChecker, call: ts.CallExpression): boolean {
  let known = callsThatCannotNarrow.get(checker);
  if (!known) {
    known = new WeakMap();
    callsThatCannotNarrow.set(checker, known);
  }
  let answer = known.get(call);
  if (answer === undefined) {
    let symbol = referenceSymbol(checker, call.expression);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
    const signatures = symbol ? checker.getTypeOfSymbol(symbol).getCallSignatures() : [];
    answer = signatures.length > 0 && signatures.every((signature) => !checker.getTypePredicateOfSignature(signature));
    known.set(call, answer);
  }
  return answer;
}
