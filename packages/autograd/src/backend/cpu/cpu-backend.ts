import { allocTyped, INT32_MAX, INT32_MIN, int32SumOverflow, type DType, type TypedArray } from '../../dtype.js';
import { fail } from '../../errors.js';
import { broadcastStrides, contiguousStrides, numel, type Shape } from '../../shape.js';
import type { AdamHyper, Backend, BinaryOp, RmspropHyper, SgdHyper, Storage, UnaryOp, View, WindowGeometry } from '../backend.js';
import { batchNormBackwardKernel, batchNormForwardKernel, batchNormStatsKernel } from './batch-norm.js';
import { gemm } from './matmul.js';
import { adamUpdate, rmspropUpdate, sgdUpdate, type Flat } from './optim-kernels.js';
import {
  BINARY_ROWS,
  geluGradRow,
  geluRow,
  IMUL_ROW,
  IMUL_SCALAR_ROW,
  SCALAR_ROWS_SCALAR_FIRST,
  SCALAR_ROWS_TENSOR_FIRST,
  UNARY_ROWS,
} from './rows.js';
import { coalesce, sumRows, walkRows, walksTiled } from './strided.js';
import { binaryF32Wasm, WASM_BINARY_MIN, type Window2D } from './wasm-elementwise.js';
import { conv2dBackwardKernel, conv2dForwardKernel } from './wasm-conv.js';
import { maskedF32Wasm } from './wasm-relu.js';
import { fold2dKernel, maxPool2dIndicesKernel, unfold2dKernel } from './windows.js';
import { gatherKernel, scatterAddKernel } from './index-kernels.js';

export class CpuStorage implements Storage {
  version = 0;
  constructor(
    readonly backend: Backend,
    readonly data: TypedArray,
    readonly dtype: DType,
  ) {}
  get size(): number {
    return this.data.length;
  }
}

function dataOf(v: View | Storage): TypedArray {
  const s = 'storage' in v ? v.storage : v;
  if (!(s instanceof CpuStorage)) throw new Error(`internal: a ${s.backend.device} storage reached the CPU backend`);
  return s.data;
}

function isContiguous(v: View): boolean {
  const cs = contiguousStrides(v.shape);
  return v.shape.every((d, i) => d === 1 || v.strides[i] === cs[i]);
}

export class CpuBackend implements Backend {
  readonly device = 'cpu' as const;

  private make(data: TypedArray, dtype: DType): CpuStorage {
    return new CpuStorage(this, data, dtype);
  }

  fromTyped(values: TypedArray, dtype: DType, shape?: Shape): Storage {
    const data = allocTyped(dtype, values.length, shape);
    data.set(values);
    return this.make(data, dtype);
  }

  full(size: number, dtype: DType, value: number, shape?: Shape): Storage {
    const data = allocTyped(dtype, size, shape);
    if (value !== 0) data.fill(value);
    return this.make(data, dtype);
  }

  read(view: View): TypedArray {
    const src = dataOf(view);
    const n = numel(view.shape);
    if (isContiguous(view)) return src.slice(view.offset, view.offset + n);
    const out = allocTyped(view.storage.dtype, n);
    this.copyInto(out, view.shape, view);
    return out;
  }

  readAsync(view: View): Promise<TypedArray> {
    return Promise.resolve(this.read(view));
  }

  private copyInto(out: TypedArray, shape: Shape, src: View): void {
    const x = dataOf(src);
    const c = coalesce(shape, [contiguousStrides(shape), broadcastStrides(src.shape, src.strides, shape)]);
    if (numel(shape) === 0) return;
    const sx = c.strides[1][c.shape.length - 1];
    walkRows(c.shape, c.strides, [0, src.offset], (p, n) => {
      let px = p[1];
      const po = p[0];
      for (let i = 0; i < n; i++, px += sx) out[po + i] = x[px];
    });
  }

