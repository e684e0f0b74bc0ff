export { Module } from './module.js';
export type { AnyModule, StateDict, LoadStateDictResult } from './module.js';
export { Parameter } from './parameter.js';
export {
  Linear,
  Sequential,
  ReLU,
  Sigmoid,
  Tanh,
  Identity,
  Flatten,
  ModuleList,
  ModuleDict,
  LeakyReLU,
  SiLU,
  GELU,
  Softmax,
  Dropout,
  Embedding,
  LayerNorm,
  BatchNorm1d,
  BatchNorm2d,
} from './layers.js';
export type { LayerNormModuleOptions, BatchNormOptions } from './layers.js';
export * as functional from './functional.js';
export { Conv2d, MaxPool2d, AvgPool2d } from './conv.js';
export type { Conv2dModuleOptions } from './conv.js';
export * as init from './init.js';
export * as utils from './utils.js';
