// A workspace's lint worker process (and its hover worker) is stopped when it has had nothing to do
// for a while, or when no document of its workspace is open any more, and started again on the next
// request.
import { describe, expect, it } from 'vitest';
import type { Hover } from 'vscode-languageserver-protocol';
import { fixtureText, openAndWait, ruleLines, type ServerHandle } from './support/lsp-client.js';
import { processTree, until } from './support/process-tree.js';
import { useServer } from './support/session.js';

const train = fixtureText('train.ts');
const IDLE_TIMEOUT_MS = 1500;

interface Stats {
  lints: number;
  workers: number;
  workerStarts: number;
  hoverWorkers: number;
}
const stats = (server: ServerHandle): Promise<Stats> => server.connection.sendRequest('gradflow/stats');

async function hoverOptimizer(server: ServerHandle, uri: string): Promise<Hover | null> {
  const lines = train.split('\n');
  const line = lines.findIndex((l) => l.includes('const optimizer'));
  return server.connection.sendRequest('textDocument/hover', {
    textDocument: { uri },
    position: { line, character: (lines[line]?.indexOf('optimizer') ?? 0) + 1 },
  });
}

async function workersDownTo(server: ServerHandle, count: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  const running = async () => {
    const now = await stats(server);
    return now.workers + now.hoverWorkers;
  };
  while ((await running()) !== count) {
    if (Date.now() > deadline) throw new Error(`still ${String(await running())} workers`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('idle lint workers', () => {
  const session = useServer({
    files: { 'train.ts': train, 'other.ts': train },
    // Long enough for a lint's reply and the hover after it; short enough for a test.
    initializationOptions: { idleTimeoutMs: IDLE_TIMEOUT_MS, requestDeadlineMs: 60_000 },
  });

  it('stops a worker idle for idleTimeoutMs, and starts it again for the next request', async () => {
    const { server, scratch } = session;
    const uri = scratch.uri('train.ts');
    const diagnostics = await openAndWait(server, uri, train);
    expect(ruleLines(diagnostics).length).toBeGreaterThan(0);
    expect(await stats(server)).toMatchObject({ workers: 1, workerStarts: 1, hoverWorkers: 1 });
    const pid = server.process.pid ?? 0;
    // The launcher, the server, the lint worker and the hover worker.
    await until(() => processTree(pid).length === 4, 'the worker processes');

    await workersDownTo(server, 0);
    // The processes are gone, with their memory.
    await until(() => processTree(pid).length === 2, 'the worker processes to exit');

    // The next request (a hover needs the file's program: no hover worker runs) starts the lint worker again, and gets its answer.
    const hover = await hoverOptimizer(server, uri);
    expect(JSON.stringify(hover)).toContain('SGD');
    expect((await stats(server)).workerStarts).toBe(2);

    // And an edit is linted as before.
    const published = server.diagnosticsFor(uri, (p) => p.version === 2);
    await server.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 2 },
      contentChanges: [{ text: `${train}// edited\n` }],
    });
    expect(ruleLines((await published).diagnostics)).toEqual(ruleLines(diagnostics));
  }, 120_000);

  it('stops the worker of a workspace whose last open document is closed', async () => {
    const { server, scratch } = session;
    const uri = scratch.uri('train.ts');
    const other = scratch.uri('other.ts');
    await openAndWait(server, other, train);
    expect((await stats(server)).workers).toBe(1);
    // One of two documents closed: the worker stays for the other.
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await stats(server)).workers).toBe(1);
    const started = Date.now();
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri: other } });
    await workersDownTo(server, 0);
    // Stopped at the close, not by the idle timer.
    expect(Date.now() - started).toBeLessThan(IDLE_TIMEOUT_MS);
  }, 120_000);
});
