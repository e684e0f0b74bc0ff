export { Module } from './module.js';
export { Parameter } from './parameter.js';
export { Linear, Sequential, ReLU, Sigmoid, Tanh } from './layers.js';
export * as functional from './functional.js';
