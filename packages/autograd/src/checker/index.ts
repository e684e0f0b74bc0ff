export { enableGradFlowChecker } from './checker.js';
export type { GradFlowChecker, GradFlowCheckerOptions } from './checker.js';
export { RULE_IDS, ruleForKind } from './findings.js';
export type { FindingKind, GradFlowFinding, Observation, RuleId } from './findings.js';
