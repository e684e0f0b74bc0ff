/**
 * conv2d with groups 1 as one op (ops/conv-ops.ts): on the CPU's fused float32 kernels
 * (backend/cpu/wasm-conv.ts) the output and the gradients are bit for bit those of the composition
 * the op replaced (unfold2d, matmul, permute, bias add), which runs the same kernels unfused.
 */
import { describe, expect, it } from 'vitest';
import type { WindowGeometry } from '../src/backend/backend.js';
import { cpuBackend } from '../src/backend/cpu/cpu-backend.js';
import { autograd, cat, manualSeed, nn, noGrad, randn, zeros, type Tensor } from '../src/index.js';
import { unfold2d } from '../src/ops/shape-ops.js';

const F = nn.functional;
const bits = (t: Tensor | null): number[] => {
  if (!t) throw new Error('missing gradient');
  const d = t.dataSync();
  return [...new Int32Array(d.buffer, d.byteOffset, d.length)];
};

interface Case {
  x: number[];
  w: number[];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
  bias: boolean;
  /** Feed the input as a transposed view (H and W swapped, then swapped back). */
  transposed?: boolean;
}

/** The composition conv2d ran before it was one op (groups 1), on the same kernels. */
function composed(x: Tensor, w: Tensor, b: Tensor | null, c: Case): Tensor {
  const [n, , h, wd] = x.shape;
  const [o, ci, kh, kw] = w.shape;
  // Zero blocks on either side, as conv2d pads (cat with constant blocks).
  const padDim = (t: Tensor, dim: number, p: number): Tensor =>
    p === 0 ? t : cat([zeros(t.shape.map((s, d) => (d === dim ? p : s))), t, zeros(t.shape.map((s, d) => (d === dim ? p : s)))], dim);
  const xp = padDim(padDim(x, 2, c.padding[0]), 3, c.padding[1]);
  const oh = Math.floor((h + 2 * c.padding[0] - c.dilation[0] * (kh - 1) - 1) / c.stride[0]) + 1;
  const ow = Math.floor((wd + 2 * c.padding[1] - c.dilation[1] * (kw - 1) - 1) / c.stride[1]) + 1;
  const k = ci * kh * kw;
  const cols = unfold2d(xp, {
    kernel: [kh, kw],
    stride: c.stride,
    dilation: c.dilation,
    out: [oh, ow],
    size: [xp.shape[2], xp.shape[3]],
    channelsFirst: true,
  }).reshape([k, n * oh * ow]);
  const yt = w.reshape([o, k]).matmul(cols).reshape([o, n, oh, ow]).permute(1, 0, 2, 3);
  return b ? yt.add(b.reshape([1, o, 1, 1])) : yt.clone();
}

const cases: Case[] = [
  // the bench CNN's second convolution (fused forward and backward)
  { x: [32, 16, 10, 10], w: [32, 16, 3, 3], stride: [1, 1], padding: [0, 0], dilation: [1, 1], bias: true },
  // padding, no bias, a kernel wider than tall, a transposed input view
  { x: [4, 3, 9, 11], w: [8, 3, 3, 2], stride: [1, 1], padding: [1, 2], dilation: [1, 1], bias: false, transposed: true },
  // dilation and a row stride; odd N·oh·ow (a partial GEMM panel)
  { x: [3, 5, 13, 9], w: [7, 5, 2, 3], stride: [2, 1], padding: [1, 0], dilation: [2, 1], bias: true },
  // a column stride: col2im declines the fused path, the forward takes it
  { x: [4, 4, 10, 10], w: [6, 4, 3, 3], stride: [2, 2], padding: [1, 1], dilation: [1, 1], bias: true },
];

