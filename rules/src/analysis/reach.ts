import ts from 'typescript';
import { stripExpression, tupleElement, type Bindings } from './bindings.js';
import type { FileIndex } from './file-index.js';
import { conditionalBetween } from './flow.js';
import { commonAncestor, enclosingFunction, isAncestor, isLoop, returnedValues } from './syntax.js';
import { libraryClassOfExpression } from './library.js';
import { LIMITS } from './limits.js';
import { foreignDeclaration } from './program-calls.js';
import { isPrefix, type ModulePaths, type ParamPath } from './modules.js';
import type { TensorValues } from './values.js';

/**
 * Gradient reach: which modules and parameters a `backward()` delivers gradient to, and where the
 * flow to them is cut on the way.
 *
 * This file owns one walk: from a loss expression back through local names, tensor ops, user
 * helpers' and user modules' return statements, to the module calls and parameters the loss is
 * computed from. Each one found is a `ModuleUse`, marked `cut` when the way back to the loss
 * passes a `detach()` or runs under `noGrad`, and `certain` unless a branch (`?:`, `&&`, a name
 * assigned in several places) decides whether the loss uses it.
 *
 * Any method of a module that returns a tensor is a use of that module (`model.predict(x)` is
 * read like `model.forward(x)`), so verdicts do not depend on method names. A method of a model
 * class this program declares is also followed into its body; its inner uses (rooted at `this`)
 * then say which parts of the module the call reaches.
 */
export interface ModuleUse {
  readonly call: ts.Node;
  readonly module: ParamPath;
  /** Where the flow is cut: the `detach()` call, the `noGrad(…)` call (`viaNoGrad`), or a call that runs with recording off. */
  readonly cut: { readonly how: 'noGrad' | 'detach'; readonly node: ts.Node; readonly viaNoGrad?: true } | undefined;
  readonly certain: boolean;
  /** For a model method followed into its body: the uses found there. */
  readonly inner: readonly ModuleUse[] | undefined;
}

type Cut = ModuleUse['cut'];

/** Module methods that compute nothing from the module's parameters. */
const NON_COMPUTING_METHODS = new Set([
  'parameters',
  'namedParameters',
  'children',
  'modules',
  'namedModules',
  'zeroGrad',
  'train',
  'eval',
  'to',
  'at',
  'apply',
  'stateDict',
  'loadStateDict',
  'buffers',
  'namedBuffers',
  'requiresGrad_',
]);

