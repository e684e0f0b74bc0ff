// The server must survive what editors and users throw at it: broken messages, unknown methods,
// requests about files it never saw, huge files, files that do not parse, bursts of edits.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CodeAction, Hover } from 'vscode-languageserver-protocol';
import { fixtureText, openDocument, replaceDocument, ruleLines, type ServerHandle } from './support/lsp-client.js';
import { processTree } from './support/process-tree.js';
import type { ScratchWorkspace } from './support/scratch-workspace.js';
import { useServer } from './support/session.js';

const frame = (body: string) => `Content-Length: ${String(Buffer.byteLength(body))}\r\n\r\n${body}`;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident memory of a process and its descendants in MiB, from /proc (Linux). */
function rssMiB(pid: number): number {
  return processTree(pid).reduce((total, id) => {
    const status = readFileSync(`/proc/${String(id)}/status`, 'utf8');
    const kib = /VmRSS:\s+(\d+)/.exec(status)?.[1];
    if (kib === undefined) throw new Error('no VmRSS in /proc status');
    return total + Number(kib) / 1024;
  }, 0);
}

describe('robustness', () => {
  let server: ServerHandle;
  let scratch: ScratchWorkspace;

  useServer({
    ready: (session) => {
      ({ server, scratch } = session);
    },
  });

  const alive = async () => {
    const hover: Hover | null = await server.connection.sendRequest('textDocument/hover', {
      textDocument: { uri: scratch.uri('never-opened.ts') },
      position: { line: 0, character: 0 },
    });
    expect(hover).toBeNull();
    expect(server.process.exitCode).toBeNull();
  };

  it('survives malformed JSON-RPC and answers the next request', async () => {
    server.process.stdin.write(frame('{"jsonrpc":"2.0","id":99,"method":'));
    await pause(100);
    server.process.stdin.write('this is not a header\r\n\r\n');
    await pause(100);
    server.process.stdin.write(frame('[1, 2, 3]'));
    await pause(100);
    await alive();
  });

  it('answers unknown methods with MethodNotFound and ignores unknown notifications', async () => {
    await expect(server.connection.sendRequest('gradflow/doesNotExist', {})).rejects.toMatchObject({ code: -32601 });
    await server.connection.sendNotification('gradflow/alsoUnknown', { x: 1 });
    await expect(
      server.connection.sendRequest('workspace/executeCommand', { command: 'gradflow.showDocumentation', arguments: [42] }),
    ).rejects.toMatchObject({ code: -32602 });
    await alive();
  });

  it('answers requests about files that are not open', async () => {
    const uri = scratch.uri('never-opened.ts');
    const actions: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [] },
    });
    expect(actions).toEqual([]);
    // Closing or changing a document that was never opened is a client bug the server shrugs off.
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    await replaceDocument(server, uri, 'const x = 1;', 7);
    await alive();
  });

  it('reports a parse error for a file that does not parse, then the rules once it does', async () => {
    const uri = scratch.uri('broken.ts');
    const broken = "import { randn } from '@gradflow/autograd';\nconst w = randn([2], { requiresGrad: true });\nw.add_(1;\n";
    scratch.write('broken.ts', broken);
    const first = server.diagnosticsFor(uri);
    await openDocument(server, uri, broken);
    const parseError = (await first).diagnostics;
    expect(parseError).toHaveLength(1);
    expect(parseError[0]?.message).toMatch(/^Parsing error/);
    expect(parseError[0]?.range.start.line).toBe(2);

    const second = server.diagnosticsFor(uri, (p) => p.version === 2);
    await replaceDocument(server, uri, broken.replace('w.add_(1;', 'w.add_(1);'), 2);
    expect(ruleLines((await second).diagnostics)).toEqual([['@gradflow/no-leaf-inplace', 2]]);
  });

  it('lints a 1 MB file', async () => {
    // Files this size are generated: here a table of initial weights ahead of the training code.
    const rows: string[] = [];
    let size = 0;
    for (let i = 0; size < 1_000_000; i++) {
      const row = `  [${Array.from({ length: 8 }, (_, j) => ((((i * 8 + j) * 7919) % 2000) / 1000 - 1).toFixed(3)).join(', ')}],`;
      rows.push(row);
      size += row.length + 1;
    }
    const training = fixtureText('train.ts');
    const text = `${training}\nexport const initialWeights: number[][] = [\n${rows.join('\n')}\n];\n`;
    expect(text.length).toBeGreaterThanOrEqual(1_000_000);

    const uri = scratch.uri('huge.ts');
    scratch.write('huge.ts', text);
    const published = server.diagnosticsFor(uri, () => true, 180_000);
    await openDocument(server, uri, text);
    const diagnostics = (await published).diagnostics;
    const lineOf = (needle: string) => training.split('\n').findIndex((line) => line.includes(needle));
    expect(ruleLines(diagnostics)).toEqual([
      ['@gradflow/no-leaf-inplace', lineOf('shift.add_(1)')],
      ['@gradflow/require-set-to-none', lineOf('optimizer.zeroGrad()')],
      ['@gradflow/no-freeze-after-optimizer', lineOf('encoder.weight.requiresGrad = false')],
    ]);
    await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri } });
    await alive();
  }, 240_000);

  it('coalesces 500 rapid changes, ends with the last text’s diagnostics, and keeps memory bounded', async () => {
    const uri = scratch.uri('burst.ts');
    const base = fixtureText('train.ts');
    scratch.write('burst.ts', base);
    const opened = server.diagnosticsFor(uri);
    await openDocument(server, uri, base);
    await opened;
    const before = rssMiB(server.process.pid ?? 0);
    const publishedBefore = server.published.length;

    // 500 one-character edits as typing makes them, then the last one fixes zeroGrad.
    const lastVersion = 501;
    for (let version = 2; version < lastVersion; version++) {
      await server.connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: version % 2 ? '/' : ' ' }],
      });
    }
    const final = server.diagnosticsFor(uri, (p) => p.version === lastVersion, 60_000);
    await replaceDocument(server, uri, base.replace('optimizer.zeroGrad();', 'optimizer.zeroGrad({ setToNone: true });'), lastVersion);
    const codes = (await final).diagnostics.map((d) => d.code);
    expect(codes).toContain('@gradflow/no-leaf-inplace');
    expect(codes).not.toContain('@gradflow/require-set-to-none');

    // Debounced: far fewer lints than edits, and no stale version published after the last one.
    const burst = server.published.slice(publishedBefore).filter((p) => p.uri === uri);
    expect(burst.length).toBeLessThan(50);
    expect(burst.at(-1)?.version).toBe(lastVersion);
    const versions = burst.map((p) => p.version ?? 0);
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);

    const after = rssMiB(server.process.pid ?? 0);
    expect(after - before).toBeLessThan(300);
    await alive();
  }, 120_000);
});
