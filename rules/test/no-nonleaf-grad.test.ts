import rule from '../src/no-nonleaf-grad.js';
import { IMPORTS, ruleTester } from './rule-tester.js';

const code = (body: string): string => IMPORTS + body;

ruleTester.run('no-nonleaf-grad', rule, {
  valid: [
    code('const w = tensor([1, 2], { requiresGrad: true });\nw.mul(2).sum().backward();\nconsole.log(w.grad);'),
    code(
      'const w = tensor([1, 2], { requiresGrad: true });\nconst h = w.mul(2);\nh.retainGrad();\nh.sum().backward();\nconsole.log(h.grad);',
    ),
    code('const layer = new nn.Linear(2, 1);\nconsole.log(layer.weight.grad);'),
    // Writing .grad is not reading it.
    code('const w = tensor([1, 2], { requiresGrad: true });\nconst h = w.mul(2);\nh.grad = null;'),
    // Computed under noGrad: a leaf.
    code('const w = tensor([1, 2], { requiresGrad: true });\nconst h = noGrad(() => w.mul(2));\nconsole.log(h.grad);'),
    'class Tensor { grad = 1; mul(x: number) { return new Tensor(); } }\nconst h = new Tensor().mul(2);\nconsole.log(h.grad);',
  ],
  invalid: [
    {
      code: code('const w = tensor([1, 2], { requiresGrad: true });\nconst h = w.mul(2);\nh.sum().backward();\nconsole.log(h.grad);'),
      errors: [
        {
          messageId: 'nonLeafGrad',
          line: 5,
          suggestions: [
            {
              messageId: 'retainGrad',
              output: code(
                'const w = tensor([1, 2], { requiresGrad: true });\nconst h = w.mul(2);\nh.retainGrad();\nh.sum().backward();\nconsole.log(h.grad);',
              ),
            },
          ],
        },
      ],
    },
    {
      code: code(
        'const model = new nn.Linear(2, 1);\nfunction run() {\n  const out = model.forward(randn([1, 2]));\n  out.sum().backward();\n  return out.grad;\n}\nrun();',
      ),
      errors: [
        {
          messageId: 'nonLeafGrad',
          line: 6,
          suggestions: [
            {
              messageId: 'retainGrad',
              output: code(
                'const model = new nn.Linear(2, 1);\nfunction run() {\n  const out = model.forward(randn([1, 2]));\n  out.retainGrad();\n  out.sum().backward();\n  return out.grad;\n}\nrun();',
              ),
            },
          ],
        },
      ],
    },
    {
      // A model that caches an activation in a field.
      code: code(
        'class Monitored extends nn.Module {\n  inner = new nn.Linear(3, 3);\n  lastHidden: Tensor | null = null;\n  forward(x: Tensor): Tensor {\n    const hidden = this.inner.forward(x).tanh();\n    this.lastHidden = hidden;\n    return hidden.sum();\n  }\n}\nconst model = new Monitored();\nmodel.forward(randn([1, 3])).backward();\nconsole.log(model.lastHidden?.grad);',
      ),
      errors: [{ messageId: 'nonLeafGrad', line: 13, suggestions: [] }],
    },
  ],
});
