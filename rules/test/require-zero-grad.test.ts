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
    // A module's zeroGrad() clears part of what the optimizer holds, and the rest never gets a gradient (detached trunk).
    code(
      'const trunk = new nn.Linear(2, 3);\nconst head = new nn.Linear(3, 1);\nconst opt = new optim.SGD([...trunk.parameters(), ...head.parameters()]);\nconst x = randn([4, 2]);\n' +
        'for (let i = 0; i < 3; i++) {\n  head.zeroGrad();\n  head.forward(trunk.forward(x).detach()).sum().backward();\n  opt.step();\n}',
    ),
    // …or it clears every part the optimizer holds.
    code(
      'const trunk = new nn.Linear(2, 3);\nconst head = new nn.Linear(3, 1);\nconst opt = new optim.SGD([...trunk.parameters(), ...head.parameters()]);\nconst x = randn([4, 2]);\n' +
        'for (let i = 0; i < 3; i++) {\n  head.zeroGrad();\n  trunk.zeroGrad();\n  head.forward(trunk.forward(x)).sum().backward();\n  opt.step();\n}',
    ),
    // The only other layer of the Sequential holds no parameters.
    code(
      'const model = new nn.Sequential(new nn.Tanh(), new nn.Linear(2, 1));\nconst opt = new optim.SGD(model.parameters());\n' +
        'for (let i = 0; i < 3; i++) {\n  model.at(1).zeroGrad();\n  model.forward(randn([4, 2])).sum().backward();\n  opt.step();\n}',
    ),
  ],
  invalid: [
    {
      // The head is cleared, the trunk is stepped and gets a gradient on every iteration.
      code: code(
        'const trunk = new nn.Linear(2, 3);\nconst head = new nn.Linear(3, 1);\nconst opt = new optim.SGD([...trunk.parameters(), ...head.parameters()]);\nconst x = randn([4, 2]);\n' +
          'for (let i = 0; i < 3; i++) {\n  head.zeroGrad();\n  head.forward(trunk.forward(x)).sum().backward();\n  opt.step();\n}',
      ),
      errors: [
        {
          messageId: 'partialZeroGrad',
          line: 9,
          data: { cleared: 'head', step: 'opt.step()', missed: 'trunk', optimizer: 'opt', helper: '' },
          suggestions: [
            {
              messageId: 'addZeroGrad',
              data: { optimizer: 'opt' },
              output: code(
                'const trunk = new nn.Linear(2, 3);\nconst head = new nn.Linear(3, 1);\nconst opt = new optim.SGD([...trunk.parameters(), ...head.parameters()]);\nconst x = randn([4, 2]);\n' +
                  'for (let i = 0; i < 3; i++) {\n  opt.zeroGrad({ setToNone: true });\n  head.zeroGrad();\n  head.forward(trunk.forward(x)).sum().backward();\n  opt.step();\n}',
              ),
            },
          ],
        },
      ],
    },
    {
      // A Sequential's last layer is cleared; its first Linear accumulates.
      code: code(
        'const model = new nn.Sequential(new nn.Linear(2, 3), new nn.Tanh(), new nn.Linear(3, 1));\nconst opt = new optim.Adam(model.parameters());\n' +
          'for (let i = 0; i < 3; i++) {\n  model.at(2).zeroGrad({ setToNone: true });\n  model.forward(randn([4, 3])).sum().backward();\n  opt.step();\n}',
      ),
      errors: [
        {
          messageId: 'partialZeroGrad',
          line: 7,
          data: { cleared: 'model.at(2)', step: 'opt.step()', missed: 'model.at(0)', optimizer: 'opt', helper: '' },
          suggestions: [
            {
              messageId: 'addZeroGrad',
              data: { optimizer: 'opt' },
              output: code(
                'const model = new nn.Sequential(new nn.Linear(2, 3), new nn.Tanh(), new nn.Linear(3, 1));\nconst opt = new optim.Adam(model.parameters());\n' +
                  'for (let i = 0; i < 3; i++) {\n  opt.zeroGrad({ setToNone: true });\n  model.at(2).zeroGrad({ setToNone: true });\n  model.forward(randn([4, 3])).sum().backward();\n  opt.step();\n}',
              ),
            },
          ],
        },
      ],
    },
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
