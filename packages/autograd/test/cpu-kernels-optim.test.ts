/**
 * The CPU backend's fused optimizer kernels (JS and wasm) against the update rules as PyTorch
 * documents them; see cpu-kernels.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { cpuBackend } from '../src/backend/cpu/cpu-backend.js';
import type { Flat } from '../src/backend/cpu/optim-kernels.js';
import { adamF32Wasm, sgdF32Wasm } from '../src/backend/cpu/wasm-optim.js';
import { indices, randomArray, view } from './cpu-kernel-harness.js';

describe('fused optimizer kernels', () => {
  const n = 37;
  const f32 = (): Float32Array => Float32Array.from(randomArray(n));

  it('SGD with momentum, dampening, weight decay and Nesterov follows torch.optim.SGD', () => {
    const p = f32(),
      g = f32(),
      buf = new Float32Array(n);
    const [lr, mu, damp, wd] = [0.1, 0.9, 0.2, 0.01];
    const wantP = Float64Array.from(p),
      wantBuf = new Float64Array(n);
    for (let step = 0; step < 3; step++) {
      // Reference: d = g + wd·p; b = first ? d : mu·b + (1 - damp)·d; p -= lr·(d + mu·b)  (Nesterov)
      for (let i = 0; i < n; i++) {
        const d = g[i] + wd * wantP[i];
        wantBuf[i] = step === 0 ? d : mu * wantBuf[i] + (1 - damp) * d;
        wantP[i] -= lr * (d + mu * wantBuf[i]);
      }
      cpuBackend.sgdStep(view(p, 'float32', [n]), view(g, 'float32', [n]), view(buf, 'float32', [n]), {
        lr,
        momentum: mu,
        dampening: damp,
        weightDecay: wd,
        nesterov: true,
        firstStep: step === 0,
      });
    }
    for (let i = 0; i < n; i++) {
      expect(p[i]).toBeCloseTo(wantP[i], 6);
      expect(buf[i]).toBeCloseTo(wantBuf[i], 6);
    }
  });

  for (const config of [
    { name: 'plain', momentum: 0, dampening: 0, wd: 0, nesterov: false },
    { name: 'momentum with dampening', momentum: 0.9, dampening: 0.3, wd: 0, nesterov: false },
    { name: 'momentum, weight decay, Nesterov', momentum: 0.9, dampening: 0, wd: 0.01, nesterov: true },
  ]) {
    it(`SGD (${config.name}) on 9090 elements (the wasm kernel where it applies) follows torch.optim.SGD`, () => {
      const size = 9090;
      const p = Float32Array.from(randomArray(size)),
        g = Float32Array.from(randomArray(size)),
        buf = new Float32Array(size);
      const { momentum: mu, dampening: damp, wd, nesterov } = config;
      const lr = 0.1;
      const wantP = Float64Array.from(p),
        wantBuf = new Float64Array(size);
      for (let step = 0; step < 3; step++) {
        for (let i = 0; i < size; i++) {
          let d = g[i] + wd * wantP[i];
          if (mu !== 0) {
            wantBuf[i] = step === 0 ? d : mu * wantBuf[i] + (1 - damp) * d;
            d = nesterov ? d + mu * wantBuf[i] : wantBuf[i];
          }
          wantP[i] -= lr * d;
        }
        cpuBackend.sgdStep(view(p, 'float32', [size]), view(g, 'float32', [size]), mu !== 0 ? view(buf, 'float32', [size]) : null, {
          lr,
          momentum: mu,
          dampening: damp,
          weightDecay: wd,
          nesterov,
          firstStep: step === 0,
        });
      }
      for (let i = 0; i < size; i++) {
        if (Math.abs(p[i] - wantP[i]) > 1e-6 || Math.abs(buf[i] - wantBuf[i]) > 1e-6) {
          throw new Error(`element ${String(i)}: p ${String(p[i])} vs ${String(wantP[i])}, buf ${String(buf[i])} vs ${String(wantBuf[i])}`);
        }
      }
    });
  }

  it('the wasm SGD kernel takes plain SGD and momentum after the first step, and declines the rest', () => {
    const size = 1031;
    const flat = (x: number): Flat => ({ data: new Float32Array(size).fill(x), offset: 0 });
    const h = { lr: 0.5, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, firstStep: false };
    const p = flat(1);
    expect(sgdF32Wasm(p, flat(0.25), null, size, h)).toBe(true);
    for (const x of p.data) expect(x).toBe(0.875); // 1 - 0.5·0.25
    const q = flat(1),
      b = flat(0.5);
    expect(sgdF32Wasm(q, flat(0.25), b, size, { ...h, momentum: 0.5, dampening: 0.5 })).toBe(true);
    for (const x of b.data) expect(x).toBe(0.375); // 0.5·0.5 + (1 - 0.5)·0.25
    for (const x of q.data) expect(x).toBe(0.8125); // 1 - 0.5·0.375
    expect(sgdF32Wasm(flat(1), flat(1), flat(0), size, { ...h, momentum: 0.9, firstStep: true })).toBe(false);
    expect(sgdF32Wasm(flat(1), flat(1), flat(0), size, { ...h, momentum: 0.9, nesterov: true })).toBe(false);
    expect(sgdF32Wasm(flat(1), flat(1), null, size, { ...h, weightDecay: 0.1 })).toBe(false);
  });

  const ADAM_VARIANTS = [
    { name: 'Adam', wd: 0, decoupled: false, amsgrad: false },
    { name: 'Adam with weight decay', wd: 0.1, decoupled: false, amsgrad: false },
    { name: 'AdamW', wd: 0.1, decoupled: true, amsgrad: false },
    { name: 'AMSGrad', wd: 0.1, decoupled: false, amsgrad: true },
  ];
  // [4, 9] runs the JS kernel; [90, 101] (9090 elements: several chunks, not a multiple of 4) the wasm one where it applies.
  for (const [r, c] of [
    [4, 9],
    [90, 101],
  ]) {
    for (const variant of ADAM_VARIANTS) {
      it(`${variant.name} on [${String(r)}, ${String(c)}] follows torch.optim's update rule over several steps, with a transposed gradient`, () => {
        // The gradient arrives as the transpose of a [c, r] array.
        const size = r * c;
        const p = Float32Array.from(randomArray(size));
        const gT = Float32Array.from(randomArray(size));
        const grad = view(gT, 'float32', [r, c], [1, r]);
        const m = new Float32Array(size),
          v = new Float32Array(size),
          vmax = new Float32Array(size);
        const [lr, b1, b2, eps, wd] = [0.01, 0.8, 0.95, 1e-6, variant.wd];
        const wp = Float64Array.from(p),
          wm = new Float64Array(size),
          wv = new Float64Array(size),
          wx = new Float64Array(size);
        for (let step = 1; step <= 4; step++) {
          for (const [i, j] of indices([r, c])) {
            const e = i * c + j;
            let gi = gT[j * r + i];
            if (variant.decoupled) wp[e] *= 1 - lr * wd;
            else gi += wd * wp[e];
            wm[e] = b1 * wm[e] + (1 - b1) * gi;
            wv[e] = b2 * wv[e] + (1 - b2) * gi * gi;
            wx[e] = Math.max(wx[e], wv[e]);
            const vHat = variant.amsgrad ? wx[e] : wv[e];
            const denom = Math.sqrt(vHat) / Math.sqrt(1 - b2 ** step) + eps;
            wp[e] -= (lr / (1 - b1 ** step)) * (wm[e] / denom);
          }
          cpuBackend.adamStep(
            view(p, 'float32', [r, c]),
            grad,
            view(m, 'float32', [r, c]),
            view(v, 'float32', [r, c]),
            variant.amsgrad ? view(vmax, 'float32', [r, c]) : null,
            { lr, beta1: b1, beta2: b2, eps, weightDecay: wd, decoupled: variant.decoupled, amsgrad: variant.amsgrad, step },
          );
        }
        for (let e = 0; e < size; e++) {
          if (Math.abs(p[e] - wp[e]) > 2e-6 || Math.abs(m[e] - wm[e]) > 1e-6 || Math.abs(v[e] - wv[e]) > 1e-6) {
            throw new Error(
              `element ${String(e)}: p ${String(p[e])} vs ${String(wp[e])}, m ${String(m[e])} vs ${String(wm[e])}, v ${String(v[e])} vs ${String(wv[e])}`,
            );
          }
        }
      });
    }
  }

  it('the wasm Adam kernel takes plain Adam and AdamW on float32, and declines what it does not implement', () => {
    const size = 2049;
    const flat = (): Flat => ({ data: new Float32Array(size).fill(0.5), offset: 0 });
    const h = { lr: 0.1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0, decoupled: false, amsgrad: false, step: 1 };
    expect(adamF32Wasm(flat(), flat(), flat(), flat(), size, h)).toBe(true);
    expect(adamF32Wasm(flat(), flat(), flat(), flat(), size, { ...h, weightDecay: 0.1, decoupled: true })).toBe(true);
    expect(adamF32Wasm(flat(), flat(), flat(), flat(), size, { ...h, weightDecay: 0.1 })).toBe(false);
    expect(adamF32Wasm(flat(), flat(), flat(), flat(), size, { ...h, amsgrad: true })).toBe(false);
    const f64: Flat = { data: new Float64Array(size), offset: 0 };
    expect(adamF32Wasm(f64, flat(), flat(), flat(), size, h)).toBe(false);
    // Where it runs, the first step moves every element by lr (m̂ / √v̂ = g / |g| = 1).
    const p = flat();
    const zeros = (): Flat => ({ data: new Float32Array(size), offset: 0 });
    adamF32Wasm(p, flat(), zeros(), zeros(), size, h);
    for (const x of p.data) expect(x).toBeCloseTo(0.4, 6);
  });

  it('RMSprop centered with momentum follows torch.optim.RMSprop', () => {
    const p = f32(),
      g = f32(),
      sq = new Float32Array(n),
      buf = new Float32Array(n),
      avg = new Float32Array(n);
    const [lr, alpha, eps, wd, mu] = [0.01, 0.9, 1e-8, 0.05, 0.5];
    const wp = Float64Array.from(p),
      wsq = new Float64Array(n),
      wbuf = new Float64Array(n),
      wavg = new Float64Array(n);
    for (let step = 0; step < 3; step++) {
      for (let i = 0; i < n; i++) {
        const gi = g[i] + wd * wp[i];
        wsq[i] = alpha * wsq[i] + (1 - alpha) * gi * gi;
        wavg[i] = alpha * wavg[i] + (1 - alpha) * gi;
        wbuf[i] = mu * wbuf[i] + gi / (Math.sqrt(wsq[i] - wavg[i] * wavg[i]) + eps);
        wp[i] -= lr * wbuf[i];
      }
      cpuBackend.rmspropStep(
        view(p, 'float32', [n]),
        view(g, 'float32', [n]),
        view(sq, 'float32', [n]),
        view(buf, 'float32', [n]),
        view(avg, 'float32', [n]),
        { lr, alpha, eps, weightDecay: wd, momentum: mu, centered: true },
      );
    }
    for (let i = 0; i < n; i++) expect(p[i]).toBeCloseTo(wp[i], 5);
  });
});
