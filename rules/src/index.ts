import noBackwardTwice from './no-backward-twice.js';
import noFreezeAfterOptimizer from './no-freeze-after-optimizer.js';
import noInplaceOnSavedTensor from './no-inplace-on-saved-tensor.js';
import noLeafInplace from './no-leaf-inplace.js';
import noNonleafGrad from './no-nonleaf-grad.js';
import requireSetToNone from './require-set-to-none.js';
import requireZeroGrad from './require-zero-grad.js';
import validNoGrad from './valid-no-grad.js';
import validRequiresGrad from './valid-requires-grad.js';

export { ruleDocUrl } from './util/create-rule.js';

/**
 * The rule modules, one file each in this folder. This import list is the only list of rules:
 * ids, the plugin's `rules` and its configs (from each rule's `meta.docs.recommended`) derive from it.
 */
const ruleModules = [
  noLeafInplace,
  noFreezeAfterOptimizer,
  requireSetToNone,
  validNoGrad,
  noInplaceOnSavedTensor,
  noBackwardTwice,
  noNonleafGrad,
  validRequiresGrad,
  requireZeroGrad,
] as const;

type RuleModule = (typeof ruleModules)[number];

/** A rule's id without the plugin prefix: its module's `name`. */
export type RuleId = RuleModule['name'];

/** Every gradflow rule by id (without the plugin prefix). */
export const rules = Object.fromEntries(ruleModules.map((rule) => [rule.name, rule])) as {
  readonly [R in RuleModule as R['name']]: R;
};
