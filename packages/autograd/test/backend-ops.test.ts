/**
 * The shared backend suite (TF.js's shared kernel tests, in our form): every op of the op table,
 * forward and backward, runs on each backend on odd sizes (not multiples of the 256-thread
 * workgroup or the 64-wide matmul tile), with broadcasting, transposed/expanded/indexed views and
 * recorded in-place ops. Values are checked against an independent float64 reference
 * (backend-reference.ts) and gradients against finite differences of it; on WebGPU every value
 * and gradient must also match the CPU backend within float32 tolerance.
 */
import { describe, expect, it } from 'vitest';
import {
  arange,
  cat,
  eye,
  full,
  GradFlowError,
  linspace,
  manualSeed,
  multinomial,
  nn,
  onesLike,
  stack,
  where,
  zerosLike,
  type Device,
  type Tensor,
} from '../src/index.js';
import * as R from './backend-reference.js';
import { expectClose, leaf, values } from './backend-harness.js';
import { webgpuAvailability } from './webgpu-env.js';

interface InputSpec {
  shape: number[];
  lo?: number;
  hi?: number;
  avoid?: number[];
}
interface OpCase {
  name: string;
  inputs: InputSpec[];
  run: (ts: Tensor[]) => Tensor;
  /** The reference on plain arrays; handed to the finite-difference helpers as a function. */
  ref: (xs: R.Nd[]) => R.Nd;
}

