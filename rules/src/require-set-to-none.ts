import ts from 'typescript';
import { pathsOverlap } from './analysis/modules.js';
import { createRule, onProgram, reportAt, textOf, type Related } from './util/create-rule.js';
import { propertyOf, setOption } from './util/fixes.js';

export default createRule({
  name: 'require-set-to-none',
  meta: {
    type: 'problem',
    docs: {
      description: 'Require zeroGrad({ setToNone: true }) on stateful optimizers whose parameters can stop receiving gradients',
      recommended: true,
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [],
    defaultOptions: [],
    messages: {
      zeroFilled: '`{{optimizer}}` ({{kind}}) holds parameters whose gradient flow is cut ({{cut}}): zeroGrad() fills their gradients with zeros instead of null, and step() still moves parameters with a zero gradient through {{mechanism}}. Use zeroGrad({ setToNone: true }) so step() skips them.',
      setToNone: 'Use zeroGrad({ setToNone: true })',
    },
  },
  create(context) {
    return onProgram(context, ({ index, training }) => {
      for (const { call, method, receiver, receiverClass } of index.methodCalls) {
        if (method !== 'zeroGrad' || receiverClass.kind !== 'optimizer') continue;
        const setToNone = propertyOf(call.arguments.at(0), 'setToNone');
        if (setToNone && setToNone.kind !== ts.SyntaxKind.FalseKeyword) continue;
        if (call.arguments.length > 0 && !ts.isObjectLiteralExpression(call.arguments[0])) continue;
        const site = training.optimizerOf(receiver);
        if (!site || training.movesOnZeroGrad(site) !== true) continue;
        const held = training.held(site);
        if (!held) continue;
        const related: Related[] = [{ node: site.node, message: `${textOf(receiver)} is built here` }];
        const cutDescriptions: string[] = [];
        // A parameter has a gradient to zero-fill only if backward reached it before it was cut.
        const backwards = index.methodCalls.filter((m) => m.method === 'backward').map((m) => m.call);
        for (const { freeze } of training.freezesOf(site)) {
          if (!backwards.some((b) => training.mayFollow(b, freeze.write.node, true))) continue;
          cutDescriptions.push(`frozen at line ${lineOf(freeze.write.node)}`);
          related.push({ node: freeze.write.node, message: 'parameters it holds are frozen here' });
        }
        for (const cut of training.cuts()) {
          if (!cut.sometimes || !held.some((p) => pathsOverlap(p, cut.module))) continue;
          cutDescriptions.push(`${cut.how === 'noGrad' ? 'noGrad' : 'detach()'} at line ${lineOf(cut.node)}`);
          related.push({ node: cut.node, message: `${textOf(cut.forward.expression)} runs without gradient flowing back here` });
        }
        if (cutDescriptions.length === 0) continue;
        reportAt(context, {
          node: call,
          messageId: 'zeroFilled',
          data: {
            optimizer: textOf(receiver),
            kind: site.className,
            cut: cutDescriptions.join(', '),
            mechanism: site.className === 'Adam' || site.className === 'AdamW' ? "Adam's moment estimates" + (site.className === 'AdamW' ? ' and weight decay' : '') : 'momentum or weight decay',
          },
          suggest: [{ messageId: 'setToNone', fix: (fixer) => setOption(fixer, call, 0, 'setToNone', 'true') ?? null }],
          related,
        });
      }
    });
  },
});

function lineOf(node: ts.Node): string {
  return String(node.getSourceFile().getLineAndCharacterOfPosition(node.getStart()).line + 1);
}
