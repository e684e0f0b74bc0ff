import ts from 'typescript';
import { type Bindings, propertyOf, stripExpression } from './analysis/bindings.js';
import { enclosingFunction } from './analysis/syntax.js';
import { CREATION_FUNCTIONS } from './analysis/library.js';
import { callsIntoOtherFiles } from './analysis/program-calls.js';
import { requiresGradWritesThrough } from './analysis/helper-writes.js';
import { helperOf } from './analysis/summaries.js';
import { createRule, onProgram, rangeOf, reportAt, textOf } from './util/create-rule.js';
import { statementOf } from './util/fixes.js';

export default createRule({
  name: 'valid-requires-grad',
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow setting requiresGrad on a non-leaf tensor or requiring grad on an integer tensor',
      recommended: 'error',
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [],
    defaultOptions: [],
    messages: {
      nonLeaf:
        '`{{tensor}}` is not a leaf (it was computed by `{{origin}}`): setting requiresGrad to false on it throws NONLEAF_REQUIRES_GRAD at run time. Use `.detach()` to stop gradients here.',
      nonLeafThrough:
        '`{{helper}}` sets requiresGrad to false on `{{tensor}}`, which is not a leaf (it was computed by `{{origin}}`): this throws NONLEAF_REQUIRES_GRAD at run time. Pass `{{tensor}}.detach()`, or detach it where it is computed.',
      integer:
        '`{{tensor}}` is an int32 tensor: requiring grad on it throws DTYPE_REQUIRES_GRAD at run time. Only float32/float64 tensors can require gradients.',
      useDetach: 'Detach `{{tensor}}` where it is computed instead',
      useFloat: "Create it with dtype 'float32'",
      detachArgument: 'Pass `{{tensor}}.detach()`',
    },
  },
  create(context) {
    return onProgram(context, ({ index, values, bindings, program, sourceFile }) => {
      for (const write of index.requiresGradWrites) {
        const value = values.evaluate(write.target);
        const tensor = textOf(stripExpression(write.target));
        if (write.flag === false && value.leaf === 'no' && value.requiresGrad === 'yes') {
          const target = stripExpression(write.target);
          const def = ts.isIdentifier(target) ? bindings.definition(target) : undefined;
          const statement = statementOf(write.node);
          const canDetach =
            def?.kind === 'expression' &&
            ts.isVariableDeclaration(def.at) &&
            value.origin === stripExpression(def.expression) &&
            statement !== undefined &&
            ts.isExpressionStatement(statement) &&
            statement.expression === write.node &&
            // Detached where it is computed, a tensor a later backward() goes through leaves that
            // backward with no graph (NO_GRAD_FN): offered only when nothing reads it on the way there.
            !(ts.isIdentifier(target) && readLaterInBackwardFunction(target, write.node, bindings));
          reportAt(context, {
            node: write.node,
            messageId: 'nonLeaf',
            data: { tensor, origin: value.origin ? textOf(value.origin) : 'an op' },
            suggest: canDetach
              ? [
                  {
                    messageId: 'useDetach',
                    data: { tensor },
                    fix: (fixer) => [
                      fixer.insertTextAfterRange(rangeOf(def.expression), '.detach()'),
                      fixer.removeRange([statement.getFullStart(), statement.getEnd()]),
                    ],
                  },
                ]
              : [],
            related: value.origin ? [{ node: value.origin, message: `${tensor} is computed here` }] : [],
          });
        } else if (write.flag === true && value.integer && value.leaf === 'yes') {
          reportIntegerDtype(write.node, value.origin, tensor);
        }
      }
      // Helpers of other files that set requiresGrad = false on what they are given: the caller's tensor decides.
      for (const call of callsIntoOtherFiles(program, sourceFile)) {
        const helper = helperOf(program, call);
        for (const { tensor, iterated, write, flag } of helper ? requiresGradWritesThrough(helper, call) : []) {
          if (iterated) continue;
          const value = values.evaluate(tensor);
          if (flag !== false || value.leaf !== 'no' || value.requiresGrad !== 'yes') continue;
          const name = textOf(stripExpression(tensor));
          reportAt(context, {
            node: call,
            messageId: 'nonLeafThrough',
            data: { tensor: name, helper: helper?.name ?? 'helper', origin: value.origin ? textOf(value.origin) : 'an op' },
            suggest: [
              {
                messageId: 'detachArgument',
                data: { tensor: name },
                fix: (fixer) => fixer.insertTextAfterRange(rangeOf(tensor), '.detach()'),
              },
            ],
            related: [
              { node: write, message: `${helper?.name ?? 'the helper'} sets requiresGrad here` },
              ...(value.origin ? [{ node: value.origin, message: `${name} is computed here` }] : []),
            ],
          });
          break;
        }
      }
      // `tensor(data, { dtype: 'int32', requiresGrad: true })` fails at creation.
      for (const [call, fn] of index.libraryCalls) {
        if (!CREATION_FUNCTIONS.has(fn)) continue;
        const value = values.evaluate(call);
        if (value.integer && value.requiresGrad === 'yes') reportIntegerDtype(call, call, textOf(call));
      }
    });

    function reportIntegerDtype(node: ts.Node, origin: ts.Node | undefined, tensor: string): void {
      const dtype =
        origin && ts.isCallExpression(origin)
          ? origin.arguments.map((a) => propertyOf(a, 'dtype')).find((d) => d !== undefined)
          : undefined;
      reportAt(context, {
        node,
        messageId: 'integer',
        data: { tensor },
        // A fix can only edit the file being linted: a creation in a helper's file gets none here.
        suggest:
          dtype && dtype.getSourceFile() === node.getSourceFile()
            ? [{ messageId: 'useFloat', fix: (fixer) => fixer.replaceTextRange(rangeOf(dtype), "'float32'") }]
            : [],
        related: origin && origin !== node ? [{ node: origin, message: `${tensor} is created as int32 here` }] : [],
      });
    }
  },
});

/** Whether `name` is read after `after` in a function that also calls `.backward()`. */
function readLaterInBackwardFunction(name: ts.Identifier, after: ts.Node, bindings: Bindings): boolean {
  const symbol = bindings.symbolOf(name);
  const fn = enclosingFunction(after);
  if (!symbol) return true;
  const seen = { read: false, backward: false };
  const visit = (n: ts.Node): void => {
    if (ts.isIdentifier(n) && n.getStart() > after.getEnd() && bindings.symbolOf(n) === symbol) seen.read = true;
    if (ts.isPropertyAccessExpression(n) && n.name.text === 'backward') seen.backward = true;
    ts.forEachChild(n, visit);
  };
  visit(fn);
  return seen.read && seen.backward;
}
