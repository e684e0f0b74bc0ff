import noLeafInplace from './no-leaf-inplace.js';
import noNonleafGrad from './no-nonleaf-grad.js';
import validRequiresGrad from './valid-requires-grad.js';

export { ruleDocUrl } from './util/create-rule.js';

/** Every gradflow rule by id (without the plugin prefix), one file each in this folder. */
export const rules = {
  'no-leaf-inplace': noLeafInplace,
  'no-nonleaf-grad': noNonleafGrad,
  'valid-requires-grad': validRequiresGrad,
};

export type RuleId = keyof typeof rules;
