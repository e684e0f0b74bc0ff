/**
 * Conv2d / MaxPool2d / AvgPool2d (im2col through unfold2d + matmul): values against direct
 * loops over PyTorch's definitions, and float64 gradient checks.
 */
import { describe, expect, it } from 'vitest';
import { autograd, manualSeed, nn, optim, tensor, type Tensor } from '../src/index.js';
import { errorOf } from './expect-error.js';
import { gradcheck, leaf } from './gradcheck.js';

const F = nn.functional;
const flat = (t: Tensor): number[] => Array.from(t.dataSync());
const close = (actual: number[], expected: number[], tol = 1e-10): void => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(Math.abs(a - expected[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i])));
  });
};

interface Geo {
  stride: [number, number];
  pad: [number, number];
  dil: [number, number];
}

/** out[n][o][y][x] = b[o] + Σ w[o][c][i][j]·x[n][g·cg + c][y·s - p + i·d][x·s - p + j·d] (zero outside). */
function convRef(
  x: number[],
  [n, c, h, w]: number[],
  wt: number[],
  [o, cg, kh, kw]: number[],
  b: number[] | null,
  groups: number,
  { stride, pad, dil }: Geo,
): { out: number[]; shape: number[] } {
  const oh = Math.floor((h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / stride[0]) + 1;
  const ow = Math.floor((w + 2 * pad[1] - dil[1] * (kw - 1) - 1) / stride[1]) + 1;
  const out: number[] = [];
  const og = o / groups;
  for (let ni = 0; ni < n; ni++)
    for (let oi = 0; oi < o; oi++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++) {
          let s = b ? b[oi] : 0;
          const g = Math.floor(oi / og);
          for (let ci = 0; ci < cg; ci++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const iy = y * stride[0] - pad[0] + i * dil[0];
                const ix = xx * stride[1] - pad[1] + j * dil[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                s += wt[((oi * cg + ci) * kh + i) * kw + j] * x[((ni * c + g * cg + ci) * h + iy) * w + ix];
              }
          out.push(s);
        }
  return { out, shape: [n, o, oh, ow] };
}

function poolRef(
  x: number[],
  [n, c, h, w]: number[],
  [kh, kw]: [number, number],
  { stride, pad, dil }: Geo,
  kind: 'max' | 'avg',
  countIncludePad = true,
): number[] {
  const oh = Math.floor((h + 2 * pad[0] - dil[0] * (kh - 1) - 1) / stride[0]) + 1;
  const ow = Math.floor((w + 2 * pad[1] - dil[1] * (kw - 1) - 1) / stride[1]) + 1;
  const out: number[] = [];
  for (let p = 0; p < n * c; p++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++) {
        let best = -Infinity;
        let sum = 0;
        let count = 0;
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const iy = y * stride[0] - pad[0] + i * dil[0];
            const ix = xx * stride[1] - pad[1] + j * dil[1];
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            const v = x[(p * h + iy) * w + ix];
            best = Math.max(best, v);
            sum += v;
            count++;
          }
        out.push(kind === 'max' ? best : sum / (countIncludePad ? kh * kw : count));
      }
  return out;
}

const values = (len: number, seed: number): number[] =>
  Array.from({ length: len }, (_, i) => Math.sin(1.3 * i + seed) * 1.5 + 0.1 * Math.cos(7 * i));

describe('conv2d', () => {
  const cases: [string, number[], number[], number, Geo, boolean][] = [
    ['plain 3×3', [2, 3, 5, 6], [4, 3, 3, 3], 1, { stride: [1, 1], pad: [0, 0], dil: [1, 1] }, true],
    ['stride 2, padding 1', [1, 2, 7, 6], [3, 2, 3, 2], 1, { stride: [2, 2], pad: [1, 1], dil: [1, 1] }, true],
    ['dilation 2, asymmetric stride and padding', [2, 2, 8, 7], [2, 2, 2, 3], 1, { stride: [1, 2], pad: [2, 1], dil: [2, 2] }, false],
    ['groups 2', [2, 4, 5, 5], [6, 2, 3, 3], 2, { stride: [1, 1], pad: [1, 1], dil: [1, 1] }, true],
    ['depthwise', [1, 3, 4, 4], [3, 1, 2, 2], 3, { stride: [2, 2], pad: [0, 0], dil: [1, 1] }, true],
  ];
  for (const [name, xs, ws, groups, geo, withBias] of cases) {
    it(`matches the definition: ${name}`, () => {
      const xv = values(
        xs.reduce((a, b) => a * b),
        1,
      );
      const wv = values(
        ws.reduce((a, b) => a * b),
        2,
      );
      const bv = withBias ? values(ws[0], 3) : null;
      const ref = convRef(xv, xs, wv, ws, bv, groups, geo);
      const y = F.conv2d(
        tensor(xv, { dtype: 'float64' }).reshape(xs),
        tensor(wv, { dtype: 'float64' }).reshape(ws),
        bv ? tensor(bv, { dtype: 'float64' }) : null,
        { stride: geo.stride, padding: geo.pad, dilation: geo.dil, groups },
      );
      expect(y.shape).toEqual(ref.shape);
      close(flat(y), ref.out);
    });
  }

  it('gradients for input, weight and bias (float64)', () => {
    gradcheck((x, w, b) => F.conv2d(x, w, b, { stride: 2, padding: 1 }), [leaf([2, 2, 5, 4], 1), leaf([3, 2, 3, 2], 2), leaf([3], 3)]);
    gradcheck(
      (x, w) => F.conv2d(x, w, null, { dilation: [2, 1], padding: [1, 0], groups: 2 }),
      [leaf([1, 4, 5, 3], 4), leaf([2, 2, 2, 2], 5)],
    );
  });

  it('second order: the input gradient is differentiable again (fold2d backward = unfold2d), float64', () => {
    const probe = leaf([2, 3, 5, 3], 12);
    gradcheck(
      (x, w) => {
        const y = F.conv2d(x, w, null, { stride: [1, 2], padding: 1 });
        const [gx] = autograd.grad(y.mul(probe.detach()).sum(), [x], { createGraph: true });
        return gx as Tensor;
      },
      [leaf([2, 2, 4, 5], 11), leaf([3, 2, 2, 3], 13)],
    );
  });

  it("padding 'same' keeps the size (extra row at the end for an even kernel); unbatched input", () => {
    const xv = values(1 * 2 * 5 * 5, 4);
    const wv = values(3 * 2 * 4 * 3, 5);
    const y = F.conv2d(tensor(xv, { dtype: 'float64' }).reshape([2, 5, 5]), tensor(wv, { dtype: 'float64' }).reshape([3, 2, 4, 3]), null, {
      padding: 'same',
    });
    expect(y.shape).toEqual([3, 5, 5]);
    // Total padding 3 rows (1 before, 2 after) and 2 columns (1 and 1): pad by [1, 1] on a 6-row input, i.e. the reference with one extra zero row at the bottom.
    const rows = [...xv.slice(0, 25), 0, 0, 0, 0, 0, ...xv.slice(25), 0, 0, 0, 0, 0];
    const ref = convRef(rows, [1, 2, 6, 5], wv, [3, 2, 4, 3], null, 1, { stride: [1, 1], pad: [1, 1], dil: [1, 1] });
    close(flat(y), ref.out);
    expect(F.conv2d(tensor(xv).reshape([2, 5, 5]), tensor(wv).reshape([3, 2, 4, 3]), null, { padding: 'valid' }).shape).toEqual([3, 2, 3]);
  });

  it('nn.Conv2d: parameters, initialisation bound 1/√fanIn, errors', () => {
    manualSeed(2);
    const conv = new nn.Conv2d(4, 6, 3, { padding: 1, groups: 2 });
    expect(Object.keys(conv.stateDict())).toEqual(['weight', 'bias']);
    expect(conv.weight.shape).toEqual([6, 2, 3, 3]);
    const bound = 1 / Math.sqrt(2 * 9);
    expect(flat(conv.weight).every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(conv.forward(tensor(values(2 * 4 * 5 * 5, 1)).reshape([2, 4, 5, 5])).shape).toEqual([2, 6, 5, 5]);
    expect(new nn.Conv2d(1, 1, [2, 3], { bias: false }).parameters().length).toBe(1);
    expect(errorOf(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => conv.forward(tensor(values(3 * 5 * 5, 1)).reshape([1, 3, 5, 5]))).code).toBe('SHAPE_MISMATCH');
    expect(
      errorOf(() =>
        F.conv2d(tensor(values(25, 1)).reshape([1, 1, 5, 5]), tensor(values(9, 1)).reshape([1, 1, 3, 3]), null, {
          padding: 'same',
          stride: 2,
        }),
      ).code,
    ).toBe('INVALID_ARGUMENT');
  });
});

describe('maxPool2d / avgPool2d', () => {
  const xs = [2, 3, 6, 7];
  const xv = values(
    xs.reduce((a, b) => a * b),
    6,
  );
  const x = (): Tensor => tensor(xv, { dtype: 'float64' }).reshape(xs);

  it('maxPool2d: default stride = kernel; padding (as -∞), stride and dilation', () => {
    close(flat(F.maxPool2d(x(), 2)), poolRef(xv, xs, [2, 2], { stride: [2, 2], pad: [0, 0], dil: [1, 1] }, 'max'));
    close(
      flat(new nn.MaxPool2d(3, { stride: 2, padding: 1 }).forward(x())),
      poolRef(xv, xs, [3, 3], { stride: [2, 2], pad: [1, 1], dil: [1, 1] }, 'max'),
    );
    close(
      flat(F.maxPool2d(x(), [2, 3], { stride: 1, dilation: 2 })),
      poolRef(xv, xs, [2, 3], { stride: [1, 1], pad: [0, 0], dil: [2, 2] }, 'max'),
    );
    expect(F.maxPool2d(x(), 2).shape).toEqual([2, 3, 3, 3]);
    expect(errorOf(() => F.maxPool2d(x(), 2, { padding: 2 })).code).toBe('INVALID_ARGUMENT');
  });

  it('maxPool2d sends the gradient to the first maximum of a window', () => {
    const t = tensor(
      [
        [
          [
            [1, 5, 5, 0],
            [2, 5, 1, 1],
          ],
        ],
      ],
      { dtype: 'float64' },
    ).requiresGrad_();
    F.maxPool2d(t, 2).sum().backward();
    expect(flat(t.grad as Tensor)).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('maxPool2d as PyTorch on NaN and -∞: a NaN wins its window, an all -∞ window sends its gradient to its first pixel', () => {
    // Windows of 2×2, stride 2: [1, NaN, 3, 2] → NaN (the gradient goes to the NaN); [-∞ ×4] → -∞
    // (the gradient to the window's first pixel, as PyTorch's kernel starts from it).
    const t = tensor(
      [
        [
          [
            [1, NaN, -Infinity, -Infinity],
            [3, 2, -Infinity, -Infinity],
          ],
        ],
      ],
      { dtype: 'float32' },
    ).requiresGrad_();
    const y = F.maxPool2d(t, 2);
    expect(flat(y)).toEqual([NaN, -Infinity]);
    y.sum().backward();
    expect(flat(t.grad as Tensor)).toEqual([0, 1, 1, 0, 0, 0, 0, 0]);
  });

  it('maxPool2d of a transposed input with padding reads the image through its strides', () => {
    const a = leaf([1, 2, 5, 4], 21);
    const viaView = F.maxPool2d(a.transpose(2, 3), 3, { stride: 2, padding: 1 });
    const viaCopy = F.maxPool2d(a.transpose(2, 3).clone(), 3, { stride: 2, padding: 1 });
    expect(flat(viaView)).toEqual(flat(viaCopy));
    close(
      flat(viaView),
      poolRef(flat(a.transpose(2, 3).clone()), [1, 2, 4, 5], [3, 3], { stride: [2, 2], pad: [1, 1], dil: [1, 1] }, 'max'),
    );
  });

  it('avgPool2d: count_include_pad true by default, false, divisorOverride', () => {
    close(flat(F.avgPool2d(x(), 2)), poolRef(xv, xs, [2, 2], { stride: [2, 2], pad: [0, 0], dil: [1, 1] }, 'avg'));
    close(
      flat(new nn.AvgPool2d(3, { stride: 2, padding: 1 }).forward(x())),
      poolRef(xv, xs, [3, 3], { stride: [2, 2], pad: [1, 1], dil: [1, 1] }, 'avg', true),
    );
    close(
      flat(F.avgPool2d(x(), 3, { stride: 2, padding: 1, countIncludePad: false })),
      poolRef(xv, xs, [3, 3], { stride: [2, 2], pad: [1, 1], dil: [1, 1] }, 'avg', false),
    );
    close(
      flat(F.avgPool2d(x(), 2, { divisorOverride: 3 })),
      poolRef(xv, xs, [2, 2], { stride: [2, 2], pad: [0, 0], dil: [1, 1] }, 'avg').map((v) => (v * 4) / 3),
    );
  });

  it('gradients (float64)', () => {
    // stride = kernel: windows that do not overlap (fold2d's single-copy path)
    gradcheck((a) => F.maxPool2d(a, 2), [leaf([2, 3, 4, 6], 9)]);
    gradcheck((a) => F.avgPool2d(a, [2, 3], { stride: [2, 3] }), [leaf([1, 2, 5, 6], 10)]);
    gradcheck((a) => F.maxPool2d(a, 3, { stride: 2, padding: 1 }), [leaf([1, 2, 5, 5], 7)]);
    gradcheck((a) => F.avgPool2d(a, [2, 3], { stride: 1, padding: 1, countIncludePad: false }), [leaf([2, 1, 4, 5], 8)]);
  });

  it('a small CNN trains end to end', () => {
    manualSeed(0);
    class Net extends nn.Module {
      conv = new nn.Conv2d(1, 4, 3, { padding: 1 });
      pool = new nn.MaxPool2d(2);
      head = new nn.Linear(4 * 2 * 2, 2);
      forward(input: Tensor): Tensor {
        return this.head.forward(this.pool.forward(this.conv.forward(input).relu()).flatten(1));
      }
    }
    const net = new Net();
    const opt = new optim.SGD(net.parameters(), { lr: 0.5 });
    const input = tensor(values(8 * 16, 9)).reshape([8, 1, 4, 4]);
    const labels = tensor([0, 1, 0, 1, 1, 0, 1, 0], { dtype: 'int32' });
    const first = F.crossEntropy(net.forward(input), labels).item();
    for (let i = 0; i < 30; i++) {
      net.zeroGrad();
      F.crossEntropy(net.forward(input), labels).backward();
      opt.step();
    }
    expect(F.crossEntropy(net.forward(input), labels).item()).toBeLessThan(first);
  });
});