export class GradientReach {
  private readonly memo = new Map<ts.Expression, readonly ModuleUse[]>();

  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly index: FileIndex,
    private readonly bindings: Bindings,
    private readonly paths: ModulePaths,
    private readonly values: TensorValues,
    private readonly sourceFile?: ts.SourceFile,
    private readonly reachOf?: (file: ts.SourceFile) => GradientReach | undefined,
    private readonly program?: ts.Program,
  ) {}

  /** What the loss of `loss.backward()` is computed from (empty for a call that is not a backward). */
  usesOf(backward: ts.CallExpression): readonly ModuleUse[] {
    const callee = backward.expression;
    if (!ts.isPropertyAccessExpression(callee)) return [];
    const loss = stripExpression(callee.expression);
    const cached = this.memo.get(loss);
    if (cached) return cached;
    const uses: ModuleUse[] = [];
    this.walk(loss, undefined, true, uses, new Map(), 0);
    this.memo.set(loss, uses);
    return uses;
  }

  private walk(
    expression: ts.Expression,
    cut: Cut,
    certain: boolean,
    out: ModuleUse[],
    seen: Map<ts.Node, Set<string>>,
    depth: number,
  ): void {
    const expr = stripExpression(expression);
    // A helper's or model method's body in another file is walked by that file's analysis.
    if (this.sourceFile && expr.getSourceFile() !== this.sourceFile) {
      this.reachOf?.(expr.getSourceFile())?.walk(expr, cut, certain, out, seen, depth);
      return;
    }
    // The same value is visited again only in another state (cut or not, certain or not).
    const state = `${cut ? 'cut' : 'flowing'}:${String(certain)}`;
    const states = seen.get(expr) ?? new Set<string>();
    if (states.has(state) || depth > LIMITS.valueDepth) return;
    states.add(state);
    seen.set(expr, states);
    const next = (e: ts.Expression, c: Cut = cut, sure = certain): void => {
      this.walk(e, c, sure, out, seen, depth + 1);
    };
    if (ts.isIdentifier(expr)) {
      const sources = this.sourcesOf(expr);
      const parameter = this.parameterUse(expr, cut, certain);
      if (parameter) out.push(parameter);
      for (const source of sources) next(source, cut, certain && sources.length === 1);
      return;
    }
    if (ts.isConditionalExpression(expr)) {
      next(expr.whenTrue, cut, false);
      next(expr.whenFalse, cut, false);
      return;
    }
    if (ts.isBinaryExpression(expr)) {
      const op = expr.operatorToken.kind;
      const shortCircuit =
        op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken;
      next(expr.left);
      next(expr.right, cut, certain && !shortCircuit);
      return;
    }
    if (ts.isArrayLiteralExpression(expr)) {
      for (const element of expr.elements) next(ts.isSpreadElement(element) ? element.expression : element);
      return;
    }
    if (ts.isPropertyAccessExpression(expr) || ts.isElementAccessExpression(expr)) {
      const parameter = this.parameterUse(expr, cut, certain);
      if (parameter) {
        out.push(parameter);
        return;
      }
      if (ts.isPropertyAccessExpression(expr)) {
        const field = this.bindings.fieldDefinition(expr);
        if (field?.kind === 'expression') next(field.expression);
      }
      // A tuple element or a field of a returned object: what the whole was computed from.
      next(expr.expression);
      return;
    }
    if (ts.isCallExpression(expr)) this.walkCall(expr, cut, certain, out, seen, depth);
  }

  private walkCall(
    call: ts.CallExpression,
    cut: Cut,
    certain: boolean,
    out: ModuleUse[],
    seen: Map<ts.Node, Set<string>>,
    depth: number,
  ): void {
    const next = (e: ts.Expression, c: Cut = cut, into = out): void => {
      this.walk(e, c, certain, into, seen, depth + 1);
    };
    const fn = this.index.libraryCalls.get(call);
    if (fn === 'noGrad' || fn === 'enableGrad') {
      const callback = call.arguments.at(0);
      const inner = callback && (ts.isArrowFunction(callback) || ts.isFunctionExpression(callback)) ? returnedValues(callback) : [];
      // enableGrad records again inside a noGrad: its result is not cut (a default parameter would
      // turn an explicit undefined back into the outer cut, so the walk is called directly).
      const innerCut: Cut = fn === 'noGrad' ? (cut ?? { how: 'noGrad', node: call, viaNoGrad: true }) : undefined;
      for (const r of inner) this.walk(r, innerCut, certain, out, seen, depth + 1);
      return;
    }
    if (fn !== undefined) {
      call.arguments.forEach((a) => {
        next(a);
      });
      return;
    }
    const callee = call.expression;
    const method = this.values.methodCall(call);
    if (method && (method.receiverClass.kind === 'tensor' || method.receiverClass.kind === 'parameter')) {
      if (method.method === 'detach') next(method.receiver, cut ?? { how: 'detach', node: call });
      else {
        next(method.receiver);
        call.arguments.forEach((a) => {
          next(a);
        });
      }
      return;
    }
    if (ts.isPropertyAccessExpression(callee) && !NON_COMPUTING_METHODS.has(callee.name.text)) {
      const receiverClass = method?.receiverClass ?? libraryClassOfExpression(this.checker, callee.expression);
      if (receiverClass?.kind === 'module') {
        const module = this.paths.pathOf(callee.expression);
        const ownCut = cut ?? (this.values.gradModeAt(call) === 'off' ? { how: 'noGrad' as const, node: call } : undefined);
        const returned = this.values.returnedExpressions(call) ?? this.values.foreignReturns(call);
        let inner: ModuleUse[] | undefined;
        if (returned) {
          inner = [];
          for (const r of returned) next(r, ownCut, inner);
          // The method's `this.encoder` is the receiver's `encoder`.
          if (module) inner = inner.map((u) => this.rebaseThis(u, returned, module));
          out.push(...inner.filter((u) => !module || !isPrefix(module, u.module)));
        }
        if (module) out.push({ call, module, cut: ownCut, certain, inner: inner?.filter((u) => isPrefix(module, u.module)) });
        call.arguments.forEach((a) => {
          next(a, ownCut);
        });
        return;
      }
      if (receiverClass?.kind === 'optimizer') return;
    }
    // A user helper: what it is given and what it returns.
    call.arguments.forEach((a) => {
      next(a);
    });
    if (ts.isPropertyAccessExpression(callee)) next(callee.expression);
    const local = this.values.returnedExpressions(call);
    if (local) {
      local.forEach((r) => {
        next(r);
      });
      return;
    }
    // A helper of another file: its uses rooted at its parameters are the caller's arguments'
    // (`predict(model, x)` using `model.forward` uses the caller's `model`).
    const inner: ModuleUse[] = [];
    this.values.foreignReturns(call)?.forEach((r) => {
      next(r, cut, inner);
    });
    const found = this.program && inner.length > 0 ? foreignDeclaration(this.program, call) : undefined;
    const roots = found ? this.reachOf?.(found.fn.getSourceFile())?.parameterRoots(found.fn) : undefined;
    out.push(...inner.map((use) => this.rebase(use, call, roots)));
  }

  /** A use inside a model method rooted at its class's `this`, moved onto the receiver's path. */
  private rebaseThis(use: ModuleUse, returned: readonly ts.Expression[], receiver: ParamPath): ModuleUse {
    const cls = returned.length > 0 ? ts.findAncestor(returned[0], ts.isClassLike) : undefined;
    const symbol = cls?.name ? this.bindings.symbolOf(cls.name) : undefined;
    // A receiver that already names the class's `this` (its classRoot) meets the use as it is.
    if (
      !symbol ||
      use.module.root !== `this${String(this.bindings.idOf(symbol))}` ||
      receiver.root === use.module.root ||
      receiver.classRoot === use.module.root
    )
      return use;
    const module: ParamPath = {
      ...receiver,
      segments: [...receiver.segments, ...use.module.segments],
      partial: receiver.partial || use.module.partial,
      node: use.module.node,
    };
    return { ...use, module, inner: use.inner?.map((u) => this.rebaseThis(u, returned, receiver)) };
  }

  /** The path roots of a function's parameters (as this file's paths name them), by position. */
  parameterRoots(fn: ts.FunctionLikeDeclaration): ReadonlyMap<string, number> {
    const roots = new Map<string, number>();
    fn.parameters.forEach((param, k) => {
      const symbol = ts.isIdentifier(param.name) && !param.dotDotDotToken ? this.bindings.symbolOf(param.name) : undefined;
      if (symbol) roots.set(`v${String(this.bindings.idOf(symbol))}`, k);
    });
    return roots;
  }

  /** A helper's use rooted at one of its parameters, moved onto the path of the caller's argument. */
  private rebase(use: ModuleUse, call: ts.CallExpression, roots: ReadonlyMap<string, number> | undefined): ModuleUse {
    const k = roots?.get(use.module.root);
    const argument = k === undefined ? undefined : call.arguments.at(k);
    const base = argument ? this.paths.pathOf(argument) : undefined;
    if (!base) return use;
    const module: ParamPath = {
      ...base,
      segments: [...base.segments, ...use.module.segments],
      partial: base.partial || use.module.partial,
      node: call,
    };
    return { ...use, module, inner: use.inner?.map((u) => this.rebase(u, call, roots)) };
  }

  /** A parameter read directly (`x.matmul(this.w)`): a use of that parameter's path. */
  private parameterUse(expr: ts.Expression, cut: Cut, certain: boolean): ModuleUse | undefined {
    if (libraryClassOfExpression(this.checker, expr)?.kind !== 'parameter') return undefined;
    const path = this.paths.pathOf(expr);
    if (!path) return undefined;
    return {
      call: expr,
      module: path,
      cut: cut ?? (this.values.gradModeAt(expr) === 'off' ? { how: 'noGrad', node: expr } : undefined),
      certain,
      inner: undefined,
    };
  }

  /**
   * The expressions that may give a local name its value where it is read: its one definition;
   * else the last assignment that certainly runs before the read in the same function (`output =
   * netD.forward(fake)` replaces the earlier `output`); else its initializer and every `=` write.
   */
  private sourcesOf(identifier: ts.Identifier): ts.Expression[] {
    const def = this.bindings.definition(identifier);
    if (def?.kind === 'expression') return [def.expression];
    if (def?.kind === 'element') return [];
    // `const [main, side] = this.both(x)`: an element is computed from what the whole tuple was.
    const element = tupleElement(this.bindings, identifier);
    if (element) return [element.call];
    const symbol = this.bindings.symbolOf(identifier);
    const decl = symbol?.valueDeclaration;
    const assignments: { at: ts.Node; value: ts.Expression }[] = [];
    if (decl && ts.isVariableDeclaration(decl) && decl.initializer) assignments.push({ at: decl, value: decl.initializer });
    for (const write of symbol ? this.bindings.writesOf(symbol) : []) {
      if (ts.isBinaryExpression(write) && write.operatorToken.kind === ts.SyntaxKind.EqualsToken)
        assignments.push({ at: write, value: write.right });
    }
    const fn = enclosingFunction(identifier);
    let last: { at: ts.Node; value: ts.Expression } | undefined;
    for (const a of assignments) {
      if (a.at.getEnd() > identifier.getStart() || enclosingFunction(a.at) !== fn) continue;
      if (conditionalBetween(a.at, commonAncestor(a.at, identifier))) continue;
      if (!last || a.at.getStart() > last.at.getStart()) last = a;
    }
    // A write later in a loop around the read reaches it on the next iteration, unless `last` is in that loop too.
    if (!last) return assignments.map((a) => a.value);
    const lastWrite = last;
    const loopCarried = assignments.some((a) => {
      if (a.at.getStart() < identifier.getEnd() || enclosingFunction(a.at) !== fn) return false;
      for (let cur: ts.Node = commonAncestor(a.at, identifier); cur !== fn && !ts.isSourceFile(cur); cur = cur.parent) {
        if (isLoop(cur)) return !isAncestor(cur, lastWrite.at);
      }
      return false;
    });
    if (loopCarried) return assignments.map((a) => a.value);
    // Writes after `last` that may or may not run (`if (freeze) h = h.detach()`) reach the read too.
    const conditional = assignments.filter(
      (a) => a !== lastWrite && a.at.getStart() > lastWrite.at.getEnd() && a.at.getEnd() <= identifier.getStart(),
    );
    return [last.value, ...conditional.map((a) => a.value)];
  }
}

