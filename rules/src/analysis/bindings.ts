import ts from 'typescript';

/**
 * What a local name stands for: the one expression that defines it (a `const`, or a `let` that is
 * written exactly once), or "an element of" an iterable (`for (const p of xs)`, `xs.forEach((p) => …)`).
 * Names written more than once have no single definition; the analysis then knows nothing of them.
 */
export type Definition =
  | { readonly kind: 'expression'; readonly expression: ts.Expression; readonly at: ts.Node }
  | { readonly kind: 'element'; readonly of: ts.Expression; readonly at: ts.Node; readonly pairValue: boolean };

const ITERATING_METHODS = new Set(['forEach', 'map', 'filter', 'some', 'every', 'flatMap']);

export function stripExpression(expr: ts.Expression): ts.Expression {
  let cur = expr;
  while (ts.isParenthesizedExpression(cur) || ts.isAsExpression(cur) || ts.isNonNullExpression(cur) || ts.isSatisfiesExpression(cur) || ts.isTypeAssertionExpression(cur)) {
    cur = cur.expression;
  }
  return cur;
}

export class Bindings {
  private readonly ids = new Map<ts.Symbol, number>();

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly writes: ReadonlyMap<ts.Symbol, readonly ts.Node[]>,
  ) {}

  symbolOf(node: ts.Node): ts.Symbol | undefined {
    try {
      if (ts.isShorthandPropertyAssignment(node.parent) && node.parent.name === node) {
        return this.checker.getShorthandAssignmentValueSymbol(node.parent);
      }
      return this.checker.getSymbolAtLocation(node);
    } catch {
      return undefined;
    }
  }

  /** A stable small id per symbol, used to build identity keys such as `v3.layer1.weight`. */
  idOf(symbol: ts.Symbol): number {
    let id = this.ids.get(symbol);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(symbol, id);
    }
    return id;
  }

  definition(identifier: ts.Identifier): Definition | undefined {
    const symbol = this.symbolOf(identifier);
    const decl = symbol?.valueDeclaration;
    if (!symbol || !decl) return undefined;
    const written = this.writes.get(symbol) ?? [];
    if (ts.isVariableDeclaration(decl) && ts.isIdentifier(decl.name)) {
      const list = decl.parent;
      const statement = ts.isVariableDeclarationList(list) ? list.parent : undefined;
      if (statement && ts.isForOfStatement(statement) && written.length === 0) {
        return { kind: 'element', of: statement.expression, at: statement, pairValue: false };
      }
      if (decl.initializer && written.length === 0) return { kind: 'expression', expression: decl.initializer, at: decl };
      const only = written[0];
      if (!decl.initializer && written.length === 1 && ts.isBinaryExpression(only) && only.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
        return { kind: 'expression', expression: only.right, at: only };
      }
      return undefined;
    }
    if (ts.isBindingElement(decl) && written.length === 0) {
      // `for (const [name, p] of m.namedParameters())` or `.forEach(([name, p]) => …)`: p is the pair's value.
      const pattern = decl.parent;
      if (ts.isArrayBindingPattern(pattern) && pattern.elements.indexOf(decl) === 1) {
        const holder = pattern.parent;
        const iterable = ts.isVariableDeclaration(holder) ? forOfIterable(holder) : ts.isParameter(holder) ? callbackIterable(holder) : undefined;
        if (iterable) return { kind: 'element', of: iterable, at: holder, pairValue: true };
      }
      return undefined;
    }
    if (ts.isParameter(decl) && ts.isIdentifier(decl.name) && written.length === 0) {
      const iterable = callbackIterable(decl);
      if (iterable) return { kind: 'element', of: iterable, at: decl.parent, pairValue: false };
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
