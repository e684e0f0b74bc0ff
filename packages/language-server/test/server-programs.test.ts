// The lints read the server's own incremental TypeScript program (program-provider.ts) instead of
// typescript-eslint's project service: the diagnostics must be exactly the ESLint CLI's for the same
// text, edit after edit, and an importer must see its helper's unsaved text — and the saved one again
// once the helper is closed without saving.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { fixtureText, openAndWait, replaceDocument, STARTUP_TIMEOUT_MS, type ServerHandle } from './support/lsp-client.js';
import { scratchWorkspace } from './support/scratch-workspace.js';
import { useServer } from './support/session.js';

const ESLINT_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../node_modules/eslint/bin/eslint.js');

interface CliMessage {
  ruleId: string | null;
  message: string;
  line: number;
  column: number;
  endLine?: number;
  endColumn?: number;
}

/** A workspace the server does not watch, where the CLI lints copies of the editor's texts. */
const cliWorkspace = scratchWorkspace();

/** What the ESLint CLI reports for `files` (name → text) written to disk, for the file `name`. */
function cli(files: Record<string, string>, name: string): string[] {
  for (const [file, text] of Object.entries(files)) cliWorkspace.write(file, text);
  const run = spawnSync(process.execPath, [ESLINT_BIN, '--format', 'json', name], { cwd: cliWorkspace.dir, encoding: 'utf8' });
  const results = JSON.parse(run.stdout) as { messages: CliMessage[] }[];
  return results
    .flatMap((result) => result.messages)
    .filter((m) => m.ruleId?.startsWith('@gradflow/') === true)
    .map(
      (m) =>
        `${String(m.ruleId)} ${String(m.line - 1)}:${String(m.column - 1)}-${String((m.endLine ?? 0) - 1)}:${String((m.endColumn ?? 0) - 1)} ${m.message}`,
    )
    .sort();
}

const shown = (diagnostics: Diagnostic[]): string[] =>
  diagnostics
    .map((d) => {
      const { start, end } = d.range;
      return `${String(d.code)} ${String(start.line)}:${String(start.character)}-${String(end.line)}:${String(end.character)} ${typeof d.message === 'string' ? d.message : d.message.value}`;
    })
    .sort();

interface Stats {
  lints: number;
  serverProgramLints: number;
  reusedStatements: number;
  precomputedRules: number;
}
const stats = (server: ServerHandle): Promise<Stats> => server.connection.sendRequest('gradflow/stats');

const train = fixtureText('train.ts');
/** Edits as typing makes them: a fix, a new mistake, a number, a mistake back. */
const EDITS = [
  train.replace('shift.add_(1);', '// shift.add_(1);'),
  train.replace('shift.add_(1);', '// shift.add_(1);').replace('optimizer.zeroGrad();', 'optimizer.zeroGrad({ setToNone: true });'),
  train
    .replace('{ lr: 0.1, momentum: 0.9 }', '{ lr: 0.01, momentum: 0.9 }')
    .replace('optimizer.zeroGrad();', 'optimizer.zeroGrad({ setToNone: true });'),
  `${train}\nshift.mul_(2);\n`,
];

const helper = (body: string): string => `import { noGrad, type nn } from '@gradflow/autograd';

export function sgdStep(params: nn.Parameter[], lr: number): void {
${body}
}
`;
const UNDER_NO_GRAD = helper('  noGrad(() => { for (const p of params) if (p.grad) p.sub_(p.grad.mul(lr)); });');
const RECORDING = helper('  for (const p of params) if (p.grad) p.sub_(p.grad.mul(lr));');
const MAIN = `import { manualSeed, nn, randn } from '@gradflow/autograd';
import { sgdStep } from './utils.js';

export function main(): void {
  manualSeed(1);
  const model = new nn.Linear(4, 1);
  nn.functional.mseLoss(model.forward(randn([6, 4])), randn([6, 1])).backward();
  sgdStep(model.parameters(), 0.1);
}
`;

afterAll(() => {
  cliWorkspace.remove();
});

