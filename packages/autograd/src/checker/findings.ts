import type { GradFlowErrorCode } from '../errors.js';

/**
 * The rule ids of `@gradflow/eslint-plugin`; runtime findings carry the same ids. The engine does
 * not depend on the rules, so this is a copy: the plugin's tests fail when it and the plugin's
 * rules differ (packages/eslint-plugin/test/plugin.test.ts).
 */
export const RULE_IDS = [
  '@gradflow/no-leaf-inplace',
  '@gradflow/no-freeze-after-optimizer',
  '@gradflow/require-set-to-none',
  '@gradflow/valid-no-grad',
  '@gradflow/no-inplace-on-saved-tensor',
  '@gradflow/no-backward-twice',
  '@gradflow/no-nonleaf-grad',
  '@gradflow/valid-requires-grad',
  '@gradflow/require-zero-grad',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/** What the checker saw happen silently (the engine raised no error). */
export type Observation =
  /** A parameter with `requiresGrad` false was moved by `step()`. */
  | 'FROZEN_PARAM_MOVED'
  /** A trainable parameter whose grad was zero-filled (not null) was moved by optimizer state. */
  | 'ZERO_GRAD_PARAM_MOVED'
  /** A trainable parameter in an optimizer got no gradient because its path went through `noGrad`. */
  | 'NO_GRAD_THROUGH_NOGRAD'
  /** `step()` used gradients still holding contributions from before the previous step. */
  | 'STALE_GRADIENTS'
  /** `.grad` of a non-leaf without `retainGrad()` was read and returned null. */
  | 'NONLEAF_GRAD_NULL';

/** A runtime outcome: an engine error code or a silent observation. */
export type FindingKind = GradFlowErrorCode | Observation;

export interface GradFlowFinding {
  /** The static rule that catches this mistake; null for engine errors no rule is about. */
  readonly ruleId: RuleId | null;
  readonly kind: FindingKind;
  /** What happened, naming the parameter or optimizer, and how to fix it. */
  readonly message: string;
  /** The parameter, tensor or optimizer concerned, when there is one. */
  readonly subject?: string;
  /** How many times this same finding occurred (findings are reported once per kind and subject). */
  count: number;
}

const RULE_OF_ERROR: Partial<Record<GradFlowErrorCode, RuleId>> = {
  LEAF_INPLACE: '@gradflow/no-leaf-inplace',
  SAVED_TENSOR_MODIFIED: '@gradflow/no-inplace-on-saved-tensor',
  GRAPH_FREED: '@gradflow/no-backward-twice',
  NO_GRAD_FN: '@gradflow/valid-no-grad',
  ASYNC_NO_GRAD: '@gradflow/valid-no-grad',
  NONLEAF_REQUIRES_GRAD: '@gradflow/valid-requires-grad',
  DTYPE_REQUIRES_GRAD: '@gradflow/valid-requires-grad',
};

const RULE_OF_OBSERVATION: Record<Observation, RuleId> = {
  FROZEN_PARAM_MOVED: '@gradflow/no-freeze-after-optimizer',
  ZERO_GRAD_PARAM_MOVED: '@gradflow/require-set-to-none',
  NO_GRAD_THROUGH_NOGRAD: '@gradflow/valid-no-grad',
  STALE_GRADIENTS: '@gradflow/require-zero-grad',
  NONLEAF_GRAD_NULL: '@gradflow/no-nonleaf-grad',
};

const RULE_OF_KIND: Partial<Record<FindingKind, RuleId>> = { ...RULE_OF_ERROR, ...RULE_OF_OBSERVATION };

/**
 * The rule that a runtime outcome (error code or observation) belongs to; null for an engine
 * error no rule is about (and for any other string). The validation suite's fixture labels are
 * exactly the kinds with a rule.
 */
export function ruleForKind(kind: FindingKind): RuleId | null {
  return Object.hasOwn(RULE_OF_KIND, kind) ? (RULE_OF_KIND[kind] ?? null) : null;
}
