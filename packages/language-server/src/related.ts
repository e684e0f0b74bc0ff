// The second place that matters for a report (where the parameter was frozen, where the optimizer
// was built, where the tensor was saved). The rules record it in a side channel of the analysis
// module while they lint in this process; this module reads it back and pairs it with the reports.
import type { Linter } from 'eslint';
import { loadAnalysis } from './analysis.js';

/** As `@gradflow/rules/analysis` records it: 1-based lines, 0-based columns (ESTree's `loc`). */
export interface RelatedLocation {
  readonly filename: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
  readonly message: string;
}

export async function collectRelatedLocations(
  filePath: string,
  messages: Linter.LintMessage[],
): Promise<Map<number, readonly RelatedLocation[]>> {
  const related = new Map<number, readonly RelatedLocation[]>();
  const analysis = await loadAnalysis(filePath);
  if (analysis?.getRelatedLocations === undefined) return related;
  messages.forEach((message, index) => {
    if (message.ruleId === null) return;
    const found = analysis.getRelatedLocations?.(filePath, message);
    if (found !== undefined && found.length > 0) related.set(index, found);
  });
  return related;
}
