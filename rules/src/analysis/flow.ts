import ts from 'typescript';
import { isVisibleToOtherFiles } from './program-calls.js';
import { LIMITS } from './limits.js';
import { branchesAt, commonAncestor, enclosingFunction, isAncestor, isFunctionLike, isLoop, parentOf } from './syntax.js';

/**
 * Order of execution between two sites of one file, on TypeScript's syntax tree (so hovers can ask
 * without an ESLint run; test/flow-code-paths.test.ts holds it to ESLint's code paths): statement
 * order inside a function, exclusive `if`/`?:`/`switch` arms, early `return`/`throw`/`break`,
 * loops that run a later statement before an earlier one on the next iteration, callbacks that
 * run where they are passed (`noGrad(() => …)`, `forEach`), and helpers called from exactly one
 * place. Anything else (methods called from elsewhere, several call sites) answers "unknown",
 * which callers treat as "does not follow": a rule stays silent rather than guess.
 */

/** The symbol a function is called by in this file (`function f`, `const f = () => …`, a method `m()`). */
export function functionSymbol(checker: ts.TypeChecker, fn: ts.Node): ts.Symbol | undefined {
  if ((ts.isFunctionDeclaration(fn) || ts.isMethodDeclaration(fn)) && fn.name) return checker.getSymbolAtLocation(fn.name);
  if ((ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) && ts.isVariableDeclaration(fn.parent) && ts.isIdentifier(fn.parent.name)) {
    return checker.getSymbolAtLocation(fn.parent.name);
  }
  return undefined;
}

/** What a file's flow asks of the rest of the program: calls of its exported helpers elsewhere, and their grad mode there. */
export interface CrossFileCalls {
  sitesOf(symbol: ts.Symbol): readonly ts.CallExpression[];
  gradModeAt(site: ts.CallExpression): 'off' | 'on' | 'unknown';
}

export class Flow {
  /** Grad mode on entry to each helper, from its call sites (memoised; recursion is 'unknown'). */
  private readonly functionModes = new Map<ts.Node, 'off' | 'on' | 'unknown'>();
  /** Functions whose grad mode comes (partly) from callers in other files. */
  private readonly decidedByOtherFiles = new Set<ts.Node>();
  /** liftChain per node: every order query lifts both of its sites. */
  private readonly chains = new Map<ts.Node, readonly (readonly [ts.Node, ts.Node])[]>();

  constructor(
    private readonly checker: ts.TypeChecker,
    readonly callSites: ReadonlyMap<ts.Symbol, readonly ts.CallExpression[]>,
    private readonly crossFile?: CrossFileCalls,
  ) {}

  /** Where a function's body runs from the caller's point of view: its one call site, or undefined. */
  callSiteOf(fn: ts.Node): ts.Node | undefined {
    if (ts.isSourceFile(fn)) return undefined;
    const parent = fn.parent;
    // An inline callback runs where it is passed (noGrad, enableGrad, forEach, map…).
    if (
      (ts.isArrowFunction(fn) || ts.isFunctionExpression(fn)) &&
      ts.isCallExpression(parent) &&
      parent.arguments.some((arg) => arg === fn)
    ) {
      return parent;
    }
    const symbol = functionSymbol(this.checker, fn);
    const sites = symbol ? this.callSites.get(symbol) : undefined;
    return sites?.length === 1 ? sites[0] : undefined;
  }

  /** [node, its function], then the call site in the caller and the caller, outwards. */
  private liftChain(node: ts.Node): readonly (readonly [ts.Node, ts.Node])[] {
    const cached = this.chains.get(node);
    if (cached) return cached;
    const chain: [ts.Node, ts.Node][] = [];
    let cur: ts.Node | undefined = node;
    const seen = new Set<ts.Node>();
    while (cur && chain.length < LIMITS.liftDepth) {
      const fn = enclosingFunction(cur);
      if (seen.has(fn)) break;
      seen.add(fn);
      chain.push([cur, fn]);
      cur = this.callSiteOf(fn);
    }
    this.chains.set(node, chain);
    return chain;
  }

  /** Brings two sites into their innermost common function; undefined when there is none known. */
  private common(a: ts.Node, b: ts.Node): { a: ts.Node; b: ts.Node; fn: ts.Node } | undefined {
    const chainA = this.liftChain(a);
    const chainB = this.liftChain(b);
    for (const [nodeA, fnA] of chainA) {
      const match = chainB.find(([, fnB]) => fnB === fnA);
      if (match) return { a: nodeA, b: match[0], fn: fnA };
    }
    return undefined;
  }

