// Keeps each open document's diagnostics current: bursts of changes are debounced, one lint per document
// version at most, and a result for a version the editor has already moved past is dropped.
import { fileURLToPath } from 'node:url';
import type { Diagnostic, TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { failureDiagnostic, toDiagnostics } from './diagnostics.js';
import type { LintOutcome, LintRunner } from './lint-runner.js';
import { LINTED_EXTENSIONS } from './eslint-setup.js';

/** What the server knows about one version of one document. */
export interface DocumentLint {
  uri: string;
  version: number;
  /** The text that was linted: fix offsets refer to it. */
  document: TextDocument;
  outcome: LintOutcome | undefined;
  diagnostics: Diagnostic[];
  /** Counts every lint the server publishes: a pull's `resultId`. */
  generation: number;
}

export interface ValidatorOptions {
  debounceMs: number;
  relatedInformationSupported: boolean;
  /** Called with each fresh result (push diagnostics); not called for dropped, stale results. */
  onResult: (lint: DocumentLint) => void;
  log: (message: string) => void;
}

export function isLintable(uri: string): boolean {
  return uri.startsWith('file:') && LINTED_EXTENSIONS.some((extension) => uri.endsWith(extension));
}

export class Validator {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Map<string, { version: number; done: Promise<DocumentLint | undefined> }>();
  private readonly latest = new Map<string, DocumentLint>();
  private generation = 0;

  constructor(
    private readonly runner: LintRunner,
    private readonly documents: TextDocuments<TextDocument>,
    private readonly options: ValidatorOptions,
  ) {}

  /**
   * A change arrived. When nothing is pending or running for the document, it is linted at once:
   * an isolated edit gets its diagnostics as fast as a lint allows. A change that arrives while a
   * lint or a wait is under way joins a burst, linted once the typing pauses for `delayMs`, so a
   * burst of keystrokes costs one more lint rather than one per keystroke.
   */
  schedule(uri: string, delayMs = this.options.debounceMs): void {
    const busy = this.timers.has(uri) || this.inFlight.has(uri);
    clearTimeout(this.timers.get(uri));
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        void this.validate(uri);
      }, busy ? delayMs : 0),
    );
  }

  scheduleAll(): void {
    for (const document of this.documents.all()) this.schedule(document.uri, 0);
  }

  /**
   * The lint of the document's current version, linting now if it is not there yet. Gives up
   * (undefined) once `cancelled` says the request that wants it was cancelled.
   */
  async current(uri: string, cancelled: () => boolean = () => false): Promise<DocumentLint | undefined> {
    if (!isLintable(uri)) return undefined;
    for (;;) {
      if (cancelled()) return undefined;
      const document = this.documents.get(uri);
      if (document === undefined) return undefined;
      const known = this.latest.get(uri);
      if (known?.version === document.version) return known;
      const result = await this.validate(uri);
      // Another change may have landed while linting; go round again for the newest version.
      if (result?.version === this.documents.get(uri)?.version) return result;
    }
  }

  /** The last result for the document without waiting, possibly for an older version. */
  last(uri: string): DocumentLint | undefined {
    return this.latest.get(uri);
  }

  forget(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.latest.delete(uri);
  }

  /** Forget the document's result so the next request lints it again. */
  invalidate(uri: string): void {
    this.latest.delete(uri);
  }

  /** Forget every result so the next request lints again (after a config or dependency changed). */
  invalidateAll(): void {
    this.latest.clear();
  }

  private validate(uri: string): Promise<DocumentLint | undefined> {
    const document = this.documents.get(uri);
    if (document === undefined || !isLintable(uri)) return Promise.resolve(undefined);
    const running = this.inFlight.get(uri);
    if (running?.version === document.version) return running.done;
    const done = this.lintVersion(document).finally(() => {
      if (this.inFlight.get(uri)?.done === done) this.inFlight.delete(uri);
    });
    this.inFlight.set(uri, { version: document.version, done });
    return done;
  }

  private async lintVersion(live: TextDocument): Promise<DocumentLint | undefined> {
    // The manager updates documents in place; fix offsets must refer to the text that was linted.
    const document = TextDocument.create(live.uri, live.languageId, live.version, live.getText());
    const filePath = fileURLToPath(document.uri);
    // Lints are queued; by the time this one starts the document may have moved on.
    const stillWanted = () => this.documents.get(document.uri)?.version === document.version;
    let outcome: LintOutcome | undefined;
    let diagnostics: Diagnostic[];
    try {
      outcome = await this.runner.lint(filePath, document.getText(), stillWanted);
      if (outcome === undefined) return undefined;
      diagnostics = toDiagnostics(document, outcome, this.options.relatedInformationSupported);
    } catch (error) {
      this.options.log(`lint of ${filePath} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      diagnostics = [failureDiagnostic(error)];
    }
    const now = this.documents.get(document.uri);
    if (now?.version !== document.version) return undefined; // stale: a newer version is on its way
    this.generation += 1;
    const lint: DocumentLint = {
      uri: document.uri,
      version: document.version,
      document,
      outcome,
      diagnostics,
      generation: this.generation,
    };
    this.latest.set(document.uri, lint);
    this.options.onResult(lint);
    return lint;
  }
}
