/**
 * The shared backend suite (see backend-ops.test.ts): ops whose outputs carry no gradient (arg
 * reductions, int32 inputs and sums, casts, multinomial, creation), on every device.
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
  onesLike,
  zerosLike,
  type Tensor,
} from '../src/index.js';
import * as R from './backend-reference.js';
import { leaf, values } from './backend-harness.js';
import { devices, pattern } from './backend-ops-suite.js';

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
