import { INPLACE_METHODS } from '@gradflow/autograd';
import ts from 'typescript';
import { stripExpression } from './bindings.js';
import { isAncestor } from './syntax.js';
import { isModulePrefix, modulePrefixSegments, type ModulePaths, type ParamPath } from './modules.js';
import { argumentOf, argumentsByParameter, withinNoGradFree, type Helper } from './summaries.js';

/**
 * What a helper of another file writes, instantiated at a call: in-place ops on leaves and on what
 * it is given, and the `requiresGrad` flags it sets (freezes). Resolving the helper and the shared
 * parameter-to-argument plumbing live in summaries.ts.
 */

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
 * A helper's in-place calls, outside its own noGrad, on what a call gives it: a parameter itself
 * (`shrink_(t)` with `t.mul_(…)`), or each element of an iterable parameter (`for (const p of params)
 * p.sub_(…)`, with `element`). Whether the caller's argument is a leaf that requires grad is the
 * caller's to ask.
 */
export function inplaceOnArguments(
  helper: Helper,
  call: ts.CallExpression,
): { readonly op: ts.CallExpression; readonly argument: ts.Expression; readonly element: boolean }[] {
  const { analysis, declaration } = helper;
  const byParameter = argumentsByParameter(helper, call);
  const out: { op: ts.CallExpression; argument: ts.Expression; element: boolean }[] = [];
  for (const { call: op, method, receiver, receiverClass } of analysis.index.methodCalls) {
    if (!(method in INPLACE_METHODS) || (receiverClass.kind !== 'tensor' && receiverClass.kind !== 'parameter')) continue;
    if (!isAncestor(declaration, op) || !withinNoGradFree(analysis, declaration, op)) continue;
    const expr = stripExpression(receiver);
    if (!ts.isIdentifier(expr)) continue;
    const symbol = analysis.bindings.symbolOf(expr);
    const direct = symbol ? byParameter.get(symbol) : undefined;
    if (direct) {
      out.push({ op, argument: direct, element: false });
      continue;
    }
    const def = analysis.bindings.definition(expr);
    const of = def?.kind === 'element' ? stripExpression(def.of) : undefined;
    const iterable = of && ts.isIdentifier(of) ? analysis.bindings.symbolOf(of) : undefined;
    const argument = iterable ? byParameter.get(iterable) : undefined;
    if (argument) out.push({ op, argument, element: true });
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
    // `freezeByName(model, '0.')`: a name prefix given as an argument names the module it freezes.
    const prefixArgument = freeze.prefixParameter === undefined ? undefined : call.arguments.at(freeze.prefixParameter);
    const prefix =
      prefixArgument && ts.isStringLiteralLike(prefixArgument) && isModulePrefix(prefixArgument.text)
        ? modulePrefixSegments(prefixArgument.text)
        : undefined;
    for (const path of freeze.paths) {
      const argument = rootToArgument.get(path.root);
      const base = argument ? callerPaths.pathOf(argument) : undefined;
      if (!argument || !base) continue;
      const segments = [...base.segments, ...path.segments, ...(prefix ?? [])];
      paths.push({ ...base, segments, partial: base.partial || (path.partial && !prefix), node: call });
      writes.push(freeze.write.node);
      labels.push([argument.getText(), ...path.segments, ...(prefix ?? [])].join('.'));
    }
  }
  return { paths, writes, labels };
}

/** The caller's arguments a helper modifies in place (a parameter of the helper, or a view of one), with the in-place call in its body. */
export function inplaceThrough(helper: Helper, call: ts.CallExpression): { argument: ts.Expression; write: ts.CallExpression }[] {
  const { analysis, declaration } = helper;
  const byParameter = argumentsByParameter(helper, call);
  const out: { argument: ts.Expression; write: ts.CallExpression }[] = [];
  for (const { call: write, method, receiver, receiverClass } of analysis.index.methodCalls) {
    if (!(method in INPLACE_METHODS) || (receiverClass.kind !== 'tensor' && receiverClass.kind !== 'parameter')) continue;
    if (!isAncestor(declaration, write)) continue;
    const argument = argumentOf(helper, byParameter, receiver);
    if (argument) out.push({ argument, write });
  }
  return out;
}

/**
 * The caller's tensors a helper sets `requiresGrad` on, instantiated at a call: a parameter it
 * writes, or each element of an array literal the caller passes for a parameter it iterates
 * (`for (const t of tensors) t.requiresGrad = false`), or the iterable itself (`iterated`) when it is not a
 * literal (`freezeAll(teacher.parameters())`). With the write in its body and the flag.
 */
export function requiresGradWritesThrough(
  helper: Helper,
  call: ts.CallExpression,
): { tensor: ts.Expression; iterated?: true; write: ts.Node; flag: boolean | undefined }[] {
  const { analysis, declaration } = helper;
  const byParameter = argumentsByParameter(helper, call);
  const out: { tensor: ts.Expression; iterated?: true; write: ts.Node; flag: boolean | undefined }[] = [];
  for (const write of analysis.index.requiresGradWrites) {
    if (!isAncestor(declaration, write.node)) continue;
    const direct = argumentOf(helper, byParameter, write.target);
    if (direct) {
      out.push({ tensor: direct, write: write.node, flag: write.flag });
      continue;
    }
    const target = stripExpression(write.target);
    const def = ts.isIdentifier(target) ? analysis.bindings.definition(target) : undefined;
    const iterable = def?.kind === 'element' && !def.pairValue ? argumentOf(helper, byParameter, def.of) : undefined;
    const literal = iterable ? stripExpression(iterable) : undefined;
    if (literal && ts.isArrayLiteralExpression(literal)) {
      for (const element of literal.elements)
        if (!ts.isSpreadElement(element)) out.push({ tensor: element, write: write.node, flag: write.flag });
    } else if (iterable) out.push({ tensor: iterable, iterated: true, write: write.node, flag: write.flag });
  }
  return out;
}
