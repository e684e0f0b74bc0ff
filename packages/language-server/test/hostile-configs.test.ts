// Workspaces whose eslint.config.mjs hangs, spins, exits the process or prints to stdout (even
// straight to file descriptor 1). Each workspace lints in its own worker process: the server reports the broken config once (a message and a
// diagnostic on the file) and goes on serving the other workspaces over an intact protocol stream.
import { mkdtempSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Diagnostic, Hover } from 'vscode-languageserver-protocol';
import {
  FIXTURE_DIR,
  fixtureText,
  initialize,
  openAndWait,
  replaceDocument,
  ruleLines,
  startServer,
  STARTUP_TIMEOUT_MS,
  type ServerHandle,
} from './support/lsp-client.js';
import { exited, processTree, until } from './support/process-tree.js';
import { useServer } from './support/session.js';

const train = fixtureText('train.ts');
const lineOf = (needle: string) => train.split('\n').findIndex((line) => line.includes(needle));
const EXPECTED = [
  ['@gradflow/no-leaf-inplace', lineOf('shift.add_(1)')],
  ['@gradflow/require-set-to-none', lineOf('optimizer.zeroGrad()')],
  ['@gradflow/no-freeze-after-optimizer', lineOf('encoder.weight.requiresGrad = false')],
];

const RECOMMENDED = "import gradflow from '@gradflow/eslint-plugin';\nexport default [gradflow.configs.recommended];\n";
const CONFIGS = {
  hangs: `${RECOMMENDED}await new Promise(() => {});\n`,
  spins: `${RECOMMENDED}for (;;) {}\n`,
  exits: `${RECOMMENDED}process.exit(3);\n`,
  // Bytes that would break the client's reading of the protocol stream if they reached it.
  prints: `${RECOMMENDED}process.stdout.write('not a header\\r\\n\\r\\n');\nconsole.log('hello from eslint.config.mjs');\n`,
  // Past process.stdout, as native code or a worker thread would write: file descriptor 1 itself.
  writesFd1: `import { writeSync } from 'node:fs';\n${RECOMMENDED}writeSync(1, 'garbage\\n');\nwriteSync(1, 'Content-Length: 5\\r\\n\\r\\n{}');\n`,
};
type Hostile = keyof typeof CONFIGS;

