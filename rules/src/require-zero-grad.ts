import ts from 'typescript';
import { stripExpression } from './analysis/bindings.js';
import type { OptimizerSite } from './analysis/file-index.js';
import { type Flow } from './analysis/flow.js';
import { enclosingFunction, innermostLoop, isAncestor } from './analysis/syntax.js';
import { isPrefix, pathsOverlap, type ModulePaths, type ParamPath } from './analysis/modules.js';
import { allUses, certainlyReaches, mayReachBackward, type ModuleUse } from './analysis/reach.js';
import { callsIntoOtherFiles } from './analysis/program-calls.js';
import { clearsThrough, helperOf, stepsThrough } from './analysis/summaries.js';
import { createRule, onProgram, reportAt, textOf } from './util/create-rule.js';
import { insertStatementBefore } from './util/fixes.js';
import { LIMITS } from './analysis/limits.js';
import type { TrainingFacts } from './analysis/training.js';

type Inside = 'yes' | 'no' | 'unknown';

export default createRule({
  name: 'require-zero-grad',
  meta: {
    type: 'problem',
    docs: {
      description: 'Require clearing gradients in a training loop that calls backward() and step()',
      recommended: 'warn',
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [],
    defaultOptions: [],
    messages: {
      noZeroGrad:
        'This loop calls backward() and `{{step}}` but never clears gradients: backward() adds into .grad, so every step uses the sum of all gradients since the start. Call `{{optimizer}}.zeroGrad({ setToNone: true })` on each iteration, before backward().',
      noZeroGradHelper:
        'This loop runs backward() and `{{step}}` steps an optimizer (in {{helper}}), but nothing clears its gradients: backward() adds into .grad, so every step uses the sum of all gradients since the start. Clear them on each iteration (`{{optimizer}}.zeroGrad({ setToNone: true })`), before backward().',
      partialZeroGrad:
        '`{{cleared}}.zeroGrad()` clears only part of what `{{step}}` updates: the parameters of `{{missed}}` get a gradient from backward() on every iteration and nothing clears it, so every step uses the sum of its gradients since the start (STALE_GRADIENTS). Call `{{optimizer}}.zeroGrad({ setToNone: true })` on each iteration, before backward().',
      addZeroGrad: 'Call `{{optimizer}}.zeroGrad({ setToNone: true })` at the start of each iteration',
    },
  },
  create(context) {
    return onProgram(context, ({ index, flow, training, paths, program, sourceFile, reach }) => {
      const backwards: ts.Node[] = index.methodCalls
        .filter((m) => m.method === 'backward' && m.receiverClass.kind !== 'optimizer' && m.receiverClass.kind !== 'module')
        .map((m) => m.call);
      // Steps: `opt.step()` here, and calls of helpers of other files that step (an optimizer they are given, or their own).
      const steps: { node: ts.CallExpression; site: OptimizerSite | undefined; optimizer: ts.Expression | undefined; helper?: string }[] =
        index.methodCalls
          .filter((m) => m.method === 'step' && m.receiverClass.kind === 'optimizer')
          .map((m) => ({ node: m.call, site: training.optimizerOf(m.receiver), optimizer: m.receiver }));
      const helperCalls = callsIntoOtherFiles(program, sourceFile).flatMap((call) => {
        const helper = helperOf(program, call);
        return helper ? [{ call, helper }] : [];
      });
      for (const { call, helper } of helperCalls) {
        const through = stepsThrough(helper, call);
        if (through.backward) backwards.push(call);
        for (const stepped of through.steps) {
          const optimizer = stepped === 'unknown' ? undefined : stepped;
          steps.push({ node: call, site: optimizer ? training.optimizerOf(optimizer) : undefined, optimizer, helper: helper.name });
        }
      }
      // Each way of clearing gradients, with the optimizers whose parameters it clears (undefined: any).
      // A module's zeroGrad() that clears only a part of what the optimizer holds (`model.head.zeroGrad()`
      // while it steps all of `model`) carries that part, to be checked against the loop's backwards below.
      const clears: {
        node: ts.Node;
        /** An optimizer's own zeroGrad(): it covers that optimizer only. */
        only?: OptimizerSite;
        covers: (site: OptimizerSite | undefined) => boolean;
        part?: (site: OptimizerSite) => ParamPath | undefined;
      }[] = [
        ...index.methodCalls
          .filter((m) => m.method === 'zeroGrad')
          .map((m) => ({
            node: m.call,
            only: m.receiverClass.kind === 'optimizer' ? training.optimizerOf(m.receiver) : undefined,
            covers: (site: OptimizerSite | undefined): boolean => {
              if (!site) return true;
              if (m.receiverClass.kind === 'optimizer') {
                const cleared = training.optimizerOf(m.receiver);
                return cleared === undefined || cleared === site;
              }
              const module = paths.pathOf(m.receiver);
              const held = training.held(site);
              return !module || !held || held.some((p) => pathsOverlap(p, module) || pathsOverlap(module, p));
            },
            part: (site: OptimizerSite): ParamPath | undefined => {
              if (m.receiverClass.kind === 'optimizer') return undefined;
              const module = paths.pathOf(m.receiver);
              const held = training.held(site);
              if (!module || module.partial || !held || held.every((p) => isPrefix(module, p))) return undefined;
              return module;
            },
          })),
        ...index.gradWrites.map((node) => ({ node, covers: () => true })),
        // p.grad.zero_() / p.grad?.fill_(0)
        ...index.methodCalls
          .filter((m) => (m.method === 'zero_' || m.method === 'fill_') && isGradAccess(m.receiver))
          .map((m) => ({ node: m.call, covers: () => true })),
        // A helper of another file that clears gradients: the optimizers it is given, or any when it clears something else.
        ...helperCalls.flatMap(({ call, helper }) => {
          const cleared = clearsThrough(helper, call);
          if (cleared !== 'any' && cleared.length === 0) return [];
          return [
            {
              node: call,
              covers: (site: OptimizerSite | undefined): boolean =>
                cleared === 'any' ||
                !site ||
                cleared.some((argument) => {
                  const optimizer = training.optimizerOf(argument);
                  return optimizer === undefined || optimizer === site;
                }),
            },
          ];
        }),
      ];
      // The clears that may cover an optimizer: its own zeroGrad() calls and every clear of another
      // kind, in file order (a file with a thousand optimizers does not ask each clear about each).
      const ownClears = new Map<OptimizerSite, number[]>();
      const otherClears: number[] = [];
      clears.forEach((c, k) => {
        const own = c.only ? ownClears.get(c.only) : otherClears;
        if (own) own.push(k);
        else if (c.only) ownClears.set(c.only, [k]);
      });
      const clearsFor = (site: OptimizerSite | undefined): typeof clears =>
        site === undefined ? clears : [...(ownClears.get(site) ?? []), ...otherClears].sort((a, b) => a - b).map((k) => clears[k]);
      // One finding per optimizer a loop never clears (each has its own fix); an optimizer that is not
      // known only when nothing else of its loop was reported.
      const reported = new Map<ts.Node, Set<OptimizerSite | undefined>>();
      const membership = new LoopMembership(flow);
      for (const { node: call, site, optimizer: receiver, helper } of steps) {
        const loop = enclosingLoop(flow, call);
        const done = loop ? reported.get(loop) : undefined;
        if (!loop || (done && (done.has(site) || done.has(undefined) || site === undefined))) continue;
        const inLoop = membership.runningInside(backwards, loop);
        if (inLoop.length === 0) continue;
        // An optimizer whose parameters no backward of the loop can reach (a trunk always detached) has nothing to accumulate.
        const held = site ? training.held(site) : undefined;
        if (held && held.length > 0 && !inLoop.some((b) => held.some((p) => mayReachBackward(reach, b, p)))) continue;
        // …and so has one whose parameters are all frozen before the loop, for good: no backward gives them a gradient.
        if (held && held.length > 0 && held.every((p) => training.frozenForGoodBefore(p, loop))) continue;
        const covering = clearsFor(site).filter((c) => c.covers(site) && membership.runsInside(c.node, loop) !== 'no');
        // Cleared in part only (a module's zeroGrad() inside what the optimizer holds): report when a backward
        // of the loop certainly gives a gradient to another held module, which then accumulates.
        const parts = site && held ? covering.map((c) => c.part?.(site)) : [];
        const missed =
          site && held && covering.length > 0 && parts.every((p) => p !== undefined)
            ? unclearedUse(inLoop, held, parts, (use) => reach.usesOf(use), training, paths, loop)
            : undefined;
        if (covering.length > 0 && !missed) continue;
        reported.set(loop, new Set([...(done ?? []), site]));
        const optimizer = receiver ? textOf(stripExpression(receiver)) : 'optimizer';
        const body = loop.statement;
        const first = ts.isBlock(body) ? body.statements.at(0) : undefined;
        reportAt(context, {
          node: call,
          messageId: missed ? 'partialZeroGrad' : helper ? 'noZeroGradHelper' : 'noZeroGrad',
          data: {
            step: textOf(call),
            optimizer,
            helper: helper ?? '',
            cleared: missed ? receiverText(covering[0].node) : '',
            missed: missed?.module ?? '',
          },
          suggest:
            receiver && first && enclosingFunction(call) === enclosingFunction(first) && isAncestor(loop, receiver)
              ? [
                  {
                    messageId: 'addZeroGrad',
                    data: { optimizer },
                    fix: (fixer) => insertStatementBefore(fixer, first, `${optimizer}.zeroGrad({ setToNone: true });`),
                  },
                ]
              : [],
          related: [
            { node: loop, message: 'the training loop' },
            ...(missed
              ? [{ node: missed.use.call, message: 'a use whose parameters get a gradient on every iteration and are never cleared' }]
              : []),
          ],
        });
      }
    });
  },
});

/** `model.head` of `model.head.zeroGrad(…)`. */
function receiverText(call: ts.Node): string {
  return ts.isCallExpression(call) && ts.isPropertyAccessExpression(call.expression) ? textOf(call.expression.expression) : textOf(call);
}

function isGradAccess(expr: ts.Expression): boolean {
  const e = stripExpression(expr);
  return ts.isPropertyAccessExpression(e) && e.name.text === 'grad';
}

/** The innermost loop that runs `node`, following a helper back to its single call site. */
function enclosingLoop(flow: Flow, node: ts.Node): ts.IterationStatement | undefined {
  let cur: ts.Node | undefined = node;
  for (let hops = 0; cur && hops < LIMITS.loopSearchDepth; hops++) {
    const loop = innermostLoop(cur);
    if (loop) return loop;
    cur = flow.callSiteOf(enclosingFunction(cur));
  }
  return undefined;
}

/**
 * Whether a node runs as part of a loop's iterations, asked for every pair of a step's loop and a
 * backward or a clear of the file: each node's enclosing function and the call sites it is
 * followed back through are found once, and tree walks are made only where the ranges nest.
 */
class LoopMembership {
  private readonly functions = new Map<ts.Node, ts.Node>();
  private readonly chains = new Map<ts.Node, readonly ts.Node[]>();
  private readonly ranges = new Map<readonly ts.Node[], { pos: number; end: number; i: number }[]>();

  constructor(private readonly flow: Flow) {}

  private functionOf(node: ts.Node): ts.Node {
    let fn = this.functions.get(node);
    if (!fn) {
      fn = enclosingFunction(node);
      this.functions.set(node, fn);
    }
    return fn;
  }

  /** `node`, then the call site that runs its function, outwards (as far as runsInside may go). */
  private chain(node: ts.Node): readonly ts.Node[] {
    let chain = this.chains.get(node);
    if (!chain) {
      const nodes = [node];
      for (let cur = node; nodes.length < LIMITS.loopSearchDepth;) {
        const fn = this.functionOf(cur);
        const site = ts.isSourceFile(fn) ? undefined : this.flow.callSiteOf(fn);
        if (!site) break;
        nodes.push(site);
        cur = site;
      }
      chain = nodes;
      this.chains.set(node, chain);
    }
    return chain;
  }

  /**
   * The nodes of `nodes` that certainly run as part of `loop`'s iterations ('yes'), in order. Only a
   * node with some element of its chain inside the loop's range can: those are found by position
   * (the file's nodes sorted once per list), so a file with a thousand loops does not pair them all.
   */
  runningInside(nodes: readonly ts.Node[], loop: ts.Node): ts.Node[] {
    let index = this.ranges.get(nodes);
    if (!index) {
      index = nodes.flatMap((node, i) => this.chain(node).map((element) => ({ pos: element.pos, end: element.end, i })));
      index.sort((a, b) => a.pos - b.pos);
      this.ranges.set(nodes, index);
    }
    let lo = 0;
    let hi = index.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (index[mid].pos < loop.pos) lo = mid + 1;
      else hi = mid;
    }
    const hits = new Set<number>();
    for (let k = lo; k < index.length && index[k].pos <= loop.end; k++) if (index[k].end <= loop.end) hits.add(index[k].i);
    return [...hits]
      .sort((a, b) => a - b)
      .map((i) => nodes[i])
      .filter((node) => this.runsInside(node, loop) === 'yes');
  }

  /** Whether `node` runs as part of `loop`'s iterations; 'unknown' for helpers called from several places. */
  runsInside(node: ts.Node, loop: ts.Node): Inside {
    const loopFunction = this.functionOf(loop);
    const chain = this.chain(node);
    for (let hops = 0; hops < LIMITS.loopSearchDepth; hops++) {
      // The chain ends where a function has no single call site.
      if (hops >= chain.length) return 'unknown';
      const cur = chain[hops];
      if (within(cur, loop) && isAncestor(loop, cur)) return 'yes';
      const fn = this.functionOf(cur);
      // Outside the loop in the loop's own function (or one around it): it runs before or after, not each iteration.
      if (fn === loopFunction || ts.isSourceFile(fn) || (within(loop, fn) && isAncestor(fn, loop))) return 'no';
    }
    return 'unknown';
  }
}

