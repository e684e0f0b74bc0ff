// `source.fixAll.gradflow` applies only autofixes (which keep behaviour), never suggestions (which
// change what the program computes). gradflow's rules have suggestions only, so this workspace adds
// one behaviour-preserving autofixable rule to the plugin to see both kinds side by side.
import { describe, expect, it } from 'vitest';
import type { CodeAction, Diagnostic, TextDocumentEdit } from 'vscode-languageserver-protocol';
import {
  applyEdits,
  openAndWait,
  replaceDocument,
  ruleLines,
  type ServerHandle,
} from './support/lsp-client.js';
import { useServer } from './support/session.js';

// `requiresGrad_(true)` says what `requiresGrad_()` says: dropping the argument changes nothing.
const CONFIG = `import gradflow from '@gradflow/eslint-plugin';

const redundantTrue = {
  meta: { type: 'suggestion', fixable: 'code', schema: [], docs: { description: 'no redundant true' },
          messages: { redundant: 'requiresGrad_(true) is requiresGrad_()' } },
  create(context) {
    return {
      'CallExpression[callee.property.name="requiresGrad_"][arguments.length=1]'(node) {
        const [arg] = node.arguments;
        if (arg.type !== 'Literal' || arg.value !== true) return;
        context.report({ node: arg, messageId: 'redundant', fix: (fixer) => fixer.remove(arg) });
      },
    };
  },
};
const plugin = { ...gradflow, rules: { ...gradflow.rules, 'test-redundant-true': redundantTrue } };
const recommended = gradflow.configs.recommended;
export default [{
  ...recommended,
  plugins: { '@gradflow': plugin },
  rules: { ...recommended.rules, '@gradflow/test-redundant-true': 'warn' },
}];
`;

const TEXT = `import { randn } from '@gradflow/autograd';
const w = randn([2], { requiresGrad: true });
const bias = randn([2]);
bias.requiresGrad_(true);
w.add_(1);
`;

describe('source.fixAll.gradflow', () => {
  let server: ServerHandle;
  let uri: string;
  let diagnostics: Diagnostic[];

  useServer({
    files: { 'eslint.config.mjs': CONFIG, 'train.ts': TEXT },
    ready: async (session) => {
      server = session.server;
      uri = session.scratch.uri('train.ts');
      diagnostics = await openAndWait(server, uri, TEXT);
    },
  });

  it('sees an autofixable problem and a suggestion-only one', () => {
    expect(ruleLines(diagnostics)).toEqual([
      ['@gradflow/test-redundant-true', 3],
      ['@gradflow/no-leaf-inplace', 4],
    ]);
  });

  it('applies the autofix and leaves the suggestion alone', async () => {
    const actions: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [], only: ['source.fixAll.gradflow'] },
    });
    expect(actions.map((a) => a.kind)).toEqual(['source.fixAll.gradflow']);
    const change = actions[0]?.edit?.documentChanges?.[0] as TextDocumentEdit | undefined;
    const fixed = applyEdits(TEXT, change?.edits ?? []);
    expect(fixed).toBe(TEXT.replace('bias.requiresGrad_(true);', 'bias.requiresGrad_();'));

    const republished = server.diagnosticsFor(uri, (p) => p.version === 2);
    await replaceDocument(server, uri, fixed, 2);
    expect(ruleLines((await republished).diagnostics)).toEqual([['@gradflow/no-leaf-inplace', 4]]);
  });

  it('offers nothing when only suggestions remain', async () => {
    const actions: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      context: { diagnostics: [], only: ['source.fixAll'] },
    });
    expect(actions).toEqual([]);
  });
});
