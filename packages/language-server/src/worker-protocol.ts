// The messages between the server (lint-host.ts) and a lint worker process (lint-worker.ts), over the
// worker's IPC channel with the `advanced` serialization (structured clone: Maps cross intact).
import type { LintOutcome } from './lint-runner.js';

/** A lint's result as it crosses to the server: the TypeScript program stays in the worker. */
export type LintReport = Omit<LintOutcome, 'program'>;

/** A hover's answer: markdown (or null: nothing to say) from the program of that version, or `missing` when the worker has none. */
export type HoverAnswer = { markdown: string | null } | { missing: true };

export type WorkerRequest =
  | { id: number; kind: 'lint'; filePath: string; text: string; version: number }
  /** What to show at `offset` of the given version's program. */
  | { id: number; kind: 'hover'; filePath: string; version: number; offset: number }
  /** Hover role: what to show at `offset` of `text` (the document's current text). */
  | { id: number; kind: 'hoverText'; filePath: string; text: string; offset: number }
  /** Hover role: build the program and analysis of `text` before the first hover. */
  | { id: number; kind: 'prepare'; filePath: string; text: string }
  | { id: number; kind: 'invalidate' }
  | { id: number; kind: 'forget'; filePath: string };

export type WorkerReply =
  /** The file's ESLint config is loaded; the lint proper starts (a lint-phase time limit from here). */
  | { id: number; kind: 'configLoaded' }
  | { id: number; kind: 'done'; value: LintReport | HoverAnswer | null | undefined }
  | { id: number; kind: 'failed'; message: string; stack: string | undefined };

/** The environment variable saying a worker serves hovers only (hover-service.ts), not lints. */
export const ROLE_ENV = 'GRADFLOW_WORKER_ROLE';

/** The environment variable naming the ESLint config file a worker lints with (or the default workspace's name). */
export const WORKSPACE_ENV = 'GRADFLOW_LINT_WORKSPACE';
