import { INPLACE_METHODS, OP_METADATA, OP_METHODS } from '@gradflow/autograd';
import ts from 'typescript';
import { getFileAnalysis, type FileAnalysis } from './file-analysis.js';
import { assignedTo, stripExpression } from './bindings.js';
import { isAncestor, returnedValues } from './syntax.js';
import type { OptimizerSite } from './file-index.js';
import type { ModulePaths, ParamPath } from './modules.js';
import { LIMITS } from './limits.js';
import { opOfMethod } from './library.js';
import { callsIntoOtherFiles, foreignDeclaration, isUserFile, mayNameUserClass } from './program-calls.js';

/**
 * Summaries of helpers declared in other files, asked at their call sites: what a call of
 * `sgdStep(params, lr)` from './utils.js' does, in the helper's own file's terms. This file owns
 * resolving a call to the helper's declaration and the facts a summary gives; each fact is
 * computed by the helper file's own analysis (cached per program and file), so a summary is the
 * same whichever caller asks.
 *
 * A helper's facts that depend on its caller (its grad mode) are left to the caller: the helper's
 * file stays silent when a caller in another file records (see Flow.gradModeAt), and the caller's
 * file reports at the call.
 */
export interface Helper {
  readonly declaration: ts.FunctionLikeDeclaration;
  readonly analysis: FileAnalysis;
  readonly name: string;
}

/** The helper a call runs, when it is a function with a body declared in another user file. */
export function helperOf(program: ts.Program, call: ts.CallExpression): Helper | undefined {
  const found = foreignDeclaration(program, call);
  const analysis = found ? getFileAnalysis(program, found.fn.getSourceFile()) : undefined;
  return found && analysis ? { declaration: found.fn, analysis, name: found.name } : undefined;
}

/** No `noGrad(…)` callback of the helper's own between its body and `node` (the caller's mode decides). */
export function withinNoGradFree(analysis: Pick<FileAnalysis, 'index'>, declaration: ts.Node, node: ts.Node): boolean {
  for (let cur = node.parent; cur !== declaration; cur = cur.parent) {
    if (ts.isCallExpression(cur) && analysis.index.libraryCalls.get(cur) === 'noGrad') return false;
  }
  return true;
}

/**
 * Whether a helper may clear gradients (a `zeroGrad()`, a `.grad = …` write, `.grad.zero_()`),
 * directly or through a helper of yet another file it calls. Which optimizer it clears is not
 * asked: a clearing helper makes the caller's loop one the rules stay silent about.
 */
export function mayClearGradients(helper: Helper, depth = 0): boolean {
  const { analysis, declaration } = helper;
  const inside = (node: ts.Node): boolean => isAncestor(declaration, node);
  if (analysis.index.gradWrites.some(inside)) return true;
  if (
    analysis.index.methodCalls.some(
      (m) =>
        inside(m.call) &&
        (m.method === 'zeroGrad' ||
          ((m.method === 'zero_' || m.method === 'fill_') && ts.isPropertyAccessExpression(m.receiver) && m.receiver.name.text === 'grad')),
    )
  )
    return true;
  if (depth >= LIMITS.helperDepth) return false;
  return callsIntoOtherFiles(analysis.program, analysis.sourceFile).some((call) => {
    const inner = inside(call) ? helperOf(analysis.program, call) : undefined;
    return inner !== undefined && mayClearGradients(inner, depth + 1);
  });
}

/** The caller's argument for each of a helper's parameters, by the parameter's symbol. */
export function argumentsByParameter(helper: Helper, call: ts.CallExpression): Map<ts.Symbol, ts.Expression> {
  const out = new Map<ts.Symbol, ts.Expression>();
  helper.declaration.parameters.forEach((param, k) => {
    const symbol = ts.isIdentifier(param.name) ? helper.analysis.bindings.symbolOf(param.name) : undefined;
    const argument = call.arguments.at(k);
    if (symbol && argument && !param.dotDotDotToken) out.set(symbol, argument);
  });
  return out;
}

/** The caller's argument an expression of the helper's body names (a parameter, through views, `detach()` and in-place methods). */
export function argumentOf(
  helper: Helper,
  byParameter: ReadonlyMap<ts.Symbol, ts.Expression>,
  expression: ts.Expression,
): ts.Expression | undefined {
  let expr = stripExpression(expression);
  for (let depth = 0; depth < LIMITS.identityDepth && ts.isCallExpression(expr); depth++) {
    const method = helper.analysis.values.methodCall(expr);
    if (!method || !sharesStorage(method.method)) return undefined;
    expr = stripExpression(method.receiver);
  }
  if (!ts.isIdentifier(expr)) return undefined;
  const symbol = helper.analysis.bindings.symbolOf(expr);
  return symbol ? byParameter.get(symbol) : undefined;
}

