// The rules follow helpers of other files (a manual SGD step in utils.ts reported where main.ts calls
// it with recording on). An edit to the helper, saved or not, must reach the open file that calls it.
import { describe, expect, it } from 'vitest';
import { openAndWait, replaceDocument, STARTUP_TIMEOUT_MS, type ServerHandle } from './support/lsp-client.js';
import { useServer } from './support/session.js';

const helper = (body: string): string => `import { noGrad, type nn } from '@gradflow/autograd';

export function sgdStep(params: nn.Parameter[], lr: number): void {
${body}
}
`;
const UNDER_NO_GRAD = helper('  noGrad(() => { for (const p of params) if (p.grad) p.sub_(p.grad.mul(lr)); });');
const RECORDING = helper('  for (const p of params) if (p.grad) p.sub_(p.grad.mul(lr));');
const MAIN = `import { manualSeed, nn, randn } from '@gradflow/autograd';
import { sgdStep } from './utils.js';

export function main(): void {
  manualSeed(1);
  const model = new nn.Linear(4, 1);
  nn.functional.mseLoss(model.forward(randn([6, 4])), randn([6, 1])).backward();
  sgdStep(model.parameters(), 0.1);
}
`;
const codes = (diagnostics: { code?: unknown }[]) => diagnostics.map((d) => String(d.code));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an edit to an imported helper', () => {
  let server: ServerHandle;
  const session = useServer({
    files: { 'utils.ts': UNDER_NO_GRAD, 'main.ts': MAIN },
    ready: ({ server: started }) => {
      server = started;
    },
  });

  it(
    're-lints the open file that calls it, with the unsaved text of the helper',
    async () => {
      const { scratch } = session;
      const mainUri = scratch.uri('main.ts');
      const utilsUri = scratch.uri('utils.ts');
      expect(codes(await openAndWait(server, utilsUri, UNDER_NO_GRAD))).toEqual([]);
      expect(codes(await openAndWait(server, mainUri, MAIN))).toEqual([]);
      // The helper loses its noGrad in the editor (not saved: the disk still has the noGrad version).
      const reported = server.diagnosticsFor(mainUri, (p) => p.diagnostics.length > 0);
      await replaceDocument(server, utilsUri, RECORDING, 2);
      const { diagnostics } = await reported;
      expect(codes(diagnostics)).toEqual(['@gradflow/no-leaf-inplace']);
      expect(diagnostics[0].range.start.line).toBe(7);
      // A change on disk elsewhere resets the worker's project, which forgets the helper's unsaved
      // text until the helper is linted again; the caller must end up right all the same.
      const afterReset = server.diagnosticsFor(mainUri, (p) => p.diagnostics.length > 0 && p.version === 1);
      scratch.write('unrelated.ts', 'export const unrelated = 1;\n');
      expect(codes((await afterReset).diagnostics)).toEqual(['@gradflow/no-leaf-inplace']);
      await pause(1500);
      expect(codes(server.published.filter((p) => p.uri === mainUri).at(-1)?.diagnostics ?? [])).toEqual(['@gradflow/no-leaf-inplace']);
      // …and back: the report goes away again.
      const cleared = server.diagnosticsFor(mainUri, (p) => p.diagnostics.length === 0);
      await replaceDocument(server, utilsUri, UNDER_NO_GRAD, 3);
      expect((await cleared).diagnostics).toEqual([]);
    },
    STARTUP_TIMEOUT_MS,
  );
});
