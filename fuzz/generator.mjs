// Generator of complete, type-correct single-file training programs for differential testing
// (issue 10): a program is a *spec* (model, optimizer, how gradients are cleared, and a list of
// building blocks), drawn by fast-check and rendered to TypeScript. Specs are built only from
// record / array / oneof / constantFrom / integer / boolean arbitraries (no `map`), so fast-check can
// shrink a spec it did not generate itself (a failing batch program handed back as an example).
// Shrinking goes toward the first option of every choice, so each list starts with the plainest one.
//
// Programs are deterministic by construction: `manualSeed`, a fixed number of epochs, control flow
// on the epoch counter only. Labels are never predicted here: a program is labelled by running it.
import fc from 'fast-check';
import { OP_METADATA, OP_METHODS } from '@gradflow/autograd';

/**
 * @typedef {'sequential' | 'custom' | 'split' | 'heads'} ModelKind
 * @typedef {'one' | 'helpers' | 'model' | 'both'} FilesKind
 * @typedef {'sgd' | 'sgdMomentum' | 'adam' | 'adamw'} OptimizerKind
 * @typedef {'setToNone' | 'zeroGrad' | 'modelZeroGrad' | 'modelSetToNone' | 'afterStep' | 'accumulate' | 'skipFirst' | 'partialModel' | 'once' | 'none'} ClearKind
 * @typedef {{ kind: 'freeze', when: 'before' | 'after' | 'epoch', filter: boolean, form: 'loop' | 'forEach' | 'method' | 'named' }} FreezeBlock
 * @typedef {{ kind: 'cut', how: 'detach' | 'noGrad' | 'enableGrad', where: 'eval' | 'forward' | 'conditional' | 'output' }} CutBlock
 * @typedef {{ kind: 'backward2', retain: boolean, fresh: boolean, via: 'backward' | 'grad' | 'branches' | 'helper' }} BackwardBlock
 * @typedef {{ kind: 'leafInplace', target: 'param' | 'created' | 'createdMethod' | 'createdParameter', noGrad: boolean, where: 'loop' | 'init' | 'helper', op: 'clamp_' | 'mul_' | 'add_' | 'zero_' | 'fill_' | 'copy_' | 'setItem_' }} LeafInplaceBlock
 * @typedef {{ kind: 'saved', op: string, target: 'self' | 'other' | 'result' | 'mask', swap: boolean, timing: 'clone' | 'after' | 'before' | 'beforeNoGrad', mutation: Mutation }} SavedBlock
 * @typedef {'mul_' | 'add_' | 'clamp_' | 'relu_' | 'zero_' | 'fill_' | 'copy_'} Mutation
 * @typedef {{ kind: 'gradRead', target: 'leaf' | 'detached' | 'nonleaf' | 'view', retain: boolean }} GradReadBlock
 * @typedef {{ kind: 'requiresGrad', target: 'leaf' | 'nonleaf' | 'logged' | 'int32' | 'computed' | 'cast', value: boolean, form: 'assign' | 'method' | 'option' }} RequiresGradBlock
 * @typedef {{ kind: 'modelSaved', what: 'input', timing: 'after' | 'before' }} ModelSavedBlock
 * @typedef {{ kind: 'secondOptimizer', optimizer: 'sgd' | 'adam', clear: 'setToNone' | 'zeroGrad' | 'none' }} SecondOptimizerBlock
 * @typedef {{ kind: 'asyncNoGrad', async: boolean }} AsyncBlock
 * @typedef {{ kind: 'update', how: 'sgd' | 'momentum' | 'clip' | 'ema', guard: 'none' | 'inside' | 'call' | 'frozen' }} UpdateBlock
 * @typedef {{ kind: 'evaluate', guard: 'none' | 'inside' | 'call', form: 'function' | 'trainer' }} EvaluateBlock
 * @typedef {FreezeBlock | CutBlock | BackwardBlock | LeafInplaceBlock | SavedBlock | GradReadBlock | RequiresGradBlock | AsyncBlock | ModelSavedBlock | SecondOptimizerBlock | UpdateBlock | EvaluateBlock} Block
 * @typedef {{ seed: number, model: ModelKind, optimizer: OptimizerKind, groups: boolean, clear: ClearKind, files: FilesKind, blocks: Block[] }} Spec
 */

/**
 * The saving ops the generator can reach through a public method or function, with how to call
 * them. `a` is a non-leaf that requires grad ([5, 1], positive), `c` a plain tensor operand,
 * `mask` an int32 [5, 1] mask/index. What each op saves is read from OP_METADATA, not written here.
 * @type {Record<string, { call: (a: string, c: string, swap: boolean) => string, operand?: 'float' | 'mask' | 'matrix' }>}
 */
const SAVING_OP_CALLS = {
  mul: { call: (a, c, swap) => (swap ? `${c}.mul(${a})` : `${a}.mul(${c})`), operand: 'float' },
  div: { call: (a, c, swap) => (swap ? `${c}.div(${a})` : `${a}.div(${c})`), operand: 'float' },
  pow: { call: (a, c, swap) => (swap ? `${c}.pow(${a})` : `${a}.pow(${c})`), operand: 'float' },
  matmul: { call: (a, c, swap) => (swap ? `${c}.matmul(${a})` : `${a}.matmul(${c})`), operand: 'matrix' },
  exp: { call: (a) => `${a}.exp()` },
  log: { call: (a) => `${a}.log()` },
  log1p: { call: (a) => `${a}.log1p()` },
  sqrt: { call: (a) => `${a}.sqrt()` },
  abs: { call: (a) => `${a}.abs()` },
  relu: { call: (a) => `${a}.relu()` },
  sigmoid: { call: (a) => `${a}.sigmoid()` },
  tanh: { call: (a) => `${a}.tanh()` },
  softmax: { call: (a) => `${a}.softmax(0)` },
  logSoftmax: { call: (a) => `${a}.logSoftmax(0)` },
  clamp: { call: (a) => `${a}.clamp(0, 1.5)` },
  where: { call: (a, c, swap) => (swap ? `where(mask, ${c}, ${a})` : `where(mask, ${a}, ${c})`), operand: 'float' },
  maskedFill: { call: (a) => `${a}.maskedFill(mask, 0)`, operand: 'mask' },
  gather: { call: (a) => `${a}.gather(1, mask)`, operand: 'mask' },
  amax: { call: (a) => `${a}.max()` },
  norm: { call: (a) => `${a}.norm()` },
  var: { call: (a) => `${a}.var()` },
  std: { call: (a) => `${a}.std()` },
  gelu: { call: (a) => `nn.functional.gelu(${a})` },
  batchNorm: { call: (a) => `new nn.BatchNorm1d(1).forward(${a})` },
};

