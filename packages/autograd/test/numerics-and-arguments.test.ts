/**
 * Numbers that never lie, and arguments that say what is wrong with them. Expected behaviour is
 * PyTorch's documented semantics: relu/clamp/max propagate NaN; converting NaN or an out-of-range
 * value to int32 raises ("value cannot be converted to type int32 without overflow") instead of
 * wrapping; an int32 sum that PyTorch would widen to int64 throws rather than wraps; a tensor too
 * large to allocate throws OUT_OF_MEMORY before any allocation; bad arguments are INVALID_ARGUMENT
 * naming the argument and the value passed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  autograd,
  DEFAULT_MAX_TENSOR_BYTES,
  manualSeed,
  nn,
  ones,
  optim,
  randn,
  setMaxTensorBytes,
  tensor,
  zeros,
  type Device,
  type Tensor,
} from '../src/index.js';
import { errorOf } from './expect-error.js';
import { webgpuAvailability } from './webgpu-env.js';

function expectError(fn: () => unknown, code: string, ...fragments: string[]): void {
  const err = errorOf(fn);
  expect(err.code).toBe(code);
  for (const f of fragments) expect(err.message).toContain(f);
}

const gpu = await webgpuAvailability();

describe.each([
  { device: 'cpu', available: true },
  { device: 'webgpu', available: gpu.available },
] as { device: Device; available: boolean }[])('NaN propagates as in PyTorch on $device', ({ device, available }) => {
  const read = async (t: Tensor): Promise<number[]> => (await t.toArrayAsync()) as number[];
  it.skipIf(!available)('relu(NaN) is NaN; relu of numbers unchanged', async () => {
    const x = tensor([Number.NaN, -1, 0, 2], { device });
    const y = await read(x.relu());
    expect(y[0]).toBeNaN();
    expect(y.slice(1)).toEqual([0, 0, 2]);
    const z = await read(x.mul(1).relu_());
    expect(z[0]).toBeNaN();
  });

  it.skipIf(!available)('clamp_(NaN) is NaN (PyTorch: clamp propagates NaN)', async () => {
    const y = await read(tensor([Number.NaN, -3, 0.25, 3], { device }).clamp_(-1, 1));
    expect(y[0]).toBeNaN();
    expect(y.slice(1)).toEqual([-1, 0.25, 1]);
  });

  it.skipIf(!available)('softmax of a row holding NaN is NaN on that row only', async () => {
    const y = await read(
      tensor(
        [
          [1, Number.NaN, 2],
          [0, 1, 2],
        ],
        { device },
      )
        .softmax(-1)
        .reshape([6]),
    );
    expect(y.slice(0, 3).every(Number.isNaN)).toBe(true);
    expect(y.slice(3).some(Number.isNaN)).toBe(false);
  });

  it.skipIf(!available)('relu backward passes the gradient at NaN (threshold_backward zeroes only where result <= 0)', async () => {
    const x = tensor([Number.NaN, -1, 2], { device, requiresGrad: true });
    x.relu().sum().backward();
    expect(await read(x.grad as Tensor)).toEqual([1, 0, 1]);
  });
});

describe('int32 conversions refuse what int32 cannot hold', () => {
  it('tensor() with values outside int32, NaN or infinities throws (PyTorch: "cannot be converted to type int32 without overflow")', () => {
    expectError(
      () => tensor([3e9], { dtype: 'int32' }),
      'INVALID_ARGUMENT',
      '3000000000',
      'cannot be converted to type int32 without overflow',
    );
    expectError(() => tensor([1, Number.NaN], { dtype: 'int32' }), 'INVALID_ARGUMENT', 'NaN', 'int32');
    expectError(() => tensor([Number.POSITIVE_INFINITY], { dtype: 'int32' }), 'INVALID_ARGUMENT', 'Infinity');
    expectError(() => tensor([-2147483649], { dtype: 'int32' }), 'INVALID_ARGUMENT', '-2147483649');
    expectError(() => tensor(Float32Array.from([Number.NaN]), { dtype: 'int32' }), 'INVALID_ARGUMENT', 'NaN');
  });

  it('the int32 range itself converts, and fractions truncate toward zero (as PyTorch)', () => {
    expect(tensor([2147483647, -2147483648, 2.7, -2.7], { dtype: 'int32' }).toArray()).toEqual([2147483647, -2147483648, 2, -2]);
  });

  it('fill values and number operands that overflow int32 throw instead of wrapping', () => {
    expectError(() => zeros([2], { dtype: 'int32' }).fill_(3e9), 'INVALID_ARGUMENT', '3000000000', 'int32');
    expectError(() => ones([2], { dtype: 'int32' }).fill_(Number.NaN), 'INVALID_ARGUMENT', 'NaN');
    expectError(() => zeros([2], { dtype: 'int32' }).setItem_(0, 2 ** 31), 'INVALID_ARGUMENT', '2147483648');
    expectError(() => ones([2], { dtype: 'int32' }).add(2 ** 32), 'INVALID_ARGUMENT', '4294967296');
    expect(ones([2], { dtype: 'int32' }).add(2147483646).toArray()).toEqual([2147483647, 2147483647]);
  });

  it('int32 products wrap modulo 2^32 exactly as PyTorch int32 mul (no float rounding first)', () => {
    const a = tensor([2147483647, 65536, -3], { dtype: 'int32' });
    expect(a.mul(a).toArray()).toEqual([1, 0, 9]);
    expect(a.mul(3).toArray()).toEqual([2147483645, 196608, -9]);
  });

  it('an int32 sum PyTorch would widen to int64 throws rather than wraps; in-range sums are exact', () => {
    const big = tensor([2147483647, 1], { dtype: 'int32' });
    expectError(() => big.sum(), 'DTYPE_MISMATCH', 'overflows int32', '2147483648', 'int64');
    expectError(
      () =>
        tensor(
          [
            [-2147483648, 5],
            [-1, 6],
          ],
          { dtype: 'int32' },
        ).sum(0),
      'DTYPE_MISMATCH',
      '-2147483649',
    );
    expect(
      tensor(
        [
          [2147483647, 5],
          [-1, 6],
        ],
        { dtype: 'int32' },
      )
        .sum(0)
        .toArray(),
    ).toEqual([2147483646, 11]);
    expect(tensor([2147483647, -1], { dtype: 'int32' }).sum().item()).toBe(2147483646);
  });
});

describe('OUT_OF_MEMORY before any allocation', () => {
  afterEach(() => {
    setMaxTensorBytes(DEFAULT_MAX_TENSOR_BYTES);
  });

  it('randn([1e6, 1e6]) names the shape and the bytes (not a RangeError)', () => {
    expectError(() => randn([1e6, 1e6]), 'OUT_OF_MEMORY', '[1000000, 1000000]', '4000000000000 bytes', 'float32');
  });

  it('randn([5e4, 5e4]) (10 GB) is refused at once, and draws no random numbers', () => {
    manualSeed(3);
    const t0 = Date.now();
    expectError(() => randn([5e4, 5e4]), 'OUT_OF_MEMORY', '[50000, 50000]', '10000000000 bytes');
    expect(Date.now() - t0).toBeLessThan(1000);
    const after = randn([3]).toArray();
    manualSeed(3);
    expect(randn([3]).toArray()).toEqual(after);
  });

  it('creation, tensor() and op outputs (a broadcast that explodes) are all guarded', () => {
    expectError(() => zeros([3e5, 3e5], { dtype: 'float64' }), 'OUT_OF_MEMORY', '[300000, 300000]', 'float64', '720000000000 bytes');
    expectError(() => ones([1e5, 1]).add(ones([1e5])), 'OUT_OF_MEMORY', '[100000, 100000]', '40000000000 bytes');
  });

  it.skipIf(!gpu.available)(
    "on WebGPU, a tensor above the device's maxStorageBufferBindingSize is OUT_OF_MEMORY before any buffer",
    async () => {
      const { initWebGPU } = await import('../src/index.js');
      const limit = (await initWebGPU()).device.limits.maxStorageBufferBindingSize;
      setMaxTensorBytes(Infinity);
      const n = Math.floor(limit / 4) + 1;
      expectError(() => zeros([n], { device: 'webgpu' }), 'OUT_OF_MEMORY', `[${String(n)}]`, 'maxStorageBufferBindingSize');
      expectError(() => ones([n, 1], { device: 'webgpu' }).add(1), 'OUT_OF_MEMORY', 'maxStorageBufferBindingSize');
    },
  );

  it('the limit is configurable (setMaxTensorBytes) and validated', () => {
    setMaxTensorBytes(1024);
    expectError(() => zeros([257]), 'OUT_OF_MEMORY', '[257]', '1028 bytes', '1024 bytes');
    expect(zeros([256]).numel()).toBe(256);
    expectError(() => tensor(new Array<number>(300).fill(1)), 'OUT_OF_MEMORY', '[300]');
    expectError(
      () => {
        setMaxTensorBytes(-1);
      },
      'INVALID_ARGUMENT',
      'bytes',
    );
    expectError(
      () => {
        setMaxTensorBytes('1e9' as unknown as number);
      },
      'INVALID_ARGUMENT',
      "'1e9' (a string)",
    );
  });
});

describe('INVALID_ARGUMENT names the argument and the value passed', () => {
  const loss = (): Tensor => tensor([1, 2], { requiresGrad: true }).mul(2).sum();

  it("backward({ retainGraph: true }): options in the gradient's place", () => {
    expectError(
      () => {
        loss().backward({ retainGraph: true } as unknown as Tensor);
      },
      'INVALID_ARGUMENT',
      'gradient',
      'must be a Tensor',
      'retainGraph: true',
      'backward(undefined, { retainGraph: true })',
    );
    expectError(
      () => {
        loss().backward([1] as unknown as Tensor);
      },
      'INVALID_ARGUMENT',
      'gradient',
      'an array [1]',
    );
    expectError(
      () => {
        loss().backward(undefined, true as unknown as object);
      },
      'INVALID_ARGUMENT',
      'options',
      'true (a boolean)',
    );
    expectError(
      () => {
        loss().backward(undefined, { retain_graph: true } as unknown as object);
      },
      'INVALID_ARGUMENT',
      "'retain_graph'",
      'retainGraph',
    );
    expectError(
      () => {
        loss().backward(undefined, { retainGraph: 'yes' } as unknown as object);
      },
      'INVALID_ARGUMENT',
      'retainGraph must be a boolean',
      "'yes' (a string)",
    );
    const l = loss();
    l.backward(undefined, { retainGraph: true });
    l.backward(null, {});
  });

  it("optimizer options: lr: '0.1' says lr must be a number and that a string was passed", () => {
    const p = (): Tensor => tensor([1], { requiresGrad: true });
    expectError(
      () => new optim.SGD([p()], { lr: '0.1' as unknown as number }),
      'INVALID_ARGUMENT',
      'SGD',
      'lr must be a number',
      "'0.1' (a string)",
    );
    expectError(() => new optim.Adam([p()], { lr: -0.1 }), 'INVALID_ARGUMENT', 'Adam', 'learning rate -0.1', 'lr must be a number >= 0');
    expectError(
      () => new optim.AdamW([p()], { eps: null as unknown as number }),
      'INVALID_ARGUMENT',
      'AdamW',
      'eps must be a number',
      'null',
    );
    expectError(
      () => new optim.Adam([p()], { betas: 0.9 as unknown as [number, number] }),
      'INVALID_ARGUMENT',
      'betas must be a pair',
      '0.9',
    );
    expectError(
      () => new optim.Adam([p()], { betas: ['0.9', 0.999] as unknown as [number, number] }),
      'INVALID_ARGUMENT',
      'betas',
      "'0.9' (a string)",
    );
    expectError(
      () => new optim.SGD([p()], { lr: 0.1, nesterov: 'true' as unknown as boolean }),
      'INVALID_ARGUMENT',
      'nesterov must be a boolean',
    );
    expectError(() => new optim.RMSprop([p()], { centered: 1 as unknown as boolean }), 'INVALID_ARGUMENT', 'centered must be a boolean');
    expectError(() => new optim.SGD([p()], { lr: 0.1, dampening: -1 }), 'INVALID_ARGUMENT', 'dampening');
  });

  it('optimizer options that would be silently ignored: a bare number, snake_case or unknown keys', () => {
    const p = (): Tensor => tensor([1], { requiresGrad: true });
    expectError(() => new optim.SGD([p()], 0.1 as unknown as object), 'INVALID_ARGUMENT', 'options', '{ lr: 0.1 }');
    expectError(
      () => new optim.Adam([p()], { weight_decay: 0.1 } as unknown as object),
      'INVALID_ARGUMENT',
      "'weight_decay'",
      'weightDecay',
    );
    expectError(
      () => new optim.SGD([p()], { lr: 0.1, mommentum: 0.9 } as unknown as object),
      'INVALID_ARGUMENT',
      "'mommentum'",
      'momentum',
    );
    // Param groups may carry extra keys, as in PyTorch.
    expect(
      new optim.SGD([{ params: [p()], lr: 0.5, name: 'head' } as unknown as { params: Tensor[] }], { lr: 0.1 }).paramGroups[0].lr,
    ).toBe(0.5);
  });

  it("zeroGrad(true) (Python's positional set_to_none) is refused, not read as zero-fill", () => {
    const w = tensor([1], { requiresGrad: true });
    const opt = new optim.SGD([w], { lr: 0.1 });
    expectError(
      () => {
        opt.zeroGrad(true as unknown as object);
      },
      'INVALID_ARGUMENT',
      'zeroGrad',
      'setToNone: true',
    );
    expectError(
      () => {
        opt.zeroGrad({ set_to_none: true } as unknown as object);
      },
      'INVALID_ARGUMENT',
      'setToNone',
    );
    expectError(
      () => {
        new nn.Linear(2, 2).zeroGrad(false as unknown as object);
      },
      'INVALID_ARGUMENT',
      'Linear.zeroGrad',
    );
  });

  it('setItem_(-4, 1) on a 3-vector names -4 and the valid range', () => {
    const v = zeros([3]);
    expectError(() => v.setItem_(-4, 1), 'INVALID_ARGUMENT', 'index -4', 'dimension 0', 'size 3', '-3 to 2');
    expectError(() => v.index(3), 'INVALID_ARGUMENT', 'index 3', '-3 to 2');
    expectError(() => v.setItem_('1' as unknown as number, 1), 'INVALID_ARGUMENT', "'1' (a string)");
    v.setItem_(-3, 7);
    expect(v.toArray()).toEqual([7, 0, 0]);
  });

  it('dims, shapes, devices and operands of the wrong type name what was passed', () => {
    const t = ones([2, 3]);
    expectError(() => t.sum('0' as unknown as number), 'INVALID_ARGUMENT', 'dim must be an integer', "'0' (a string)");
    expectError(() => t.softmax(undefined as unknown as number), 'INVALID_ARGUMENT', 'dim must be an integer', 'nothing was passed');
    expectError(() => t.reshape('6' as unknown as number[]), 'INVALID_ARGUMENT', 'shape must be an array', "'6' (a string)");
    expectError(() => t.to('gpu' as Device), 'INVALID_ARGUMENT', 'unknown device gpu');
    expectError(() => t.add([1, 2, 3] as unknown as number), 'INVALID_ARGUMENT', 'an array [1, 2, 3]');
    expectError(() => t.matmul(2 as unknown as Tensor), 'INVALID_ARGUMENT', 'matmul', '2 was passed');
    const w = tensor([1, 2], { requiresGrad: true });
    expectError(
      () => autograd.grad(w.mul(2).sum(), w, { retain_graph: true } as unknown as object),
      'INVALID_ARGUMENT',
      "'retain_graph'",
      'retainGraph',
    );
    expectError(
      () => autograd.grad(w.mul(2).sum(), [w, 3] as unknown as Tensor[]),
      'INVALID_ARGUMENT',
      'inputs must be a Tensor or an array of Tensors',
    );
  });

  it("nn.Linear(4, 2, false) (Python's positional bias=False) is refused instead of keeping a bias", () => {
    expectError(() => new nn.Linear(4, 2, false as unknown as object), 'INVALID_ARGUMENT', 'options', '{ bias: false }');
    expectError(
      () => new nn.Linear(4, 2, { bias: 'no' } as unknown as object),
      'INVALID_ARGUMENT',
      'bias must be a boolean',
      "'no' (a string)",
    );
    expect(new nn.Linear(4, 2, { bias: false }).bias).toBeNull();
  });

  it('creation options and number arguments of in-place ops', () => {
    expectError(() => tensor([1], 'float64' as unknown as object), 'INVALID_ARGUMENT', 'options', "'float64' (a string)");
    expectError(() => zeros([1], { requires_grad: true } as unknown as object), 'INVALID_ARGUMENT', "'requires_grad'");
    expectError(() => ones([1], { requiresGrad: 'yes' } as unknown as object), 'INVALID_ARGUMENT', 'requiresGrad must be a boolean');
    expectError(() => ones([2]).fill_('2' as unknown as number), 'INVALID_ARGUMENT', 'fill_', 'value must be a number');
    expectError(() => ones([2]).clamp_('0' as unknown as number), 'INVALID_ARGUMENT', 'clamp_', 'min must be a number');
  });
});
