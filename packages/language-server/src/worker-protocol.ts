// The messages between the server's main thread (lint-host.ts) and a lint worker (lint-worker.ts).
import type { LintOutcome } from './lint-runner.js';

/** A lint's result as it crosses to the main thread: the TypeScript program stays in the worker. */
export type LintReport = Omit<LintOutcome, 'program'>;

export type WorkerRequest =
  | { id: number; kind: 'lint'; filePath: string; text: string; version: number }
  /** Markdown for the hover at `offset` of the given version's program, or null. */
  | { id: number; kind: 'hover'; filePath: string; version: number; offset: number }
  | { id: number; kind: 'invalidate' }
  | { id: number; kind: 'forget'; filePath: string };

export type WorkerReply =
  /** The file's ESLint config is loaded; the lint proper starts (a lint-phase time limit from here). */
  | { id: number; kind: 'configLoaded' }
  | { id: number; kind: 'done'; value: LintReport | string | null | undefined }
  | { id: number; kind: 'failed'; message: string; stack: string | undefined };

export interface WorkerData {
  /** The ESLint config file this worker lints with, or the default workspace's name. */
  workspace: string;
}
