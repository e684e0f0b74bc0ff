// The gradflow language server: vscode-languageserver's sample shape (a connection, a document
// manager, validate on change) with each feature in its own module. This thread only speaks LSP:
// ESLint, the workspaces' configs and the TypeScript programs live in lint workers (lint-host.ts),
// so a config that hangs, exits or prints cannot take the connection down, and hovers and code
// actions answer from the last results within a deadline instead of waiting behind a lint.
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  LSPErrorCodes,
  MessageType,
  ProposedFeatures,
  ResponseError,
  ShowMessageNotification,
  TextDocumentSyncKind,
  createConnection,
  type ClientCapabilities,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { SHOW_DOCUMENTATION_COMMAND, quickFixes } from './code-actions.js';
import { DocumentStore } from './documents.js';
import { FileWatching } from './file-watching.js';
import { importsFile } from './imports.js';
import { isLintable } from './files.js';
import { DEFAULT_CONFIG_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_LINT_TIMEOUT_MS, LintHost, describeWorkspace } from './lint-host.js';
import { Validator } from './validator.js';

export interface ServerOptions {
  /**
   * A change made while a lint of its document is pending or running waits until the typing pauses
   * for this long (an isolated change is linted at once); `initializationOptions.debounceMs` overrides it.
   */
  debounceMs?: number;
  /** Time allowed to load a workspace's ESLint config before its worker is ended; `initializationOptions.configTimeoutMs`. */
  configTimeoutMs?: number;
  /** Time allowed for one lint before its worker is ended; `initializationOptions.lintTimeoutMs`. */
  lintTimeoutMs?: number;
  /**
   * How long a hover or a code action waits for the document's lint and for its worker's answer
   * before it answers without them; `initializationOptions.requestDeadlineMs`.
   */
  requestDeadlineMs?: number;
  /** A workspace's lint worker with no request for this long is stopped; `initializationOptions.idleTimeoutMs`. */
  idleTimeoutMs?: number;
}

const DEFAULT_DEBOUNCE_MS = 50;
const DEFAULT_REQUEST_DEADLINE_MS = 1_000;

