/**
 * Recursion limits of the analysis, in one place. Each bounds a walk over user code that could
 * otherwise follow aliases or helpers without end; past a limit the analysis answers "unknown"
 * and the rules stay silent.
 */
export const LIMITS = {
  /** Steps back through names, ops and helper returns when asking what a value is computed from. */
  valueDepth: 24,
  /** Steps back through aliases, views and in-place results when asking which storage an expression names. */
  identityDepth: 16,
  /** Helpers of other files followed into helpers of yet other files. */
  helperDepth: 4,
} as const;
