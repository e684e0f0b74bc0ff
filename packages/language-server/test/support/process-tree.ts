// The server's processes, read from /proc (Linux): the binary starts the server again as its child.
import { existsSync, readFileSync } from 'node:fs';

export function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${String(pid)}/task/${String(pid)}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map(Number);
}

/** A process and all its descendants. */
export function processTree(pid: number): number[] {
  return [pid, ...childrenOf(pid).flatMap(processTree)];
}

/** Gone, or a zombie waiting for its parent to reap it. */
export const exited = (pid: number): boolean => {
  try {
    return !existsSync(`/proc/${String(pid)}`) || /State:\s+Z/.test(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  } catch {
    return true;
  }
};

export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
