import { readFileSync } from 'node:fs';
import { ESLintUtils, type TSESLint } from '@typescript-eslint/utils';
import type ts from 'typescript';
import { getFileAnalysis, safely, type FileAnalysis } from '../analysis/file-analysis.js';
import { clearRelatedLocations, recordRelatedLocations, type RelatedLocation } from '../analysis/related.js';
import { precomputedFor, replay } from './precomputed.js';

/** The package's `homepage` (its repository): the one place rule documentation links come from. */
const HOMEPAGE = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { homepage: string }).homepage
  .replace(/#.*$/, '')
  .replace(/\/$/, '');

/**
 * `meta.docs.url`: the rule's doc on the web, `<homepage>/blob/main/rules/docs/<id>.md`. It is what
 * ESLint's formatters (SARIF's `helpUri`) and the language server (`codeDescription.href`) show, so
 * it must open on any machine, never a path on the one that ran the lint.
 */
export function ruleDocUrl(name: string): string {
  return `${HOMEPAGE}/blob/main/rules/docs/${name}.md`;
}

export interface GradflowDocs {
  readonly description: string;
  /**
   * The rule's level in `configs.recommended` (the plugin builds its configs from this field):
   * 'error' when the mistake throws at run time, 'warn' when it silently trains the wrong thing.
   */
  readonly recommended: 'error' | 'warn';
  readonly requiresTypeChecking: true;
}

const namedRule = ESLintUtils.RuleCreator<GradflowDocs>(ruleDocUrl);

/** A gradflow rule: its literal `name`, and `meta.docs` always present (the configs read it). */
export type GradflowRule<Name extends string, MessageIds extends string, Options extends readonly unknown[]> = TSESLint.RuleModule<
  MessageIds,
  Options,
  GradflowDocs
> & {
  readonly name: Name;
  readonly meta: { readonly docs: GradflowDocs & { readonly url: string } };
};

/**
 * typescript-eslint's `RuleCreator`, keeping the rule's `name` as a literal type: the rule index
 * derives its ids (and their type) from the rule modules, so an id is written once, in its rule.
 */
export function createRule<const Name extends string, Options extends readonly unknown[], MessageIds extends string>(
  rule: Readonly<ESLintUtils.RuleWithMetaAndName<Options, MessageIds, GradflowDocs>> & { readonly name: Name },
): GradflowRule<Name, MessageIds, Options> {
  return namedRule(rule) as GradflowRule<Name, MessageIds, Options>;
}

type Context = Readonly<TSESLint.RuleContext<string, readonly unknown[]>>;

/** The shared analysis of the file being linted, or undefined without type information. */
export function analysisFor(context: Context): FileAnalysis | undefined {
  const services = context.sourceCode.parserServices;
  const program = services?.program;
  if (!program || !services.esTreeNodeToTSNodeMap) return undefined;
  const sourceFile = program.getSourceFile(context.filename) ?? services.esTreeNodeToTSNodeMap.get(context.sourceCode.ast);
  return getFileAnalysis(program, sourceFile);
}

export interface Related {
  readonly node: ts.Node;
  readonly message: string;
}

export function rangeOf(node: ts.Node): [number, number] {
  return [node.getStart(), node.getEnd()];
}

/**
 * Reports on a TypeScript node (the analysis works on TypeScript's AST, so the language server
 * can ask it without ESLint) and records the report's related locations for the language server.
 */
export function reportAt<M extends string>(
  context: Readonly<TSESLint.RuleContext<M, readonly unknown[]>>,
  report: {
    node: ts.Node;
    messageId: M;
    data?: Record<string, string>;
    suggest?: TSESLint.SuggestionReportDescriptor<M>[];
    related?: readonly Related[];
  },
): void {
  const [start, end] = rangeOf(report.node);
  const loc = { start: context.sourceCode.getLocFromIndex(start), end: context.sourceCode.getLocFromIndex(end) };
  context.report({ loc, messageId: report.messageId, data: report.data, suggest: report.suggest ?? null });
  const related: RelatedLocation[] = (report.related ?? []).map(({ node, message }) => {
    const s = context.sourceCode.getLocFromIndex(node.getStart());
    const e = context.sourceCode.getLocFromIndex(node.getEnd());
    return { message, filename: context.filename, line: s.line, column: s.column, endLine: e.line, endColumn: e.column };
  });
  recordRelatedLocations(context.filename, context.id, loc.start.line, loc.start.column, related);
}

/**
 * The shape every gradflow rule shares: once the file's ESTree program has been seen, ask the
 * analysis and report. Failures inside `check` are recorded and the rule stays silent: a linter
 * must never crash on code it does not understand.
 *
 * The analysis runs when the traversal leaves the program (`Program:exit`), not when it enters it:
 * in a type-aware lint, typescript-eslint's rules have by then asked the checker about the file's
 * nodes, so the symbols and types the analysis asks for are in the checker's caches. The answers
 * are the same either way; the order only decides which rule pays for the checker's first look.
 *
 * Where a host computed this lint's reports on another thread (the language server: see
 * precomputed.ts), the rule replays them instead of analysing the file again.
 */
export function onProgram<M extends string>(
  context: Readonly<TSESLint.RuleContext<M, readonly unknown[]>>,
  check: (analysis: FileAnalysis) => void,
): TSESLint.RuleListener {
  clearRelatedLocations(context.filename, context.id);
  return {
    'Program:exit'() {
      const precomputed = safely(context.filename, undefined, () => precomputedFor(context));
      if (precomputed !== undefined) {
        replay(context, precomputed);
        return;
      }
      const analysis = safely(context.filename, undefined, () => analysisFor(context as Context));
      if (!analysis?.index.hasLibraryUse) return;
      safely(context.filename, undefined, () => {
        check(analysis);
      });
    },
  };
}

/** Source text of a node, for messages. */
export function textOf(node: ts.Node, max = 40): string {
  const text = node.getText().replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
