// Keeps each open document's diagnostics current. Each workspace's worker lints one file at a time;
// the files waiting for it form a queue that holds each file once, and a file's lint always takes the
// document's newest text, so however many edits arrive while other files lint, a file is linted once
// more, not once per version. Bursts of changes to one file are debounced, and a result for a version
// the editor has already moved past is dropped.
import { fileURLToPath } from 'node:url';
import type { CancellationToken, Diagnostic } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { failureDiagnostic, toDiagnostics } from './diagnostics.js';
import type { DocumentStore } from './documents.js';
import { isLintable } from './files.js';
import { LintFailure, type LintHost } from './lint-host.js';
import type { LintReport } from './worker-protocol.js';

export { isLintable } from './files.js';

/** What the server knows about one version of one document. */
export interface DocumentLint {
  uri: string;
  version: number;
  /** The text that was linted: fix offsets refer to it. */
  document: TextDocument;
  outcome: LintReport | undefined;
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

export class Validator {
  /** Debounce timers of files whose typing has not paused yet. */
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Per workspace: the files waiting for its worker, each once, in order. */
  private readonly queues = new Map<string, string[]>();
  /** Per workspace: the file its worker is linting, and at which version. */
  private readonly running = new Map<string, { uri: string; version: number }>();
  private readonly latest = new Map<string, DocumentLint>();
  /**
   * Results older than a change they cannot see (a config, an imported file, on disk or in the
   * editor) are outdated and linted again. Counted in invalidation epochs: a lint remembers the epoch
   * it started in, so an invalidation that arrives while it runs outdates its result too.
   */
  private epoch = 0;
  private readonly invalidatedAt = new Map<string, number>();
  private readonly lintedAt = new Map<string, number>();
  /** Woken whenever a lint of the file ends (published or dropped), or the file is closed. */
  private readonly waiters = new Map<string, Set<() => void>>();
  private generation = 0;
  /** Lints started, for `gradflow/stats`. */
  lintsStarted = 0;
  /** Lints whose parser read the server's incremental program (program-provider.ts), for `gradflow/stats`. */
  serverProgramLints = 0;
  /** Top-level statements whose ESTree the lints took from the file's previous lint (incremental-estree.ts). */
  reusedStatements = 0;
  /** gradflow rules whose reports the lints took from the analysis thread (precompute.ts). */
  precomputedRules = 0;

  constructor(
    private readonly host: LintHost,
    private readonly documents: DocumentStore,
    private options: ValidatorOptions,
  ) {}

  configure(options: Partial<ValidatorOptions>): void {
    this.options = { ...this.options, ...options };
  }

  /**
   * A change arrived. When nothing is pending or running for the document, it is queued for a lint at
   * once: an isolated edit gets its diagnostics as fast as a lint allows. A change that arrives while
   * a lint, a wait or a place in the queue is under way joins a burst, queued once the typing pauses
   * for `delayMs`, so a burst of keystrokes costs one more lint rather than one per keystroke.
   */
  schedule(uri: string, delayMs = this.options.debounceMs): void {
    const busy = this.timers.has(uri) || this.isQueued(uri) || this.isRunning(uri);
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    const wait = busy ? delayMs : 0;
    if (wait <= 0) {
      this.enqueue(uri);
      return;
    }
    this.dequeue(uri);
    this.timers.set(
      uri,
      setTimeout(() => {
        this.timers.delete(uri);
        this.enqueue(uri);
      }, wait),
    );
  }

  scheduleAll(): void {
    for (const document of this.documents.all()) this.schedule(document.uri, 0);
  }

  /**
   * The lint of the document's current version, linting it next if it is not there yet. Gives up
   * (undefined) once the request that wants it is cancelled, or after `timeoutMs`. With
   * `acceptOutdated`, a result of this very text from before a change on disk will do (a hover's or
   * a code action's positions are still right), rather than waiting for the lint after it.
   */
  async current(
    uri: string,
    token?: CancellationToken,
    timeoutMs = Number.POSITIVE_INFINITY,
    acceptOutdated = false,
  ): Promise<DocumentLint | undefined> {
    if (!isLintable(uri)) return undefined;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (token?.isCancellationRequested === true) return undefined;
      const document = this.documents.get(uri);
      if (document === undefined) return undefined;
      const known = this.latest.get(uri);
      if (known?.version === document.version && (acceptOutdated || !this.isOutdated(uri))) return known;
      const remaining = deadline - Date.now();
      if (remaining <= 0) return undefined;
      // Someone waits for this version: lint it next, without waiting for the typing to pause.
      const running = [...this.running.values()].find((entry) => entry.uri === uri);
      if (running?.version !== document.version) {
        clearTimeout(this.timers.get(uri));
        this.timers.delete(uri);
        this.enqueue(uri, true);
      }
      await this.lintEnded(uri, token, remaining);
    }
  }

  /** The last result for the document without waiting, possibly for an older version. */
  last(uri: string): DocumentLint | undefined {
    return this.latest.get(uri);
  }

