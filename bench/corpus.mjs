// The generated training corpus of the lint benchmarks (bench/lint.mjs, bench/monorepo.mjs):
// packages of ~150-line training programs (models, loops, evaluation, GAN steps, fine-tuning,
// helpers; a third with the mistakes the rules catch), each package with a helpers module and a
// Trainer class in their own files that every training file imports and calls.
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

/** A package folder for generated programs: package.json, a strict tsconfig and a node_modules link to the engine. */
export function writeProject(dir, { name, include, lib }) {
  mkdirSync(join(dir, 'node_modules', '@gradflow'), { recursive: true });
  symlinkSync(join(repoRoot, 'packages', 'autograd'), join(dir, 'node_modules', '@gradflow', 'autograd'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module' }));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib,
        types: [],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
      include,
    }),
  );
}

/** Writes `count` training files (plus tsconfig and a node_modules link to the engine); returns the line count. */
export function generateCorpus(dir, count, { perPackage = 100 } = {}) {
  writeProject(dir, { name: 'lint-bench-corpus', include: ['src/**/*.ts'], lib: ['ES2023', 'DOM'] });
  let lines = 0;
  // A monorepo: packages of `perPackage` training files, each package with its own helpers module
  // and Trainer class that its training files import (the cross-file facts the rules follow).
  for (let i = 0; i < count; i++) {
    const pkg = join(dir, 'src', `pkg-${String(Math.floor(i / perPackage)).padStart(2, '0')}`);
    if (i % perPackage === 0) {
      mkdirSync(pkg, { recursive: true });
      for (const [name, text] of Object.entries(sharedModules())) {
        lines += text.split('\n').length;
        writeFileSync(join(pkg, name), text);
      }
    }
    const text = trainingFile(i);
    lines += text.split('\n').length;
    writeFileSync(join(pkg, `train-${String(i).padStart(4, '0')}.ts`), text);
  }
  return lines;
}

