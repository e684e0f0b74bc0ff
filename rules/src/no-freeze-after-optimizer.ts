import ts from 'typescript';
import { stripExpression } from './analysis/bindings.js';
import type { FileAnalysis } from './analysis/file-analysis.js';
import type { OptimizerSite } from './analysis/file-index.js';
import { isPrefix, type ParamPath } from './analysis/modules.js';
import { parentOf } from './analysis/syntax.js';
import { holderOf } from './analysis/training.js';
import { callsIntoOtherFiles } from './analysis/program-calls.js';
import { helperOf, stepsThrough } from './analysis/summaries.js';
import { mayReachBackward, touchesBackward } from './analysis/reach.js';
import { createRule, onProgram, reportAt, textOf } from './util/create-rule.js';
import { indentOf, statementOf } from './util/fixes.js';

export default createRule({
  name: 'no-freeze-after-optimizer',
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow freezing parameters that were already handed to an optimizer',
      recommended: 'warn',
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [],
    defaultOptions: [],
    messages: {
      frozenAfter:
        "`{{param}}` is frozen after `{{optimizer}}` was built with it (line {{line}}): the optimizer still holds it, so its last gradient (or the zeros zeroGrad() leaves) keeps moving it through momentum, Adam's moments or weight decay. Freeze first, then build the optimizer from the parameters that still require grad.",
      moveOptimizer: 'Build `{{optimizer}}` after the freezing, from the parameters that still require grad',
    },
  },
  create(context) {
    return onProgram(context, (analysis) => {
      const { index, training, flow, program, sourceFile, reach } = analysis;
      const reported = new Set<ts.Node>();
      const backwards: ts.Node[] = index.methodCalls
        .filter((m) => m.method === 'backward' && (m.receiverClass.kind === 'tensor' || m.receiverClass.kind === 'parameter'))
        .map((m) => m.call);
      // Calls of helpers or methods of other files that run a backward (`trainer.trainStep(x, y)`).
      for (const call of callsIntoOtherFiles(program, sourceFile)) {
        const helper = helperOf(program, call);
        if (helper && stepsThrough(helper, call).backward) backwards.push(call);
      }
      for (const site of training.optimizerSites()) {
        for (const { freeze, frozen } of training.freezesOf(site)) {
          const write = freeze.write.node;
          if (reported.has(write) || !training.mayFollow(site.node, write)) continue;
          // A parameter frozen before any backward that reaches it has no gradient: step() skips it (grad null).
          if (!backwards.some((b) => training.mayFollow(b, write, true) && mayReachBackward(reach, b, frozen))) continue;
          // An optimizer that is never stepped after the freeze (replaced, say) moves nothing.
          const steps = training.stepsOf(site);
          const after = steps.filter((step) => training.mayFollow(write, step, true));
          if (steps.length > 0 && after.length === 0) continue;
          if (after.length > 0 && clearedBeforeEveryStep(analysis, site, frozen, write, backwards, after)) continue;
          reported.add(write);
          // A freeze inside a helper is reported where the helper is called, which is what happens too late.
          const at = flow.liftToward(site.node, write) ?? write;
          const holder = holderOf(site.node);
          const optimizer = holder ? textOf(holder) : textOf(site.node);
          const line = String(site.node.getSourceFile().getLineAndCharacterOfPosition(site.node.getStart()).line + 1);
          const move = moveAfter(site, at, holder);
          reportAt(context, {
            node: at,
            messageId: 'frozenAfter',
            data: { param: freeze.label ?? textOf(stripExpression(freeze.write.target)), optimizer, line },
            suggest: move
              ? [
                  {
                    messageId: 'moveOptimizer',
                    data: { optimizer },
                    fix: (fixer) => [fixer.removeRange(move.remove), fixer.insertTextAfterRange(move.after, move.text)],
                  },
                ]
              : [],
            related: [
              { node: site.node, message: `${optimizer} is built here and holds the parameter` },
              ...(freeze.via ?? []).map((node) => ({ node, message: `${textOf(freeze.write.target)} freezes the parameters here` })),
            ],
          });
        }
      }
    });
  },
});