  copy(dst: View, src: View): void {
    const o = dataOf(dst);
    const x = dataOf(src);
    if (numel(dst.shape) === 0) return;
    const c = coalesce(dst.shape, [dst.strides, broadcastStrides(src.shape, src.strides, dst.shape)]);
    const last = c.shape.length - 1;
    const so = c.strides[0][last];
    const sx = c.strides[1][last];
    const toInt = dst.storage.dtype === 'int32';
    if (last >= 1 && c.shape[last] < 16 && !toInt) {
      // Short rows (a convolution's im2col copies rows of a few pixels): walk two dims per call,
      // so the odometer and the call are paid per block of rows rather than per row.
      const len = c.shape[last];
      const ro = c.strides[0][last - 1];
      const rx = c.strides[1][last - 1];
      walkRows(
        c.shape.slice(0, last),
        c.strides.map((st) => st.slice(0, last)),
        [dst.offset, src.offset],
        (p, rows) => {
          for (let r = 0; r < rows; r++) {
            let po = p[0] + r * ro;
            let px = p[1] + r * rx;
            for (let i = 0; i < len; i++, po += so, px += sx) o[po] = x[px];
          }
        },
      );
      return;
    }
    walkRows(c.shape, c.strides, [dst.offset, src.offset], (p, n) => {
      let po = p[0];
      let px = p[1];
      // Int32Array stores wrap, PyTorch truncates toward zero: make that explicit. A subarray per
      // row costs more than it saves on short rows (a conv's im2col copies rows of a few pixels).
      if (so === 1 && sx === 1 && !toInt && n >= 64) o.set(x.subarray(px, px + n), po);
      else if (toInt) for (let i = 0; i < n; i++, po += so, px += sx) o[po] = Math.trunc(x[px]);
      else for (let i = 0; i < n; i++, po += so, px += sx) o[po] = x[px];
    });
  }

  fill(dst: View, value: number): void {
    const o = dataOf(dst);
    if (numel(dst.shape) === 0) return;
    const v = dst.storage.dtype === 'int32' ? Math.trunc(value) : value;
    const c = coalesce(dst.shape, [dst.strides]);
    const so = c.strides[0][c.shape.length - 1];
    walkRows(c.shape, c.strides, [dst.offset], (p, n) => {
      let po = p[0];
      if (so === 1) o.fill(v, po, po + n);
      else for (let i = 0; i < n; i++, po += so) o[po] = v;
    });
  }

  unary(op: UnaryOp, x: View, dtype: DType): Storage {
    const n = numel(x.shape);
    const src = dataOf(x);
    if (op === 'relu' && src instanceof Float32Array && isContiguous(x)) {
      const viaWasm = maskedF32Wasm(src, x.offset, src, x.offset, n);
      if (viaWasm) return this.make(viaWasm, dtype);
    }
    const out = allocTyped(dtype, n, x.shape);
    const kernel = UNARY_ROWS[op];
    if (isContiguous(x)) {
      kernel(out, 0, src, x.offset, 1, n);
    } else if (n > 0) {
      const c = coalesce(x.shape, [contiguousStrides(x.shape), x.strides]);
      const sx = c.strides[1][c.shape.length - 1];
      walkRows(c.shape, c.strides, [0, x.offset], (p, len) => {
        kernel(out, p[0], src, p[1], sx, len);
      });
    }
    return this.make(out, dtype);
  }

