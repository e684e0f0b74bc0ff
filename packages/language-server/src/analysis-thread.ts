// The analysis thread of a lint worker (precompute.ts): a program of its own, kept in step with the
// lint's (every text the lint's provider is given comes here too), and the rules' reports on the
// file of each lint, computed while ESLint parses and traverses the same text on the main thread.
import { workerData, type MessagePort } from 'node:worker_threads';
import type ts from 'typescript';
import { importTypescript, ProgramProvider } from './program-provider.js';
import type { ThreadReply, ThreadRequest } from './precompute.js';

interface Capture {
  captureReports: (
    program: ts.Program,
    fileName: string,
    stop?: () => boolean,
  ) => { rulesUrl: string; reports: Partial<Record<string, unknown[]>> } | undefined;
}

const { tsPath, captureUrl, signal, port } = workerData as {
  tsPath: string;
  captureUrl: string;
  signal: SharedArrayBuffer;
  port: MessagePort;
};
/** [0]: replies posted (precompute.ts waits on it); [1]: the jobs up to this id are no longer wanted. */
const shared = new Int32Array(signal);
const unwanted = (id: number): boolean => Atomics.load(shared, 1) >= id;

const ready = (async () => {
  const [tsModule, capture] = await Promise.all([importTypescript(tsPath), import(captureUrl) as Promise<Capture>]);
  return { provider: new ProgramProvider(tsModule), capture };
})();

function reply(message: ThreadReply): void {
  port.postMessage(message);
  // The main thread may be blocked in Atomics.wait for this reply (precompute.ts).
  Atomics.add(shared, 0, 1);
  Atomics.notify(shared, 0);
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (request: ThreadRequest) => {
  // Each message in turn; a failure answers its job (if it has one) and never stops the queue.
  queue = queue.then(async () => {
    try {
      const { provider, capture } = await ready;
      switch (request.kind) {
        case 'text':
          provider.setText(request.filePath, request.text);
          return;
        case 'close':
          provider.close(request.filePath);
          return;
        case 'invalidate':
          provider.invalidate();
          return;
        case 'reports': {
          // A lint that ended without asking (a syntax error stops ESLint before the rules), or a
          // newer one: the text still goes to the program, the analysis stops (between rules).
          if (unwanted(request.id)) {
            provider.setText(request.filePath, request.text);
            reply({ id: request.id, failed: 'no longer wanted' });
            return;
          }
          const program = provider.programFor(request.filePath, request.text);
          const captured =
            program === undefined ? undefined : capture.captureReports(program, request.filePath, () => unwanted(request.id));
          reply(captured === undefined ? { id: request.id, failed: 'no reports' } : { id: request.id, ...captured });
        }
      }
    } catch (error) {
      if (request.kind === 'reports') reply({ id: request.id, failed: error instanceof Error ? error.message : String(error) });
    }
  });
});
