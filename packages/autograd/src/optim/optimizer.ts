import { describeValue } from '../dtype.js';
import { fail } from '../errors.js';
import { enableGrad, noGrad } from '../grad-mode.js';
import { clearGrad, zeroGradSetToNone } from '../nn/module.js';
import { hasStepObservers, optimizerStep } from '../observe.js';
import { Tensor } from '../tensor.js';
import { bumpVersion, contiguousCopy, isContiguous, writeFrom, zerosOn } from '../tensor-internal.js';

/**
 * The constructor's options merged over the defaults. The options must be an object with known
 * keys: `new SGD(params, 0.1)` (Python's positional lr) or `{ weight_decay: … }` would otherwise
 * be silently ignored and train with the defaults.
 */
export function withDefaults<H extends object>(owner: string, defaults: H, options: unknown): H {
  if (options === undefined) return { ...defaults };
  if (options === null || typeof options !== 'object' || Array.isArray(options) || Symbol.iterator in options) {
    const hint =
      typeof options === 'number' ? ` To set the learning rate write new optim.${owner}(params, { lr: ${String(options)} }).` : '';
    fail(
      'INVALID_ARGUMENT',
      `${owner}: the options argument must be an object { ${Object.keys(defaults).join(', ')} }, but ${describeValue(options)} was passed.${hint}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (!(key in defaults)) {
      const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      const hint = camel !== key && camel in defaults ? ` (did you mean ${camel}? options are camelCase)` : '';
      fail('INVALID_ARGUMENT', `${owner}: unknown option '${key}'${hint}; the options are ${Object.keys(defaults).join(', ')}`);
    }
  }
  const merged = { ...defaults } as Record<string, unknown>;
  // An option given as undefined keeps its default (as an omitted keyword argument does).
  for (const [k, v] of Object.entries(options)) if (v !== undefined) merged[k] = v;
  return merged as H;
}

/** A parameter group as users pass it: `{ params, lr?, ... }` with camelCase hyper-parameters. */
export type ParamGroupInput<H> = { params: Iterable<Tensor> } & Partial<H>;
export type ParamsInput<H> = Iterable<Tensor> | Iterable<ParamGroupInput<H>>;
export type ParamGroup<H> = H & { params: Tensor[] };

/**
 * Per-parameter optimizer state (`step`, moment buffers, …), as PyTorch's `optimizer.state[p]`: the
 * default for a subclass that declares no state type of its own. SGD, Adam and RMSprop each declare theirs.
 */
export type ParamState = Record<string, Tensor | number | undefined>;

/** `optimizer.stateDict()`: state by parameter index, and each group's hyper-parameters with its parameters' indices. */
export interface OptimizerStateDict<H, S> {
  state: Record<number, S>;
  paramGroups: (Omit<H, 'params'> & { params: number[] })[];
}

/**
 * The shared optimizer machinery: param groups, per-parameter state, `zeroGrad`, and a `step()`
 * that skips parameters whose grad is null — exactly PyTorch's rule, which is why a zero-filled
 * gradient still lets momentum, Adam's moments and weight decay move a parameter.
 */
export abstract class Optimizer<H extends { lr: number }, S extends object = object> {
  readonly paramGroups: ParamGroup<H>[] = [];
  /** A parameter's state, from its first step on (a parameter never stepped has none). */
  readonly state = new Map<Tensor, S>();
  readonly defaults: H;

  protected constructor(params: ParamsInput<H>, defaults: H) {
    this.defaults = defaults;
    this.validate(defaults);
    const raw: unknown = params;
    if (raw === null || typeof raw !== 'object' || !(Symbol.iterator in raw)) {
      fail(
        'INVALID_ARGUMENT',
        `${this.constructor.name}: params must be an iterable of tensors or of param groups ({ params, lr?, ... }); got ${raw === null ? 'null' : typeof raw}`,
      );
    }
    const list = [...(params as Iterable<Tensor | ParamGroupInput<H>>)];
    if (list.length === 0)
      fail(
        'INVALID_ARGUMENT',
        `${this.constructor.name} got an empty parameter list: did the filter remove every parameter, or was the model built without layers?`,
      );
    if (list.every((p) => p instanceof Tensor)) this.addParamGroup({ params: list } as unknown as ParamGroupInput<H>);
    else
      list.forEach((g) => {
        this.addParamGroup(g as ParamGroupInput<H>);
      });
  }

  addParamGroup(group: ParamGroupInput<H>): void {
    if (group instanceof Tensor || typeof group !== 'object' || !('params' in group)) {
      fail(
        'INVALID_ARGUMENT',
        `${this.constructor.name}: a param group must be an object { params, ... }; don't mix tensors and groups in one list`,
      );
    }
    const params = [...group.params];
    // PyTorch only warns about duplicates inside one group, but such a parameter is stepped twice.
    if (new Set(params).size !== params.length)
      fail(
        'INVALID_ARGUMENT',
        `${this.constructor.name}: a parameter group contains duplicate parameters; each parameter would be updated twice per step`,
      );
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) fail('INVALID_ARGUMENT', `${this.constructor.name}: param ${String(i)} of a group is not a Tensor`);
      if (!p.isLeaf)
        fail(
          'INVALID_ARGUMENT',
          `${this.constructor.name} can't optimize a non-leaf tensor (param ${String(i)}, made by ${p.gradFn?.name ?? 'an op'}); pass parameters (leaves) such as model.parameters()`,
        );
      for (const g of this.paramGroups) {
        if (g.params.includes(p))
          fail('INVALID_ARGUMENT', `${this.constructor.name}: some parameters appear in more than one parameter group`);
      }
    });
    const merged = { ...this.defaults, ...group, params } as ParamGroup<H>;
    this.validate(merged);
    this.paramGroups.push(merged);
  }

  /** Clears gradients: zero-filled by default (PyTorch's set_to_none=False), null with `{ setToNone: true }`. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = zeroGradSetToNone(`${this.constructor.name}.zeroGrad`, options);
    for (const g of this.paramGroups) for (const p of g.params) clearGrad(p, setToNone);
  }

  /**
   * One update of every parameter whose grad is not null. With a `closure` (which clears the
   * gradients, recomputes the loss, calls backward and returns the loss), the closure runs first
   * under enableGrad and step returns its value, as PyTorch's `optimizer.step(closure)`.
   */
  step(): void;
  step<L>(closure: () => L): L;
  step<L>(closure?: () => L): L | undefined {
    if (closure !== undefined && typeof closure !== 'function')
      fail('INVALID_ARGUMENT', `${this.constructor.name}.step: the closure must be a function, but ${describeValue(closure)} was passed`);
    const loss = closure === undefined ? undefined : enableGrad(closure);
    this.stepOnce();
    return loss;
  }

  /**
   * The optimizer's state by parameter index (over all groups, in order) and its groups'
   * hyper-parameters with `params` as those indices, as PyTorch's `optimizer.state_dict()`. The
   * state's tensors are the optimizer's own (not copies).
   */
  stateDict(): OptimizerStateDict<H, S> {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((g) => {
      const ids = g.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p) as number;
      });
      return { ...g, params: ids };
    });
    const state: Record<number, S> = {};
    for (const [p, id] of index) {
      const st = this.state.get(p);
      if (st !== undefined) state[id] = st;
    }
    return { state, paramGroups };
  }

  /**
   * Restores `stateDict()`'s output: hyper-parameters per group (the parameters stay this
   * optimizer's own) and per-parameter state, its tensors copied onto each parameter's device.
   */
  loadStateDict(stateDict: OptimizerStateDict<H, S>): void {
    const owner = `${this.constructor.name}.loadStateDict`;
    const raw: unknown = stateDict;
    if (
      raw === null ||
      typeof raw !== 'object' ||
      !Array.isArray((raw as { paramGroups?: unknown }).paramGroups) ||
      typeof (raw as { state?: unknown }).state !== 'object'
    ) {
      fail(
        'INVALID_ARGUMENT',
        `${owner}: expected { state, paramGroups } as stateDict() returns, but ${describeValue(stateDict)} was passed`,
      );
    }
    const saved = stateDict.paramGroups;
    if (saved.length !== this.paramGroups.length)
      fail(
        'INVALID_ARGUMENT',
        `${owner}: loaded state dict has a different number of parameter groups (${String(saved.length)}, this optimizer has ${String(this.paramGroups.length)})`,
      );
    saved.forEach((g, i) => {
      if (g.params.length !== this.paramGroups[i].params.length)
        fail(
          'INVALID_ARGUMENT',
          `${owner}: loaded state dict contains a parameter group that doesn't match the size of optimizer's group (group ${String(i)}: ${String(g.params.length)} vs ${String(this.paramGroups[i].params.length)} parameters)`,
        );
    });
    const copy = (v: unknown, p: Tensor): unknown =>
      v instanceof Tensor ? noGrad(() => v.detach().to(p.device).clone()) : Array.isArray(v) ? [...(v as unknown[])] : v;
    const newState = new Map<Tensor, S>();
    saved.forEach((g, i) => {
      const group = this.paramGroups[i];
      g.params.forEach((id, j) => {
        const p = group.params[j];
        const st = (stateDict.state as Record<number, S | undefined>)[id];
        if (st === undefined) return;
        newState.set(p, Object.fromEntries(Object.entries(st).map(([k, v]) => [k, copy(v, p)])) as S);
      });
    });
    saved.forEach((g, i) => {
      const group = this.paramGroups[i];
      for (const [k, v] of Object.entries(g))
        if (k !== 'params') (group as Record<string, unknown>)[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
    });
    this.state.clear();
    for (const [p, st] of newState) this.state.set(p, st);
  }

  private stepOnce(): void {
    const observed = hasStepObservers();
    const params = observed ? this.paramGroups.flatMap((g) => g.params) : [];
    if (observed) optimizerStep({ phase: 'before', optimizer: this, params });
    noGrad(() => {
      for (const group of this.paramGroups) {
        for (const p of group.params) {
          const g = p.grad;
          if (g === null) continue;
          const st = this.state.get(p);
          if (isContiguous(p)) {
            this.state.set(p, this.update(p, g, group, st));
            bumpVersion(p);
          } else {
            // The fused kernels update contiguous memory in place; a strided leaf (say, a transposed
            // view given requiresGrad) is stepped through a contiguous copy written back after.
            const work = contiguousCopy(p);
            this.state.set(p, this.update(work, g, group, st));
            writeFrom(p, work);
          }
        }
      }
    });
    if (observed) optimizerStep({ phase: 'after', optimizer: this, params });
  }

  /** Whether this optimizer keeps per-parameter state that moves parameters even with a zero grad. */
  abstract get stateful(): boolean;

  /**
   * Updates `param`'s memory in place from `grad` (the caller bumps its version) and returns its
   * state: `state` updated, or a new state on the parameter's first step (`state` undefined).
   */
  protected abstract update(param: Tensor, grad: Tensor, group: ParamGroup<H>, state: S | undefined): S;

  protected validate(h: H): void {
    this.checkNumber('lr', h.lr, 'learning rate');
  }

  /**
   * A hyper-parameter that must be a number in a range (default: >= 0). A wrong type and a value out
   * of range are both INVALID_ARGUMENT, naming the option and what was passed.
   */
  protected checkNumber(name: string, value: unknown, what = name, range: { max?: number; maxExclusive?: boolean } = {}): void {
    const owner = this.constructor.name;
    if (typeof value !== 'number') {
      fail('INVALID_ARGUMENT', `${owner}: ${name} must be a number, but ${describeValue(value)} was passed (invalid ${what})`);
    }
    const { max, maxExclusive = false } = range;
    const tooBig = max !== undefined && (maxExclusive ? !(value < max) : !(value <= max));
    if (!(value >= 0) || tooBig) {
      const bounds = max === undefined ? '>= 0' : `in [0, ${String(max)}${maxExclusive ? ')' : ']'}`;
      fail('INVALID_ARGUMENT', `${owner}: invalid ${what} ${String(value)}: ${name} must be a number ${bounds}`);
    }
  }

  /** A hyper-parameter that must be a boolean. */
  protected checkBoolean(name: string, value: unknown): void {
    if (typeof value !== 'boolean')
      fail('INVALID_ARGUMENT', `${this.constructor.name}: ${name} must be a boolean, but ${describeValue(value)} was passed`);
  }

  /** A zero state buffer like `p`. */
  protected buffer(p: Tensor): Tensor {
    return zerosOn(p.device, p.shape, p.dtype);
  }
}
