import { Tensor } from '../tensor.js';
import { ops, type OpName } from './table.js';
import type { OpMeta } from './spec.js';

/**
 * The op table's declarations without the kernels: which inputs each op saves for backward.
 * The runtime version check and the lint rules read this same data, so they cannot disagree.
 */
export const OP_METADATA: Readonly<Record<OpName, OpMeta>> = Object.fromEntries(
  Object.entries(ops).map(([name, spec]) => [name, { inputs: spec.inputs, saves: spec.saves, view: spec.view ?? false }]),
) as Record<OpName, OpMeta>;

/**
 * Tensor methods that run a table op directly: method name → op, derived from the op table — every
 * op the Tensor class has a method of the same name for (ops such as `fill` and `copy` are reached
 * only through their in-place methods). test/op-methods.test.ts fails when a public Tensor method
 * is neither here, in INPLACE_METHODS, nor among the methods it knows record no single op.
 * (No module tensor.ts imports may import this one: Tensor must be defined when this runs.)
 */
export const OP_METHODS: Readonly<Record<string, OpName>> = Object.fromEntries(
  (Object.keys(ops) as OpName[])
    .filter((op) => typeof Object.getOwnPropertyDescriptor(Tensor.prototype, op)?.value === 'function')
    .map((op) => [op, op]),
);

/** In-place Tensor methods: method name → the op whose out-of-place form they record. */
export const INPLACE_METHODS: Readonly<Record<string, OpName>> = {
  add_: 'add',
  sub_: 'sub',
  mul_: 'mul',
  div_: 'div',
  relu_: 'relu',
  clamp_: 'clamp',
  zero_: 'fill',
  fill_: 'fill',
  copy_: 'copy',
  setItem_: 'setItem',
  maskedFill_: 'maskedFill',
};