  /** The frames `node` runs in: itself in its function, then its call site in the caller, outwards. */
  frames(node: ts.Node): readonly (readonly [ts.Node, ts.Node])[] {
    return this.liftChain(node);
  }

  /** `a` and `b` brought into their innermost common function (`fn`), or undefined. */
  commonFrame(a: ts.Node, b: ts.Node): { readonly a: ts.Node; readonly b: ts.Node; readonly fn: ts.Node } | undefined {
    return this.common(a, b);
  }

  /** `b`, or the call site that runs it, in the innermost function that also runs `a`. */
  liftToward(a: ts.Node, b: ts.Node): ts.Node | undefined {
    return this.common(a, b)?.b;
  }

  /**
   * Whether `b` can run after `a` has run. With `loops`, a loop iteration that reaches `a` and
   * then comes round again also counts (so `a` may follow itself inside a loop).
   */
  mayFollow(a: ts.Node, b: ts.Node, options: { loops?: boolean } = {}): boolean {
    const loops = options.loops ?? false;
    const lifted = this.common(a, b);
    if (!lifted) return false;
    const { fn } = lifted;
    const nodeA = lifted.a;
    const nodeB = lifted.b;
    if (a === b) return loops && loopAround(nodeA, fn, nodeA, nodeA) !== undefined;
    // Two callbacks of one call, or a call and its own callback: the order is not known.
    if (nodeA === nodeB) return false;
    // `a` is evaluated as part of `b` (a receiver or an argument), so it has run when `b` runs.
    if (isAncestor(nodeB, nodeA)) return true;
    // `b` is part of `a`: it ran before `a`, and runs after it only on a loop's next iteration.
    if (isAncestor(nodeA, nodeB)) return loops && loopAround(nodeA, fn, nodeA, nodeB) !== undefined;
    const lca = commonAncestor(nodeA, nodeB);
    const canLoopBack = loops && loopAround(lca, fn, nodeA, nodeB) !== undefined;
    if (exclusive(nodeA, nodeB, lca)) return canLoopBack;
    if (nodeA.getStart() < nodeB.getStart()) {
      return !terminatedBefore(nodeA, lca, nodeB.getStart()) || canLoopBack;
    }
    return canLoopBack;
  }

  /**
   * `mayFollow`, and also across two methods of one class that this file never calls itself
   * (a Trainer's `trainStep()` and `freezeBackbone()`, called from another file): on one instance
   * they may run in any order, after the constructor. Only for questions where a wrong "may"
   * cannot report by itself (see require-set-to-none's freezes).
   */
  mayFollowOnInstance(a: ts.Node, b: ts.Node, loops = false): boolean {
    if (this.mayFollow(a, b, { loops })) return true;
    const methodA = enclosingMember(a);
    const methodB = enclosingMember(b);
    if (!methodA || !methodB || methodA === methodB || methodA.parent !== methodB.parent) return false;
    if (ts.isConstructorDeclaration(methodB)) return false;
    const entry = (m: ts.Node): boolean => {
      if (ts.isConstructorDeclaration(m)) return true;
      const symbol = functionSymbol(this.checker, m);
      return symbol !== undefined && (this.callSites.get(symbol) ?? []).length === 0;
    };
    return entry(methodA) && entry(methodB);
  }

  /**
   * Whether the grad mode at `node` was settled by callers in other files (ask gradModeAt first).
   * A mistake that depends on it is that caller's to report, at its call (see summaries.ts).
   */
  modeFromOtherFiles(node: ts.Node): boolean {
    for (
      let fn: ts.Node | undefined = enclosingFunction(node);
      fn && !ts.isSourceFile(fn);
      fn = parentOf(fn) ? enclosingFunction(fn) : undefined
    ) {
      if (this.decidedByOtherFiles.has(fn)) return true;
    }
    return false;
  }

