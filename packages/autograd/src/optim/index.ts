export { Optimizer } from './optimizer.js';
export type { ParamGroup, ParamGroupInput, ParamsInput, ParamState, OptimizerStateDict } from './optimizer.js';
export { SGD } from './sgd.js';
export type { SGDOptions, SGDState } from './sgd.js';
export { Adam, AdamW } from './adam.js';
export type { AdamOptions, AdamState } from './adam.js';
export { RMSprop } from './rmsprop.js';
export type { RMSpropOptions, RMSpropState } from './rmsprop.js';
export * as lrScheduler from './lr-scheduler.js';
