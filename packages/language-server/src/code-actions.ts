// Code actions, as vscode-eslint offers them: each rule suggestion as a quick fix, "disable for this
// line", "show documentation". No "fix all": gradflow's rules have suggestions only (a fix that
// changes what the program computes is never an autofix), and the autofixes of other plugins, whose
// problems this server does not show, are ESLint's and vscode-eslint's to apply.
import type { Linter, Rule } from 'eslint';
import {
  CodeActionKind,
  type CodeAction,
  type CodeActionParams,
  type Diagnostic,
  type TextEdit,
  type WorkspaceEdit,
} from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { isShown } from './diagnostics.js';
import type { DocumentLint } from './validator.js';

export const SHOW_DOCUMENTATION_COMMAND = 'gradflow.showDocumentation';

export interface EditOptions {
  /** The client accepts `documentChanges` (versioned edits that fail on a stale document). */
  documentChanges: boolean;
}

export function makeEdit(document: TextDocument, edits: TextEdit[], options: EditOptions): WorkspaceEdit {
  if (options.documentChanges) {
    return { documentChanges: [{ textDocument: { uri: document.uri, version: document.version }, edits }] };
  }
  return { changes: { [document.uri]: edits } };
}

function fixToEdit(document: TextDocument, fix: Rule.Fix): TextEdit {
  return {
    range: { start: document.positionAt(fix.range[0]), end: document.positionAt(fix.range[1]) },
    newText: fix.text,
  };
}

function overlaps(diagnostic: Diagnostic, params: CodeActionParams): boolean {
  const { start, end } = params.range;
  const d = diagnostic.range;
  const before = (a: typeof start, b: typeof start) => a.line < b.line || (a.line === b.line && a.character <= b.character);
  return before(d.start, end) && before(start, d.end);
}

function wants(params: CodeActionParams, kind: string): boolean {
  const only = params.context.only;
  if (only === undefined) return true;
  return only.some((requested) => kind === requested || kind.startsWith(`${requested}.`));
}

function disableForLine(document: TextDocument, line: number, ruleId: string): TextEdit {
  const text = document.getText({ start: { line, character: 0 }, end: { line: line + 1, character: 0 } });
  const indent = /^\s*/.exec(text)?.[0] ?? '';
  const position = { line, character: 0 };
  return { range: { start: position, end: position }, newText: `${indent}// eslint-disable-next-line ${ruleId}\n` };
}

function actionsFor(
  lint: DocumentLint,
  message: Linter.LintMessage,
  diagnostic: Diagnostic,
  params: CodeActionParams,
  options: EditOptions,
): CodeAction[] {
  const { document } = lint;
  const actions: CodeAction[] = [];
  const ruleId = message.ruleId;
  if (wants(params, CodeActionKind.QuickFix)) {
    for (const suggestion of message.suggestions ?? []) {
      actions.push({
        title: suggestion.desc,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        isPreferred: actions.length === 0,
        edit: makeEdit(document, [fixToEdit(document, suggestion.fix)], options),
      });
    }
    if (ruleId !== null) {
      actions.push({
        title: `Disable ${ruleId} for this line`,
        kind: CodeActionKind.QuickFix,
        diagnostics: [diagnostic],
        edit: makeEdit(document, [disableForLine(document, diagnostic.range.start.line, ruleId)], options),
      });
      const href = diagnostic.codeDescription?.href;
      if (href !== undefined) {
        actions.push({
          title: `Show documentation for ${ruleId}`,
          kind: CodeActionKind.QuickFix,
          diagnostics: [diagnostic],
          command: { title: `Show documentation for ${ruleId}`, command: SHOW_DOCUMENTATION_COMMAND, arguments: [href] },
        });
      }
    }
  }
  return actions;
}

/** Quick fixes for the diagnostics in the requested range. */
export function quickFixes(lint: DocumentLint, params: CodeActionParams, options: EditOptions): CodeAction[] {
  const messages = lint.outcome?.messages ?? [];
  const actions: CodeAction[] = [];
  for (const diagnostic of lint.diagnostics) {
    if (!overlaps(diagnostic, params)) continue;
    const index = (diagnostic.data as { index?: number } | undefined)?.index;
    const message = index === undefined ? undefined : messages[index];
    if (message === undefined || !isShown(message)) continue;
    actions.push(...actionsFor(lint, message, diagnostic, params, options));
  }
  return actions;
}
