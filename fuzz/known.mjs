// Disagreements between the linter and the engine that are explained, matched on the generated
// spec and counted separately (never dropped):
//   blind-spot  a blind spot the rule's doc lists (quoted);
//   by-design   the rule's doc describes a pattern the linter reports although the engine sees no
//               harm in that program (a choice, not a miss);
//   known-open  a disagreement the fuzzer found and reported (issue 10), not yet decided: it stays
//               here, with its minimised program named, until the rule (or the checker) changes.
// Keep predicates narrow: an entry must not hide a different disagreement of the same rule.
import { activeBlocks } from './generator.mjs';

/**
 * @typedef {import('./generator.mjs').Spec} Spec
 * @typedef {{ status: 'blind-spot' | 'by-design' | 'known-open', reason: string }} Explanation
 */

/** @param {Spec} spec @param {string} kind @returns {any} */
const block = (spec, kind) => activeBlocks(spec).find((b) => b.kind === kind);

/** @type {{ rule: string, cell: 'FP' | 'FN' | 'LINE', status: Explanation['status'], reason: string, matches: (spec: Spec) => boolean }[]} */
export const KNOWN = [
  {
    rule: 'no-leaf-inplace',
    cell: 'FN',
    status: 'blind-spot',
    reason:
      'rules/docs/no-leaf-inplace.md: "A parameter list whose modules a freeze covers or may cover (… a freeze by name … may cover any part of its model) is not reported" (a manual update of parameters of a model that a freeze by name covers in part)',
    matches: (s) => block(s, 'update') !== undefined && block(s, 'freeze')?.form === 'named',
  },
  {
    rule: 'require-zero-grad',
    cell: 'FN',
    status: 'blind-spot',
    reason:
      'rules/docs/require-zero-grad.md: "a use whose reach is not certain (a branch, a helper of another file, a user module whose parameters the walk cannot list) leaves the clearing counted as complete" (the loop clears only the head, and the trunk is detached on some epochs or reached through a helper)',
    matches: (s) => s.clear === 'partialModel' && block(s, 'cut') !== undefined,
  },
  {
    rule: 'no-leaf-inplace',
    cell: 'FN',
    status: 'blind-spot',
    reason:
      'rules/docs/no-leaf-inplace.md: "A `requiresGrad = false` anywhere in the file on the same tensor silences the rule for that tensor" (the in-placed weight is frozen elsewhere in the file)',
    matches: (s) => block(s, 'leafInplace')?.target === 'param' && !block(s, 'leafInplace').noGrad && block(s, 'freeze') !== undefined,
  },
  {
    rule: 'valid-no-grad',
    cell: 'FN',
    status: 'blind-spot',
    reason:
      'rules/docs/valid-no-grad.md: "Case 2 needs … the module to have no forward with gradients anywhere in the file" (the trunk runs under noGrad only on odd epochs; cf. fixtures/require-set-to-none/model-forward-nograd-flag)',
    matches: (s) => block(s, 'cut')?.how === 'noGrad' && block(s, 'cut').where === 'conditional',
  },
  {
    rule: 'valid-no-grad',
    cell: 'FN',
    status: 'blind-spot',
    reason:
      'rules/docs/valid-no-grad.md: "Case 2 needs … no freeze of it" (the trunk run under noGrad is also frozen, at epoch 1 or after the optimizer)',
    matches: (s) =>
      block(s, 'cut')?.how === 'noGrad' &&
      block(s, 'cut').where === 'forward' &&
      block(s, 'freeze') !== undefined &&
      block(s, 'freeze').when !== 'before',
  },
  {
    rule: 'no-freeze-after-optimizer',
    cell: 'FP',
    status: 'by-design',
    reason:
      'rules/docs/no-freeze-after-optimizer.md reports the order itself where it cannot show that nothing moves ("A clearing under a condition (`if (epoch > 0) opt.zeroGrad(…)`) does not count, and any `requiresGrad = true` (or flag that is not a literal) in the file keeps the rule reporting"): the engine sees a frozen parameter move only when it still has a gradient at a step (a stateful optimizer on zeros, or no clearing since its last backward)',
    matches: (s) => block(s, 'freeze') !== undefined && block(s, 'freeze').when !== 'before',
  },
  {
    rule: 'no-freeze-after-optimizer',
    cell: 'FN',
    status: 'blind-spot',
    reason:
      'rules/docs/no-freeze-after-optimizer.md: "A conditional freeze (inside an `if` … and is reported only when the optimizer holds all of `m`" (the freeze by name filters `model.namedParameters()`, the optimizer holds `model.at(0)` and `model.at(2)` in param groups, or only `model.at(0)` beside a second optimizer)',
    matches: (s) =>
      (s.groups || block(s, 'secondOptimizer') !== undefined) &&
      block(s, 'freeze')?.form === 'named' &&
      block(s, 'freeze').when !== 'before',
  },
  // --- found by the fuzzer (issue 10), open ---
  {
    rule: 'valid-no-grad',
    cell: 'FN',
    status: 'blind-spot',
    reason:
      'rules/docs/valid-no-grad.md: "Case 2 needs … no freeze of it" (the whole model runs under noGrad, its output is made a leaf with `requiresGrad = true`, and part of the model is frozen: the rest never gets a gradient, NO_GRAD_THROUGH_NOGRAD)',
    matches: (s) =>
      block(s, 'cut')?.how === 'noGrad' &&
      block(s, 'cut').where === 'output' &&
      block(s, 'requiresGrad')?.target === 'nonleaf' &&
      block(s, 'requiresGrad').value === true &&
      block(s, 'freeze') !== undefined,
  },
  {
    rule: 'valid-no-grad',
    cell: 'FN',
    status: 'known-open',
    reason:
      'fuzz, a CHECKER false positive (the oracle, not the linter): the trunk gets no gradient because of a `.detach()` (no noGrad on its path), and its weight is clipped in place under noGrad after step() (the WGAN pattern); the checker reports NO_GRAD_THROUGH_NOGRAD ("its only path to the loss went through noGrad()") because flow.cutAfter counts the in-place update under noGrad as a use',
    matches: (s) =>
      block(s, 'leafInplace')?.target === 'param' &&
      block(s, 'leafInplace').noGrad &&
      block(s, 'cut')?.how === 'detach' &&
      (block(s, 'cut').where === 'conditional' || block(s, 'cut').where === 'forward'),
  },
  {
    rule: 'no-inplace-on-saved-tensor',
    cell: 'FN',
    status: 'blind-spot',
    reason:
      'rules/docs/no-inplace-on-saved-tensor.md: "What a layer saves for its weight\'s gradient depends on that weight needing one: where the layer may be frozen anywhere in the file […] the rule assumes nothing about it" (the encoder is frozen at epoch 1, so at epoch 0 it still saves x)',
    matches: (s) => block(s, 'modelSaved')?.timing === 'before' && block(s, 'freeze')?.when === 'epoch',
  },
];

