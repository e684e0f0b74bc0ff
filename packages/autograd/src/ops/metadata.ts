import { ops, type OpName } from './table.js';
import type { OpMeta } from './spec.js';

/**
 * The op table's declarations without the kernels: which inputs each op saves for backward.
 * The runtime version check and the lint rules read this same data, so they cannot disagree.
 */
export const OP_METADATA: Readonly<Record<OpName, OpMeta>> = Object.fromEntries(
  Object.entries(ops).map(([name, spec]) => [name, { inputs: spec.inputs, saves: spec.saves, view: spec.view ?? false }]),
) as Record<OpName, OpMeta>;

/** Tensor methods that run a table op directly: method name → op. */
export const OP_METHODS: Readonly<Record<string, OpName>> = {
  add: 'add', sub: 'sub', mul: 'mul', div: 'div', pow: 'pow', neg: 'neg', exp: 'exp', log: 'log',
  sqrt: 'sqrt', abs: 'abs', relu: 'relu', sigmoid: 'sigmoid', tanh: 'tanh', matmul: 'matmul',
  sum: 'sum', mean: 'mean', reshape: 'reshape', transpose: 'transpose', expand: 'expand', index: 'index',
  clone: 'clone', softmax: 'softmax', logSoftmax: 'logSoftmax', to: 'to',
};

/** In-place Tensor methods: method name → the op whose out-of-place form they record. */
export const INPLACE_METHODS: Readonly<Record<string, OpName>> = {
  add_: 'add', sub_: 'sub', mul_: 'mul', div_: 'div', relu_: 'relu', clamp_: 'clamp',
  zero_: 'fill', fill_: 'fill', copy_: 'copy', setItem_: 'setItem',
};
