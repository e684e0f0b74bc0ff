// How the binary starts: once more with a larger young generation (see src/bin.ts), talking over the
// same stdio, and leaving no process behind when it is stopped.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initialize, startServer, STARTUP_TIMEOUT_MS } from './support/lsp-client.js';
import { childrenOf } from './support/process-tree.js';

const commandLine = (pid: number): string[] => readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').split('\0').filter(Boolean);
const exited = (pid: number): boolean => !existsSync(`/proc/${String(pid)}`) || /State:\s+Z/.test(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('launching gradflow-language-server', () => {
  it('serves from a second process started with 32 MB semi-spaces, and stops it on SIGTERM', async () => {
    const server = startServer();
    const result = (await initialize(server)) as { serverInfo?: { name?: string } };
    expect(result.serverInfo?.name).toBe('gradflow-language-server');
    const pid = server.process.pid ?? 0;
    const [child] = childrenOf(pid);
    expect(child).toBeGreaterThan(0);
    expect(commandLine(child)).toContain('--max-semi-space-size=32');
    server.process.kill('SIGTERM');
    await until(() => exited(child), `server process ${String(child)} to exit`);
    await until(() => server.process.exitCode !== null || server.process.signalCode !== null, 'the launcher to exit');
    server.connection.dispose();
  }, STARTUP_TIMEOUT_MS);

  it('runs in place when told not to start again, when a semi-space size is already set, and under the inspector', async () => {
    for (const env of [{ GRADFLOW_LS_NO_RESPAWN: '1' }, { NODE_OPTIONS: '--max-semi-space-size=16' }, { NODE_OPTIONS: '--inspect=0' }]) {
      const server = startServer([], { ...process.env, ...env });
      await initialize(server);
      expect(childrenOf(server.process.pid ?? 0)).toEqual([]);
      await server.stop();
    }
  }, STARTUP_TIMEOUT_MS);
});