/**
 * Moving the optimizer's statement below the freezing statement is safe when both sit in the same
 * block and nothing in between mentions the optimizer. `.parameters()` becomes a filtered list.
 */
function moveAfter(
  site: OptimizerSite,
  write: ts.Node,
  holder: ts.Expression | undefined,
): { remove: [number, number]; after: [number, number]; text: string } | undefined {
  // A helper's optimizer cannot be given a filtered parameter list from here.
  if (site.builtIn) return undefined;
  const optimizerStatement = statementOf(site.node);
  if (!optimizerStatement || !holder || !(ts.isVariableStatement(optimizerStatement) || ts.isExpressionStatement(optimizerStatement)))
    return undefined;
  let freezeStatement: ts.Node | undefined = write;
  while (freezeStatement && parentOf(freezeStatement) !== optimizerStatement.parent) freezeStatement = parentOf(freezeStatement);
  if (!freezeStatement || freezeStatement.getStart() < optimizerStatement.getEnd()) return undefined;
  const sf = site.node.getSourceFile();
  const between = sf.text.slice(optimizerStatement.getEnd(), freezeStatement.getEnd());
  const name = ts.isIdentifier(holder) ? holder.text : ts.isPropertyAccessExpression(holder) ? holder.name.text : undefined;
  if (name === undefined || new RegExp(`\\b${name}\\b`).test(between)) return undefined;
  let text = optimizerStatement.getText();
  const params = site.params ? stripExpression(site.params) : undefined;
  if (
    params &&
    ts.isCallExpression(params) &&
    ts.isPropertyAccessExpression(params.expression) &&
    params.expression.name.text === 'parameters'
  ) {
    const start = params.getStart() - optimizerStatement.getStart();
    const end = params.getEnd() - optimizerStatement.getStart();
    text = `${text.slice(0, start)}${params.getText()}.filter((p) => p.requiresGrad)${text.slice(end)}`;
  }
  return {
    remove: [optimizerStatement.getFullStart(), optimizerStatement.getEnd()],
    after: [freezeStatement.getStart(), freezeStatement.getEnd()],
    text: `\n${indentOf(freezeStatement)}${text}`,
  };
}

/**
 * Whether the frozen parameters have nothing for step() to apply at each step after the freeze:
 * on every way from a backward that gave them a gradient, through the freeze, to the step, a
 * clearing runs that leaves step() nothing: `setToNone` (the parameter is skipped), or zeros for an
 * optimizer that does not move on a zero gradient (plain SGD, RMSprop). A clearing counts when it
 * is the optimizer's own `zeroGrad()` or a `zeroGrad()` of a module holding all of the frozen
 * parameters; anything that may set requiresGrad back on them keeps the rule speaking. The backwards
 * asked about are those whose walk touches the frozen parameters (see touchesBackward).
 */
function clearedBeforeEveryStep(
  analysis: FileAnalysis,
  site: OptimizerSite,
  frozen: ParamPath,
  write: ts.Node,
  backwards: readonly ts.Node[],
  steps: readonly ts.Node[],
): boolean {
  const { index, training, flow } = analysis;
  // (Any `requiresGrad = true` or non-literal flag in the file, or a helper's unfreeze of these parameters.)
  if (index.requiresGradWrites.some((w) => w.flag !== false)) return false;
  if (training.unfreezes().some((f) => f.paths.some((p) => isPrefix(p, frozen) || isPrefix(frozen, p)))) return false;
  const zerosMove = training.movesOnZeroGrad(site) !== false;
  const clears = training.clearsCovering(site, [frozen], { modules: true, setToNone: zerosMove });
  if (clears.length === 0) return false;
  // The backwards that may have given them a gradient: those whose walk touches them, before the freeze.
  const earlier = backwards.filter((b) => touchesBackward(analysis.reach, b, frozen) && training.mayFollow(b, write, true));
  return steps.every((step) =>
    earlier.every((b) => clears.some((c) => flow.mustPassBetween(b, c.call, write) || flow.mustPassBetween(write, c.call, step))),
  );
}
