import rule from '../src/no-freeze-after-optimizer.js';
import { IMPORTS, ruleTester } from './rule-tester.js';

const code = (body: string): string => IMPORTS + body;
const MODEL = 'const model = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 1));\n';

ruleTester.run('no-freeze-after-optimizer', rule, {
  valid: [
    // Freeze first, then build the optimizer.
    code(
      MODEL +
        'for (const p of model.at(0).parameters()) p.requiresGrad = false;\nconst opt = new optim.SGD(model.parameters().filter((p) => p.requiresGrad), { lr: 0.1 });',
    ),
    // The optimizer only holds the head; freezing the first layer does not touch it.
    code(
      MODEL + 'const opt = new optim.Adam(model.at(2).parameters());\nfor (const p of model.at(0).parameters()) p.requiresGrad = false;',
    ),
    // Unfreezing is not freezing.
    code(MODEL + 'const opt = new optim.Adam(model.parameters());\nfor (const p of model.parameters()) p.requiresGrad = true;'),
    // A conditional freeze over a sub-module's parameters: which ones is unknown, and the optimizer holds only another part.
    code(
      MODEL +
        'const opt = new optim.Adam(model.at(2).parameters());\nfor (const [name, p] of model.namedParameters()) if (name.startsWith("0.")) p.requiresGrad = false;',
    ),
    // Exclusive branches: the freeze is on the other arm.
    code(
      MODEL +
        'declare const finetune: boolean;\nif (finetune) { const opt = new optim.Adam(model.parameters()); opt.step(); } else { for (const p of model.parameters()) p.requiresGrad = false; }',
    ),
    // The parameters come from somewhere the analysis cannot see.
    code(
      MODEL +
        'declare const params: Tensor[];\nconst opt = new optim.Adam(params);\nfor (const p of model.parameters()) p.requiresGrad = false;',
    ),
    // The first optimizer is not stepped after the freeze; a new one is built from the trainable parameters.
    code(
      MODEL +
        'const warmup = new optim.Adam(model.parameters());\nwarmup.step();\nfor (const p of model.at(0).parameters()) p.requiresGrad = false;\nconst finetune = new optim.Adam(model.parameters().filter((p) => p.requiresGrad));\nfinetune.step();',
    ),
    // Frozen after the optimizer is built but before any backward: the parameters never get a gradient, and step() skips them.
    code(
      MODEL +
        'const opt = new optim.Adam(model.parameters());\nfor (const p of model.at(0).parameters()) p.requiresGrad = false;\nmodel.forward(randn([2, 4])).sum().backward();\nopt.step();',
    ),
    // A user class named Adam that is not an optimizer of the library.
    'class Adam { constructor(readonly params: { requiresGrad: boolean }[]) {} step() {} }\nconst params = [{ requiresGrad: true }];\nconst opt = new Adam(params);\nfor (const p of params) p.requiresGrad = false;\nopt.step();',
  ],
  invalid: [
    {
      code: code(
        MODEL +
          'const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });\nmodel.forward(randn([2, 4])).sum().backward();\nfor (const p of model.at(0).parameters()) p.requiresGrad = false;',
      ),
      errors: [
        {
          messageId: 'frozenAfter',
          line: 5,
          suggestions: [
            {
              messageId: 'moveOptimizer',
              output: code(
                MODEL +
                  'model.forward(randn([2, 4])).sum().backward();\nfor (const p of model.at(0).parameters()) p.requiresGrad = false;\nconst opt = new optim.Adam(model.parameters().filter((p) => p.requiresGrad), { lr: 1e-3 });',
              ),
            },
          ],
        },
      ],
    },
    {
      // Aliases, spreads and requiresGrad_(false) on a named weight.
      code: code(
        'class Net extends nn.Module {\n  encoder = new nn.Linear(4, 8);\n  head = new nn.Linear(8, 1);\n  forward(x: Tensor): Tensor { return this.head.forward(this.encoder.forward(x)); }\n}\nconst model = new Net();\nconst enc = model.encoder;\nconst opt = new optim.SGD([...model.parameters()], { lr: 0.1, momentum: 0.9 });\nmodel.forward(randn([2, 4])).sum().backward();\nopt.step();\nenc.weight.requiresGrad_(false);\nopt.step();',
      ),
      errors: [{ messageId: 'frozenAfter', line: 12, suggestions: [] }],
    },
    {
      // Param groups, a forEach freeze and a class field.
      code: code(
        MODEL +
          'class Trainer {\n  opt = new optim.Adam([{ params: model.parameters(), lr: 1e-3 }]);\n}\nconst t = new Trainer();\nmodel.forward(randn([2, 4])).sum().backward();\nmodel.parameters().forEach((p) => { p.requiresGrad = false; });',
      ),
      errors: [{ messageId: 'frozenAfter', line: 8, suggestions: [] }],
    },
    {
      // Freezing inside the training loop, after the optimizer was built.
      code: code(
        MODEL +
          'const opt = new optim.Adam(model.parameters());\nfor (let epoch = 0; epoch < 10; epoch++) {\n  if (epoch === 5) for (const p of model.at(0).parameters()) p.requiresGrad = false;\n  model.forward(randn([2, 4])).sum().backward();\n  opt.step();\n}',
      ),
      errors: [{ messageId: 'frozenAfter', line: 5, suggestions: [] }],
    },
    {
      // Freezing in a helper: reported where the helper is called too late; modules passed into Sequential by name.
      code: code(
        'function freeze(m: nn.Module): void {\n  for (const p of m.parameters()) p.requiresGrad = false;\n}\nconst backbone = new nn.Linear(4, 8);\nconst model = new nn.Sequential(backbone, new nn.Linear(8, 1));\nconst opt = new optim.SGD(model.parameters(), { lr: 0.1 });\nmodel.forward(randn([2, 4])).sum().backward();\nfreeze(backbone);',
      ),
      errors: [
        {
          messageId: 'frozenAfter',
          line: 9,
          suggestions: [
            {
              messageId: 'moveOptimizer',
              output: code(
                'function freeze(m: nn.Module): void {\n  for (const p of m.parameters()) p.requiresGrad = false;\n}\nconst backbone = new nn.Linear(4, 8);\nconst model = new nn.Sequential(backbone, new nn.Linear(8, 1));\nmodel.forward(randn([2, 4])).sum().backward();\nfreeze(backbone);\nconst opt = new optim.SGD(model.parameters().filter((p) => p.requiresGrad), { lr: 0.1 });',
              ),
            },
          ],
        },
      ],
    },
    {
      // Freezing by name through a namedParameters() filter: some of the model, all of which the optimizer holds.
      code: code(
        MODEL +
          'const opt = new optim.Adam(model.parameters());\nmodel.forward(randn([2, 4])).sum().backward();\nopt.step();\nmodel.namedParameters().filter(([name]) => name.startsWith("0.")).forEach(([, p]) => { p.requiresGrad = false; });\nopt.step();',
      ),
      errors: [{ messageId: 'frozenAfter', line: 6, suggestions: [] }],
    },
  ],
});
