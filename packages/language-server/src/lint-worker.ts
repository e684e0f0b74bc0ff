// A lint worker: one child process per workspace (per ESLint config; files without one share a
// worker) that owns ESLint, the workspace's config and the TypeScript program. The workspace's own
// code (its config, its plugins) runs here, where it cannot block or corrupt the server's LSP
// connection: this process's stdin is closed and its stdout is a pipe to the server (which logs what
// arrives on it to stderr), so not even `fs.writeSync(1, …)` from a native path or a worker thread
// reaches the protocol stream; `process.exit` ends this process only; a hang is ended by the
// server's time limit (SIGKILL). Messages travel over the IPC channel (lint-host.ts).
import { Worker } from 'node:worker_threads';
import { describeHover } from './hover.js';
import { LintRunner } from './lint-runner.js';
import type { CapturedProgram } from './program-capture.js';
import { HoverService } from './hover-service.js';
import type { HoverAnswer, WorkerReply, WorkerRequest } from './worker-protocol.js';
import { ROLE_ENV, WORKSPACE_ENV } from './worker-protocol.js';

// typescript-eslint infers a "single run" (files never change, programs never updated) when CI=true
// or when ESLint runs from its CLI; an editor's files change with every keystroke, and an importer
// must see its helper's unsaved text.
process.env.TSESTREE_SINGLE_RUN = 'false';

const send = process.send?.bind(process);
if (send === undefined) throw new Error('lint-worker.js runs as a child process of the language server, with an IPC channel');
// Which workspace this worker serves (its ESLint config), for messages.
export const workspace = process.env[WORKSPACE_ENV] ?? '';
export const role = process.env[ROLE_ENV] === 'hover' ? 'hover' : 'lint';

/**
 * The server is gone (killed outright, or it crashed): nobody is left to read the replies. Its IPC
 * channel closing is noticed on this process's event loop, which a workspace's code may be blocking
 * (a config that spins); a watchdog thread notices the parent change even then.
 */
process.on('disconnect', () => process.exit(0));
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
setInterval(() => { if (process.ppid !== workerData.ppid) process.kill(process.pid, 'SIGKILL'); }, 500);
`;
new Worker(WATCHDOG, { eval: true, workerData: { ppid: process.ppid } }).unref();

const runner = new LintRunner();
/** In the hover role (`GRADFLOW_WORKER_ROLE=hover`) this process answers hovers only, never lints. */
const hovers = new HoverService();
/** The program of the last lint of each file, with the document version it was linted at: hovers read it. */
const programs = new Map<string, { version: number; captured: CapturedProgram }>();

const reply = (message: WorkerReply) => {
  send(message, undefined, {}, () => undefined); // a send to a server that is gone is dropped
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
          outcome === undefined
            ? undefined
            : {
                messages: outcome.messages,
                docsUrls: outcome.docsUrls,
                related: outcome.related,
                serverProgram: outcome.serverProgram,
                reusedStatements: outcome.reusedStatements,
                precomputedRules: outcome.precomputedRules,
              };
        reply({ id: request.id, kind: 'done', value: report });
        return;
      }
      case 'hover': {
        // Not queued behind lints: it reads a program that is already built.
        const known = programs.get(request.filePath);
        const answer: HoverAnswer =
          known?.version === request.version ? { markdown: await describeHover(known.captured, request.offset) } : { missing: true };
        reply({ id: request.id, kind: 'done', value: answer });
        return;
      }
      case 'hoverText': {
        const markdown = await hovers.hover(request.filePath, request.text, request.offset);
        const answer: HoverAnswer = markdown === undefined ? { missing: true } : { markdown };
        reply({ id: request.id, kind: 'done', value: answer });
        return;
      }
      case 'prepare':
        await hovers.prepare(request.filePath, request.text);
        reply({ id: request.id, kind: 'done', value: null });
        return;
      case 'invalidate':
        hovers.invalidate();
        await runner.invalidate();
        reply({ id: request.id, kind: 'done', value: null });
        return;
      case 'forget':
        programs.delete(request.filePath);
        runner.forget(request.filePath);
        hovers.forget(request.filePath);
        reply({ id: request.id, kind: 'done', value: null });
        return;
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const stack = error instanceof Error ? error.stack : undefined;
    reply({ id: request.id, kind: 'failed', message, stack });
  }
}

process.on('message', (request: WorkerRequest) => {
  void handle(request);
});
