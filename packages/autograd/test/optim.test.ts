/**
 * Optimizer updates against PyTorch's documented algorithms (torch.optim docs pseudo-code),
 * written out below as plain scalar arithmetic, independent of our fused kernels. Three steps on
 * float64 parameters with fixed, changing gradients, so momentum/moment buffers and bias
 * corrections all matter.
 */
import { describe, expect, it } from 'vitest';
import { GradFlowError, optim, tensor, type Tensor } from '../src/index.js';

const P0 = [0.5, -1.25, 2.0];
/** Gradients for steps 1..3: shrinking magnitudes make AMSGrad's running max differ from v. */
const GRADS = [
  [0.8, -0.3, 1.5],
  [-0.1, 0.25, 0.05],
  [0.02, -0.4, -0.01],
];

/** A reference optimizer's per-element state (momentum buffers and the like), empty before the first step. */
type RefState = Partial<Record<string, number>>;
type Ref = (p: number, g: number, s: RefState, t: number) => number;

/** Runs `ref` element-wise for 3 steps: the expected parameter values after each step. */
function reference(ref: Ref): number[][] {
  const states = P0.map((): RefState => ({}));
  let p = [...P0];
  return GRADS.map((g, t) => {
    p = p.map((pi, i) => ref(pi, g[i], states[i], t + 1));
    return p;
  });
}

/** Runs the optimizer with the same gradients, returning the parameter after each step. */
function run(make: (params: Tensor[]) => { step(): void }): number[][] {
  const p = tensor(P0, { dtype: 'float64', requiresGrad: true });
  const opt = make([p]);
  return GRADS.map((g) => {
    p.grad = tensor(g, { dtype: 'float64' });
    opt.step();
    return Array.from(p.dataSync());
  });
}

function expectClose(actual: number[][], expected: number[][]): void {
  expected.forEach((row, t) => {
    row.forEach((e, i) => {
      expect(
        Math.abs(actual[t][i] - e),
        `step ${String(t + 1)}, element ${String(i)}: ${String(actual[t][i])} vs ${String(e)}`,
      ).toBeLessThan(1e-12 * Math.max(1, Math.abs(e)));
    });
  });
}

// ---- the documented algorithms, one scalar at a time ----

function sgdRef(lr: number, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false): Ref {
  return (p, grad, s) => {
    let g = grad;
    if (weightDecay !== 0) g = g + weightDecay * p;
    if (momentum !== 0) {
      // PyTorch: the buffer starts as the first gradient, then accumulates with dampening.
      s.b = s.b === undefined ? g : momentum * s.b + (1 - dampening) * g;
      g = nesterov ? g + momentum * s.b : s.b;
    }
    return p - lr * g;
  };
}

function adamRef(lr: number, b1: number, b2: number, eps: number, weightDecay: number, amsgrad: boolean, decoupled: boolean): Ref {
  return (p, grad, s, t) => {
    let g = grad;
    let theta = p;
    if (decoupled) theta = theta * (1 - lr * weightDecay);
    else if (weightDecay !== 0) g = g + weightDecay * p;
    s.m = b1 * (s.m ?? 0) + (1 - b1) * g;
    s.v = b2 * (s.v ?? 0) + (1 - b2) * g * g;
    const mHat = s.m / (1 - b1 ** t);
    let vHat: number;
    if (amsgrad) {
      // PyTorch keeps the running max of the raw second moment, then bias-corrects it.
      s.vMax = Math.max(s.vMax ?? 0, s.v);
      vHat = s.vMax / (1 - b2 ** t);
    } else {
      vHat = s.v / (1 - b2 ** t);
    }
    return theta - (lr * mHat) / (Math.sqrt(vHat) + eps);
  };
}