  binary(op: BinaryOp, a: View, b: View, outShape: Shape, dtype: DType): Storage {
    const n = numel(outShape);
    const out = allocTyped(dtype, n, outShape);
    const da = dataOf(a);
    const db = dataOf(b);
    const kernel = op === 'mul' && dtype === 'int32' ? IMUL_ROW : BINARY_ROWS[op];
    if (n > 0) {
      const c = coalesce(outShape, [
        contiguousStrides(outShape),
        broadcastStrides(a.shape, a.strides, outShape),
        broadcastStrides(b.shape, b.strides, outShape),
      ]);
      const last = c.shape.length - 1;
      const sa = c.strides[1][last];
      const sb = c.strides[2][last];
      // Up to three coalesced dims go to the wasm kernel in one call: a convolution's output is a
      // permuted [O, N, oh·ow] matrix plus a bias per channel, three dims that no merging shortens.
      if (n >= WASM_BINARY_MIN && last <= 2 && out instanceof Float32Array && da instanceof Float32Array && db instanceof Float32Array) {
        const dims = [1, 1, ...c.shape].slice(-3);
        const window = (data: Float32Array, offset: number, s: readonly number[]): Window2D => {
          const st = [0, 0, ...s].slice(-3);
          return { data, offset, planeStride: st[0], rowStride: st[1], colStride: st[2] };
        };
        if (binaryF32Wasm(op, out, window(da, a.offset, c.strides[1]), window(db, b.offset, c.strides[2]), dims[0], dims[1], dims[2])) {
          return this.make(out, dtype);
        }
      }
      walkRows(c.shape, c.strides, [0, a.offset, b.offset], (p, len) => {
        kernel(out, p[0], da, p[1], sa, db, p[2], sb, len);
      });
    }
    return this.make(out, dtype);
  }

  binaryScalar(op: BinaryOp, a: View, scalar: number, scalarFirst: boolean, dtype: DType): Storage {
    const n = numel(a.shape);
    const out = allocTyped(dtype, n, a.shape);
    const src = dataOf(a);
    const kernel =
      op === 'mul' && dtype === 'int32' ? IMUL_SCALAR_ROW : (scalarFirst ? SCALAR_ROWS_SCALAR_FIRST : SCALAR_ROWS_TENSOR_FIRST)[op];
    if (isContiguous(a)) {
      kernel(out, 0, src, a.offset, 1, scalar, n);
    } else if (n > 0) {
      const c = coalesce(a.shape, [contiguousStrides(a.shape), a.strides]);
      const sx = c.strides[1][c.shape.length - 1];
      walkRows(c.shape, c.strides, [0, a.offset], (p, len) => {
        kernel(out, p[0], src, p[1], sx, scalar, len);
      });
    }
    return this.make(out, dtype);
  }

  sum(x: View, dims: readonly number[], dtype: DType): Storage {
    const outShape = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
    const outN = numel(outShape);
    const acc = new Float64Array(outN);
    const src = dataOf(x);
    if (numel(x.shape) > 0) {
      // Output strides with 0 on reduced dims: every input element adds into its output slot.
      const os = contiguousStrides(outShape).map((s, i) => (dims.includes(i) ? 0 : s));
      const c = coalesce(x.shape, [os, x.strides]);
      const last = c.shape.length - 1;
      const so = c.strides[0][last];
      const sx = c.strides[1][last];
      if (so === 0 && last >= 1 && !walksTiled(c.shape, c.strides)) {
        sumRows(acc, src, c.shape, c.strides, x.offset);
        return this.finishSum(acc, x, dtype, outShape);
      }
      walkRows(c.shape, c.strides, [0, x.offset], (p, n) => {
        let px = p[1];
        if (so === 0) {
          let s = 0;
          for (let i = 0; i < n; i++, px += sx) s += src[px];
          acc[p[0]] += s;
        } else {
          let po = p[0];
          for (let i = 0; i < n; i++, px += sx, po += so) acc[po] += src[px];
        }
      });
    }
    return this.finishSum(acc, x, dtype, outShape);
  }

  /** The float64 sums `acc` stored in `dtype`. */
  private finishSum(acc: Float64Array, x: View, dtype: DType, outShape: Shape): Storage {
    const outN = acc.length;
    const out = allocTyped(dtype, outN, outShape);
    if (dtype === 'int32') {
      // PyTorch sums int32 into int64; without int64 we refuse a sum that int32 cannot hold rather than wrap it.
      for (let i = 0; i < outN; i++) {
        const v = acc[i];
        if (v > INT32_MAX || v < INT32_MIN) int32SumOverflow(v, x.shape);
      }
    }
    out.set(acc);
    return this.make(out, dtype);
  }

