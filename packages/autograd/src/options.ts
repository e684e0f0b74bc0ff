import { describeValue } from './dtype.js';
import { fail } from './errors.js';

/**
 * The options object of a layer, a functional op or a scheduler: an object whose keys are among
 * `allowed`, else INVALID_ARGUMENT naming what was passed (and the camelCase key for PyTorch's
 * snake_case spelling, `weight_decay` → `weightDecay`).
 */
export function checkOptions(owner: string, options: unknown, allowed: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(
      'INVALID_ARGUMENT',
      `${owner}: the options argument must be an object { ${allowed.join(', ')} }, but ${describeValue(options)} was passed`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const hint = camel !== key && allowed.includes(camel) ? ` (did you mean ${camel}? options are camelCase)` : '';
      fail('INVALID_ARGUMENT', `${owner}: unknown option '${key}'${hint}; the options are ${allowed.join(', ')}`);
    }
  }
}