function rmspropRef(lr: number, alpha: number, eps: number, weightDecay: number, momentum: number, centered: boolean): Ref {
  return (p, grad, s) => {
    let g = grad;
    if (weightDecay !== 0) g = g + weightDecay * p;
    s.v = alpha * (s.v ?? 0) + (1 - alpha) * g * g;
    let vTilde = s.v;
    if (centered) {
      s.gAvg = alpha * (s.gAvg ?? 0) + (1 - alpha) * g;
      vTilde = vTilde - s.gAvg * s.gAvg;
    }
    if (momentum > 0) {
      s.b = momentum * (s.b ?? 0) + g / (Math.sqrt(vTilde) + eps);
      return p - lr * s.b;
    }
    return p - (lr * g) / (Math.sqrt(vTilde) + eps);
  };
}

describe('SGD matches the documented update for 3 steps', () => {
  it.each([
    ['plain', { lr: 0.1 }, sgdRef(0.1)],
    ['momentum 0.9', { lr: 0.1, momentum: 0.9 }, sgdRef(0.1, 0.9)],
    ['momentum 0.9, dampening 0.3', { lr: 0.1, momentum: 0.9, dampening: 0.3 }, sgdRef(0.1, 0.9, 0.3)],
    ['nesterov', { lr: 0.1, momentum: 0.8, nesterov: true }, sgdRef(0.1, 0.8, 0, 0, true)],
    ['weightDecay 0.05', { lr: 0.1, weightDecay: 0.05 }, sgdRef(0.1, 0, 0, 0.05)],
    ['momentum + dampening + weightDecay', { lr: 0.05, momentum: 0.7, dampening: 0.1, weightDecay: 0.2 }, sgdRef(0.05, 0.7, 0.1, 0.2)],
    ['nesterov + weightDecay', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.1 }, sgdRef(0.05, 0.9, 0, 0.1, true)],
  ] as const)('%s', (_, options, ref) => {
    expectClose(
      run((ps) => new optim.SGD(ps, options)),
      reference(ref),
    );
  });
});

describe('Adam and AdamW match the documented update for 3 steps', () => {
  it.each([
    [
      'Adam defaults (lr 1e-3, betas 0.9/0.999, eps 1e-8)',
      () => (ps: Tensor[]) => new optim.Adam(ps),
      adamRef(1e-3, 0.9, 0.999, 1e-8, 0, false, false),
    ],
    [
      'Adam lr 0.1, betas 0.8/0.99, eps 1e-6',
      () => (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, betas: [0.8, 0.99], eps: 1e-6 }),
      adamRef(0.1, 0.8, 0.99, 1e-6, 0, false, false),
    ],
    [
      'Adam weightDecay 0.5 (L2, added to the gradient)',
      () => (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, weightDecay: 0.5 }),
      adamRef(0.1, 0.9, 0.999, 1e-8, 0.5, false, false),
    ],
    [
      'Adam amsgrad',
      () => (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, betas: [0.9, 0.9], amsgrad: true }),
      adamRef(0.1, 0.9, 0.9, 1e-8, 0, true, false),
    ],
    [
      'Adam amsgrad + weightDecay',
      () => (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, betas: [0.5, 0.9], amsgrad: true, weightDecay: 0.1 }),
      adamRef(0.1, 0.5, 0.9, 1e-8, 0.1, true, false),
    ],
    [
      'AdamW defaults (weightDecay 0.01, decoupled)',
      () => (ps: Tensor[]) => new optim.AdamW(ps),
      adamRef(1e-3, 0.9, 0.999, 1e-8, 0.01, false, true),
    ],
    [
      'AdamW lr 0.1, weightDecay 0.3',
      () => (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1, weightDecay: 0.3 }),
      adamRef(0.1, 0.9, 0.999, 1e-8, 0.3, false, true),
    ],
    [
      'AdamW amsgrad',
      () => (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1, betas: [0.9, 0.9], amsgrad: true, weightDecay: 0.2 }),
      adamRef(0.1, 0.9, 0.9, 1e-8, 0.2, true, true),
    ],
  ] as const)('%s', (_, make, ref) => {
    expectClose(run(make()), reference(ref));
  });

  it('amsgrad really changes the result with these gradients (the test can tell them apart)', () => {
    const plain = reference(adamRef(0.1, 0.9, 0.9, 1e-8, 0, false, false));
    const ams = reference(adamRef(0.1, 0.9, 0.9, 1e-8, 0, true, false));
    expect(Math.abs(plain[2][0] - ams[2][0])).toBeGreaterThan(1e-3);
  });
});

