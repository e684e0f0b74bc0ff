import type { BinaryOp, UnaryOp } from '../backend/backend.js';
import { promoteTypes, promoteWithScalar, type Device } from '../dtype.js';
import { fail } from '../errors.js';
import { isGradEnabled, noGrad } from '../grad-mode.js';
import { broadcastShapes, contiguousStrides, fmtShape, numel, shapeEq } from '../shape.js';
import { Tensor } from '../tensor.js';
import { defineOp, type OpSpec } from './spec.js';
import { floatOut, shapeOps, sumTo } from './shape-ops.js';
import { normOps } from './norm-ops.js';
import { convOps } from './conv-ops.js';
import { apply } from './apply.js';
import { contiguousCopy, copyToDevice, fromStorage, indexView, isContiguous, viewAs, zerosOn } from '../tensor-internal.js';

/** 1 where `t` is exactly 0, else 0 (a constant mask, no gradient). */
const isZero = (t: Tensor): Tensor => t.ge(0).mul(t.le(0));

/** tril / triu: the kept triangle of the last two dims; the gradient is the same triangle of grad. */

function unaryOp(name: UnaryOp, saves: Record<string, string[]>, backward: OpSpec['backward']): OpSpec {
  return defineOp({
    name,
    inputs: ['self'],
    saves,
    forward: ([x]) =>
      fromStorage(
        x.storage.backend.unary(name, x, name === 'neg' || name === 'abs' || name === 'relu' || name === 'sign' ? x.dtype : floatOut(x)),
        x.shape,
      ),
    backward,
  });
}

function binaryForward(op: BinaryOp) {
  return ([a, b]: readonly Tensor[]): Tensor => {
    let dtype = promoteTypes(a.dtype, b.dtype);
    if (op === 'div' || (op === 'pow' && dtype === 'int32')) dtype = dtype === 'int32' ? 'float32' : dtype;
    // A number operand (0-d constant) takes the tensor's dtype, as a Python scalar does in PyTorch.
    if (b.scalar !== undefined) {
      dtype = op === 'div' && a.dtype === 'int32' ? 'float32' : promoteWithScalar(a.dtype, b.scalar);
      return fromStorage(a.storage.backend.binaryScalar(op, a, b.scalar, false, dtype), a.shape);
    }
    if (a.scalar !== undefined) {
      dtype = op === 'div' && b.dtype === 'int32' ? 'float32' : promoteWithScalar(b.dtype, a.scalar);
      return fromStorage(b.storage.backend.binaryScalar(op, b, a.scalar, true, dtype), b.shape);
    }
    const shape = broadcastShapes(a.shape, b.shape, `${op}: operands`);
    return fromStorage(a.storage.backend.binary(op, a, b, shape, dtype), shape);
  };
}

/** The fused GELU kernel of x's backend (ops gelu / geluGrad run only where it exists). */
function geluKernel(x: Tensor, grad: boolean): Tensor {
  const backend = x.storage.backend;
  if (!backend.gelu) fail('INVALID_ARGUMENT', `gelu: the ${x.device} backend has no fused GELU kernel`);
  return fromStorage(backend.gelu(x, grad), x.shape);
}

/** d/dx gelu(x) = Φ(x) + x·φ(x); its own derivative is φ(x)·(2 − x²) (so double backward works). */
const geluGrad = defineOp({
  name: 'geluGrad',
  inputs: ['self'],
  saves: { self: ['self'] },
  forward: ([x]) => geluKernel(x, true),
  backward: (g, c) => {
    const x = c.unpack('self');
    const x2 = x.mul(x);
    return [
      g
        .mul(
          x2
            .mul(-0.5)
            .exp()
            .mul(1 / Math.sqrt(2 * Math.PI)),
        )
        .mul(x2.neg().add(2)),
    ];
  },
});

