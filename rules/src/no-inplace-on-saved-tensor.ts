import { INPLACE_METHODS } from '@gradflow/autograd';
import type ts from 'typescript';
import type { MethodCall } from './analysis/file-index.js';
import type { SavingSite } from './analysis/values.js';
import { isAncestor } from './analysis/flow.js';
import { createRule, onProgram, rangeOf, reportAt, textOf } from './util/create-rule.js';

export default createRule({
  name: 'no-inplace-on-saved-tensor',
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow in-place ops on a tensor that a recorded op saved for backward, before that backward',
      recommended: 'error',
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [],
    defaultOptions: [],
    messages: {
      modifiedSaved: '`{{tensor}}` was saved for backward by `{{op}}` (line {{line}}); `{{change}}` modifies it in place and bumps its version, so `{{backward}}` throws SAVED_TENSOR_MODIFIED at run time. Modify a clone, or do it after backward().',
      cloneOperand: 'Let `{{op}}` save a clone of `{{tensor}}`',
    },
  },
  create(context) {
    return onProgram(context, ({ index, values, training }) => {
      const isTensor = (m: MethodCall): boolean => m.receiverClass.kind === 'tensor' || m.receiverClass.kind === 'parameter';
      // Saved tensors by identity key, so each in-place write looks up only what it can match.
      const savedByKey = new Map<string, { op: SavingSite; saved: SavingSite['saved'][number] }[]>();
      for (const m of index.methodCalls) {
        const op = values.savedBy(m.call);
        for (const saved of op.saved) {
          const list = savedByKey.get(saved.key) ?? [];
          list.push({ op, saved });
          savedByKey.set(saved.key, list);
        }
      }
      const backwards = index.methodCalls.filter((m) => m.method === 'backward' && isTensor(m));
      // In-place writers: in-place tensor methods (one tensor) and optimizer.step() (every parameter it holds).
      const writers: { node: ts.CallExpression; keys: string[] }[] = [];
      for (const m of index.methodCalls) {
        if (m.method in INPLACE_METHODS && isTensor(m)) {
          const key = values.identity(m.receiver);
          if (key !== undefined) writers.push({ node: m.call, keys: [key] });
        } else if (m.method === 'step' && m.receiverClass.kind === 'optimizer') {
          // step() only moves parameters that have a gradient, so some backward must come first.
          if (!backwards.some((b) => training.mayFollow(b.call, m.call, true))) continue;
          const site = training.optimizerOf(m.receiver);
          const held = site ? training.held(site) : undefined;
          if (!held) continue;
          const prefixes = held.filter((p) => !p.partial).map((p) => [p.root, ...p.segments].join('.'));
          writers.push({ node: m.call, keys: [...savedByKey.keys()].filter((k) => prefixes.some((p) => k === p || k.startsWith(`${p}.`))) });
        }
      }
      for (const writer of writers) {
        let done = false;
        for (const { op, saved } of writer.keys.flatMap((k) => savedByKey.get(k) ?? [])) {
          if (done || op.site === writer.node || !training.mayFollow(op.site, writer.node)) continue;
          // The saved-set lookup is memoized and cheap; the order question is asked only of backwards that read it.
          const backward = backwards.find((b) => values.savingSites(b.receiver).has(op.site) && training.mayFollow(writer.node, b.call));
          if (!backward) continue;
          done = true;
          const savedExpression = saved.expression;
          const tensor = saved.label ?? textOf(savedExpression);
          const canClone = saved.label === undefined && isAncestor(op.site, savedExpression);
          const data = {
            tensor,
            op: textOf(op.site),
            line: String(op.site.getSourceFile().getLineAndCharacterOfPosition(op.site.getStart()).line + 1),
            change: textOf(writer.node),
            backward: textOf(backward.call),
          };
          reportAt(context, {
            node: writer.node,
            messageId: 'modifiedSaved',
            data,
            suggest: canClone ? [{ messageId: 'cloneOperand', data, fix: (fixer) => fixer.insertTextAfterRange(rangeOf(savedExpression), '.clone()') }] : [],
            related: [
              { node: op.site, message: `${tensor} is saved for backward here` },
              { node: backward.call, message: 'backward reads the saved tensor here' },
            ],
          });
        }
      }
    });
  },
});
