// Drives the real server binary over stdio as an editor would: initialize, open the buggy fixture,
// receive diagnostics, ask for code actions, apply one, see the diagnostic go away, hover.
import { describe, expect, it } from 'vitest';
import type { CodeAction, Diagnostic, Hover, InitializeResult, TextDocumentEdit } from 'vscode-languageserver-protocol';
import { applyEdits, fixtureText, fixtureUri, openAndWait, replaceDocument, ruleLines, type ServerHandle } from './support/lsp-client.js';
import { useServer } from './support/session.js';

const uri = fixtureUri('train.ts');
const original = fixtureText('train.ts');
/** 0-based line of the first line containing `needle` in the fixture. */
const lineOf = (needle: string) => original.split('\n').findIndex((line) => line.includes(needle));

describe('gradflow-language-server over stdio', () => {
  let server: ServerHandle;
  let initResult: InitializeResult;
  let diagnostics: Diagnostic[];
  /** The editor's text as the edits below change it. */
  let text = original;
  const latest = (): Diagnostic[] => server.published.filter((p) => p.uri === uri).at(-1)?.diagnostics ?? [];

  useServer({
    ready: async (session) => {
      ({ server, initResult } = session);
      diagnostics = await openAndWait(server, uri, original);
    },
  });

  it('announces push diagnostics, quick fixes, hover', () => {
    const caps = initResult.capabilities;
    expect(caps.hoverProvider).toBe(true);
    expect(caps.codeActionProvider).toMatchObject({ codeActionKinds: ['quickfix'] });
    expect(caps.diagnosticProvider).toBeUndefined(); // this client did not ask for pull
  });

  it('reports the fixture’s mistakes with rule ids, links and lines', () => {
    expect(ruleLines(diagnostics)).toEqual([
      ['@gradflow/no-leaf-inplace', lineOf('shift.add_(1)')],
      ['@gradflow/require-set-to-none', lineOf('optimizer.zeroGrad()')],
      ['@gradflow/no-freeze-after-optimizer', lineOf('encoder.weight.requiresGrad = false')],
    ]);
    for (const diagnostic of diagnostics) {
      expect(diagnostic.source).toBe('gradflow');
      const rule = String(diagnostic.code).replace('@gradflow/', '');
      expect(diagnostic.codeDescription?.href).toMatch(new RegExp(`${rule}\\.md$`));
    }
  });

  it('points at the second place that matters', () => {
    const frozen = diagnostics.find((d) => d.code === '@gradflow/no-freeze-after-optimizer');
    const related = frozen?.relatedInformation ?? [];
    expect(related.map((r) => [r.location.uri, r.location.range.start.line])).toContainEqual([
      uri,
      lineOf('const optimizer = new optim.SGD'),
    ]);
  });

  it('offers the suggestion, disable-for-line and documentation for a diagnostic', async () => {
    const leaf = diagnostics.find((d) => d.code === '@gradflow/no-leaf-inplace');
    expect(leaf).toBeDefined();
    if (leaf === undefined) return;
    const actions: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: leaf.range,
      context: { diagnostics: [leaf], only: ['quickfix'] },
    });
    const titles = actions.map((a) => a.title);
    expect(titles).toContain('Disable @gradflow/no-leaf-inplace for this line');
    expect(titles).toContain('Show documentation for @gradflow/no-leaf-inplace');
    const show = actions.find((a) => a.command?.command === 'gradflow.showDocumentation');
    expect(show?.command?.arguments).toEqual([leaf.codeDescription?.href]);
    // The rule's own suggestion comes first and is the preferred fix.
    expect(actions[0]?.isPreferred).toBe(true);
    expect(actions[0]?.edit).toBeDefined();
  });

  it('applies the preferred quick fix and the diagnostic goes away', async () => {
    const setToNone = diagnostics.find((d) => d.code === '@gradflow/require-set-to-none');
    expect(setToNone).toBeDefined();
    if (setToNone === undefined) return;
    const actions: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: setToNone.range,
      context: { diagnostics: [setToNone], only: ['quickfix'] },
    });
    const preferred = actions.find((a) => a.isPreferred === true && a.diagnostics?.[0]?.code === setToNone.code);
    const change = preferred?.edit?.documentChanges?.[0] as TextDocumentEdit | undefined;
    expect(change?.textDocument).toEqual({ uri, version: 1 });
    const fixed = applyEdits(text, change?.edits ?? []);
    expect(fixed).toContain('zeroGrad({ setToNone: true })');

    const republished = server.diagnosticsFor(uri, (p) => p.version === 2);
    await replaceDocument(server, uri, fixed, 2);
    const after = (await republished).diagnostics;
    expect(after.map((d) => d.code)).not.toContain('@gradflow/require-set-to-none');
    expect(after.map((d) => d.code)).toContain('@gradflow/no-leaf-inplace');
    text = fixed;
  });

  it('disables a rule for one line through the code action', async () => {
    const leaf = latest().find((d) => d.code === '@gradflow/no-leaf-inplace');
    if (leaf === undefined) throw new Error('no no-leaf-inplace diagnostic to disable');
    const actions: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: leaf.range,
      context: { diagnostics: [leaf] },
    });
    const disable = actions.find((a) => a.title === 'Disable @gradflow/no-leaf-inplace for this line');
    const change = disable?.edit?.documentChanges?.[0] as TextDocumentEdit | undefined;
    expect(change?.textDocument).toEqual({ uri, version: 2 });
    const disabled = applyEdits(text, change?.edits ?? []);
    expect(disabled).toContain('// eslint-disable-next-line @gradflow/no-leaf-inplace\nshift.add_(1);');

    const republished = server.diagnosticsFor(uri, (p) => p.version === 3);
    await replaceDocument(server, uri, disabled, 3);
    expect((await republished).diagnostics.map((d) => d.code)).not.toContain('@gradflow/no-leaf-inplace');
    text = disabled;
  });

  const hoverAt = async (needle: string, word: string): Promise<string | null> => {
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes(needle));
    const hover: Hover | null = await server.connection.sendRequest('textDocument/hover', {
      textDocument: { uri },
      position: { line, character: (lines[line]?.indexOf(word) ?? 0) + 1 },
    });
    if (hover === null) return null;
    return typeof hover.contents === 'object' && 'value' in hover.contents ? hover.contents.value : JSON.stringify(hover.contents);
  };
  // 1-based lines of the current (edited) text, as the hover shows them.
  const shownLine = (needle: string) => String(text.split('\n').findIndex((l) => l.includes(needle)) + 1);

  it('hovers a parameter with its gradient status: requires grad, leaf, frozen where, held by which optimizer', async () => {
    const value = await hoverAt('encoder.weight.requiresGrad = false', 'weight');
    expect(value).toMatch(/requires grad: yes; leaf: yes/);
    expect(value).toContain(`frozen at line ${shownLine('encoder.weight.requiresGrad = false')}`);
    expect(value).toContain(`held by \`optimizer\` (SGD, line ${shownLine('const optimizer')})`);
  });

  it('hovers an optimizer and a computed tensor', async () => {
    expect(await hoverAt('const optimizer', 'optimizer')).toMatch(/SGD[\s\S]*holds: .*`shift`/);
    expect(await hoverAt('const loss', 'loss')).toMatch(/requires grad: yes; leaf: no/);
  });

  it('has no hover where there is no tensor, parameter, module or optimizer', async () => {
    expect(await hoverAt('for (let step = 0', 'step')).toBeNull();
  });
});
