// The server's side of linting: one lint worker process (lint-worker.ts) per workspace — per ESLint
// config; the files without one share a worker — so that a workspace's config or plugins can never
// block, kill or write into the process that speaks LSP (a child process, not a thread: threads
// share the process's file descriptor 1, which is the protocol stream). A worker that hangs is
// killed after a time limit, a worker that ends is noticed, and either way the lints waiting on it
// fail with a reason that the editor is told once; other workspaces keep their own workers and are
// not affected. A worker with nothing to do for `idleTimeoutMs`, or whose workspace has no open
// document left, is stopped (its memory goes back to the system) and started again when needed.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DEFAULT_WORKSPACE, workspaceOf } from './files.js';
import { ROLE_ENV, WORKSPACE_ENV, type HoverAnswer, type LintReport, type WorkerReply, type WorkerRequest } from './worker-protocol.js';

export const DEFAULT_CONFIG_TIMEOUT_MS = 30_000;
export const DEFAULT_LINT_TIMEOUT_MS = 60_000;
/** A worker that answered nothing for this long is stopped (`initializationOptions.idleTimeoutMs`). */
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;
/** The lints allocate much short-lived memory: see bin.ts on the young generation's size. */
const WORKER_HEAP_FLAGS = ['--max-semi-space-size=32'];
/** Ends of a worker in a row, with no lint finished between them, after which its workspace counts as broken. */
const MAX_CRASHES = 3;

export interface LintHostOptions {
  /** Time allowed to load (import) a workspace's ESLint config, from the moment its lint was sent. */
  configTimeoutMs: number;
  /** Time allowed for one lint once the config is loaded. */
  lintTimeoutMs: number;
  /** A worker with no request for this long is stopped; the next request starts it again. */
  idleTimeoutMs: number;
  log: (message: string) => void;
  /** A workspace's lints fail, for this reason: called once per workspace and reason until `invalidate`. */
  onFailure: (workspace: string, reason: string) => void;
}

/** A lint that could not run: its message says why (shown as the file's diagnostic). */
export class LintFailure extends Error {}

type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

type Pending =
  | {
      kind: 'lint';
      filePath: string;
      phase: 'config' | 'lint';
      timer: NodeJS.Timeout | undefined;
      resolve: (report: LintReport | undefined) => void;
      reject: (error: Error) => void;
    }
  /** Hovers, resets: answered `undefined` at their deadline or when the worker goes. */
  | { kind: 'query'; timer: NodeJS.Timeout | undefined; resolve: (value: unknown) => void };

const seconds = (ms: number) => `${String(Math.round(ms / 100) / 10)} s`;

export function describeWorkspace(workspace: string): string {
  return workspace === DEFAULT_WORKSPACE ? "gradflow's default config" : workspace;
}

class WorkspaceWorker {
  private worker: ChildProcess | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Why the workspace cannot be linted (its config hung, failed to load, or ended the worker), until `reset`. */
  private failure: string | undefined;
  private crashes = 0;
  private lastError: string | undefined;
  /** The files linted here and not closed since. */
  private readonly files = new Set<string>();
  private idleTimer: NodeJS.Timeout | undefined;
  /** Workers started, for `gradflow/stats`. */
  starts = 0;

  constructor(
    readonly workspace: string,
    private readonly options: () => LintHostOptions,
    /** `hover`: the worker answers hovers from its own program (hover-service.ts) and lints nothing. */
    readonly role: 'lint' | 'hover' = 'lint',
  ) {}

  get alive(): boolean {
    return this.worker !== undefined;
  }

  /** As `query`, starting the worker when it is not running. */
  queryStarting<T>(request: Request, deadlineMs: number): Promise<T | undefined> {
    if (this.failure !== undefined) return Promise.resolve(undefined);
    this.start();
    return this.query(request, deadlineMs);
  }