function sharesStorage(method: string): boolean {
  const op = OP_METHODS[method] as keyof typeof OP_METADATA | undefined;
  return method === 'detach' || method in INPLACE_METHODS || (op !== undefined && OP_METADATA[op].view === true);
}

/** What a helper's recorded op saves, in the caller's terms: one of its arguments, or the call's own result. */
export interface SavedThrough {
  readonly op: ts.CallExpression;
  readonly argument?: ts.Expression;
  readonly result?: true;
}

/**
 * What the recorded ops in a helper's body save for backward, instantiated at a call made with
 * recording on: an operand that is one of the helper's parameters is the caller's argument, and a
 * saved result the helper returns as it is is the call's own result. Whether an operand needs a
 * gradient is asked of the caller for its arguments (`needsGrad`) and of the helper's file for
 * the rest. The helper's temporaries are not the caller's to modify, and ops under the helper's own
 * `noGrad` record nothing.
 */
export function savesThrough(helper: Helper, call: ts.CallExpression, needsGrad: (argument: ts.Expression) => boolean): SavedThrough[] {
  const { analysis, declaration } = helper;
  const byParameter = argumentsByParameter(helper, call);
  const returned = new Set(returnedValues(declaration).map((e) => stripExpression(e)));
  const operandNeedsGrad = (expression: ts.Expression, depth = 0): boolean => {
    const expr = stripExpression(expression);
    const argument = ts.isIdentifier(expr) ? argumentOf(helper, byParameter, expr) : undefined;
    if (argument) return needsGrad(argument);
    if (analysis.values.evaluate(expr).requiresGrad === 'yes') return true;
    if (depth >= LIMITS.valueDepth || !ts.isCallExpression(expr)) return false;
    // An op of the helper on its parameters needs a gradient when one of its tensor operands does.
    const method = analysis.values.methodCall(expr);
    if (!method || !opOfMethod(method.method, expr) || method.method in INPLACE_METHODS) return false;
    return [method.receiver, ...expr.arguments].some((e) => analysis.values.isTensorExpression(e) && operandNeedsGrad(e, depth + 1));
  };
  const out: SavedThrough[] = [];
  for (const { call: op, method, receiver, receiverClass } of analysis.index.methodCalls) {
    if ((receiverClass.kind !== 'tensor' && receiverClass.kind !== 'parameter') || !isAncestor(declaration, op)) continue;
    const name = opOfMethod(method, op);
    if (!name || !withinNoGradFree(analysis, declaration, op)) continue;
    const meta = OP_METADATA[name];
    const operands: Record<string, ts.Expression | undefined> = {};
    meta.inputs.forEach((input, i) => {
      operands[input] = i === 0 ? receiver : op.arguments[i - 1];
    });
    for (const input of meta.inputs) {
      const operand = operands[input];
      if (!operand || !analysis.values.isTensorExpression(operand) || !operandNeedsGrad(operand)) continue;
      for (const savedName of meta.saves[input] ?? []) {
        if (savedName === 'result') {
          if (returned.has(op)) out.push({ op, result: true });
          continue;
        }
        const target = operands[savedName];
        const argument = target && analysis.values.isTensorExpression(target) ? argumentOf(helper, byParameter, target) : undefined;
        if (argument) out.push({ op, argument });
      }
    }
  }
  return out;
}

/** Tensor members that read metadata or cut the graph: a parameter used only through them does not flow into what the helper computes. */
const NON_FLOWING_MEMBERS = new Set([
  'detach',
  'shape',
  'dtype',
  'size',
  'dim',
  'numel',
  'item',
  'requiresGrad',
  'grad',
  'isLeaf',
  'version',
]);

/**
 * Whether the graph of the caller's `k`-th argument may flow into what a helper computes: some use
 * of the parameter in its body is not a `detach()`, a metadata read or under the helper's own
 * `noGrad`. Unknown shapes of use count as flowing.
 */
export function argumentFlowsThrough(helper: Helper, k: number): boolean {
  return parameterFlows(helper.analysis, helper.declaration, k);
}

