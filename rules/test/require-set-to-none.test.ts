import rule from '../src/require-set-to-none.js';
import { IMPORTS, ruleTester } from './rule-tester.js';

const code = (body: string): string => IMPORTS + body;

// The seed scenario: layer1's output is detached on odd epochs, and Adam keeps moving layer1.
const MODEL = `class TwoLayer extends nn.Module {
  layer1 = new nn.Linear(4, 8, { bias: false });
  layer2 = new nn.Linear(8, 3, { bias: false });
  forward(x: Tensor, detachLayer1 = false): Tensor {
    let h = this.layer1.forward(x).relu();
    if (detachLayer1) h = h.detach();
    return this.layer2.forward(h);
  }
}
const model = new TwoLayer();
const x = randn([5, 4]);
`;
const loop = (opt: string, zero: string): string =>
  code(`${MODEL}const optimizer = ${opt};
for (let epoch = 0; epoch < 4; epoch++) {
  optimizer.${zero};
  const loss = model.forward(x, epoch % 2 === 1).sum();
  loss.backward();
  optimizer.step();
}`);

ruleTester.run('require-set-to-none', rule, {
  valid: [
    loop('new optim.Adam(model.parameters(), { lr: 0.1 })', 'zeroGrad({ setToNone: true })'),
    // Plain SGD: a zero gradient moves nothing.
    loop('new optim.SGD(model.parameters(), { lr: 0.1 })', 'zeroGrad()'),
    // Momentum that is not a literal: unknown, so silent.
    code(
      MODEL +
        'declare const m: number;\nconst optimizer = new optim.SGD(model.parameters(), { lr: 0.1, momentum: m });\noptimizer.zeroGrad();\nconst h = model.layer1.forward(x).detach();',
    ),
    // The optimizer holds only layer2, whose flow is never cut.
    loop('new optim.Adam(model.layer2.parameters())', 'zeroGrad()'),
    // Always cut (never received a gradient): its grad stays null, so step() skips it anyway.
    code(
      'const enc = new nn.Linear(4, 4);\nconst head = new nn.Linear(4, 1);\nconst opt = new optim.Adam([...enc.parameters(), ...head.parameters()]);\nfor (let i = 0; i < 3; i++) {\n  opt.zeroGrad();\n  const h = noGrad(() => enc.forward(randn([2, 4])));\n  head.forward(h).sum().backward();\n  opt.step();\n}',
    ),
    'class Adam { zeroGrad() {} }\nconst optimizer = new Adam();\noptimizer.zeroGrad();',
  ],
  invalid: [
    {
      code: loop('new optim.Adam(model.parameters(), { lr: 0.1 })', 'zeroGrad()'),
      errors: [
        {
          messageId: 'zeroFilled',
          line: 15,
          suggestions: [
            { messageId: 'setToNone', output: loop('new optim.Adam(model.parameters(), { lr: 0.1 })', 'zeroGrad({ setToNone: true })') },
          ],
        },
      ],
    },
    {
      code: loop('new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })', 'zeroGrad({ setToNone: false })'),
      errors: [
        {
          messageId: 'zeroFilled',
          suggestions: [
            {
              messageId: 'setToNone',
              output: loop('new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 })', 'zeroGrad({ setToNone: true })'),
            },
          ],
        },
      ],
    },
    {
      // Freezing part of the model after it has been trained: its zero-filled grads still feed weight decay.
      code: code(
        'const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Linear(8, 1));\nconst opt = new optim.SGD(model.parameters(), { lr: 0.1, weightDecay: 0.01 });\nfor (let epoch = 0; epoch < 10; epoch++) {\n  if (epoch === 5) for (const p of model.at(0).parameters()) p.requiresGrad = false;\n  opt.zeroGrad();\n  model.forward(randn([2, 4])).sum().backward();\n  opt.step();\n}',
      ),
      errors: [
        {
          messageId: 'zeroFilled',
          line: 6,
          suggestions: [
            {
              messageId: 'setToNone',
              output: code(
                'const model = new nn.Sequential(new nn.Linear(4, 8), new nn.Linear(8, 1));\nconst opt = new optim.SGD(model.parameters(), { lr: 0.1, weightDecay: 0.01 });\nfor (let epoch = 0; epoch < 10; epoch++) {\n  if (epoch === 5) for (const p of model.at(0).parameters()) p.requiresGrad = false;\n  opt.zeroGrad({ setToNone: true });\n  model.forward(randn([2, 4])).sum().backward();\n  opt.step();\n}',
              ),
            },
          ],
        },
      ],
    },
    {
      // model.zeroGrad() zero-fills the same gradients the Adam optimizer then applies.
      code: code(`${MODEL}const optimizer = new optim.Adam(model.parameters());
for (let epoch = 0; epoch < 4; epoch++) {
  model.zeroGrad();
  model.forward(x, epoch % 2 === 1).sum().backward();
  optimizer.step();
}`),
      errors: [
        {
          messageId: 'zeroFilled',
          line: 15,
          suggestions: [
            {
              messageId: 'setToNone',
              output: code(`${MODEL}const optimizer = new optim.Adam(model.parameters());
for (let epoch = 0; epoch < 4; epoch++) {
  model.zeroGrad({ setToNone: true });
  model.forward(x, epoch % 2 === 1).sum().backward();
  optimizer.step();
}`),
            },
          ],
        },
      ],
    },
  ],
});
