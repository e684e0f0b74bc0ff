// What the server lints, and when, under clients that misbehave or type a lot: documents opened
// before `initialize`, changes that arrive out of order, many files edited in interleaved bursts,
// and hovers and code actions while a long lint runs.
import { describe, expect, it } from 'vitest';
import type { CodeAction, Hover } from 'vscode-languageserver-protocol';
import {
  fixtureText,
  initialize,
  lintCount,
  openAndWait,
  openDocument,
  replaceDocument,
  ruleLines,
  startServer,
  STARTUP_TIMEOUT_MS,
  type ServerHandle,
} from './support/lsp-client.js';
import { scratchWorkspace } from './support/scratch-workspace.js';
import { useServer } from './support/session.js';

const base = fixtureText('train.ts');
const fixed = base.replace('optimizer.zeroGrad();', 'optimizer.zeroGrad({ setToNone: true });');
const codes = (diagnostics: { code?: unknown }[]) => diagnostics.map((d) => String(d.code));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A training script of about `lines` lines (as bench/training-file.mjs makes them): blocks of models, optimizer and loop. */
function trainingFile(lines: number): string {
  const out = ["import { nn, optim, randn } from '@gradflow/autograd';", ''];
  for (let i = 0; out.length < lines; i++) {
    out.push(
      `{ // experiment ${String(i)}`,
      '  const encoder = new nn.Linear(8, 16);',
      '  const scale = randn([8, 1], { requiresGrad: true });',
      '  const optimizer = new optim.Adam([...encoder.parameters(), scale], { lr: 0.01 });',
      i % 5 === 0 ? '  scale.mul_(0.5);' : '  // scale stays put',
      '  for (let step = 0; step < 10; step++) {',
      '    optimizer.zeroGrad({ setToNone: true });',
      '    const loss = encoder.forward(randn([32, 8])).sum();',
      '    loss.backward();',
      '    optimizer.step();',
      '  }',
      '}',
    );
  }
  return `${out.join('\n')}\n`;
}

describe('a document opened before initialize', () => {
  it(
    'is linted once the server is initialized',
    async () => {
      const scratch = scratchWorkspace();
      const server = startServer();
      try {
        const uri = scratch.uri('early.ts');
        scratch.write('early.ts', base);
        const published = server.diagnosticsFor(uri);
        await openDocument(server, uri, base);
        await pause(200);
        expect(server.process.exitCode).toBeNull();
        await initialize(server);
        expect(codes((await published).diagnostics)).toContain('@gradflow/require-set-to-none');
        expect(server.stderr()).not.toMatch(/not initialized|Error/);
      } finally {
        await server.stop();
        scratch.remove();
      }
    },
    STARTUP_TIMEOUT_MS,
  );
});

