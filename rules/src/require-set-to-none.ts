import path from 'node:path';
import ts from 'typescript';
import { propertyOf } from './analysis/bindings.js';
import type { FileAnalysis } from './analysis/file-analysis.js';
import type { OptimizerSite } from './analysis/file-index.js';
import { allUses, certainlyReaches, mayReach, mayReachBackward, type ModuleUse } from './analysis/reach.js';
import { isPrefix, pathsOverlap, RootIndex, type ParamPath } from './analysis/modules.js';
import { holderOf } from './analysis/training.js';
import { innermostLoop } from './analysis/syntax.js';
import { createRule, onProgram, reportAt, textOf, type Related } from './util/create-rule.js';
import { setOption } from './util/fixes.js';

export default createRule({
  name: 'require-set-to-none',
  meta: {
    type: 'problem',
    docs: {
      description: 'Require zeroGrad({ setToNone: true }) on stateful optimizers whose parameters can stop receiving gradients',
      recommended: 'warn',
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [],
    defaultOptions: [],
    messages: {
      zeroFilled:
        '`{{optimizer}}` ({{kind}}) holds parameters whose gradient flow is cut ({{cut}}): this zeroGrad() fills their gradients with zeros instead of null, and step() still moves parameters with a zero gradient through {{mechanism}}. Use zeroGrad({ setToNone: true }) so step() skips them.',
      setToNone: 'Use zeroGrad({ setToNone: true })',
    },
  },
  create(context) {
    return onProgram(context, (analysis) => {
      const { index, training, paths, sourceFile, flow } = analysis;
      const backwards = index.methodCalls.filter((m) => m.method === 'backward').map((m) => m.call);
      for (const { call, method, receiver, receiverClass } of index.methodCalls) {
        if (method !== 'zeroGrad' || (receiverClass.kind !== 'optimizer' && receiverClass.kind !== 'module')) continue;
        const setToNone = propertyOf(call.arguments.at(0), 'setToNone');
        if (setToNone && setToNone.kind !== ts.SyntaxKind.FalseKeyword) continue;
        if (call.arguments.length > 0 && !ts.isObjectLiteralExpression(call.arguments[0])) continue;
        // optimizer.zeroGrad() clears what it holds; model.zeroGrad() matters for each stateful optimizer holding some of the model's parameters:
        // for the ones it holds (a plain SGD beside it holding the cut trunk moves nothing).
        const pairs: { site: OptimizerSite; held: readonly ParamPath[] }[] = [];
        if (receiverClass.kind === 'optimizer') {
          const site = training.optimizerOf(receiver);
          const held = site ? training.held(site) : undefined;
          if (site && held) pairs.push({ site, held });
        } else {
          const module = paths.pathOf(receiver);
          for (const o of module ? training.optimizerSites() : []) {
            const overlapping = training.held(o)?.filter((p) => module && (pathsOverlap(p, module) || pathsOverlap(module, p)));
            if (module && overlapping && overlapping.length > 0)
              pairs.push({ site: o, held: overlapping.map((p) => (isPrefix(module, p) ? p : module)) });
          }
        }
        for (const { site, held } of pairs) {
          if (training.movesOnZeroGrad(site) !== true) continue;
          // The optimizer's own `zeroGrad({ setToNone: true })` between this one and each of its steps sets
          // the zero-filled grads back to null (`model.zeroGrad(); optT.zeroGrad({ setToNone: true });`).
          if (setToNoneBeforeEveryStep(analysis, call, site)) continue;
          // …and one whose gradients are already null when it runs: every way from a backward to it passes a
          // `zeroGrad({ setToNone: true })` of the optimizer or of a module holding all it holds (zero-filling
          // leaves a null gradient null).
          if (noneAlready(analysis, call, site, held, backwards)) continue;
          const holder = holderOf(site.node);
          const optimizerName = holder ? textOf(holder) : textOf(receiver);
          const related: Related[] = [{ node: site.node, message: `${optimizerName} is built here` }];
          const cutDescriptions: string[] = [];
          // A parameter has a gradient to zero-fill only if backward reached it before it was cut.
          for (const { freeze, frozen } of training.freezesOf(site)) {
            if (!held.some((p) => pathsOverlap(p, frozen) || pathsOverlap(frozen, p))) continue;
            if (!backwards.some((b) => flow.mayFollowOnInstance(b, freeze.write.node, true) && mayReachBackward(analysis.reach, b, frozen)))
              continue;
            // Every step after this zeroGrad() is preceded by a backward that reaches the parameters while they are unfrozen.
            if (everyStepReached(analysis, call, site, frozen, freeze.write.node)) continue;
            cutDescriptions.push(`frozen at ${whereIs(freeze.write.node, sourceFile)}`);
            related.push({ node: freeze.write.node, message: 'parameters it holds are frozen here' });
          }
          for (const miss of zeroFilledMisses(analysis, call, site, held)) {
            cutDescriptions.push(`${miss.cut.how === 'noGrad' ? 'noGrad' : 'detach()'} at ${whereIs(miss.cut.node, sourceFile)}`);
            related.push({ node: miss.cut.node, message: `${textOf(miss.use.call)} runs without gradient flowing back here` });
            if (miss.step)
              related.push({ node: miss.step, message: `this step() can run before any backward reaches ${textOf(miss.use.module.node)}` });
          }
          if (cutDescriptions.length === 0) continue;
          reportAt(context, {
            node: call,
            messageId: 'zeroFilled',
            data: {
              optimizer: optimizerName,
              kind: site.className,
              cut: cutDescriptions.join(', '),
              mechanism:
                site.className === 'Adam' || site.className === 'AdamW'
                  ? "Adam's moment estimates" + (site.className === 'AdamW' ? ' and weight decay' : '')
                  : 'momentum or weight decay',
            },
            suggest: [{ messageId: 'setToNone', fix: (fixer) => setOption(fixer, call, 0, 'setToNone', 'true') ?? null }],
            related,
          });
          break; // one report per zeroGrad()
        }
      }
    });
  },
});

/** `line 7` in the reported file, `utils.ts:7` in another. */
function whereIs(node: ts.Node, reported: ts.SourceFile): string {
  const file = node.getSourceFile();
  const line = String(file.getLineAndCharacterOfPosition(node.getStart()).line + 1);
  return file === reported ? `line ${line}` : `${path.basename(file.fileName)}:${line}`;
}

/**
 * The cuts that leave a held parameter with a zero-filled gradient at a `step()`: a module use
 * that reaches a `backward()` only through `detach()`/`noGrad` (a cut on a trainable path), whose
 * module gets a gradient from some backward (so `zeroGrad()` has a gradient to fill), while
 * between this `zeroGrad()` and a `step()` of the same optimizer no backward certainly reaches it.
 * A cut whose result never reaches a backward (evaluation, action selection) cuts nothing.
 */
function zeroFilledMisses(
  analysis: FileAnalysis,
  zeroGrad: ts.CallExpression,
  site: OptimizerSite,
  held: readonly ParamPath[],
): { use: ModuleUse; cut: NonNullable<ModuleUse['cut']>; step: ts.Node | undefined }[] {
  const usesByBackward = backwardUses(analysis);
  const steps = stepsAfter(analysis, zeroGrad, site);
  if (steps.length === 0) return [];
  const out: { use: ModuleUse; cut: NonNullable<ModuleUse['cut']>; step: ts.Node | undefined }[] = [];
  const seen = new Set<ts.Node>();
  for (const uses of usesByBackward.byBackward.values()) {
    for (const use of uses) {
      const cut = use.cut;
      // A followed model method speaks through the uses in its body.
      if (!cut || use.inner || seen.has(cut.node) || !held.some((p) => pathsOverlap(p, use.module))) continue;
      const target = use.module;
      // Frozen for good before the loop (or never holding parameters): no gradient to zero-fill.
      if (analysis.training.frozenForGoodBefore(target, innermostLoop(zeroGrad) ?? zeroGrad)) continue;
      if (ts.isExpression(target.node) && analysis.paths.holdsNoParameters(target.node)) continue;
      const everReached = usesByBackward.byRoot
        .sharingRootWith(target)
        .some((b) => usesByBackward.byBackward.get(b)?.some((u) => mayReach(u, target)));
      if (!everReached) continue;
      const missedAt = firstUnreachedStep(analysis, zeroGrad, steps, target, usesByBackward, undefined);
      if (missedAt === undefined) continue;
      seen.add(cut.node);
      out.push({ use, cut, step: missedAt });
    }
  }
  return out;
}

/** Whether a `zeroGrad({ setToNone: true })` of `site` itself runs after `zeroGrad` and before every step of `site` that may follow it. */
function setToNoneBeforeEveryStep(analysis: FileAnalysis, zeroGrad: ts.CallExpression, site: OptimizerSite): boolean {
  const steps = stepsAfter(analysis, zeroGrad, site);
  if (steps.length === 0) return false;
  const clears = analysis.training.clearsCovering(site, [], { modules: false, setToNone: true }).filter((m) => m.call !== zeroGrad);
  return steps.every((step) => clears.some((clear) => analysis.flow.mustPassBetween(zeroGrad, clear.call, step)));
}

/**
 * Whether every backward that may run before `zeroGrad` reaches it only through a setToNone clearing
 * of `site` itself or of a module that holds all of `held` (a module path above each held path):
 * the gradients it would zero-fill are null by then.
 */
function noneAlready(
  analysis: FileAnalysis,
  zeroGrad: ts.CallExpression,
  site: OptimizerSite,
  held: readonly ParamPath[],
  backwards: readonly ts.CallExpression[],
): boolean {
  const { training, flow } = analysis;
  const clears = training.clearsCovering(site, held, { modules: true, setToNone: true }).filter((m) => m.call !== zeroGrad);
  if (clears.length === 0) return false;
  const before = backwards.filter((b) => training.mayFollow(b, zeroGrad, true));
  return before.length > 0 && before.every((b) => clears.some((c) => flow.mustPassBetween(b, c.call, zeroGrad)));
}

function stepsAfter(analysis: FileAnalysis, zeroGrad: ts.CallExpression, site: OptimizerSite): ts.CallExpression[] {
  return analysis.training.stepsOf(site).filter((step) => analysis.training.mayFollow(zeroGrad, step, true));
}

/**
 * The first step after `zeroGrad` before which no backward certainly reaches `target`'s parameters
 * (a backward that may run while they are frozen by `freeze`, with no unfreeze certainly between,
 * does not count).
 */
function firstUnreachedStep(
  analysis: FileAnalysis,
  zeroGrad: ts.CallExpression,
  steps: readonly ts.CallExpression[],
  target: ParamPath,
  uses: BackwardUses,
  freeze: ts.Node | undefined,
): ts.CallExpression | undefined {
  const { training, flow } = analysis;
  const unfrozenAt = (b: ts.Node): boolean =>
    freeze === undefined ||
    !flow.mayFollowOnInstance(freeze, b, true) ||
    training.unfreezes().some((u) => u.paths.some((p) => isPrefix(p, target)) && flow.mustPassBetween(freeze, u.write.node, b));
  // Which backwards certainly reach the target does not depend on the step: asked once, of the
  // backwards whose uses share a root with it (a notebook's thousand other experiments are not asked).
  const reaching = uses.byRoot.sharingRootWith(target).filter((b) => uses.byBackward.get(b)?.some((u) => certainlyReaches(u, target)));
  return steps.find((step) => !reaching.some((b) => flow.mustPassBetween(zeroGrad, b, step) && unfrozenAt(b)));
}

function everyStepReached(
  analysis: FileAnalysis,
  zeroGrad: ts.CallExpression,
  site: OptimizerSite,
  target: ParamPath,
  freeze: ts.Node,
): boolean {
  const steps = stepsAfter(analysis, zeroGrad, site);
  // No step of this optimizer is known (built in a branch, stepped through an unknown name): stay silent.
  if (steps.length === 0) return true;
  return firstUnreachedStep(analysis, zeroGrad, steps, target, backwardUses(analysis), freeze) === undefined;
}

/** Every backward of the file with the module uses its loss is computed from, and the backwards by the roots of those uses. */
interface BackwardUses {
  readonly byBackward: ReadonlyMap<ts.CallExpression, readonly ModuleUse[]>;
  readonly byRoot: RootIndex<ts.CallExpression>;
}

const usesMemo = new WeakMap<FileAnalysis, BackwardUses>();

/** Every backward of the file with the module uses its loss is computed from (once per analysis). */
function backwardUses(analysis: FileAnalysis): BackwardUses {
  let uses = usesMemo.get(analysis);
  if (!uses) {
    const byBackward = new Map(
      analysis.index.methodCalls
        .filter((m) => m.method === 'backward' && (m.receiverClass.kind === 'tensor' || m.receiverClass.kind === 'parameter'))
        .map((m) => [m.call, allUses(analysis.reach.usesOf(m.call))] as const),
    );
    const byRoot = new RootIndex<ts.CallExpression>();
    for (const [backward, list] of byBackward) for (const use of list) byRoot.add(backward, use.module);
    uses = { byBackward, byRoot };
    usesMemo.set(analysis, uses);
  }
  return uses;
}