/** A ~150-line training program; `i` varies names, sizes and which mistakes appear. */
function trainingFile(i) {
  const h = 4 + (i % 5) * 2;
  const opt = ['SGD', 'Adam', 'AdamW', 'RMSprop'][i % 4];
  const optArgs = opt === 'SGD' ? '{ lr: 0.01, momentum: 0.9 }' : '{ lr: 1e-3 }';
  const buggy = i % 3 === 0;
  return `// Generated training program #${i} for the lint benchmark.
import { autograd, manualSeed, nn, noGrad, ones, optim, randn, tensor, zeros, type Tensor } from '@gradflow/autograd';\nimport { applyUpdate, clipGrads, freezeBackbone, gate, makeOptimizer, predict, sgdStep } from './helpers.js';\nimport { Trainer } from './trainer.js';

export class Encoder${i} extends nn.Module {
  readonly fc1 = new nn.Linear(${h}, ${h * 2});
  readonly fc2 = new nn.Linear(${h * 2}, ${h});
  readonly act = new nn.ReLU();
  forward(x: Tensor): Tensor {
    const hidden = this.act.forward(this.fc1.forward(x));
    return this.fc2.forward(hidden).tanh();
  }
}

export class Head${i} extends nn.Module {
  readonly out = new nn.Linear(${h}, 3);
  forward(x: Tensor): Tensor {
    return this.out.forward(x);
  }
}

export class Model${i} extends nn.Module {
  readonly encoder = new Encoder${i}();
  readonly head = new Head${i}();
  forward(x: Tensor): Tensor {
    return this.head.forward(this.encoder.forward(x));
  }
}

function makeBatch${i}(n: number): [Tensor, Tensor] {
  const x = randn([n, ${h}]);
  const labels = tensor(Array.from({ length: n }, (_, k) => k % 3), { dtype: 'int32' });
  return [x, labels];
}

export function trainEpoch${i}(model: Model${i}, opt: optim.${opt}, steps: number): number {
  let total = 0;
  for (let step = 0; step < steps; step++) {
    const [x, labels] = makeBatch${i}(8);
    opt.zeroGrad(${buggy ? '' : '{ setToNone: true }'});
    const logits = model.forward(x);
    const loss = nn.functional.crossEntropy(logits, labels);
    loss.backward();
    ${buggy ? 'console.log(logits.grad);' : 'logits.detach();'}
    opt.step();
    total += loss.item();
  }
  return total / steps;
}

export function evaluate${i}(model: Model${i}, batches: number): number {
  model.eval();
  let correct = 0;
  for (let b = 0; b < batches; b++) {
    const [x, labels] = makeBatch${i}(8);
    const loss = noGrad(() => nn.functional.crossEntropy(model.forward(x), labels));
    correct += loss.item();
  }
  model.train();
  return correct / batches;
}

export function manualUpdate${i}(params: Tensor[], lr: number): void {
  noGrad(() => {
    for (const p of params) {
      const g = p.grad;
      if (g === null) continue;
      p.sub_(g.mul(lr));
    }
  });
  ${buggy ? 'params[0]?.mul_(0.5);' : 'params[0]?.detach().mul_(1);'}
}

export function ganStep${i}(generator: nn.Module, critic: nn.Module, optG: optim.Adam, optD: optim.Adam): void {
  const noise = randn([4, ${h}]);
  const fake = generator.forward(noise);
  optD.zeroGrad({ setToNone: true });
  const lossD = nn.functional.mseLoss(critic.forward(fake.detach()), zeros([4, 3])).add(nn.functional.mseLoss(critic.forward(randn([4, ${h}])), ones([4, 3])));
  lossD.backward();
  optD.step();
  optG.zeroGrad({ setToNone: true });
  const lossG = nn.functional.mseLoss(critic.forward(fake), ones([4, 3]));
  lossG.backward(${buggy ? '' : 'undefined, { retainGraph: false }'});
  optG.step();
}

export function finetune${i}(model: Model${i}): void {
  ${buggy ? '' : 'for (const p of model.encoder.parameters()) p.requiresGrad = false;'}
  const opt = new optim.${opt}(model.parameters(), ${optArgs});
  ${buggy ? 'for (const p of model.encoder.parameters()) p.requiresGrad = false;' : ''}
  for (let epoch = 0; epoch < 2; epoch++) {
    const [x, labels] = makeBatch${i}(6);
    opt.zeroGrad({ setToNone: true });
    const features = ${buggy ? 'noGrad(() => model.encoder.forward(x))' : 'model.encoder.forward(x).detach()'};
    nn.functional.crossEntropy(model.head.forward(features), labels).backward();
    opt.step();
  }
}

export function saliency${i}(model: Model${i}): Tensor | null {
  const [x] = makeBatch${i}(2);
  const input = x.clone().requiresGrad_();
  const scores = model.forward(input);
  const probs = scores.sigmoid();
  ${buggy ? 'probs.mul_(2);' : 'const scaled = probs.mul(2);'}
  probs.sum().backward();
  const [direct] = autograd.grad(model.forward(input).sum(), [input]);
  return direct ?? input.grad;
}

export function accumulate${i}(model: Model${i}, opt: optim.${opt}): void {
  const micro = 2;
  for (let k = 0; k < 4; k++) {
    const [x, labels] = makeBatch${i}(4);
    nn.functional.crossEntropy(model.forward(x), labels).div(micro).backward();
    if ((k + 1) % micro === 0) {
      opt.step();
      opt.zeroGrad(${buggy ? '' : '{ setToNone: true }'});
    }
  }
}

export function cosineLr${i}(opt: optim.${opt}, epoch: number, epochs: number, base: number): void {
  const factor = 0.5 * (1 + Math.cos((Math.PI * epoch) / epochs));
  for (const group of opt.paramGroups) {
    group.lr = base * factor;
  }
}

export function main${i}(): void {
  manualSeed(${i});
  const model = new Model${i}();
  const opt = new optim.${opt}(model.parameters(), ${optArgs});
  const generator = new nn.Sequential(new nn.Linear(${h}, ${h}), new nn.Tanh(), new nn.Linear(${h}, ${h}));
  const critic = new nn.Sequential(new nn.Linear(${h}, ${h}), new nn.ReLU(), new nn.Linear(${h}, 3));
  const optG = new optim.Adam(generator.parameters(), { lr: 2e-4 });
  const optD = new optim.Adam(critic.parameters(), { lr: 2e-4 });
  for (let epoch = 0; epoch < 2; epoch++) {
    trainEpoch${i}(model, opt, 3);
    evaluate${i}(model, 2);
    ganStep${i}(generator, critic, optG, optD);
    accumulate${i}(model, opt);
    cosineLr${i}(opt, epoch, 2, 1e-3);
  }
  manualUpdate${i}(model.parameters(), 0.01);
  finetune${i}(model);
  const labels = tensor([0, 1, 2], { dtype: 'int32' });
  ${buggy ? 'labels.requiresGrad = true;' : 'labels.detach();'}
  saliency${i}(model);
}

export function crossFile${i}(): void {
  const model = new Model${i}();
  const opt = makeOptimizer(model);
  const trainer = new Trainer(new Model${i}());
  for (let step = 0; step < 2; step++) {
    const [x] = makeBatch${i}(4);
    ${buggy ? '' : 'opt.zeroGrad({ setToNone: true });'}
    nn.functional.mseLoss(predict(model, x, step > 0), zeros([4, 3])).backward();
    ${buggy ? 'applyUpdate(opt);' : 'opt.step();'}
    trainer.trainStep(x, zeros([4, 3]));
  }
  ${buggy ? 'freezeBackbone(model);' : ''}
  sgdStep(model.head.parameters(), 0.01);
  clipGrads(model.parameters(), 1);
  const [features] = makeBatch${i}(2);
  const gated = gate(model.forward(features), ones([1, 3]));
  gated.sum().backward();
}
`;
}

