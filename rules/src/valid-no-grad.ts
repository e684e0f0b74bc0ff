import ts from 'typescript';
import { stripExpression } from './analysis/bindings.js';
import { typeOfExpression } from './analysis/declared-types.js';
import { isFunctionLike, returnedValues } from './analysis/syntax.js';
import { pathsOverlap, type ParamPath } from './analysis/modules.js';
import { allUses, mayReach } from './analysis/reach.js';
import { holderOf } from './analysis/training.js';
import { createRule, onProgram, rangeOf, reportAt, textOf } from './util/create-rule.js';

export default createRule({
  name: 'valid-no-grad',
  meta: {
    type: 'problem',
    docs: {
      description:
        'Disallow noGrad misuse: backward on results computed under noGrad, noGrad around part of a trained path, async callbacks',
      recommended: 'error',
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [],
    defaultOptions: [],
    messages: {
      asyncCallback:
        '{{fn}}() was given an async callback: grad mode is global and would leak across `await`, so this throws ASYNC_NO_GRAD at run time. Keep the callback synchronous and await outside it.',
      backwardOnNoGrad:
        '`{{tensor}}` is computed from values produced under noGrad, so it has no gradFn: `{{tensor}}.backward()` throws NO_GRAD_FN at run time. Compute the forward pass outside noGrad.',
      backwardOnDetached:
        '`{{tensor}}` is computed only from detached tensors (`{{detached}}`) and tensors that need no gradient, so it has no gradFn: `{{tensor}}.backward()` throws NO_GRAD_FN at run time. Keep the graph (drop the detach()) if this loss should train what it is computed from.',
      cutsTrainedPath:
        '`{{module}}` runs under noGrad here, but `{{optimizer}}` trains its parameters and its output reaches `{{consumer}}`: no gradient reaches `{{module}}`, so it is silently not trained. Run it outside noGrad, or freeze it and leave it out of the optimizer.',
      removeAsync: 'Make the callback synchronous (it does not await)',
      unwrapNoGrad: 'Run it outside noGrad',
      dropDetach: 'Drop the `.detach()`',
    },
  },
  create(context) {
    return onProgram(context, ({ index, values, training, checker, reach, paths, sourceFile }) => {
      for (const [call, fn] of index.libraryCalls) {
        if (fn !== 'noGrad' && fn !== 'enableGrad') continue;
        const callback = call.arguments.at(0);
        if (!callback || !returnsPromise(checker, callback)) continue;
        const fnNode = stripExpression(callback);
        const asyncKeyword = isFunctionLike(fnNode) ? fnNode.modifiers?.find((m) => m.kind === ts.SyntaxKind.AsyncKeyword) : undefined;
        const removable = asyncKeyword && isFunctionLike(fnNode) && !containsAwait(fnNode);
        reportAt(context, {
          node: call,
          messageId: 'asyncCallback',
          data: { fn },
          suggest: removable
            ? [{ messageId: 'removeAsync', fix: (fixer) => fixer.removeRange([asyncKeyword.getStart(), asyncKeyword.getEnd() + 1]) }]
            : [],
        });
      }

      for (const { call, method, receiver, receiverClass } of index.methodCalls) {
        if (method !== 'backward' || (receiverClass.kind !== 'tensor' && receiverClass.kind !== 'parameter')) continue;
        const value = values.evaluate(receiver);
        const site = value.computedUnderNoGrad;
        if (value.requiresGrad !== 'no') continue;
        const detach = value.detachedAt;
        if (!site && detach && ts.isCallExpression(detach) && ts.isPropertyAccessExpression(detach.expression)) {
          // Only from detached tensors (`model.forward(x).detach()`): the same NO_GRAD_FN.
          const inner = detach.expression.expression;
          reportAt(context, {
            node: call,
            messageId: 'backwardOnDetached',
            data: { tensor: textOf(stripExpression(receiver)), detached: textOf(detach) },
            suggest:
              detach.getSourceFile() === sourceFile
                ? [{ messageId: 'dropDetach', fix: (fixer) => fixer.replaceTextRange(rangeOf(detach), inner.getText()) }]
                : [],
            related: [{ node: detach, message: 'detached here' }],
          });
          continue;
        }
        if (!site) continue;
        const unwrapped =
          ts.isCallExpression(site) && index.libraryCalls.get(site) === 'noGrad' ? expressionBody(site.arguments.at(0)) : undefined;
        reportAt(context, {
          node: call,
          messageId: 'backwardOnNoGrad',
          data: { tensor: textOf(stripExpression(receiver)) },
          suggest: unwrapped
            ? [{ messageId: 'unwrapNoGrad', fix: (fixer) => fixer.replaceTextRange(rangeOf(site), unwrapped.getText()) }]
            : [],
          related: [{ node: site, message: 'computed under noGrad here' }],
        });
      }

      // noGrad around a module the optimizer trains, whose output reaches a backward that gives it no other gradient.
      const reported = new Set<ts.Node>();
      const backwards = index.methodCalls.filter(
        (m) => m.method === 'backward' && (m.receiverClass.kind === 'tensor' || m.receiverClass.kind === 'parameter'),
      );
      // A module some backward of the file may train (a second loss, a pretraining phase) is not cut off.
      const trainedElsewhere = (module: ParamPath, except: ts.Node): boolean =>
        backwards.some((b) => b.call !== except && allUses(reach.usesOf(b.call)).some((u) => mayReach(u, module)));
      for (const backward of backwards) {
        if (values.evaluate(backward.receiver).requiresGrad === 'no') continue; // NO_GRAD_FN, reported above
        const uses = allUses(reach.usesOf(backward.call));
        for (const use of uses) {
          if (use.cut?.how !== 'noGrad' || use.inner) continue; // a followed model method speaks through its body's uses
          const noGradCall =
            use.cut.viaNoGrad && ts.isCallExpression(use.cut.node) ? use.cut.node : enclosingNoGrad(use.call, index.libraryCalls);
          if (!noGradCall || reported.has(noGradCall)) continue;
          const optimizer = training.optimizerSites().find((o) => training.held(o)?.some((p) => pathsOverlap(p, use.module)));
          if (!optimizer || training.mayBeFrozen(use.module) || paths.holdsNoParameters(use.module.node as ts.Expression)) continue;
          if (trainedElsewhere(use.module, backward.call)) continue;
          // Another use in the same loss that may give the module a gradient, also in the other arm of a
          // branch: a module trained in some steps and run under noGrad in others (warm-up, then a linear
          // probe) is a schedule, not a cut.
          if (uses.some((other) => other !== use && mayReach(other, use.module))) continue;
          reported.add(noGradCall);
          const holder = holderOf(optimizer.node);
          const unwrapped = expressionBody(noGradCall.arguments.at(0));
          // A noGrad in another file (a model's forward in model.ts) is reported where this file acts: at the backward.
          const here = noGradCall.getSourceFile() === sourceFile;
          reportAt(context, {
            node: here ? noGradCall : backward.call,
            messageId: 'cutsTrainedPath',
            data: {
              module: textOf(use.module.node),
              optimizer: holder ? textOf(holder) : textOf(optimizer.node),
              consumer: textOf(backward.call),
            },
            suggest:
              unwrapped && here
                ? [{ messageId: 'unwrapNoGrad', fix: (fixer) => fixer.replaceTextRange(rangeOf(noGradCall), unwrapped.getText()) }]
                : [],
            related: [
              { node: optimizer.node, message: 'the optimizer that trains these parameters' },
              here
                ? { node: backward.call, message: 'the noGrad result reaches this backward' }
                : { node: noGradCall, message: `${textOf(use.module.node)} runs under noGrad here` },
            ],
          });
        }
      }
    });
  },
});

function returnsPromise(checker: ts.TypeChecker, callback: ts.Expression): boolean {
  const fn = stripExpression(callback);
  if (!isFunctionLike(fn)) {
    const signature = checker.getTypeAtLocation(callback).getCallSignatures().at(0);
    return isPromise(signature ? checker.getReturnTypeOfSignature(signature) : undefined);
  }
  if (fn.modifiers?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) return true;
  if (fn.type) return isPromise(checker.getTypeFromTypeNode(fn.type));
  // An inline callback returns what its return statements return: typing those is far cheaper than
  // typing the function (which infers its return type through the whole body's flow).
  return returnedValues(fn).some((returned) => isPromise(typeOfExpression(checker, returned)));
}

function isPromise(type: ts.Type | undefined): boolean {
  return type?.getSymbol()?.getName() === 'Promise';
}

function containsAwait(fn: ts.FunctionLikeDeclaration): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (ts.isAwaitExpression(n) || (ts.isForOfStatement(n) && n.awaitModifier)) found = true;
    else if (!isFunctionLike(n)) ts.forEachChild(n, visit);
  };
  if (fn.body) ts.forEachChild(fn.body, visit);
  return found;
}

/** `noGrad(() => expr)` → `expr`; undefined for block bodies. */
function expressionBody(callback: ts.Expression | undefined): ts.Expression | undefined {
  const fn = callback ? stripExpression(callback) : undefined;
  return fn && ts.isArrowFunction(fn) && !ts.isBlock(fn.body) ? fn.body : undefined;
}

function enclosingNoGrad(node: ts.Node, libraryCalls: ReadonlyMap<ts.CallExpression, string>): ts.CallExpression | undefined {
  for (let cur: ts.Node = node; !ts.isSourceFile(cur); cur = cur.parent) {
    if (ts.isCallExpression(cur) && cur !== node && libraryCalls.get(cur) === 'noGrad') return cur;
  }
  return undefined;
}