const away = { avoid: [0] };
const positive = { lo: 0.2, hi: 2 };
const cases: OpCase[] = [
  // element-wise unary, 300x7 = 2100 elements (8.2 workgroups)
  ...(
    [
      ['neg', (t: Tensor) => t.neg(), (v: number) => -v, {}],
      ['exp', (t: Tensor) => t.exp(), Math.exp, {}],
      ['log', (t: Tensor) => t.log(), Math.log, positive],
      ['sqrt', (t: Tensor) => t.sqrt(), Math.sqrt, positive],
      ['abs', (t: Tensor) => t.abs(), Math.abs, away],
      ['relu', (t: Tensor) => t.relu(), (v: number) => Math.max(v, 0), away],
      ['sigmoid', (t: Tensor) => t.sigmoid(), (v: number) => 1 / (1 + Math.exp(-v)), { lo: -6, hi: 6 }],
      ['tanh', (t: Tensor) => t.tanh(), Math.tanh, { lo: -4, hi: 4 }],
    ] as const
  ).map(([name, run, f, dom]): OpCase => ({
    name: `${name} [300, 7]`,
    inputs: [{ shape: [300, 7], ...dom }],
    run: ([x]) => run(x),
    ref: ([x]) => R.map(x, f),
  })),
  // element-wise binary with broadcasting: [5, 1, 67] op [3, 1] -> [5, 3, 67]
  ...(
    [
      ['add', (a: Tensor, b: Tensor) => a.add(b), (x: number, y: number) => x + y, {}, {}],
      ['sub', (a: Tensor, b: Tensor) => a.sub(b), (x: number, y: number) => x - y, {}, {}],
      ['mul', (a: Tensor, b: Tensor) => a.mul(b), (x: number, y: number) => x * y, {}, {}],
      ['div', (a: Tensor, b: Tensor) => a.div(b), (x: number, y: number) => x / y, {}, positive],
      ['pow', (a: Tensor, b: Tensor) => a.pow(b), (x: number, y: number) => Math.pow(x, y), positive, {}],
    ] as const
  ).map(([name, run, f, da, db]): OpCase => ({
    name: `${name} [5, 1, 67] with [3, 1] (broadcast)`,
    inputs: [
      { shape: [5, 1, 67], ...da },
      { shape: [3, 1], ...db },
    ],
    run: ([a, b]) => run(a, b),
    ref: ([a, b]) => R.zip(a, b, f),
  })),
  { name: 'mul by a number', inputs: [{ shape: [259] }], run: ([x]) => x.mul(2.5), ref: ([x]) => R.map(x, (v) => v * 2.5) },
  { name: 'sub a number', inputs: [{ shape: [259] }], run: ([x]) => x.sub(0.75), ref: ([x]) => R.map(x, (v) => v - 0.75) },
  { name: 'div by a number', inputs: [{ shape: [259] }], run: ([x]) => x.div(3), ref: ([x]) => R.map(x, (v) => v / 3) },
  { name: 'pow 2 of negatives', inputs: [{ shape: [259], lo: -2, hi: 2 }], run: ([x]) => x.pow(2), ref: ([x]) => R.map(x, (v) => v * v) },
  { name: 'pow 3 of negatives', inputs: [{ shape: [259], lo: -2, hi: 2 }], run: ([x]) => x.pow(3), ref: ([x]) => R.map(x, (v) => v ** 3) },
  { name: 'pow 0.5', inputs: [{ shape: [259], ...positive }], run: ([x]) => x.pow(0.5), ref: ([x]) => R.map(x, Math.sqrt) },
  // matmul: odd sizes across several 64x64 tiles, transposed views, vectors, broadcast batches
  {
    name: 'matmul [70, 130] x [130, 67]',
    inputs: [{ shape: [70, 130] }, { shape: [130, 67] }],
    run: ([a, b]) => a.matmul(b),
    ref: ([a, b]) => R.matmul(a, b),
  },
  {
    name: 'matmul of transposed views [33, 65]^T x [47, 33]^T',
    inputs: [{ shape: [65, 33] }, { shape: [47, 65] }],
    run: ([a, b]) => a.transpose(0, 1).matmul(b.transpose(0, 1)),
    ref: ([a, b]) => R.matmul(R.transpose(a, 0, 1), R.transpose(b, 0, 1)),
  },
  {
    name: 'batched matmul [2, 1, 5, 7] x [3, 7, 9] (broadcast batch)',
    inputs: [{ shape: [2, 1, 5, 7] }, { shape: [3, 7, 9] }],
    run: ([a, b]) => a.matmul(b),
    ref: ([a, b]) => R.matmul(a, b),
  },
  {
    name: 'batch of rows times a matrix [3, 5, 70] x [70, 9] (Linear on sequences: one flattened product)',
    inputs: [{ shape: [3, 5, 70] }, { shape: [70, 9] }],
    run: ([a, b]) => a.matmul(b),
    ref: ([a, b]) => R.matmul(a, b),
  },
  {
    name: 'non-contiguous batch times a matrix [5, 3, 7]^(0,1) x [7, 4]',
    inputs: [{ shape: [5, 3, 7] }, { shape: [7, 4] }],
    run: ([a, b]) => a.transpose(0, 1).matmul(b),
    ref: ([a, b]) => R.matmul(R.transpose(a, 0, 1), b),
  },
  {
    name: 'matrix-vector [17, 29] x [29]',
    inputs: [{ shape: [17, 29] }, { shape: [29] }],
    run: ([a, v]) => a.matmul(v),
    ref: ([a, v]) => {
      const r = R.matmul(a, R.nd([29, 1], v.data));
      return R.nd([17], r.data);
    },
  },
  // reductions: one thread per output and one workgroup per output (>= 256 reduced), strided input
  { name: 'sum over all of [37, 53]', inputs: [{ shape: [37, 53] }], run: ([x]) => x.sum(), ref: ([x]) => R.sum(x, [0, 1]) },
  { name: 'sum(1) of [3, 700]', inputs: [{ shape: [3, 700] }], run: ([x]) => x.sum(1), ref: ([x]) => R.sum(x, [1]) },
  { name: 'sum(0, keepdim) of [300, 5]', inputs: [{ shape: [300, 5] }], run: ([x]) => x.sum(0, true), ref: ([x]) => R.sum(x, [0], true) },
  { name: 'sum([0, 2]) of [4, 6, 9]', inputs: [{ shape: [4, 6, 9] }], run: ([x]) => x.sum([0, 2]), ref: ([x]) => R.sum(x, [0, 2]) },
  {
    name: 'mean(-1) of a transposed view',
    inputs: [{ shape: [11, 13] }],
    run: ([x]) => x.transpose(0, 1).mean(-1),
    ref: ([x]) => R.map(R.sum(R.transpose(x, 0, 1), [1]), (v) => v / 11),
  },
  {
    name: 'mean over all of [29, 31]',
    inputs: [{ shape: [29, 31] }],
    run: ([x]) => x.mean(),
    ref: ([x]) => R.map(R.sum(x, [0, 1]), (v) => v / (29 * 31)),
  },
  // softmax / logSoftmax along last and first dims, and on a transposed view
  {
    name: 'softmax(-1) of [19, 11]',
    inputs: [{ shape: [19, 11], lo: -3, hi: 3 }],
    run: ([x]) => x.softmax(-1),
    ref: ([x]) => R.softmax(x, 1, false),
  },
  {
    name: 'softmax(0) of [19, 11]',
    inputs: [{ shape: [19, 11], lo: -3, hi: 3 }],
    run: ([x]) => x.softmax(0),
    ref: ([x]) => R.softmax(x, 0, false),
  },
  {
    name: 'logSoftmax(1) of [23, 300]',
    inputs: [{ shape: [23, 300], lo: -3, hi: 3 }],
    run: ([x]) => x.logSoftmax(1),
    ref: ([x]) => R.softmax(x, 1, true),
  },
  {
    name: 'logSoftmax(1) of a transposed view',
    inputs: [{ shape: [9, 14] }],
    run: ([x]) => x.transpose(0, 1).logSoftmax(1),
    ref: ([x]) => R.softmax(R.transpose(x, 0, 1), 1, true),
  },
  // views feeding kernels: reshape, expand (stride 0), index (offset)
  {
    name: 'expand [1, 37] to [5, 37] then mul',
    inputs: [{ shape: [1, 37] }, { shape: [5, 37] }],
    run: ([a, b]) => a.expand([5, 37]).mul(b),
    ref: ([a, b]) => R.zip(R.expand(a, [5, 37]), b, (x, y) => x * y),
  },
  {
    name: 'index [2] of [4, 9, 5] then exp',
    inputs: [{ shape: [4, 9, 5] }],
    run: ([x]) => x.index(2).exp(),
    ref: ([x]) => R.map(R.nd([9, 5], x.data.slice(2 * 45, 3 * 45)), Math.exp),
  },
  {
    name: 'reshape of a transposed view',
    inputs: [{ shape: [6, 10] }],
    run: ([x]) => x.transpose(0, 1).reshape([4, 15]).mul(2),
    ref: ([x]) => R.map(R.nd([4, 15], R.transpose(x, 0, 1).data), (v) => v * 2),
  },
  { name: 'clone', inputs: [{ shape: [257] }], run: ([x]) => x.clone().mul(x), ref: ([x]) => R.map(x, (v) => v * v) },
  // recorded in-place ops on non-leaves (same version-counter path on every backend)
  {
    name: 'add_/mul_/sub_/div_ on a non-leaf',
    inputs: [{ shape: [3, 77] }, { shape: [77], ...positive }],
    run: ([x, y]) => x.mul(1).add_(y).mul_(y).sub_(0.5).div_(y),
    ref: ([x, y]) =>
      R.zip(
        R.zip(
          R.zip(x, y, (a, b) => a + b),
          y,
          (a, b) => a * b,
        ),
        y,
        (a, b) => (a - 0.5) / b,
      ),
  },
  {
    name: 'relu_ on a non-leaf',
    inputs: [{ shape: [301], ...away }],
    run: ([x]) => x.mul(2).relu_(),
    ref: ([x]) => R.map(x, (v) => Math.max(2 * v, 0)),
  },
  {
    name: 'clamp_ on a non-leaf',
    inputs: [{ shape: [301], avoid: [-0.5, 0.5] }],
    run: ([x]) => x.mul(1).clamp_(-0.5, 0.5),
    ref: ([x]) => R.map(x, (v) => Math.min(Math.max(v, -0.5), 0.5)),
  },
  {
    name: 'setItem_ of a row on a non-leaf',
    inputs: [{ shape: [5, 33] }, { shape: [33] }],
    run: ([x, v]) => x.mul(1).setItem_(3, v),
    ref: ([x, v]) =>
      R.nd(
        [5, 33],
        x.data.map((e, i) => (Math.floor(i / 33) === 3 ? v.data[i % 33] : e)),
      ),
  },
  {
    name: 'copy_ (broadcast) and fill_ on non-leaves',
    inputs: [{ shape: [4, 21] }, { shape: [21] }],
    run: ([x, v]) => x.mul(1).copy_(v).add(x.mul(1).fill_(2)),
    ref: ([x, v]) => R.map(R.expand(v, [4, 21]), (e) => e + 2 + 0 * x.data[0]),
  },
  // losses
  {
    name: 'mseLoss [41, 3]',
    inputs: [{ shape: [41, 3] }, { shape: [41, 3] }],
    run: ([a, b]) => nn.functional.mseLoss(a, b),
    ref: ([a, b]) =>
      R.map(
        R.sum(
          R.zip(a, b, (x, y) => (x - y) ** 2),
          [0, 1],
        ),
        (v) => v / 123,
      ),
  },
  {
    name: 'l1Loss [41, 3]',
    inputs: [{ shape: [41, 3] }, { shape: [41, 3] }],
    run: ([a, b]) => nn.functional.l1Loss(a, b),
    ref: ([a, b]) =>
      R.map(
        R.sum(
          R.zip(a, b, (x, y) => Math.abs(x - y)),
          [0, 1],
        ),
        (v) => v / 123,
      ),
  },
];