  max(x: View, dim: number): Storage {
    return this.extreme(x, dim, 'max');
  }

  min(x: View, dim: number): Storage {
    return this.extreme(x, dim, 'min');
  }

  /** The max or min along `dim` (kept as size 1); a NaN wins and stays, as PyTorch propagates it. */
  private extreme(x: View, dim: number, which: 'max' | 'min'): Storage {
    const int = x.storage.dtype === 'int32';
    const start = which === 'max' ? (int ? INT32_MIN : -Infinity) : int ? INT32_MAX : Infinity;
    const outShape = x.shape.map((d, i) => (i === dim ? 1 : d));
    const out = allocTyped(x.storage.dtype, numel(outShape), outShape).fill(start);
    const src = dataOf(x);
    if (numel(x.shape) > 0) {
      const os = contiguousStrides(outShape).map((s, i) => (i === dim ? 0 : s));
      const c = coalesce(x.shape, [os, x.strides]);
      const last = c.shape.length - 1;
      const so = c.strides[0][last];
      const sx = c.strides[1][last];
      const sign = which === 'max' ? 1 : -1;
      walkRows(c.shape, c.strides, [0, x.offset], (p, n) => {
        let px = p[1];
        let po = p[0];
        // Once out is NaN, a comparison with it is false, so the NaN stays.
        for (let i = 0; i < n; i++, px += sx, po += so) {
          const v = src[px];
          if (sign * (v - out[po]) > 0 || v !== v) out[po] = v;
        }
      });
    }
    return this.make(out, x.storage.dtype);
  }

  argReduce(op: 'max' | 'min', x: View, dim: number): Storage {
    const { data: src, offset: x0 } = this.flat(x);
    const len = x.shape[dim] ?? 1;
    const inner = numel(x.shape.slice(dim + 1));
    const outShape = x.shape.map((d, i) => (i === dim ? 1 : d));
    const outN = numel(outShape);
    const out = allocTyped('int32', outN, outShape);
    const sign = op === 'max' ? 1 : -1;
    for (let r = 0; r < outN; r++) {
      const base = x0 + Math.floor(r / inner) * len * inner + (r % inner);
      let best = src[base];
      let at = 0;
      for (let k = 1; k < len && best === best; k++) {
        const v = src[base + k * inner];
        // The first extreme wins; the first NaN wins over everything (then the loop stops).
        if (v !== v || sign * (v - best) > 0) {
          best = v;
          at = k;
        }
      }
      out[r] = at;
    }
    return this.make(out, 'int32');
  }

  where(cond: View, a: View, b: View, outShape: Shape, dtype: DType): Storage {
    const n = numel(outShape);
    const out = allocTyped(dtype, n, outShape);
    if (n === 0) return this.make(out, dtype);
    const dc = dataOf(cond),
      da = dataOf(a),
      db = dataOf(b);
    const c = coalesce(outShape, [
      contiguousStrides(outShape),
      broadcastStrides(cond.shape, cond.strides, outShape),
      broadcastStrides(a.shape, a.strides, outShape),
      broadcastStrides(b.shape, b.strides, outShape),
    ]);
    const last = c.shape.length - 1;
    const sc = c.strides[1][last],
      sa = c.strides[2][last],
      sb = c.strides[3][last];
    walkRows(c.shape, c.strides, [0, cond.offset, a.offset, b.offset], (p, len) => {
      let pc = p[1],
        pa = p[2],
        pb = p[3];
      const po = p[0];
      for (let i = 0; i < len; i++, pc += sc, pa += sa, pb += sb) out[po + i] = dc[pc] !== 0 ? da[pa] : db[pb];
    });
    return this.make(out, dtype);
  }

  gather(x: View, dim: number, index: View): Storage {
    return this.make(gatherKernel(x, dataOf(x), dim, this.read(index), index), x.storage.dtype);
  }

