// The gradflow language server: vscode-languageserver's sample shape (a connection, a document
// manager, validate on change) with each feature in its own module.
import { fileURLToPath } from 'node:url';
import {
  CodeActionKind,
  LSPErrorCodes,
  ProposedFeatures,
  ResponseError,
  TextDocumentSyncKind,
  TextDocuments,
  createConnection,
  type ClientCapabilities,
  type Connection,
  type InitializeResult,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { FIX_ALL_KIND, SHOW_DOCUMENTATION_COMMAND, fixAllAction, quickFixes, wantsFixAll } from './code-actions.js';
import { FileWatching } from './file-watching.js';
import { hoverAt } from './hover.js';
import { LintRunner } from './lint-runner.js';
import { Validator, isLintable } from './validator.js';

export interface ServerOptions {
  /**
   * A change made while a lint of its document is pending or running waits until the typing pauses
   * for this long (an isolated change is linted at once); `initializationOptions.debounceMs` overrides it.
   */
  debounceMs?: number;
}

const DEFAULT_DEBOUNCE_MS = 50;

export function startServer(connection: Connection = createConnection(ProposedFeatures.all), options: ServerOptions = {}): void {
  const documents = new TextDocuments(TextDocument);
  const runner = new LintRunner();
  let capabilities: ClientCapabilities = {};
  let pullDiagnostics = false;
  let validator: Validator | undefined;

  const log = (message: string) => {
    connection.console.error(message);
  };
  const editOptions = () => ({ documentChanges: capabilities.workspace?.workspaceEdit?.documentChanges === true });
  const requireValidator = (): Validator => {
    if (validator === undefined) throw new ResponseError(-32002, 'The server is not initialized');
    return validator;
  };

  const fileWatching = new FileWatching(connection, (changed) => {
    void onFilesChanged(changed);
  });

  async function onFilesChanged(changed: string[]): Promise<void> {
    const open = new Set(documents.all().map((document) => fileURLToPath(document.uri)));
    // Open files are linted from their editor text; only disk changes the parser cannot see need a reset.
    if (changed.some((filePath) => !open.has(filePath))) await runner.invalidate();
    relintAll();
  }

  function relintAll(): void {
    if (validator === undefined) return;
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
    const init = (params.initializationOptions ?? {}) as { debounceMs?: unknown };
    const debounceMs = typeof init.debounceMs === 'number' ? init.debounceMs : (options.debounceMs ?? DEFAULT_DEBOUNCE_MS);
    validator = new Validator(runner, documents, {
      debounceMs,
      relatedInformationSupported: capabilities.textDocument?.publishDiagnostics?.relatedInformation === true,
      log,
      onResult: (lint) => {
        if (!pullDiagnostics) {
          void connection.sendDiagnostics({ uri: lint.uri, version: lint.version, diagnostics: lint.diagnostics });
        }
      },
    });
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental, save: { includeText: false } },
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
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

  documents.onDidOpen(({ document }) => {
    fileWatching.watchAround(document.uri);
  });
  // Fires on open too (after onDidOpen), so an opened document is linted as soon as it settles.
  documents.onDidChangeContent(({ document }) => {
    if (!pullDiagnostics) requireValidator().schedule(document.uri);
  });
  documents.onDidSave(({ document }) => {
    // Files that import the saved one may now type-check differently.
    const v = requireValidator();
    for (const other of documents.all()) {
      if (other.uri === document.uri) continue;
      v.invalidate(other.uri);
      if (!pullDiagnostics) v.schedule(other.uri);
    }
  });
  documents.onDidClose(({ document }) => {
    requireValidator().forget(document.uri);
    if (!pullDiagnostics) void connection.sendDiagnostics({ uri: document.uri, diagnostics: [] });
  });

  connection.languages.diagnostics.on(async (params, token) => {
    const uri = params.textDocument.uri;
    if (documents.get(uri) === undefined || !isLintable(uri)) return { kind: 'full', items: [] };
    const cancelled = () => token.isCancellationRequested;
    const lint = await requireValidator().current(uri, cancelled);
    if (cancelled() || lint === undefined) {
      throw new ResponseError(LSPErrorCodes.ServerCancelled, 'The document changed', { retriggerRequest: true });
    }
    const resultId = String(lint.generation);
    if (params.previousResultId === resultId) return { kind: 'unchanged', resultId };
    return { kind: 'full', resultId, items: lint.diagnostics };
  });

  connection.onCodeAction(async (params, token) => {
    // A function, not the property: the request can be cancelled while this handler awaits.
    const cancelled = () => token.isCancellationRequested;
    const lint = await requireValidator().current(params.textDocument.uri, cancelled);
    if (lint === undefined || cancelled()) return [];
    const actions = quickFixes(lint, params, editOptions());
    if (wantsFixAll(params, lint)) {
      const fixed = await runner.fixAll(fileURLToPath(lint.uri), lint.document.getText());
      if (fixed !== undefined && !cancelled()) actions.push(fixAllAction(lint, fixed, editOptions()));
    }
    return actions;
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
      connection.window.showInformationMessage(`Documentation: ${href}`);
    }
    return null;
  });

  connection.onHover(async (params, token) => {
    const cancelled = () => token.isCancellationRequested;
    const lint = await requireValidator().current(params.textDocument.uri, cancelled);
    if (lint === undefined || cancelled()) return null;
    return hoverAt(lint, params.position);
  });

  connection.onShutdown(() => {
    fileWatching.dispose();
  });

  documents.listen(connection);
  connection.listen();
}
