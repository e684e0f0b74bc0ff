import rule from '../src/no-inplace-on-saved-tensor.js';
import { IMPORTS, ruleTester } from './rule-tester.js';

const code = (body: string): string => IMPORTS + body;

ruleTester.run('no-inplace-on-saved-tensor', rule, {
  valid: [
    // add saves nothing (its derivative is the identity).
    code(
      'const a = tensor([1, 2], { requiresGrad: true });\nconst b = tensor([3, 4]);\nconst c = a.add(b);\nb.add_(1);\nc.sum().backward();',
    ),
    // exp saves its result only when its input needs a gradient; b does not.
    code(
      'const a = tensor([1, 2], { requiresGrad: true });\nconst b = tensor([3, 4]);\nconst e = b.exp();\ne.add_(1);\na.mul(2).add(e).sum().backward();',
    ),
    // The modification comes after backward.
    code(
      'const a = tensor([1, 2], { requiresGrad: true });\nconst b = tensor([3, 4]);\nconst c = a.mul(b);\nc.sum().backward();\nb.add_(1);',
    ),
    // A clone is saved instead.
    code(
      'const a = tensor([1, 2], { requiresGrad: true });\nconst b = tensor([3, 4]);\nconst c = a.mul(b.clone());\nb.add_(1);\nc.sum().backward();',
    ),
    // The graph that saved b is never backpropagated.
    code(
      'const a = tensor([1, 2], { requiresGrad: true });\nconst b = tensor([3, 4]);\nconst c = a.mul(b);\nb.add_(1);\na.sum().backward();',
    ),
    // Under noGrad nothing is recorded, so nothing is saved.
    code(
      'const a = tensor([1, 2], { requiresGrad: true });\nconst b = tensor([3, 4]);\nconst c = noGrad(() => a.mul(b));\nb.add_(1);\nconsole.log(c);',
    ),
    // A step before any backward has no gradients to apply and changes nothing.
    code(
      'const l1 = new nn.Linear(2, 4);\nconst l2 = new nn.Linear(4, 1);\nconst opt = new optim.SGD([...l1.parameters(), ...l2.parameters()], { lr: 0.1 });\nconst out = l2.forward(l1.forward(randn([1, 2])));\nopt.step();\nout.sum().backward();',
    ),
    'class Tensor { mul(x: Tensor) { return this; } add_(x: number) { return this; } backward() {} }\nconst a = new Tensor();\nconst b = new Tensor();\nconst c = a.mul(b);\nb.add_(1);\nc.backward();',
  ],
  invalid: [
    {
      // mul saves `self` for `other`'s gradient: b is saved because a needs a gradient.
      code: code(
        'const a = tensor([1, 2], { requiresGrad: true });\nconst b = tensor([3, 4]);\nconst c = b.mul(a);\nb.mul_(2);\nc.sum().backward();',
      ),
      errors: [
        {
          messageId: 'modifiedSaved',
          line: 5,
          suggestions: [
            {
              messageId: 'cloneOperand',
              output: code(
                'const a = tensor([1, 2], { requiresGrad: true });\nconst b = tensor([3, 4]);\nconst c = b.clone().mul(a);\nb.mul_(2);\nc.sum().backward();',
              ),
            },
          ],
        },
      ],
    },
    {
      code: code(
        'const a = tensor([1, 2], { requiresGrad: true });\nconst b = tensor([3, 4]);\nconst c = a.mul(b);\nb.add_(1);\nc.sum().backward();',
      ),
      errors: [
        {
          messageId: 'modifiedSaved',
          line: 5,
          suggestions: [
            {
              messageId: 'cloneOperand',
              output: code(
                'const a = tensor([1, 2], { requiresGrad: true });\nconst b = tensor([3, 4]);\nconst c = a.mul(b.clone());\nb.add_(1);\nc.sum().backward();',
              ),
            },
          ],
        },
      ],
    },
    {
      // sigmoid saves its result; modifying the result (or a detached alias, which shares its version counter) breaks backward.
      code: code('const w = tensor([1, 2], { requiresGrad: true });\nconst s = w.sigmoid();\ns.detach().mul_(2);\ns.sum().backward();'),
      errors: [{ messageId: 'modifiedSaved', line: 4, suggestions: [] }],
    },
    {
      // Linear saves its input for the weight's gradient.
      code: code(
        'const layer = new nn.Linear(2, 1);\nconst x = randn([1, 2]);\nconst y = layer.forward(x);\nx.setItem_(0, 0);\ny.sum().backward();',
      ),
      errors: [
        {
          messageId: 'modifiedSaved',
          line: 5,
          suggestions: [
            {
              messageId: 'cloneOperand',
              output: code(
                'const layer = new nn.Linear(2, 1);\nconst x = randn([1, 2]);\nconst y = layer.forward(x.clone());\nx.setItem_(0, 0);\ny.sum().backward();',
              ),
            },
          ],
        },
      ],
    },
    {
      // optimizer.step() updates the parameters in place between the forward pass and its backward.
      code: code(
        'const l1 = new nn.Linear(2, 4);\nconst l2 = new nn.Linear(4, 1);\nconst opt = new optim.SGD([...l1.parameters(), ...l2.parameters()], { lr: 0.1 });\nconst out = l2.forward(l1.forward(randn([1, 2])));\nout.sum().backward(undefined, { retainGraph: true });\nopt.step();\nout.mean().backward();',
      ),
      errors: [{ messageId: 'modifiedSaved', line: 7, suggestions: [] }],
    },
    {
      // Inside a model's forward: exp saves its result, and the caller backpropagates through it.
      code: code(
        'class Rate extends nn.Module {\n  linear = new nn.Linear(3, 1);\n  forward(x: Tensor): Tensor {\n    const rate = this.linear.forward(x).exp();\n    rate.add_(1e-3);\n    return rate;\n  }\n}\nconst model = new Rate();\nmodel.forward(randn([2, 3])).sum().backward();',
      ),
      errors: [{ messageId: 'modifiedSaved', line: 6, suggestions: [] }],
    },
    {
      // GAN: one discriminator forward feeds both losses; optD.step() rewrites the weights the generator's backward needs.
      code: code(
        'const g = new nn.Sequential(new nn.Linear(2, 4), new nn.ReLU(), new nn.Linear(4, 3));\nconst d = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 1));\nconst optD = new optim.Adam(d.parameters());\nconst scores = d.forward(g.forward(randn([4, 2])));\nscores.sum().backward(undefined, { retainGraph: true });\noptD.step();\nscores.mean().backward();',
      ),
      errors: [{ messageId: 'modifiedSaved', line: 7, suggestions: [] }],
    },
  ],
});
