/**
 * Related locations for reports (where the parameter was frozen, where the optimizer was built,
 * where the tensor was saved). ESLint messages cannot carry them, so rules record them here while
 * they lint, keyed by file, rule and the report's start; the language server reads them back in
 * the same process right after `ESLint#lintText`. A rule clears its own entries for a file when
 * it starts linting that file again, so stale entries never outlive an edit.
 */
export interface RelatedLocation {
  readonly message: string;
  readonly filename: string;
  /** 1-based line and 0-based column, as ESLint reports them. */
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

const store = new Map<string, Map<string, RelatedLocation[]>>();

function fileKey(filename: string, ruleId: string): string {
  return `${ruleId}\u0000${filename}`;
}

/** Rule ids are stored without the plugin prefix: `no-leaf-inplace`, not `@gradflow/no-leaf-inplace`. */
export function bareRuleId(ruleId: string): string {
  const slash = ruleId.lastIndexOf('/');
  return slash >= 0 ? ruleId.slice(slash + 1) : ruleId;
}

export function clearRelatedLocations(filename: string, ruleId: string): void {
  store.delete(fileKey(filename, bareRuleId(ruleId)));
}

export function recordRelatedLocations(
  filename: string,
  ruleId: string,
  line: number,
  column: number,
  related: readonly RelatedLocation[],
): void {
  if (related.length === 0) return;
  const key = fileKey(filename, bareRuleId(ruleId));
  let byPosition = store.get(key);
  if (!byPosition) {
    byPosition = new Map();
    store.set(key, byPosition);
  }
  const at = `${String(line)}:${String(column)}`;
  byPosition.set(at, [...(byPosition.get(at) ?? []), ...related]);
}

/**
 * The related locations of the report `ruleId` made at `line`/`column` (ESLint's 1-based line,
 * 1-based column as in `LintMessage`) of `filename`; empty when there are none.
 */
export function getRelatedLocations(filename: string, ruleId: string, line: number, column: number): readonly RelatedLocation[] {
  return store.get(fileKey(filename, bareRuleId(ruleId)))?.get(`${String(line)}:${String(column - 1)}`) ?? [];
}