  /**
   * Whether every run from `a` to `c` passes `b`. Loop bodies and callbacks are taken as entered
   * (a batch loop runs); `b` must be unconditional in the code that runs it and `a`, or in the
   * code that runs it and `c` (a branch arm holding both `b` and `c` is fine). When `c` comes before `a` (clearing at the end of an
   * iteration, stepping at the start of the next) the way goes round their innermost common loop,
   * and `b` must lie in that loop after `a` or before `c`.
   */
  mustPassBetween(a: ts.Node, b: ts.Node, c: ts.Node): boolean {
    const ac = this.common(a, c);
    if (!ac) return false;
    const lifted = this.liftChain(b).find(([, fn]) => fn === ac.fn)?.[0];
    if (!lifted) return false;
    const A = ac.a;
    const C = ac.b;
    if (A === C || isAncestor(A, C) || isAncestor(C, A) || isAncestor(lifted, A) || isAncestor(lifted, C)) return false;
    if (A.getEnd() <= C.getStart()) {
      if (!(A.getEnd() <= lifted.getStart() && lifted.getEnd() <= C.getStart())) return false;
      // Every way on from `a` passes `b`, or every way into `c` does (`b` and `c` in one branch arm).
      return !conditionalBetween(lifted, commonAncestor(A, lifted)) || !conditionalBetween(lifted, commonAncestor(lifted, C));
    }
    // c before a: round the innermost loop that runs both.
    let loop: ts.Node | undefined = commonAncestor(A, C);
    while (loop && loop !== ac.fn && !isLoop(loop)) loop = parentOf(loop);
    if (!loop || loop === ac.fn || !isAncestor(loop, lifted)) return false;
    if (lifted.getStart() >= A.getEnd()) return !conditionalBetween(lifted, commonAncestor(A, lifted));
    if (lifted.getEnd() <= C.getStart()) return !conditionalBetween(lifted, commonAncestor(lifted, C));
    return false;
  }

  /**
   * Whether `node` runs with recording off: inside a `noGrad` callback (not re-enabled by a nested
   * `enableGrad`), or in a helper whose every call site in this file is. A function this file
   * never calls (an entry point, an exported function, a method) starts in the default mode, on.
   * With `entry`, the mode inside that function as if it were entered with recording on (what a
   * summary of it assumes; each caller's own mode decides the rest).
   */
  gradModeAt(
    node: ts.Node,
    isGradModeCall: (call: ts.CallExpression) => 'off' | 'on' | undefined,
    depth = 0,
    entry?: ts.Node,
  ): 'off' | 'on' | 'unknown' {
    if (depth > LIMITS.gradModeDepth) return 'unknown';
    let cur: ts.Node = node;
    for (let hops = 0; hops < LIMITS.gradModeHops; hops++) {
      const fn = enclosingFunction(cur);
      if (ts.isSourceFile(fn) || fn === entry) return 'on';
      const parent = fn.parent;
      if (ts.isCallExpression(parent) && parent.arguments.some((arg) => arg === fn)) {
        if (parent.arguments[0] === fn) {
          const mode = isGradModeCall(parent);
          if (mode !== undefined) return mode;
        }
        cur = parent; // other callbacks run where they are passed
        continue;
      }
      const known = this.functionModes.get(fn);
      if (known) return known;
      this.functionModes.set(fn, 'unknown'); // recursion ends as unknown
      const symbol = functionSymbol(this.checker, fn);
      const sites = symbol ? (this.callSites.get(symbol) ?? []) : [];
      // Call sites in other files answer in their own file's terms (`softUpdate` in utils.ts,
      // called under noGrad from train.ts).
      const foreign = symbol && this.crossFile && isVisibleToOtherFiles(fn) ? this.crossFile.sitesOf(symbol) : [];
      // Each caller elsewhere is asked in its own file's analysis; a helper called from more files
      // than that is 'unknown' (so an edit never builds the analyses of a whole project).
      const modes = new Set([
        ...sites.map((site) => this.gradModeAt(site, isGradModeCall, depth + 1)),
        ...(foreign.length > LIMITS.foreignCallSites
          ? ['unknown' as const]
          : foreign.map((site) => this.crossFile?.gradModeAt(site) ?? 'unknown')),
      ]);
      const mode = sites.length + foreign.length === 0 ? 'on' : modes.size === 1 ? [...modes][0] : 'unknown';
      if (foreign.length > 0) this.decidedByOtherFiles.add(fn);
      this.functionModes.set(fn, mode);
      return mode;
    }
    return 'unknown';
  }
}