/** Whether parameter `k` of a function (in the file `analysis` describes) is used with gradients in its body (see argumentFlowsThrough). */
export function parameterFlows(
  analysis: Pick<FileAnalysis, 'bindings' | 'index'>,
  declaration: ts.FunctionLikeDeclaration,
  k: number,
): boolean {
  const param = declaration.parameters.at(k);
  if (!param) return declaration.parameters.some((p) => p.dotDotDotToken !== undefined);
  if (!ts.isIdentifier(param.name)) return true;
  const symbol = analysis.bindings.symbolOf(param.name);
  if (!symbol || !declaration.body) return true;
  let flows = false;
  const visit = (node: ts.Node): void => {
    if (flows) return;
    if (ts.isIdentifier(node) && node !== param.name && analysis.bindings.symbolOf(node) === symbol) {
      const parent = node.parent;
      const cut = ts.isPropertyAccessExpression(parent) && parent.expression === node && NON_FLOWING_MEMBERS.has(parent.name.text);
      if (!cut && withinNoGradFree(analysis, declaration, node)) flows = true;
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(declaration.body);
  return flows;
}

/**
 * The `backward()` calls a helper makes on what it is given, instantiated at a call: `backprop(loss)`
 * whose body runs `loss.backward()` backpropagates the caller's `loss`. Only a backward the body
 * reaches on every call counts (not under a condition, a loop, a `try` or after an early return).
 */
export function backwardsThrough(
  helper: Helper,
  call: ts.CallExpression,
): { argument: ts.Expression; backward: ts.CallExpression; options: ts.Expression | undefined }[] {
  const { analysis, declaration } = helper;
  const byParameter = argumentsByParameter(helper, call);
  const out: { argument: ts.Expression; backward: ts.CallExpression; options: ts.Expression | undefined }[] = [];
  for (const { call: backward, method, receiver, receiverClass } of analysis.index.methodCalls) {
    if (method !== 'backward' || (receiverClass.kind !== 'tensor' && receiverClass.kind !== 'parameter')) continue;
    if (!isAncestor(declaration, backward) || !runsOnEveryCall(declaration, backward)) continue;
    const argument = argumentOf(helper, byParameter, receiver);
    if (argument) out.push({ argument, backward, options: backward.arguments.at(1) });
  }
  return out;
}

/** Whether a function's body reaches `node` whenever it runs: no branch, loop, `try`, nested function or earlier `return` on the way. */
function runsOnEveryCall(fn: ts.FunctionLikeDeclaration, node: ts.Node): boolean {
  const body = fn.body;
  if (!body) return false;
  for (let cur = node.parent; cur !== body; cur = cur.parent) {
    if (
      ts.isIfStatement(cur) ||
      ts.isConditionalExpression(cur) ||
      ts.isSwitchStatement(cur) ||
      ts.isTryStatement(cur) ||
      ts.isIterationStatement(cur, false) ||
      ts.isFunctionLike(cur) ||
      (ts.isBinaryExpression(cur) &&
        [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken].includes(
          cur.operatorToken.kind,
        ))
    )
      return false;
  }
  let earlyExit = false;
  const visit = (n: ts.Node): void => {
    if (earlyExit || n.getStart() >= node.getStart() || ts.isFunctionLike(n)) return;
    if (ts.isReturnStatement(n) || ts.isThrowStatement(n)) earlyExit = true;
    else ts.forEachChild(n, visit);
  };
  ts.forEachChild(body, visit);
  return !earlyExit;
}

/**
 * Which of the caller's optimizers a clearing helper clears, instantiated at a call: the arguments
 * whose `zeroGrad()` its body calls (a parameter, or each element of a rest parameter it iterates),
 * or 'any' when it clears something else (a `.grad` write, a module's or a field's `zeroGrad()`, a
 * clearing helper of yet another file). Empty when it clears nothing.
 */
export function clearsThrough(helper: Helper, call: ts.CallExpression): 'any' | ts.Expression[] {
  if (!mayClearGradients(helper)) return [];
  const { analysis, declaration } = helper;
  const inside = (node: ts.Node): boolean => isAncestor(declaration, node);
  if (analysis.index.gradWrites.some(inside)) return 'any';
  const byParameter = argumentsByParameter(helper, call);
  const out: ts.Expression[] = [];
  let clearsNothingElse = true;
  for (const m of analysis.index.methodCalls) {
    if (!inside(m.call)) continue;
    if ((m.method === 'zero_' || m.method === 'fill_') && ts.isPropertyAccessExpression(m.receiver) && m.receiver.name.text === 'grad')
      return 'any';
    if (m.method !== 'zeroGrad') continue;
    if (m.receiverClass.kind !== 'optimizer') return 'any';
    const argument = argumentOf(helper, byParameter, m.receiver);
    const rest = argument ? undefined : restArguments(helper, call, m.receiver);
    if (argument) out.push(argument);
    else if (rest) out.push(...rest);
    else clearsNothingElse = false;
  }
  // Clearing through yet another file's helper, or a zeroGrad() on something not given: any.
  return clearsNothingElse && out.length > 0 ? out : 'any';
}

/** `for (const opt of optimizers)` over a rest parameter `...optimizers`: the caller's arguments from its position on. */
function restArguments(helper: Helper, call: ts.CallExpression, receiver: ts.Expression): ts.Expression[] | undefined {
  const expr = stripExpression(receiver);
  const def = ts.isIdentifier(expr) ? helper.analysis.bindings.definition(expr) : undefined;
  const of = def?.kind === 'element' ? stripExpression(def.of) : undefined;
  if (!of || !ts.isIdentifier(of)) return undefined;
  const symbol = helper.analysis.bindings.symbolOf(of);
  const k = helper.declaration.parameters.findIndex(
    (p) => p.dotDotDotToken !== undefined && ts.isIdentifier(p.name) && helper.analysis.bindings.symbolOf(p.name) === symbol,
  );
  return k >= 0 ? call.arguments.slice(k) : undefined;
}

/** What a helper does in a training step, for loops that call it: it runs a `backward()`, and which optimizers it steps ('unknown': one it does not get from its caller). */
export function stepsThrough(helper: Helper, call: ts.CallExpression): { backward: boolean; steps: (ts.Expression | 'unknown')[] } {
  const { analysis, declaration } = helper;
  const byParameter = argumentsByParameter(helper, call);
  let backward = false;
  const steps: (ts.Expression | 'unknown')[] = [];
  for (const m of analysis.index.methodCalls) {
    if (!isAncestor(declaration, m.call)) continue;
    if (m.method === 'backward' && (m.receiverClass.kind === 'tensor' || m.receiverClass.kind === 'parameter')) backward = true;
    if (m.method === 'step' && m.receiverClass.kind === 'optimizer') steps.push(argumentOf(helper, byParameter, m.receiver) ?? 'unknown');
  }
  return { backward, steps };
}

/**
 * What an optimizer a helper builds holds, instantiated at a call: each held path rooted at one of
 * the helper's parameters is moved onto the path of the caller's argument. Undefined (unknown) when
 * it holds anything else.
 */
export function heldThrough(
  helper: Helper,
  site: OptimizerSite,
  call: ts.CallExpression | ts.NewExpression,
  callerPaths: ModulePaths,
): ParamPath[] | undefined {
  const held = helper.analysis.training.held(site);
  if (!held) return undefined;
  const roots = helper.analysis.reach.parameterRoots(helper.declaration);
  // A constructor's `this` is the instance the caller holds (`const trainer = new Trainer(model)`).
  const cls = ts.isConstructorDeclaration(helper.declaration) ? helper.declaration.parent : undefined;
  const classSymbol = cls?.name ? helper.analysis.bindings.symbolOf(cls.name) : undefined;
  const thisRoot = classSymbol ? `this${String(helper.analysis.bindings.idOf(classSymbol))}` : undefined;
  const instance = thisRoot ? assignedTo(call) : undefined;
  const out: ParamPath[] = [];
  for (const path of held) {
    const k = roots.get(path.root);
    const argument = k === undefined ? undefined : call.arguments?.at(k);
    const base = argument ? callerPaths.pathOf(argument) : path.root === thisRoot && instance ? callerPaths.pathOf(instance) : undefined;
    if (!base) return undefined;
    out.push({ ...base, segments: [...base.segments, ...path.segments], partial: base.partial || path.partial, node: call });
  }
  return out;
}

/**
 * The constructor a `new` of a class declared in another user file runs, when the class builds
 * exactly one optimizer (in its constructor or a field initializer): `new Trainer(model)`.
 */
export function constructedOptimizer(program: ts.Program, expr: ts.NewExpression): { helper: Helper; site: OptimizerSite } | undefined {
  // `new nn.Linear(…)`: no user file declares, imports or exports a class by that name.
  const callee = expr.expression;
  const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : undefined;
  if (name !== undefined && !mayNameUserClass(program, name)) return undefined;
  const checker = program.getTypeChecker();
  let symbol = checker.getSymbolAtLocation(expr.expression);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const cls = symbol?.valueDeclaration;
  if (!cls || !ts.isClassDeclaration(cls) || cls.getSourceFile() === expr.getSourceFile() || !isUserFile(program, cls.getSourceFile()))
    return undefined;
  const ctor = cls.members.find((m): m is ts.ConstructorDeclaration => ts.isConstructorDeclaration(m) && m.body !== undefined);
  const analysis = ctor ? getFileAnalysis(program, cls.getSourceFile()) : undefined;
  if (!ctor || !analysis) return undefined;
  const built = analysis.index.optimizers.filter(
    (o) =>
      isAncestor(ctor, o.node) ||
      cls.members.some((m) => ts.isPropertyDeclaration(m) && m.initializer !== undefined && isAncestor(m.initializer, o.node)),
  );
  if (built.length !== 1) return undefined;
  return { helper: { declaration: ctor, analysis, name: cls.name?.text ?? 'constructor' }, site: built[0] };
}
