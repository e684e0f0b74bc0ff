/** Stable error codes of the engine, each explained in API.md's Errors table (test/api-reference.test.ts keeps the two equal). */
export type GradFlowErrorCode =
  | 'LEAF_INPLACE'
  | 'SAVED_TENSOR_MODIFIED'
  | 'GRAPH_FREED'
  | 'NO_GRAD_FN'
  | 'NONLEAF_REQUIRES_GRAD'
  | 'DTYPE_REQUIRES_GRAD'
  | 'SHAPE_MISMATCH'
  | 'DTYPE_MISMATCH'
  | 'DEVICE_MISMATCH'
  | 'DEVICE_SYNC'
  | 'NO_WEBGPU'
  | 'ASYNC_NO_GRAD'
  | 'INVALID_ARGUMENT'
  | 'OUT_OF_MEMORY'
  | 'INPLACE_ON_VIEW';

/**
 * Every error the engine throws. `code` is stable (tests and the rules match on it); the message
 * says what happened, with shapes and dtypes, and how to fix it.
 */
export class GradFlowError extends Error {
  readonly code: GradFlowErrorCode;
  constructor(code: GradFlowErrorCode, message: string) {
    super(`[${code}] ${message}`);
    this.name = 'GradFlowError';
    this.code = code;
  }
}

export function fail(code: GradFlowErrorCode, message: string): never {
  throw new GradFlowError(code, message);
}
