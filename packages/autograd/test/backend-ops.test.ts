/**
 * The shared backend suite (TF.js's shared kernel tests, in our form): every op of the op table,
 * forward and backward, runs on each backend on odd sizes (not multiples of the 256-thread
 * workgroup or the 64-wide matmul tile), with broadcasting, transposed/expanded/indexed views and
 * recorded in-place ops. Values are checked against an independent float64 reference
 * (backend-reference.ts) and gradients against finite differences of it; on WebGPU every value
 * and gradient must also match the CPU backend within float32 tolerance.
 *
 * This file: element-wise ops, matmul, reductions, softmax, views feeding kernels, recorded in-place
 * ops and losses. The second wave of ops, the nn layers and the outputs without gradients are in
 * backend-ops-second-wave, backend-ops-nn and backend-ops-outputs.test.ts; the set-up they share
 * is backend-ops-suite.ts.
 */
import { nn, type Tensor } from '../src/index.js';
import * as R from './backend-reference.js';
import { away, describeOpCases, positive, type OpCase } from './backend-ops-suite.js';

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

describeOpCases(cases, 0);
