import rule from '../src/valid-requires-grad.js';
import { IMPORTS, ruleTester } from './rule-tester.js';

const code = (body: string): string => IMPORTS + body;

ruleTester.run('valid-requires-grad', rule, {
  valid: [
    code('const w = tensor([1, 2]);\nw.requiresGrad = true;'),
    code("const w = tensor([1, 2], { dtype: 'float64' });\nw.requiresGrad_();"),
    // requiresGrad = true on a non-leaf that already requires grad is a no-op, as in PyTorch.
    code('const w = tensor([1, 2], { requiresGrad: true });\nconst h = w.mul(2);\nh.requiresGrad = true;'),
    // A non-leaf computed from tensors that do not require grad is a leaf.
    code('const x = tensor([1, 2]);\nconst y = x.mul(2);\ny.requiresGrad = false;'),
    code('const w = tensor([1, 2], { requiresGrad: true });\nconst d = w.mul(2).detach();\nd.requiresGrad = false;'),
    code("const i = tensor([1, 2], { dtype: 'int32' });\ni.requiresGrad = false;"),
    'class Tensor { requiresGrad = true; }\nconst t = new Tensor();\nt.requiresGrad = false;',
  ],
  invalid: [
    {
      code: code('const w = tensor([1, 2], { requiresGrad: true });\nconst h = w.mul(2);\nh.requiresGrad = false;\nh.sum();'),
      errors: [
        {
          messageId: 'nonLeaf',
          line: 4,
          suggestions: [
            {
              messageId: 'useDetach',
              output: code('const w = tensor([1, 2], { requiresGrad: true });\nconst h = w.mul(2).detach();\nh.sum();'),
            },
          ],
        },
      ],
    },
    {
      code: code('const layer = new nn.Linear(2, 1);\nconst out = layer.forward(tensor([[1, 2]]));\nout.requiresGrad_(false);'),
      errors: [
        {
          messageId: 'nonLeaf',
          line: 4,
          suggestions: [
            {
              messageId: 'useDetach',
              output: code('const layer = new nn.Linear(2, 1);\nconst out = layer.forward(tensor([[1, 2]])).detach();'),
            },
          ],
        },
      ],
    },
    {
      // A later backward() goes through `out`: detaching it where it is computed would leave that
      // backward without a graph (NO_GRAD_FN), so no suggestion (fuzz, fixtures/valid-requires-grad/fuzz-output-requires-grad-false.ts).
      code: code(
        'const layer = new nn.Linear(2, 1);\nconst out = layer.forward(tensor([[1, 2]]));\nout.requiresGrad = false;\nout.sum().backward();',
      ),
      errors: [{ messageId: 'nonLeaf', line: 4, suggestions: [] }],
    },
    {
      code: code("const labels = tensor([0, 1], { dtype: 'int32' });\nlabels.requiresGrad = true;"),
      errors: [
        {
          messageId: 'integer',
          line: 3,
          suggestions: [
            { messageId: 'useFloat', output: code("const labels = tensor([0, 1], { dtype: 'float32' });\nlabels.requiresGrad = true;") },
          ],
        },
      ],
    },
    {
      code: code("const labels = zeros([2], { dtype: 'int32', requiresGrad: true });"),
      errors: [
        {
          messageId: 'integer',
          suggestions: [{ messageId: 'useFloat', output: code("const labels = zeros([2], { dtype: 'float32', requiresGrad: true });") }],
        },
      ],
    },
  ],
});