/** The helpers module and the Trainer class every training file of a package imports. */
function sharedModules() {
  return {
    'helpers.ts': `// Generated helpers for the lint benchmark's training files.
import { noGrad, optim, type nn, type Tensor } from '@gradflow/autograd';

export function makeOptimizer(model: nn.Module): optim.Adam {
  return new optim.Adam(model.parameters(), { lr: 1e-3 });
}

export function predict(model: nn.Module, x: Tensor, frozen: boolean): Tensor {
  const out = model.forward(x);
  return frozen ? out.detach().add(out.mul(0)) : out;
}

export function applyUpdate(opt: optim.Adam): void {
  opt.step();
}

export function freezeBackbone(model: { encoder: nn.Module }): void {
  for (const p of model.encoder.parameters()) p.requiresGrad = false;
}

export function sgdStep(params: Iterable<Tensor>, lr: number): void {
  noGrad(() => {
    for (const p of params) {
      if (p.grad) p.sub_(p.grad.mul(lr));
    }
  });
}

export function clipGrads(params: Iterable<Tensor>, maxValue: number): void {
  for (const p of params) p.grad?.clamp_(-maxValue, maxValue);
}

export function gate(h: Tensor, mask: Tensor): Tensor {
  return h.mul(mask);
}
`,
    'trainer.ts': `// A generated Trainer class for the lint benchmark's training files.
import { nn, noGrad, optim, type Tensor } from '@gradflow/autograd';

export class Trainer {
  private readonly opt: optim.AdamW;
  constructor(private readonly model: nn.Module) {
    this.opt = new optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01 });
  }
  trainStep(x: Tensor, y: Tensor): number {
    this.opt.zeroGrad({ setToNone: true });
    const loss = nn.functional.mseLoss(this.model.forward(x), y);
    loss.backward();
    this.opt.step();
    return loss.item();
  }
  evaluate(x: Tensor, y: Tensor): number {
    return noGrad(() => nn.functional.mseLoss(this.model.forward(x), y).item());
  }
}
`,
  };
}
