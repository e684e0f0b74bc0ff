import rule from '../src/no-leaf-inplace.js';
import { IMPORTS, ruleTester } from './rule-tester.js';

const code = (body: string): string => IMPORTS + body;

ruleTester.run('no-leaf-inplace', rule, {
  valid: [
    // The optimizer pattern: updates under noGrad.
    code('const w = tensor([1, 2], { requiresGrad: true });\nnoGrad(() => { w.sub_(0.1); });'),
    code('const layer = new nn.Linear(2, 2);\nnoGrad(() => layer.parameters().forEach((p) => p.mul_(0.5)));'),
    // Not requiring grad, or not a leaf: in-place is allowed (and recorded on non-leaves).
    code('const x = tensor([1, 2]);\nx.add_(1);'),
    code('const w = tensor([1, 2], { requiresGrad: true });\nconst h = w.mul(2);\nh.add_(1);'),
    code('const w = tensor([1, 2], { requiresGrad: true });\nw.detach().add_(1);'),
    code('const w = tensor([1, 2], { requiresGrad: true });\nw.requiresGrad = false;\nw.add_(1);'),
    // A helper called only from inside noGrad runs with recording off.
    code('const w = tensor([1, 2], { requiresGrad: true });\nfunction decay() { w.mul_(0.9); }\nnoGrad(() => decay());'),
    // A user class that happens to be called Tensor is not the library's.
    'class Tensor { add_(x: number) { return x; } }\nconst t = new Tensor();\nt.add_(1);',
    // Unknown provenance: a plain Tensor parameter may or may not require grad.
    code('function f(t: Tensor) { t.add_(1); }'),
    // The layer was frozen first, so its weight no longer requires grad.
    code('const layer = new nn.Linear(2, 2);\nfor (const p of layer.parameters()) p.requiresGrad = false;\nlayer.weight.mul_(0.5);'),
  ],
  invalid: [
    {
      code: code('const w = tensor([1, 2], { requiresGrad: true });\nw.add_(1);'),
      errors: [
        {
          messageId: 'leafInplace',
          line: 3,
          suggestions: [
            { messageId: 'wrapInNoGrad', output: code('const w = tensor([1, 2], { requiresGrad: true });\nnoGrad(() => w.add_(1));') },
            { messageId: 'useDetach', output: code('const w = tensor([1, 2], { requiresGrad: true });\nw.detach().add_(1);') },
          ],
        },
      ],
    },
    {
      // The manual SGD step: wrapping only the call would put \`w.grad\` in an arrow where the if's
      // narrowing no longer holds (a type error); the whole if goes inside noGrad.
      code: code('const w = tensor([1, 2], { requiresGrad: true });\nif (w.grad) w.sub_(w.grad.mul(0.1));'),
      errors: [
        {
          messageId: 'leafInplace',
          line: 3,
          suggestions: [
            {
              messageId: 'wrapInNoGrad',
              output: code(
                'const w = tensor([1, 2], { requiresGrad: true });\nnoGrad(() => {\n  if (w.grad) w.sub_(w.grad.mul(0.1));\n});',
              ),
            },
            {
              messageId: 'useDetach',
              output: code('const w = tensor([1, 2], { requiresGrad: true });\nif (w.grad) w.detach().sub_(w.grad.mul(0.1));'),
            },
          ],
        },
      ],
    },
    {
      // noGrad is imported on demand by the suggestion.
      code: "import { nn } from '@gradflow/autograd';\nconst layer = new nn.Linear(2, 2);\nlayer.weight.zero_();",
      errors: [
        {
          messageId: 'leafInplace',
          suggestions: [
            {
              messageId: 'wrapInNoGrad',
              output:
                "import { nn, noGrad } from '@gradflow/autograd';\nconst layer = new nn.Linear(2, 2);\nnoGrad(() => layer.weight.zero_());",
            },
            {
              messageId: 'useDetach',
              output: "import { nn } from '@gradflow/autograd';\nconst layer = new nn.Linear(2, 2);\nlayer.weight.detach().zero_();",
            },
          ],
        },
      ],
    },
    {
      // Parameters reached by iterating model.parameters() outside noGrad.
      code: code('const model = new nn.Linear(2, 2);\nfor (const p of model.parameters()) p.sub_(0.1);'),
      errors: [
        {
          messageId: 'leafInplace',
          line: 3,
          suggestions: [
            {
              messageId: 'wrapInNoGrad',
              output: code('const model = new nn.Linear(2, 2);\nfor (const p of model.parameters()) noGrad(() => p.sub_(0.1));'),
            },
            {
              messageId: 'useDetach',
              output: code('const model = new nn.Linear(2, 2);\nfor (const p of model.parameters()) p.detach().sub_(0.1);'),
            },
          ],
        },
      ],
    },
    {
      // enableGrad inside noGrad turns recording back on.
      code: code('const w = new nn.Parameter(zeros([2]));\nnoGrad(() => enableGrad(() => w.fill_(1)));'),
      errors: [
        {
          messageId: 'leafInplace',
          line: 3,
          suggestions: [
            {
              messageId: 'wrapInNoGrad',
              output: code('const w = new nn.Parameter(zeros([2]));\nnoGrad(() => enableGrad(() => noGrad(() => w.fill_(1))));'),
            },
            {
              messageId: 'useDetach',
              output: code('const w = new nn.Parameter(zeros([2]));\nnoGrad(() => enableGrad(() => w.detach().fill_(1)));'),
            },
          ],
        },
      ],
    },
  ],
});