// ---- second wave: views, joins, selection, reductions (odd sizes, negative dims, broadcasting) ----
const pattern = (shape: number[], f: (i: number) => number): R.Nd =>
  R.nd(
    shape,
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
  );
const constant = (x: Tensor, v: R.Nd, dtype: 'float32' | 'int32' = 'float32'): Tensor => leaf(v, x.device, false, dtype);
const MASK_11 = pattern([11], (i) => ((i * 5) % 3 === 0 ? 1 : 0));
const COND = pattern([5, 1, 7], (i) => ((i * 7) % 4 < 2 ? 1 : 0));
const GATHER_1 = pattern([6, 13], (i) => (i * 5 + 3) % 9);
const GATHER_0 = pattern([11, 3], (i) => (i * 4 + 1) % 7);
cases.push(
  { name: 'log1p [300, 7]', inputs: [{ shape: [300, 7], lo: -0.6, hi: 2 }], run: ([x]) => x.log1p(), ref: ([x]) => R.map(x, Math.log1p) },
  {
    name: 'clamp(-0.5, 0.5) and clamp(null, 0.3) out of place',
    inputs: [{ shape: [301], avoid: [-0.5, 0.5, 0.3] }],
    run: ([x]) => x.clamp(-0.5, 0.5).add(x.clamp(null, 0.3)),
    ref: ([x]) => R.map(x, (v) => Math.min(Math.max(v, -0.5), 0.5) + Math.min(v, 0.3)),
  },
  {
    name: 'permute(2, 0, -2) of [3, 5, 7]',
    inputs: [{ shape: [3, 5, 7] }],
    run: ([x]) => x.permute(2, 0, -2).mul(2),
    ref: ([x]) => R.map(R.permute(x, [2, 0, 1]), (v) => 2 * v),
  },
  {
    name: 'squeeze, unsqueeze(-1), flatten(1), view of [5, 1, 7]',
    inputs: [{ shape: [5, 1, 7] }],
    run: ([x]) => x.squeeze(1).unsqueeze(-1).flatten(1).view([7, -1]).exp(),
    ref: ([x]) => R.map(R.nd([7, 5], x.data), Math.exp),
  },
  {
    name: 'view of a permuted view that keeps it viewable, then a kernel',
    inputs: [{ shape: [4, 3, 5] }],
    run: ([x]) => x.permute(1, 0, 2).view(3, 2, -1, 5).mul(3),
    ref: ([x]) => R.map(R.nd([3, 2, 2, 5], R.permute(x, [1, 0, 2]).data), (v) => 3 * v),
  },
  {
    name: 'expand [5, 1] to [-1, 9] (and a new leading dim)',
    inputs: [{ shape: [5, 1] }, { shape: [2, 5, 9] }],
    run: ([a, b]) => a.expand(2, -1, 9).mul(b),
    ref: ([a, b]) => R.zip(R.expand(a, [2, 5, 9]), b, (x, y) => x * y),
  },
  {
    name: 'slice(-1, 2, 11, 3) and slice(0, -3) of [7, 13]',
    inputs: [{ shape: [7, 13] }],
    run: ([x]) =>
      x
        .slice(-1, 2, 11, 3)
        .mul(2)
        .sum(0)
        .add(x.slice(0, -3).sum(0).slice(0, 0, 3)),
    ref: ([x]) =>
      R.zip(
        R.sum(
          R.map(R.slice(x, 1, 2, 11, 3), (v) => 2 * v),
          [0],
        ),
        R.slice(R.sum(R.slice(x, 0, 4, 7), [0]), 0, 0, 3),
        (a, b) => a + b,
      ),
  },
  {
    name: 'cat of [3, 4], [3, 1] and a transposed [6, 3] along -1',
    inputs: [{ shape: [3, 4] }, { shape: [3, 1] }, { shape: [6, 3] }],
    run: ([a, b, c]) => cat([a, b, c.transpose(0, 1)], -1),
    ref: ([a, b, c]) => R.cat([a, b, R.transpose(c, 0, 1)], 1),
  },
  {
    name: 'stack of three [5, 3] along 1',
    inputs: [{ shape: [5, 3] }, { shape: [5, 3] }, { shape: [5, 3] }],
    run: ([a, b, c]) => stack([a, b, c], 1),
    ref: ([a, b, c]) =>
      R.permute(
        R.cat(
          [a, b, c].map((t) => R.nd([1, 5, 3], t.data)),
          0,
        ),
        [1, 0, 2],
      ),
  },
  {
    name: 'split([2, 3, 4], -1) and chunk(3, 0) of [7, 9], reassembled',
    inputs: [{ shape: [7, 9] }],
    run: ([x]) => {
      const [p, q, r] = x.split([2, 3, 4], -1);
      const rows = x.chunk(3, 0); // sizes 3, 3, 1
      return cat([r, p.mul(2), q], 1).add(cat([rows[2], rows[0], rows[1]], 0));
    },
    ref: ([x]) =>
      R.zip(
        R.cat([R.slice(x, 1, 5, 9), R.map(R.slice(x, 1, 0, 2), (v) => 2 * v), R.slice(x, 1, 2, 5)], 1),
        R.cat([R.slice(x, 0, 6, 7), R.slice(x, 0, 0, 3), R.slice(x, 0, 3, 6)], 0),
        (a, b) => a + b,
      ),
  },
  {
    name: 'where(cond [5, 1, 7], a [3, 7], b [5, 3, 1]) (broadcast)',
    inputs: [{ shape: [3, 7] }, { shape: [5, 3, 1] }],
    run: ([a, b]) => where(constant(a, COND), a, b),
    ref: ([a, b]) => R.where(COND, a, b),
  },
  {
    name: 'maskedFill(mask [11], -2.5) and maskedFill_ on a non-leaf',
    inputs: [{ shape: [9, 11] }],
    run: ([x]) => x.maskedFill(constant(x, MASK_11), -2.5).add(x.mul(2).maskedFill_(constant(x, MASK_11), 3)),
    ref: ([x]) =>
      R.zip(
        R.where(MASK_11, R.nd([1], [-2.5]), x),
        R.where(
          MASK_11,
          R.nd([1], [3]),
          R.map(x, (v) => 2 * v),
        ),
        (a, b) => a + b,
      ),
  },
  {
    name: 'max(-1).values of [23, 301] and min(0, keepdim).values',
    inputs: [{ shape: [23, 301] }],
    run: ([x]) => x.max(-1).values.sum().add(x.min(0, true).values.sum()),
    ref: ([x]) =>
      R.nd(
        [],
        [
          R.reduceDim(x, 1, (v) => Math.max(...v)).data.reduce((a, b) => a + b, 0) +
            R.reduceDim(x, 0, (v) => Math.min(...v)).data.reduce((a, b) => a + b, 0),
        ],
      ),
  },
  {
    name: 'max() and min() over all of [37, 5]',
    inputs: [{ shape: [37, 5] }],
    run: ([x]) => x.max().mul(2).add(x.min()),
    ref: ([x]) => R.nd([], [2 * Math.max(...x.data) + Math.min(...x.data)]),
  },
  {
    name: 'gather(1) with repeated indices [6, 13] from [6, 9]; gather(0) [11, 3] from [7, 5]',
    inputs: [{ shape: [6, 9] }, { shape: [7, 5] }],
    run: ([a, b]) =>
      a
        .gather(1, constant(a, GATHER_1, 'int32'))
        .sum(1)
        .add(
          b
            .gather(-2, constant(b, GATHER_0, 'int32'))
            .sum()
            .mul(0.5),
        ),
    ref: ([a, b]) => R.map(R.sum(R.gather(a, 1, GATHER_1), [1]), (v) => v + 0.5 * R.gather(b, 0, GATHER_0).data.reduce((s, e) => s + e, 0)),
  },
  {
    name: 'norm(): 2 over all of [29, 31]; 1 along -1; 3 along 0; inf along 1',
    inputs: [{ shape: [29, 31] }, { shape: [5, 7], ...away }, { shape: [6, 4] }, { shape: [4, 9] }],
    run: ([a, b, c, d]) => a.norm().add(b.norm(1, -1).sum()).add(c.norm(3, 0).sum()).add(d.norm(Infinity, 1).sum()),
    ref: ([a, b, c, d]) =>
      R.nd(
        [],
        [
          Math.sqrt(a.data.reduce((s, v) => s + v * v, 0)) +
            R.reduceDim(b, 1, (v) => v.reduce((s, e) => s + Math.abs(e), 0)).data.reduce((s, e) => s + e, 0) +
            R.reduceDim(c, 0, (v) => Math.cbrt(v.reduce((s, e) => s + Math.abs(e) ** 3, 0))).data.reduce((s, e) => s + e, 0) +
            R.reduceDim(d, 1, (v) => Math.max(...v.map(Math.abs))).data.reduce((s, e) => s + e, 0),
        ],
      ),
  },
  {
    name: 'var(-1) of [13, 300]; var([0, 2], correction 0); std(0) of [17, 3]',
    inputs: [{ shape: [13, 300] }, { shape: [4, 5, 6] }, { shape: [17, 3] }],
    run: ([a, b, c]) => cat([a.var(-1), b.var([0, 2], { correction: 0 }), c.std(0)], 0),
    ref: ([a, b, c]) =>
      R.cat(
        [
          R.reduceDim(a, 1, (v) => R.variance(v, 1)),
          R.reduceDim(R.nd([5, 24], R.permute(b, [1, 0, 2]).data), 1, (v) => R.variance(v, 0)),
          R.reduceDim(c, 0, (v) => Math.sqrt(R.variance(v, 1))),
        ],
        0,
      ),
  },
  {
    name: 'tril(1) of [3, 5, 7] and triu(-2) of a transposed [4, 6]',
    inputs: [{ shape: [3, 5, 7] }, { shape: [4, 6] }],
    run: ([a, b]) => cat([a.tril(1).sum([0, 1]), b.transpose(0, 1).triu(-2).sum(0)], 0),
    ref: ([a, b]) => R.cat([R.sum(R.triangle(a, 1, false), [0, 1]), R.sum(R.triangle(R.transpose(b, 0, 1), -2, true), [0])], 0),
  },
);

