// The shared gradient-flow analysis (`@gradflow/rules/analysis`), loaded at run time so that the
// server keeps working — diagnostics without hovers or related locations — where it is absent.
import type { Linter } from 'eslint';
import type { CapturedProgram } from './program-capture.js';
import type { RelatedLocation } from './related.js';

export interface AnalysisAdapter {
  getRelatedLocations?: (filePath: string, message: Linter.LintMessage) => readonly RelatedLocation[];
  /** Markdown describing the gradient status of the expression at `offset`, or undefined. */
  describeAt?: (captured: CapturedProgram, offset: number) => string | undefined;
}

// A variable, not a literal: the server must build before (and without) the rules package.
const ANALYSIS_MODULE: string = '@gradflow/rules/analysis';

let loaded: Promise<AnalysisAdapter | undefined> | undefined;

export function loadAnalysis(): Promise<AnalysisAdapter | undefined> {
  loaded ??= import(ANALYSIS_MODULE).then(
    (module: Record<string, unknown>) => adapt(module),
    () => undefined,
  );
  return loaded;
}

type GetRelatedLocations = (
  filename: string,
  ruleId: string,
  line: number,
  column: number,
) => readonly RelatedLocation[];

function adapt(module: Record<string, unknown>): AnalysisAdapter {
  const adapter: AnalysisAdapter = {};
  if (typeof module.getRelatedLocations === 'function') {
    const getRelated = module.getRelatedLocations as GetRelatedLocations;
    adapter.getRelatedLocations = (filePath, message) =>
      message.ruleId === null ? [] : getRelated(filePath, message.ruleId, message.line, message.column);
  }
  return adapter;
}