export const ops = {
  gelu: defineOp({
    name: 'gelu',
    inputs: ['self'],
    saves: { self: ['self'] },
    forward: ([x]) => geluKernel(x, false),
    backward: (g, c) => [g.mul(apply(geluGrad, [c.unpack('self')]))],
  }),
  geluGrad,
  add: defineOp({
    name: 'add',
    inputs: ['self', 'other'],
    saves: {},
    forward: binaryForward('add'),
    backward: (g, c) => [c.needs[0] ? sumTo(g, c.inputShapes[0]) : null, c.needs[1] ? sumTo(g, c.inputShapes[1]) : null],
  }),
  sub: defineOp({
    name: 'sub',
    inputs: ['self', 'other'],
    saves: {},
    forward: binaryForward('sub'),
    backward: (g, c) => [c.needs[0] ? sumTo(g, c.inputShapes[0]) : null, c.needs[1] ? sumTo(g.neg(), c.inputShapes[1]) : null],
  }),
  mul: defineOp({
    name: 'mul',
    inputs: ['self', 'other'],
    saves: { self: ['other'], other: ['self'] },
    forward: binaryForward('mul'),
    backward: (g, c) => [
      c.needs[0] ? sumTo(g.mul(c.unpack('other')), c.inputShapes[0]) : null,
      c.needs[1] ? sumTo(g.mul(c.unpack('self')), c.inputShapes[1]) : null,
    ],
  }),
  div: defineOp({
    name: 'div',
    inputs: ['self', 'other'],
    saves: { self: ['other'], other: ['self', 'other'] },
    forward: binaryForward('div'),
    backward: (g, c) => {
      const other = c.unpack('other');
      return [
        c.needs[0] ? sumTo(g.div(other), c.inputShapes[0]) : null,
        c.needs[1] ? sumTo(g.neg().mul(c.unpack('self')).div(other.mul(other)), c.inputShapes[1]) : null,
      ];
    },
  }),
  pow: defineOp({
    // As derivatives.yaml: the exponent's gradient also reads the exponent (for its x = 0 rule).
    name: 'pow',
    inputs: ['self', 'other'],
    saves: { self: ['self', 'other'], other: ['self', 'other', 'result'] },
    forward: binaryForward('pow'),
    backward: (g, c) => {
      const self = c.unpack('self');
      const e = c.unpack('other');
      const out: (Tensor | null)[] = [null, null];
      if (c.needs[0]) {
        // PyTorch's pow_backward_self is 0 where the exponent is 0 (x⁰ is constant, even at x = 0
        // where x⁻¹ is inf): shifting that exponent to 0 keeps e·x^(e-1) finite there, so it is 0·1.
        const safeExponent = e.sub(1).add(isZero(e));
        out[0] = sumTo(g.mul(e).mul(self.pow(safeExponent)), c.inputShapes[0]);
      }
      if (c.needs[1]) {
        // PyTorch's pow_backward_exponent is 0 where x = 0 and e ≥ 0 (there xᵉ·log x → 0, not NaN):
        // log(x + 1) = 0 at exactly those elements.
        const mask = isZero(self).mul(e.ge(0));
        out[1] = sumTo(g.mul(c.unpack('result')).mul(self.add(mask).log()), c.inputShapes[1]);
      }
      return out;
    },
  }),
  neg: unaryOp('neg', {}, (g) => [g.neg()]),
  exp: unaryOp('exp', { self: ['result'] }, (g, c) => [g.mul(c.unpack('result'))]),
  log: unaryOp('log', { self: ['self'] }, (g, c) => [g.div(c.unpack('self'))]),
  // derivatives.yaml: log1p: grad / (self + 1).
  log1p: unaryOp('log1p', { self: ['self'] }, (g, c) => [g.div(c.unpack('self').add(1))]),
  sqrt: unaryOp('sqrt', { self: ['result'] }, (g, c) => [g.div(c.unpack('result').mul(2))]),
  abs: unaryOp('abs', { self: ['self'] }, (g, c) => [g.mul(c.unpack('self').sign())]),
  // PyTorch's threshold_backward: the gradient is zeroed where result <= 0, so a NaN passes it.
  relu: unaryOp('relu', { self: ['result'] }, (g, c) => {
    const y = c.unpack('result');
    const backend = y.storage.backend;
    // The fused kernel where the backend has one and no graph of the backward is wanted.
    if (backend.reluBackward && !isGradEnabled() && g.dtype === y.dtype && shapeEq(g.shape, y.shape)) {
      return [fromStorage(backend.reluBackward(g, y), y.shape)];
    }
    return [g.mul(new Tensor(backend.unary('step', y, y.dtype), y.shape))];
  }),
  sigmoid: unaryOp('sigmoid', { self: ['result'] }, (g, c) => {
    const y = c.unpack('result');
    return [g.mul(y).mul(y.neg().add(1))];
  }),
  tanh: unaryOp('tanh', { self: ['result'] }, (g, c) => {
    const y = c.unpack('result');
    return [g.mul(y.mul(y).neg().add(1))];
  }),
  matmul: defineOp({
    name: 'matmul',
    inputs: ['self', 'other'],
    saves: { self: ['other'], other: ['self'] },
    forward: ([a, b]) => {
      if (a.dtype !== b.dtype) {
        fail(
          'DTYPE_MISMATCH',
          `matmul: both operands must have the same dtype, got ${a.dtype} ${fmtShape(a.shape)} and ${b.dtype} ${fmtShape(b.shape)}. Convert one of them first.`,
        );
      }
      const m = a.shape[a.ndim - 2],
        k = a.shape[a.ndim - 1],
        k2 = b.shape[b.ndim - 2],
        n = b.shape[b.ndim - 1];
      if (k !== k2) {
        fail(
          'SHAPE_MISMATCH',
          `matmul: shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} cannot be multiplied (${String(k)} != ${String(k2)}): the last dimension of the first must equal the second-to-last of the second.`,
        );
      }
      const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul: batch dimensions');
      if (b.ndim === 2 && a.ndim > 2 && isContiguous(a)) {
        // [..., m, k] x [k, n] (Linear on a batch of sequences): one [batch·m, k] x [k, n] product
        // instead of a product per batch element against the same broadcast matrix.
        const rows = numel(batch) * m;
        const flat = { storage: a.storage, shape: [rows, k], strides: [k, 1], offset: a.offset };
        return fromStorage(a.storage.backend.matmul(flat, b, [], rows, k, n, a.dtype), [...batch, m, n]);
      }
      return fromStorage(a.storage.backend.matmul(a, b, batch, m, k, n, a.dtype), [...batch, m, n]);
    },
    backward: (g, c) => {
      const [shapeA, shapeB] = c.inputShapes;
      let gradB: Tensor | null = null;
      if (c.needs[1]) {
        const a = c.unpack('self');
        if (shapeB.length === 2 && shapeA.length > 2) {
          // Σ over the batch of aᵢᵀ·gᵢ as one product of the flattened batch, not a batch of
          // [k, n] products summed afterwards.
          const k = shapeA[shapeA.length - 1];
          gradB = a
            .reshape([-1, k])
            .transpose(0, 1)
            .matmul(g.reshape([-1, g.shape[g.ndim - 1]]));
        } else {
          gradB = sumTo(a.transpose(-1, -2).matmul(g), shapeB);
        }
      }
      return [c.needs[0] ? sumTo(g.matmul(c.unpack('other').transpose(-1, -2)), shapeA) : null, gradB];
    },
  }),
  sum: defineOp<{ dims: number[]; keepdim: boolean }>({
    name: 'sum',
    inputs: ['self'],
    saves: {},
    forward: ([x], { dims, keepdim }) => {
      const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
      const shape = keepdim ? kept : x.shape.filter((_, i) => !dims.includes(i));
      return fromStorage(x.storage.backend.sum(x, dims, x.dtype), shape);
    },
    backward: (g, c) => {
      const shape = c.inputShapes[0];
      return [g.reshape(shape.map((d, i) => (c.attrs.dims.includes(i) ? 1 : d))).expand(shape)];
    },
  }),
  mean: defineOp<{ dims: number[]; keepdim: boolean }>({
    name: 'mean',
    inputs: ['self'],
    saves: {},
    forward: ([x], { dims, keepdim }) => {
      // `?? 1`: a 0-d tensor accepts dim 0 / -1 and has one element.
      const count = dims.reduce((n, d) => n * (x.shape[d] ?? 1), 1);
      const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
      const shape = keepdim ? kept : x.shape.filter((_, i) => !dims.includes(i));
      const s = fromStorage(x.storage.backend.sum(x, dims, floatOut(x)), shape);
      return fromStorage(x.storage.backend.binaryScalar('div', s, count, false, s.dtype), shape);
    },
    backward: (g, c) => {
      const shape = c.inputShapes[0];
      const count = c.attrs.dims.reduce((n, d) => n * (shape[d] ?? 1), 1);
      return [
        g
          .reshape(shape.map((d, i) => (c.attrs.dims.includes(i) ? 1 : d)))
          .expand(shape)
          .div(count),
      ];
    },
  }),
  reshape: defineOp<{ shape: number[] }>({
    name: 'reshape',
    inputs: ['self'],
    saves: {},
    view: true,
    forward: ([x], { shape }) =>
      isContiguous(x)
        ? viewAs(x, shape, contiguousStrides(shape), x.offset)
        : viewAs(contiguousCopy(x), shape, contiguousStrides(shape), 0),
    backward: (g, c) => [g.reshape([...c.inputShapes[0]])],
  }),
  transpose: defineOp<{ dim0: number; dim1: number }>({
    name: 'transpose',
    inputs: ['self'],
    saves: {},
    view: true,
    forward: ([x], { dim0, dim1 }) => {
      const shape = x.shape.slice();
      const strides = x.strides.slice();
      [shape[dim0], shape[dim1]] = [shape[dim1], shape[dim0]];
      [strides[dim0], strides[dim1]] = [strides[dim1], strides[dim0]];
      return viewAs(x, shape, strides, x.offset);
    },
    backward: (g, c) => [g.transpose(c.attrs.dim0, c.attrs.dim1)],
  }),
  expand: defineOp<{ shape: number[] }>({
    name: 'expand',
    inputs: ['self'],
    saves: {},
    view: true,
    forward: ([x], { shape }) => {
      const lead = shape.length - x.ndim;
      const strides = shape.map((d, i) => (i < lead || (x.shape[i - lead] === 1 && d !== 1) ? 0 : x.strides[i - lead]));
      return viewAs(x, shape, strides, x.offset);
    },
    backward: (g, c) => [sumTo(g, c.inputShapes[0])],
  }),
  index: defineOp<{ index: number[] }>({
    name: 'index',
    inputs: ['self'],
    saves: {},
    view: true,
    forward: ([x], { index }) => {
      const offset = index.reduce((o, i, d) => o + i * x.strides[d], x.offset);
      return viewAs(x, x.shape.slice(index.length), x.strides.slice(index.length), offset);
    },
    backward: (g, c) => {
      const base = zerosOn(g.device, c.inputShapes[0], g.dtype);
      return [base.setItem_(c.attrs.index, g)];
    },
  }),
  clone: defineOp({
    name: 'clone',
    inputs: ['self'],
    saves: {},
    forward: ([x]) => contiguousCopy(x),
    backward: (g) => [g],
  }),
  softmax: defineOp<{ dim: number }>({
    name: 'softmax',
    inputs: ['self'],
    saves: { self: ['result'] },
    forward: ([x], { dim }) => fromStorage(x.storage.backend.softmax(x, dim, false), x.shape),
    backward: (g, c) => {
      const y = c.unpack('result');
      return [y.mul(g.sub(g.mul(y).sum(c.attrs.dim, true)))];
    },
  }),
  logSoftmax: defineOp<{ dim: number }>({
    name: 'logSoftmax',
    inputs: ['self'],
    saves: { self: ['result'] },
    forward: ([x], { dim }) => fromStorage(x.storage.backend.softmax(x, dim, true), x.shape),
    backward: (g, c) => [g.sub(c.unpack('result').exp().mul(g.sum(c.attrs.dim, true)))],
  }),
  clamp: defineOp<{ min: number; max: number }>({
    name: 'clamp',
    inputs: ['self'],
    saves: { self: ['self'] },
    forward: ([x], { min, max }) => fromStorage(x.storage.backend.clamp(x, min, max), x.shape),
    backward: (g, c) => {
      const x = c.unpack('self');
      return [g.mul(x.ge(c.attrs.min)).mul(x.le(c.attrs.max))];
    },
  }),
  to: defineOp<{ device: Device; from: Device }>({
    name: 'to',
    inputs: ['self'],
    saves: {},
    forward: ([x], { device }) => copyToDevice(x, device),
    backward: (g, c) => [g.to(c.attrs.from)],
  }),
  fill: defineOp<{ value: number }>({
    name: 'fill',
    inputs: ['self'],
    saves: {},
    forward: ([x], { value }) => {
      const out = zerosOn(x.device, x.shape, x.dtype);
      x.storage.backend.fill(out, value);
      return out;
    },
    backward: (g) => [g.mul(0)],
  }),
  copy: defineOp({
    name: 'copy',
    inputs: ['self', 'src'],
    saves: {},
    forward: ([x, src]) => {
      broadcastShapes(src.shape, x.shape, 'copy_: source');
      const out = zerosOn(x.device, x.shape, x.dtype);
      x.storage.backend.copy(out, src);
      return out;
    },
    backward: (g, c) => [c.needs[0] ? g.mul(0) : null, c.needs[1] ? sumTo(g, c.inputShapes[1]) : null],
  }),
  setItem: defineOp<{ index: number[] }>({
    name: 'setItem',
    inputs: ['self', 'value'],
    saves: {},
    forward: ([x, value], { index }) => {
      const out = contiguousCopy(x);
      const region = indexView(out, index);
      broadcastShapes(value.shape, region.shape, 'setItem_: value');
      x.storage.backend.copy(region, value);
      return out;
    },
    backward: (g, c) => {
      const index = c.attrs.index;
      const mask = noGrad(() => zerosOn(g.device, c.inputShapes[0], g.dtype).add(1).setItem_(index, 0));
      return [c.needs[0] ? g.mul(mask) : null, c.needs[1] ? sumTo(g.index(index), c.inputShapes[1]) : null];
    },
  }),
  ...shapeOps,
  ...normOps,
  ...convOps,
} satisfies Record<string, OpSpec>;

export type OpName = keyof typeof ops;