  lint(filePath: string, text: string, version: number): Promise<LintReport | undefined> {
    if (this.failure !== undefined) return Promise.reject(new LintFailure(this.failure));
    this.files.add(filePath);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const entry: Pending = { kind: 'lint', filePath, phase: 'config', timer: undefined, resolve, reject };
      entry.timer = setTimeout(() => {
        this.timedOut(entry);
      }, this.options().configTimeoutMs);
      this.pending.set(id, entry);
      try {
        this.post({ id, kind: 'lint', filePath, text, version });
      } catch (error) {
        // The worker could not even start.
        this.pending.delete(id);
        clearTimeout(entry.timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Asks a running worker; resolves undefined after `deadlineMs` or when there is no worker to ask. */
  query<T>(request: Request, deadlineMs: number): Promise<T | undefined> {
    if (this.failure !== undefined || this.worker === undefined) return Promise.resolve(undefined);
    if ('filePath' in request && request.kind !== 'forget') this.files.add(request.filePath);
    return new Promise((resolve) => {
      const id = this.nextId++;
      const entry: Pending = { kind: 'query', timer: undefined, resolve: resolve as (value: unknown) => void };
      if (Number.isFinite(deadlineMs)) {
        entry.timer = setTimeout(
          () => {
            this.pending.delete(id);
            resolve(undefined); // the worker is busy (a lint): answer without it; its late reply is dropped
            this.armIdleTimer();
          },
          Math.max(deadlineMs, 0),
        );
      }
      this.pending.set(id, entry);
      this.post({ ...request, id });
    });
  }

  /** The document was closed: its program is dropped, and a workspace with no open file left stops its worker. */
  forget(filePath: string): void {
    this.files.delete(filePath);
    if (this.worker === undefined) return;
    if (this.files.size === 0) {
      // What still runs there is for closed files: nobody waits for it.
      this.stop('no open file', false, true);
      return;
    }
    void this.query({ kind: 'forget', filePath }, Number.POSITIVE_INFINITY);
  }

  /** Forget a failure (the config or its dependencies changed on disk): the next lint starts afresh. */
  reset(): void {
    this.failure = undefined;
    this.crashes = 0;
    if (this.worker !== undefined) void this.query({ kind: 'invalidate' }, Number.POSITIVE_INFINITY);
  }

  dispose(): void {
    this.stop('the server is shutting down', false, true);
  }

  private post(request: WorkerRequest): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    // A send to a worker that has just ended is dropped: its 'exit' fails what waits on it.
    this.start().send(request, undefined, {}, () => undefined);
  }

  private start(): ChildProcess {
    if (this.worker !== undefined) return this.worker;
    const inspecting = (arg: string) => arg.startsWith('--inspect') || arg.startsWith('--debug');
    const execArgv = process.execArgv.filter((arg) => !inspecting(arg));
    for (const flag of WORKER_HEAP_FLAGS) {
      const name = flag.split('=')[0] ?? flag;
      if (!execArgv.some((arg) => arg.startsWith(name))) execArgv.push(flag);
    }
    // stdin closed; stdout and stderr pipes to here: what the workspace's code prints is logged, and
    // never reaches this process's stdout (the protocol stream).
    const worker = fork(fileURLToPath(new URL('./lint-worker.js', import.meta.url)), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'advanced',
      execArgv,
      env: { ...process.env, [WORKSPACE_ENV]: this.workspace, [ROLE_ENV]: this.role },
    });
    this.starts += 1;
    this.lastError = undefined;
    const label = `[${describeWorkspace(this.workspace)}${this.role === 'hover' ? ', hovers' : ''}]`;
    worker.stdout?.setEncoding('utf8');
    worker.stdout?.on('data', (chunk: string) => {
      this.options().log(`${label} stdout: ${chunk.trimEnd()}`);
    });
    worker.stderr?.setEncoding('utf8');
    worker.stderr?.on('data', (chunk: string) => {
      const text = chunk.trimEnd();
      this.options().log(`${label} stderr: ${text}`);
      // An uncaught error's message is the first line of what Node prints for it.
      const errorLine = text.split('\n').find((line) => /^\w*Error\b/.test(line));
      if (errorLine !== undefined) this.lastError = errorLine.trim();
    });
    worker.on('message', (reply: WorkerReply) => {
      if (this.worker === worker) this.received(reply);
    });
    worker.on('error', (error) => {
      this.lastError = error.message;
    });
    worker.on('exit', (code, signal) => {
      if (this.worker === worker) this.exited(code ?? signal ?? 'unknown');
    });
    // The server exits when its editor goes, whatever its workers do.
    worker.unref();
    worker.channel?.unref();
    (worker.stdout as { unref?: () => void } | null)?.unref?.();
    (worker.stderr as { unref?: () => void } | null)?.unref?.();
    this.worker = worker;
    return worker;
  }

  private received(reply: WorkerReply): void {
    const entry = this.pending.get(reply.id);
    if (entry === undefined) return;
    if (reply.kind === 'configLoaded') {
      if (entry.kind !== 'lint') return;
      entry.phase = 'lint';
      clearTimeout(entry.timer);
      entry.timer = setTimeout(() => {
        this.timedOut(entry);
      }, this.options().lintTimeoutMs);
      return;
    }
    this.pending.delete(reply.id);
    clearTimeout(entry.timer);
    this.armIdleTimer();
    if (entry.kind === 'query') {
      if (reply.kind === 'failed') this.options().log(`[${describeWorkspace(this.workspace)}] ${reply.stack ?? reply.message}`);
      entry.resolve(reply.kind === 'done' ? (reply.value ?? undefined) : undefined);
      return;
    }
    if (reply.kind === 'done') {
      this.crashes = 0;
      entry.resolve((reply.value ?? undefined) as LintReport | undefined);
    } else {
      // The config threw or the parser could not set up: this lint fails, the next one tries again.
      this.options().onFailure(this.workspace, reply.message);
      const error = new Error(reply.message);
      if (reply.stack !== undefined) error.stack = reply.stack;
      entry.reject(error);
    }
  }

  /** Once nothing waits on the worker: stop it after `idleTimeoutMs` without a request. */
  private armIdleTimer(): void {
    if (this.pending.size > 0 || this.worker === undefined) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.pending.size === 0) this.stop('idle', false, true);
    }, this.options().idleTimeoutMs);
    this.idleTimer.unref();
  }

  private timedOut(entry: Pending & { kind: 'lint' }): void {
    const { configTimeoutMs, lintTimeoutMs } = this.options();
    if (entry.phase === 'config') {
      this.stop(`loading ${describeWorkspace(this.workspace)} did not finish within ${seconds(configTimeoutMs)}`, true);
    } else {
      this.stop(`linting ${entry.filePath} did not finish within ${seconds(lintTimeoutMs)}`, false);
    }
  }

  private exited(code: number | string): void {
    this.worker = undefined;
    clearTimeout(this.idleTimer);
    const lint = [...this.pending.values()].find((entry) => entry.kind === 'lint');
    const loading = lint?.phase === 'config';
    const during = loading
      ? ` while loading ${describeWorkspace(this.workspace)}`
      : lint !== undefined
        ? ` while linting ${lint.filePath}`
        : '';
    const why = this.lastError !== undefined ? `: ${this.lastError}` : '';
    this.crashes += 1;
    const broken = loading || this.crashes >= MAX_CRASHES;
    this.fail(`the lint worker ended (exit code ${String(code)})${during}${why}`, broken);
  }

  /** Ends the worker (a hang, idleness, or shutdown) and fails what waits on it; `quietly`: nothing is reported. */
  private stop(reason: string, broken = false, quietly = false): void {
    const worker = this.worker;
    this.worker = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (worker !== undefined) {
      worker.kill('SIGKILL');
      if (quietly) this.options().log(`[${describeWorkspace(this.workspace)}] lint worker stopped: ${reason}`);
    }
    if (!quietly) {
      this.fail(reason, broken);
      return;
    }
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const entry of waiting) {
      clearTimeout(entry.timer);
      if (entry.kind === 'lint') entry.reject(new LintFailure(`the lint worker was stopped: ${reason}`));
      else entry.resolve(undefined);
    }
  }

  private fail(reason: string, broken: boolean): void {
    if (broken) this.failure = reason;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const entry of waiting) {
      clearTimeout(entry.timer);
      if (entry.kind === 'lint') entry.reject(new LintFailure(reason));
      else entry.resolve(undefined);
    }
    this.options().onFailure(this.workspace, broken ? `${reason}; its files are not linted until it changes` : reason);
  }
}

