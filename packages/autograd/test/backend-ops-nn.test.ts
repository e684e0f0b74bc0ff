/**
 * The shared backend suite (see backend-ops.test.ts): crossEntropy, and nn layers composed from the
 * ops (im2col through unfold2d + matmul, windowed max/mean, layer norm, stable BCE-with-logits,
 * attention): they run on every backend because their ops do.
 */
import { nn } from '../src/index.js';
import * as R from './backend-reference.js';
import { leaf } from './backend-harness.js';
import { describeOpCases, type OpCase } from './backend-ops-suite.js';

const TARGETS = Array.from({ length: 29 }, (_, i) => (i * 7 + 3) % 11);

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
const cases: OpCase[] = [
  {
    name: 'crossEntropy [29, 11] (oneHot on the device)',
    inputs: [{ shape: [29, 11], lo: -2, hi: 2 }],
    run: ([x]) => nn.functional.crossEntropy(x, leaf(R.nd([29], TARGETS), x.device, false, 'int32')),
    ref: ([x]) => R.crossEntropy(x, TARGETS),
  },
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
];

describeOpCases(cases, 64);