/** Ops of OP_METADATA that save something for backward. */
export const SAVING_OPS = Object.entries(OP_METADATA)
  .filter(([, meta]) => Object.keys(meta.saves).length > 0)
  .map(([op]) => op);
/** Saving ops the generator exercises (all of SAVING_OPS that a public method or function reaches). */
export const GENERATED_SAVING_OPS = SAVING_OPS.filter((op) => op in SAVING_OP_CALLS);
/** Saving ops no public Tensor method or function reaches directly (reported, not generated). */
export const UNREACHED_SAVING_OPS = SAVING_OPS.filter((op) => !(op in SAVING_OP_CALLS));
for (const op of Object.keys(SAVING_OP_CALLS)) {
  if (!(op in OP_METADATA)) throw new Error(`fuzz generator: op '${op}' is not in the engine's OP_METADATA any more`);
  // where (a function), amax (Tensor.max), gelu (nn.functional.gelu), batchNorm (nn.BatchNorm1d) are reached otherwise.
  if (!(op in OP_METHODS) && !['where', 'amax', 'gelu', 'batchNorm'].includes(op))
    throw new Error(`fuzz generator: op '${op}' has no Tensor method any more`);
}

/** In-place methods used to change a saved tensor (all shape- and dtype-agnostic here). @type {Mutation[]} */
export const MUTATIONS = ['mul_', 'add_', 'clamp_', 'relu_', 'zero_', 'fill_', 'copy_'];

/** @param {string} t @param {Mutation} mutation @param {boolean} int32 */
function mutationCall(t, mutation, int32) {
  const m = int32 && !['zero_', 'fill_', 'copy_'].includes(mutation) ? 'fill_' : mutation;
  const args = {
    mul_: '0.5',
    add_: '1',
    clamp_: '0, 2',
    relu_: '',
    zero_: '',
    fill_: int32 ? '0' : '1',
    copy_: `${t}.detach()${int32 ? '' : '.mul(0.5)'}`,
  }[m];
  return `${m}(${args})`;
}

/**
 * The arbitrary of one building block. Weighted so that a batch of 10,000 gives every rule at
 * least 500 programs with the mistake and 500 near misses (the rarer outcomes need a freeze, a cut
 * or a second backward more often than a saved-tensor change); fast-check still shrinks toward the
 * first entry. @type {fc.Arbitrary<Block>}
 */
const blockArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('freeze'),
      when: fc.constantFrom('before', 'after', 'epoch', 'epoch'),
      filter: fc.boolean(),
      form: fc.constantFrom('loop', 'forEach', 'method', 'named'),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('cut'),
      how: fc.constantFrom('detach', 'noGrad', 'enableGrad'),
      where: fc.constantFrom('eval', 'forward', 'conditional', 'conditional', 'output'),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('backward2'),
      retain: fc.boolean(),
      fresh: fc.boolean(),
      via: fc.constantFrom('backward', 'grad', 'branches', 'helper'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('leafInplace'),
      target: fc.constantFrom('param', 'created', 'createdMethod', 'createdParameter'),
      noGrad: fc.boolean(),
      where: fc.constantFrom('loop', 'init', 'helper'),
      op: fc.constantFrom('clamp_', 'mul_', 'add_', 'zero_', 'fill_', 'copy_', 'setItem_'),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('saved'),
      op: fc.constantFrom(...GENERATED_SAVING_OPS),
      target: fc.constantFrom('self', 'other', 'result', 'mask'),
      swap: fc.boolean(),
      timing: fc.constantFrom('clone', 'after', 'before', 'beforeNoGrad'),
      mutation: fc.constantFrom(...MUTATIONS),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('gradRead'),
      target: fc.constantFrom('leaf', 'detached', 'nonleaf', 'view'),
      retain: fc.boolean(),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('requiresGrad'),
      target: fc.constantFrom('leaf', 'nonleaf', 'nonleaf', 'int32', 'int32', 'computed', 'cast', 'logged'),
      value: fc.boolean(),
      form: fc.constantFrom('assign', 'method', 'option'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('secondOptimizer'),
      optimizer: fc.constantFrom('sgd', 'adam'),
      clear: fc.constantFrom('setToNone', 'zeroGrad', 'none'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('modelSaved'), what: fc.constant('input'), timing: fc.constantFrom('after', 'before') }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('asyncNoGrad'), async: fc.boolean() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('update'),
      how: fc.constantFrom('sgd', 'momentum', 'clip', 'ema'),
      guard: fc.constantFrom('none', 'inside', 'call', 'frozen'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('evaluate'),
      guard: fc.constantFrom('none', 'inside', 'call'),
      form: fc.constantFrom('function', 'trainer'),
    }),
  },
);

/** The arbitrary of program specs. @type {fc.Arbitrary<Spec>} */
export const specArb = fc.record({
  seed: fc.integer({ min: 0, max: 999 }),
  model: fc.constantFrom('sequential', 'custom', 'split', 'heads'),
  optimizer: fc.constantFrom('sgd', 'sgdMomentum', 'adam', 'adamw'),
  groups: fc.boolean(),
  clear: fc.constantFrom(
    'setToNone',
    'zeroGrad',
    'zeroGrad',
    'zeroGrad',
    'modelZeroGrad',
    'modelZeroGrad',
    'modelSetToNone',
    'afterStep',
    'accumulate',
    'skipFirst',
    'partialModel',
    'once',
    'none',
  ),
  // Where the code lives: one file, helpers in helpers.ts, the model class in model.ts, or both.
  files: fc.constantFrom('one', 'helpers', 'model', 'both'),
  blocks: fc.array(blockArb, { minLength: 0, maxLength: 5 }),
});

/** Draws `count` specs from `seed` (reproducible). @returns {Spec[]} */
export function sampleSpecs(seed, count) {
  return fc.sample(specArb, { seed, numRuns: count });
}

/**
 * A fixed sweep over the saving ops (so every one is exercised whatever the random draw): per op,
 * an in-place change of a tensor it saves before backward (plain and under noGrad: both throw) and
 * the same change after backward (a near miss). @returns {Spec[]}
 */
