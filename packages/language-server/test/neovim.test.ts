// End to end in a real editor: headless Neovim's built-in LSP client starts the server, opens the
// buggy fixture, reads the diagnostics back and applies a quick fix (see neovim/quickfix.lua).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_BIN, fixtureText } from './support/lsp-client.js';
import { scratchWorkspace } from './support/scratch-workspace.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface SeenDiagnostic {
  code: string;
  lnum: number;
  source: string;
}
interface NeovimReport {
  before?: SeenDiagnostic[];
  after?: SeenDiagnostic[];
  applied?: string;
  fixed_line?: string;
  error?: string;
}

function neovimVersion(): string {
  try {
    return execFileSync('nvim', ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch {
    throw new Error('Neovim is required for the end-to-end test: apt-get install neovim (.ci/run installs it)');
  }
}

describe('Neovim end to end', () => {
  const scratch = scratchWorkspace();
  afterAll(() => {
    scratch.remove();
  });

  it('shows the diagnostics in Neovim and applies a quick fix', () => {
    expect(neovimVersion()).toMatch(/^NVIM v0\.(7|8|9|1\d)/);
    const text = fixtureText('train.ts');
    const file = scratch.write('train.ts', text);
    const out = path.join(scratch.dir, 'report.json');
    const run = spawnSync(
      'nvim',
      ['--headless', '-n', '-u', 'NONE', '-i', 'NONE', '-c', `luafile ${path.join(here, 'neovim', 'quickfix.lua')}`],
      {
        env: { ...process.env, GRADFLOW_SERVER: SERVER_BIN, GRADFLOW_FILE: file, GRADFLOW_OUT: out },
        timeout: 150_000,
        encoding: 'utf8',
      },
    );
    let report: NeovimReport;
    try {
      report = JSON.parse(readFileSync(out, 'utf8')) as NeovimReport;
    } catch {
      throw new Error(`Neovim wrote no report (status ${String(run.status)}): ${run.stderr}${run.stdout}`);
    }
    expect(report.error).toBeUndefined();

    const lineOf = (needle: string) => text.split('\n').findIndex((line) => line.includes(needle));
    const rulesAndLines = (seen: SeenDiagnostic[] | undefined) =>
      (seen ?? []).map((d) => [d.code, d.lnum]).sort((a, b) => Number(a[1]) - Number(b[1]));
    expect(rulesAndLines(report.before)).toEqual([
      ['@gradflow/no-leaf-inplace', lineOf('shift.add_(1)')],
      ['@gradflow/require-set-to-none', lineOf('optimizer.zeroGrad()')],
      ['@gradflow/no-freeze-after-optimizer', lineOf('encoder.weight.requiresGrad = false')],
    ]);
    expect(report.before?.every((d) => d.source === 'gradflow')).toBe(true);
    expect(report.fixed_line).toContain('zeroGrad({ setToNone: true })');
    // With setToNone the frozen weight's gradient is null at every later step, so SGD skips it (its
    // momentum no longer moves it): the late freeze is no longer reported either.
    expect(rulesAndLines(report.after)).toEqual([['@gradflow/no-leaf-inplace', lineOf('shift.add_(1)')]]);
  }, 180_000);
});
