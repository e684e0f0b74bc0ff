import type { TSESLint } from '@typescript-eslint/utils';
import { bareRuleId, recordRelatedLocations, type RelatedLocation } from '../analysis/related.js';

/**
 * Reports computed by another thread, replayed by the rules. The language server's lint worker runs
 * the rules' analysis (`captureReports` in capture.ts) on a thread of its own, on a program of the
 * same text, while ESLint parses and traverses the file on the main thread; at `Program:exit` each
 * rule takes its reports from there instead of analysing again (see onProgram in create-rule.ts).
 * ESLint still owns the lint: the config's severities, inline directives, unused-directive reports
 * and the fix machinery apply to the replayed reports as to any other.
 *
 * A host offers the reports by setting `globalThis[PRECOMPUTED_REPORTS]`. `take` answers only for
 * the very text and file it computed, with this copy of the rules (`rulesUrl`); undefined means
 * "not computed here": the rule analyses the file itself, as it always does outside the server.
 */
export const PRECOMPUTED_REPORTS = Symbol.for('gradflow.precomputedReports');

/** This module's URL: the copy of the rules a host's thread must run for its reports to be taken here. */
export const RULES_URL = import.meta.url;

export interface Edit {
  readonly range: readonly [number, number];
  readonly text: string;
}

/** One `reportAt` as data: where, what, its suggestions' edits (null: the fix gave none) and related locations. */
export interface CapturedReport {
  readonly loc: { readonly start: { line: number; column: number }; readonly end: { line: number; column: number } };
  readonly messageId: string;
  readonly data: Record<string, string> | undefined;
  readonly suggest: readonly {
    readonly messageId: string;
    readonly data: Record<string, unknown> | undefined;
    readonly edits: readonly Edit[] | null;
  }[];
  readonly related: readonly RelatedLocation[];
}

/** Rule name (without the plugin prefix) → its reports on the file. */
export type CapturedReports = Readonly<Record<string, readonly CapturedReport[]>>;

export interface PrecomputedReports {
  /** The reports of `rule` for `filename` with exactly `text`, computed by the rules at `rulesUrl`; undefined when not available. */
  take(filename: string, text: string, rule: string, rulesUrl: string): readonly CapturedReport[] | undefined;
}

type Context = Readonly<TSESLint.RuleContext<string, readonly unknown[]>>;

/** The reports a host computed for this lint of this rule, if it offers them. */
export function precomputedFor(context: Context): readonly CapturedReport[] | undefined {
  const host = (globalThis as { [PRECOMPUTED_REPORTS]?: PrecomputedReports })[PRECOMPUTED_REPORTS];
  if (host === undefined) return undefined;
  return host.take(context.filename, context.sourceCode.text, bareRuleId(context.id), RULES_URL);
}

/** Reports them through ESLint, as `reportAt` would have. */
export function replay(context: Context, reports: readonly CapturedReport[]): void {
  for (const report of reports) {
    context.report({
      loc: report.loc,
      messageId: report.messageId,
      data: report.data,
      suggest: report.suggest.map((s) => ({
        messageId: s.messageId,
        data: s.data,
        fix: () => (s.edits === null ? null : s.edits.map(toFix)),
      })),
    });
    recordRelatedLocations(context.filename, context.id, report.loc.start.line, report.loc.start.column, report.related);
  }
}

function toFix(edit: Edit): TSESLint.RuleFix {
  return { range: [edit.range[0], edit.range[1]], text: edit.text };
}
