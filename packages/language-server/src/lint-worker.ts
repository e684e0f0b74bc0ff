// A lint worker: one thread per workspace (per ESLint config; files without one share a worker) that
// owns ESLint, the workspace's config and typescript-eslint's TypeScript program. The workspace's
// own code (its config, its plugins) runs here, where it cannot block or corrupt the main thread's
// LSP connection: the worker is started with `stdout: true`, so what this code writes to
// `process.stdout` reaches the main thread as data (which logs it to stderr), never the protocol
// stream; `process.exit` here ends this thread only; a hang is ended by the main thread's time limit.
import { parentPort, workerData } from 'node:worker_threads';
import { describeHover } from './hover.js';
import { LintRunner } from './lint-runner.js';
import type { CapturedProgram } from './program-capture.js';
import type { WorkerData, WorkerReply, WorkerRequest } from './worker-protocol.js';

// typescript-eslint infers a "single run" (files never change, programs never updated) when CI=true
// or when ESLint runs from its CLI; an editor's files change with every keystroke, and an importer
// must see its helper's unsaved text. This worker's process.env is its own copy.
process.env.TSESTREE_SINGLE_RUN = 'false';

const port = parentPort;
if (port === null) throw new Error('lint-worker.js runs as a worker thread of the language server');
// Which workspace this worker serves (its ESLint config), for messages.
export const workspace = (workerData as WorkerData).workspace;

const runner = new LintRunner();
/** The program of the last lint of each file, with the document version it was linted at: hovers read it. */
const programs = new Map<string, { version: number; captured: CapturedProgram }>();

const reply = (message: WorkerReply) => {
  port.postMessage(message);
};

async function handle(request: WorkerRequest): Promise<void> {
  try {
    switch (request.kind) {
      case 'lint': {
        const outcome = await runner.lint(request.filePath, request.text, {
          onConfigLoaded: () => {
            reply({ id: request.id, kind: 'configLoaded' });
          },
        });
        if (outcome?.program !== undefined) programs.set(request.filePath, { version: request.version, captured: outcome.program });
        else programs.delete(request.filePath);
        const report =
          outcome === undefined ? undefined : { messages: outcome.messages, docsUrls: outcome.docsUrls, related: outcome.related };
        reply({ id: request.id, kind: 'done', value: report });
        return;
      }
      case 'hover': {
        // Not queued behind lints: it reads a program that is already built.
        const known = programs.get(request.filePath);
        const markdown = known?.version === request.version ? await describeHover(known.captured, request.offset) : null;
        reply({ id: request.id, kind: 'done', value: markdown });
        return;
      }
      case 'invalidate':
        await runner.invalidate();
        reply({ id: request.id, kind: 'done', value: null });
        return;
      case 'forget':
        programs.delete(request.filePath);
        reply({ id: request.id, kind: 'done', value: null });
        return;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error ? error.stack : undefined;
    reply({ id: request.id, kind: 'failed', message, stack });
  }
}

port.on('message', (request: WorkerRequest) => {
  void handle(request);
});
