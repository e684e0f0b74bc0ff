import rule from '../src/valid-no-grad.js';
import { IMPORTS, ruleTester } from './rule-tester.js';

const code = (body: string): string => IMPORTS + body;
const ENC_HEAD = 'const enc = new nn.Linear(4, 4);\nconst head = new nn.Linear(4, 1);\nconst x = randn([2, 4]);\n';

ruleTester.run('valid-no-grad', rule, {
  valid: [
    // A linear probe on detached features: the head still needs a gradient.
    code(ENC_HEAD + 'const loss = head.forward(enc.forward(x).detach()).sum();\nloss.backward();'),
    // Detached, but `requiresGrad = true` makes a new leaf that records again.
    code(ENC_HEAD + 'const f = enc.forward(x).detach();\nf.requiresGrad = true;\nf.mul(2).sum().backward();'),
    // Trained on the first step, then run under noGrad (a warm-up, then a linear probe): a schedule, not a cut.
    code(
      ENC_HEAD +
        'const opt = new optim.SGD([...enc.parameters(), ...head.parameters()], { lr: 0.1 });\nfor (let step = 0; step < 3; step++) {\n  const features = step === 0 ? enc.forward(x) : noGrad(() => enc.forward(x));\n  head.forward(features).sum().backward();\n  opt.step();\n}',
    ),
    // backward() inside noGrad is harmless, as in PyTorch, when the loss was recorded outside.
    code('const w = tensor([1, 2], { requiresGrad: true });\nconst loss = w.mul(w).sum();\nnoGrad(() => loss.backward());'),
    code('const w = tensor([1, 2], { requiresGrad: true });\nconst y = noGrad(() => w.mul(2));\nconsole.log(y.item);'),
    // A synchronous callback.
    code('noGrad(() => 1);'),
    // Feature extraction from a frozen encoder that the optimizer does not hold.
    code(
      ENC_HEAD +
        'const opt = new optim.Adam(head.parameters());\nconst h = noGrad(() => enc.forward(x));\nhead.forward(h).sum().backward();\nopt.step();',
    ),
    // Evaluation under noGrad of a model that is trained elsewhere with gradients.
    code(
      ENC_HEAD +
        'const opt = new optim.Adam([...enc.parameters(), ...head.parameters()]);\nhead.forward(enc.forward(x)).sum().backward();\nopt.step();\nconst evalOut = noGrad(() => enc.forward(x));\nconsole.log(head.forward(evalOut));',
    ),
    // The loss mixes a target computed under noGrad with a recorded prediction.
    code(
      'const w = tensor([1, 2], { requiresGrad: true });\nconst target = noGrad(() => w.mul(3));\nw.mul(2).sub(target).pow(2).sum().backward();',
    ),
    // A user function called noGrad is not the library's.
    'function noGrad(fn: () => Promise<void>) { return fn(); }\nnoGrad(async () => {});',
  ],
  invalid: [
    {
      // Computed only from a detached output: no gradFn.
      code: code(ENC_HEAD + 'const out = enc.forward(x).detach();\nconst loss = out.mul(2).sum();\nloss.backward();'),
      errors: [
        {
          messageId: 'backwardOnDetached',
          line: 7,
          suggestions: [
            {
              messageId: 'dropDetach',
              output: code(ENC_HEAD + 'const out = enc.forward(x);\nconst loss = out.mul(2).sum();\nloss.backward();'),
            },
          ],
        },
      ],
    },
    {
      code: code(
        'const w = tensor([1, 2], { requiresGrad: true });\nconst out = noGrad(() => w.mul(2));\nconst loss = out.sum();\nloss.backward();',
      ),
      errors: [
        {
          messageId: 'backwardOnNoGrad',
          line: 5,
          suggestions: [
            {
              messageId: 'unwrapNoGrad',
              output: code(
                'const w = tensor([1, 2], { requiresGrad: true });\nconst out = w.mul(2);\nconst loss = out.sum();\nloss.backward();',
              ),
            },
          ],
        },
      ],
    },
    {
      // Computed and backpropagated inside one noGrad block.
      code: code(
        'const model = new nn.Linear(2, 1);\nnoGrad(() => {\n  const loss = model.forward(randn([1, 2])).sum();\n  loss.backward();\n});',
      ),
      errors: [{ messageId: 'backwardOnNoGrad', line: 5, suggestions: [] }],
    },
    {
      code: code('noGrad(async () => { await Promise.resolve(); });'),
      errors: [{ messageId: 'asyncCallback', suggestions: [] }],
    },
    {
      code: code('const w = tensor([1, 2], { requiresGrad: true });\nenableGrad(async () => w.mul(2));'),
      errors: [
        {
          messageId: 'asyncCallback',
          suggestions: [
            { messageId: 'removeAsync', output: code('const w = tensor([1, 2], { requiresGrad: true });\nenableGrad(() => w.mul(2));') },
          ],
        },
      ],
    },
    {
      // The encoder is trained by the optimizer, but its only forward runs under noGrad.
      code: code(
        ENC_HEAD +
          'const opt = new optim.Adam([...enc.parameters(), ...head.parameters()]);\nconst h = noGrad(() => enc.forward(x));\nhead.forward(h).sum().backward();\nopt.step();',
      ),
      errors: [
        {
          messageId: 'cutsTrainedPath',
          line: 6,
          suggestions: [
            {
              messageId: 'unwrapNoGrad',
              output: code(
                ENC_HEAD +
                  'const opt = new optim.Adam([...enc.parameters(), ...head.parameters()]);\nconst h = enc.forward(x);\nhead.forward(h).sum().backward();\nopt.step();',
              ),
            },
          ],
        },
      ],
    },
    {
      // A predict() helper with noGrad inside, reused in the training loss.
      code: code(
        'function predict(model: nn.Module, x: Tensor): Tensor {\n  return noGrad(() => model.forward(x));\n}\nconst model = new nn.Linear(3, 1);\nconst opt = new optim.SGD(model.parameters(), { lr: 0.1 });\nconst loss = predict(model, randn([4, 3])).sum();\nloss.backward();\nopt.step();',
      ),
      errors: [
        {
          messageId: 'backwardOnNoGrad',
          line: 8,
          suggestions: [
            {
              messageId: 'unwrapNoGrad',
              output: code(
                'function predict(model: nn.Module, x: Tensor): Tensor {\n  return model.forward(x);\n}\nconst model = new nn.Linear(3, 1);\nconst opt = new optim.SGD(model.parameters(), { lr: 0.1 });\nconst loss = predict(model, randn([4, 3])).sum();\nloss.backward();\nopt.step();',
              ),
            },
          ],
        },
      ],
    },
  ],
});