export function savingOpSweep() {
  /** @type {Spec[]} */
  const out = [];
  GENERATED_SAVING_OPS.forEach((op, i) => {
    const variants = /** @type {const} */ (['self', 'other', 'result', 'mask']).flatMap((target) =>
      [false, true].map((swap) => /** @type {SavedBlock} */ ({ kind: 'saved', op, target, swap, timing: 'before', mutation: 'mul_' })),
    );
    const mistake = variants.find((b) => savedBlockInfo(b).saved) ?? variants[0];
    for (const timing of /** @type {const} */ (['before', 'beforeNoGrad', 'after'])) {
      out.push({
        seed: 100 + i,
        model: 'sequential',
        optimizer: 'sgd',
        groups: false,
        clear: 'setToNone',
        files: 'one',
        blocks: [{ ...mistake, timing, mutation: 'mul_' }],
      });
    }
  });
  // Every in-place method, on a tensor saved as an op's input (log saves self) and as its result (exp).
  for (const mutation of MUTATIONS) {
    for (const op of ['log', 'exp']) {
      out.push({
        seed: 200,
        model: 'sequential',
        optimizer: 'sgd',
        groups: false,
        clear: 'setToNone',
        files: 'one',
        blocks: [{ kind: 'saved', op, target: op === 'log' ? 'self' : 'result', swap: false, timing: 'before', mutation }],
      });
    }
  }
  return out;
}

/** The blocks a spec renders: the first of each kind (later duplicates are inert). @param {Spec} spec */
export function activeBlocks(spec) {
  const seen = new Set();
  return spec.blocks.filter((b) => (seen.has(b.kind) ? false : (seen.add(b.kind), true)));
}

/** One line summary of a spec. @param {Spec} spec */
export function describeSpec(spec) {
  const blocks = activeBlocks(spec).map(
    (b) =>
      `${b.kind}(${Object.entries(b)
        .filter(([k]) => k !== 'kind')
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')})`,
  );
  return `${spec.model} model, ${spec.optimizer}${spec.groups ? ' (param groups)' : ''}, clear=${spec.clear}, files=${spec.files}${blocks.length > 0 ? `; ${blocks.join('; ')}` : ''}`;
}

/** What a saved-tensor block's mutation hits, and whether OP_METADATA says the op saves it. @param {SavedBlock} b */
export function savedBlockInfo(b) {
  const meta = OP_METADATA[b.op];
  const spec = SAVING_OP_CALLS[b.op];
  const binary = spec.operand === 'float' || spec.operand === 'matrix';
  // The role names of the inputs: `a` (requires grad) and the operand (`c` or `mask`).
  /** @type {Record<string, string>} role → variable */
  const roles = {};
  if (b.op === 'where') Object.assign(roles, { condition: 'mask', self: b.swap ? 'c' : 'a', other: b.swap ? 'a' : 'c' });
  else if (binary) Object.assign(roles, { self: b.swap ? 'c' : 'a', other: b.swap ? 'a' : 'c' });
  else if (spec.operand === 'mask') Object.assign(roles, { self: 'a', [meta.inputs[1]]: 'mask' });
  else roles.self = 'a';
  // What is saved: for every input that requires grad (only `a` does), what OP_METADATA lists for it.
  const requiring = Object.entries(roles)
    .filter(([, v]) => v === 'a')
    .map(([role]) => role);
  const saved = new Set(requiring.flatMap((role) => (meta.saves[role] ?? []).map((s) => (s === 'result' ? 'r' : roles[s]))));
  // The mutated variable: the requested role, or `a` when the op has no such role.
  const target =
    b.target === 'result'
      ? 'r'
      : b.target === 'mask'
        ? spec.operand === 'mask' || b.op === 'where'
          ? 'mask'
          : 'a'
        : b.target === 'other'
          ? (roles.other ?? 'a')
          : roles.self;
  return {
    target,
    saved: saved.has(target),
    savedNames: [...saved],
    usesMask: spec.operand === 'mask' || b.op === 'where',
    operand: spec.operand,
    binary,
  };
}

/**
 * Which rule each active block is about and whether it is meant as the mistake or a near miss
 * (the generator's intent, for the coverage report; the label comes from running the program).
 * @param {Spec} spec
 * @returns {{ rule: string, intent: 'mistake' | 'near-miss' }[]}
 */
export function intents(spec) {
  /** @type {{ rule: string, intent: 'mistake' | 'near-miss' }[]} */
  const out = [];
  const stateful = spec.optimizer !== 'sgd';
  const add = (rule, mistake) => out.push({ rule, intent: mistake ? 'mistake' : 'near-miss' });
  add('require-zero-grad', spec.clear === 'none' || spec.clear === 'once' || spec.clear === 'partialModel');
  for (const b of activeBlocks(spec)) {
    // A freeze after a backward (or a conditional cut) with zeroGrad() is what require-set-to-none is about.
    if (b.kind === 'freeze' && b.when !== 'before') add('require-set-to-none', stateful && !spec.clear.endsWith('etToNone'));
    if (b.kind === 'freeze')
      add('no-freeze-after-optimizer', b.when !== 'before' && stateful && spec.clear !== 'setToNone' && spec.clear !== 'modelSetToNone');
    if (b.kind === 'cut') {
      add('valid-no-grad', b.where === 'output' || (b.how === 'noGrad' && b.where === 'forward'));
      if (b.where === 'conditional') add('require-set-to-none', stateful && (spec.clear === 'zeroGrad' || spec.clear === 'modelZeroGrad'));
    }
    if (b.kind === 'backward2') add('no-backward-twice', !b.retain && !b.fresh && b.via !== 'branches');
    if (b.kind === 'leafInplace') add('no-leaf-inplace', !b.noGrad);
    if (b.kind === 'saved')
      add('no-inplace-on-saved-tensor', savedBlockInfo(b).saved && (b.timing === 'before' || b.timing === 'beforeNoGrad'));
    if (b.kind === 'gradRead') add('no-nonleaf-grad', b.target === 'nonleaf' && !b.retain);
    if (b.kind === 'requiresGrad')
      add('valid-requires-grad', ((b.target === 'nonleaf' || b.target === 'logged') && !b.value) || (b.target === 'int32' && b.value));
    if (b.kind === 'asyncNoGrad') add('valid-no-grad', b.async);
    if (b.kind === 'modelSaved') add('no-inplace-on-saved-tensor', b.timing === 'before');
    if (b.kind === 'secondOptimizer') add('require-zero-grad', b.clear === 'none');
    if (b.kind === 'update') add('no-leaf-inplace', b.how !== 'clip' && b.guard === 'none');
    if (b.kind === 'evaluate') add('valid-no-grad', false);
  }
  return out;
}

