import { INPLACE_METHODS } from '@gradflow/autograd';
import ts from 'typescript';
import { getFileAnalysis, type FileAnalysis } from './file-analysis.js';
import { isAncestor } from './flow.js';
import type { ModulePaths, ParamPath } from './modules.js';
import { LIMITS } from './limits.js';
import { callsIntoOtherFiles, foreignDeclaration } from './program-calls.js';

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

/**
 * In-place ops in the helper's body on leaf tensors that require grad (parameters it is given or
 * reads), not wrapped in `noGrad` inside the helper: each throws LEAF_INPLACE when the helper is
 * called with recording on.
 */
export function inplaceOnLeaves(helper: Helper): readonly ts.CallExpression[] {
  const { analysis, declaration } = helper;
  const out: ts.CallExpression[] = [];
  for (const { call, method, receiver, receiverClass } of analysis.index.methodCalls) {
    if (!(method in INPLACE_METHODS) || (receiverClass.kind !== 'tensor' && receiverClass.kind !== 'parameter')) continue;
    // Only the helper's own noGrad counts here: the caller's mode is the caller's to check.
    if (!isAncestor(declaration, call) || !withinNoGradFree(analysis, declaration, call)) continue;
    const value = analysis.values.evaluate(receiver);
    if (value.leaf === 'yes' && value.requiresGrad === 'yes') out.push(call);
  }
  return out;
}

/**
 * The freezes (`requiresGrad = false`) a helper makes on what it is given, instantiated at a call:
 * `freezeBackbone(model)` whose body freezes `model.backbone.parameters()` freezes the caller's
 * `model.backbone`. A freeze of something the helper does not get from its parameters (a global of
 * its own file) is not the caller's to see.
 */
export function freezesThrough(
  helper: Helper,
  call: ts.CallExpression,
  callerPaths: ModulePaths,
  flag = false,
): { paths: ParamPath[]; writes: ts.Node[]; labels: string[] } {
  const { analysis, declaration } = helper;
  const rootToArgument = new Map<string, ts.Expression>();
  declaration.parameters.forEach((param, k) => {
    const symbol = ts.isIdentifier(param.name) ? analysis.bindings.symbolOf(param.name) : undefined;
    const argument = call.arguments.at(k);
    if (symbol && argument) rootToArgument.set(`v${String(analysis.bindings.idOf(symbol))}`, argument);
  });
  // A method's `this` is the call's receiver (`trainer.freezeBackbone()` freezes trainer's fields).
  const cls = ts.isMethodDeclaration(declaration) && ts.isClassLike(declaration.parent) ? declaration.parent : undefined;
  const classSymbol = cls?.name ? analysis.bindings.symbolOf(cls.name) : undefined;
  if (classSymbol && ts.isPropertyAccessExpression(call.expression))
    rootToArgument.set(`this${String(analysis.bindings.idOf(classSymbol))}`, call.expression.expression);
  const paths: ParamPath[] = [];
  const writes: ts.Node[] = [];
  const labels: string[] = [];
  const freezes = flag ? analysis.training.unfreezes() : analysis.training.freezes();
  for (const freeze of freezes) {
    if (!isAncestor(declaration, freeze.write.node)) continue;
    for (const path of freeze.paths) {
      const argument = rootToArgument.get(path.root);
      const base = argument ? callerPaths.pathOf(argument) : undefined;
      if (!argument || !base) continue;
      paths.push({ ...base, segments: [...base.segments, ...path.segments], partial: base.partial || path.partial, node: call });
      writes.push(freeze.write.node);
      labels.push([argument.getText(), ...path.segments].join('.'));
    }
  }
  return { paths, writes, labels };
}

/** No `noGrad(…)` callback of the helper's own between its body and `node` (the caller's mode decides). */
function withinNoGradFree(analysis: FileAnalysis, declaration: ts.Node, node: ts.Node): boolean {
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
