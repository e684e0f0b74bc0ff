import { GradFlowError } from '../src/index.js';

/** The GradFlowError `fn` throws; fails the test when it throws nothing or something else. */
export function errorOf(fn: () => unknown): GradFlowError {
  try {
    fn();
  } catch (e) {
    if (e instanceof GradFlowError) return e;
    throw e;
  }
  throw new Error('expected a GradFlowError, nothing was thrown');
}

export const codeOf = (fn: () => unknown): string => errorOf(fn).code;
export const messageOf = (fn: () => unknown): string => errorOf(fn).message;
