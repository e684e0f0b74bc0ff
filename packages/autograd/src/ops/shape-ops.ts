import type { BinaryOp, WindowGeometry } from '../backend/backend.js';
import { isFloating, promoteTypes, type DType } from '../dtype.js';
import { fail } from '../errors.js';
import { noGrad } from '../grad-mode.js';
import { broadcastShapes, contiguousStrides, fmtShape, numel, shapeEq, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { defineOp, type OpSpec } from './spec.js';
import { apply } from './apply.js';
import { castTo, constant, contiguousCopy, fromStorage, isContiguous, viewAs, zerosOn } from '../tensor-internal.js';

/** Sums a broadcast gradient back down to `shape` (the inverse of broadcasting). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (shapeEq(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  const s = dims.length > 0 ? g.sum(dims, true) : g;
  return s.reshape([...shape]);
}

export const floatOut = (t: Tensor): DType => (isFloating(t.dtype) ? t.dtype : 'float32');

function triangleOp(name: 'tril' | 'triu'): OpSpec {
  return defineOp<{ k: number; upper: boolean }>({
    name,
    inputs: ['self'],
    saves: {},
    forward: ([x], { k, upper }) => {
      const mask = triangleMask(x, k, upper);
      return fromStorage(x.storage.backend.where(mask, x, constant(0, x.device, x.dtype), x.shape, x.dtype), x.shape);
    },
    backward: (g, c) => [c.attrs.upper ? g.triu(c.attrs.k) : g.tril(c.attrs.k)],
  });
}

/**
 * The op table's views, selection, reductions and windows (the second wave): each op once, with
 * its forward, backward and what it saves, spread into `ops` by table.ts. The helpers below are
 * theirs (slices, windows for conv/pool, norms, index checks).
 */
export const shapeOps = {
  // ---- second wave: views ----
  permute: defineOp<{ dims: number[] }>({
    name: 'permute',
    inputs: ['self'],
    saves: {},
    view: true,
    forward: ([x], { dims }) =>
      viewAs(
        x,
        dims.map((d) => x.shape[d]),
        dims.map((d) => x.strides[d]),
        x.offset,
      ),
    backward: (g, c) => {
      const inverse = new Array<number>(c.attrs.dims.length);
      c.attrs.dims.forEach((d, i) => (inverse[d] = i));
      return [g.permute(inverse)];
    },
  }),
  unsqueeze: defineOp<{ dim: number }>({
    name: 'unsqueeze',
    inputs: ['self'],
    saves: {},
    view: true,
    forward: ([x], { dim }) => {
      const shape = x.shape.slice();
      const strides = x.strides.slice();
      shape.splice(dim, 0, 1);
      strides.splice(dim, 0, dim < x.ndim ? x.strides[dim] * x.shape[dim] : 1);
      return viewAs(x, shape, strides, x.offset);
    },
    backward: (g, c) => [g.squeeze(c.attrs.dim)],
  }),
  squeeze: defineOp<{ dims: number[] }>({
    name: 'squeeze',
    inputs: ['self'],
    saves: {},
    view: true,
    forward: ([x], { dims }) =>
      viewAs(
        x,
        x.shape.filter((_, i) => !dims.includes(i)),
        x.strides.filter((_, i) => !dims.includes(i)),
        x.offset,
      ),
    backward: (g, c) => [g.reshape([...c.inputShapes[0]])],
  }),
  view: defineOp<{ shape: number[]; strides: number[] }>({
    name: 'view',
    inputs: ['self'],
    saves: {},
    view: true,
    forward: ([x], { shape, strides }) => viewAs(x, shape, strides, x.offset),
    backward: (g, c) => [g.reshape([...c.inputShapes[0]])],
  }),
  slice: defineOp<SliceAttrs>({
    name: 'slice',
    inputs: ['self'],
    saves: {},
    view: true,
    forward: ([x], a) => {
      const shape = x.shape.slice();
      const strides = x.strides.slice();
      shape[a.dim] = sliceLength(a);
      strides[a.dim] = x.strides[a.dim] * a.step;
      return viewAs(x, shape, strides, x.offset + a.start * x.strides[a.dim]);
    },
    backward: (g, c) => [sliceBackward(g, c.inputShapes[0], c.attrs)],
  }),
  // PyTorch's slice_backward: the gradient written into a zero tensor of the input's shape.
  sliceBackward: defineOp<SliceAttrs & { shape: number[] }>({
    name: 'sliceBackward',
    inputs: ['grad'],
    saves: {},
    forward: ([g], a) => {
      const out = zerosOn(g.device, a.shape, g.dtype);
      g.storage.backend.copy(sliceView(out, a), g);
      return out;
    },
    backward: (gg, c) => [gg.slice(c.attrs.dim, c.attrs.start, c.attrs.start + sliceLength(c.attrs) * c.attrs.step, c.attrs.step)],
  }),
  cat: defineOp<{ dim: number }>({
    // Any number of inputs; derivatives.yaml: each gets its slice of the gradient, nothing saved.
    name: 'cat',
    inputs: ['tensors'],
    saves: {},
    forward: (xs, { dim }) => {
      const first = xs[0];
      const dtype = xs.reduce<DType>((d, t) => promoteTypes(d, t.dtype), first.dtype);
      const shape = first.shape.slice();
      shape[dim] = xs.reduce((n, t) => n + t.shape[dim], 0);
      const out = zerosOn(first.device, shape, dtype);
      let at = 0;
      for (const t of xs) {
        const len = t.shape[dim];
        if (len > 0) first.storage.backend.copy(sliceView(out, { dim, start: at, end: at + len, step: 1 }), t);
        at += len;
      }
      return out;
    },
    backward: (g, c) => {
      const dim = c.attrs.dim;
      let at = 0;
      return c.inputShapes.map((shape, i) => {
        const len = shape[dim];
        const piece = c.needs[i] ? g.slice(dim, at, at + len) : null;
        at += len;
        return piece;
      });
    },
  }),
  // ---- second wave: selection ----
  where: defineOp({
    name: 'where',
    inputs: ['condition', 'self', 'other'],
    saves: { self: ['condition'], other: ['condition'] },
    forward: ([cond, a, b]) => {
      const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, 'where: condition and input'), b.shape, 'where: operands');
      return fromStorage(a.storage.backend.where(cond, a, b, shape, promoteTypes(a.dtype, b.dtype)), shape);
    },
    backward: (g, c) => {
      const cond = c.unpack('condition');
      const zero = (): Tensor => constant(0, g.device, g.dtype);
      return [
        null,
        c.needs[1] ? sumTo(whereRaw(cond, g, zero()), c.inputShapes[1]) : null,
        c.needs[2] ? sumTo(whereRaw(cond, zero(), g), c.inputShapes[2]) : null,
      ];
    },
  }),
  maskedFill: defineOp<{ value: number }>({
    name: 'maskedFill',
    inputs: ['self', 'mask'],
    saves: { self: ['mask'] },
    forward: ([x, mask], { value }) => {
      const shape = broadcastShapes(x.shape, mask.shape, 'maskedFill: input and mask');
      const v = constant(value, x.device, x.dtype);
      return fromStorage(x.storage.backend.where(mask, v, x, shape, x.dtype), shape);
    },
    backward: (g, c) => [c.needs[0] ? sumTo(g.maskedFill(c.unpack('mask'), 0), c.inputShapes[0]) : null, null],
  }),
  gather: defineOp<{ dim: number }>({
    name: 'gather',
    inputs: ['self', 'index'],
    saves: { self: ['index'] },
    forward: ([x, index], { dim }) => fromStorage(x.storage.backend.gather(x, dim, index), index.shape),
    backward: (g, c) => [c.needs[0] ? scatterAddOp(g, c.attrs.dim, c.unpack('index'), c.inputShapes[0]) : null, null],
  }),
  // gather's adjoint (PyTorch's scatter_add into zeros); its own backward gathers again.
  scatterAdd: defineOp<{ dim: number; shape: number[] }>({
    name: 'scatterAdd',
    inputs: ['src', 'index'],
    saves: { src: ['index'] },
    forward: ([src, index], { dim, shape }) => fromStorage(src.storage.backend.scatterAdd(src, dim, index, shape), shape),
    backward: (g, c) => [c.needs[0] ? g.gather(c.attrs.dim, c.unpack('index')) : null, null],
  }),
  // max()/min() over every element; derivatives.yaml: evenly_distribute_backward(grad, self, result).
  amax: defineOp<{ op: 'max' | 'min' }>({
    name: 'amax',
    inputs: ['self'],
    saves: { self: ['self', 'result'] },
    forward: ([x], { op }) => {
      const flatX = isContiguous(x) ? viewAs(x, [x.numel()], [1], x.offset) : viewAs(contiguousCopy(x), [x.numel()], [1], 0);
      return fromStorage(op === 'max' ? x.storage.backend.max(flatX, 0) : x.storage.backend.min(flatX, 0), []);
    },
    backward: (g, c) => {
      const x = c.unpack('self');
      const r = c.unpack('result');
      // Where the result is NaN, the NaN elements share the gradient (PyTorch's rule).
      const mask = noGrad(() => {
        const hit = binaryRaw('eq', x, r);
        const xNan = binaryRaw('eq', x, x).neg().add(1);
        const rNan = binaryRaw('eq', r, r).neg().add(1);
        return hit.add(xNan.mul(rNan));
      });
      return [g.div(mask.sum()).mul(mask)];
    },
  }),
  tril: triangleOp('tril'),
  triu: triangleOp('triu'),
  cast: defineOp<{ dtype: DType; from: DType }>({
    name: 'cast',
    inputs: ['self'],
    saves: {},
    forward: ([x], { dtype }) => castTo(x, dtype),
    backward: (g, c) => [castTo(g, c.attrs.from)],
  }),
  // ---- second wave: reductions ----
  norm: defineOp<{ p: number; dims: number[]; keepdim: boolean }>({
    name: 'norm',
    inputs: ['self'],
    saves: { self: ['self', 'result'] },
    forward: ([x], { p, dims, keepdim }) => normForward(x, p, dims, keepdim),
    backward: (g, c) => [normBackward(g, c.unpack('self'), c.unpack('result'), c.attrs)],
  }),
  var: defineOp<{ dims: number[]; correction: number; keepdim: boolean }>({
    // derivatives.yaml: var_backward reads self only.
    name: 'var',
    inputs: ['self'],
    saves: { self: ['self'] },
    forward: ([x], a) => varForward(x, a),
    backward: (g, c) => {
      const x = c.unpack('self');
      const { dims, correction } = c.attrs;
      const n = dims.reduce((m, d) => m * (x.shape[d] ?? 1), 1);
      const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
      const centered = x.sub(x.mean(dims, true));
      return [
        g
          .reshape(kept)
          .mul(centered)
          .mul(2 / Math.max(0, n - correction)),
      ];
    },
  }),
  std: defineOp<{ dims: number[]; correction: number; keepdim: boolean }>({
    // derivatives.yaml std_backward: var_backward of grad / (2·result), masked to 0 where result is 0.
    name: 'std',
    inputs: ['self'],
    saves: { self: ['self', 'result'] },
    forward: ([x], a) => {
      const v = varForward(x, a);
      return new Tensor(x.storage.backend.unary('sqrt', v, v.dtype), v.shape);
    },
    backward: (g, c) => {
      const x = c.unpack('self');
      const r = c.unpack('result');
      const { dims, correction } = c.attrs;
      const n = dims.reduce((m, d) => m * (x.shape[d] ?? 1), 1);
      const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
      const zero = noGrad(() => binaryRaw('eq', r, constant(0, r.device, r.dtype)));
      const gv = g.div(r.add(zero).mul(2)).mul(zero.neg().add(1));
      return [
        gv
          .reshape(kept)
          .mul(x.sub(x.mean(dims, true)))
          .mul(2 / Math.max(0, n - correction)),
      ];
    },
  }),
  // im2col for conv2d and the pools: the windows of a (padded) [N, C, H, W] input as [N, C, kh·kw, oh, ow],
  // one strided copy. Its adjoint is fold2d (col2im), and fold2d's is unfold2d again.
  // With `channelsFirst` the same windows are laid out [C, kh·kw, N, oh, ow]: as a matrix
  // [C·kh·kw, N·oh·ow] it is the right operand of ONE convolution GEMM for the whole batch (and its
  // transpose that of the weight gradient's), instead of a GEMM per image and a sum over the batch.
  unfold2d: defineOp<WindowAttrs>({
    name: 'unfold2d',
    inputs: ['self'],
    saves: {},
    forward: ([x], a) => {
      const [n, c] = x.shape;
      const k = a.kernel[0] * a.kernel[1];
      const shape = a.channelsFirst ? [c, k, n, a.out[0], a.out[1]] : [n, c, k, a.out[0], a.out[1]];
      const backend = x.storage.backend;
      if (backend.unfold2d) {
        const { channelsFirst = false, ...geometry } = a;
        return fromStorage(backend.unfold2d(x, geometry, channelsFirst), shape);
      }
      if (a.channelsFirst) {
        const out = zerosOn(x.device, [c, k, n, a.out[0], a.out[1]], x.dtype);
        // Both views in the output's order [C, kh, kw, N, oh, ow], so the copy writes sequentially.
        const order = [1, 2, 3, 0, 4, 5];
        const src = windowView(x, a, false);
        const dst = windowView(
          new Tensor(
            out.storage,
            [n, c, k, a.out[0], a.out[1]],
            [a.out[0] * a.out[1], k * n * a.out[0] * a.out[1], n * a.out[0] * a.out[1], a.out[1], 1],
            0,
          ),
          a,
          true,
        );
        const permuted = (t: Tensor): Tensor =>
          new Tensor(
            t.storage,
            order.map((d) => t.shape[d]),
            order.map((d) => t.strides[d]),
            t.offset,
          );
        x.storage.backend.copy(permuted(dst), permuted(src));
        return out;
      }
      const out = zerosOn(x.device, [n, c, k, a.out[0], a.out[1]], x.dtype);
      x.storage.backend.copy(windowView(out, a, true), windowView(x, a, false));
      return out;
    },
    backward: (g, c) => {
      const { channelsFirst, ...geometry } = c.attrs;
      return [fold2d(channelsFirst ? g.permute(2, 0, 1, 3, 4) : g, geometry)];
    },
  }),
  // col2im: every window element of g [N, C, kh·kw, oh, ow] added into the [N, C, H, W] pixel it came from.
  fold2d: defineOp<WindowAttrs>({
    name: 'fold2d',
    inputs: ['grad'],
    saves: {},
    forward: ([g], a) => {
      const [n, c] = g.shape;
      return fromStorage(g.storage.backend.fold2d(g, a), [n, c, a.size[0], a.size[1]]);
    },
    backward: (gg, c) => [unfold2d(gg, c.attrs)],
  }),
} satisfies Record<string, OpSpec>;

