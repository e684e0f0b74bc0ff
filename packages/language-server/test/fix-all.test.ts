// The server offers no "fix all": gradflow's rules have suggestions only (a fix that changes what the
// program computes is a suggestion, never an autofix), so a `source.fixAll.gradflow` limited to
// gradflow's fixes would never change anything, and other plugins' autofixes are ESLint's and
// vscode-eslint's (`source.fixAll.eslint`) to apply. This workspace adds another plugin's
// behaviour-preserving autofix to show that the server leaves it alone.
import gradflow from '@gradflow/eslint-plugin';
import { describe, expect, it } from 'vitest';
import type { CodeAction, Diagnostic } from 'vscode-languageserver-protocol';
import { openAndWait, ruleLines, type ServerHandle } from './support/lsp-client.js';
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
export default [
  gradflow.configs.recommended,
  { files: ['**/*.ts'], plugins: { local: { rules: { 'redundant-true': redundantTrue } } }, rules: { 'local/redundant-true': 'warn' } },
];
`;

const TEXT = `import { randn } from '@gradflow/autograd';
const w = randn([2], { requiresGrad: true });
const bias = randn([2]);
bias.requiresGrad_(true);
w.add_(1);
`;

const WHOLE_FILE = { start: { line: 0, character: 0 }, end: { line: 5, character: 0 } };

describe('no fix-all', () => {
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

  it('has nothing to apply: no gradflow rule is autofixable', () => {
    // A rule that gains a truly behaviour-preserving autofix would make a fix-all worth offering again.
    const fixable = Object.entries(gradflow.rules).filter(
      ([, rule]) => 'meta' in rule && (rule.meta as { fixable?: string } | undefined)?.fixable !== undefined,
    );
    expect(fixable.map(([name]) => name)).toEqual([]);
  });

  it('reports gradflow problems only, not the other plugin’s', () => {
    expect(ruleLines(diagnostics)).toEqual([['@gradflow/no-leaf-inplace', 4]]);
  });

  it('offers no source.fixAll action, and no quick fix for the other plugin’s autofix', async () => {
    const fixAll: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: WHOLE_FILE,
      context: { diagnostics: [], only: ['source.fixAll'] },
    });
    expect(fixAll).toEqual([]);

    const all: CodeAction[] = await server.connection.sendRequest('textDocument/codeAction', {
      textDocument: { uri },
      range: WHOLE_FILE,
      context: { diagnostics },
    });
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((action) => action.kind === 'quickfix')).toBe(true);
    expect(all.every((action) => action.diagnostics?.every((d) => d.code === '@gradflow/no-leaf-inplace'))).toBe(true);
  });
});
