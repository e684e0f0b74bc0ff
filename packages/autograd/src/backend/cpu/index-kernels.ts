/**
 * The CPU backend's index kernels: gather and its adjoint scatterAdd along one dim. Each reads its
 * operands from the arrays it is given (the index packed, int32 values) and returns a fresh array
 * of the output's dtype, which CpuBackend wraps as a storage.
 */
import { allocTyped, type TypedArray } from '../../dtype.js';
import { fail } from '../../errors.js';
import { contiguousStrides, fmtShape, numel, type Shape } from '../../shape.js';
import type { View } from '../backend.js';

function contiguous(v: View): boolean {
  const cs = contiguousStrides(v.shape);
  return v.shape.every((d, i) => d === 1 || v.strides[i] === cs[i]);
}

/** out[..i..] = x[..index[..i..]..] along `dim` (Backend.gather); `src` is x's storage, `idx` the index packed. */
export function gatherKernel(x: View, src: TypedArray, dim: number, idx: TypedArray, index: View): TypedArray {
  const shape = index.shape;
  const n = numel(shape);
  const dtype = x.storage.dtype;
  const out = allocTyped(dtype, n, shape);
  const size = x.shape[dim] ?? 1;
  if (contiguous(x) && shape.every((d, i) => i === dim || d === x.shape[i])) {
    // The usual case (max along a dim, a loss picking its class): x and index agree off `dim`,
    // so out[o, j, i] = x[o, index[o, j, i], i] with o and i the flattened dims around it.
    const inner = numel(shape.slice(dim + 1));
    const len = shape[dim];
    const outer = len === 0 ? 0 : n / (len * inner);
    let q = 0;
    for (let o = 0; o < outer; o++) {
      const base = x.offset + o * size * inner;
      for (let j = 0; j < len; j++) {
        for (let i = 0; i < inner; i++, q++) {
          const k = idx[q];
          if (!(k >= 0 && k < size)) gatherIndexError('gather', k, dim, size, 'input', x.shape, shape);
          out[q] = src[base + k * inner + i];
        }
      }
    }
    return out;
  }
  const coord = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    const k = idx[i];
    if (k < 0 || k >= size) {
      fail(
        'INVALID_ARGUMENT',
        `gather: index ${String(k)} is out of bounds for dimension ${String(dim)} with size ${String(size)} (input ${fmtShape(x.shape)}, index ${fmtShape(shape)})`,
      );
    }
    let off = x.offset;
    for (let d = 0; d < shape.length; d++) off += (d === dim ? k : coord[d]) * x.strides[d];
    out[i] = src[off];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
  return out;
}

/** The adjoint of gather (Backend.scatterAdd); `values` and `idx` are src and the index, packed. */
export function scatterAddKernel(src: View, values: TypedArray, dim: number, idx: TypedArray, index: View, outShape: Shape): TypedArray {
  const dtype = src.storage.dtype;
  const outStrides = contiguousStrides(outShape);
  const shape = index.shape;
  const size = outShape[dim] ?? 1;
  if (dtype !== 'int32' && shape.every((d, i) => i === dim || d === outShape[i])) {
    // gather's fast case transposed: out[o, index[o, j, i], i] += src[o, j, i], accumulated in the
    // output's dtype in index order, as PyTorch's CPU scatter_add does.
    const out = allocTyped(dtype, numel(outShape), outShape);
    const inner = numel(shape.slice(dim + 1));
    const len = shape[dim];
    const outer = len === 0 ? 0 : idx.length / (len * inner);
    let q = 0;
    for (let o = 0; o < outer; o++) {
      const base = o * size * inner;
      for (let j = 0; j < len; j++) {
        for (let i = 0; i < inner; i++, q++) {
          const k = idx[q];
          if (!(k >= 0 && k < size)) gatherIndexError('scatterAdd', k, dim, size, 'output', outShape, shape);
          out[base + k * inner + i] += values[q];
        }
      }
    }
    return out;
  }
  const acc = new Float64Array(numel(outShape));
  const coord = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i];
    if (k < 0 || k >= size) {
      fail(
        'INVALID_ARGUMENT',
        `scatterAdd: index ${String(k)} is out of bounds for dimension ${String(dim)} with size ${String(size)} (output ${fmtShape(outShape)}, index ${fmtShape(shape)})`,
      );
    }
    let off = 0;
    for (let d = 0; d < shape.length; d++) off += (d === dim ? k : coord[d]) * outStrides[d];
    acc[off] += values[i];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++coord[d] < shape[d]) break;
      coord[d] = 0;
    }
  }
  const out = allocTyped(dtype, acc.length, outShape);
  out.set(acc);
  return out;
}

function gatherIndexError(op: string, k: number, dim: number, size: number, what: string, shape: Shape, indexShape: Shape): never {
  return fail(
    'INVALID_ARGUMENT',
    `${op}: index ${String(k)} is out of bounds for dimension ${String(dim)} with size ${String(size)} (${what} ${fmtShape(shape)}, index ${fmtShape(indexShape)})`,
  );
}