export interface SliceAttrs {
  dim: number;
  start: number;
  end: number;
  step: number;
}

export function sliceLength(a: SliceAttrs): number {
  return Math.max(0, Math.ceil((a.end - a.start) / a.step));
}

/** The raw strided window of `t` that a slice selects (no autograd). */
function sliceView(t: Tensor, a: SliceAttrs): Tensor {
  const shape = t.shape.slice();
  const strides = t.strides.slice();
  shape[a.dim] = sliceLength(a);
  strides[a.dim] = t.strides[a.dim] * a.step;
  return new Tensor(t.storage, shape, strides, t.offset + a.start * t.strides[a.dim]);
}

/**
 * Geometry of unfold2d/fold2d: `size` is the (already padded) input's [H, W]; `out` the window grid
 * [oh, ow]; `channelsFirst` (unfold2d only): output [C, kh·kw, N, oh, ow] instead of [N, C, kh·kw, oh, ow].
 */
export type WindowAttrs = WindowGeometry & { channelsFirst?: boolean };

/**
 * The 6-D raw view [N, C, kh, kw, oh, ow] of an image [N, C, H, W] (element (ki, kj, i, j) is
 * pixel (s·i + d·ki, s·j + d·kj)), or, `unfolded`, of unfold2d's output [N, C, kh·kw, oh, ow].
 */