  forget(uri: string): void {
    clearTimeout(this.timers.get(uri));
    this.timers.delete(uri);
    this.dequeue(uri);
    this.latest.delete(uri);
    this.invalidatedAt.delete(uri);
    this.lintedAt.delete(uri);
    if (uri.startsWith('file:')) this.host.forget(fileURLToPath(uri));
    this.wake(uri);
  }

  /** Forget the document's result so the next request lints it again. */
  invalidate(uri: string): void {
    this.invalidatedAt.set(uri, ++this.epoch);
  }

  /** Forget every result so the next request lints again (after a config or dependency changed). */
  invalidateAll(): void {
    this.epoch += 1;
    for (const document of this.documents.all()) this.invalidatedAt.set(document.uri, this.epoch);
  }

  private isOutdated(uri: string): boolean {
    return (this.invalidatedAt.get(uri) ?? 0) >= (this.lintedAt.get(uri) ?? 0) && this.invalidatedAt.has(uri);
  }

  private isQueued(uri: string): boolean {
    for (const queue of this.queues.values()) if (queue.includes(uri)) return true;
    return false;
  }

  private isRunning(uri: string): boolean {
    for (const entry of this.running.values()) if (entry.uri === uri) return true;
    return false;
  }

  private dequeue(uri: string): void {
    for (const queue of this.queues.values()) {
      const index = queue.indexOf(uri);
      if (index >= 0) queue.splice(index, 1);
    }
  }

  private enqueue(uri: string, first = false): void {
    const document = this.documents.get(uri);
    if (document === undefined || !isLintable(uri)) return;
    const workspace = this.host.workspaceOf(fileURLToPath(uri));
    let queue = this.queues.get(workspace);
    if (queue === undefined) {
      queue = [];
      this.queues.set(workspace, queue);
    }
    const index = queue.indexOf(uri);
    if (index >= 0 && (!first || index === 0)) return;
    if (index >= 0) queue.splice(index, 1);
    if (first) queue.unshift(uri);
    else queue.push(uri);
    this.pump(workspace);
  }

  /** Starts the next lint of the workspace when its worker is free. */
  private pump(workspace: string): void {
    if (this.running.has(workspace)) return;
    const queue = this.queues.get(workspace) ?? [];
    for (let uri = queue.shift(); uri !== undefined; uri = queue.shift()) {
      const document = this.documents.get(uri);
      if (document === undefined) continue;
      if (this.latest.get(uri)?.version === document.version && !this.isOutdated(uri)) {
        this.wake(uri);
        continue; // already linted at this version
      }
      this.start(workspace, document);
      return;
    }
  }

  private start(workspace: string, live: TextDocument): void {
    // The store updates documents in place; fix offsets must refer to the text that was linted.
    const document = TextDocument.create(live.uri, live.languageId, live.version, live.getText());
    this.running.set(workspace, { uri: document.uri, version: document.version });
    this.lintsStarted += 1;
    void this.lintVersion(document)
      .catch((error: unknown) => {
        this.options.log(`publishing the lint of ${document.uri} failed: ${String(error)}`);
      })
      .finally(() => {
        this.running.delete(workspace);
        this.wake(document.uri);
        this.pump(workspace);
      });
  }

  private async lintVersion(document: TextDocument): Promise<void> {
    const filePath = fileURLToPath(document.uri);
    // Invalidations from here on (a higher epoch) outdate this result.
    const startedIn = this.epoch + 1;
    let outcome: LintReport | undefined;
    let diagnostics: Diagnostic[];
    try {
      outcome = await this.host.lint(filePath, document.getText(), document.version);
      if (outcome?.serverProgram === true) this.serverProgramLints += 1;
      this.reusedStatements += outcome?.reusedStatements ?? 0;
      this.precomputedRules += outcome?.precomputedRules ?? 0;
      diagnostics = outcome === undefined ? [] : toDiagnostics(document, outcome, this.options.relatedInformationSupported);
    } catch (error) {
      if (!(error instanceof LintFailure)) {
        this.options.log(`lint of ${filePath} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
      diagnostics = [failureDiagnostic(error)];
    }
    const now = this.documents.get(document.uri);
    if (now?.version !== document.version) return; // stale: a newer version is on its way
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
    this.lintedAt.set(document.uri, startedIn);
    this.options.onResult(lint);
  }

  private wake(uri: string): void {
    const waiting = this.waiters.get(uri);
    this.waiters.delete(uri);
    for (const wake of waiting ?? []) wake();
  }

  /** Resolves when a lint of the file ends, the request is cancelled, or `timeoutMs` passes. */
  private lintEnded(uri: string, token: CancellationToken | undefined, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let waiting = this.waiters.get(uri);
      if (waiting === undefined) {
        waiting = new Set();
        this.waiters.set(uri, waiting);
      }
      const done = () => {
        clearTimeout(timer);
        cancellation?.dispose();
        this.waiters.get(uri)?.delete(done);
        resolve();
      };
      waiting.add(done);
      const timer = Number.isFinite(timeoutMs) ? setTimeout(done, timeoutMs) : undefined;
      const cancellation = token?.onCancellationRequested(done);
    });
  }
}
