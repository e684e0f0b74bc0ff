import type { BinaryOp, UnaryOp } from '../../backend.js';
import { LINEAR_MAIN, MATH_HELPERS, paramsBinding, stridedOffsets, type WgslType } from './common.js';

/**
 * One strided "map" kernel: out[i] = expr(x0[i], x1[i], s0, s1) over an output view, each input
 * broadcast to the output's shape. Parameter layout: n, s0 (f32, i32), s1 (f32, i32), shape[rank],
 * then output and inputs as (offset, strides[rank]). Serves unary, binary, scalar, copy, fill, clamp.
 */
export interface MapSpec {
  readonly outType: WgslType;
  readonly inTypes: readonly WgslType[];
  /** Type the expression computes in: i32 only when every operand is i32. */
  readonly compute: WgslType;
  /** WGSL expression of type `compute` over x0, x1, … (inputs) and s0, s1 (scalars). */
  readonly expr: string;
  readonly rank: number;
}

export const MAP_SHAPE_BASE = 5;

export function mapShader(s: MapSpec): string {
  const T = s.compute;
  const inputs = s.inTypes.map((t, j) => `@group(0) @binding(${String(j + 1)}) var<storage, read> X${String(j)}: array<${t}>;`);
  const loads = s.inTypes.map((_, j) => `let x${String(j)} = ${T}(X${String(j)}[o${String(j + 1)}]);`);
  const scalar = (k: number): string => (T === 'f32' ? `bitcast<f32>(P[${String(1 + 2 * k)}])` : `bitcast<i32>(P[${String(2 + 2 * k)}])`);
  return `${MATH_HELPERS}
@group(0) @binding(0) var<storage, read_write> Y: array<${s.outType}>;
${inputs.join('\n')}
${paramsBinding(s.inTypes.length + 1)}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  ${stridedOffsets('i', s.rank, s.inTypes.length + 1, MAP_SHAPE_BASE)}
  let s0 = ${scalar(0)};
  let s1 = ${scalar(1)};
  ${loads.join('\n  ')}
  Y[o0] = ${s.outType}(${s.expr});
}`;
}

export function unaryExpr(op: UnaryOp, x: string, T: WgslType): string {
  switch (op) {
    case 'neg':
      return `-${x}`;
    case 'exp':
      return `exp(${x})`;
    case 'log':
      return `log(${x})`;
    case 'log1p':
      return `log1p_(${x})`;
    case 'sqrt':
      return `sqrt(${x})`;
    case 'abs':
      return `abs(${x})`;
    // NaN passes through (PyTorch's relu(NaN) is NaN), as the CPU's `v <= 0 ? 0 : v`.
    case 'relu':
      return T === 'f32' ? `select(0.0, ${x}, ${x} > 0.0 || isnan_(${x}))` : `select(${T}(0), ${x}, ${x} > ${T}(0))`;
    case 'sigmoid':
      return `sigmoid_(${x})`;
    case 'tanh':
      return `tanh_(${x})`;
    case 'sign':
      return `sign(${x})`;
    case 'step':
      return T === 'f32' ? `select(0.0, 1.0, ${x} > 0.0 || isnan_(${x}))` : `select(${T}(0), ${T}(1), ${x} > ${T}(0))`;
  }
}

export function binaryExpr(op: BinaryOp, a: string, b: string, T: WgslType): string {
  const cmp = (o: string): string => `select(${T}(0), ${T}(1), ${a} ${o} ${b})`;
  switch (op) {
    case 'add':
      return `${a} + ${b}`;
    case 'sub':
      return `${a} - ${b}`;
    case 'mul':
      return `${a} * ${b}`;
    case 'div':
      return `${a} / ${b}`;
    case 'pow':
      return `${T}(pow_(f32(${a}), f32(${b})))`;
    case 'gt':
      return cmp('>');
    case 'lt':
      return cmp('<');
    case 'ge':
      return cmp('>=');
    case 'le':
      return cmp('<=');
    case 'eq':
      return cmp('==');
  }
}

/** oneHot: out[r, c] = (indices[r] == c) for contiguous out [rows, classes]. P: n, classes, idxOffset, idxStride. */
export function oneHotShader(outType: WgslType): string {
  return `
@group(0) @binding(0) var<storage, read_write> Y: array<${outType}>;
@group(0) @binding(1) var<storage, read> I: array<i32>;
${paramsBinding(2)}
${LINEAR_MAIN}
  if (i >= P[0]) { return; }
  let row = i / P[1];
  let col = i32(i % P[1]);
  Y[i] = select(${outType}(0), ${outType}(1), I[P[2] + row * P[3]] == col);
}`;
}
