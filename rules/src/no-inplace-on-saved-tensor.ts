import { INPLACE_METHODS } from '@gradflow/autograd';
import ts from 'typescript';
import { stripExpression } from './analysis/bindings.js';
import type { MethodCall, OptimizerSite } from './analysis/file-index.js';
import type { SavingSite } from './analysis/saved.js';
import { isAncestor } from './analysis/syntax.js';
import { callsIntoOtherFiles } from './analysis/program-calls.js';
import { inplaceThrough } from './analysis/helper-writes.js';
import { helperOf } from './analysis/summaries.js';
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
      modifiedSaved:
        '`{{tensor}}` was saved for backward by `{{op}}` (line {{line}}); `{{change}}` modifies it in place and bumps its version, so `{{backward}}` throws SAVED_TENSOR_MODIFIED at run time. Modify a clone, or do it after backward().',
      cloneOperand: 'Let `{{op}}` save a clone of `{{tensor}}`',
    },
  },
  create(context) {
    return onProgram(context, ({ index, training, flow, saved, identity, program, sourceFile }) => {
      const isTensor = (m: MethodCall): boolean => m.receiverClass.kind === 'tensor' || m.receiverClass.kind === 'parameter';
      // The keys that ops of this file's method calls save: computed only if an optimizer step meets an
      // op of another kind (a library function), whose key counts only if some method call saves it too.
      let methodCallKeys: Set<string> | undefined;
      const savedByMethodCalls = (key: string): boolean => {
        methodCallKeys ??= new Set(index.methodCalls.flatMap((m) => saved.savedBy(m.call).saved.map((x) => x.key)));
        return methodCallKeys.has(key);
      };
      const isMethodCall = new Set<ts.Node>(index.methodCalls.map((m) => m.call));
      const backwards = index.methodCalls.filter((m) => m.method === 'backward' && isTensor(m));
      // Backwards by each function they run in (their frames): a step can follow only a backward
      // that shares a frame with it (mayFollow is false without one), so only those are asked.
      const backwardsByFrame = new Map<ts.Node, MethodCall[]>();
      for (const b of backwards) {
        for (const fn of new Set(flow.frames(b.call).map(([, f]) => f))) {
          const list = backwardsByFrame.get(fn);
          if (list) list.push(b);
          else backwardsByFrame.set(fn, [b]);
        }
      }
      // Whether some backward sharing a frame with `node` may run before it: the backwards of each
      // frame are tried nearest-preceding first (in a notebook of a thousand steps, the step's own).
      const someBackwardBefore = (node: ts.CallExpression): boolean => {
        const tried = new Set<MethodCall>();
        for (const [at, fn] of flow.frames(node)) {
          const list = backwardsByFrame.get(fn) ?? [];
          // The backwards are in file order: the first one after `at` by binary search on their positions.
          let lo = 0;
          let hi = list.length;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (list[mid].call.pos <= at.pos) lo = mid + 1;
            else hi = mid;
          }
          for (let k = 0; k < list.length; k++) {
            // lo − 1, lo − 2, …, 0, then lo, lo + 1, …
            const b = list[k < lo ? lo - 1 - k : k];
            if (tried.has(b)) continue;
            tried.add(b);
            if (training.mayFollow(b.call, node, true)) return true;
          }
        }
        return false;
      };
      // In-place writers: in-place tensor methods (one tensor) and optimizer.step() (every parameter it
      // holds: the saved keys under one of its held paths, `a` or `a.b` for `a.b.c`).
      const writers: { node: ts.CallExpression; keys: readonly string[]; under?: readonly string[] }[] = [];
      const heldPrefixes = new Map<OptimizerSite, string[]>();
      for (const m of index.methodCalls) {
        if (m.method in INPLACE_METHODS && isTensor(m)) {
          // `x.mul_(2).sub_(1)` is one change: the first in-place call of a chain stands for it.
          const inner = stripExpression(m.receiver);
          if (
            ts.isCallExpression(inner) &&
            ts.isPropertyAccessExpression(inner.expression) &&
            inner.expression.name.text in INPLACE_METHODS
          )
            continue;
          const key = identity.identity(m.receiver);
          if (key !== undefined) writers.push({ node: m.call, keys: [key] });
        } else if (m.method === 'step' && m.receiverClass.kind === 'optimizer') {
          // step() only moves parameters that have a gradient, so some backward must come first.
          if (!someBackwardBefore(m.call)) continue;
          const site = training.optimizerOf(m.receiver);
          const held = site ? training.held(site) : undefined;
          if (!site || !held) continue;
          let under = heldPrefixes.get(site);
          if (!under) {
            under = [...new Set(held.filter((p) => !p.partial).map((p) => [p.root, ...p.segments].join('.')))];
            heldPrefixes.set(site, under);
          }
          writers.push({ node: m.call, keys: [], under });
        }
      }
      // Helpers of other files that modify what they are given in place (`jitter_(x)`): the call writes its argument.
      for (const call of callsIntoOtherFiles(program, sourceFile)) {
        const helper = helperOf(program, call);
        const keys = helper ? inplaceThrough(helper, call).flatMap(({ argument }) => identity.identity(argument) ?? []) : [];
        if (keys.length > 0) writers.push({ node: call, keys });
      }
      // Each (op, backward that reads what it saved) spans an interval of its innermost common
      // function; only a writer that runs in that function (or a helper called from it) inside the
      // interval can come between them, so each writer asks the order question of those pairs only
      // (linear in the file's length, not quadratic).
      const spans = new SpanIndex();
      for (const b of backwards) {
        for (const site of saved.savingSites(b.receiver)) {
          const op = saved.savedBy(site);
          if (op.saved.length === 0) continue;
          const frame = flow.commonFrame(site, b.call);
          if (frame)
            spans.add(frame.fn, Math.min(frame.a.getStart(), frame.b.getStart()), Math.max(frame.a.getEnd(), frame.b.getEnd()), {
              op,
              backward: b.call,
            });
        }
      }
      for (const writer of writers) {
        let done = false;
        const keys = new Set(writer.keys);
        const written = (key: string, op: SavingSite): boolean =>
          keys.has(key) ||
          (writer.under?.some((p) => key === p || key.startsWith(`${p}.`)) === true &&
            (isMethodCall.has(op.site) || savedByMethodCalls(key)));
        const candidates = flow.frames(writer.node).flatMap(([node, fn]) => spans.overlapping(fn, node.getStart(), node.getEnd()));
        for (const { op, backward } of candidates) {
          if (done || op.site === writer.node) continue;
          const saved = op.saved.find((s) => written(s.key, op));
          if (!saved || !training.mayFollow(op.site, writer.node) || !training.mayFollow(writer.node, backward)) continue;
          done = true;
          const savedExpression = saved.expression;
          const tensor = saved.label ?? textOf(savedExpression);
          // Every op between which and its backward this change comes saves the tensor too: cloning at
          // one of them only would leave the others reading the changed values (a second forward).
          const savers = candidates.flatMap((c) => {
            const s = c.op.saved.find((x) => x.key === saved.key);
            return s && training.mayFollow(c.op.site, writer.node) && training.mayFollow(writer.node, c.backward)
              ? [{ site: c.op.site, s }]
              : [];
          });
          const clones = [...new Set(savers.map((x) => x.s.expression))];
          const canClone = savers.every((x) => x.s.label === undefined && isAncestor(x.site, x.s.expression));
          const data = {
            tensor,
            op: textOf(op.site),
            line: String(op.site.getSourceFile().getLineAndCharacterOfPosition(op.site.getStart()).line + 1),
            change: textOf(writer.node),
            backward: textOf(backward),
          };
          reportAt(context, {
            node: writer.node,
            messageId: 'modifiedSaved',
            data,
            suggest: canClone
              ? [{ messageId: 'cloneOperand', data, fix: (fixer) => clones.map((e) => fixer.insertTextAfterRange(rangeOf(e), '.clone()')) }]
              : [],
            related: [
              { node: op.site, message: `${tensor} is saved for backward here` },
              { node: backward, message: 'backward reads the saved tensor here' },
            ],
          });
        }
      }
    });
  },
});