const TARGETS = Array.from({ length: 29 }, (_, i) => (i * 7 + 3) % 11);
cases.push({
  name: 'crossEntropy [29, 11] (oneHot on the device)',
  inputs: [{ shape: [29, 11], lo: -2, hi: 2 }],
  run: ([x]) => nn.functional.crossEntropy(x, leaf(R.nd([29], TARGETS), x.device, false, 'int32')),
  ref: ([x]) => R.crossEntropy(x, TARGETS),
});

// nn layers composed from the ops above (im2col through unfold2d + matmul, windowed max/mean,
// layer norm, stable BCE-with-logits, attention): they run on every backend because their ops do.
function convRef(x: R.Nd, w: R.Nd, b: R.Nd, stride: [number, number], pad: number, groups: number): R.Nd {
  const [n, c, h, wd] = x.shape;
  const [o, cg, kh, kw] = w.shape;
  const oh = Math.floor((h + 2 * pad - kh) / stride[0]) + 1;
  const ow = Math.floor((wd + 2 * pad - kw) / stride[1]) + 1;
  const out: number[] = [];
  for (let ni = 0; ni < n; ni++)
    for (let oi = 0; oi < o; oi++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let acc = b.data[oi];
          const g = Math.floor(oi / (o / groups));
          for (let ci = 0; ci < cg; ci++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = y * stride[0] - pad + i;
                const ix = xx * stride[1] - pad + j;
                if (iy >= 0 && iy < h && ix >= 0 && ix < wd)
                  acc += w.data[((oi * cg + ci) * kh + i) * kw + j] * x.data[((ni * c + g * cg + ci) * h + iy) * wd + ix];
              }
          out.push(acc);
        }
  return R.nd([n, o, oh, ow], out);
}
function poolRef(x: R.Nd, k: [number, number], stride: [number, number], pad: number, kind: 'max' | 'avg'): R.Nd {
  const [n, c, h, wd] = x.shape;
  const oh = Math.floor((h + 2 * pad - k[0]) / stride[0]) + 1;
  const ow = Math.floor((wd + 2 * pad - k[1]) / stride[1]) + 1;
  const out: number[] = [];
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        const win: number[] = [];
        for (let i = 0; i < k[0]; i++)
          for (let j = 0; j < k[1]; j++) {
            const iy = y * stride[0] - pad + i;
            const ix = xx * stride[1] - pad + j;
            if (iy >= 0 && iy < h && ix >= 0 && ix < wd) win.push(x.data[(p * h + iy) * wd + ix]);
          }
        // avg: count_include_pad=False divides by the real elements only.
        out.push(kind === 'max' ? Math.max(...win) : win.reduce((a, v) => a + v, 0) / win.length);
      }
  return R.nd([n, c, oh, ow], out);
}
/** erf by its Taylor series (|x| <= 3 here; double precision to ~1e-12). */
function erfRef(x: number): number {
  let term = x;
  let sum = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}
