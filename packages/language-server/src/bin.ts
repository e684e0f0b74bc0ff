#!/usr/bin/env node
// `gradflow-language-server --stdio` (also `--node-ipc` or `--socket=<port>`, as vscode-languageserver reads them).
import { startServer } from './server.js';

const transports = ['--stdio', '--node-ipc', '--socket=', '--pipe='];
const args = process.argv.slice(2);
if (args.includes('--help') || !args.some((arg) => transports.some((transport) => arg.startsWith(transport)))) {
  process.stderr.write(
    'Usage: gradflow-language-server --stdio\n' +
      'Speaks the Language Server Protocol over stdin/stdout (or --node-ipc, --socket=<port>, --pipe=<name>).\n',
  );
  process.exit(args.includes('--help') ? 0 : 2);
}
startServer();
