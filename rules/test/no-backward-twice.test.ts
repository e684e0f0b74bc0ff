import rule from '../src/no-backward-twice.js';
import { IMPORTS, ruleTester } from './rule-tester.js';

const code = (body: string): string => IMPORTS + body;
const W = 'const w = tensor([1, 2], { requiresGrad: true });\n';

ruleTester.run('no-backward-twice', rule, {
  valid: [
    // A helper that backpropagates what it is given, called once per fresh graph.
    code(W + 'function backprop(loss: Tensor): void {\n  loss.backward();\n}\nbackprop(w.mul(w).sum());\nbackprop(w.mul(w).sum());'),
    code(W + 'const loss = w.mul(w).sum();\nloss.backward(undefined, { retainGraph: true });\nloss.backward();'),
    // add and sum save no tensors, so a second backward through them works (as in PyTorch).
    code(W + 'const loss = w.add(1).sum();\nloss.backward();\nloss.backward();'),
    // A fresh graph every iteration.
    code(W + 'for (let i = 0; i < 3; i++) {\n  const loss = w.mul(w).sum();\n  loss.backward();\n}'),
    // Two losses over separate graphs.
    code(W + 'const l1 = w.mul(w).sum();\nconst l2 = w.exp().sum();\nl1.backward();\nl2.backward();'),
    // Exclusive branches run one backward each.
    code(W + 'declare const flag: boolean;\nconst loss = w.mul(w).sum();\nif (flag) loss.backward();\nelse loss.backward();'),
    // Options that are not a literal: unknown, so silent.
    code(
      W + 'declare const opts: { retainGraph?: boolean };\nconst loss = w.mul(w).sum();\nloss.backward(undefined, opts);\nloss.backward();',
    ),
    // An early return separates them.
    code(
      W +
        'function f(flag: boolean) {\n  const loss = w.mul(w).sum();\n  if (flag) {\n    loss.backward();\n    return;\n  }\n  loss.backward();\n}\nf(true);',
    ),
    // A model's forward runs anew on each call: two losses from two forward calls are two graphs.
    code(
      'class Net extends nn.Module {\n  l = new nn.Linear(2, 1);\n  forward(x: Tensor): Tensor { return this.l.forward(x).exp(); }\n}\nconst net = new Net();\nfor (let i = 0; i < 3; i++) {\n  net.forward(randn([1, 2])).sum().backward();\n  net.forward(randn([1, 2])).mean().backward();\n}',
    ),
    'class Tensor { mul(x: Tensor) { return this; } sum() { return this; } backward() {} }\nconst loss = new Tensor().mul(new Tensor()).sum();\nloss.backward();\nloss.backward();',
    code(W + 'const loss = w.mul(w).sum();\nconst [g] = autograd.grad(loss, w, { createGraph: true });\nloss.backward();\nconsole.log(g);'),
  ],
  invalid: [
    {
      // The helper's backward (one call site) frees the graph; the fix goes into the helper.
      code: code(
        W +
          'function backprop(loss: Tensor): void {\n  loss.backward();\n}\nconst loss = w.mul(w).sum();\nbackprop(loss);\nloss.backward();',
      ),
      errors: [
        {
          messageId: 'secondBackward',
          line: 8,
          suggestions: [
            {
              messageId: 'retainGraph',
              output: code(
                W +
                  'function backprop(loss: Tensor): void {\n  loss.backward(undefined, { retainGraph: true });\n}\nconst loss = w.mul(w).sum();\nbackprop(loss);\nloss.backward();',
              ),
            },
          ],
        },
      ],
    },
    {
      code: code(W + 'const loss = w.mul(w).sum();\nloss.backward();\nloss.backward();'),
      errors: [
        {
          messageId: 'secondBackward',
          line: 5,
          suggestions: [
            {
              messageId: 'retainGraph',
              output: code(W + 'const loss = w.mul(w).sum();\nloss.backward(undefined, { retainGraph: true });\nloss.backward();'),
            },
          ],
        },
      ],
    },
    {
      // Two losses sharing the model's forward pass.
      code: code(
        'const model = new nn.Linear(2, 1);\nconst out = model.forward(randn([4, 2]));\nconst l1 = out.sum();\nconst l2 = out.mean();\nl1.backward();\nl2.backward();',
      ),
      errors: [
        {
          messageId: 'secondBackward',
          line: 7,
          suggestions: [
            {
              messageId: 'retainGraph',
              output: code(
                'const model = new nn.Linear(2, 1);\nconst out = model.forward(randn([4, 2]));\nconst l1 = out.sum();\nconst l2 = out.mean();\nl1.backward(undefined, { retainGraph: true });\nl2.backward();',
              ),
            },
          ],
        },
      ],
    },
    {
      // The graph is built once, outside the loop.
      code: code(W + 'const loss = w.exp().sum();\nfor (let i = 0; i < 3; i++) loss.backward();'),
      errors: [{ messageId: 'backwardInLoop', line: 4, suggestions: [] }],
    },
    {
      // autograd.grad frees the graph as backward() does.
      code: code(W + 'const loss = w.mul(w).sum();\nconst [g] = autograd.grad(loss, w);\nloss.backward();\nconsole.log(g);'),
      errors: [
        {
          messageId: 'secondBackward',
          line: 5,
          suggestions: [
            {
              messageId: 'retainGraph',
              output: code(
                W +
                  'const loss = w.mul(w).sum();\nconst [g] = autograd.grad(loss, w, { retainGraph: true });\nloss.backward();\nconsole.log(g);',
              ),
            },
          ],
        },
      ],
    },
  ],
});