const OPTIMIZERS = {
  sgd: (params) => `new optim.SGD(${params}, { lr: 0.05 })`,
  sgdMomentum: (params) => `new optim.SGD(${params}, { lr: 0.05, momentum: 0.9 })`,
  adam: (params) => `new optim.Adam(${params}, { lr: 1e-2 })`,
  adamw: (params) => `new optim.AdamW(${params}, { lr: 1e-2, weightDecay: 0.01 })`,
};

/** `// ✗ rule, …` on a generated line: where the block puts the mistake of those rules, if it is one. */
const mark = (/** @type {string} */ line, /** @type {string[]} */ ...rules) => `${line} // ✗ ${rules.join(', ')}`;

/**
 * The lines a program marks with `// ✗ rule, …` (the generator's known line of each block), per
 * rule. @param {string} text @returns {Map<string, number[]>} rule → 1-based lines
 */
export function markedLines(text) {
  /** @type {Map<string, number[]>} */
  const out = new Map();
  text.split('\n').forEach((line, i) => {
    const m = /\/\/ ✗ ([a-z, -]+)$/.exec(line);
    if (!m) return;
    for (const rule of m[1].split(',').map((r) => r.trim())) out.set(rule, [...(out.get(rule) ?? []), i + 1]);
  });
  return out;
}