describe('RMSprop matches the documented update for 3 steps', () => {
  it.each([
    ['defaults (lr 1e-2, alpha 0.99, eps 1e-8)', {}, rmspropRef(1e-2, 0.99, 1e-8, 0, 0, false)],
    ['momentum 0.9', { lr: 0.01, momentum: 0.9 }, rmspropRef(0.01, 0.99, 1e-8, 0, 0.9, false)],
    ['centered, alpha 0.9', { lr: 0.01, alpha: 0.9, centered: true }, rmspropRef(0.01, 0.9, 1e-8, 0, 0, true)],
    ['weightDecay 0.1', { lr: 0.01, weightDecay: 0.1 }, rmspropRef(0.01, 0.99, 1e-8, 0.1, 0, false)],
    [
      'centered + momentum + weightDecay',
      { lr: 0.02, alpha: 0.8, eps: 1e-6, centered: true, momentum: 0.5, weightDecay: 0.05 },
      rmspropRef(0.02, 0.8, 1e-6, 0.05, 0.5, true),
    ],
  ] as const)('%s', (_, options, ref) => {
    expectClose(
      run((ps) => new optim.RMSprop(ps, options)),
      reference(ref),
    );
  });
});

describe('param groups', () => {
  it('each group uses its own lr and inherits the other defaults (momentum)', () => {
    const a = tensor(P0, { dtype: 'float64', requiresGrad: true });
    const b = tensor(P0, { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.01 }], { lr: 0.1, momentum: 0.9 });
    expect(opt.paramGroups.map((g) => [g.lr, g.momentum])).toEqual([
      [0.1, 0.9],
      [0.01, 0.9],
    ]);
    const outA: number[][] = [];
    const outB: number[][] = [];
    for (const g of GRADS) {
      a.grad = tensor(g, { dtype: 'float64' });
      b.grad = tensor(g, { dtype: 'float64' });
      opt.step();
      outA.push(Array.from(a.dataSync()));
      outB.push(Array.from(b.dataSync()));
    }
    expectClose(outA, reference(sgdRef(0.1, 0.9)));
    expectClose(outB, reference(sgdRef(0.01, 0.9)));
  });

  it('a group may override any hyper-parameter (Adam betas per group)', () => {
    const a = tensor(P0, { dtype: 'float64', requiresGrad: true });
    const b = tensor(P0, { dtype: 'float64', requiresGrad: true });
    const opt = new optim.Adam([{ params: [a], betas: [0.5, 0.9] }, { params: [b] }], { lr: 0.1 });
    const outA: number[][] = [];
    for (const g of GRADS) {
      a.grad = tensor(g, { dtype: 'float64' });
      opt.step();
      outA.push(Array.from(a.dataSync()));
    }
    expectClose(outA, reference(adamRef(0.1, 0.5, 0.9, 1e-8, 0, false, false)));
    expect(Array.from(b.dataSync())).toEqual(P0); // b.grad stayed null
  });

  it('changing paramGroups[i].lr between steps takes effect (what LR schedulers do)', () => {
    const p = tensor([1], { dtype: 'float64', requiresGrad: true });
    const opt = new optim.SGD([p], { lr: 0.1 });
    p.grad = tensor([1], { dtype: 'float64' });
    opt.step();
    opt.paramGroups[0].lr = 0.01;
    opt.step();
    expect(p.item()).toBeCloseTo(1 - 0.1 - 0.01, 15);
  });

  it('addParamGroup adds a group filled from the defaults, and refuses parameters already held', () => {
    const a = tensor([1], { requiresGrad: true });
    const b = tensor([2], { requiresGrad: true });
    const opt = new optim.Adam([a], { lr: 0.5, betas: [0.8, 0.9] });
    opt.addParamGroup({ params: [b], lr: 0.1 });
    expect(opt.paramGroups.map((g) => [g.lr, g.betas])).toEqual([
      [0.5, [0.8, 0.9]],
      [0.1, [0.8, 0.9]],
    ]);
    expect(() => {
      opt.addParamGroup({ params: [a] });
    }).toThrow(GradFlowError);
  });

  it('accepts any iterable of parameters (a generator, a Set)', () => {
    const a = tensor([1], { requiresGrad: true });
    const b = tensor([2], { requiresGrad: true });
    function* gen(): Generator<Tensor> {
      yield a;
      yield b;
    }
    expect(new optim.SGD(gen(), { lr: 0.1 }).paramGroups[0].params).toEqual([a, b]);
    expect(new optim.SGD(new Set([a, b]), { lr: 0.1 }).paramGroups[0].params).toEqual([a, b]);
  });
});

