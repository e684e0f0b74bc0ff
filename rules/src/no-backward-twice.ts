import ts from 'typescript';
import { propertyOf, stripExpression } from './analysis/bindings.js';
import { enclosingFunction, innermostLoop, isAncestor, isFunctionLike } from './analysis/syntax.js';
import { callsIntoOtherFiles } from './analysis/program-calls.js';
import { backwardsThrough, helperOf } from './analysis/summaries.js';
import { createRule, onProgram, reportAt, textOf } from './util/create-rule.js';
import { setOption } from './util/fixes.js';

export default createRule({
  name: 'no-backward-twice',
  meta: {
    type: 'problem',
    docs: {
      description: 'Disallow a second backward through the same graph without retainGraph: true',
      recommended: 'error',
      requiresTypeChecking: true,
    },
    hasSuggestions: true,
    schema: [],
    defaultOptions: [],
    messages: {
      secondBackward:
        "`{{second}}` runs backward through `{{shared}}` again, but `{{first}}` (line {{line}}) already freed that graph's saved tensors: this throws GRAPH_FREED at run time. Pass { retainGraph: true } to the first backward, or sum the losses and call backward() once.",
      backwardInLoop:
        "`{{second}}` runs on every iteration, but `{{shared}}` is computed once, before the loop: the second iteration's backward finds its saved tensors freed and throws GRAPH_FREED. Compute it inside the loop.",
      retainGraph: 'Pass { retainGraph: true } to `{{first}}`',
    },
  },
  create(context) {
    return onProgram(context, ({ index, flow, saved, program, sourceFile, bindings }) => {
      /** The argument a same-file function's parameter gets at the function's only call site. */
      const argumentAtOnlyCallSite = (receiver: ts.Expression): { site: ts.CallExpression; value: ts.Expression } | undefined => {
        const expr = stripExpression(receiver);
        const decl = ts.isIdentifier(expr) ? bindings.symbolOf(expr)?.valueDeclaration : undefined;
        if (!decl || !ts.isParameter(decl) || decl.dotDotDotToken || !isFunctionLike(decl.parent)) return undefined;
        const site = flow.callSiteOf(decl.parent);
        const value = site && ts.isCallExpression(site) ? site.arguments.at(decl.parent.parameters.indexOf(decl)) : undefined;
        return site && ts.isCallExpression(site) && value && !ts.isSpreadElement(value) ? { site, value } : undefined;
      };
      // Every graph-freeing call: `t.backward(…)` and `autograd.grad(outputs, inputs, options)`.
      const backwards: Backward[] = index.methodCalls
        .filter((m) => m.method === 'backward' && (m.receiverClass.kind === 'tensor' || m.receiverClass.kind === 'parameter'))
        .map((m) => {
          // `function backprop(loss: Tensor) { loss.backward(); }` with one call site here: the call is the backward.
          const argument = argumentAtOnlyCallSite(m.receiver);
          return argument
            ? { call: argument.site, roots: [argument.value], options: m.call.arguments.at(1), via: m.call, viaHere: true }
            : { call: m.call, roots: [m.receiver], options: m.call.arguments.at(1) };
        });
      for (const [call, fn] of index.libraryCalls) {
        const outputs = call.arguments.at(0);
        if (fn !== 'grad' || !outputs) continue;
        const stripped = stripExpression(outputs);
        const roots = ts.isArrayLiteralExpression(stripped) ? stripped.elements.filter((e) => !ts.isSpreadElement(e)) : [outputs];
        backwards.push({ call, roots, options: call.arguments.at(2) });
      }
      // Helpers of other files that backpropagate what they are given (`backprop(loss)`): the call is the backward.
      for (const call of callsIntoOtherFiles(program, sourceFile)) {
        const helper = helperOf(program, call);
        for (const through of helper ? backwardsThrough(helper, call) : [])
          backwards.push({ call, roots: [through.argument], options: through.options, via: through.backward });
      }
      // Each backward's saving sites, once: the pairs below ask for them backwards² times.
      const sitesByBackward = new Map(backwards.map((b) => [b, new Set(b.roots.flatMap((r) => [...saved.savingSites(r)]))]));
      const sitesOf = (b: Backward): ReadonlySet<ts.CallExpression> => sitesByBackward.get(b) ?? new Set();
      const lineOf = (node: ts.Node): string => String(node.getSourceFile().getLineAndCharacterOfPosition(node.getStart()).line + 1);
      // Backwards by the sites they read: a pair with no site in common can report nothing, so each
      // backward is paired only with those that share a site (linear in the file, not quadratic).
      const backwardsBySite = new Map<ts.CallExpression, number[]>();
      backwards.forEach((b, i) => {
        for (const site of sitesOf(b)) {
          const list = backwardsBySite.get(site);
          if (list) list.push(i);
          else backwardsBySite.set(site, [i]);
        }
      });
      for (const second of backwards) {
        const secondSites = sitesOf(second);
        if (secondSites.size === 0) continue;
        const sharing = new Set<number>();
        for (const site of secondSites) for (const i of backwardsBySite.get(site) ?? []) sharing.add(i);
        for (const first of [...sharing].sort((a, b) => a - b).map((i) => backwards[i])) {
          if (retainsGraph(first)) continue;
          const firstSites = sitesOf(first);
          const sequential = first !== second && flow.mayFollow(first.call, second.call);
          // Sites inside a helper's or a model's body run anew at each call; the call itself stands for them.
          const visible = (s: ts.Node): boolean => {
            const fn = enclosingFunction(s);
            return [first.call, second.call].every((b) => fn === enclosingFunction(b) || isAncestor(fn, b));
          };
          let shared = [...firstSites].filter((s) => secondSites.has(s) && visible(s));
          if (!sequential) {
            if (!flow.mayFollow(first.call, second.call, { loops: true })) continue;
            // Only a loop that brings the backward round again without rebuilding the graph matters.
            const loop = innermostLoop(first.call, second.call);
            shared = loop ? shared.filter((s) => !isAncestor(loop, s)) : [];
          }
          const site = shared.at(-1);
          if (!site) continue;
          const data = { second: textOf(second.call), first: textOf(first.call), shared: textOf(site), line: lineOf(first.call) };
          reportAt(context, {
            node: second.call,
            messageId: sequential ? 'secondBackward' : 'backwardInLoop',
            data,
            // The fix belongs in the helper's file when the first backward is a helper's.
            suggest:
              sequential && (!first.via || first.viaHere)
                ? [
                    {
                      messageId: 'retainGraph',
                      data,
                      fix: (fixer) => {
                        const backward = first.via ?? first.call;
                        return setOption(fixer, backward, index.libraryCalls.has(backward) ? 2 : 1, 'retainGraph', 'true') ?? null;
                      },
                    },
                  ]
                : [],
            related: [
              { node: site, message: `${textOf(site)} saves tensors for backward here` },
              ...(first === second ? [] : [{ node: first.via ?? first.call, message: 'the first backward frees them here' }]),
            ],
          });
          break;
        }
      }
    });
  },
});

/** `{ retainGraph: true }` or `{ createGraph: true }`; options that are not a literal count as retaining (unknown). */
interface Backward {
  readonly call: ts.CallExpression;
  /** The tensors backpropagated from. */
  readonly roots: readonly ts.Expression[];
  readonly options: ts.Expression | undefined;
  /** For a call of a helper (of another file, or of this one with one call site): the backward in its body. */
  readonly via?: ts.CallExpression;
  /** The helper is this file's, so the fix can go into its backward. */
  readonly viaHere?: true;
}

function retainsGraph(backward: Backward): boolean {
  const options = backward.options;
  if (!options) return false;
  const stripped = stripExpression(options);
  if (!ts.isObjectLiteralExpression(stripped)) return true;
  if (stripped.properties.some((p) => !ts.isPropertyAssignment(p))) return true;
  const flag = (key: string): boolean | undefined => {
    const value = propertyOf(stripped, key);
    if (!value) return false;
    return value.kind === ts.SyntaxKind.TrueKeyword ? true : value.kind === ts.SyntaxKind.FalseKeyword ? false : undefined;
  };
  const retain = flag('retainGraph');
  const create = flag('createGraph');
  return retain !== false || create !== false;
}
