export { Tensor } from './tensor.js';
export type { BackwardOptions, NestedArray, Operand } from './tensor.js';
export {
  tensor,
  zeros,
  ones,
  randn,
  rand,
  uniform,
  full,
  zerosLike,
  onesLike,
  randnLike,
  arange,
  linspace,
  eye,
  randint,
} from './creation.js';
export { cat, stack, where, multinomial } from './functions.js';
export type { TensorOptions, TensorData } from './creation.js';
export { manualSeed } from './random.js';
export { noGrad, enableGrad, isGradEnabled } from './grad-mode.js';
export { GradFlowError } from './errors.js';
export type { GradFlowErrorCode } from './errors.js';
export type { DType, Device } from './dtype.js';
export { setMaxTensorBytes, getMaxTensorBytes, DEFAULT_MAX_TENSOR_BYTES } from './dtype.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as autograd from './autograd/index.js';
export { OP_METADATA, INPLACE_METHODS, OP_METHODS } from './ops/metadata.js';
export { enableGradFlowChecker, RULE_IDS, ruleForKind } from './checker/index.js';
export type { FindingKind, GradFlowChecker, GradFlowCheckerOptions, GradFlowFinding, Observation, RuleId } from './checker/index.js';
export { initWebGPU } from './webgpu.js';
export type { WebGPUInfo } from './webgpu.js';
