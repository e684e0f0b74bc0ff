import ts from 'typescript';
import { stripExpression } from './bindings.js';
import { branchesAt, isAncestor } from './syntax.js';
import { isModulePrefix, modulePrefixSegments } from './modules.js';

/**
 * The syntactic shapes of a freeze (`p.requiresGrad = false`) that decide what it reaches: whether
 * a condition or an early exit stands between it and its loop, and a loop over
 * `m.namedParameters()` guarded only by `if (name.startsWith('trunk.'))`. Syntax only; training.ts
 * turns these into parameter paths.
 */

/** A branch, a short-circuit or an early `continue` between `node` and the loop/callback `scope` that reaches it. */
export function isConditionalWithin(node: ts.Node, scope: ts.Node, earlyExits: boolean): boolean {
  for (let cur = node; cur !== scope && !ts.isSourceFile(cur); cur = cur.parent) {
    const parent = cur.parent;
    if (branchesAt(parent, cur)) return true;
  }
  if (!earlyExits) return false;
  let early = false;
  const visit = (n: ts.Node): void => {
    if (early) return;
    if ((ts.isContinueStatement(n) || ts.isReturnStatement(n)) && isAncestor(scope, n)) early = true;
    else if (!ts.isFunctionLike(n) || n === scope) ts.forEachChild(n, visit);
  };
  ts.forEachChild(scope, visit);
  return early;
}

/**
 * For a write in a loop over `m.namedParameters()` (`for (const [name, p] of …)` or `.forEach(([name, p]) => …)`)
 * whose only condition is `if (name.startsWith('trunk.'))`: the module path segments the prefix names
 * (`['trunk']`; `'0.'` gives `['0']`, a Sequential's first layer). Undefined for any other shape (another
 * condition, an early exit in the loop body, a prefix that does not end at a module name).
 */
export interface NamePrefix {
  /** The module path segments a literal prefix names; undefined for a prefix given as a parameter. */
  readonly segments: string[] | undefined;
  readonly parameter?: ts.Identifier;
  readonly guard: ts.IfStatement;
}

export function namePrefixSegments(write: ts.Node, holder: ts.Node): NamePrefix | undefined {
  const pattern = ts.isVariableDeclaration(holder) || ts.isParameter(holder) ? holder.name : undefined;
  const first = pattern && ts.isArrayBindingPattern(pattern) ? pattern.elements.at(0) : undefined;
  const name = first && ts.isBindingElement(first) && ts.isIdentifier(first.name) ? first.name.text : undefined;
  const forOf = ts.isVariableDeclaration(holder) ? holder.parent.parent : undefined;
  const body =
    forOf && ts.isForOfStatement(forOf)
      ? forOf.statement
      : ts.isParameter(holder) && isFunctionLikeWithBody(holder.parent)
        ? holder.parent.body
        : undefined;
  if (!name || !body) return undefined;
  let guard: ts.IfStatement | undefined;
  for (let cur: ts.Node = write; cur !== body; cur = cur.parent) {
    const parent = cur.parent;
    if (ts.isSourceFile(cur) || ts.isFunctionLike(parent)) return undefined;
    if (ts.isIfStatement(parent)) {
      if (parent.thenStatement !== cur || guard) return undefined;
      guard = parent;
    } else if (isConditionalWithin(cur, parent, false)) return undefined;
  }
  const test = guard ? stripExpression(guard.expression) : undefined;
  if (
    !test ||
    !ts.isCallExpression(test) ||
    !ts.isPropertyAccessExpression(test.expression) ||
    test.expression.name.text !== 'startsWith' ||
    !ts.isIdentifier(test.expression.expression) ||
    test.expression.expression.text !== name ||
    test.arguments.length !== 1
  )
    return undefined;
  const prefix = test.arguments[0];
  const parameter = ts.isIdentifier(prefix) ? prefix : undefined;
  if (!parameter && (!ts.isStringLiteralLike(prefix) || !isModulePrefix(prefix.text))) return undefined;
  // An early exit anywhere in the loop body may skip the write.
  const exits = (n: ts.Node): boolean =>
    ts.isContinueStatement(n) ||
    ts.isBreakStatement(n) ||
    ts.isReturnStatement(n) ||
    (!ts.isFunctionLike(n) && ts.forEachChild(n, exits) === true);
  if (!guard || ts.forEachChild(body, exits) === true) return undefined;
  if (parameter) return { segments: undefined, parameter, guard };
  return { segments: ts.isStringLiteralLike(prefix) ? modulePrefixSegments(prefix.text) : undefined, guard };
}

function isFunctionLikeWithBody(node: ts.Node): node is ts.ArrowFunction | ts.FunctionExpression {
  return ts.isArrowFunction(node) || ts.isFunctionExpression(node);
}