/** Every use, with the uses inside followed model methods, flattened. */
export function allUses(uses: readonly ModuleUse[]): ModuleUse[] {
  const out: ModuleUse[] = [];
  const add = (list: readonly ModuleUse[]): void => {
    for (const u of list) {
      out.push(u);
      if (u.inner) add(u.inner);
    }
  };
  add(uses);
  return out;
}

function overlaps(a: ParamPath, b: ParamPath): boolean {
  return isPrefix(a, b) || isPrefix(b, a);
}

/**
 * Whether a use certainly delivers gradient to the parameters under `target`: it is not cut, not
 * conditional, lies above `target`, and — for a followed model method — no part of its body that
 * touches `target` is cut or conditional unless another part certainly reaches it.
 */
export function certainlyReaches(use: ModuleUse, target: ParamPath): boolean {
  if (use.cut || !use.certain || !isPrefix(use.module, target)) return false;
  if (!use.inner) return true;
  const touching = use.inner.filter((u) => overlaps(u.module, target));
  if (touching.every((u) => !u.cut && u.certain)) return true;
  return use.inner.some((u) => certainlyReaches(u, target));
}

/**
 * Whether a use may deliver gradient to some parameter under `target` (or above it). A followed
 * model method that never touches `target` does not (its body is what the call computes).
 */
