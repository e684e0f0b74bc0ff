// Re-lints open files when an ESLint config, a tsconfig, a package manifest or a source file that is
// not open changes on disk. Clients that can watch files do it for us (`workspace/didChangeWatchedFiles`);
// for the others (Neovim 0.7) the server watches the folders of the open files and their configs.
import { watch, type FSWatcher } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DidChangeWatchedFilesNotification, type Connection } from 'vscode-languageserver/node';
import { findEslintConfig } from './files.js';

export const WATCHED_GLOBS = ['**/eslint.config.{js,mjs,cjs,ts,mts,cts}', '**/tsconfig*.json', '**/package.json', '**/*.{ts,mts,cts,tsx}'];

const RELEVANT = /(^eslint\.config\.[mc]?[jt]s$)|(^tsconfig.*\.json$)|(^package\.json$)|(\.[mc]?tsx?$)/;

export function isRelevantFile(filePath: string): boolean {
  return RELEVANT.test(path.basename(filePath));
}

export class FileWatching {
  private readonly folderWatchers = new Map<string, FSWatcher>();
  private clientWatches = false;
  private pending: NodeJS.Timeout | undefined;
  private readonly changedPaths = new Set<string>();

  /** `onChange` receives the paths that changed, a burst of events at a time. */
  constructor(
    private readonly connection: Connection,
    private readonly onChange: (changed: string[]) => void,
  ) {}

  /** Ask the client to watch for us, when it can register watchers dynamically. */
  async useClientWatchers(): Promise<void> {
    await this.connection.client.register(DidChangeWatchedFilesNotification.type, {
      watchers: WATCHED_GLOBS.map((globPattern) => ({ globPattern })),
    });
    this.clientWatches = true;
    this.connection.onDidChangeWatchedFiles((params) => {
      const changed = params.changes.map((change) => fileURLToPath(change.uri)).filter(isRelevantFile);
      if (changed.length > 0) this.onChange(changed);
    });
  }

  /** Without client watchers: watch the folder of an opened file and of its ESLint config. */
  watchAround(uri: string): void {
    if (this.clientWatches || !uri.startsWith('file:')) return;
    const filePath = fileURLToPath(uri);
    const folders = [path.dirname(filePath)];
    const config = findEslintConfig(filePath);
    if (config !== undefined) folders.push(path.dirname(config));
    for (const folder of folders) this.watchFolder(folder);
  }

  dispose(): void {
    clearTimeout(this.pending);
    for (const watcher of this.folderWatchers.values()) watcher.close();
    this.folderWatchers.clear();
  }

  private watchFolder(folder: string): void {
    if (this.folderWatchers.has(folder)) return;
    try {
      const watcher = watch(folder, { persistent: false }, (_event, name) => {
        if (name === null || !isRelevantFile(name)) return;
        this.changedPaths.add(path.join(folder, name));
        // Editors save in bursts (write, rename, chmod): report once the burst is over.
        clearTimeout(this.pending);
        this.pending = setTimeout(() => {
          const paths = [...this.changedPaths];
          this.changedPaths.clear();
          this.onChange(paths);
        }, 100);
      });
      watcher.on('error', () => {
        watcher.close();
        this.folderWatchers.delete(folder);
      });
      this.folderWatchers.set(folder, watcher);
    } catch {
      // a folder we cannot watch only loses the automatic re-lint
    }
  }
}
