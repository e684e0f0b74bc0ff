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

/** Every gradflow rule by id (without the plugin prefix), one file each in this folder. */
export const rules = {
  'no-leaf-inplace': noLeafInplace,
  'no-freeze-after-optimizer': noFreezeAfterOptimizer,
  'require-set-to-none': requireSetToNone,
  'valid-no-grad': validNoGrad,
  'no-inplace-on-saved-tensor': noInplaceOnSavedTensor,
  'no-backward-twice': noBackwardTwice,
  'no-nonleaf-grad': noNonleafGrad,
  'valid-requires-grad': validRequiresGrad,
  'require-zero-grad': requireZeroGrad,
};

export type RuleId = keyof typeof rules;