const BCE_TARGETS = Array.from({ length: 9 * 31 }, (_, i) => ((i * 5) % 7) / 6);
cases.push(
  {
    name: 'conv2d [2, 4, 7, 6] * [6, 2, 3, 3] + bias, stride [2, 1], padding 1, groups 2',
    inputs: [{ shape: [2, 4, 7, 6] }, { shape: [6, 2, 3, 3] }, { shape: [6] }],
    run: ([x, w, b]) => nn.functional.conv2d(x, w, b, { stride: [2, 1], padding: 1, groups: 2 }),
    ref: ([x, w, b]) => convRef(x, w, b, [2, 1], 1, 2),
  },
  {
    name: 'maxPool2d [2, 3, 7, 9], kernel 3, stride 2, padding 1',
    inputs: [{ shape: [2, 3, 7, 9] }],
    run: ([x]) => nn.functional.maxPool2d(x, 3, { stride: 2, padding: 1 }),
    ref: ([x]) => poolRef(x, [3, 3], [2, 2], 1, 'max'),
  },
  {
    name: 'maxPool2d [2, 3, 6, 9], kernel [2, 3], stride = kernel (windows that do not overlap)',
    inputs: [{ shape: [2, 3, 6, 9] }],
    run: ([x]) => nn.functional.maxPool2d(x, [2, 3]),
    ref: ([x]) => poolRef(x, [2, 3], [2, 3], 0, 'max'),
  },
  {
    name: 'avgPool2d [2, 3, 7, 9], kernel [2, 3], stride [2, 1], padding 1, countIncludePad false',
    inputs: [{ shape: [2, 3, 7, 9] }],
    run: ([x]) => nn.functional.avgPool2d(x, [2, 3], { stride: [2, 1], padding: 1, countIncludePad: false }),
    ref: ([x]) => poolRef(x, [2, 3], [2, 1], 1, 'avg'),
  },
  {
    name: 'layerNorm [13, 37] with weight and bias',
    inputs: [{ shape: [13, 37] }, { shape: [37] }, { shape: [37] }],
    run: ([x, w, b]) => nn.functional.layerNorm(x, [37], w, b),
    ref: ([x, w, b]) => {
      const out: number[] = [];
      for (let r = 0; r < 13; r++) {
        const row = Array.from(x.data.subarray(r * 37, r * 37 + 37));
        const m = row.reduce((a, v) => a + v, 0) / 37;
        const v = R.variance(row, 0);
        row.forEach((e, j) => out.push(((e - m) / Math.sqrt(v + 1e-5)) * w.data[j] + b.data[j]));
      }
      return R.nd([13, 37], out);
    },
  },
  {
    name: 'gelu (erf) and silu of [300, 7]',
    inputs: [{ shape: [300, 7], lo: -3, hi: 3 }],
    run: ([x]) => nn.functional.gelu(x).add(nn.functional.silu(x)),
    ref: ([x]) => R.map(x, (v) => 0.5 * v * (1 + erfRef(v / Math.SQRT2)) + v / (1 + Math.exp(-v))),
  },
  {
    name: 'binaryCrossEntropyWithLogits [9, 31] (reduction none)',
    inputs: [{ shape: [9, 31], lo: -6, hi: 6, avoid: [0] }],
    run: ([x]) => nn.functional.binaryCrossEntropyWithLogits(x, leaf(R.nd([9, 31], BCE_TARGETS), x.device, false), { reduction: 'none' }),
    ref: ([x]) =>
      R.nd(
        [9, 31],
        Array.from(x.data, (v, i) => Math.max(v, 0) - v * BCE_TARGETS[i] + Math.log1p(Math.exp(-Math.abs(v)))),
      ),
  },
  {
    name: 'scaledDotProductAttention causal [2, 5, 8] × [2, 5, 8] × [2, 5, 3]',
    inputs: [{ shape: [2, 5, 8] }, { shape: [2, 5, 8] }, { shape: [2, 5, 3] }],
    run: ([q, k, v]) => nn.functional.scaledDotProductAttention(q, k, v, { isCausal: true }),
    ref: ([q, k, v]) => {
      const scores = R.map(R.matmul(q, R.transpose(k, 1, 2)), (s) => s / Math.sqrt(8));
      const masked = R.nd(
        scores.shape,
        Array.from(scores.data, (s, i) => (i % 5 > Math.floor(i / 5) % 5 ? -Infinity : s)),
      );
      return R.matmul(R.softmax(masked, 2, false), v);
    },
  },
);

