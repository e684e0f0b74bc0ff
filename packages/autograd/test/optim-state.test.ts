// `optimizer.state`: typed per optimizer (PyTorch's state names, camelCased), present from a
// parameter's first step on, and one version bump per step of a parameter. Expected buffers are
// PyTorch's update rules after one step from zero state with gradient g = [2, -4].
import { describe, expect, it } from 'vitest';
import { optim, tensor, type Tensor } from '../src/index.js';

const G = [2, -4];
const param = (): Tensor => tensor([1, 1], { dtype: 'float64', requiresGrad: true });
const values = (t: Tensor | undefined): number[] => {
  if (t === undefined) throw new Error('missing state buffer');
  return (t.toArray() as number[]).map((v) => Number(v.toPrecision(12)));
};

function stepOnce<O extends { step(): unknown }>(make: (p: Tensor) => O): { p: Tensor; opt: O } {
  const p = param();
  const opt = make(p);
  p.grad = tensor(G, { dtype: 'float64' });
  opt.step();
  return { p, opt };
}

describe('optimizer.state, typed per optimizer', () => {
  it('SGD: a momentum buffer equal to the first gradient; none without momentum', () => {
    const { p, opt } = stepOnce((q) => new optim.SGD([q], { lr: 0.1, momentum: 0.9 }));
    expect(values(opt.state.get(p)?.momentumBuffer)).toEqual(G);
    const plain = stepOnce((q) => new optim.SGD([q], { lr: 0.1 }));
    expect(plain.opt.state.get(plain.p)).toEqual({});
  });

  it('Adam: step, expAvg = (1-β₁)g, expAvgSq = (1-β₂)g², maxExpAvgSq only with amsgrad', () => {
    const { p, opt } = stepOnce((q) => new optim.Adam([q], { lr: 0.1 }));
    const st = opt.state.get(p);
    expect(st?.step).toBe(1);
    expect(values(st?.expAvg)).toEqual([0.2, -0.4]);
    expect(values(st?.expAvgSq)).toEqual([0.004, 0.016]);
    expect(st?.maxExpAvgSq).toBeUndefined();
    const ams = stepOnce((q) => new optim.AdamW([q], { lr: 0.1, amsgrad: true }));
    expect(values(ams.opt.state.get(ams.p)?.maxExpAvgSq)).toEqual([0.004, 0.016]);
  });

  it('RMSprop: step, squareAvg = (1-α)g², gradAvg only when centered, momentumBuffer only with momentum', () => {
    const { p, opt } = stepOnce((q) => new optim.RMSprop([q], { lr: 0.01, centered: true }));
    const st = opt.state.get(p);
    expect(st?.step).toBe(1);
    expect(values(st?.squareAvg)).toEqual([0.04, 0.16]);
    expect(values(st?.gradAvg)).toEqual([0.02, -0.04]);
    expect(st?.momentumBuffer).toBeUndefined();
  });

  it('keeps one state object per parameter across steps, and bumps the version once per step', () => {
    const p = param();
    const opt = new optim.Adam([p], { lr: 0.1 });
    p.grad = tensor(G, { dtype: 'float64' });
    opt.step();
    const first = opt.state.get(p);
    opt.step();
    expect(opt.state.get(p)).toBe(first);
    expect(first?.step).toBe(2);
    expect(p.version).toBe(2);

    // A strided leaf is stepped through a contiguous copy written back: still one bump per step.
    const base = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
    const strided = base.transpose(0, 1).requiresGrad_();
    const sgd = new optim.SGD([strided], { lr: 0.5, momentum: 0.9 });
    strided.grad = tensor(
      [
        [1, 1],
        [1, 1],
      ],
      { dtype: 'float64' },
    );
    sgd.step();
    expect(strided.version).toBe(1);
    expect(values(sgd.state.get(strided)?.momentumBuffer?.reshape([4]))).toEqual([1, 1, 1, 1]);
  });
});
