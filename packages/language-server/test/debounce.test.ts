// When the server lints: an isolated edit at once, a burst once the typing pauses. The server here
// waits ten minutes for a pause, so any lint that arrives within the test's timeout was not waiting.
import { describe, expect, it } from 'vitest';
import { fixtureText, openDocument, replaceDocument, WATCHING_CAPABILITIES, type ServerHandle } from './support/lsp-client.js';
import type { ScratchWorkspace } from './support/scratch-workspace.js';
import { useServer } from './support/session.js';

const TEN_MINUTES = 600_000;

describe('debouncing', () => {
  let server: ServerHandle;
  let scratch: ScratchWorkspace;
  const base = fixtureText('train.ts');
  const fixed = base.replace('optimizer.zeroGrad();', 'optimizer.zeroGrad({ setToNone: true });');

  // A change on disk re-lints every open document at once, which would look like a lint that did
  // not wait. This client watches files itself (and reports nothing), so the server watches no
  // folder; the documents are opened only once it has registered its watchers.
  useServer({
    files: { 'isolated.ts': base, 'burst.ts': base, 'other.ts': base },
    capabilities: WATCHING_CAPABILITIES,
    awaitWatcherRegistration: true,
    initializationOptions: { debounceMs: TEN_MINUTES },
    ready: (session) => {
      ({ server, scratch } = session);
    },
  });

  it('lints an isolated edit at once, whatever the debounce', async () => {
    const uri = scratch.uri('isolated.ts');
    const opened = server.diagnosticsFor(uri);
    await openDocument(server, uri, base);
    expect((await opened).diagnostics.map((d) => d.code)).toContain('@gradflow/require-set-to-none');

    const edited = server.diagnosticsFor(uri, (p) => p.version === 2);
    await replaceDocument(server, uri, fixed, 2);
    expect((await edited).diagnostics.map((d) => d.code)).not.toContain('@gradflow/require-set-to-none');
  }, 60_000);

  it('holds an edit made while a lint is running until the typing pauses', async () => {
    const uri = scratch.uri('burst.ts');
    const opened = server.diagnosticsFor(uri);
    await openDocument(server, uri, base);
    await opened;
    const publishedBefore = server.published.length;

    // Version 2 starts a lint at once; version 3 arrives while it runs, so it waits for a pause
    // (ten minutes here), and version 2's result is stale by the time it is ready: nothing is published.
    await replaceDocument(server, uri, fixed, 2);
    await replaceDocument(server, uri, base, 3);
    // A lint of another document queues behind version 2's, so once it is published, version 2's is done.
    const other = scratch.uri('other.ts');
    const otherOpened = server.diagnosticsFor(other);
    await openDocument(server, other, base);
    await otherOpened;
    expect(
      server.published
        .slice(publishedBefore)
        .filter((p) => p.uri === uri)
        .map((p) => p.version),
    ).toEqual([]);
  }, 60_000);
});