describe('conv2d as one op', () => {
  it('the CPU backend runs the fused kernels on float32 (no silent fallback) and declines what they do not cover', () => {
    manualSeed(1);
    const x = randn([32, 16, 10, 10]);
    const w = randn([32, 16, 3, 3]);
    const g = randn([32, 32, 8, 8]);
    const full: WindowGeometry = { kernel: [3, 3], stride: [1, 1], dilation: [1, 1], out: [8, 8], size: [10, 10] };
    expect(cpuBackend.conv2dForward(x, w, null, full)).not.toBeNull();
    const both = cpuBackend.conv2dBackward(g, x, w, x.shape, full);
    expect(both?.map((s) => s !== null)).toEqual([true, true]);
    expect(cpuBackend.conv2dBackward(g, null, w, x.shape, full)?.map((s) => s !== null)).toEqual([true, false]);
    // float64 and a column stride (col2im's wasm kernel adds adjacent columns only) are declined.
    expect(cpuBackend.conv2dForward(x.double(), w.double(), null, full)).toBeNull();
    const strided: WindowGeometry = { ...full, stride: [1, 2], out: [8, 4] };
    expect(cpuBackend.conv2dBackward(randn([32, 32, 8, 4]), x, w, x.shape, strided)).toBeNull();
  });

  for (const c of cases) {
    it(`x ${c.x.join('x')}, w ${c.w.join('x')}, stride ${c.stride.join(',')}, padding ${c.padding.join(',')}, dilation ${c.dilation.join(',')}${c.bias ? ', bias' : ''}: output and gradients equal the composition bit for bit`, () => {
      manualSeed(7);
      const raw = randn(c.transposed ? [c.x[0], c.x[1], c.x[3], c.x[2]] : c.x);
      const w0 = randn(c.w);
      const b0 = randn([c.w[0]]);
      const results = [true, false].map((fused) => {
        const x = (c.transposed ? raw.transpose(2, 3) : raw).detach().requiresGrad_();
        const w = w0.detach().requiresGrad_();
        const b = c.bias ? b0.detach().requiresGrad_() : null;
        const y = fused ? F.conv2d(x, w, b, { stride: c.stride, padding: c.padding, dilation: c.dilation }) : composed(x, w, b, c);
        manualSeed(11);
        const up = randn(y.shape);
        const grads = autograd.grad(y.mul(up).sum(), b ? [x, w, b] : [x, w]);
        return { y, grads };
      });
      const [viaOp, viaComposition] = results;
      expect(viaOp.y.shape).toEqual(viaComposition.y.shape);
      expect(bits(viaOp.y)).toEqual(bits(viaComposition.y));
      viaOp.grads.forEach((g, i) => {
        const want = viaComposition.grads[i];
        if (!g || !want) throw new Error('missing gradient');
        expect(bits(g), `gradient ${String(i)}`).toEqual(bits(want));
      });
    });
  }

  it('one input needing a gradient (frozen weight, or an input without grad) gets only its own, as composed', () => {
    manualSeed(3);
    const x = randn([8, 4, 10, 10]);
    const w = randn([16, 4, 3, 3]);
    const plain: Case = { x: [], w: [], stride: [1, 1], padding: [0, 0], dilation: [1, 1], bias: false };
    const xs = x.detach().requiresGrad_();
    const [gx] = autograd.grad(F.conv2d(xs, w).sum(), [xs]);
    const [gxWant] = autograd.grad(composed(xs, w, null, plain).sum(), [xs]);
    expect(bits(gx)).toEqual(bits(gxWant));
    const ws = w.detach().requiresGrad_();
    const [gw] = autograd.grad(F.conv2d(x, ws).sum(), [ws]);
    const [gwWant] = autograd.grad(composed(x, ws, null, plain).sum(), [ws]);
    expect(bits(gw)).toEqual(bits(gwWant));
  });

  it('changing the input in place after the forward stays allowed (the op saves a copy), the weight not', () => {
    manualSeed(5);
    const conv = new nn.Conv2d(3, 4, 3);
    const x = randn([2, 3, 8, 8]).requiresGrad_();
    const h = x.mul(1);
    const y = conv.forward(h);
    h.add_(1);
    expect(() => {
      y.sum().backward();
    }).not.toThrow();
    // The weight is saved for the input's gradient: changing it is caught, as with the matmul.
    const y2 = conv.forward(x.mul(1));
    noGrad(() => conv.weight.add_(1));
    expect(() => {
      y2.sum().backward();
    }).toThrow();
  });
});