/** Whether `node`'s range lies within `outer`'s (as every descendant's does): a cheap test before isAncestor. */
function within(node: ts.Node, outer: ts.Node): boolean {
  return outer.pos <= node.pos && node.end <= outer.end;
}

/**
 * A module use of one of `backwards` that certainly delivers gradient to parameters the optimizer
 * holds (under `held`) outside every cleared part: not cut, not conditional, not a layer without
 * parameters, not frozen for good before the loop (a freeze after it got a gradient leaves that
 * gradient in place, stale); with the module it names. Undefined when there is none (or the
 * walk cannot tell).
 */
function unclearedUse(
  backwards: readonly ts.Node[],
  held: readonly ParamPath[],
  parts: readonly (ParamPath | undefined)[],
  usesOf: (backward: ts.CallExpression) => readonly ModuleUse[],
  training: TrainingFacts,
  paths: ModulePaths,
  loop: ts.Node,
): { readonly use: ModuleUse; readonly module: string } | undefined {
  const cleared = parts.filter((p): p is ParamPath => p !== undefined);
  const isHeld = (path: ParamPath): boolean => held.some((h) => !h.partial && isPrefix(h, path));
  const isCleared = (path: ParamPath): boolean => cleared.some((c) => isPrefix(c, path));
  for (const backward of backwards) {
    if (!ts.isCallExpression(backward)) continue;
    for (const use of allUses(usesOf(backward))) {
      const path = use.module;
      if (path.partial || isCleared(path) || !certainlyReaches(use, path)) continue;
      if (isHeld(path) && !cleared.some((c) => isPrefix(path, c))) {
        if (training.frozenForGoodBefore(path, loop) || (ts.isExpression(path.node) && paths.holdsNoParameters(path.node))) continue;
        return { use, module: textOf(path.node) };
      }
      // A use of a container around a cleared or held part (`model.forward(x)` with `model.at(2).zeroGrad()`):
      // a layer of that `new nn.Sequential(…)` that is held, outside every cleared part, and certainly holds parameters.
      const layers = (ts.isExpression(path.node) ? paths.sequentialLayers(path.node) : undefined) ?? [];
      const missedLayer = layers.findIndex((layer, i) => {
        const child: ParamPath = { ...path, segments: [...path.segments, String(i)] };
        return (
          !ts.isSpreadElement(layer) &&
          isHeld(child) &&
          !isCleared(child) &&
          !training.frozenForGoodBefore(child, loop) &&
          paths.holdsParameters(layer)
        );
      });
      if (missedLayer !== -1) return { use, module: `${textOf(path.node)}.at(${String(missedLayer)})` };
    }
  }
  return undefined;
}