/** A workspace beside the fixture (so `@gradflow/*` resolve) with the given config and train.ts. */
function workspace(config: string): { uri: string; remove: () => void } {
  const dir = mkdtempSync(path.join(path.dirname(FIXTURE_DIR), 'scratch-hostile-'));
  for (const name of ['tsconfig.json', 'package.json']) copyFileSync(path.join(FIXTURE_DIR, name), path.join(dir, name));
  writeFileSync(path.join(dir, 'eslint.config.mjs'), config);
  writeFileSync(path.join(dir, 'train.ts'), train);
  return {
    uri: pathToFileURL(path.join(dir, 'train.ts')).href,
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const CONFIG_TIMEOUT_MS = 15_000;
const failure = (diagnostics: Diagnostic[]) =>
  diagnostics.map((d) => (typeof d.message === 'string' ? d.message : d.message.value)).join('\n');

describe('hostile ESLint configs', () => {
  const workspaces = new Map<Hostile, { uri: string; remove: () => void }>();
  for (const [name, config] of Object.entries(CONFIGS)) workspaces.set(name as Hostile, workspace(config));
  const uriOf = (name: Hostile) => workspaces.get(name)?.uri ?? '';
  afterAll(() => {
    for (const { remove } of workspaces.values()) remove();
  });

  let server: ServerHandle;
  let healthy: string;
  useServer({
    initializationOptions: { configTimeoutMs: CONFIG_TIMEOUT_MS },
    files: { 'train.ts': train },
    ready: async (session) => {
      server = session.server;
      healthy = session.scratch.uri('train.ts');
      // The healthy workspace first, while the machine is quiet.
      expect(ruleLines(await openAndWait(server, healthy, train))).toEqual(EXPECTED);
    },
  });

  const stillServes = async (version: number) => {
    const edited = `${train}// edit ${String(version)}\n`;
    const published = server.diagnosticsFor(healthy, (p) => p.version === version);
    await replaceDocument(server, healthy, edited, version);
    expect(ruleLines((await published).diagnostics)).toEqual(EXPECTED);
    const lines = edited.split('\n');
    const line = lines.findIndex((l) => l.includes('const optimizer'));
    const hover: Hover | null = await server.connection.sendRequest('textDocument/hover', {
      textDocument: { uri: healthy },
      position: { line, character: (lines[line]?.indexOf('optimizer') ?? 0) + 1 },
    });
    expect(JSON.stringify(hover)).toContain('SGD');
    expect(server.process.exitCode).toBeNull();
  };

  it('lints a workspace whose config prints to stdout, with the protocol stream intact', async () => {
    expect(ruleLines(await openAndWait(server, uriOf('prints'), train))).toEqual(EXPECTED);
    await stillServes(2);
    // What the config printed is in the server's log instead.
    expect(server.logs.join('\n')).toContain('hello from eslint.config.mjs');
  });

  it('lints a workspace whose config writes to file descriptor 1, with the protocol stream intact', async () => {
    expect(ruleLines(await openAndWait(server, uriOf('writesFd1'), train))).toEqual(EXPECTED);
    await stillServes(3);
    expect(server.logs.join('\n')).toContain('garbage');
  });

  it('reports a config that calls process.exit once, and keeps serving', async () => {
    const uri = uriOf('exits');
    const diagnostics = await openAndWait(server, uri, train, CONFIG_TIMEOUT_MS * 3);
    expect(failure(diagnostics)).toMatch(
      /gradflow could not lint this file: the lint worker ended \(exit code 3\) while loading .*eslint\.config\.mjs/,
    );
    // Another edit fails at once with the same reason, and the editor is not told again.
    const again = server.diagnosticsFor(uri, (p) => p.version === 2);
    await replaceDocument(server, uri, `${train}// edited\n`, 2);
    expect(failure((await again).diagnostics)).toBe(failure(diagnostics));
    expect(server.messages.filter((m) => m.message.includes(path.dirname(new URL(uri).pathname)))).toHaveLength(1);
    expect(server.messages[0]?.type).toBe(1); // Error
    await stillServes(4);
  }, 120_000);

  it('ends a config that never finishes loading and one that spins, after the time limit, and keeps serving', async () => {
    const started = Date.now();
    const [hangs, spins] = await Promise.all(
      (['hangs', 'spins'] as const).map((name) => openAndWait(server, uriOf(name), train, CONFIG_TIMEOUT_MS * 6)),
    );
    const seconds = String(CONFIG_TIMEOUT_MS / 1000);
    expect(failure(hangs)).toMatch(new RegExp(`loading .*eslint\\.config\\.mjs did not finish within ${seconds} s`));
    expect(failure(spins)).toMatch(new RegExp(`loading .*eslint\\.config\\.mjs did not finish within ${seconds} s`));
    expect(Date.now() - started).toBeGreaterThanOrEqual(CONFIG_TIMEOUT_MS - 1000);
    // The spinning worker is gone: the server's CPU use settles (a busy loop would keep a core at 100 %).
    await stillServes(5);
    for (const name of ['hangs', 'spins'] as const) {
      const dir = path.dirname(new URL(uriOf(name)).pathname);
      expect(server.messages.filter((m) => m.message.includes(dir))).toHaveLength(1);
    }
  }, 180_000);
});

describe('a config that spins while the editor goes away', () => {
  const { uri, remove } = workspace(CONFIGS.spins);
  afterAll(remove);

  /** The launcher, the server and the spinning workspace's lint worker, once the worker spins. */
  async function spinning(server: ServerHandle): Promise<number[]> {
    await initialize(server, undefined, { configTimeoutMs: 600_000 });
    await server.connection.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'typescript', version: 1, text: train },
    });
    await until(() => processTree(server.process.pid ?? 0).length === 3, 'the lint worker process to start', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 3000)); // the worker is spinning by now
    return processTree(server.process.pid ?? 0);
  }

  it(
    'answers requests meanwhile, and all processes exit when the editor closes the pipe',
    async () => {
      const server = startServer();
      try {
        const tree = await spinning(server);
        const started = Date.now();
        const actions: unknown[] = await server.connection.sendRequest('textDocument/codeAction', {
          textDocument: { uri },
          range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
          context: { diagnostics: [] },
        });
        expect(actions).toEqual([]);
        expect(Date.now() - started).toBeLessThan(10_000);
        server.process.stdin.end();
        for (const pid of tree) await until(() => exited(pid), `process ${String(pid)} to exit`, 15_000);
      } finally {
        await server.stop();
      }
    },
    STARTUP_TIMEOUT_MS,
  );

  it(
    'does not leave the spinning worker behind when the server is killed outright',
    async () => {
      const server = startServer();
      try {
        const tree = await spinning(server);
        expect(tree).toHaveLength(3);
        const [, serverPid, workerPid] = tree;
        // SIGKILL: the server cannot end its workers; the worker's watchdog sees its parent go.
        process.kill(serverPid, 'SIGKILL');
        await until(() => exited(workerPid), `lint worker ${String(workerPid)} to exit after the server was killed`, 15_000);
      } finally {
        await server.stop();
      }
    },
    STARTUP_TIMEOUT_MS,
  );
});
