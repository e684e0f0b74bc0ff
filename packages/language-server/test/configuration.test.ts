// Which config lints a file, and re-linting when configs or other files change on disk.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PUSH_CAPABILITIES, initialize, openDocument, ruleLines, startServer, type ServerHandle } from './support/lsp-client.js';
import { scratchWorkspace } from './support/scratch-workspace.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const leafBug = "import { randn } from '@gradflow/autograd';\nconst w = randn([2], { requiresGrad: true });\nw.add_(1);\n";

/** A folder outside the repository with no ESLint config: only `@gradflow/autograd` installed. */
function looseFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gradflow-loose-'));
  mkdirSync(path.join(dir, 'node_modules/@gradflow'), { recursive: true });
  symlinkSync(path.join(repoRoot, 'packages/autograd'), path.join(dir, 'node_modules/@gradflow/autograd'));
  return dir;
}

describe('configuration', () => {
  const cleanups: (() => void)[] = [];
  const servers: ServerHandle[] = [];
  afterAll(async () => {
    for (const server of servers) await server.stop();
    for (const cleanup of cleanups) cleanup();
  });
  const started = async (capabilities = PUSH_CAPABILITIES) => {
    const server = startServer();
    servers.push(server);
    await initialize(server, capabilities);
    return server;
  };

  it('gives loose files with no ESLint config and no tsconfig type-aware diagnostics', async () => {
    const server = await started();
    // Two folders: the parser's shared project service must learn about the second one too.
    for (const name of ['first.ts', 'second.ts']) {
      const dir = looseFolder();
      cleanups.push(() => {
        rmSync(dir, { recursive: true, force: true });
      });
      const file = path.join(dir, name);
      writeFileSync(file, leafBug);
      const uri = pathToFileURL(file).href;
      const published = server.diagnosticsFor(uri);
      await openDocument(server, uri, leafBug);
      expect(ruleLines((await published).diagnostics)).toEqual([['@gradflow/no-leaf-inplace', 2]]);
    }
  }, 180_000);

  it('uses the nearest tsconfig.json when there is no ESLint config', async () => {
    const dir = looseFolder();
    cleanups.push(() => {
      rmSync(dir, { recursive: true, force: true });
    });
    writeFileSync(
      path.join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }),
    );
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    mkdirSync(path.join(dir, 'src'));
    const file = path.join(dir, 'src/train.ts');
    writeFileSync(file, leafBug);
    const server = await started();
    const uri = pathToFileURL(file).href;
    const published = server.diagnosticsFor(uri);
    await openDocument(server, uri, leafBug);
    expect(ruleLines((await published).diagnostics)).toEqual([['@gradflow/no-leaf-inplace', 2]]);
  }, 120_000);

  it('re-lints open files when the ESLint config changes on disk (server-side watching)', async () => {
    const scratch = scratchWorkspace();
    cleanups.push(scratch.remove);
    scratch.write('train.ts', leafBug);
    const server = await started(); // this client cannot watch files for the server
    const uri = scratch.uri('train.ts');
    const first = server.diagnosticsFor(uri);
    await openDocument(server, uri, leafBug);
    expect(ruleLines((await first).diagnostics)).toEqual([['@gradflow/no-leaf-inplace', 2]]);

    const relinted = server.diagnosticsFor(uri, (p) => p.diagnostics.length === 0, 60_000);
    scratch.write(
      'eslint.config.mjs',
      "import gradflow from '@gradflow/eslint-plugin';\n" +
        "export default [gradflow.configs.recommended, { rules: { '@gradflow/no-leaf-inplace': 'off' } }];\n",
    );
    expect((await relinted).version).toBe(1);
  }, 120_000);

  it('re-lints open files when the client reports an imported file changed', async () => {
    const scratch = scratchWorkspace();
    cleanups.push(scratch.remove);
    scratch.write('helper.ts', 'export const learningRate = 0.1;\n');
    const text = `import { learningRate } from './helper.js';\n${leafBug}w.mul_(learningRate);\n`;
    scratch.write('train.ts', text);
    const registrations: unknown[] = [];
    const server = startServer();
    servers.push(server);
    server.connection.onRequest('client/registerCapability', (params: unknown) => {
      registrations.push(params);
      return null;
    });
    await initialize(server, {
      ...PUSH_CAPABILITIES,
      workspace: { ...PUSH_CAPABILITIES.workspace, didChangeWatchedFiles: { dynamicRegistration: true } },
    });
    const uri = scratch.uri('train.ts');
    const first = server.diagnosticsFor(uri);
    await openDocument(server, uri, text);
    const before = (await first).diagnostics;
    expect(ruleLines(before)).toEqual([
      ['@gradflow/no-leaf-inplace', 3],
      ['@gradflow/no-leaf-inplace', 4],
    ]);
    expect(JSON.stringify(registrations)).toContain('workspace/didChangeWatchedFiles');

    const publishedBefore = server.published.length;
    const relinted = server.diagnosticsFor(uri, () => server.published.length > publishedBefore, 60_000);
    scratch.write('helper.ts', 'export const learningRate = 0.2;\n');
    await server.connection.sendNotification('workspace/didChangeWatchedFiles', {
      changes: [{ uri: scratch.uri('helper.ts'), type: 2 }],
    });
    expect(ruleLines((await relinted).diagnostics)).toEqual(ruleLines(before));
  }, 120_000);
});
