import ts from 'typescript';
import { stripExpression } from './analysis/bindings.js';
import { createRule, onProgram, reportAt, textOf } from './util/create-rule.js';
import { insertStatementAfter, statementOf } from './util/fixes.js';

export default createRule({
  name: 'no-nonleaf-grad',
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow reading .grad of a non-leaf tensor that did not call retainGrad()',
      recommended: 'warn',
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [],
    defaultOptions: [],
    messages: {
      nonLeafGrad:
        '`{{tensor}}` is not a leaf (computed by `{{origin}}`): backward() does not keep its gradient, so `{{tensor}}.grad` is null. Call `{{tensor}}.retainGrad()` before backward(), or read the gradient of a leaf.',
      retainGrad: 'Call `{{tensor}}.retainGrad()` right after it is computed',
    },
  },
  create(context) {
    return onProgram(context, ({ index, values, bindings, sourceFile, identity }) => {
      const retained = new Set(index.methodCalls.filter((m) => m.method === 'retainGrad').map((m) => identity.identity(m.receiver)));
      for (const read of index.gradReads) {
        const target = stripExpression(read.expression);
        const value = values.evaluate(target);
        if (value.leaf !== 'no' || value.requiresGrad !== 'yes') continue;
        const key = identity.identity(target);
        // A tensor whose storage has no name (`model.parameters()[2].transpose(0, 1)`) is taken as retained
        // when the file retains anything.
        if (retained.has(key) || (key === undefined && retained.size > 0)) continue;
        // Computed in another file (a helper's return), which may retain it there: stay silent then.
        const originFile = value.origin?.getSourceFile();
        if (originFile && originFile !== sourceFile && originFile.text.includes('retainGrad')) continue;
        const tensor = textOf(target);
        const def = ts.isIdentifier(target) ? bindings.definition(target) : undefined;
        const defStatement = def?.kind === 'expression' && ts.isVariableDeclaration(def.at) ? statementOf(def.at) : undefined;
        reportAt(context, {
          node: read,
          messageId: 'nonLeafGrad',
          data: { tensor, origin: value.origin ? textOf(value.origin) : 'an op' },
          suggest: defStatement
            ? [
                {
                  messageId: 'retainGrad',
                  data: { tensor },
                  fix: (fixer) => insertStatementAfter(fixer, defStatement, `${tensor}.retainGrad();`),
                },
              ]
            : [],
          related: value.origin ? [{ node: value.origin, message: `${tensor} is computed here (a non-leaf)` }] : [],
        });
      }
    });
  },
});
