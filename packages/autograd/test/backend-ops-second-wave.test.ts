/**
 * The shared backend suite (see backend-ops.test.ts), second wave: views, joins, selection and
 * reductions, on odd sizes, with negative dims and broadcasting.
 */
import { cat, stack, where, type Tensor } from '../src/index.js';
import * as R from './backend-reference.js';
import { leaf } from './backend-harness.js';
import { away, describeOpCases, pattern, type OpCase } from './backend-ops-suite.js';

const constant = (x: Tensor, v: R.Nd, dtype: 'float32' | 'int32' = 'float32'): Tensor => leaf(v, x.device, false, dtype);
const MASK_11 = pattern([11], (i) => ((i * 5) % 3 === 0 ? 1 : 0));
const COND = pattern([5, 1, 7], (i) => ((i * 7) % 4 < 2 ? 1 : 0));
const GATHER_1 = pattern([6, 13], (i) => (i * 5 + 3) % 9);
const GATHER_0 = pattern([11, 3], (i) => (i * 4 + 1) % 7);
const cases: OpCase[] = [
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
];

describeOpCases(cases, 46);
