// ESLint's messages as LSP diagnostics: rule id as `code`, a link to the rule's doc, the second place
// that matters as `relatedInformation`, and the message's index in `data` so code actions find it again.
import { pathToFileURL } from 'node:url';
import type { Linter } from 'eslint';
import { DiagnosticSeverity, type Diagnostic, type DiagnosticRelatedInformation, type Range } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { LintReport } from './worker-protocol.js';
import type { RelatedLocation } from './related.js';

export const SOURCE = 'gradflow';

export interface DiagnosticData {
  /** Index into the lint outcome's messages. */
  index: number;
  /** The document version the diagnostic was computed for. */
  version: number;
}

/** The messages the server shows: gradflow's rules and the parse errors that stop them from running. */
export function isShown(message: Linter.LintMessage): boolean {
  return message.fatal === true || message.ruleId?.startsWith('@gradflow/') === true;
}

export function messageRange(document: TextDocument, message: Linter.LintMessage): Range {
  // Errors thrown by the parser setup (a file outside every project) come without a position.
  const line = (message.line as number | undefined) ?? 1;
  const column = (message.column as number | undefined) ?? 1;
  const start = { line: Math.max(line - 1, 0), character: Math.max(column - 1, 0) };
  if (message.endLine === undefined || message.endColumn === undefined) {
    // A point report: underline to the end of the line so the editor has something to show.
    const lineEnd = document.offsetAt({ line: start.line + 1, character: 0 });
    const end = document.positionAt(Math.max(lineEnd - 1, document.offsetAt(start)));
    return { start, end };
  }
  return { start, end: { line: message.endLine - 1, character: message.endColumn - 1 } };
}

function toRelatedInformation(related: RelatedLocation): DiagnosticRelatedInformation {
  return {
    location: {
      uri: pathToFileURL(related.filename).href,
      range: {
        start: { line: related.line - 1, character: related.column },
        end: { line: related.endLine - 1, character: related.endColumn },
      },
    },
    message: related.message,
  };
}

export function toDiagnostics(document: TextDocument, outcome: LintReport, relatedInformationSupported: boolean): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  outcome.messages.forEach((message, index) => {
    if (!isShown(message)) return;
    const data: DiagnosticData = { index, version: document.version };
    const diagnostic: Diagnostic = {
      range: messageRange(document, message),
      severity: message.severity === 2 ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
      source: SOURCE,
      message:
        message.fatal === true && !message.message.startsWith('Parsing error') ? `Parsing error: ${message.message}` : message.message,
      data,
    };
    if (message.ruleId !== null) {
      diagnostic.code = message.ruleId;
      const href = outcome.docsUrls.get(message.ruleId);
      if (href !== undefined) diagnostic.codeDescription = { href };
    }
    const related = outcome.related.get(index);
    if (relatedInformationSupported && related !== undefined) {
      diagnostic.relatedInformation = related.map(toRelatedInformation);
    }
    diagnostics.push(diagnostic);
  });
  return diagnostics;
}

/** A lint that could not run at all (a broken config, a file outside every project) still says why. */
export function failureDiagnostic(error: unknown): Diagnostic {
  const reason = error instanceof Error ? error.message : String(error);
  return {
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    severity: DiagnosticSeverity.Error,
    source: SOURCE,
    message: `gradflow could not lint this file: ${reason}`,
  };
}