/** The child of `ancestor` on the way down to `node`. */
function childToward(ancestor: ts.Node, node: ts.Node): ts.Node | undefined {
  let cur: ts.Node | undefined = node;
  while (cur && parentOf(cur) !== ancestor) cur = parentOf(cur);
  return cur;
}

/** A branch arm, `?:` arm, short-circuit operand, `case` or `catch` between `node` and `scope` (loop bodies do not count). */
export function conditionalBetween(node: ts.Node, scope: ts.Node): boolean {
  for (let cur = node; cur !== scope;) {
    const parent = parentOf(cur);
    if (!parent) return true;
    if (branchesAt(parent, cur) || ts.isCatchClause(parent)) return true;
    cur = parent;
  }
  return false;
}

/** Whether a and b sit in different arms of one branch (`if`/`?:`/`switch`), so one run never reaches both. */
export function areExclusive(a: ts.Node, b: ts.Node): boolean {
  return exclusive(a, b, commonAncestor(a, b));
}

function exclusive(a: ts.Node, b: ts.Node, lca: ts.Node): boolean {
  const ca = childToward(lca, a);
  const cb = childToward(lca, b);
  if (!ca || !cb || ca === cb) return false;
  if (ts.isIfStatement(lca))
    return (ca === lca.thenStatement && cb === lca.elseStatement) || (cb === lca.thenStatement && ca === lca.elseStatement);
  if (ts.isConditionalExpression(lca)) return ca !== lca.condition && cb !== lca.condition;
  if (ts.isCaseBlock(lca)) {
    // Different cases are exclusive unless the earlier one falls through.
    const first = ca.getStart() < cb.getStart() ? ca : cb;
    const last = (first as ts.CaseOrDefaultClause).statements.at(-1);
    return last !== undefined && isJump(last);
  }
  return false;
}

function isJump(statement: ts.Node): boolean {
  return (
    ts.isReturnStatement(statement) || ts.isThrowStatement(statement) || ts.isBreakStatement(statement) || ts.isContinueStatement(statement)
  );
}

/**
 * An unconditional jump after `a` before the path leaves `lca`'s subtree towards `b`. A
 * `break`/`continue` only ends the path when the loop or switch it leaves is not itself inside
 * `lca` (leaving an inner loop carries on after it).
 */
function terminatedBefore(a: ts.Node, lca: ts.Node, bStart: number): boolean {
  const chain: ts.Node[] = [];
  for (let cur: ts.Node | undefined = a; cur && cur !== lca && !isFunctionLike(cur); cur = parentOf(cur)) chain.push(cur);
  let outermostBreakable = -1;
  chain.forEach((node, i) => {
    if (isLoop(node) || ts.isCaseBlock(node)) outermostBreakable = i;
  });
  for (let i = 0; i < chain.length; i++) {
    const cur = chain[i];
    // `return f(a)` / `throw g(a)`: a runs, then the statement leaves (b is not inside it: it lies on a's side of lca).
    if (ts.isReturnStatement(cur) || ts.isThrowStatement(cur)) return true;
    const parent = parentOf(cur);
    if (!parent) break;
    const statements =
      ts.isBlock(parent) || ts.isSourceFile(parent) || ts.isModuleBlock(parent) || ts.isCaseClause(parent) || ts.isDefaultClause(parent)
        ? parent.statements
        : undefined;
    if (statements) {
      const index = statementIndex(statements, cur);
      // In `lca` itself only the statements between a's and b's count.
      const jump = jumpsAfter(statements, index, i >= outermostBreakable);
      // A jump that contains b (`return f(b)`) runs b before it leaves.
      if (jump !== undefined && (parent !== lca || jump.getEnd() <= bStart)) return true;
    }
    if (parent === lca) break;
  }
  return false;
}

