import { INPLACE_METHODS } from '@gradflow/autograd';
import { basename } from 'node:path';
import ts from 'typescript';
import { stripExpression } from './analysis/bindings.js';
import { callsIntoOtherFiles } from './analysis/program-calls.js';
import { inplaceOnArguments, inplaceOnLeaves } from './analysis/helper-writes.js';
import { helperOf } from './analysis/summaries.js';
import { pathsOverlap, type ParamPath } from './analysis/modules.js';
import { libraryClassOfExpression } from './analysis/library.js';
import { createRule, onProgram, rangeOf, reportAt, textOf } from './util/create-rule.js';
import { indentOf, libraryName } from './util/fixes.js';

export default createRule({
  name: 'no-leaf-inplace',
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow in-place ops on leaf tensors that require grad outside noGrad',
      recommended: 'error',
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [],
    defaultOptions: [],
    messages: {
      leafInplace:
        '`{{tensor}}` is a leaf tensor that requires grad: `{{method}}` on it in grad mode throws LEAF_INPLACE at run time. Update it inside noGrad(() => …), as optimizers do.',
      helperInplace:
        '`{{helper}}` runs `{{method}}` on `{{tensor}}`, a leaf tensor that requires grad ({{where}}): called here with recording on, it throws LEAF_INPLACE at run time. Call it inside noGrad(() => …).',
      wrapInNoGrad: 'Run `{{method}}` inside noGrad(() => …)',
      useDetach: 'Apply `{{method}}` to `{{tensor}}.detach()` (same storage, not recorded)',
    },
  },
  create(context) {
    return onProgram(context, ({ index, values, sourceFile, paths, training, program, flow, identity, checker, bindings }) => {
      for (const { call, method, receiver, receiverClass } of index.methodCalls) {
        if (!(method in INPLACE_METHODS) || (receiverClass.kind !== 'tensor' && receiverClass.kind !== 'parameter')) continue;
        // `t.mul_(a).add_(b)` is one change of `t`: the first in-place call of the chain reports it.
        if (isInplaceCall(stripExpression(receiver))) continue;
        const value = values.evaluate(receiver);
        if (value.leaf !== 'yes' || value.requiresGrad !== 'yes' || values.gradModeAt(call) !== 'on') continue;
        // A helper whose callers in other files record: reported at those calls, naming the helper.
        if (flow.modeFromOtherFiles(call)) continue;
        // A `requiresGrad = false` on the same tensor before this point makes the op legal.
        const key = identity.identity(receiver);
        if (key !== undefined && index.requiresGradWrites.some((w) => w.flag !== true && identity.identity(w.target) === key)) continue;
        // …and so does freezing the module it belongs to (`for (const p of m.parameters()) p.requiresGrad = false`).
        const frozenByFreeze = (at: ParamPath): boolean =>
          training.freezesSharingRoot(at).some((f) => f.paths.some((p) => pathsOverlap({ ...p, partial: false }, at)));
        const path = paths.pathOf(receiver);
        if (path && frozenByFreeze(path)) continue;
        // An element of a parameter list (`for (const p of ps)`, `ps.forEach((t) => …)`) whose modules may be frozen.
        const stripped = stripExpression(receiver);
        const def = ts.isIdentifier(stripped) ? bindings.definition(stripped) : undefined;
        // (Through a name or a helper's parameter bound to one argument: `shrink(model.parameters()[0])`.)
        const origin = def?.kind === 'expression' ? stripExpression(def.expression) : stripped;
        const sources =
          def?.kind === 'element'
            ? paths.paramSources(def.of)
            : ts.isElementAccessExpression(origin)
              ? paths.paramSources(origin.expression) // `model.parameters()[0]`: any of the list
              : undefined;
        if (sources?.some(frozenByFreeze)) continue;
        const data = { tensor: textOf(stripExpression(receiver)), method: `${method}()` };
        reportAt(context, {
          node: call,
          messageId: 'leafInplace',
          data,
          suggest: [
            {
              messageId: 'wrapInNoGrad',
              data,
              fix: (fixer) => {
                const { name, fixes } = libraryName(sourceFile, fixer, 'noGrad');
                // The whole chain (`t.mul_(a).add_(b)`), or its later calls would still change `t` with recording on.
                const whole = outermostInplace(call);
                // `if (p.grad) p.sub_(p.grad.mul(lr))`: inside an arrow of its own the call would lose the
                // `if`'s narrowing of `p.grad` (a type error), so the whole `if` goes inside noGrad.
                const guard = guardingIf(whole);
                if (guard) {
                  const indent = indentOf(guard);
                  const body = guard.getText().replace(/\n/g, '\n  ');
                  return [...fixes, fixer.replaceTextRange(rangeOf(guard), `${name}(() => {\n${indent}  ${body}\n${indent}});`)];
                }
                // `if (p.grad === null) continue; p.sub_(p.grad.mul(lr));`: the narrowed read is kept in a
                // const before the arrow, where the narrowing still holds.
                const hoisted = hoistNarrowedGrads(whole, checker);
                if (hoisted) {
                  const statement = whole.parent;
                  return [
                    ...fixes,
                    fixer.replaceTextRange(
                      rangeOf(statement),
                      `const ${hoisted.name} = ${hoisted.read};\n${indentOf(statement)}${name}(() => ${hoisted.text});`,
                    ),
                  ];
                }
                return [...fixes, fixer.replaceTextRange(rangeOf(whole), `${name}(() => ${whole.getText()})`)];
              },
            },
            { messageId: 'useDetach', data, fix: (fixer) => fixer.insertTextAfterRange(rangeOf(receiver), '.detach()') },
          ],
        });
      }

      // What the caller gives a helper: a leaf that requires grad (not one a freeze may cover), or the
      // parameters of modules (`model.parameters()`) none of which may be frozen.
      const mayBeFrozen = (path: ParamPath | undefined): boolean => path === undefined || training.mayBeFrozen(path);
      const isTrainableLeaf = (argument: ts.Expression): boolean => {
        const value = values.evaluate(argument);
        if (value.leaf !== 'yes' || value.requiresGrad !== 'yes') return false;
        return libraryClassOfExpression(checker, argument)?.kind !== 'parameter' || !mayBeFrozen(paths.pathOf(argument));
      };
      const holdsTrainableParameters = (argument: ts.Expression): boolean => {
        const sources = paths.paramSources(argument);
        return sources !== undefined && sources.length > 0 && !sources.some((p) => p.partial || mayBeFrozen(p));
      };
      // A helper of another file that updates leaves in place, called here with recording on.
      for (const site of callsIntoOtherFiles(program, sourceFile)) {
        if (values.gradModeAt(site) !== 'on') continue;
        const helper = helperOf(program, site);
        // Leaves of the helper's own (a parameter by type), or the caller's leaves it is given.
        const own = helper ? inplaceOnLeaves(helper) : [];
        const inplace =
          helper && own.length === 0
            ? inplaceOnArguments(helper, site)
                .filter(({ argument, element }) => (element ? holdsTrainableParameters(argument) : isTrainableLeaf(argument)))
                .map(({ op }) => op)
            : own;
        const first = inplace.at(0);
        if (!helper || !first || !ts.isPropertyAccessExpression(first.expression)) continue;
        const file = first.getSourceFile();
        const line = file.getLineAndCharacterOfPosition(first.getStart()).line + 1;
        const data = {
          helper: helper.name,
          method: `${first.expression.name.text}()`,
          tensor: textOf(stripExpression(first.expression.expression)),
          where: `${basename(file.fileName)}:${String(line)}`,
        };
        reportAt(context, {
          node: site,
          messageId: 'helperInplace',
          data,
          suggest: [
            {
              messageId: 'wrapInNoGrad',
              data: { method: `${helper.name}()` },
              fix: (fixer) => {
                const { name, fixes } = libraryName(sourceFile, fixer, 'noGrad');
                return [...fixes, fixer.replaceTextRange(rangeOf(site), `${name}(() => ${site.getText()})`)];
              },
            },
          ],
          related: inplace.map((call) => ({ node: call, message: `${helper.name} modifies a leaf that requires grad in place here` })),
        });
      }
    });
  },
});

