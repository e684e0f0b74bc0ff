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
  /** Steps through `const` aliases, Sequential containers and `.at(i)` when naming a parameter path. */
  aliasDepth: 12,
  /** Levels of base classes climbed when looking for a library class (and a constructor's visibility). */
  classDepth: 12,
  /** Nested expressions typed from declarations before the checker is asked instead. */
  declaredTypeDepth: 48,
  /** Call sites a helper's grad mode is followed back through (and callbacks climbed per step). */
  gradModeDepth: 8,
  gradModeHops: 16,
  /** Call sites an order question lifts a node through, towards its callers. */
  liftDepth: 16,
  /** Helper parameters an optimizer argument is followed back through. */
  optimizerArgumentDepth: 4,
  /** Call sites require-zero-grad climbs to find the loop a step runs in. */
  loopSearchDepth: 8,
  /** Call sites in other files a helper's grad mode is settled from; beyond that it is unknown. */
  foreignCallSites: 16,
  /** Helpers of other files followed into helpers of yet other files. */
  helperDepth: 4,
} as const;