function windowView(t: Tensor, a: WindowAttrs, unfolded: boolean): Tensor {
  const [kh, kw] = a.kernel;
  const shape = [t.shape[0], t.shape[1], kh, kw, a.out[0], a.out[1]];
  const s = t.strides;
  const strides = unfolded
    ? [s[0], s[1], s[2] * kw, s[2], s[3], s[4]]
    : [s[0], s[1], a.dilation[0] * s[2], a.dilation[1] * s[3], a.stride[0] * s[2], a.stride[1] * s[3]];
  return new Tensor(t.storage, shape, strides, t.offset);
}

/** The windows of a padded image [N, C, H, W] as [N, C, kh·kw, oh, ow] (im2col), differentiable. */
export function unfold2d(x: Tensor, a: WindowAttrs): Tensor {
  return apply(shapeOps.unfold2d, [x], a);
}

/** col2im, unfold2d's adjoint: window elements g [N, C, kh·kw, oh, ow] added into their pixels of [N, C, H, W], differentiable. */
export function fold2d(g: Tensor, a: WindowAttrs): Tensor {
  return apply(shapeOps.fold2d, [g], a);
}

function sliceBackward(g: Tensor, shape: Shape, a: SliceAttrs): Tensor {
  return apply(shapeOps.sliceBackward, [g], { ...a, shape: [...shape] });
}