/** Intervals per function, sorted by start, for "which spans contain this position" queries. */
class SpanIndex<T = { op: SavingSite; backward: ts.CallExpression }> {
  private readonly byFunction = new Map<ts.Node, { spans: { start: number; end: number; value: T }[]; sorted: boolean; widest: number }>();

  add(fn: ts.Node, start: number, end: number, value: T): void {
    let entry = this.byFunction.get(fn);
    if (!entry) {
      entry = { spans: [], sorted: true, widest: 0 };
      this.byFunction.set(fn, entry);
    }
    entry.spans.push({ start, end, value });
    entry.sorted = false;
    entry.widest = Math.max(entry.widest, end - start);
  }

  /** Values whose span overlaps [start, end] in `fn`. */
  overlapping(fn: ts.Node, start: number, end: number): T[] {
    const entry = this.byFunction.get(fn);
    if (!entry) return [];
    if (!entry.sorted) {
      entry.spans.sort((a, b) => a.start - b.start);
      entry.sorted = true;
    }
    const { spans, widest } = entry;
    // The last span starting at or before `end`, then back while a span that wide could still reach `start`.
    let lo = 0;
    let hi = spans.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (spans[mid].start <= end) lo = mid + 1;
      else hi = mid;
    }
    const out: T[] = [];
    for (let i = lo - 1; i >= 0 && spans[i].start >= start - widest; i--) {
      if (spans[i].end >= start) out.push(spans[i].value);
    }
    return out;
  }
}
