/**
 * The shared backend suite's set-up (backend-ops*.test.ts): an op case (inputs, the op, its float64
 * reference), the devices it runs on, and the describe block that checks a list of cases' values
 * and gradients on each of them.
 */
import { describe, expect, it } from 'vitest';
import type { Device, Tensor } from '../src/index.js';
import * as R from './backend-reference.js';
import { expectClose, leaf, values } from './backend-harness.js';
import { webgpuAvailability } from './webgpu-env.js';

export interface InputSpec {
  shape: number[];
  lo?: number;
  hi?: number;
  avoid?: number[];
}
export interface OpCase {
  name: string;
  inputs: InputSpec[];
  run: (ts: Tensor[]) => Tensor;
  /** The reference on plain arrays; handed to the finite-difference helpers as a function. */
  ref: (xs: R.Nd[]) => R.Nd;
}

export const away = { avoid: [0] };
export const positive = { lo: 0.2, hi: 2 };
export const pattern = (shape: number[], f: (i: number) => number): R.Nd =>
  R.nd(
    shape,
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
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

export const devices: { device: Device; available: boolean }[] = [
  { device: 'cpu', available: true },
  { device: 'webgpu', available: gpu.available },
];

/**
 * The cases' forward values against their reference, their gradients against finite differences of
 * it and, off the CPU, both against the CPU backend. `first` is the index of the first case, from
 * which each case's inputs and output weights are seeded: each file keeps the range it had when the
 * suite was one list, so the inputs stay as they were.
 */
export function describeOpCases(cases: readonly OpCase[], first: number): void {
  describe.each(devices)('shared backend ops on $device', ({ device, available }) => {
    describe.skipIf(!available)('values and gradients', () => {
      it.each(cases.map((c, k) => ({ c, i: first + k, name: c.name })))('$name', async ({ c, i }) => {
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
}