describe('step() skips parameters whose grad is null (PyTorch: `if p.grad is None: continue`)', () => {
  it.each([
    ['SGD momentum + weightDecay', (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.1 })],
    ['Adam weightDecay', (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, weightDecay: 0.1 })],
    ['AdamW', (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1 })],
    ['RMSprop momentum', (ps: Tensor[]) => new optim.RMSprop(ps, { lr: 0.1, momentum: 0.9 })],
  ] as const)('%s: the null-grad parameter, its version and its state stay untouched', (_, make) => {
    const used = tensor([1, 2], { requiresGrad: true });
    const unused = tensor([3, 4], { requiresGrad: true });
    const opt = make([used, unused]) as optim.Optimizer<{ lr: number }>;
    used.grad = tensor([1, 1]);
    opt.step();
    expect(unused.toArray()).toEqual([3, 4]);
    expect(unused.version).toBe(0);
    expect(opt.state.has(unused)).toBe(false);
    expect(used.toArray()).not.toEqual([1, 2]);
    expect(used.version).toBe(1);
    expect(opt.state.has(used)).toBe(true);
  });
});

describe('optimizer construction errors', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      if (e instanceof GradFlowError) return `${e.code}: ${e.message}`;
      throw e;
    }
    return 'nothing thrown';
  };
  const p = (): Tensor => tensor([1, 2], { requiresGrad: true });

  it('an empty parameter list', () => {
    expect(code(() => new optim.SGD([], { lr: 0.1 }))).toMatch(/^INVALID_ARGUMENT: .*empty parameter list/);
    expect(code(() => new optim.Adam([]))).toMatch(/^INVALID_ARGUMENT/);
  });

  it('a non-leaf tensor', () => {
    const x = p();
    expect(code(() => new optim.SGD([x.mul(2)], { lr: 0.1 }))).toMatch(/^INVALID_ARGUMENT: .*non-leaf.*MulBackward/);
  });

  it('the same parameter twice (across groups, and within one group)', () => {
    const x = p();
    expect(code(() => new optim.SGD([{ params: [x] }, { params: [x] }], { lr: 0.1 }))).toMatch(
      /^INVALID_ARGUMENT: .*more than one parameter group/,
    );
    // PyTorch only warns here ("duplicate parameters; in future, this will cause an error"):
    // stepping one parameter twice per step is never intended, so we refuse.
    expect(code(() => new optim.SGD([x, x], { lr: 0.1 }))).toMatch(/^INVALID_ARGUMENT: .*duplicate/);
  });

  it('params that are not tensors, or a mix of tensors and groups', () => {
    expect(code(() => new optim.SGD(null as unknown as Tensor[], { lr: 0.1 }))).toMatch(/^INVALID_ARGUMENT: .*iterable/);
    expect(code(() => new optim.SGD([{ params: [3] }] as unknown as Tensor[], { lr: 0.1 }))).toMatch(/^INVALID_ARGUMENT: .*not a Tensor/);
    expect(code(() => new optim.SGD([p(), { params: [p()] }] as unknown as Tensor[], { lr: 0.1 }))).toMatch(/^INVALID_ARGUMENT/);
  });

  it('bad learning rates (negative, NaN, not a number), also per group', () => {
    expect(code(() => new optim.SGD([p()], { lr: -0.1 }))).toMatch(/^INVALID_ARGUMENT: .*learning rate -0.1/);
    expect(code(() => new optim.Adam([p()], { lr: Number.NaN }))).toMatch(/^INVALID_ARGUMENT: .*learning rate NaN/);
    expect(code(() => new optim.RMSprop([p()], { lr: '0.1' as unknown as number }))).toMatch(/^INVALID_ARGUMENT: .*learning rate/);
    expect(code(() => new optim.SGD([{ params: [p()], lr: -1 }], { lr: 0.1 }))).toMatch(/^INVALID_ARGUMENT: .*learning rate -1/);
  });

  it('bad betas, eps, weightDecay, momentum, alpha, and nesterov without momentum', () => {
    expect(code(() => new optim.Adam([p()], { betas: [1.0, 0.999] }))).toMatch(/^INVALID_ARGUMENT: .*betas/);
    expect(code(() => new optim.Adam([p()], { betas: [0.9, -0.1] }))).toMatch(/^INVALID_ARGUMENT: .*betas/);
    expect(code(() => new optim.AdamW([p()], { betas: [0.9, 1.5] }))).toMatch(/^INVALID_ARGUMENT: .*betas/);
    expect(code(() => new optim.Adam([p()], { eps: -1e-8 }))).toMatch(/^INVALID_ARGUMENT: .*eps/);
    expect(code(() => new optim.Adam([p()], { weightDecay: -0.1 }))).toMatch(/^INVALID_ARGUMENT: .*weightDecay/);
    expect(code(() => new optim.SGD([p()], { lr: 0.1, momentum: -0.5 }))).toMatch(/^INVALID_ARGUMENT: .*momentum/);
    expect(code(() => new optim.SGD([p()], { lr: 0.1, momentum: Number.NaN }))).toMatch(/^INVALID_ARGUMENT: .*momentum/);
    expect(code(() => new optim.SGD([p()], { lr: 0.1, weightDecay: -1 }))).toMatch(/^INVALID_ARGUMENT: .*weightDecay/);
    expect(code(() => new optim.SGD([p()], { lr: 0.1, nesterov: true }))).toMatch(/^INVALID_ARGUMENT: .*nesterov/);
    expect(code(() => new optim.SGD([p()], { lr: 0.1, nesterov: true, momentum: 0.9, dampening: 0.1 }))).toMatch(
      /^INVALID_ARGUMENT: .*nesterov/,
    );
    expect(code(() => new optim.RMSprop([p()], { alpha: -0.5 }))).toMatch(/^INVALID_ARGUMENT: .*alpha/);
    expect(code(() => new optim.RMSprop([p()], { momentum: -0.5 }))).toMatch(/^INVALID_ARGUMENT: .*momentum/);
    expect(code(() => new optim.RMSprop([p()], { weightDecay: -0.5 }))).toMatch(/^INVALID_ARGUMENT: .*weightDecay/);
  });
});

