import ts from 'typescript';
import { referenceSymbol } from './declared-types.js';

/**
 * What a local name stands for: the one expression that defines it (a `const`, or a `let` that is
 * written exactly once), or "an element of" an iterable (`for (const p of xs)`, `xs.forEach((p) => …)`).
 * Names written more than once have no single definition; the analysis then knows nothing of them.
 */
export type Definition =
  | { readonly kind: 'expression'; readonly expression: ts.Expression; readonly at: ts.Node }
  | { readonly kind: 'element'; readonly of: ts.Expression; readonly at: ts.Node; readonly pairValue: boolean };

const ITERATING_METHODS = new Set(['forEach', 'map', 'filter', 'some', 'every', 'flatMap']);

/** The literal value of `key` in an object literal argument, or undefined. */
export function propertyOf(options: ts.Node | undefined, key: string): ts.Expression | undefined {
  if (!options || !ts.isObjectLiteralExpression(options)) return undefined;
  for (const prop of options.properties) {
    if (ts.isPropertyAssignment(prop) && (ts.isIdentifier(prop.name) || ts.isStringLiteral(prop.name)) && prop.name.text === key)
      return prop.initializer;
  }
  return undefined;
}

export function stripExpression(expr: ts.Expression): ts.Expression {
  let cur = expr;
  while (
    ts.isParenthesizedExpression(cur) ||
    ts.isAsExpression(cur) ||
    ts.isNonNullExpression(cur) ||
    ts.isSatisfiesExpression(cur) ||
    ts.isTypeAssertionExpression(cur)
  ) {
    cur = cur.expression;
  }
  return cur;
}

/**
 * Ids of symbols, shared by every file's analysis: paths built in one file (`this7.backbone` in
 * model.ts) must mean the same symbol when another file's analysis compares them with its own.
 */
const symbolIds = new WeakMap<ts.Symbol, number>();
let nextSymbolId = 1;

export class Bindings {
  /** Symbol per node: definitions and paths ask about the same names again and again, and each checker lookup walks scopes. */
  private readonly symbols = new Map<ts.Node, ts.Symbol | undefined>();
  private writesByDeclaration: Map<ts.Node, readonly ts.Node[]> | undefined;

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly writes: ReadonlyMap<ts.Symbol, readonly ts.Node[]>,
    private readonly callSites: ReadonlyMap<ts.Symbol, readonly ts.CallExpression[]>,
  ) {}

  /** The arguments passed for a function's parameter at each of its call sites in this file. */
  argumentsFor(param: ts.ParameterDeclaration): ts.Expression[] | undefined {
    const fn = param.parent;
    const index = fn.parameters.indexOf(param);
    const name =
      ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn)
        ? fn.name
        : (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isVariableDeclaration(fn.parent)
          ? fn.parent.name
          : undefined;
    const symbol = name && ts.isIdentifier(name) ? this.symbolOf(name) : undefined;
    const sites = symbol ? this.callSites.get(symbol) : undefined;
    if (!sites || sites.length === 0 || param.dotDotDotToken) return undefined;
    const args = sites.map((site) => site.arguments.at(index));
    return args.every((a) => a !== undefined) ? args : undefined;
  }

  /**
   * A class field's one definition: `lastHidden: Tensor | null = null` then exactly one
   * `this.lastHidden = hidden` (a null initializer does not count as a value).
   */
  fieldDefinition(access: ts.PropertyAccessExpression): Definition | undefined {
    const symbol = this.symbolOf(access.name);
    const decl = symbol?.valueDeclaration;
    if (!symbol || !decl || !ts.isPropertyDeclaration(decl) || decl.getSourceFile() !== access.getSourceFile()) return undefined;
    return this.fieldDefinitionOf(symbol, decl);
  }

  /** The one definition of a field declared in this file (see fieldDefinition), for readers in any file. */
  fieldDefinitionOf(symbol: ts.Symbol, decl: ts.PropertyDeclaration): Definition | undefined {
    const written = this.writesOf(symbol);
    const init = decl.initializer && decl.initializer.kind !== ts.SyntaxKind.NullKeyword ? decl.initializer : undefined;
    if (init && written.length === 0) return { kind: 'expression', expression: init, at: decl };
    const only = written[0];
    if (!init && written.length === 1 && ts.isBinaryExpression(only) && only.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      return { kind: 'expression', expression: only.right, at: only };
    }
    return undefined;
  }

  /**
   * The writes of a symbol. The checker can answer a property access with a transient copy of the
   * member's symbol (a class's type instantiated for its `this`) where the file index met the
   * declared one, so writes are also found by the symbol's declaration.
   */
  writesOf(symbol: ts.Symbol): readonly ts.Node[] {
    const direct = this.writes.get(symbol);
    if (direct || !(symbol.flags & ts.SymbolFlags.Transient) || !symbol.valueDeclaration) return direct ?? [];
    if (!this.writesByDeclaration) {
      this.writesByDeclaration = new Map();
      for (const [written, nodes] of this.writes)
        if (written.valueDeclaration) this.writesByDeclaration.set(written.valueDeclaration, nodes);
    }
    return this.writesByDeclaration.get(symbol.valueDeclaration) ?? [];
  }

  symbolOf(node: ts.Node): ts.Symbol | undefined {
    if (this.symbols.has(node)) return this.symbols.get(node);
    const symbol = this.lookUpSymbol(node);
    this.symbols.set(node, symbol);
    return symbol;
  }

  private lookUpSymbol(node: ts.Node): ts.Symbol | undefined {
    try {
      if (ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node) {
        return this.checker.getShorthandAssignmentValueSymbol(node.parent);
      }
      const parent = node.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.name === node) return referenceSymbol(this.checker, parent);
      return this.checker.getSymbolAtLocation(node);
    } catch {
      return undefined;
    }
  }

  /** A stable small id per symbol, used to build identity keys such as `v3.layer1.weight`. */
  idOf(symbol: ts.Symbol): number {
    let id = symbolIds.get(symbol);
    if (id === undefined) {
      id = nextSymbolId++;
      symbolIds.set(symbol, id);
    }
    return id;
  }

  definition(identifier: ts.Identifier): Definition | undefined {
    const symbol = this.symbolOf(identifier);
    const decl = symbol?.valueDeclaration;
    if (!symbol || !decl) return undefined;
    const written = this.writesOf(symbol);
    if (ts.isVariableDeclaration(decl) && ts.isIdentifier(decl.name)) {
      const list = decl.parent;
      const statement = ts.isVariableDeclarationList(list) ? list.parent : undefined;
      if (statement && ts.isForOfStatement(statement) && written.length === 0) {
        return { kind: 'element', of: statement.expression, at: statement, pairValue: false };
      }
      if (decl.initializer && written.length === 0) return { kind: 'expression', expression: decl.initializer, at: decl };
      const only = written[0];
      if (
        !decl.initializer &&
        written.length === 1 &&
        ts.isBinaryExpression(only) &&
        only.operatorToken.kind === ts.SyntaxKind.EqualsToken
      ) {
        return { kind: 'expression', expression: only.right, at: only };
      }
      return undefined;
    }
    if (ts.isBindingElement(decl) && written.length === 0) {
      // `for (const [name, p] of m.namedParameters())` or `.forEach(([name, p]) => …)`: p is the pair's value.
      const pattern = decl.parent;
      if (ts.isArrayBindingPattern(pattern) && pattern.elements.indexOf(decl) === 1) {
        const holder = pattern.parent;
        const iterable = ts.isVariableDeclaration(holder)
          ? forOfIterable(holder)
          : ts.isParameter(holder)
            ? callbackIterable(holder)
            : undefined;
        if (iterable) return { kind: 'element', of: iterable, at: holder, pairValue: true };
      }
      return undefined;
    }
    if (ts.isParameter(decl) && ts.isIdentifier(decl.name) && written.length === 0) {
      const iterable = callbackIterable(decl);
      if (iterable) return { kind: 'element', of: iterable, at: decl.parent, pairValue: false };
      // A helper called from exactly one place: the parameter is that call's argument.
      const args = this.argumentsFor(decl);
      if (args?.length === 1) return { kind: 'expression', expression: args[0], at: args[0] };
    }
    return undefined;
  }
}