function scatterAddOp(src: Tensor, dim: number, index: Tensor, shape: Shape): Tensor {
  return apply(shapeOps.scatterAdd, [src, index], { dim, shape: [...shape] });
}

/** where(cond, a, b) on raw kernels, recorded: used by where's own backward (a differentiable where). */
function whereRaw(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return apply(shapeOps.where, [cond, a, b]);
}

/** An element-wise comparison of two tensors (1/0 in a's float dtype), no autograd. */
function binaryRaw(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape);
  return new Tensor(a.storage.backend.binary(op, a, b, shape, floatOut(a)), shape);
}

/** 1 on the kept triangle of the last two dims (j - i <= k for tril, >= k for triu), as a [rows, cols] constant. */
function triangleMask(x: Tensor, k: number, upper: boolean): Tensor {
  const rows = x.shape[x.ndim - 2];
  const cols = x.shape[x.ndim - 1];
  const values = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) values[i * cols + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
  return new Tensor(x.storage.backend.fromTyped(values, 'float32'), [rows, cols]);
}

function varForward(x: Tensor, { dims, correction, keepdim }: { dims: number[]; correction: number; keepdim: boolean }): Tensor {
  const b = x.storage.backend;
  const n = dims.reduce((m, d) => m * (x.shape[d] ?? 1), 1);
  const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const mean = new Tensor(b.binaryScalar('div', new Tensor(b.sum(x, dims, x.dtype), kept), n, false, x.dtype), kept);
  const dev = new Tensor(b.binary('sub', x, mean, x.shape, x.dtype), x.shape);
  const sq = new Tensor(b.binary('mul', dev, dev, x.shape, x.dtype), x.shape);
  const ss = new Tensor(b.sum(sq, dims, x.dtype), kept);
  const out = new Tensor(b.binaryScalar('div', ss, Math.max(0, n - correction), false, x.dtype), kept);
  const outShape = keepdim ? kept : x.shape.filter((_, i) => !dims.includes(i));
  return new Tensor(out.storage, outShape, contiguousStrides(outShape), 0);
}