interface Outcome {
  shape: readonly number[];
  out: number[];
  grads: number[][];
}

async function runOn(c: OpCase, device: Device, xs: R.Nd[], w: R.Nd): Promise<Outcome> {
  const ts = xs.map((x) => leaf(x, device, true));
  const y = c.run(ts);
  const out = await values(y);
  y.mul(leaf(w, device, false))
    .sum()
    .backward();
  const grads: number[][] = [];
  for (const t of ts) {
    const g = t.grad;
    grads.push(g ? await values(g) : new Array<number>(t.numel()).fill(0));
  }
  return { shape: y.shape, out, grads };
}

function inputsOf(c: OpCase, seed: number): R.Nd[] {
  return c.inputs.map((s, j) => R.randomNd(s.shape, seed * 31 + j, s.lo, s.hi, s.avoid));
}

/** Gradients against finite differences: every element for small inputs, random directions for large ones. */
function checkGradsAgainstReference(c: OpCase, xs: R.Nd[], w: R.Nd, grads: number[][]): void {
  xs.forEach((x, j) => {
    const g = grads[j];
    if (x.data.length <= 400) {
      expectClose(g, R.finiteDifferenceGrad(c.ref, xs, w, j), 2e-3, 2e-3, `${c.name}: grad of input ${String(j)} vs finite differences`);
      return;
    }
    for (let k = 0; k < 2; k++) {
      const dir = R.randomNd(x.shape, 1000 + 17 * j + k);
      const numeric = R.directionalDerivative(c.ref, xs, w, j, dir);
      const analytic = g.reduce((s, v, i) => s + v * dir.data[i], 0);
      const scale = g.reduce((s, v, i) => s + Math.abs(v * dir.data[i]), 0);
      expectClose([analytic], [numeric], 0, 1e-3 * scale + 1e-4, `${c.name}: directional derivative of input ${String(j)}`);
    }
  });
}

