/**
 * The fused optimizer kernels on every backend against PyTorch's documented update rules
 * (torch.optim SGD/Adam/AdamW/RMSprop pseudo-code), written out here in float64 loops. Three steps
 * with fixed gradients on an odd-sized parameter, every option that changes the kernel's path.
 */
import { describe, it } from 'vitest';
import { nn, optim, type Device } from '../src/index.js';
import * as R from './backend-reference.js';
import { expectClose, leaf, values } from './backend-harness.js';
import { webgpuAvailability } from './webgpu-env.js';

const SIZE = 301;
const STEPS = 3;

type Update = (p: Float64Array, g: Float64Array, t: number) => void;
interface OptCase {
  name: string;
  make(params: nn.Parameter[]): { step(): void };
  reference(): Update;
}

function sgdRef(lr: number, momentum: number, dampening: number, wd: number, nesterov: boolean): Update {
  const buf = new Float64Array(SIZE);
  return (p, g, t) => {
    for (let i = 0; i < SIZE; i++) {
      let d = g[i] + wd * p[i];
      if (momentum !== 0) {
        buf[i] = t === 1 ? d : momentum * buf[i] + (1 - dampening) * d;
        d = nesterov ? d + momentum * buf[i] : buf[i];
      }
      p[i] -= lr * d;
    }
  };
}

function adamRef(lr: number, b1: number, b2: number, eps: number, wd: number, amsgrad: boolean, decoupled: boolean): Update {
  const m = new Float64Array(SIZE),
    v = new Float64Array(SIZE),
    vmax = new Float64Array(SIZE);
  return (p, g, t) => {
    for (let i = 0; i < SIZE; i++) {
      let gi = g[i];
      if (decoupled) p[i] *= 1 - lr * wd;
      else gi += wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * gi;
      v[i] = b2 * v[i] + (1 - b2) * gi * gi;
      vmax[i] = Math.max(vmax[i], v[i]);
      const vHat = (amsgrad ? vmax[i] : v[i]) / (1 - b2 ** t);
      p[i] -= (lr * (m[i] / (1 - b1 ** t))) / (Math.sqrt(vHat) + eps);
    }
  };
}

function rmspropRef(lr: number, alpha: number, eps: number, wd: number, momentum: number, centered: boolean): Update {
  const sq = new Float64Array(SIZE),
    buf = new Float64Array(SIZE),
    ga = new Float64Array(SIZE);
  return (p, g) => {
    for (let i = 0; i < SIZE; i++) {
      const gi = g[i] + wd * p[i];
      sq[i] = alpha * sq[i] + (1 - alpha) * gi * gi;
      let avg = sq[i];
      if (centered) {
        ga[i] = alpha * ga[i] + (1 - alpha) * gi;
        avg -= ga[i] * ga[i];
      }
      const denom = Math.sqrt(avg) + eps;
      if (momentum > 0) {
        buf[i] = momentum * buf[i] + gi / denom;
        p[i] -= lr * buf[i];
      } else {
        p[i] -= (lr * gi) / denom;
      }
    }
  };
}

const cases: OptCase[] = [
  { name: 'SGD', make: (ps) => new optim.SGD(ps, { lr: 0.1 }), reference: () => sgdRef(0.1, 0, 0, 0, false) },
  {
    name: 'SGD momentum + dampening + weightDecay',
    make: (ps) => new optim.SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0.1, weightDecay: 0.01 }),
    reference: () => sgdRef(0.05, 0.9, 0.1, 0.01, false),
  },
  {
    name: 'SGD nesterov',
    make: (ps) => new optim.SGD(ps, { lr: 0.05, momentum: 0.8, nesterov: true }),
    reference: () => sgdRef(0.05, 0.8, 0, 0, true),
  },
  { name: 'Adam', make: (ps) => new optim.Adam(ps, { lr: 0.01 }), reference: () => adamRef(0.01, 0.9, 0.999, 1e-8, 0, false, false) },
  {
    name: 'Adam amsgrad + weightDecay',
    make: (ps) => new optim.Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.1, betas: [0.8, 0.99] }),
    reference: () => adamRef(0.01, 0.8, 0.99, 1e-8, 0.1, true, false),
  },
  { name: 'AdamW', make: (ps) => new optim.AdamW(ps, { lr: 0.01 }), reference: () => adamRef(0.01, 0.9, 0.999, 1e-8, 0.01, false, true) },
  { name: 'RMSprop', make: (ps) => new optim.RMSprop(ps, { lr: 0.01 }), reference: () => rmspropRef(0.01, 0.99, 1e-8, 0, 0, false) },
  {
    name: 'RMSprop centered + momentum + weightDecay',
    make: (ps) => new optim.RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.5, weightDecay: 0.05 }),
    reference: () => rmspropRef(0.01, 0.99, 1e-8, 0.05, 0.5, true),
  },
];

const gpu = await webgpuAvailability();

const devices: { device: Device; available: boolean }[] = [
  { device: 'cpu', available: true },
  { device: 'webgpu', available: gpu.available },
];

describe.each(devices)('optimizer kernels on $device', ({ device, available }) => {
  describe.skipIf(!available)("three steps match PyTorch's update rule", () => {
    it.each(cases.map((c, i) => ({ c, i, name: c.name })))('$name', async ({ c, i }) => {
      const p0 = R.randomNd([SIZE], 50 + i);
      const grads = Array.from({ length: STEPS }, (_, t) => R.randomNd([SIZE], 500 + 10 * i + t));
      const param = new nn.Parameter(leaf(p0, device, false));
      const opt = c.make([param]);
      const expected = Float64Array.from(p0.data);
      const update = c.reference();
      for (let t = 1; t <= STEPS; t++) {
        param.grad = leaf(grads[t - 1], device, false);
        opt.step();
        update(expected, grads[t - 1].data, t);
      }
      expectClose(await values(param), expected, 1e-5, 1e-6, `${c.name} on ${device}`);
    });
  });
});
