// A minimal LSP client for the tests: spawns the real `gradflow-language-server --stdio` binary and
// talks to it with vscode-jsonrpc, as an editor would.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import type {
  ClientCapabilities,
  Diagnostic,
  PublishDiagnosticsParams,
  ShowMessageParams,
  TextDocumentEdit,
} from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SERVER_BIN = path.resolve(here, '../../dist/bin.js');
export const FIXTURE_DIR = path.resolve(here, '../fixtures/workspace');

/** A cold start (loading ESLint, the plugin, the TypeScript project) on a busy 2-core machine. */
export const STARTUP_TIMEOUT_MS = 120_000;

export const fixturePath = (name: string): string => path.join(FIXTURE_DIR, name);
export const fixtureUri = (name: string): string => pathToFileURL(fixturePath(name)).href;
export const fixtureText = (name: string): string => readFileSync(fixturePath(name), 'utf8');

export const PUSH_CAPABILITIES: ClientCapabilities = {
  textDocument: {
    publishDiagnostics: { relatedInformation: true, versionSupport: true },
    codeAction: { codeActionLiteralSupport: { codeActionKind: { valueSet: ['quickfix', 'source.fixAll'] } } },
    hover: { contentFormat: ['markdown', 'plaintext'] },
  },
  workspace: { workspaceEdit: { documentChanges: true } },
};

/** Push capabilities plus LSP 3.17 pull diagnostics: the server stops pushing. */
export const PULL_CAPABILITIES: ClientCapabilities = {
  ...PUSH_CAPABILITIES,
  textDocument: { ...PUSH_CAPABILITIES.textDocument, diagnostic: { dynamicRegistration: false } },
};

/** Push capabilities of a client that watches files for the server (the server then watches no folder). */
export const WATCHING_CAPABILITIES: ClientCapabilities = {
  ...PUSH_CAPABILITIES,
  workspace: { ...PUSH_CAPABILITIES.workspace, didChangeWatchedFiles: { dynamicRegistration: true } },
};

export interface ServerHandle {
  connection: MessageConnection;
  process: ChildProcessWithoutNullStreams;
  /** Every publishDiagnostics notification received, in order. */
  published: PublishDiagnosticsParams[];
  /** Every window/showMessage notification received, in order. */
  messages: ShowMessageParams[];
  /** The text of every window/logMessage notification received, in order. */
  logs: string[];
  stderr: () => string;
  /** Resolves with the first publication for `uri` (after this call) that satisfies `accept`. */
  diagnosticsFor: (
    uri: string,
    accept?: (params: PublishDiagnosticsParams) => boolean,
    timeoutMs?: number,
  ) => Promise<PublishDiagnosticsParams>;
  stop: () => Promise<void>;
}

export function startServer(extraArgs: string[] = [], env: NodeJS.ProcessEnv = process.env): ServerHandle {
  if (!existsSync(SERVER_BIN)) throw new Error(`${SERVER_BIN} is missing: run \`npx tsc -b\` first`);
  const child = spawn(process.execPath, [SERVER_BIN, '--stdio', ...extraArgs], { stdio: 'pipe', env });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const published: PublishDiagnosticsParams[] = [];
  const waiters: { uri: string; accept: (p: PublishDiagnosticsParams) => boolean; resolve: (p: PublishDiagnosticsParams) => void }[] = [];
  connection.onNotification('textDocument/publishDiagnostics', (params: PublishDiagnosticsParams) => {
    published.push(params);
    for (const waiter of [...waiters]) {
      if (waiter.uri === params.uri && waiter.accept(params)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(params);
      }
    }
  });
  // Requests the server may send; a real client answers them.
  connection.onRequest('client/registerCapability', () => null);
  connection.onRequest('workspace/diagnostic/refresh', () => null);
  connection.onRequest('window/showDocument', () => ({ success: true }));
  const logs: string[] = [];
  connection.onNotification('window/logMessage', (params: { message: string }) => {
    logs.push(params.message);
  });
  const messages: ShowMessageParams[] = [];
  connection.onNotification('window/showMessage', (params: ShowMessageParams) => {
    messages.push(params);
  });
  connection.listen();

  return {
    connection,
    process: child,
    published,
    messages,
    logs,
    stderr: () => errors,
    diagnosticsFor: (uri, accept = () => true, timeoutMs = 90_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`no matching diagnostics for ${uri} within ${String(timeoutMs)} ms; stderr: ${errors}`));
        }, timeoutMs);
        waiters.push({
          uri,
          accept,
          resolve: (params) => {
            clearTimeout(timer);
            resolve(params);
          },
        });
      }),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        try {
          await Promise.race([connection.sendRequest('shutdown'), new Promise((r) => setTimeout(r, 2000))]);
          await connection.sendNotification('exit');
        } catch {
          // the connection may already be gone
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
        // It may have exited while we waited (the narrowing above does not know that).
        if ((child.exitCode as number | null) === null) child.kill();
      }
      connection.dispose();
    },
  };
}

export async function initialize(
  server: ServerHandle,
  capabilities: ClientCapabilities = PUSH_CAPABILITIES,
  initializationOptions: unknown = {},
): Promise<unknown> {
  const result = await server.connection.sendRequest('initialize', {
    processId: process.pid,
    rootUri: pathToFileURL(FIXTURE_DIR).href,
    capabilities,
    initializationOptions,
  });
  await server.connection.sendNotification('initialized', {});
  return result;
}

export async function openDocument(server: ServerHandle, uri: string, text: string, version = 1): Promise<void> {
  await server.connection.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'typescript', version, text },
  });
}

/** Opens a document and resolves with its first published diagnostics. */
export async function openAndWait(server: ServerHandle, uri: string, text: string, timeoutMs?: number): Promise<Diagnostic[]> {
  const published = server.diagnosticsFor(uri, () => true, timeoutMs);
  await openDocument(server, uri, text);
  return (await published).diagnostics;
}

/** How many lints the server has started (`gradflow/stats`). */
export async function lintCount(server: ServerHandle): Promise<number> {
  const stats: { lints: number } = await server.connection.sendRequest('gradflow/stats');
  return stats.lints;
}

export async function replaceDocument(server: ServerHandle, uri: string, text: string, version: number): Promise<void> {
  await server.connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version },
    contentChanges: [{ text }],
  });
}

export const ruleLines = (diagnostics: Diagnostic[]): [string, number][] =>
  diagnostics.map((d) => [String(d.code), d.range.start.line] as [string, number]).sort((a, b) => a[1] - b[1]);

/** Applies a code action's edits; the server sends plain text edits only (a snippet edit fails the test). */
export function applyEdits(text: string, edits: readonly TextDocumentEdit['edits'][number][]): string {
  const plain = edits.map((edit) => {
    if (!('newText' in edit)) throw new Error('the server sent a snippet edit');
    return edit;
  });
  return TextDocument.applyEdits(TextDocument.create('file:///x.ts', 'typescript', 0, text), plain);
}
