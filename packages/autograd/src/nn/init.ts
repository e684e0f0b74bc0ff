import { full, randn, uniform as uniformTensor } from '../creation.js';
import { describeValue } from '../dtype.js';
import { fail } from '../errors.js';
import { noGrad } from '../grad-mode.js';
import { fmtShape } from '../shape.js';
import { Tensor } from '../tensor.js';

/**
 * torch.nn.init: each function fills `tensor` in place from the seedable generator (`manualSeed`),
 * under noGrad (so a parameter that requires grad may be filled, and nothing is recorded), bumps
 * its version counter as any in-place write does, and returns it.
 */

export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';
export type FanMode = 'fanIn' | 'fanOut';

function target(fn: string, t: unknown): Tensor {
  if (!(t instanceof Tensor)) fail('INVALID_ARGUMENT', `nn.init.${fn}: expected a Tensor, but ${describeValue(t)} was passed`);
  return t;
}

function fill(t: Tensor, values: Tensor): Tensor {
  return noGrad(() => t.copy_(values));
}

function opts(t: Tensor): { dtype: Tensor['dtype']; device: Tensor['device'] } {
  return { dtype: t.dtype, device: t.device };
}

/** The recommended gain for a nonlinearity (PyTorch's calculate_gain); `param` is leaky_relu's negative slope (default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      return fail('INVALID_ARGUMENT', `nn.init.calculateGain: unsupported nonlinearity ${describeValue(nonlinearity)}`);
  }
}

/** fan_in = size(1)·receptive field, fan_out = size(0)·receptive field (receptive field = product of dims 2..). */
export function calculateFanInAndFanOut(tensor: Tensor): { fanIn: number; fanOut: number } {
  if (tensor.ndim < 2)
    fail(
      'SHAPE_MISMATCH',
      `Fan in and fan out can not be computed for tensor with fewer than 2 dimensions (got ${fmtShape(tensor.shape)})`,
    );
  const receptive = tensor.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: tensor.shape[1] * receptive, fanOut: tensor.shape[0] * receptive };
}

function fan(tensor: Tensor, mode: unknown): number {
  const { fanIn, fanOut } = calculateFanInAndFanOut(tensor);
  if (mode === 'fanIn') return fanIn;
  if (mode === 'fanOut') return fanOut;
  return fail('INVALID_ARGUMENT', `nn.init: mode must be 'fanIn' or 'fanOut', but ${describeValue(mode)} was passed`);
}

/** U(a, b). */
export function uniform_(tensor: Tensor, a = 0, b = 1): Tensor {
  const t = target('uniform_', tensor);
  return fill(t, uniformTensor([...t.shape], a, b, opts(t)));
}

/** N(mean, std²). */
export function normal_(tensor: Tensor, mean = 0, std = 1): Tensor {
  const t = target('normal_', tensor);
  return fill(
    t,
    noGrad(() =>
      randn([...t.shape], opts(t))
        .mul(std)
        .add(mean),
    ),
  );
}

export function constant_(tensor: Tensor, value: number): Tensor {
  const t = target('constant_', tensor);
  return fill(t, full([...t.shape], value, opts(t)));
}

export function zeros_(tensor: Tensor): Tensor {
  return constant_(target('zeros_', tensor), 0);
}

export function ones_(tensor: Tensor): Tensor {
  return constant_(target('ones_', tensor), 1);
}

/** U(-a, a) with a = gain·√(6/(fan_in + fan_out)) (Glorot). */
export function xavierUniform_(tensor: Tensor, gain = 1): Tensor {
  const t = target('xavierUniform_', tensor);
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a);
}

/** N(0, std²) with std = gain·√(2/(fan_in + fan_out)). */
export function xavierNormal_(tensor: Tensor, gain = 1): Tensor {
  const t = target('xavierNormal_', tensor);
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

export interface KaimingOptions {
  /** The negative slope of the rectifier after this layer (leaky_relu only; default 0). */
  a?: number;
  mode?: FanMode;
  nonlinearity?: Nonlinearity;
}

function kaimingStd(fn: string, t: Tensor, options: KaimingOptions): number {
  for (const key of Object.keys(options))
    if (!['a', 'mode', 'nonlinearity'].includes(key))
      fail('INVALID_ARGUMENT', `nn.init.${fn}: unknown option '${key}'; the options are a, mode, nonlinearity`);
  const { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' } = options;
  return calculateGain(nonlinearity, a) / Math.sqrt(fan(t, mode));
}

/** U(-bound, bound) with bound = gain·√(3/fan) (He); defaults a = 0, mode 'fanIn', nonlinearity 'leaky_relu'. */
export function kaimingUniform_(tensor: Tensor, options: KaimingOptions = {}): Tensor {
  const t = target('kaimingUniform_', tensor);
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform_', t, options);
  return uniform_(t, -bound, bound);
}

/** N(0, std²) with std = gain/√fan (He). */
export function kaimingNormal_(tensor: Tensor, options: KaimingOptions = {}): Tensor {
  const t = target('kaimingNormal_', tensor);
  return normal_(t, 0, kaimingStd('kaimingNormal_', t, options));
}
