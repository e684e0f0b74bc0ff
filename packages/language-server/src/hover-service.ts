// Hovers from a process of their own (a lint worker started in the hover role, lint-worker.ts), so
// that a hover never waits behind a lint: the lint worker's event loop is taken by ESLint for the
// whole of a lint. This process keeps its own incremental program of the workspace (program-provider.ts)
// and the analysis of the last text it was asked about. A hover on an identifier whose line the
// edits since then have not touched is answered from that analysis at once (offsets shifted by the
// edit; only for a change that adds or removes no line, so that the lines a hover names are right),
// and the analysis of the new text is built right after, for the next hover; a hover in the changed
// line, or after a change of the line count, waits for the analysis of the new text.
import type ts from 'typescript';
import { loadAnalysis, typescriptOfAnalysis } from './analysis.js';
import { describeHover } from './hover.js';
import { ProgramProvider } from './program-provider.js';

interface Analyzed {
  text: string;
  program: ts.Program;
  sourceFile: ts.SourceFile;
}

/**
 * `offset` in `after` as an offset in `before`, when the line it is on is outside the changed text
 * and the change adds or removes no line (the lines a hover names are the same in both texts).
 */
export function unchangedOffset(before: string, after: string, offset: number): number | undefined {
  const shorter = Math.min(before.length, after.length);
  let prefix = 0;
  while (prefix < shorter && before.charCodeAt(prefix) === after.charCodeAt(prefix)) prefix++;
  let suffix = 0;
  while (suffix < shorter - prefix && before.charCodeAt(before.length - 1 - suffix) === after.charCodeAt(after.length - 1 - suffix))
    suffix++;
  const lines = (text: string) => text.split('\n').length;
  if (lines(before.slice(prefix, before.length - suffix)) !== lines(after.slice(prefix, after.length - suffix))) return undefined;
  const lineEnd = after.indexOf('\n', offset);
  if ((lineEnd === -1 ? after.length : lineEnd) < prefix) return offset;
  const lineStart = after.lastIndexOf('\n', offset - 1) + 1;
  if (lineStart >= after.length - suffix && lineStart > prefix) return offset - (after.length - before.length);
  return undefined;
}

export class HoverService {
  private readonly providers = new Map<typeof ts, ProgramProvider>();
  private readonly analyzed = new Map<string, Analyzed>();
  /** Per file, the last hover (the text it was asked on and where): the next analysis answers it ahead (see `analyze`). */
  private readonly lastHovers = new Map<string, { text: string; offset: number }>();
  private refresh: NodeJS.Immediate | undefined;

  /** Markdown for the hover, null when there is nothing to say, undefined when this service cannot tell (no tsconfig includes the file). */
  async hover(filePath: string, text: string, offset: number): Promise<string | null | undefined> {
    this.lastHovers.set(filePath, { text, offset });
    const known = this.analyzed.get(filePath);
    if (known !== undefined && known.text !== text) {
      const mapped = unchangedOffset(known.text, text, offset);
      if (mapped !== undefined) {
        this.refreshSoon(filePath, text);
        return describeHover(known, mapped);
      }
    }
    const current = known?.text === text ? known : await this.analyze(filePath, text);
    return current === undefined ? undefined : describeHover(current, offset);
  }

  /** Builds the program and the analysis of `text`, ahead of the hovers. */
  async prepare(filePath: string, text: string): Promise<void> {
    if (this.analyzed.get(filePath)?.text !== text) await this.analyze(filePath, text);
  }

  forget(filePath: string): void {
    this.analyzed.delete(filePath);
    this.lastHovers.delete(filePath);
    for (const provider of this.providers.values()) provider.close(filePath);
  }

  invalidate(): void {
    this.analyzed.clear();
    for (const provider of this.providers.values()) provider.invalidate();
  }

  private refreshSoon(filePath: string, text: string): void {
    if (this.refresh !== undefined) clearImmediate(this.refresh);
    this.refresh = setImmediate(() => {
      this.refresh = undefined;
      void this.prepare(filePath, text);
    });
  }

  private async analyze(filePath: string, text: string): Promise<Analyzed | undefined> {
    const tsModule = await typescriptOfAnalysis(filePath);
    if (tsModule === undefined) return undefined;
    let provider = this.providers.get(tsModule);
    if (provider === undefined) {
      provider = new ProgramProvider(tsModule);
      this.providers.set(tsModule, provider);
    }
    const program = provider.programFor(filePath, text);
    const sourceFile = program?.getSourceFile(filePath);
    if (program === undefined || sourceFile === undefined) return undefined;
    const analyzed = { text, program, sourceFile };
    this.analyzed.set(filePath, analyzed);
    // The file's analysis is built by the first question about it: ask one now, not at the next hover.
    const analysis = await loadAnalysis(filePath);
    analysis?.describeAt?.(analyzed, 0);
    // Much of it (the optimizers, what they hold, the freezes) is built by the first question about
    // a tensor, module or optimizer: ask again what the last hover asked, where that is in this text.
    // (Answering a hover from this analysis took ~13 ms without, ~2 ms with, on the 1,000-line bench file.)
    const last = this.lastHovers.get(filePath);
    if (last !== undefined && analysis?.describeAt !== undefined) {
      const offset = last.text === text ? last.offset : unchangedOffset(last.text, text, last.offset);
      if (offset !== undefined) analysis.describeAt(analyzed, offset);
    }
    return analyzed;
  }
}
