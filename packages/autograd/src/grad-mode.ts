import { fail } from './errors.js';

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

function isThenable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function runWithGradMode<T>(enabled: boolean, fn: () => T, name: string): T {
  if (typeof fn !== 'function') fail('INVALID_ARGUMENT', `${name} expects a function, got ${typeof fn}`);
  const asyncHint = `${name}() was given an async callback. Grad mode is global and would leak across 'await' into unrelated code. Call ${name}() inside the async function around the synchronous part instead: \`const y = ${name}(() => model.forward(x));\``;
  if (fn.constructor.name === 'AsyncFunction') fail('ASYNC_NO_GRAD', asyncHint);
  const previous = gradEnabled;
  gradEnabled = enabled;
  let result: T;
  try {
    result = fn();
  } finally {
    gradEnabled = previous;
  }
  if (isThenable(result)) fail('ASYNC_NO_GRAD', asyncHint);
  return result;
}

/** Runs `fn` with gradient recording off (PyTorch's `with torch.no_grad():`), returning its result. */
export function noGrad<T>(fn: () => T): T {
  return runWithGradMode(false, fn, 'noGrad');
}

/** Runs `fn` with gradient recording on, even inside `noGrad`. */
export function enableGrad<T>(fn: () => T): T {
  return runWithGradMode(true, fn, 'enableGrad');
}