  fold2d(g: View, geometry: WindowGeometry): Storage {
    return this.make(fold2dKernel(g, dataOf(g), geometry), g.storage.dtype);
  }

  unfold2d(x: View, geometry: WindowGeometry, channelsFirst: boolean): Storage {
    return this.make(unfold2dKernel(x, dataOf(x), geometry, channelsFirst), x.storage.dtype);
  }

  maxPool2dIndices(x: View, geometry: WindowGeometry, padding: [number, number]): Storage {
    return this.make(maxPool2dIndicesKernel(x, dataOf(x), geometry, padding), 'int32');
  }

  scatterAdd(src: View, dim: number, index: View, outShape: Shape): Storage {
    return this.make(scatterAddKernel(src, this.read(src), dim, this.read(index), index, outShape), src.storage.dtype);
  }

  multinomial(probs: View, numSamples: number, replacement: boolean, uniforms: Float32Array): Storage {
    const w = this.read(probs);
    const n = probs.shape[probs.shape.length - 1];
    const rows = n === 0 ? 0 : w.length / n;
    const out = allocTyped('int32', rows * numSamples, [rows, numSamples]);
    for (let r = 0; r < rows; r++) {
      const base = r * n;
      let total = 0;
      let positive = 0;
      for (let i = 0; i < n; i++) {
        const v = w[base + i];
        if (!(v >= 0) || !Number.isFinite(v))
          fail(
            'INVALID_ARGUMENT',
            `multinomial: probability tensor contains either inf, nan or element < 0 (row ${String(r)}, category ${String(i)}: ${String(v)})`,
          );
        total += v;
        if (v > 0) positive++;
      }
      if (!(total > 0))
        fail(
          'INVALID_ARGUMENT',
          `multinomial: row ${String(r)} of the probabilities sums to 0: invalid multinomial distribution (sum of probabilities <= 0)`,
        );
      if (!replacement && positive < numSamples) {
        fail(
          'INVALID_ARGUMENT',
          `multinomial: invalid multinomial distribution (with replacement=False, not enough non-negative category to sample): row ${String(r)} has ${String(positive)} categories with a positive weight, ${String(numSamples)} samples requested`,
        );
      }
      if (replacement) {
        for (let s = 0; s < numSamples; s++) {
          const u = uniforms[r * numSamples + s] * total;
          let acc = 0;
          let pick = -1;
          for (let i = 0; i < n; i++) {
            acc += w[base + i];
            if (w[base + i] > 0) pick = i;
            if (acc > u && w[base + i] > 0) break;
          }
          out[r * numSamples + s] = pick;
        }
      } else {
        // Efraimidis–Spirakis: key_i = log(u_i) / w_i; the numSamples largest keys, in decreasing order.
        let last = Infinity;
        for (let s = 0; s < numSamples; s++) {
          let best = -Infinity;
          let pick = -1;
          for (let i = 0; i < n; i++) {
            const wi = w[base + i];
            if (wi <= 0) continue;
            const key = Math.log(Math.fround(uniforms[base + i])) / wi;
            if (key < last && (pick < 0 || key > best)) {
              best = key;
              pick = i;
            }
          }
          last = best;
          out[r * numSamples + s] = pick;
        }
      }
    }
    return this.make(out, 'int32');
  }

