// Hover: the gradient status of the tensor, parameter, module or optimizer under the cursor, as the
// shared analysis module describes it from the program of the last lint of this very text. Runs in
// the lint worker that holds that program; the main thread turns the markdown into a `Hover`.
import { loadAnalysis } from './analysis.js';
import type { CapturedProgram } from './program-capture.js';

export async function describeHover(captured: CapturedProgram, offset: number): Promise<string | null> {
  const analysis = await loadAnalysis(captured.sourceFile.fileName);
  if (analysis?.describeAt === undefined) return null; // no analysis module: no hover, diagnostics still work
  let markdown: string | undefined;
  try {
    markdown = analysis.describeAt(captured, offset);
  } catch {
    return null; // a hover must never take the server down
  }
  return markdown === undefined || markdown === '' ? null : markdown;
}