const gpu = await webgpuAvailability();

const devices: { device: Device; available: boolean }[] = [
  { device: 'cpu', available: true },
  { device: 'webgpu', available: gpu.available },
];

describe.each(devices)('shared backend ops on $device', ({ device, available }) => {
  describe.skipIf(!available)('values and gradients', () => {
    it.each(cases.map((c, i) => ({ c, i, name: c.name })))('$name', async ({ c, i }) => {
      const xs = inputsOf(c, i + 1);
      const expected = c.ref(xs);
      const w = R.randomNd(expected.shape, 7000 + i);
      const got = await runOn(c, device, xs, w);
      expect(got.shape).toEqual(expected.shape);
      expectClose(got.out, expected.data, 1e-4, 1e-5, `${c.name}: forward on ${device}`);
      checkGradsAgainstReference(c, xs, w, got.grads);
      if (device !== 'cpu') {
        const cpu = await runOn(c, 'cpu', xs, w);
        expectClose(got.out, cpu.out, 1e-5, 1e-6, `${c.name}: forward, ${device} vs cpu`);
        got.grads.forEach((g, j) => {
          expectClose(g, cpu.grads[j], 1e-4, 1e-5, `${c.name}: grad of input ${String(j)}, ${device} vs cpu`);
        });
      }
    });
  });
});