/** The index of `node` among `statements` (sorted by position), or -1. */
function statementIndex(statements: ts.NodeArray<ts.Statement>, node: ts.Node): number {
  let lo = 0;
  let hi = statements.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = statements[mid];
    if (s === node) return mid;
    if (s.pos < node.pos) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** For each position, the next return/throw and the next jump of any kind (cached per statement list). */
const jumpIndex = new WeakMap<ts.NodeArray<ts.Statement>, { hard: Int32Array; any: Int32Array }>();

/** The first statement after `index` that ends the path (any jump, or only return/throw), if any. */
function jumpsAfter(statements: ts.NodeArray<ts.Statement>, index: number, anyJump: boolean): ts.Statement | undefined {
  if (index < 0) return undefined;
  let table = jumpIndex.get(statements);
  if (!table) {
    const n = statements.length;
    const hard = new Int32Array(n + 1).fill(-1);
    const any = new Int32Array(n + 1).fill(-1);
    for (let i = n - 1; i >= 0; i--) {
      const s = statements[i];
      hard[i] = ts.isReturnStatement(s) || ts.isThrowStatement(s) ? i : hard[i + 1];
      any[i] = isJump(s) ? i : any[i + 1];
    }
    table = { hard, any };
    jumpIndex.set(statements, table);
  }
  const at = (anyJump ? table.any : table.hard)[index + 1];
  return at >= 0 ? statements[at] : undefined;
}

/**
 * The innermost loop around `node` (inside `fn`) that runs both `from` and `to` again on its next
 * iteration, unless `from` leaves it. A for-of/for-in iterable and a for initializer run once per
 * entry into the loop, not per iteration, so a loop does not repeat them.
 */
function loopAround(node: ts.Node, fn: ts.Node, from: ts.Node, to: ts.Node): ts.IterationStatement | undefined {
  for (let cur: ts.Node | undefined = node; cur && cur !== fn; cur = parentOf(cur)) {
    if (isLoop(cur) && repeats(cur, from) && repeats(cur, to)) {
      const leaves = breaksOutOf(from, cur);
      if (!leaves) return cur;
      // A break leaves this loop only: an outer loop can still come round to `to`.
      if (leaves === 'return') return undefined;
    }
  }
  return undefined;
}

function repeats(loop: ts.IterationStatement, node: ts.Node): boolean {
  const part = childToward(loop, node);
  if (ts.isForOfStatement(loop) || ts.isForInStatement(loop)) return part !== loop.expression;
  if (ts.isForStatement(loop)) return part !== loop.initializer;
  return true;
}

/** A loop or switch between `node` and `loop`: a plain `break` at `node` leaves that one, not `loop`. */
function breakableBetween(node: ts.Node, loop: ts.Node): boolean {
  for (let cur = parentOf(node); cur && cur !== loop; cur = parentOf(cur)) if (isLoop(cur) || ts.isCaseBlock(cur)) return true;
  return false;
}

/** A `continue` inside `statement` that goes on with `loop` (not an inner loop's, not a nested function's). */
function continuesLoop(statement: ts.Node, loop: ts.Node): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found || isFunctionLike(n) || (isLoop(n) && n !== loop)) return;
    if (ts.isContinueStatement(n) && (!n.label || (ts.isLabeledStatement(loop.parent) && loop.parent.label.text === n.label.text)))
      found = true;
    else ts.forEachChild(n, visit);
  };
  visit(statement);
  return found;
}

function breaksOutOf(from: ts.Node, loop: ts.Node): 'return' | 'break' | false {
  for (let cur: ts.Node = from; cur !== loop;) {
    const parent = parentOf(cur);
    if (!parent || parent === loop) break;
    if (ts.isBlock(parent) || ts.isCaseClause(parent) || ts.isDefaultClause(parent)) {
      // The first jump decides: return/throw leave, a break leaves the loop (not a switch case), continue stays.
      const index = statementIndex(parent.statements, cur);
      const next = jumpsAfter(parent.statements, index, true);
      // A `continue` nested in a branch before that jump (`if (reject) continue;`) comes round again.
      if (next && parent.statements.slice(index + 1, parent.statements.indexOf(next)).some((s) => continuesLoop(s, loop))) return false;
      if (next && (ts.isReturnStatement(next) || ts.isThrowStatement(next))) return 'return';
      if (next && ts.isBreakStatement(next) && ts.isBlock(parent) && !breakableBetween(parent, loop)) return 'break';
    }
    cur = parent;
  }
  return false;
}

/** The non-static method or constructor of a class whose body runs `node` directly (not in a nested function). */
function enclosingMember(node: ts.Node): ts.MethodDeclaration | ts.ConstructorDeclaration | undefined {
  const fn = enclosingFunction(node);
  if (!(ts.isMethodDeclaration(fn) || ts.isConstructorDeclaration(fn)) || !ts.isClassLike(fn.parent)) return undefined;
  const isStatic = (ts.getModifiers(fn) ?? []).some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
  return isStatic ? undefined : fn;
}