function forOfIterable(decl: ts.VariableDeclaration): ts.Expression | undefined {
  const statement = decl.parent.parent;
  return ts.isForOfStatement(statement) ? statement.expression : undefined;
}

/** The receiver of `xs.forEach((p) => …)` when `p` is the callback's first parameter. */
function callbackIterable(param: ts.ParameterDeclaration): ts.Expression | undefined {
  const fn = param.parent;
  if (!(ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) || fn.parameters[0] !== param) return undefined;
  const call = fn.parent;
  if (!ts.isCallExpression(call) || call.arguments[0] !== fn || !ts.isPropertyAccessExpression(call.expression)) return undefined;
  return ITERATING_METHODS.has(call.expression.name.text) ? call.expression.expression : undefined;
}

/** `a` in `const [a, b] = f(x)`: the call and the element's position. */
export function tupleElement(bindings: Bindings, identifier: ts.Identifier): { call: ts.CallExpression; index: number } | undefined {
  const decl = bindings.symbolOf(identifier)?.valueDeclaration;
  if (!decl || !ts.isBindingElement(decl) || decl.dotDotDotToken || !ts.isArrayBindingPattern(decl.parent)) return undefined;
  const holder = decl.parent.parent;
  if (!ts.isVariableDeclaration(holder) || !holder.initializer || !ts.isVariableDeclarationList(holder.parent)) return undefined;
  if (!(holder.parent.flags & ts.NodeFlags.Const)) return undefined;
  const init = stripExpression(holder.initializer);
  return ts.isCallExpression(init) ? { call: init, index: decl.parent.elements.indexOf(decl) } : undefined;
}

/** The name an expression's value is stored in (`const y = x.exp()`, `trainer = new Trainer(…)`). */
export function assignedTo(node: ts.Expression): ts.Expression | undefined {
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) && parent.initializer === node && ts.isIdentifier(parent.name)) return parent.name;
  if (ts.isBinaryExpression(parent) && parent.right === node && parent.operatorToken.kind === ts.SyntaxKind.EqualsToken) return parent.left;
  return undefined;
}