function isInplaceCall(node: ts.Node): node is ts.CallExpression {
  return ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text in INPLACE_METHODS;
}

/** The last in-place call of the chain `call` starts (`t.mul_(a).add_(b)` for `t.mul_(a)`). */
function outermostInplace(call: ts.CallExpression): ts.CallExpression {
  let cur = call;
  while (ts.isPropertyAccessExpression(cur.parent) && cur.parent.expression === cur && isInplaceCall(cur.parent.parent))
    cur = cur.parent.parent;
  return cur;
}

/**
 * The `if` whose only effect is the statement of `expr` (its then-branch, alone or in a block of one,
 * with no else) and whose condition calls nothing, so that running the condition under noGrad
 * changes nothing: `if (p.grad) p.sub_(…)`, `if (p.grad !== null) { p.sub_(…); }`.
 */
function guardingIf(expr: ts.Expression): ts.IfStatement | undefined {
  const statement = expr.parent;
  if (!ts.isExpressionStatement(statement) || statement.expression !== expr) return undefined;
  let body: ts.Node = statement;
  if (ts.isBlock(statement.parent) && statement.parent.statements.length === 1) body = statement.parent;
  const candidate = body.parent;
  if (!ts.isIfStatement(candidate) || candidate.thenStatement !== body || candidate.elseStatement) return undefined;
  const calls = (n: ts.Node): boolean =>
    ts.isCallExpression(n) ||
    ts.isNewExpression(n) ||
    ts.isTaggedTemplateExpression(n) ||
    ts.forEachChild(n, (c) => calls(c) || undefined) === true;
  return calls(candidate.expression) ? undefined : candidate;
}

