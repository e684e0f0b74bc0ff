import ts from 'typescript';

/**
 * Where a node sits in TypeScript's syntax tree: its function, its loops, its ancestors, and what a
 * function returns. Syntax only, asked on every step of every walk up the tree (flow.ts builds the
 * order of execution on top of it).
 */

export type FunctionLike = ts.FunctionLikeDeclaration;

/** One set lookup instead of seven kind tests: these run on every step of every walk up the tree. */
const FUNCTION_KINDS: ReadonlySet<ts.SyntaxKind> = new Set([
  ts.SyntaxKind.FunctionDeclaration,
  ts.SyntaxKind.FunctionExpression,
  ts.SyntaxKind.ArrowFunction,
  ts.SyntaxKind.MethodDeclaration,
  ts.SyntaxKind.Constructor,
  ts.SyntaxKind.GetAccessor,
  ts.SyntaxKind.SetAccessor,
]);

const LOOP_KINDS: ReadonlySet<ts.SyntaxKind> = new Set([
  ts.SyntaxKind.ForStatement,
  ts.SyntaxKind.ForOfStatement,
  ts.SyntaxKind.ForInStatement,
  ts.SyntaxKind.WhileStatement,
  ts.SyntaxKind.DoStatement,
]);

export function isFunctionLike(node: ts.Node): node is FunctionLike {
  return FUNCTION_KINDS.has(node.kind);
}

/** The expressions a function returns (its body for `() => expr`), not those of nested functions. */
export function returnedValues(fn: ts.FunctionLikeDeclaration): ts.Expression[] {
  if (!fn.body) return [];
  if (!ts.isBlock(fn.body)) return [fn.body];
  const out: ts.Expression[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isReturnStatement(n) && n.expression) out.push(n.expression);
    else if (!isFunctionLike(n)) ts.forEachChild(n, visit);
  };
  ts.forEachChild(fn.body, visit);
  return out;
}

export function isLoop(node: ts.Node): node is ts.IterationStatement {
  return LOOP_KINDS.has(node.kind);
}

/**
 * The innermost loop around `node` in its own function (not through a callback or a call site);
 * with `containing`, the innermost one that also runs that node.
 */
export function innermostLoop(node: ts.Node, containing?: ts.Node): ts.IterationStatement | undefined {
  for (let cur = parentOf(node); cur && !ts.isSourceFile(cur) && !isFunctionLike(cur); cur = parentOf(cur)) {
    if (isLoop(cur) && (containing === undefined || isAncestor(cur, containing))) return cur;
  }
  return undefined;
}

/** The innermost function (or the source file) whose body contains `node`. */
export function enclosingFunction(node: ts.Node): ts.Node {
  let cur = parentOf(node);
  while (cur && !isFunctionLike(cur) && !ts.isSourceFile(cur)) cur = parentOf(cur);
  return cur ?? node.getSourceFile();
}

/** TypeScript types `parent` as always set; it is undefined on the source file. */
export function parentOf(node: ts.Node): ts.Node | undefined {
  return (node as { parent?: ts.Node }).parent;
}

export function isAncestor(ancestor: ts.Node, node: ts.Node): boolean {
  for (let cur = parentOf(node); cur; cur = parentOf(cur)) if (cur === ancestor) return true;
  return false;
}

export function commonAncestor(a: ts.Node, b: ts.Node): ts.Node {
  const ancestorsOfA = new Set<ts.Node>();
  for (let cur: ts.Node | undefined = a; cur; cur = parentOf(cur)) ancestorsOfA.add(cur);
  for (let cur: ts.Node | undefined = b; cur; cur = parentOf(cur)) if (ancestorsOfA.has(cur)) return cur;
  return a.getSourceFile();
}

/**
 * Whether `child` runs only under a condition of `parent`: an `if` arm, a `?:` arm, the right
 * operand of `&&`/`||`/`??`, or a `case`/`default` clause.
 */
export function branchesAt(parent: ts.Node, child: ts.Node): boolean {
  if (ts.isIfStatement(parent)) return parent.expression !== child;
  if (ts.isConditionalExpression(parent)) return parent.condition !== child;
  if (ts.isBinaryExpression(parent))
    return (
      parent.right === child &&
      [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken].includes(
        parent.operatorToken.kind,
      )
    );
  return ts.isCaseClause(parent) || ts.isDefaultClause(parent);
}
