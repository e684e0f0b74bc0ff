// Which open files import which: the rules follow helpers and model classes across files, so an
// edit to one file can change another's diagnostics. Read from the import text alone (relative
// specifiers), so the main thread needs neither TypeScript nor ESLint to answer.
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const SPECIFIER = /\b(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;

/** The path without a TypeScript or JavaScript extension (`./utils.js` and `utils.ts` meet). */
function stem(file: string): string {
  return file.replace(/\.(?:[cm]?[jt]sx?|d\.[cm]?ts)$/, '');
}

/** Whether the text of `importerUri` imports the file at `importedUri` with a relative specifier. */
export function importsFile(text: string, importerUri: string, importedUri: string): boolean {
  let importer: string;
  let imported: string;
  try {
    importer = fileURLToPath(importerUri);
    imported = stem(fileURLToPath(importedUri));
  } catch {
    return false;
  }
  const dir = path.dirname(importer);
  for (const match of text.matchAll(SPECIFIER)) {
    const target = path.resolve(dir, match[1]);
    if (stem(target) === imported || target === imported || path.join(target, 'index') === imported) return true;
  }
  return false;
}
