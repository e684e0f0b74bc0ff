/**
 * The argument checks of Tensor's methods: what a method throws, with the value that was passed,
 * when JavaScript callers hand it something the types rule out. Tensor is used only inside these
 * functions (instanceof), never while this module loads, so the import cycle with tensor.ts is
 * safe, as it is for tensor-internal.ts.
 */
import { describeValue } from './dtype.js';
import { fail } from './errors.js';
import { Tensor } from './tensor.js';

/** backward()'s arguments: a Tensor (or nothing) as the gradient, an options object after it. */
export function checkBackwardArgs(gradient: unknown, options: unknown): void {
  if (gradient !== undefined && gradient !== null && !(gradient instanceof Tensor)) {
    const looksLikeOptions =
      typeof gradient === 'object' && !Array.isArray(gradient) && ('retainGraph' in gradient || 'createGraph' in gradient);
    fail(
      'INVALID_ARGUMENT',
      `backward: the first argument, gradient, must be a Tensor shaped like the output (or undefined), but ${describeValue(gradient)} was passed.${looksLikeOptions ? ' Options go second: loss.backward(undefined, { retainGraph: true }).' : ''}`,
    );
  }
  if (options === undefined) return;
  if (options === null || typeof options !== 'object' || Array.isArray(options) || options instanceof Tensor) {
    fail(
      'INVALID_ARGUMENT',
      `backward: the second argument, options, must be an object { retainGraph?, createGraph? }, but ${describeValue(options)} was passed`,
    );
  }
  for (const [key, value] of Object.entries(options)) {
    if (key !== 'retainGraph' && key !== 'createGraph') {
      const hint = key === 'retain_graph' ? ' (did you mean retainGraph?)' : key === 'create_graph' ? ' (did you mean createGraph?)' : '';
      fail('INVALID_ARGUMENT', `backward: unknown option '${key}'${hint}; the options are retainGraph and createGraph`);
    }
    if (value !== undefined && typeof value !== 'boolean') {
      fail('INVALID_ARGUMENT', `backward: ${key} must be a boolean, but ${describeValue(value)} was passed`);
    }
  }
}

/** A number argument of a tensor method (NaN allowed: it propagates as in PyTorch). */
export function checkNumberArg(method: string, name: string, value: unknown): void {
  if (typeof value !== 'number') fail('INVALID_ARGUMENT', `${method}: ${name} must be a number, but ${describeValue(value)} was passed`);
}

export function checkBoolArg(method: string, name: string, value: unknown): void {
  if (typeof value !== 'boolean') fail('INVALID_ARGUMENT', `${method}: ${name} must be a boolean, but ${describeValue(value)} was passed`);
}

export function checkMaskArgs(method: string, mask: unknown, value: unknown): void {
  if (!(mask instanceof Tensor)) fail('INVALID_ARGUMENT', `${method}: mask must be a Tensor, but ${describeValue(mask)} was passed`);
  checkNumberArg(method, 'value', value);
}

export function varOptions(method: string, options: unknown): { correction: number; keepdim: boolean } {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(
      'INVALID_ARGUMENT',
      `${method}: the options argument must be an object { correction?, keepdim? }, but ${describeValue(options)} was passed`,
    );
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o))
    if (key !== 'correction' && key !== 'keepdim')
      fail(
        'INVALID_ARGUMENT',
        `${method}: unknown option '${key}'${key === 'unbiased' ? ' (use correction: 1 or 0)' : ''}; the options are correction and keepdim`,
      );
  const correction = o.correction ?? 1;
  const keepdim = o.keepdim ?? false;
  if (typeof correction !== 'number' || !(correction >= 0))
    fail('INVALID_ARGUMENT', `${method}: correction must be a number >= 0, but ${describeValue(correction)} was passed`);
  checkBoolArg(method, 'keepdim', keepdim);
  return { correction, keepdim: keepdim as boolean };
}

export function clampBounds(method: string, min: unknown, max: unknown): { min: number; max: number } {
  const lo = min === undefined || min === null ? -Infinity : min;
  const hi = max === undefined || max === null ? Infinity : max;
  checkNumberArg(method, 'min', lo);
  checkNumberArg(method, 'max', hi);
  return { min: lo as number, max: hi as number };
}
