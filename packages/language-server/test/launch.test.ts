// How the binary starts: once more with a larger young generation (see src/bin.ts), talking over the
// same stdio, and leaving no process behind when it is stopped.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialize, SERVER_BIN, startServer, STARTUP_TIMEOUT_MS } from './support/lsp-client.js';
import { childrenOf, exited, until } from './support/process-tree.js';

const commandLine = (pid: number): string[] =>
  readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8')
    .split('\0')
    .filter(Boolean);

describe('launching gradflow-language-server', () => {
  it(
    'serves from a second process started with 32 MB semi-spaces, and stops it on SIGTERM',
    async () => {
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
    },
    STARTUP_TIMEOUT_MS,
  );

  it(
    'does not outlive the first process when that one is killed outright',
    async () => {
      // Its stdin is a FIFO this test holds open for reading and writing, so the server sees no end of
      // input when the launcher dies (a Node client would close the pipe once its child exits, and the
      // server would stop for that reason): only the launcher's death can tell the server to go.
      const dir = mkdtempSync(path.join(tmpdir(), 'gradflow-launch-'));
      const fifo = path.join(dir, 'stdin');
      execFileSync('mkfifo', [fifo]);
      const stdin = openSync(fifo, 'r+');
      const launcher = spawn(process.execPath, [SERVER_BIN, '--stdio'], { stdio: [stdin, 'ignore', 'ignore'] });
      let child: number | undefined;
      try {
        await until(() => (child = childrenOf(launcher.pid ?? 0).at(0)) !== undefined, 'the server process to start');
        await new Promise((resolve) => setTimeout(resolve, 1000)); // the server is up and reading its stdin
        // SIGKILL: the launcher cannot pass anything on; the server notices its channel to it close.
        launcher.kill('SIGKILL');
        await until(() => exited(child ?? 0), `server process ${String(child)} to exit after its parent was killed`);
      } finally {
        if (child !== undefined && !exited(child)) process.kill(child);
        closeSync(stdin);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    STARTUP_TIMEOUT_MS,
  );

  it(
    'runs in place when told not to start again, when a semi-space size is already set, and under the inspector',
    async () => {
      for (const env of [{ GRADFLOW_LS_NO_RESPAWN: '1' }, { NODE_OPTIONS: '--max-semi-space-size=16' }, { NODE_OPTIONS: '--inspect=0' }]) {
        const server = startServer([], { ...process.env, ...env });
        await initialize(server);
        expect(childrenOf(server.process.pid ?? 0)).toEqual([]);
        await server.stop();
      }
    },
    STARTUP_TIMEOUT_MS,
  );
});