/** A non-negative number from `initializationOptions`, else the fallback. */
function numberOption(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

export function startServer(connection: Connection = createConnection(ProposedFeatures.all), options: ServerOptions = {}): void {
  let capabilities: ClientCapabilities = {};
  let pullDiagnostics = false;
  let initialized = false;
  let requestDeadlineMs = options.requestDeadlineMs ?? DEFAULT_REQUEST_DEADLINE_MS;

  const log = (message: string) => {
    connection.console.error(message);
  };
  const documents = new DocumentStore(log);
  const host = new LintHost({
    configTimeoutMs: options.configTimeoutMs ?? DEFAULT_CONFIG_TIMEOUT_MS,
    lintTimeoutMs: options.lintTimeoutMs ?? DEFAULT_LINT_TIMEOUT_MS,
    idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    log,
    onFailure: (workspace, reason) => {
      // Once per workspace and reason: the files' diagnostics repeat it where it matters.
      log(`${describeWorkspace(workspace)}: ${reason}`);
      // A notification (`window/showMessage`), not `showErrorMessage`'s request, which a client may not answer.
      void connection.sendNotification(ShowMessageNotification.type, {
        type: MessageType.Error,
        message: `gradflow could not lint with ${describeWorkspace(workspace)}: ${reason}`,
      });
    },
  });
  // Documents may be opened before `initialize` (a client bug, but a common one): they wait for it.
  const validator = new Validator(host, documents, {
    debounceMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
    relatedInformationSupported: false,
    log,
    onResult: (lint) => {
      if (!pullDiagnostics) {
        void connection.sendDiagnostics({ uri: lint.uri, version: lint.version, diagnostics: lint.diagnostics });
      }
      relintDependents(lint.uri, lint.version);
    },
  });
  /** The version of each document whose lint last sent its importers to be linted again. */
  const dependentsSentAt = new Map<string, number>();
  /**
   * The rules read helpers and model classes across files: once a file is linted at a new version
   * (its lint hands its unsaved text to the TypeScript project the workspace's worker keeps), the
   * open files that import it are linted again, so theirs sees it. Once per version, so files that
   * import each other settle.
   */
  function relintDependents(uri: string, version: number): void {
    if (!initialized || dependentsSentAt.get(uri) === version) return;
    dependentsSentAt.set(uri, version);
    const dependents = documents.all().filter((other) => other.uri !== uri && importsFile(other.getText(), other.uri, uri));
    if (dependents.length === 0) return;
    if (pullDiagnostics) {
      if (capabilities.workspace?.diagnostics?.refreshSupport === true) void connection.languages.diagnostics.refresh();
      return;
    }
    for (const other of dependents) {
      validator.invalidate(other.uri);
      validator.schedule(other.uri);
    }
  }
  const editOptions = () => ({ documentChanges: capabilities.workspace?.workspaceEdit?.documentChanges === true });

  const fileWatching = new FileWatching(connection, (changed) => {
    onFilesChanged(changed);
  });

  function onFilesChanged(changed: string[]): void {
    const open = new Set(documents.all().map((document) => fileURLToPath(document.uri)));
    // Open files are linted from their editor text; only disk changes the parser cannot see need a
    // reset (the workers take it before their next lint).
    if (changed.some((filePath) => !open.has(filePath))) host.invalidate();
    relintAll();
  }

  function relintAll(): void {
    if (!initialized) return;
    // A disk change resets the workers' projects, which forget the editors' unsaved texts until
    // those files are linted again: each file's next lint sends its importers round once more.
    dependentsSentAt.clear();
    validator.invalidateAll();
    if (pullDiagnostics) {
      if (capabilities.workspace?.diagnostics?.refreshSupport === true) void connection.languages.diagnostics.refresh();
    } else {
      validator.scheduleAll();
    }
  }

  connection.onInitialize((params): InitializeResult => {
    capabilities = params.capabilities;
    pullDiagnostics = capabilities.textDocument?.diagnostic !== undefined;
    const init = (params.initializationOptions ?? {}) as Record<string, unknown>;
    validator.configure({
      debounceMs: numberOption(init.debounceMs, options.debounceMs ?? DEFAULT_DEBOUNCE_MS),
      relatedInformationSupported: capabilities.textDocument?.publishDiagnostics?.relatedInformation === true,
    });
    host.configure({
      configTimeoutMs: numberOption(init.configTimeoutMs, options.configTimeoutMs ?? DEFAULT_CONFIG_TIMEOUT_MS),
      lintTimeoutMs: numberOption(init.lintTimeoutMs, options.lintTimeoutMs ?? DEFAULT_LINT_TIMEOUT_MS),
      idleTimeoutMs: numberOption(init.idleTimeoutMs, options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS),
    });
    requestDeadlineMs = numberOption(init.requestDeadlineMs, requestDeadlineMs);
    initialized = true;
    // Documents opened before `initialize`; their diagnostics are sent after this response.
    if (!pullDiagnostics)
      setImmediate(() => {
        validator.scheduleAll();
      });
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        executeCommandProvider: { commands: [SHOW_DOCUMENTATION_COMMAND] },
        hoverProvider: true,
        ...(pullDiagnostics
          ? { diagnosticProvider: { identifier: 'gradflow', interFileDependencies: true, workspaceDiagnostics: false } }
          : {}),
      },
      serverInfo: { name: 'gradflow-language-server', version: '0.1.0' },
    };
  });

  connection.onInitialized(() => {
    if (capabilities.workspace?.didChangeWatchedFiles?.dynamicRegistration === true) {
      fileWatching.useClientWatchers().catch((error: unknown) => {
        log(`could not register file watchers: ${String(error)}`);
      });
    }
  });

  documents.onDidOpen((document) => {
    fileWatching.watchAround(document.uri);
  });
  // Fires on open too (after onDidOpen), so an opened document is linted as soon as it settles.
  documents.onDidChangeContent((document) => {
    if (initialized && !pullDiagnostics) validator.schedule(document.uri);
  });
  documents.onDidSave((document) => {
    // Files that import the saved one may now type-check differently.
    for (const other of documents.all()) {
      if (other.uri === document.uri) continue;
      validator.invalidate(other.uri);
      if (initialized && !pullDiagnostics) validator.schedule(other.uri);
    }
  });
  documents.onDidClose((document) => {
    validator.forget(document.uri);
    dependentsSentAt.delete(document.uri);
    if (initialized && !pullDiagnostics) void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  connection.languages.diagnostics.on(async (params, token) => {
    const uri = params.textDocument.uri;
    if (documents.get(uri) === undefined || !isLintable(uri)) return { kind: 'full', items: [] };
    const lint = await validator.current(uri, token);
    if (token.isCancellationRequested || lint === undefined) {
      throw new ResponseError(LSPErrorCodes.ServerCancelled, 'The document changed', { retriggerRequest: true });
    }
    const resultId = String(lint.generation);
    if (params.previousResultId === resultId) return { kind: 'unchanged', resultId };
    return { kind: 'full', resultId, items: lint.diagnostics };
  });

  connection.onCodeAction(async (params, token) => {
    // Never behind a lint for long: without the current version's lint by the deadline, no actions.
    // A function, not the property: the request can be cancelled while this handler awaits.
    const cancelled = () => token.isCancellationRequested;
    const lint = await validator.current(params.textDocument.uri, token, requestDeadlineMs, true);
    if (lint === undefined || cancelled()) return [];
    return quickFixes(lint, params, editOptions());
  });

  connection.onExecuteCommand(async (params) => {
    if (params.command !== SHOW_DOCUMENTATION_COMMAND) {
      throw new ResponseError(-32601, `Unknown command ${params.command}`);
    }
    const [href] = (params.arguments ?? []) as unknown[];
    if (typeof href !== 'string') throw new ResponseError(-32602, 'Expected the documentation URL as argument');
    if (capabilities.window?.showDocument?.support === true) {
      await connection.window.showDocument({ uri: href, external: true });
    } else {
      void connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Info, message: `Documentation: ${href}` });
    }
    return null;
  });

  connection.onHover(async (params, token) => {
    const cancelled = () => token.isCancellationRequested;
    const uri = params.textDocument.uri;
    const document = documents.get(uri);
    if (document === undefined || !isLintable(uri)) return null;
    const deadline = Date.now() + requestDeadlineMs;
    // First the workspace's hover worker, which no lint holds up: it reads the current text.
    const quick = await host.hoverText(fileURLToPath(uri), document.getText(), document.offsetAt(params.position), requestDeadlineMs);
    if (cancelled()) return null;
    if (quick !== undefined && 'markdown' in quick)
      return quick.markdown === null ? null : { contents: { kind: 'markdown', value: quick.markdown } };
    // Else the program of the lint, in the lint worker, which answers between lints: wait at most the
    // deadline for the lint of the current text, then for the worker, then answer null.
    for (let attempt = 0; attempt < 2; attempt++) {
      const lint = await validator.current(uri, token, deadline - Date.now(), attempt === 0);
      if (lint?.outcome === undefined || cancelled()) return null;
      const offset = lint.document.offsetAt(params.position);
      const answer = await host.hover(fileURLToPath(lint.uri), lint.version, offset, deadline - Date.now());
      if (answer === undefined || cancelled()) return null;
      if ('markdown' in answer) return answer.markdown === null ? null : { contents: { kind: 'markdown', value: answer.markdown } };
      // The worker was stopped (idle) and started again since that lint: lint the file again, once.
      validator.invalidate(uri);
    }
    return null;
  });

  // For tests and troubleshooting: how much linting the server has done.
  connection.onRequest('gradflow/stats', () => ({
    lints: validator.lintsStarted,
    serverProgramLints: validator.serverProgramLints,
    reusedStatements: validator.reusedStatements,
    precomputedRules: validator.precomputedRules,
    workers: host.liveWorkers,
    workerStarts: host.workerStarts,
    hoverWorkers: host.liveHoverWorkers,
    hoverWorkerStarts: host.hoverWorkerStarts,
  }));

  connection.onShutdown(() => {
    fileWatching.dispose();
    host.dispose();
  });

  documents.listen(connection);
  connection.listen();
}