/** @param {Spec} spec @param {string} rule @param {'FP' | 'FN' | 'LINE'} cell @returns {Explanation | null} */
export function explainDisagreement(spec, rule, cell) {
  const hit = KNOWN.find((k) => k.rule === rule && k.cell === cell && k.matches(spec));
  return hit ? { status: hit.status, reason: hit.reason } : null;
}

/**
 * Suggestions that fail when applied (rule bugs, reported in issue 10 with a fixture each): matched
 * on the failed proof (rule, suggestion, why it failed, the line it was offered on), counted and
 * listed, never dropped. @type {{ rule: string, reason: string, fixture: string, matches: (p: import('./suggestions.mjs').Proof) => boolean }[]}
 */
export const KNOWN_SUGGESTION_FAILURES = [
  // --- found on the hand-written fixtures (fuzz/suggestions.test.ts) ---
  {
    rule: 'valid-requires-grad',
    reason:
      'fixtures: "Create it with dtype \'float32\'" on int32 class labels created with `requiresGrad: true` makes them float32, and crossEntropy then throws DTYPE_MISMATCH (its target must hold int32 class indices): for labels the fix is to drop `requiresGrad`, not to change the dtype',
    fixture: 'fixtures/valid-requires-grad/int-labels-require-grad.ts',
    matches: (p) =>
      p.rule === 'valid-requires-grad' && /dtype/.test(p.desc) && p.why.length > 0 && p.why.every((w) => w.includes('DTYPE_MISMATCH')),
  },
];

/** @param {import('./suggestions.mjs').Proof} proof */
export function explainSuggestionFailure(proof) {
  return KNOWN_SUGGESTION_FAILURES.find((k) => k.matches(proof)) ?? null;
}

/**
 * The fixture of each open disagreement (its minimised program, labelled from the run, with
 * `@known-difference`), by the start of the entry's reason; null only for a checker bug (a fixture
 * would carry the checker's wrong label). Checked by fuzz/fuzz.test.ts.
 * @type {[string, string | null][]}
 */
export const OPEN_FIXTURES = [['fuzz, a CHECKER false positive', null]];

/** The fixture of an open disagreement of KNOWN (undefined when none is listed). @param {{ reason: string }} entry */
export function openFixture(entry) {
  return OPEN_FIXTURES.find(([start]) => entry.reason.startsWith(start))?.[1];
}
