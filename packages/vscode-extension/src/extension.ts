// Starts gradflow-language-server for TypeScript files. The server comes from the workspace's own
// `@gradflow/language-server` (so it lints with the workspace's plugin, config and TypeScript), or
// from the `gradflow.server.path` setting.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { initializationOptions } from './options.js';
import { LanguageClient, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';

let client: LanguageClient | undefined;

function findServer(): string | undefined {
  const configured = vscode.workspace.getConfiguration('gradflow').get<string>('server.path');
  if (configured !== undefined && configured !== '') return configured;
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    try {
      const require = createRequire(path.join(folder.uri.fsPath, 'package.json'));
      return require.resolve('@gradflow/language-server/package.json').replace(/package\.json$/, 'dist/bin.js');
    } catch {
      // not installed in this folder; try the next
    }
  }
  return undefined;
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const serverModule = findServer();
  if (serverModule === undefined) {
    void vscode.window.showWarningMessage(
      'gradflow: @gradflow/language-server is not installed in this workspace (npm i -D @gradflow/language-server), ' +
        'and gradflow.server.path is not set.',
    );
    return;
  }
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.stdio },
    debug: { module: serverModule, transport: TransportKind.stdio, options: { execArgv: ['--inspect=6010'] } },
  };
  const settings = vscode.workspace.getConfiguration('gradflow');
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'typescript' },
      { scheme: 'file', language: 'typescriptreact' },
    ],
    initializationOptions: initializationOptions((section) => settings.get(section)),
  };
  client = new LanguageClient('gradflow', 'gradflow', serverOptions, clientOptions);
  context.subscriptions.push(client);
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