function normForward(x: Tensor, p: number, dims: number[], keepdim: boolean): Tensor {
  const b = x.storage.backend;
  const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
  const outShape = keepdim ? kept : x.shape.filter((_, i) => !dims.includes(i));
  const abs = new Tensor(b.unary('abs', x, x.dtype), x.shape);
  let out: Tensor;
  if (p === Infinity || p === -Infinity) {
    let r = abs;
    for (const d of dims)
      r = new Tensor(
        p === Infinity ? b.max(r, d) : b.min(r, d),
        r.shape.map((s, i) => (i === d ? 1 : s)),
      );
    out = r;
  } else if (p === 0) {
    const nz = new Tensor(b.binaryScalar('gt', abs, 0, false, x.dtype), x.shape);
    out = new Tensor(b.sum(nz, dims, x.dtype), kept);
  } else if (p === 1) {
    out = new Tensor(b.sum(abs, dims, x.dtype), kept);
  } else {
    const powed = new Tensor(b.binaryScalar('pow', abs, p, false, x.dtype), x.shape);
    const s = new Tensor(b.sum(powed, dims, x.dtype), kept);
    out = new Tensor(p === 2 ? b.unary('sqrt', s, x.dtype) : b.binaryScalar('pow', s, 1 / p, false, x.dtype), kept);
  }
  return new Tensor(out.storage, outShape, contiguousStrides(outShape), out.offset);
}

