// Hover: the gradient status of the tensor, parameter, module or optimizer under the cursor, as the
// shared analysis module describes it from the program of the last lint of this very text.
import type { Hover, Position } from 'vscode-languageserver/node';
import { loadAnalysis } from './analysis.js';
import type { DocumentLint } from './validator.js';

export async function hoverAt(lint: DocumentLint, position: Position): Promise<Hover | null> {
  const captured = lint.outcome?.program;
  if (captured === undefined) return null;
  const analysis = await loadAnalysis(captured.sourceFile.fileName);
  if (analysis?.describeAt === undefined) return null; // no analysis module: no hover, diagnostics still work
  const offset = lint.document.offsetAt(position);
  let markdown: string | undefined;
  try {
    markdown = analysis.describeAt(captured, offset);
  } catch {
    return null; // a hover must never take the server down
  }
  if (markdown === undefined || markdown === '') return null;
  return { contents: { kind: 'markdown', value: markdown } };
}