export class LintHost {
  private readonly workers = new Map<string, WorkspaceWorker>();
  private readonly hoverWorkers = new Map<string, WorkspaceWorker>();
  /** Workspaces whose running hover worker has built its first program. */
  private readonly hoversReady = new Set<string>();
  private readonly reported = new Set<string>();
  private options: LintHostOptions;

  constructor(options: Partial<LintHostOptions> = {}) {
    this.options = {
      configTimeoutMs: DEFAULT_CONFIG_TIMEOUT_MS,
      lintTimeoutMs: DEFAULT_LINT_TIMEOUT_MS,
      idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
      log: () => undefined,
      onFailure: () => undefined,
      ...options,
    };
    // Whichever way the server ends (but SIGKILL, which each worker's watchdog notices), its workers end with it.
    process.once('exit', () => {
      this.dispose();
    });
  }

  configure(options: Partial<LintHostOptions>): void {
    this.options = { ...this.options, ...options };
  }

  /** Which worker lints the file. */
  workspaceOf(filePath: string): string {
    return workspaceOf(filePath);
  }

  /** Lints `text` as the content of `filePath` (version `version`) in its workspace's worker. */
  async lint(filePath: string, text: string, version: number): Promise<LintReport | undefined> {
    const workspace = this.workspaceOf(filePath);
    const report = await this.workerFor(workspace).lint(filePath, text, version);
    // The workspace lints: its hover worker gets ready (program and analysis) ahead of the first hover.
    const hovers = this.hoverWorkerFor(workspace);
    if (!hovers.alive) {
      this.hoversReady.delete(workspace);
      void hovers.queryStarting({ kind: 'prepare', filePath, text }, Number.POSITIVE_INFINITY).then(() => {
        if (hovers.alive) this.hoversReady.add(workspace);
      });
    }
    return report;
  }

