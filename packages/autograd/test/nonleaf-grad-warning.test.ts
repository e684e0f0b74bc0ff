/**
 * Reading .grad of a non-leaf returns null and warns once per process, as PyTorch's UserWarning.
 * In its own file so that no earlier test has used up the one warning (vitest isolates files).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tensor } from '../src/index.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('non-leaf .grad', () => {
  it('returns null and warns exactly once, pointing at retainGrad(); leaves and retained non-leaves never warn', () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const x = tensor([1, 2], { requiresGrad: true });
    const kept = x.mul(3);
    kept.retainGrad();
    const y = x.mul(2);
    y.sum().add(kept.sum()).backward();
    expect(x.grad?.toArray()).toEqual([2 + 3, 2 + 3]);
    expect(kept.grad?.toArray()).toEqual([1, 1]);
    expect(warn).not.toHaveBeenCalled();

    expect(y.grad).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/not a leaf/);
    expect(String(warn.mock.calls[0][0])).toMatch(/retainGrad\(\)/);

    expect(y.grad).toBeNull();
    expect(x.mul(5).grad).toBeNull();
    expect(warn).toHaveBeenCalledTimes(1);
  });
});
