// The workspace that bench/lsp-breakdown.mjs and bench/lsp-hover.mjs edit: the language server tests'
// fixture workspace (tsconfig, ESLint config, package.json) with the 1,000-line training file, under
// bench/results/<name>, and the one-character edits of that file that typing a learning rate makes.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainingFile } from './training-file.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Writes bench/results/<name>/ with train1000.ts in it; returns the folder, the file, its text and lines, and its edits. */
export function lspWorkspace(name, targetLines = 1000) {
  const workDir = path.join(root, 'bench/results', name);
  mkdirSync(workDir, { recursive: true });
  const fixtureDir = path.join(root, 'packages/language-server/test/fixtures/workspace');
  for (const file of ['tsconfig.json', 'eslint.config.mjs', 'package.json'])
    copyFileSync(path.join(fixtureDir, file), path.join(workDir, file));
  const text = trainingFile(targetLines);
  const filePath = path.join(workDir, `train${String(targetLines)}.ts`);
  writeFileSync(filePath, text);
  const lines = text.split('\n');
  const lrLines = lines.flatMap((line, index) => (line.includes('{ lr: 0.01 }') ? [index] : []));
  /** The text after edit `i`: the i-th learning rate 0.01 (modulo their count) made 0.0d, d = i mod 9 + 1. */
  const editedText = (i) => {
    const copy = [...lines];
    const line = lrLines[i % lrLines.length];
    copy[line] = copy[line].replace('0.01', `0.0${(i % 9) + 1}`);
    return copy.join('\n');
  };
  return { workDir, filePath, text, lines, editedText };
}
