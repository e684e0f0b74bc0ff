// The set-up most server tests share: a scratch copy of the fixture workspace (with the test's own
// files), the real server started and initialized before the tests, and both removed after them.
import { afterAll, beforeAll } from 'vitest';
import type { ClientCapabilities, InitializeResult } from 'vscode-languageserver-protocol';
import { PUSH_CAPABILITIES, STARTUP_TIMEOUT_MS, initialize, startServer, type ServerHandle } from './lsp-client.js';
import { scratchWorkspace, type ScratchWorkspace } from './scratch-workspace.js';

export interface SessionOptions {
  capabilities?: ClientCapabilities;
  initializationOptions?: unknown;
  /** Written into the scratch workspace (name → text) before the server starts. */
  files?: Record<string, string>;
  /**
   * With `didChangeWatchedFiles.dynamicRegistration` in the capabilities: wait until the server
   * has registered its watchers, so that it watches no folder of its own.
   */
  awaitWatcherRegistration?: boolean;
  /** Added to the server's environment. */
  env?: NodeJS.ProcessEnv;
  /** Runs after the server is initialized, still inside `beforeAll` (e.g. opens the documents). */
  ready?: (session: Session) => Promise<void> | void;
}

export interface Session {
  readonly server: ServerHandle;
  readonly scratch: ScratchWorkspace;
  readonly initResult: InitializeResult;
  /** Runs after the server stopped and the scratch workspace is gone, even when a test failed. */
  cleanup: (cleanup: () => void) => void;
}

/** Call inside `describe`: the tests of the block share one server over one scratch workspace. */
export function useServer(options: SessionOptions = {}): Session {
  let server: ServerHandle | undefined;
  let scratch: ScratchWorkspace | undefined;
  let initResult: InitializeResult | undefined;
  const cleanups: (() => void)[] = [];
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not set up yet (use it inside a test or a hook)`);
    return value;
  };
  const session: Session = {
    get server() {
      return need(server, 'the server');
    },
    get scratch() {
      return need(scratch, 'the scratch workspace');
    },
    get initResult() {
      return need(initResult, 'the initialize result');
    },
    cleanup: (cleanup) => {
      cleanups.push(cleanup);
    },
  };

  beforeAll(async () => {
    scratch = scratchWorkspace();
    for (const [name, text] of Object.entries(options.files ?? {})) scratch.write(name, text);
    const started = startServer([], { ...process.env, ...options.env });
    server = started;
    const registered = new Promise<void>((resolve) => {
      started.connection.onRequest('client/registerCapability', () => {
        resolve();
        return null;
      });
    });
    initResult = (await initialize(
      started,
      options.capabilities ?? PUSH_CAPABILITIES,
      options.initializationOptions ?? {},
    )) as InitializeResult;
    if (options.awaitWatcherRegistration === true) await registered;
    await options.ready?.(session);
  }, STARTUP_TIMEOUT_MS);

  afterAll(async () => {
    await server?.stop();
    scratch?.remove();
    for (const cleanup of cleanups) cleanup();
  });

  return session;
}
