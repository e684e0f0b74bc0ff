#!/usr/bin/env node
// `gradflow-language-server --stdio` (also `--node-ipc` or `--socket=<port>`, as vscode-languageserver reads them).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const transports = ['--stdio', '--node-ipc', '--socket=', '--pipe='];
const args = process.argv.slice(2);
if (args.includes('--help') || !args.some((arg) => transports.some((transport) => arg.startsWith(transport)))) {
  process.stderr.write(
    'Usage: gradflow-language-server --stdio\n' +
      'Speaks the Language Server Protocol over stdin/stdout (or --node-ipc, --socket=<port>, --pipe=<name>).\n',
  );
  process.exit(args.includes('--help') ? 0 : 2);
}

/**
 * Each lint of a 1,000-line file allocates about 40 MB, most of it (the syntax trees) live until the
 * lint ends, so V8's default 16 MB semi-spaces fill two or three times per edit and every scavenge
 * copies what is live. With 32 MB semi-spaces `bench/lsp.mjs` measured 5–10 ms less per edit (p50)
 * and 8–15 ms less server CPU, in four interleaved pairs of runs. Heap sizes are read only when Node
 * starts, so the server starts itself once more with the flag, unless it already has one (in its
 * own flags or NODE_OPTIONS), GRADFLOW_LS_NO_RESPAWN is set, it talks over --node-ipc (whose
 * channel belongs to this process), or it runs under the inspector (a debugger attaches to this one).
 */
const YOUNG_GENERATION_FLAG = '--max-semi-space-size=32';
/** Set in the second process: its IPC channel leads to the first one, whose end it must not outlive. */
const PARENT_CHANNEL_ENV = 'GRADFLOW_LS_PARENT_CHANNEL';

function shouldRespawn(): boolean {
  const nodeFlags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''];
  const flagged = nodeFlags.some((arg) => arg.includes('--max-semi-space-size'));
  const debugged = nodeFlags.some((arg) => arg.includes('--inspect'));
  return !flagged && !debugged && process.env.GRADFLOW_LS_NO_RESPAWN === undefined && !args.includes('--node-ipc');
}

if (shouldRespawn()) {
  const child = spawn(process.execPath, [...process.execArgv, YOUNG_GENERATION_FLAG, fileURLToPath(import.meta.url), ...args], {
    // The server reads and writes this process's own stdin/stdout: nothing is relayed. The IPC
    // channel carries nothing either: it closes when this process ends, however it ends (even
    // SIGKILL), and the server exits then.
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, GRADFLOW_LS_NO_RESPAWN: '1', [PARENT_CHANNEL_ENV]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => {
    process.exit(code ?? (signal === null ? 1 : 128));
  });
  child.on('error', (error) => {
    process.stderr.write(`gradflow-language-server: could not start: ${error.message}\n`);
    process.exit(1);
  });
} else {
  if (process.env[PARENT_CHANNEL_ENV] !== undefined && process.channel !== undefined) {
    delete process.env.GRADFLOW_LS_PARENT_CHANNEL;
    // The launcher is gone (killed, or it crashed): nobody is left to read the replies.
    process.on('disconnect', () => process.exit(1));
    process.channel.unref();
  }
  const { startServer } = await import('./server.js');
  startServer();
}
