/**
 * `@gradflow/rules/analysis` — the gradient-flow analysis the rules share, for other tools.
 *
 * ## Hover: `describeGradientStatus(program, fileName, position)`
 * Given a TypeScript `Program` (for example `parserServices.program` from a lint of the file, or
 * one built with `ts.createProgram`), a file name and a 0-based offset into its text, returns a
 * plain `GradientStatus` for the tensor, parameter, module or optimizer named there, or
 * `undefined`: its kind and library class, whether it requires grad and is a leaf ('yes' | 'no' |
 * 'unknown'), where it was computed under noGrad, the grad mode at that position, where it (or,
 * for a module, its parameters) is frozen, which optimizers hold it, and for an optimizer what it
 * holds and whether a zero gradient still moves a parameter. `formatGradientStatus` renders one
 * as Markdown. Locations are `SourceLocation`s: 1-based `line`, 0-based `column` (ESLint's `loc`).
 *
 * ## Related locations: `getRelatedLocations(filename, ruleId, line, column)`
 * ESLint messages cannot carry related locations, so each rule records them while it lints.
 * After `ESLint#lintText`/`lintFiles` in the same process, pass a message's `filePath` (ESLint's
 * filename), `ruleId` (with or without the `@gradflow/` prefix), and its `line`/`column` exactly
 * as in the `LintMessage` (1-based both); you get `RelatedLocation[]` with a message, the file,
 * 1-based lines and 0-based columns. Entries for a file are replaced each time it is linted.
 *
 * ## Blind spots (shared by every rule)
 * Facts come from the whole program the type checker sees: helpers and model methods are followed
 * through their return statements and, in other files, at each call (summaries.ts); class fields
 * with one assignment are followed too. Values that flow through names the analysis cannot resolve,
 * or from outside the program, are "unknown", and rules stay silent on them. Order is structural
 * (statement order, exclusive branches, early exits, loops), checked against ESLint's code paths by
 * a test, so the language server can ask the same questions without ESLint.
 */
export { describeGradientStatus, formatGradientStatus, locationOf } from './hover.js';
export type { GradientStatus, SourceLocation } from './hover.js';
export { getRelatedLocations, clearRelatedLocations } from './related.js';
export type { RelatedLocation } from './related.js';
export { getFileAnalysis, analysisFailures } from './file-analysis.js';
export type { FileAnalysis } from './file-analysis.js';
export { isLibraryFile, libraryClassOf } from './library.js';
export type { LibraryKind, LibraryClass } from './library.js';
export type { Tri, TensorValue } from './values.js';
export type { ParamPath } from './modules.js';
