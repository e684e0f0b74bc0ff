// The rules' analysis, beside ESLint rather than after it. A lint of a file spends its time in three
// sequential parts: ESLint's parse (the program, the ESTree, scope analysis), ESLint's traversal,
// then the gradflow rules' analysis at `Program:exit` (about 55 % of a warm edit of a 1 MB file).
// The analysis needs only a TypeScript program of the same text, so a thread of the lint worker
// (analysis-thread.ts) builds its own program and runs the rules there (`@gradflow/rules/capture`)
// as soon as the lint starts; when ESLint's traversal reaches `Program:exit`, each gradflow rule
// takes its reports from the thread (blocking until they come) and replays them through ESLint
// (`@gradflow/rules`' util/precomputed.ts), so that the config's severities, inline directives and
// fixes apply as to any report. The reports are used only for the very file and text the thread
// analysed, with the same copy of the rules the config loaded; otherwise, or when the thread fails
// or takes longer than `WAIT_MS`, the rules analyse the file themselves, as they always do in the CLI.
import * as path from 'node:path';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';

export type ThreadRequest =
  | { kind: 'text'; filePath: string; text: string }
  | { kind: 'close'; filePath: string }
  | { kind: 'invalidate' }
  | { kind: 'reports'; id: number; filePath: string; text: string };

export type ThreadReply = { id: number; rulesUrl: string; reports: Partial<Record<string, unknown[]>> } | { id: number; failed: string };

/** How long a rule waits for the thread's reports before analysing the file itself. */
const WAIT_MS = 30_000;
/** `@gradflow/rules`' util/precomputed.ts reads the host here (a symbol of the registry: any copy of the rules finds it). */
const PRECOMPUTED_REPORTS = Symbol.for('gradflow.precomputedReports');

/** The started threads of this process (one per TypeScript module the workspace's parsers run on): the one whose job a rule asks about answers. */
const threads = new Set<AnalysisThread>();
(globalThis as Record<symbol, unknown>)[PRECOMPUTED_REPORTS] = {
  take(filename: string, text: string, rule: string, rulesUrl: string): unknown[] | undefined {
    for (const thread of threads) {
      const reports = thread.take(filename, text, rule, rulesUrl);
      if (reports !== undefined) return reports;
    }
    return undefined;
  },
};

interface Job {
  id: number;
  filePath: string;
  text: string;
  reply: ThreadReply | undefined;
}

export class AnalysisThread {
  private started: { worker: Worker; port: MessagePort } | undefined;
  /**
   * [0]: incremented by the thread after each reply it posts (what Atomics.wait watches); [1]: the
   * id up to which jobs are no longer wanted (the thread stops their analysis between rules).
   */
  private readonly shared = new Int32Array(new SharedArrayBuffer(8));
  private nextId = 1;
  private job: Job | undefined;
  private dead = false;
  /** How many rules took their reports from the thread (for `gradflow/stats` and the tests). */
  taken = 0;

  /**
   * `tsPath`: the TypeScript module the lint's parser runs on; `captureUrl`: `@gradflow/rules/capture`
   * of the config's plugin; `openTexts`: the unsaved texts the lint's provider holds now. The thread
   * starts with the first long text (a workspace of short files never loads a second TypeScript),
   * and is given those texts first.
   */
  constructor(
    private readonly tsPath: string,
    private readonly captureUrl: string,
    private readonly openTexts: () => Iterable<readonly [string, string]>,
  ) {}

  private start(): { worker: Worker; port: MessagePort } {
    if (this.started !== undefined) return this.started;
    const { port1, port2 } = new MessageChannel();
    const worker = new Worker(new URL('./analysis-thread.js', import.meta.url), {
      workerData: { tsPath: this.tsPath, captureUrl: this.captureUrl, signal: this.shared.buffer, port: port2 },
      transferList: [port2],
    });
    worker.unref();
    port1.unref();
    const stop = () => {
      this.dead = true;
    };
    worker.on('error', stop);
    worker.on('exit', stop);
    threads.add(this);
    this.started = { worker, port: port1 };
    for (const [filePath, text] of this.openTexts()) this.post({ kind: 'text', filePath, text });
    return this.started;
  }

  /** Every text the lint's program provider is given: the thread's provider gets it too. */
  mirror(filePath: string, text: string): void {
    if (this.job?.filePath === path.resolve(filePath) && this.job.text === text) return; // the job carries it
    this.post({ kind: 'text', filePath, text });
  }

  close(filePath: string): void {
    this.post({ kind: 'close', filePath });
  }

  invalidate(): void {
    this.post({ kind: 'invalidate' });
  }

  /** Runs `lint` (ESLint's lint of `text` as `filePath`) with the thread analysing the same text meanwhile. */
  async during<T>(filePath: string, text: string, lint: () => Promise<T>): Promise<T> {
    if (this.dead) return lint();
    this.start();
    const job: Job = { id: this.nextId++, filePath: path.resolve(filePath), text: text.replace(/^\uFEFF/, ''), reply: undefined };
    this.job = job;
    this.post({ kind: 'reports', id: job.id, filePath: job.filePath, text: job.text });
    try {
      return await lint();
    } finally {
      if (this.job === job) this.job = undefined;
      // Not asked (ESLint stopped before the rules: a syntax error), or asked and answered: either way
      // the thread need not go on with it, and the next lint's job need not wait behind it.
      Atomics.store(this.shared, 1, job.id);
    }
  }

  /** Before the thread starts there is nobody to tell: it is given the open texts when it starts. */
  private post(request: ThreadRequest): void {
    if (!this.dead) this.started?.port.postMessage(request);
  }

  /** The reports of `rule` if this thread's current job is `filename` with exactly `text`, analysed by the rules at `rulesUrl`. */
  take(filename: string, text: string, rule: string, rulesUrl: string): unknown[] | undefined {
    const job = this.job;
    if (job === undefined || path.resolve(filename) !== job.filePath || text !== job.text) return undefined;
    job.reply ??= this.wait(job.id);
    if ('failed' in job.reply || job.reply.rulesUrl !== rulesUrl) return undefined;
    const reports = job.reply.reports[rule];
    if (reports !== undefined) this.taken += 1;
    return reports;
  }

  /** Blocks until the thread's reply to job `id` (or failure, or `WAIT_MS`). */
  private wait(id: number): ThreadReply {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      // Read the counter before looking at the port: a reply posted after the look bumps it, and the wait returns at once.
      const seen = Atomics.load(this.shared, 0);
      const port = this.start().port;
      for (let message = receiveMessageOnPort(port); message !== undefined; message = receiveMessageOnPort(port)) {
        const reply = message.message as ThreadReply;
        if (reply.id === id) return reply;
      }
      const left = deadline - Date.now();
      if (this.dead || left <= 0) return { id, failed: this.dead ? 'the analysis thread ended' : 'timed out' };
      Atomics.wait(this.shared, 0, seen, Math.min(left, 1_000));
    }
  }
}