export function mayReach(use: ModuleUse, target: ParamPath): boolean {
  if (use.cut || !overlaps(use.module, target)) return false;
  if (!use.inner || isPrefix(target, use.module)) return true;
  return use.inner.some((u) => mayReach(u, target));
}

/**
 * Whether a backward may deliver gradient to parameters under `target`: a `loss.backward()` whose
 * reach may touch them (a trunk whose output is always detached never gets one), or the call of a
 * helper of another file that backpropagates (its reach is not followed: it may).
 */
/**
 * Whether the backward's walk saw a use of parameters overlapping `target` at all (a helper call of
 * another file that runs a backward: yes). Where it saw none, the backward gives them a gradient
 * only through something the walk does not see: a judgement that stays silent when no such backward
 * precedes may take that as no (a miss at worst).
 */
export function touchesBackward(reach: GradientReach, backward: ts.Node, target: ParamPath): boolean {
  if (!ts.isCallExpression(backward) || !ts.isPropertyAccessExpression(backward.expression) || backward.expression.name.text !== 'backward')
    return true;
  return allUses(reach.usesOf(backward)).some((use) => overlaps(use.module, target));
}

export function mayReachBackward(reach: GradientReach, backward: ts.Node, target: ParamPath): boolean {
  if (!ts.isCallExpression(backward) || !ts.isPropertyAccessExpression(backward.expression) || backward.expression.name.text !== 'backward')
    return true;
  const uses = allUses(reach.usesOf(backward));
  // A followed model method in whose body the walk found nothing (a tuple destructured inside it), or
  // no use touching `target` at all: how the loss is computed from it is not seen, so it may.
  const unseenInside = (use: ModuleUse): boolean => !use.cut && use.inner?.length === 0 && overlaps(use.module, target);
  return uses.some((use) => mayReach(use, target) || unseenInside(use)) || !uses.some((use) => overlaps(use.module, target));
}
