/**
 * `@gradflow/rules/capture` — every rule's reports on one file of a TypeScript program, as data,
 * without ESLint: what the language server's analysis thread computes while ESLint parses the same
 * text on the lint worker's main thread, and the rules replay there (util/precomputed.ts). The
 * rules run exactly as in a lint (their `Program:exit`), against a context that records each
 * report, evaluates each suggestion's fix into its edits and keeps the related locations.
 */
import type { TSESLint } from '@typescript-eslint/utils';
import type ts from 'typescript';
import { clearRelatedLocations, getRelatedLocations } from '../analysis/related.js';
import { rules } from '../index.js';
import { RULES_URL, type CapturedReport, type CapturedReports, type Edit } from './precomputed.js';

export { RULES_URL } from './precomputed.js';
export type { CapturedReport, CapturedReports } from './precomputed.js';

type Range = readonly [number, number];

/** ESLint's fixer, for the range-based methods (the ones the rules use) and their node forms. */
const fixer = {
  insertTextAfterRange: (range: Range, text: string): Edit => ({ range: [range[1], range[1]], text }),
  insertTextBeforeRange: (range: Range, text: string): Edit => ({ range: [range[0], range[0]], text }),
  removeRange: (range: Range): Edit => ({ range: [range[0], range[1]], text: '' }),
  replaceTextRange: (range: Range, text: string): Edit => ({ range: [range[0], range[1]], text }),
  insertTextAfter: (node: { range: Range }, text: string): Edit => fixer.insertTextAfterRange(node.range, text),
  insertTextBefore: (node: { range: Range }, text: string): Edit => fixer.insertTextBeforeRange(node.range, text),
  remove: (node: { range: Range }): Edit => fixer.removeRange(node.range),
  replaceText: (node: { range: Range }, text: string): Edit => fixer.replaceTextRange(node.range, text),
};

/** A fix function's result as a list of edits (ESLint accepts one fix, an array or any iterable), null for none. */
function editsOf(result: unknown): Edit[] | null {
  if (result === null || result === undefined) return null;
  if (typeof result === 'object' && 'range' in result) return [result as Edit];
  if (typeof result === 'object' && Symbol.iterator in result) return [...(result as Iterable<Edit>)];
  return null;
}

interface Descriptor {
  loc: CapturedReport['loc'];
  messageId: string;
  data?: Record<string, string>;
  suggest?: readonly { messageId: string; data?: Record<string, unknown>; fix: (f: typeof fixer) => unknown }[] | null;
}

/**
 * The reports of every rule on `fileName` of `program` (rule name → reports), with the URL of
 * this copy of the rules; undefined when the program has no such file, or when `stop` (asked
 * before each rule) says the reports are no longer wanted.
 */
export function captureReports(
  program: ts.Program,
  fileName: string,
  stop: () => boolean = () => false,
): { rulesUrl: string; reports: CapturedReports } | undefined {
  const sourceFile = program.getSourceFile(fileName);
  if (sourceFile === undefined) return undefined;
  const reports: Record<string, CapturedReport[]> = {};
  for (const [name, rule] of Object.entries(rules)) {
    if (stop()) return undefined;
    const found: CapturedReport[] = [];
    const context = {
      id: name,
      filename: fileName,
      physicalFilename: fileName,
      cwd: process.cwd(),
      options: [],
      settings: {},
      languageOptions: {},
      sourceCode: {
        text: sourceFile.text,
        ast: undefined,
        parserServices: { program, esTreeNodeToTSNodeMap: new WeakMap(), tsNodeToESTreeNodeMap: new WeakMap() },
        getLocFromIndex: (index: number) => {
          const { line, character } = sourceFile.getLineAndCharacterOfPosition(index);
          return { line: line + 1, column: character };
        },
      },
      report: (descriptor: Descriptor) => {
        found.push({
          loc: descriptor.loc,
          messageId: descriptor.messageId,
          data: descriptor.data,
          suggest: (descriptor.suggest ?? []).map((s) => ({ messageId: s.messageId, data: s.data, edits: editsOf(s.fix(fixer)) })),
          related: [],
        });
      },
    };
    const listener = (rule.create as (c: unknown) => TSESLint.RuleListener)(context);
    (listener['Program:exit'] as (() => void) | undefined)?.();
    // reportAt recorded each report's related locations by its start, appended when two reports
    // share one: the first report at a position carries the whole list, the others none.
    const seen = new Set<string>();
    reports[name] = found.map((report) => {
      const at = `${String(report.loc.start.line)}:${String(report.loc.start.column)}`;
      if (seen.has(at)) return report;
      seen.add(at);
      return { ...report, related: getRelatedLocations(fileName, name, report.loc.start.line, report.loc.start.column + 1) };
    });
    clearRelatedLocations(fileName, name);
  }
  return { rulesUrl: RULES_URL, reports };
}
