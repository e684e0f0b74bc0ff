/** Tensor values as a flat array, and their comparison with expected values written out in JS. */
import { expect } from 'vitest';
import type { Tensor } from '../src/index.js';

export const flat = (t: Tensor): number[] => Array.from(t.dataSync());
/** Element-wise |actual − expected| <= tol·max(1, |expected|): relative for large values, absolute for small. */
export const close = (actual: number[], expected: number[], tol = 1e-5): void => {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => {
    expect(Math.abs(a - expected[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(expected[i])));
  });
};