describe.each(devices)('shared backend: outputs without gradients on $device', ({ device, available }) => {
  const t = (data: number[] | number[][], dtype: 'float32' | 'int32' = 'float32'): Tensor =>
    leaf(R.nd([data.length, ...(Array.isArray(data[0]) ? [data[0].length] : [])], data.flat()), device, false, dtype);
  it.skipIf(!available)('argmax/argmin (first extreme wins, NaN wins) and max/min indices', async () => {
    const x = t([
      [3, 7, 7, -1],
      [Number.NaN, 2, Number.NaN, 9],
      [0, -5, 4, -5],
    ]);
    expect(await values(x.argmax(1))).toEqual([1, 0, 2]);
    expect(await values(x.argmin(-1))).toEqual([3, 0, 1]);
    expect(await values(x.argmax(0, true))).toEqual([1, 0, 1, 1]);
    const { values: v, indices } = x.max(1);
    expect(indices.dtype).toBe('int32');
    expect(await values(indices)).toEqual([1, 0, 2]);
    const got = await values(v);
    expect(got[0]).toBe(7);
    expect(got[1]).toBeNaN();
    expect(got[2]).toBe(4);
    expect(
      await values(
        t([
          [2, 9],
          [11, 3],
        ]).argmax(),
      ),
    ).toEqual([2]);
    expect(Number.isNaN((await values(x.max()))[0])).toBe(true);
    expect(
      await values(
        t([
          [2, 9],
          [11, 3],
        ])
          .min()
          .reshape([1]),
      ),
    ).toEqual([2]);
  });
  it.skipIf(!available)('int32 inputs: max/argmin/where/gather/cat keep int32', async () => {
    const i = t(
      [
        [4, -2, 9],
        [1, 8, -7],
      ],
      'int32',
    );
    expect(await values(i.max(1).values)).toEqual([9, 8]);
    expect(i.max(1).values.dtype).toBe('int32');
    expect(await values(i.argmin(1))).toEqual([1, 2]);
    expect(await values(cat([i, i.slice(1, 0, 1)], 1).reshape([8]))).toEqual([4, -2, 9, 4, 1, 8, -7, 1]);
    expect(await values(i.gather(1, t([[2], [0]], 'int32')).reshape([2]))).toEqual([9, 1]);
  });
  it.skipIf(!available)(
    'int32 sums: exact where the total fits (partial sums may pass int32), DTYPE_MISMATCH where it does not',
    async () => {
      /** The GradFlowError of reading `make()`'s result: the CPU throws at the sum, WebGPU at the read. */
      const readError = async (make: () => Tensor): Promise<GradFlowError> => {
        try {
          await values(make());
        } catch (e) {
          if (e instanceof GradFlowError) return e;
          throw e;
        }
        throw new Error(`expected the int32 sum on ${device} to throw`);
      };
      const overflow = async (make: () => Tensor, total: string): Promise<void> => {
        const e = await readError(make);
        expect(e.code).toBe('DTYPE_MISMATCH');
        expect(e.message).toContain('overflows int32');
        expect(e.message).toContain(total);
      };
      await overflow(() => t([2147483647, 1], 'int32').sum(), '2147483648');
      await overflow(() => t([-2147483648, -1], 'int32').sum(), '-2147483649');
      expect(await values(t([2147483647, 1, -2], 'int32').sum())).toEqual([2147483646]);
      const m = t(
        [
          [2147483647, 5],
          [-1, 6],
        ],
        'int32',
      );
      expect(await values(m.sum(0))).toEqual([2147483646, 11]);
      await overflow(() => m.sum(1), '2147483652');
      // 600 elements: long enough for the WebGPU kernel's one-workgroup-per-output path.
      await overflow(
        () =>
          t(
            Array.from({ length: 600 }, () => 4000000),
            'int32',
          ).sum(),
        '2400000000',
      );
      const alternating = Array.from({ length: 601 }, (_, i) => (i % 2 === 0 ? 2147483647 : -2147483647));
      expect(await values(t(alternating, 'int32').sum())).toEqual([2147483647]);
      // The failed read left nothing behind: the next one succeeds.
      expect(await values(t([1, 2], 'int32').sum())).toEqual([3]);
    },
  );
  it.skipIf(!available)('float() and int() casts; int() never requires grad', async () => {
    const x = t([1.7, -2.7, 0.2]);
    expect(await values(x.int())).toEqual([1, -2, 0]);
    expect(x.int().dtype).toBe('int32');
    const p = leaf(R.nd([2], [1.5, -1]), device, true);
    expect(p.int().requiresGrad).toBe(false);
    expect(await values(t([3, 4], 'int32').float())).toEqual([3, 4]);
  });
  it.skipIf(!available)('multinomial draws the same indices as the CPU from the same seed (with and without replacement)', async () => {
    const weights = pattern([7, 13], (i) => ((i * 7) % 5) * 0.5);
    for (const replacement of [true, false]) {
      manualSeed(21);
      const here = multinomial(leaf(weights, device, false), replacement ? 9 : 4, replacement);
      manualSeed(21);
      const cpu = multinomial(leaf(weights, 'cpu', false), replacement ? 9 : 4, replacement);
      expect(here.device).toBe(device);
      expect(here.shape).toEqual(cpu.shape);
      expect(await values(here)).toEqual(await values(cpu));
    }
  });
  it.skipIf(!available)('creation on the device: arange, linspace, full, eye, zerosLike, onesLike', async () => {
    expect(await values(arange(5, { device }))).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5).dtype).toBe('int32');
    expect(await values(arange(1, 2.2, 0.5, { device }))).toEqual([1, 1.5, 2]);
    expect(await values(linspace(-1, 1, 5, { device }))).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(await values(full([2, 2], 7, { device }))).toEqual([7, 7, 7, 7]);
    expect(await values(eye(2, 3, { device }))).toEqual([1, 0, 0, 0, 1, 0]);
    const x = t([1, 2, 3]);
    expect(await values(zerosLike(x))).toEqual([0, 0, 0]);
    expect(onesLike(x).device).toBe(device);
    expect(await values(onesLike(x))).toEqual([1, 1, 1]);
  });
});
