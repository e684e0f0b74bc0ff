// Which files the server lints and which ESLint config governs each, answered on the main thread
// without loading ESLint or TypeScript (those live in the lint workers, see lint-host.ts).
import { statSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The file extensions the server lints: the document filter of the main thread. (eslint-setup.ts
 * keeps its own copy for the worker side; change both together.)
 */
export const LINTED_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts'];

export const CONFIG_FILE_NAMES = [
  'eslint.config.js',
  'eslint.config.mjs',
  'eslint.config.cjs',
  'eslint.config.ts',
  'eslint.config.mts',
  'eslint.config.cts',
];

export function isLintable(uri: string): boolean {
  return uri.startsWith('file:') && LINTED_EXTENSIONS.some((extension) => uri.endsWith(extension));
}

function isFile(candidate: string): boolean {
  try {
    return statSync(candidate).isFile();
  } catch {
    return false;
  }
}

/** The nearest `eslint.config.*` above `filePath`, as ESLint's own lookup (from the file's folder) finds it. */
export function findEslintConfig(filePath: string): string | undefined {
  let dir = path.dirname(filePath);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if (isFile(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** Files without an ESLint config share one worker (and typescript-eslint's one project service). */
export const DEFAULT_WORKSPACE = '(no eslint.config)';

/** Which workspace — which lint worker — lints the file: its ESLint config, or the default one. */
export function workspaceOf(filePath: string): string {
  return findEslintConfig(filePath) ?? DEFAULT_WORKSPACE;
}