describe('strided parameters', () => {
  it.each([
    ['SGD', (ps: Tensor[]) => new optim.SGD(ps, { lr: 1 })],
    ['Adam', (ps: Tensor[]) => new optim.Adam(ps, { lr: 1 })],
    ['RMSprop', (ps: Tensor[]) => new optim.RMSprop(ps, { lr: 1 })],
  ] as const)('%s updates a non-contiguous (transposed) leaf in place, through to the memory it views', (_, make) => {
    const base = tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'float64' },
    );
    const p = base.transpose(0, 1).requiresGrad_(); // [[1, 3], [2, 4]], strides [1, 2]
    const twin = tensor(
      [
        [1, 3],
        [2, 4],
      ],
      { dtype: 'float64', requiresGrad: true },
    );
    const optP = make([p]);
    const optTwin = make([twin]);
    for (const g of [
      [
        [1, -2],
        [0.5, 3],
      ],
      [
        [-1, 1],
        [2, 0.25],
      ],
    ]) {
      p.grad = tensor(g, { dtype: 'float64' });
      twin.grad = tensor(g, { dtype: 'float64' });
      optP.step();
      optTwin.step();
    }
    // Same numbers as the contiguous twin, and the base (the same memory, transposed) sees them.
    expect(p.toArray()).toEqual(twin.toArray());
    expect(base.transpose(0, 1).toArray()).toEqual(twin.toArray());
    expect(p.toArray()).not.toEqual([
      [1, 3],
      [2, 4],
    ]);
    expect(p.version).toBe(2);
  });
});

