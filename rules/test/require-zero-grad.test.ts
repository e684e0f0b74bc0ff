import rule from '../src/require-zero-grad.js';
import { IMPORTS, ruleTester } from './rule-tester.js';

const code = (body: string): string => IMPORTS + body;
const SETUP = 'const model = new nn.Linear(2, 1);\nconst opt = new optim.SGD(model.parameters(), { lr: 0.1 });\nconst x = randn([4, 2]);\n';

ruleTester.run('require-zero-grad', rule, {
  valid: [
    code(SETUP + 'for (let i = 0; i < 3; i++) {\n  opt.zeroGrad();\n  model.forward(x).sum().backward();\n  opt.step();\n}'),
    code(
      SETUP +
        'for (let i = 0; i < 3; i++) {\n  model.zeroGrad({ setToNone: true });\n  model.forward(x).sum().backward();\n  opt.step();\n}',
    ),
    // Gradient accumulation: cleared every few steps.
    code(
      SETUP +
        'for (let i = 0; i < 8; i++) {\n  model.forward(x).sum().backward();\n  if (i % 4 === 3) {\n    opt.step();\n    opt.zeroGrad();\n  }\n}',
    ),
    // Manual clearing.
    code(
      SETUP +
        'for (let i = 0; i < 3; i++) {\n  model.forward(x).sum().backward();\n  opt.step();\n  for (const p of model.parameters()) p.grad = null;\n}',
    ),
    // Cleared in a helper called from the loop.
    code(
      SETUP +
        'function clear() { opt.zeroGrad(); }\nfor (let i = 0; i < 3; i++) {\n  clear();\n  model.forward(x).sum().backward();\n  opt.step();\n}',
    ),
    // One step, no loop.
    code(SETUP + 'model.forward(x).sum().backward();\nopt.step();'),
    // Two optimizers, each cleared in the loop.
    code(
      'const g = new nn.Linear(2, 2);\nconst d = new nn.Linear(2, 1);\nconst optG = new optim.Adam(g.parameters());\nconst optD = new optim.Adam(d.parameters());\nfor (let i = 0; i < 3; i++) {\n  optD.zeroGrad();\n  d.forward(g.forward(randn([1, 2])).detach()).sum().backward();\n  optD.step();\n  optG.zeroGrad();\n  d.forward(g.forward(randn([1, 2]))).sum().backward();\n  optG.step();\n}',
    ),
    // A user's own optimizer and tensor classes are not the library's.
    'class Tensor { backward() {} }\nclass SGD { step() {} }\nconst opt = new SGD();\nfor (let i = 0; i < 3; i++) {\n  new Tensor().backward();\n  opt.step();\n}',
  ],
  invalid: [
    {
      code: code(SETUP + 'for (let i = 0; i < 3; i++) {\n  const loss = model.forward(x).sum();\n  loss.backward();\n  opt.step();\n}'),
      errors: [
        {
          messageId: 'noZeroGrad',
          line: 8,
          suggestions: [
            {
              messageId: 'addZeroGrad',
              output: code(
                SETUP +
                  'for (let i = 0; i < 3; i++) {\n  opt.zeroGrad({ setToNone: true });\n  const loss = model.forward(x).sum();\n  loss.backward();\n  opt.step();\n}',
              ),
            },
          ],
        },
      ],
    },
    {
      // The step lives in a helper that the loop calls.
      code: code(
        SETUP +
          'function trainStep() {\n  model.forward(x).sum().backward();\n  opt.step();\n}\nfor (let epoch = 0; epoch < 3; epoch++) trainStep();',
      ),
      errors: [{ messageId: 'noZeroGrad', line: 7, suggestions: [] }],
    },
    {
      // Clearing the discriminator's optimizer does not clear the generator's gradients.
      code: code(
        'const g = new nn.Linear(2, 2);\nconst d = new nn.Linear(2, 1);\nconst optG = new optim.Adam(g.parameters());\nconst optD = new optim.Adam(d.parameters());\nfor (let i = 0; i < 3; i++) {\n  optD.zeroGrad();\n  d.forward(g.forward(randn([1, 2])).detach()).sum().backward();\n  optD.step();\n  d.forward(g.forward(randn([1, 2]))).sum().backward();\n  optG.step();\n}',
      ),
      errors: [
        {
          messageId: 'noZeroGrad',
          line: 11,
          suggestions: [
            {
              messageId: 'addZeroGrad',
              output: code(
                'const g = new nn.Linear(2, 2);\nconst d = new nn.Linear(2, 1);\nconst optG = new optim.Adam(g.parameters());\nconst optD = new optim.Adam(d.parameters());\nfor (let i = 0; i < 3; i++) {\n  optG.zeroGrad({ setToNone: true });\n  optD.zeroGrad();\n  d.forward(g.forward(randn([1, 2])).detach()).sum().backward();\n  optD.step();\n  d.forward(g.forward(randn([1, 2]))).sum().backward();\n  optG.step();\n}',
              ),
            },
          ],
        },
      ],
    },
    {
      // A trainer class whose method the loop calls.
      code: code(
        'class Trainer {\n  private readonly opt: optim.Adam;\n  constructor(private readonly model: nn.Module) {\n    this.opt = new optim.Adam(model.parameters());\n  }\n  trainStep(x: Tensor): void {\n    this.model.forward(x).sum().backward();\n    this.opt.step();\n  }\n}\nconst trainer = new Trainer(new nn.Linear(2, 1));\nfor (let epoch = 0; epoch < 3; epoch++) trainer.trainStep(randn([1, 2]));',
      ),
      errors: [{ messageId: 'noZeroGrad', line: 9, suggestions: [] }],
    },
    {
      // Clearing once before the loop does not clear each iteration.
      code: code(
        SETUP + 'opt.zeroGrad();\nlet step = 0;\nwhile (step < 3) {\n  model.forward(x).sum().backward();\n  opt.step();\n  step++;\n}',
      ),
      errors: [
        {
          messageId: 'noZeroGrad',
          line: 9,
          suggestions: [
            {
              messageId: 'addZeroGrad',
              output: code(
                SETUP +
                  'opt.zeroGrad();\nlet step = 0;\nwhile (step < 3) {\n  opt.zeroGrad({ setToNone: true });\n  model.forward(x).sum().backward();\n  opt.step();\n  step++;\n}',
              ),
            },
          ],
        },
      ],
    },
  ],
});
