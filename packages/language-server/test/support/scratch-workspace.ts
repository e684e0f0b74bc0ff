// A throw-away copy of the fixture workspace (its tsconfig and eslint.config.mjs) for tests that
// write files to disk; it lives beside the fixture so `@gradflow/*` resolve from the repository.
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { FIXTURE_DIR } from './lsp-client.js';

export interface ScratchWorkspace {
  dir: string;
  uri: (name: string) => string;
  write: (name: string, text: string) => string;
  remove: () => void;
}

export function scratchWorkspace(): ScratchWorkspace {
  const dir = mkdtempSync(path.join(path.dirname(FIXTURE_DIR), 'scratch-'));
  for (const name of ['tsconfig.json', 'eslint.config.mjs', 'package.json']) {
    copyFileSync(path.join(FIXTURE_DIR, name), path.join(dir, name));
  }
  return {
    dir,
    uri: (name) => pathToFileURL(path.join(dir, name)).href,
    write: (name, text) => {
      const filePath = path.join(dir, name);
      writeFileSync(filePath, text);
      return filePath;
    },
    remove: () => {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