  softmax(x: View, dim: number, log: boolean): Storage {
    const dtype = x.storage.dtype;
    const shape = x.shape;
    const n = numel(shape);
    const out = allocTyped(dtype, n, shape);
    const src = this.read(x); // contiguous copy
    const len = shape[dim] ?? 1;
    let inner = 1;
    for (let d = dim + 1; d < shape.length; d++) inner *= shape[d];
    const outer = len === 0 ? 0 : n / (len * inner);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const base = o * len * inner + j;
        let m = -Infinity;
        for (let i = 0; i < len; i++) m = Math.max(m, src[base + i * inner]);
        let s = 0;
        for (let i = 0; i < len; i++) s += Math.exp(src[base + i * inner] - m);
        if (log) {
          const lse = m + Math.log(s);
          for (let i = 0; i < len; i++) out[base + i * inner] = src[base + i * inner] - lse;
        } else {
          for (let i = 0; i < len; i++) out[base + i * inner] = Math.exp(src[base + i * inner] - m) / s;
        }
      }
    }
    return this.make(out, dtype);
  }

  matmul(a: View, b: View, batch: Shape, m: number, k: number, n: number, dtype: DType): Storage {
    const out = allocTyped(dtype, numel(batch) * m * n, [...batch, m, n]);
    const da = dataOf(a),
      db = dataOf(b);
    const nda = a.shape.length,
      ndb = b.shape.length;
    // Operands are read through their strides: a transposed or batch-broadcast view is not copied.
    const aOffsets = batchOffsets(batch, batchStrides(a, batch), a.offset);
    const bOffsets = batchOffsets(batch, batchStrides(b, batch), b.offset);
    aOffsets.forEach((aOff, t) => {
      gemm(
        { data: da, offset: aOff, rowStride: a.strides[nda - 2], colStride: a.strides[nda - 1] },
        { data: db, offset: bOffsets[t], rowStride: b.strides[ndb - 2], colStride: b.strides[ndb - 1] },
        out,
        t * m * n,
        m,
        k,
        n,
      );
    });
    return this.make(out, dtype);
  }

  clamp(x: View, min: number, max: number): Storage {
    const src = this.read(x);
    const out = allocTyped(x.storage.dtype, src.length, x.shape);
    for (let i = 0; i < src.length; i++) out[i] = Math.min(Math.max(src[i], min), max);
    return this.make(out, x.storage.dtype);
  }

  gelu(x: View, grad: boolean): Storage {
    const src = this.read(x);
    const out = allocTyped(x.storage.dtype, src.length, x.shape);
    if (grad) geluGradRow(out, src);
    else geluRow(out, src);
    return this.make(out, x.storage.dtype);
  }

  oneHot(indices: View, numClasses: number, dtype: DType): Storage {
    const idx = this.read(indices);
    const out = allocTyped(dtype, idx.length * numClasses, [idx.length, numClasses]);
    idx.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0 || c >= numClasses) {
        fail(
          'INVALID_ARGUMENT',
          `class index ${String(c)} at position ${String(i)} is out of range for ${String(numClasses)} classes (expected 0..${String(numClasses - 1)})`,
        );
      }
      out[i * numClasses + c] = 1;
    });
    return this.make(out, dtype);
  }

  batchNormStats(x: View): Storage {
    return this.make(batchNormStatsKernel(x, this.flat(x)), x.storage.dtype);
  }

  batchNormForward(x: View, mean: View, variance: View, weight: View, bias: View, eps: number): Storage {
    const [m, v, w, b] = [mean, variance, weight, bias].map((t) => this.read(t));
    return this.make(batchNormForwardKernel(x, this.flat(x), m, v, w, b, eps), x.storage.dtype);
  }

  batchNormBackward(g: View, x: View, mean: View, variance: View, weight: View, eps: number): [Storage, Storage, Storage] {
    const [m, v, w] = [mean, variance, weight].map((t) => this.read(t));
    const [dx, dw, db] = batchNormBackwardKernel(x, this.flat(g), this.flat(x), m, v, w, eps);
    const dtype = x.storage.dtype;
    return [this.make(dx, dtype), this.make(dw, dtype), this.make(db, dtype)];
  }

  reluBackward(g: View, y: View): Storage {
    const n = numel(y.shape);
    const dtype = g.storage.dtype;
    const gf = this.flat(g);
    const yf = this.flat(y);
    if (gf.data instanceof Float32Array && yf.data instanceof Float32Array) {
      const viaWasm = maskedF32Wasm(gf.data, gf.offset, yf.data, yf.offset, n);
      if (viaWasm) return this.make(viaWasm, dtype);
    }
    const out = allocTyped(dtype, n, y.shape);
    if (out instanceof Float32Array && gf.data instanceof Float32Array && yf.data instanceof Float32Array) {
      // On g's bits: AND with all ones (y > 0 or NaN) or with zero, so no data-dependent branch.
      const oi = new Int32Array(out.buffer, out.byteOffset, n);
      const gi = new Int32Array(gf.data.buffer, gf.data.byteOffset + 4 * gf.offset, n);
      const yd = yf.data;
      for (let i = 0, py = yf.offset; i < n; i++, py++) oi[i] = gi[i] & -+!(yd[py] <= 0);
    } else {
      for (let i = 0; i < n; i++) out[i] = yf.data[yf.offset + i] <= 0 ? 0 : gf.data[gf.offset + i];
    }
    return this.make(out, dtype);
  }

  conv2dForward(x: View, weight: View, bias: View | null, geometry: WindowGeometry): Storage | null {
    const y = conv2dForwardKernel(x, dataOf(x), weight, this.flat(weight), bias, bias && dataOf(bias), geometry);
    return y && this.make(y, 'float32');
  }

  conv2dBackward(
    g: View,
    x: View | null,
    weight: View | null,
    xShape: Shape,
    geometry: WindowGeometry,
  ): [Storage | null, Storage | null] | null {
    const r = conv2dBackwardKernel(g, dataOf(g), x, x && dataOf(x), weight, weight && this.flat(weight), xShape, geometry);
    return r && [r.dx && this.make(r.dx, 'float32'), r.dw && this.make(r.dw, 'float32')];
  }

  /** A contiguous view as (array, offset) in place; anything else as a packed copy. */
  private flat(v: View): Flat {
    return isContiguous(v) ? { data: dataOf(v), offset: v.offset } : { data: this.read(v), offset: 0 };
  }

  private flatOrNull(v: View | null): Flat | null {
    return v ? this.flat(v) : null;
  }

  sgdStep(param: View, grad: View, momentumBuf: View | null, h: SgdHyper): void {
    sgdUpdate(this.flat(param), this.flat(grad), this.flatOrNull(momentumBuf), numel(param.shape), h);
  }

  adamStep(param: View, grad: View, expAvg: View, expAvgSq: View, maxExpAvgSq: View | null, h: AdamHyper): void {
    adamUpdate(
      this.flat(param),
      this.flat(grad),
      this.flat(expAvg),
      this.flat(expAvgSq),
      this.flatOrNull(maxExpAvgSq),
      numel(param.shape),
      h,
    );
  }

  rmspropStep(param: View, grad: View, squareAvg: View, momentumBuf: View | null, gradAvg: View | null, h: RmspropHyper): void {
    rmspropUpdate(
      this.flat(param),
      this.flat(grad),
      this.flat(squareAvg),
      this.flatOrNull(momentumBuf),
      this.flatOrNull(gradAvg),
      numel(param.shape),
      h,
    );
  }
}

/** Strides of a [..., r, c] operand's batch dims read with the broadcast batch shape (0 where broadcast). */
function batchStrides(v: View, batch: Shape): number[] {
  const nd = v.shape.length;
  return broadcastStrides(v.shape.slice(0, nd - 2), v.strides.slice(0, nd - 2), batch);
}

/** Storage offset of every batch entry, in row-major batch order. */
function batchOffsets(batch: Shape, strides: readonly number[], offset: number): number[] {
  const count = numel(batch);
  const out = new Array<number>(count);
  const idx = new Array<number>(batch.length).fill(0);
  let p = offset;
  for (let t = 0; t < count; t++) {
    out[t] = p;
    for (let d = batch.length - 1; d >= 0; d--) {
      idx[d]++;
      p += strides[d];
      if (idx[d] < batch[d]) break;
      idx[d] = 0;
      p -= strides[d] * batch[d];
    }
  }
  return out;
}

export const cpuBackend = new CpuBackend();