/** The import line of the names a file's code uses from the engine (and from its sibling files). */
function imports(/** @type {string} */ code, /** @type {Record<string, string[]>} */ siblings = {}) {
  const names = [];
  for (const n of ['manualSeed', 'nn', 'optim', 'randn', 'autograd', 'noGrad', 'enableGrad', 'rand', 'tensor', 'where', 'zerosLike']) {
    const re = n === 'nn' || n === 'optim' || n === 'autograd' ? new RegExp(`\\b${n}\\.`) : new RegExp(`\\b${n}\\(`);
    if (n === 'manualSeed' ? /\bmanualSeed\(/.test(code) : re.test(code)) names.push(n);
  }
  names.sort();
  if (/\bTensor\b/.test(code)) names.push('type Tensor');
  const lines = names.length > 0 ? [`import { ${names.join(', ')} } from '@gradflow/autograd';`] : [];
  for (const [file, exported] of Object.entries(siblings)) {
    const used = exported.filter((n) => new RegExp(`\\b${n}\\b`).test(code));
    if (used.length > 0) lines.push(`import { ${used.join(', ')} } from './${file}.js';`);
  }
  return lines.join('\n');
}

/**
 * Renders a spec to its files: `[{ name: 'main.ts', text }, …]` (main first, exporting `main()`;
 * `helpers.ts` and `model.ts` beside it when the spec splits the program). No header: the caller
 * adds one to main.ts.
 * @param {Spec} spec
 * @returns {{ name: string, text: string }[]}
 */
export function renderFiles(spec) {
  const blocks = activeBlocks(spec);
  const find = (kind) => /** @type {any} */ (blocks.find((b) => b.kind === kind));
  /** @type {FreezeBlock | undefined} */ const freeze = find('freeze');
  /** @type {CutBlock | undefined} */ const cut = find('cut');
  /** @type {BackwardBlock | undefined} */ const backward2 = find('backward2');
  /** @type {LeafInplaceBlock | undefined} */ const leaf = find('leafInplace');
  /** @type {SavedBlock | undefined} */ const saved = find('saved');
  /** @type {GradReadBlock | undefined} */ const gradRead = find('gradRead');
  /** @type {RequiresGradBlock | undefined} */ const reqGrad = find('requiresGrad');
  /** @type {AsyncBlock | undefined} */ const asyncBlock = find('asyncNoGrad');
  /** @type {ModelSavedBlock | undefined} */ const modelSaved = find('modelSaved');
  /** @type {SecondOptimizerBlock | undefined} */ const second = find('secondOptimizer');
  /** @type {UpdateBlock | undefined} */ const update = find('update');
  /** @type {EvaluateBlock | undefined} */ const evalBlock = find('evaluate');
  const m = spec.model;
  const files = spec.files ?? 'one';
  const isClass = m === 'custom' || m === 'heads';
  const helperFile = files === 'helpers' || files === 'both';
  const modelFile = isClass && (files === 'model' || files === 'both');
  const isAsync = asyncBlock?.async === true;

  // Helpers: in helpers.ts (exported) or at the top of main.ts.
  /** @type {string[]} */ const pre = [];
  /** @type {string[]} */ const helperLines = [];
  /** @type {string[]} */ const helperNames = [];
  const helper = (/** @type {string} */ name, /** @type {string[]} */ body) => {
    if (helperFile) {
      helperNames.push(name);
      helperLines.push(`export ${body[0]}`, ...body.slice(1), '');
    } else pre.push(...body, '');
  };

  // How this model is reached.
  const trunkModule = m === 'sequential' ? 'model.at(0)' : isClass ? 'model.trunk' : 'encoder';
  const trunkParams = `${trunkModule}.parameters()`;
  const allParams = m === 'split' ? '[...encoder.parameters(), ...head.parameters()]' : 'model.parameters()';
  const headModule = m === 'sequential' ? 'model.at(2)' : isClass ? 'model.head' : 'head';
  const headParams = `${headModule}.parameters()`;
  const weight = m === 'sequential' ? 'model.parameters()[0]' : isClass ? 'model.trunk.weight' : 'encoder.weight';
  const full = (x) => (m === 'split' ? `head.forward(encoder.forward(${x}).tanh())` : `model.forward(${x})`);
  const trunk = (x) => (m === 'split' ? `encoder.forward(${x}).tanh()` : `model.at(1).forward(model.at(0).forward(${x}))`);
  const headOf = (f) => (m === 'split' ? `head.forward(${f})` : `model.at(2).forward(${f})`);
  // enableGrad inside noGrad records again: a near miss of the noGrad cut.
  const cutExpr = (e) =>
    cut?.how === 'noGrad' ? `noGrad(() => ${e})` : cut?.how === 'enableGrad' ? `noGrad(() => enableGrad(() => ${e}))` : `${e}.detach()`;
  const cutMark = (/** @type {string} */ line) => (cut?.how === 'noGrad' ? mark(line, 'valid-no-grad') : line);
  // `autograd.grad(loss, [out])` needs an `out` that requires grad: not one computed under noGrad or detached.
  const gradOfOut = backward2?.via === 'grad' && !backward2.fresh && !(cut?.where === 'output' && cut.how !== 'enableGrad');

  const lines = [];
  const I = (n) => '  '.repeat(n);

  const leafOp = (/** @type {string} */ t) => {
    const op = leaf?.op ?? 'clamp_';
    const call = {
      clamp_: 'clamp_(-0.5, 0.5)',
      mul_: 'mul_(0.99)',
      add_: 'add_(0.01)',
      zero_: 'zero_()',
      fill_: 'fill_(0.1)',
      copy_: `copy_(${t}.detach().mul(0.5))`,
      setItem_: 'setItem_(0, 0)',
    }[op];
    return `${t}.${call}`;
  };
  if (leaf?.where === 'helper') {
    // A helper with one call site (in noGrad or not); the rule does not report a Tensor parameter.
    helper('shrinkInPlace', ['function shrinkInPlace(t: Tensor): void {', `  ${mark(`${leafOp('t')};`, 'no-leaf-inplace')}`, '}']);
  }
  if (backward2?.via === 'helper' && !backward2.fresh) {
    helper('backpropagate', [
      'function backpropagate(loss: Tensor): void {',
      // (a backward on a loss without graph is reported where it runs: here, or at the call)
      `  ${mark(`loss.backward(${backward2.retain ? 'undefined, { retainGraph: true }' : ''});`, 'valid-no-grad')}`,
      '}',
    ]);
  }
  if (isAsync) {
    helper('nextBatch', ['async function nextBatch(): Promise<Tensor> {', '  await Promise.resolve();', '  return randn([5, 4]);', '}']);
  }
  // Freezing through a helper (by module, or by name) when the program has a helpers file.
  const freezeHelper = freeze !== undefined && helperFile;
  if (freezeHelper && freeze.form !== 'named') {
    helper('freezeModule', [
      'function freezeModule(m: nn.Module): void {',
      '  for (const p of m.parameters()) p.requiresGrad = false;',
      '}',
    ]);
  }
  if (freezeHelper && freeze.form === 'named') {
    helper('freezeByName', [
      'function freezeByName(m: nn.Module, prefix: string): void {',
      '  for (const [name, p] of m.namedParameters()) {',
      '    if (name.startsWith(prefix)) p.requiresGrad = false;',
      '  }',
      '}',
    ]);
  }
  // Manual parameter updates (SGD, momentum, EMA / soft target) and in-place gradient clipping.
  const guardInside = update !== undefined && (update.guard === 'inside' || (update.guard === 'frozen' && update.how !== 'ema'));
  const wrapBody = (/** @type {string[]} */ body) => (guardInside ? ['  noGrad(() => {', ...body.map((l) => `  ${l}`), '  });'] : body);
  if (update?.how === 'sgd') {
    helper('sgdStep', [
      'function sgdStep(params: Tensor[], lr: number): void {',
      ...wrapBody([
        '  for (const p of params) {',
        '    const g = p.grad;',
        `    ${mark('if (g !== null) p.sub_(g.mul(lr));', 'no-leaf-inplace')}`,
        '  }',
      ]),
      '}',
    ]);
  }
  if (update?.how === 'momentum') {
    helper('momentumStep', [
      'function momentumStep(params: Tensor[], buffers: Tensor[], lr: number): void {',
      ...wrapBody([
        '  params.forEach((p, i) => {',
        '    const g = p.grad;',
        '    if (g === null) return;',
        '    buffers[i].mul_(0.9).add_(g);',
        `    ${mark('p.sub_(buffers[i].mul(lr));', 'no-leaf-inplace')}`,
        '  });',
      ]),
      '}',
    ]);
  }
  if (update?.how === 'clip') {
    helper('clipGrads', [
      'function clipGrads(params: Tensor[], max: number): void {',
      ...wrapBody(['  for (const p of params) p.grad?.clamp_(-max, max);']),
      '}',
    ]);
  }
  if (update?.how === 'ema') {
    helper('softUpdate', [
      'function softUpdate(target: Tensor[], source: Tensor[], tau: number): void {',
      ...wrapBody([
        '  target.forEach((t, i) => {',
        `    ${mark('t.mul_(1 - tau).add_(source[i].detach().mul(tau));', 'no-leaf-inplace')}`,
        '  });',
      ]),
      '}',
    ]);
  }
  // predict / evaluate functions, or a Trainer class with trainStep / evaluate.
  if (evalBlock) {
    const body = 'nn.functional.mseLoss(predict(model, x), y).item()';
    helper('predict', ['function predict(model: { forward(x: Tensor): Tensor }, x: Tensor): Tensor {', '  return model.forward(x);', '}']);
    if (evalBlock.form === 'function') {
      helper('evaluate', [
        'function evaluate(model: { forward(x: Tensor): Tensor }, x: Tensor, y: Tensor): number {',
        `  return ${evalBlock.guard === 'inside' ? `noGrad(() => ${body})` : body};`,
        '}',
      ]);
    } else {
      helper('Trainer', [
        'class Trainer {',
        '  constructor(',
        '    readonly model: { forward(x: Tensor): Tensor },',
        '    readonly opt: optim.Optimizer<{ lr: number }>,',
        '  ) {}',
        '  trainStep(x: Tensor, y: Tensor): number {',
        '    this.opt.zeroGrad({ setToNone: true });',
        '    const loss = nn.functional.mseLoss(this.model.forward(x), y);',
        '    loss.backward();',
        '    this.opt.step();',
        '    return loss.item();',
        '  }',
        '  evaluate(x: Tensor, y: Tensor): number {',
        `    return ${evalBlock.guard === 'inside' ? `noGrad(() => ${body.replace('model', 'this.model')})` : body.replace('model', 'this.model')};`,
        '  }',
        '}',
      ]);
    }
  }

  // The model class (custom: trunk + head; heads: a shared trunk with two heads returned as a tuple
  // by a second method), in main.ts or in model.ts; its forward calls a helper when split in files.
  /** @type {string[]} */ const modelLines = [];
  if (isClass) {
    const act = (/** @type {string} */ e) => (files === 'one' ? `${e}.tanh()` : `activate(${e})`);
    if (files !== 'one') {
      const activate = ['function activate(t: Tensor): Tensor {', '  return t.tanh();', '}'];
      if (helperFile) helper('activate', activate);
      else modelLines.push(...activate, '');
    }
    const conditional = cut?.where === 'conditional';
    const trunkExpr = act('this.trunk.forward(x)');
    modelLines.push(
      `${modelFile ? 'export ' : ''}class Net extends nn.Module {`,
      '  readonly trunk = new nn.Linear(4, 6);',
      '  readonly head = new nn.Linear(6, 1);',
    );
    if (m === 'heads') modelLines.push('  readonly aux = new nn.Linear(6, 1);');
    if (conditional) modelLines.push('  cutTrunk = false;');
    const features = [];
    if (cut?.where === 'forward') features.push(cutMark(`    const h = ${cutExpr(trunkExpr)};`));
    else if (conditional) {
      features.push(`    const h0 = ${trunkExpr};`);
      features.push(`    const h = this.cutTrunk ? ${cut.how === 'detach' ? 'h0.detach()' : cutExpr(trunkExpr)} : h0;`);
    } else features.push(`    const h = ${trunkExpr};`);
    if (m === 'heads') {
      modelLines.push(
        '  forward(x: Tensor): Tensor {',
        '    const [main, side] = this.both(x);',
        '    return main.add(side.mul(0.1));',
        '  }',
      );
      modelLines.push(
        '  both(x: Tensor): [Tensor, Tensor] {',
        ...features,
        '    return [this.head.forward(h), this.aux.forward(h)];',
        '  }',
        '}',
      );
    } else modelLines.push('  forward(x: Tensor): Tensor {', ...features, '    return this.head.forward(h);', '  }', '}');
    if (!modelFile) pre.push(...modelLines, '');
  }

  lines.push(`export ${isAsync ? 'async ' : ''}function main(): ${isAsync ? 'Promise<void>' : 'void'} {`);
  lines.push(`${I(1)}manualSeed(${spec.seed});`);
  if (m === 'sequential') lines.push(`${I(1)}const model = new nn.Sequential(new nn.Linear(4, 6), new nn.Tanh(), new nn.Linear(6, 1));`);
  else if (isClass) lines.push(`${I(1)}const model = new Net();`);
  else lines.push(`${I(1)}const encoder = new nn.Linear(4, 6);`, `${I(1)}const head = new nn.Linear(6, 1);`);
  const needsHistory = cut?.where === 'eval' || gradRead !== undefined || asyncBlock !== undefined || evalBlock !== undefined || gradOfOut;
  if (needsHistory) lines.push(`${I(1)}const history: number[] = [];`);
  const F = 'no-freeze-after-optimizer';
  const freezeLines = (n) => {
    const form = freeze?.form ?? 'loop';
    if (freezeHelper) {
      if (form === 'named')
        return [
          mark(
            `${I(n)}freezeByName(${m === 'split' ? 'encoder' : 'model'}, '${m === 'sequential' ? '0.' : m === 'split' ? '' : 'trunk.'}');`,
            F,
          ),
        ];
      return [mark(`${I(n)}freezeModule(${trunkModule});`, F)];
    }
    if (form === 'forEach')
      return [mark(`${I(n)}${trunkParams}.forEach((p) => {`, F), mark(`${I(n + 1)}p.requiresGrad = false;`, F), `${I(n)}});`];
    if (form === 'method') return [mark(`${I(n)}for (const p of ${trunkParams}) p.requiresGrad_(false);`, F)];
    if (form === 'named') {
      if (m === 'split') return [mark(`${I(n)}for (const [, p] of encoder.namedParameters()) p.requiresGrad = false;`, F)];
      return [
        mark(`${I(n)}for (const [name, p] of model.namedParameters()) {`, F),
        mark(`${I(n + 1)}if (name.startsWith('${m === 'sequential' ? '0.' : 'trunk.'}')) p.requiresGrad = false;`, F),
        `${I(n)}}`,
      ];
    }
    return [mark(`${I(n)}for (const p of ${trunkParams}) p.requiresGrad = false;`, F)];
  };

  // Leaf in-place, created leaf (declared before the optimizer; not optimized).
  if (leaf?.target === 'created') lines.push(`${I(1)}const scale = randn([1], { requiresGrad: true });`);
  if (leaf?.target === 'createdMethod') lines.push(`${I(1)}const scale = randn([1]).requiresGrad_();`);
  if (leaf?.target === 'createdParameter') lines.push(`${I(1)}const scale = new nn.Parameter(randn([1]));`);
  const leafInplace = (n) => {
    const t = leaf?.target === 'param' ? weight : 'scale';
    const op = leaf?.where === 'helper' ? `shrinkInPlace(${t})` : leafOp(t);
    return [mark(leaf?.noGrad ? `${I(n)}noGrad(() => ${op});` : `${I(n)}${op};`, 'no-leaf-inplace')];
  };
  if (leaf?.where === 'init') lines.push(...leafInplace(1));
  // The target of a soft update (a copy of the head), frozen or not; momentum buffers.
  if (update?.how === 'ema') {
    lines.push(`${I(1)}const target = new nn.Linear(6, 1);`);
    if (update.guard === 'frozen') lines.push(`${I(1)}for (const p of target.parameters()) p.requiresGrad = false;`);
  }
  if (update?.how === 'momentum') lines.push(`${I(1)}const buffers = ${headParams}.map((p) => zerosLike(p));`);

  if (freeze?.when === 'before') lines.push(...freezeLines(1));
  const filtered = (/** @type {string} */ ps) => (freeze?.when === 'before' && freeze.filter ? `${ps}.filter((p) => p.requiresGrad)` : ps);
  // With a second optimizer (GAN-style: one per part), `opt` holds the head and `optT` the trunk.
  const params = second
    ? filtered(headParams)
    : spec.groups
      ? `[{ params: ${filtered(trunkParams)} }, { params: ${filtered(headParams)}, lr: 0.02 }]`
      : filtered(allParams);
  lines.push(`${I(1)}const opt = ${OPTIMIZERS[spec.optimizer](params)};`);
  // (optT is never filtered: a trunk frozen before it would leave it empty, which the engine refuses.)
  if (second) lines.push(`${I(1)}const optT = ${OPTIMIZERS[second.optimizer](trunkParams)};`);
  if (freeze?.when === 'after') lines.push(...freezeLines(1));

  lines.push(`${I(1)}for (let epoch = 0; epoch < 3; epoch++) {`);
  const S = 'require-set-to-none';
  /** @type {string[]} */
  const clear = {
    setToNone: ['opt.zeroGrad({ setToNone: true });'],
    zeroGrad: [mark('opt.zeroGrad();', S)],
    modelZeroGrad: m === 'split' ? [mark('encoder.zeroGrad();', S), mark('head.zeroGrad();', S)] : [mark('model.zeroGrad();', S)],
    modelSetToNone:
      m === 'split'
        ? ['encoder.zeroGrad({ setToNone: true });', 'head.zeroGrad({ setToNone: true });']
        : ['model.zeroGrad({ setToNone: true });'],
    afterStep: [],
    accumulate: [],
    skipFirst: ['if (epoch > 0) opt.zeroGrad({ setToNone: true });'],
    partialModel: [`${headModule}.zeroGrad({ setToNone: true });`],
    once: [],
    none: [],
  }[spec.clear];
  if (second?.clear === 'setToNone') clear.push('optT.zeroGrad({ setToNone: true });');
  if (second?.clear === 'zeroGrad') clear.push(mark('optT.zeroGrad();', S));
  if (spec.clear === 'once') lines.splice(lines.length - 1, 0, `${I(1)}opt.zeroGrad({ setToNone: true });`);
  lines.push(...clear.map((l) => `${I(2)}${l}`));
  if (freeze?.when === 'epoch') lines.push(`${I(2)}if (epoch === 1) {`, ...freezeLines(3), `${I(2)}}`);
  if (cut?.where === 'conditional' && isClass) lines.push(`${I(2)}model.cutTrunk = epoch % 2 === 1;`);
  lines.push(`${I(2)}const x = randn([5, 4]);`, `${I(2)}const y = randn([5, 1]);`);

  // Forward.
  if (cut?.where === 'forward' && !isClass) {
    lines.push(cutMark(`${I(2)}const features = ${cutExpr(trunk('x'))};`), `${I(2)}const out = ${headOf('features')};`);
  } else if (cut?.where === 'conditional' && !isClass) {
    lines.push(`${I(2)}const features0 = ${trunk('x')};`);
    lines.push(
      `${I(2)}const features = epoch % 2 === 1 ? ${cut.how === 'detach' ? 'features0.detach()' : cutExpr(trunk('x'))} : features0;`,
    );
    lines.push(`${I(2)}const out = ${headOf('features')};`);
  } else if (cut?.where === 'output') {
    lines.push(cutMark(`${I(2)}const out = ${cutExpr(full('x'))};`));
  } else lines.push(`${I(2)}const out = ${full('x')};`);
  // A tensor a module saved (Linear saves its input x for its weight's gradient), changed in place before or after backward.
  const modelSavedLine = modelSaved ? mark(`${I(2)}x.mul_(0.5);`, 'no-inplace-on-saved-tensor') : null;
  if (modelSavedLine && modelSaved?.timing === 'before') lines.push(modelSavedLine);

  if (reqGrad) {
    const R = 'valid-requires-grad';
    const set = (t) =>
      reqGrad.form === 'method' ? `${t}.requiresGrad_(${String(reqGrad.value)});` : `${t}.requiresGrad = ${String(reqGrad.value)};`;
    const option = reqGrad.form === 'option';
    if (reqGrad.target === 'nonleaf') lines.push(mark(`${I(2)}${set('out')}`, R));
    // A non-leaf kept for logging only: nothing backpropagates through it, so detaching it where it is computed is the fix.
    else if (reqGrad.target === 'logged') lines.push(`${I(2)}const logged = out.mul(2);`, mark(`${I(2)}${set('logged')}`, R));
    else if (reqGrad.target === 'leaf')
      lines.push(
        ...(option
          ? [mark(`${I(2)}const extra = randn([4], { requiresGrad: ${String(reqGrad.value)} });`, R)]
          : [`${I(2)}const extra = randn([4]);`, mark(`${I(2)}${set('extra')}`, R)]),
      );
    else if (reqGrad.target === 'computed') lines.push(`${I(2)}const noise = randn([4]).mul(0.1);`, mark(`${I(2)}${set('noise')}`, R));
    else if (reqGrad.target === 'cast')
      lines.push(`${I(2)}const weights = tensor([0, 1, 2], { dtype: 'int32' }).float();`, mark(`${I(2)}${set('weights')}`, R));
    else if (option)
      lines.push(mark(`${I(2)}const labels = tensor([0, 1, 2], { dtype: 'int32', requiresGrad: ${String(reqGrad.value)} });`, R));
    else lines.push(`${I(2)}const labels = tensor([0, 1, 2], { dtype: 'int32' });`, mark(`${I(2)}${set('labels')}`, R));
  }
  const headWeight = `${headModule === 'model.at(2)' ? 'model.parameters()[2]' : `${headModule}.weight`}`;
  if (gradRead?.target === 'view') {
    lines.push(`${I(2)}const wt = ${headWeight}.transpose(0, 1);`);
    if (gradRead.retain) lines.push(`${I(2)}wt.retainGrad();`);
  }
  // (retainGrad() on a tensor that does not require grad throws INVALID_ARGUMENT: not with a cut output.)
  if (gradRead?.retain && gradRead.target !== 'view' && cut?.where !== 'output') lines.push(`${I(2)}out.retainGrad();`);
  lines.push(`${I(2)}const loss0 = nn.functional.mseLoss(out, y);`);

  // In-place on a tensor an op saved.
  let mutateAfter = null;
  if (saved) {
    const info = savedBlockInfo(saved);
    lines.push(`${I(2)}const a = out.abs().add(1);`);
    if (info.operand === 'float') lines.push(`${I(2)}const c = rand([5, 1]).add(1);`);
    if (info.operand === 'matrix') lines.push(`${I(2)}const c = rand(${saved.swap ? '[3, 5]' : '[1, 3]'}).add(1);`);
    if (info.usesMask)
      lines.push(
        `${I(2)}const mask = tensor(${saved.op === 'gather' ? '[[0], [0], [0], [0], [0]]' : '[[1], [0], [1], [0], [0]]'}, { dtype: 'int32' });`,
      );
    lines.push(`${I(2)}const r = ${SAVING_OP_CALLS[saved.op].call('a', 'c', saved.swap)};`);
    const mutation = saved.mutation ?? 'mul_';
    const mutate = `${info.target}.${mutationCall(info.target, mutation, info.target === 'mask')}`;
    const P = 'no-inplace-on-saved-tensor';
    if (saved.timing === 'clone') {
      lines.push(
        `${I(2)}const copy = ${info.target}.clone();`,
        mark(`${I(2)}copy.${mutationCall('copy', mutation, info.target === 'mask')};`, P),
      );
    } else if (saved.timing === 'before') lines.push(mark(`${I(2)}${mutate};`, P));
    else if (saved.timing === 'beforeNoGrad') lines.push(mark(`${I(2)}noGrad(() => ${mutate});`, P));
    else mutateAfter = mark(`${mutate};`, P);
    lines.push(`${I(2)}const loss = loss0.add(r.mean().mul(0.01));`);
  } else lines.push(`${I(2)}const loss = loss0;`);

  // Backward (once or twice). valid-no-grad reports a backward whose loss has no graph.
  const V = 'valid-no-grad';
  const B = 'no-backward-twice';
  const bw = (/** @type {string} */ l, /** @type {string[]} */ ...rules) => mark(l, V, ...rules);
  if (backward2 && gradOfOut) {
    lines.push(`${I(2)}const [outGrad] = autograd.grad(loss, [out]${backward2.retain ? ', { retainGraph: true }' : ''});`);
    lines.push(`${I(2)}if (outGrad !== null) history.push(outGrad.abs().sum().item());`, bw(`${I(2)}loss.backward();`, B));
  } else if (backward2 && !backward2.fresh && backward2.via === 'helper') {
    lines.push(mark(`${I(2)}backpropagate(loss);`, V), bw(`${I(2)}loss.backward();`, B));
  } else if (backward2 && !backward2.fresh && backward2.via === 'branches') {
    // Exclusive arms: one backward per iteration.
    lines.push(
      `${I(2)}if (epoch % 2 === 0) {`,
      bw(`${I(3)}loss.backward(${backward2.retain ? 'undefined, { retainGraph: true }' : ''});`),
      `${I(2)}} else {`,
      bw(`${I(3)}loss.backward();`, B),
      `${I(2)}}`,
    );
  } else if (backward2 && !backward2.fresh) {
    lines.push(
      bw(`${I(2)}loss.backward(${backward2.retain ? 'undefined, { retainGraph: true }' : ''});`),
      bw(`${I(2)}loss.backward();`, B),
    );
  } else if (backward2?.fresh) {
    lines.push(bw(`${I(2)}loss.backward();`), bw(`${I(2)}nn.functional.mseLoss(${full('x')}, y).backward();`, B));
  } else lines.push(bw(`${I(2)}loss.backward();`));
  if (mutateAfter) lines.push(`${I(2)}${mutateAfter}`);
  if (modelSavedLine && modelSaved?.timing === 'after') lines.push(modelSavedLine);

  if (gradRead) {
    const N = 'no-nonleaf-grad';
    if (gradRead.target === 'nonleaf') lines.push(mark(`${I(2)}const g = out.grad;`, N));
    else if (gradRead.target === 'leaf') lines.push(mark(`${I(2)}const g = ${weight}.grad;`, N));
    else if (gradRead.target === 'view') lines.push(mark(`${I(2)}const g = wt.grad;`, N));
    else lines.push(`${I(2)}const probe = out.detach();`, mark(`${I(2)}const g = probe.grad;`, N));
    lines.push(`${I(2)}if (g !== null) history.push(g.abs().sum().item());`);
  }
  if (update?.how === 'clip') {
    const call = `clipGrads(${headParams}, 1)`;
    lines.push(`${I(2)}${update.guard === 'call' ? `noGrad(() => ${call});` : `${call};`}`);
  }
  const Z = 'require-zero-grad';
  if (spec.clear === 'accumulate') {
    // Gradient accumulation: a step (and its clearing) every second batch.
    lines.push(`${I(2)}if (epoch % 2 === 1) {`, mark(`${I(3)}opt.step();`, Z), `${I(3)}opt.zeroGrad({ setToNone: true });`, `${I(2)}}`);
  } else lines.push(mark(`${I(2)}opt.step();`, Z));
  if (second) lines.push(mark(`${I(2)}optT.step();`, Z));
  if (update && update.how !== 'clip') {
    const call = {
      sgd: `sgdStep(${headParams}, 0.01)`,
      momentum: `momentumStep(${headParams}, buffers, 0.01)`,
      ema: `softUpdate(target.parameters(), ${headParams}, 0.01)`,
    }[update.how];
    lines.push(mark(`${I(2)}${update.guard === 'call' ? `noGrad(() => ${call});` : `${call};`}`, 'no-leaf-inplace'));
  }
  if (spec.clear === 'afterStep') lines.push(`${I(2)}opt.zeroGrad({ setToNone: true });`);
  if (leaf?.where === 'loop' || leaf?.where === 'helper') lines.push(...leafInplace(2));
  if (cut?.where === 'eval') {
    const evalLoss = `nn.functional.mseLoss(${full('randn([4, 4])')}, randn([4, 1])).item()`;
    if (cut.how !== 'detach') lines.push(`${I(2)}history.push(${cutExpr(evalLoss)});`);
    else lines.push(`${I(2)}history.push(nn.functional.mseLoss(${full('randn([4, 4])')}.detach(), randn([4, 1])).item());`);
  }
  lines.push(`${I(1)}}`);
  if (evalBlock) {
    const net = m === 'split' ? '{ forward: (t: Tensor) => head.forward(encoder.forward(t).tanh()) }' : 'model';
    const args = 'randn([4, 4]), randn([4, 1])';
    if (evalBlock.form === 'trainer') {
      lines.push(
        `${I(1)}const trainer = new Trainer(${net}, opt);`,
        `${I(1)}history.push(trainer.trainStep(randn([5, 4]), randn([5, 1])));`,
      );
    }
    const call = evalBlock.form === 'trainer' ? `trainer.evaluate(${args})` : `evaluate(${net}, ${args})`;
    lines.push(`${I(1)}history.push(${evalBlock.guard === 'call' ? `noGrad(() => ${call})` : call});`);
  }
  if (asyncBlock) {
    if (asyncBlock.async)
      lines.push(mark(`${I(1)}history.push(await noGrad(async () => ${full('await nextBatch()')}.mean().item()));`, 'valid-no-grad'));
    else lines.push(`${I(1)}history.push(noGrad(() => ${full('randn([5, 4])')}.mean().item()));`);
  }
  lines.push('}');

  const out = [];
  /** @type {Record<string, string[]>} */
  const siblings = {};
  if (helperFile && helperLines.length > 0) {
    const code = helperLines.join('\n').replace(/\n*$/, '\n');
    out.push({ name: 'helpers.ts', text: `${imports(code)}\n\n${code}` });
    siblings.helpers = helperNames;
  }
  if (modelFile) {
    const code = modelLines.join('\n');
    out.push({ name: 'model.ts', text: `${imports(code, siblings)}\n\n${code}\n` });
    siblings.model = ['Net'];
  }
  const code = [...pre, ...lines].join('\n');
  return [{ name: 'main.ts', text: `${imports(code, siblings)}\n\n${code}\n` }, ...out];
}

/** The main file of a spec's program (without a header). @param {Spec} spec */
export function renderProgram(spec) {
  return renderFiles(spec)[0].text;
}