/** derivatives.yaml norm_backward: 0 where the norm is 0 (p > 1), sign·grad for p = 1, shared among the maxima for p = ±inf. */
function normBackward(g: Tensor, x: Tensor, result: Tensor, a: { p: number; dims: number[] }): Tensor {
  const kept = x.shape.map((d, i) => (a.dims.includes(i) ? 1 : d));
  const gk = g.reshape(kept);
  const nk = result.reshape(kept);
  const { p } = a;
  if (p === 0) return x.mul(0);
  if (p === 1) return x.sign().mul(gk);
  if (p === Infinity || p === -Infinity) {
    const mask = noGrad(() => binaryRaw('eq', x.abs(), nk));
    const count = mask.sum(a.dims, true);
    return x.sign().mul(mask).mul(gk.div(count));
  }
  const zero = noGrad(() => binaryRaw('eq', nk, constant(0, nk.device, nk.dtype)));
  const safeNorm = nk.add(zero);
  const scaled = p === 2 ? x.mul(gk.div(safeNorm)) : x.mul(x.abs().pow(p - 2)).mul(gk.div(safeNorm.pow(p - 1)));
  return scaled.mul(zero.neg().add(1));
}

/** numel of the shape after `index` selects leading dims (validates the index). */
export function checkIndex(shape: Shape, index: readonly number[]): number {
  if (index.length > shape.length)
    fail('INVALID_ARGUMENT', `index [${index.join(', ')}] has more entries than the tensor ${fmtShape(shape)} has dimensions`);
  index.forEach((i, d) => {
    if (!Number.isInteger(i) || i < 0 || i >= shape[d]) {
      fail(
        'INVALID_ARGUMENT',
        `index ${String(i)} is out of bounds for dimension ${String(d)} with size ${String(shape[d])} (tensor ${fmtShape(shape)})`,
      );
    }
  });
  return numel(shape.slice(index.length));
}