describe('scheduling', () => {
  let server: ServerHandle;
  const session = useServer({
    files: { 'train.ts': base },
    initializationOptions: { requestDeadlineMs: 500 },
    ready: async ({ server: started, scratch }) => {
      server = started;
      await openAndWait(server, scratch.uri('train.ts'), base);
    },
  });

  it('drops a change whose version is older than the document’s', async () => {
    const { scratch } = session;
    const uri = scratch.uri('versions.ts');
    scratch.write('versions.ts', base);
    await openAndWait(server, uri, base);
    const third = server.diagnosticsFor(uri, (p) => p.version === 3);
    await replaceDocument(server, uri, fixed, 3);
    expect(codes((await third).diagnostics)).not.toContain('@gradflow/require-set-to-none');
    // Version 2 arrives late, with the old text: it must not become current.
    await replaceDocument(server, uri, base, 2);
    // An incremental change at version 4 applies to version 3's text.
    const fourth = server.diagnosticsFor(uri, (p) => p.version === 4);
    await server.connection.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: 4 },
      contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '// v4\n' }],
    });
    expect(codes((await fourth).diagnostics)).not.toContain('@gradflow/require-set-to-none');
    expect(server.published.filter((p) => p.uri === uri).map((p) => p.version)).not.toContain(2);
  });

  it('lints 20 files edited in interleaved bursts about once per burst, not once per version', async () => {
    const { scratch } = session;
    const files = Array.from({ length: 20 }, (_, i) => `burst${String(i)}.ts`);
    await Promise.all(
      files.map((name) => {
        scratch.write(name, base);
        return openAndWait(server, scratch.uri(name), base);
      }),
    );
    const lintsBefore = await lintCount(server);
    const BURSTS = 5;
    const EDITS_PER_BURST = 5;
    let version = 1;
    for (let burst = 0; burst < BURSTS; burst++) {
      for (let edit = 0; edit < EDITS_PER_BURST; edit++) {
        version += 1;
        for (const name of files) {
          await server.connection.sendNotification('textDocument/didChange', {
            textDocument: { uri: scratch.uri(name), version },
            contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: ' ' }],
          });
        }
      }
      await pause(20);
    }
    const last = version;
    const settled = files.map((name) => server.diagnosticsFor(scratch.uri(name), (p) => p.version === last, 120_000));
    for (const diagnostics of await Promise.all(settled)) {
      expect(codes(diagnostics.diagnostics)).toContain('@gradflow/require-set-to-none');
    }
    const lints = (await lintCount(server)) - lintsBefore;
    console.log(`interleaved bursts: ${String(lints)} lints for ${String(files.length * BURSTS * EDITS_PER_BURST)} versions`);
    // 500 versions; linting each would be 500 lints. Coalesced: a few per file at most.
    expect(lints).toBeGreaterThanOrEqual(files.length);
    expect(lints).toBeLessThanOrEqual(files.length * 4);
    for (const name of files) {
      const versions = server.published.filter((p) => p.uri === scratch.uri(name)).map((p) => p.version ?? 0);
      expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    }
    for (const name of files)
      await server.connection.sendNotification('textDocument/didClose', { textDocument: { uri: scratch.uri(name) } });
  }, 180_000);

  it('answers hovers and code actions on one file while a long lint of another runs', async () => {
    const { scratch } = session;
    const uri = scratch.uri('train.ts');
    const big = trainingFile(5000);
    scratch.write('big.ts', big);
    const bigUri = scratch.uri('big.ts');
    const bigLint = { done: false };
    const bigPublished = server
      .diagnosticsFor(bigUri, () => true, 180_000)
      .then((p) => {
        bigLint.done = true;
        return p;
      });
    await openDocument(server, bigUri, big);
    await pause(300); // the big lint has started

    const lines = base.split('\n');
    const line = lines.findIndex((l) => l.includes('const optimizer'));
    const started = Date.now();
    const hover: Hover | null = await server.connection.sendRequest('textDocument/hover', {
      textDocument: { uri },
      position: { line, character: (lines[line]?.indexOf('optimizer') ?? 0) + 1 },
    });
    const hoverMs = Date.now() - started;
    const leaf = lines.findIndex((l) => l.includes('shift.add_(1)'));
    const actions: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: leaf, character: 0 }, end: { line: leaf + 1, character: 0 } },
      context: { diagnostics: [], only: ['quickfix'] },
    });
    const bothMs = Date.now() - started;
    const stillLinting = !bigLint.done;
    console.log(
      `hover ${String(hoverMs)} ms, hover+actions ${String(bothMs)} ms, big lint still running: ${String(stillLinting)}, hover: ${JSON.stringify(hover).slice(0, 40)}`,
    );
    // The lint worker is busy; the hover worker, which lints nothing, answers in full meanwhile; the
    // code actions come from the last results on the main thread.
    expect(hoverMs).toBeLessThan(5_000);
    expect(actions.map((a) => a.title)).toContain('Disable @gradflow/no-leaf-inplace for this line');
    expect(JSON.stringify(hover)).toContain('SGD');
    expect(bothMs).toBeLessThan(8_000);

    const bigDiagnostics = (await bigPublished).diagnostics;
    expect(ruleLines(bigDiagnostics).length).toBeGreaterThan(0);
    // Once the lint is over the hover answers in full again.
    const after: Hover | null = await server.connection.sendRequest('textDocument/hover', {
      textDocument: { uri },
      position: { line, character: (lines[line]?.indexOf('optimizer') ?? 0) + 1 },
    });
    expect(JSON.stringify(after)).toContain('SGD');
  }, 240_000);
});