describe("lints on the server's incremental program", () => {
  // Every file, however short, analysed on the analysis thread too (precompute.ts): its reports are the ones compared.
  const session = useServer({
    files: { 'train.ts': train, 'utils.ts': UNDER_NO_GRAD, 'main.ts': MAIN },
    env: { GRADFLOW_LS_ANALYSIS_THREAD: '0' },
  });

  it(
    'reports exactly what the ESLint CLI reports, edit after edit',
    async () => {
      const { server, scratch } = session;
      const uri = scratch.uri('train.ts');
      const before = await stats(server);
      expect(shown(await openAndWait(server, uri, train))).toEqual(cli({ 'train.ts': train }, 'train.ts'));
      for (const [index, text] of EDITS.entries()) {
        const version = index + 2;
        const published = server.diagnosticsFor(uri, (p) => p.version === version);
        await replaceDocument(server, uri, text, version);
        expect(shown((await published).diagnostics)).toEqual(cli({ 'train.ts': text }, 'train.ts'));
      }
      // Every one of these lints read the server's program (not typescript-eslint's project service).
      const after = await stats(server);
      expect(after.serverProgramLints - before.serverProgramLints).toBe(after.lints - before.lints);
      expect(after.lints - before.lints).toBeGreaterThanOrEqual(EDITS.length + 1);
      // ... and took the statements an edit did not touch from the previous lint (incremental-estree.ts).
      expect(after.reusedStatements - before.reusedStatements).toBeGreaterThan(0);
      // ... and the gradflow rules replayed the reports the analysis thread computed meanwhile (precompute.ts):
      // every rule of every lint, so the diagnostics compared above are the thread's.
      expect(after.precomputedRules - before.precomputedRules).toBe(9 * (after.lints - before.lints));
      // A text ESLint cannot parse runs no rule (the thread's job for it is dropped), and the next text
      // gets its own reports.
      const broken = server.diagnosticsFor(uri, (p) => p.version === EDITS.length + 2);
      await replaceDocument(server, uri, `${train}\nconst = ;\n`, EDITS.length + 2);
      expect((await broken).diagnostics.some((d) => typeof d.message === 'string' && d.message.includes('Parsing error'))).toBe(true);
      const fixed = server.diagnosticsFor(uri, (p) => p.version === EDITS.length + 3);
      await replaceDocument(server, uri, EDITS[0] ?? train, EDITS.length + 3);
      expect(shown((await fixed).diagnostics)).toEqual(cli({ 'train.ts': EDITS[0] ?? train }, 'train.ts'));
    },
    STARTUP_TIMEOUT_MS,
  );

  it(
    "re-lints an importer with its helper's unsaved text, and with the saved text once the helper is closed",
    async () => {
      const { server, scratch } = session;
      const mainUri = scratch.uri('main.ts');
      const utilsUri = scratch.uri('utils.ts');
      const before = await stats(server);
      await openAndWait(server, utilsUri, UNDER_NO_GRAD);
      expect(shown(await openAndWait(server, mainUri, MAIN))).toEqual(cli({ 'utils.ts': UNDER_NO_GRAD, 'main.ts': MAIN }, 'main.ts'));
      // Unsaved: the disk still has the noGrad version; the CLI, given the edited text, agrees with the editor.
      const reported = server.diagnosticsFor(mainUri, (p) => p.diagnostics.length > 0);
      await replaceDocument(server, utilsUri, RECORDING, 2);
      const expected = cli({ 'utils.ts': RECORDING, 'main.ts': MAIN }, 'main.ts');
      expect(expected).toHaveLength(1);
      expect(shown((await reported).diagnostics)).toEqual(expected);
      // Closed without saving: main.ts is linted against the helper on disk again.
      await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri: utilsUri } });
      const cleared = server.diagnosticsFor(mainUri, (p) => p.version === 2);
      await replaceDocument(server, mainUri, `${MAIN}// edited\n`, 2);
      expect(shown((await cleared).diagnostics)).toEqual(cli({ 'utils.ts': UNDER_NO_GRAD, 'main.ts': `${MAIN}// edited\n` }, 'main.ts'));
      expect((await cleared).diagnostics).toEqual([]);
      // The analysis thread's program saw the helper's unsaved text, then the saved one: these are its reports.
      const after = await stats(server);
      expect(after.precomputedRules - before.precomputedRules).toBe(9 * (after.lints - before.lints));
    },
    STARTUP_TIMEOUT_MS,
  );
});

describe('the analysis thread, started by the first long file', () => {
  // The helper is shorter than the threshold (linted without the thread, which has not started), the
  // importer longer: the thread starts with the importer's lint and must be given the helper's unsaved
  // text first, or it would analyse the helper on disk (noGrad) and report nothing.
  const threshold = 250;
  const session = useServer({
    files: { 'utils.ts': UNDER_NO_GRAD, 'main.ts': MAIN },
    env: { GRADFLOW_LS_ANALYSIS_THREAD: String(threshold) },
  });

  it(
    "analyses the importer with the helper's unsaved text",
    async () => {
      expect(RECORDING.length).toBeLessThan(threshold);
      expect(MAIN.length).toBeGreaterThanOrEqual(threshold);
      const { server, scratch } = session;
      const utilsUri = scratch.uri('utils.ts');
      await openAndWait(server, utilsUri, UNDER_NO_GRAD);
      await replaceDocument(server, utilsUri, RECORDING, 2);
      const before = await stats(server);
      const expected = cli({ 'utils.ts': RECORDING, 'main.ts': MAIN }, 'main.ts');
      expect(expected).toHaveLength(1);
      expect(shown(await openAndWait(server, scratch.uri('main.ts'), MAIN))).toEqual(expected);
      const after = await stats(server);
      expect(after.precomputedRules - before.precomputedRules).toBe(9);
    },
    STARTUP_TIMEOUT_MS,
  );
});