/**
 * `p.grad` reads in `expr` that TypeScript narrowed (their type here has no null, the property's
 * has): inside a new arrow the narrowing is lost. Returns a fresh const name, the read, and `expr`'s
 * text with the reads replaced, when `expr` is a statement of its own and every such read is the same.
 */
function hoistNarrowedGrads(expr: ts.Expression, checker: ts.TypeChecker): { name: string; read: string; text: string } | undefined {
  const statement = expr.parent;
  if (!ts.isExpressionStatement(statement) || statement.expression !== expr) return undefined;
  const reads: ts.PropertyAccessExpression[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n) && n.name.text === 'grad') {
      const declared = checker.getTypeAtLocation(n.name);
      const symbol = checker.getSymbolAtLocation(n.name);
      const full = symbol ? checker.getTypeOfSymbol(symbol) : declared;
      const nullable = (t: ts.Type): boolean => (t.isUnion() ? t.types : [t]).some((x) => (x.flags & ts.TypeFlags.Null) !== 0);
      if (nullable(full) && !nullable(checker.getTypeAtLocation(n))) reads.push(n);
    }
    ts.forEachChild(n, visit);
  };
  visit(expr);
  const first = reads.at(0);
  if (!first || !reads.every((r) => r.getText() === first.getText())) return undefined;
  const fnText = ts.findAncestor(statement, (n) => ts.isFunctionLike(n))?.getText() ?? statement.getSourceFile().text;
  let name = 'grad';
  for (let k = 1; new RegExp(`\\b${name}\\b`).test(fnText); k++) name = `grad${String(k)}`;
  const start = expr.getStart();
  let text = '';
  let at = start;
  for (const r of reads) {
    text += expr.getSourceFile().text.slice(at, r.getStart()) + name;
    at = r.getEnd();
  }
  text += expr.getSourceFile().text.slice(at, expr.getEnd());
  return { name, read: first.getText(), text };
}