describe('float32 parameters', () => {
  it.each([
    [
      'SGD nesterov',
      (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 }),
      sgdRef(0.1, 0.9, 0, 0.1, true),
    ],
    [
      'Adam amsgrad',
      (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.1, amsgrad: true, weightDecay: 0.1 }),
      adamRef(0.1, 0.9, 0.999, 1e-8, 0.1, true, false),
    ],
    ['AdamW', (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.1 }), adamRef(0.1, 0.9, 0.999, 1e-8, 0.01, false, true)],
    [
      'RMSprop centered',
      (ps: Tensor[]) => new optim.RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.5 }),
      rmspropRef(0.01, 0.99, 1e-8, 0, 0.5, true),
    ],
  ] as const)('%s stays within float32 rounding of the float64 reference', (_, make, ref) => {
    const p = tensor(P0, { requiresGrad: true });
    const opt = make([p]);
    const expected = reference(ref);
    GRADS.forEach((g, t) => {
      p.grad = tensor(g);
      opt.step();
      Array.from(p.dataSync()).forEach((v, i) => {
        expect(Math.abs(v - expected[t][i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(expected[t][i])));
      });
    });
    expect(p.dtype).toBe('float32');
  });
});

describe('large float32 parameters (the paths fast kernels take)', () => {
  const n = 10_007; // not a multiple of any vector width
  const p0 = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 0.37) * 2));
  const grads = [1, 2, 3].map((t) => Array.from({ length: n }, (_, i) => Math.fround(Math.cos(i * 0.11 + t) / t)));
  it.each([
    ['SGD', (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1 }), sgdRef(0.1)],
    [
      'SGD momentum + weightDecay',
      (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }),
      sgdRef(0.1, 0.9, 0, 0.01),
    ],
    ['SGD nesterov', (ps: Tensor[]) => new optim.SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true }), sgdRef(0.1, 0.9, 0, 0, true)],
    ['Adam', (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.01 }), adamRef(0.01, 0.9, 0.999, 1e-8, 0, false, false)],
    [
      'Adam weightDecay + amsgrad',
      (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.01, weightDecay: 0.1, amsgrad: true }),
      adamRef(0.01, 0.9, 0.999, 1e-8, 0.1, true, false),
    ],
    ['AdamW', (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.01, weightDecay: 0.1 }), adamRef(0.01, 0.9, 0.999, 1e-8, 0.1, false, true)],
    ['RMSprop momentum', (ps: Tensor[]) => new optim.RMSprop(ps, { lr: 0.01, momentum: 0.9 }), rmspropRef(0.01, 0.99, 1e-8, 0, 0.9, false)],
  ] as const)('%s on 10 007 elements stays within float32 rounding of the reference', (_, make, ref) => {
    const p = tensor(Float32Array.from(p0), { requiresGrad: true });
    const opt = make([p]);
    const states = p0.map((): RefState => ({}));
    let expected = [...p0];
    grads.forEach((g, t) => {
      p.grad = tensor(Float32Array.from(g));
      opt.step();
      expected = expected.map((pi, i) => ref(pi, g[i], states[i], t + 1));
      const got = p.dataSync();
      for (let i = 0; i < n; i++) {
        if (Math.abs(got[i] - expected[i]) > 2e-6 * Math.max(1, Math.abs(expected[i]))) {
          throw new Error(`step ${String(t + 1)}, element ${String(i)}: ${String(got[i])} vs ${String(expected[i])}`);
        }
      }
    });
  });
});
