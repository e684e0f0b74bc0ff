// LSP 3.17 pull diagnostics: a client that declares `textDocument.diagnostic` asks for diagnostics
// itself, and the server stops pushing.
import { describe, expect, it } from 'vitest';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { LSPErrorCodes, type DocumentDiagnosticReport, type InitializeResult } from 'vscode-languageserver-protocol';
import {
  PULL_CAPABILITIES,
  fixtureText,
  fixtureUri,
  openDocument,
  replaceDocument,
  ruleLines,
  type ServerHandle,
  STARTUP_TIMEOUT_MS,
} from './support/lsp-client.js';
import type { ScratchWorkspace } from './support/scratch-workspace.js';
import { useServer } from './support/session.js';

const uri = fixtureUri('train.ts');
const original = fixtureText('train.ts');

describe('pull diagnostics', () => {
  let server: ServerHandle;
  let initResult: InitializeResult;
  let scratch: ScratchWorkspace;

  useServer({
    capabilities: PULL_CAPABILITIES,
    ready: async (session) => {
      ({ server, initResult, scratch } = session);
      await openDocument(server, uri, original);
    },
  });

  const pull = (previousResultId?: string): Promise<DocumentDiagnosticReport> =>
    server.connection.sendRequest('textDocument/diagnostic', { textDocument: { uri }, previousResultId });

  it('announces a diagnostic provider', () => {
    expect(initResult.capabilities.diagnosticProvider).toMatchObject({ interFileDependencies: true });
  });

  let firstResultId: string | undefined;

  it(
    'answers a pull with the full report',
    async () => {
      const report = await pull();
      expect(report.kind).toBe('full');
      if (report.kind !== 'full') return;
      expect(ruleLines(report.items).map(([rule]) => rule)).toEqual([
        '@gradflow/no-leaf-inplace',
        '@gradflow/require-set-to-none',
        '@gradflow/no-freeze-after-optimizer',
      ]);
      firstResultId = report.resultId;
      expect(firstResultId).toBeDefined();
    },
    STARTUP_TIMEOUT_MS,
  );

  it('answers "unchanged" when nothing changed since the client’s result', async () => {
    const report = await pull(firstResultId);
    expect(report).toEqual({ kind: 'unchanged', resultId: firstResultId });
  });

  it('reports the new text after a change, and never pushes', async () => {
    await replaceDocument(server, uri, original.replace('optimizer.zeroGrad();', 'optimizer.zeroGrad({ setToNone: true });'), 2);
    const report = await pull(firstResultId);
    expect(report.kind).toBe('full');
    if (report.kind !== 'full') return;
    expect(report.items.map((d) => d.code)).not.toContain('@gradflow/require-set-to-none');
    expect(report.items.map((d) => d.code)).toContain('@gradflow/no-leaf-inplace');
    expect(server.published).toEqual([]);
  });

  it('honours the cancellation of a pull that waits behind a long lint', async () => {
    // A big generated file keeps the machine busy (in the scratch workspace's own worker); the pull
    // for train.ts is cancelled before its lint can end.
    const rows = Array.from({ length: 12_000 }, (_, i) => `  [${String(i)}, ${String(i + 1)}, ${String(i + 2)}],`);
    const bigText = `export const table: number[][] = [\n${rows.join('\n')}\n];\n`;
    scratch.write('big.ts', bigText);
    const bigUri = scratch.uri('big.ts');
    await openDocument(server, bigUri, bigText);
    const busy = server.connection.sendRequest('textDocument/diagnostic', { textDocument: { uri: bigUri } });

    await replaceDocument(server, uri, `${original}// edited\n`, 3);
    const source = new CancellationTokenSource();
    const cancelled = server.connection.sendRequest('textDocument/diagnostic', { textDocument: { uri } }, source.token);
    // Cancelled at once: the server reads the cancellation while the big lint still runs.
    source.cancel();
    await expect(cancelled).rejects.toMatchObject({ code: LSPErrorCodes.ServerCancelled, data: { retriggerRequest: true } });
    await busy;

    // The client asks again, as the error told it to, and gets the report.
    const report = await pull();
    expect(report.kind).toBe('full');
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri: bigUri } });
  }, 120_000);

  it('answers an empty report for a document that is not open', async () => {
    const report: DocumentDiagnosticReport = await server.connection.sendRequest('textDocument/diagnostic', {
      textDocument: { uri: fixtureUri('not-open.ts') },
    });
    expect(report).toEqual({ kind: 'full', items: [] });
  });
});