  /**
   * What to show at `offset` of `text`, the document's current text, from the workspace's hover
   * worker, which no lint holds up: undefined when it cannot say by `deadlineMs` or is not running
   * yet, `missing` when it cannot tell for this file (no tsconfig includes it).
   */
  hoverText(filePath: string, text: string, offset: number, deadlineMs: number): Promise<HoverAnswer | undefined> {
    const workspace = this.workspaceOf(filePath);
    const hovers = this.hoverWorkers.get(workspace);
    // Until its first program is built (seconds), the lint worker answers.
    if (hovers?.alive !== true || !this.hoversReady.has(workspace)) return Promise.resolve(undefined);
    return hovers.query<HoverAnswer>({ kind: 'hoverText', filePath, text, offset }, deadlineMs);
  }

  /**
   * What to show at `offset` from the program of the file's lint at `version`: undefined when the
   * worker cannot say by `deadlineMs`, `missing` when it has no program for that version (it was
   * stopped and started again since: the file must be linted again).
   */
  async hover(filePath: string, version: number, offset: number, deadlineMs: number): Promise<HoverAnswer | undefined> {
    const worker = this.workers.get(this.workspaceOf(filePath));
    if (worker !== undefined && !worker.alive) return { missing: true };
    return worker?.query<HoverAnswer>({ kind: 'hover', filePath, version, offset }, deadlineMs);
  }

  /** The document was closed: its worker drops the program kept for hovers (and stops when no file of its workspace is open). */
  forget(filePath: string): void {
    const workspace = this.workspaceOf(filePath);
    this.workers.get(workspace)?.forget(filePath);
    this.hoverWorkers.get(workspace)?.forget(filePath);
  }

  /** Configs or files changed on disk: every worker drops its ESLint instances and programs; broken workspaces are tried again. */
  invalidate(): void {
    this.reported.clear();
    for (const worker of [...this.workers.values(), ...this.hoverWorkers.values()]) worker.reset();
  }

  /** How many lint workers are running. */
  get liveWorkers(): number {
    return [...this.workers.values()].filter((worker) => worker.alive).length;
  }

  /** How many hover workers are running. */
  get liveHoverWorkers(): number {
    return [...this.hoverWorkers.values()].filter((worker) => worker.alive).length;
  }

  /** How many times a worker was started. */
  get workerStarts(): number {
    return [...this.workers.values()].reduce((total, worker) => total + worker.starts, 0);
  }

  /** How many times a hover worker was started. */
  get hoverWorkerStarts(): number {
    return [...this.hoverWorkers.values()].reduce((total, worker) => total + worker.starts, 0);
  }

  dispose(): void {
    for (const worker of [...this.workers.values(), ...this.hoverWorkers.values()]) worker.dispose();
    this.workers.clear();
    this.hoverWorkers.clear();
  }

  private hoverWorkerFor(workspace: string): WorkspaceWorker {
    let worker = this.hoverWorkers.get(workspace);
    if (worker === undefined) {
      // Its failures are logged, never shown: a hover falls back to the lint worker's program.
      worker = new WorkspaceWorker(
        workspace,
        () => ({
          ...this.options,
          onFailure: (ws, reason) => {
            this.options.log(`${ws} (hovers): ${reason}`);
          },
        }),
        'hover',
      );
      this.hoverWorkers.set(workspace, worker);
    }
    return worker;
  }

  private workerFor(workspace: string): WorkspaceWorker {
    let worker = this.workers.get(workspace);
    if (worker === undefined) {
      worker = new WorkspaceWorker(workspace, () => ({
        ...this.options,
        onFailure: (ws, reason) => {
          this.report(ws, reason);
        },
      }));
      this.workers.set(workspace, worker);
    }
    return worker;
  }

  private report(workspace: string, reason: string): void {
    const key = `${workspace}\n${reason}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.options.onFailure(workspace, reason);
  }
}
