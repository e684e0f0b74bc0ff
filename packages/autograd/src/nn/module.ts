import { describeValue, type Device } from '../dtype.js';
import { fail } from '../errors.js';
import { noGrad } from '../grad-mode.js';
import { parametersListed } from '../observe.js';
import { fmtShape, shapeEq } from '../shape.js';
import { Tensor } from '../tensor.js';
import { Parameter } from './parameter.js';
import { moveTo, moveToAsync } from '../tensor-internal.js';

/** `stateDict()`: parameters and persistent buffers by PyTorch's dotted names, in registration order. */
export type StateDict = Record<string, Tensor>;

/** What `loadStateDict` found: keys the module has that the dict lacks, and keys it has that the module lacks. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

const BUFFERS = Symbol('buffers');

/**
 * Any module, whatever its forward returns (the type of `children()`, `modules()` and the
 * containers' items): a module of any output type is one, and one can be passed where `nn.Module` is expected.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- PyTorch's untyped forward: a module of any output type
export type AnyModule = Module<any>;

/**
 * Base class of layers and models. Own properties holding a Module, a Parameter, or an array of
 * Modules are registered automatically (PyTorch's `__setattr__` registration), in declaration order.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- Out types forward's result, which subclasses declare
export abstract class Module<Out = Tensor> {
  training = true;
  /** Registered buffer names → whether they are persistent (in `stateDict()`); the values live on the properties. */
  private readonly [BUFFERS] = new Map<string, boolean>();

  /**
   * The computation. A subclass declares whatever arguments it needs; its result type is the
   * class's type argument, `Tensor` by default, so a module returning a tuple is declared as
   * `class Attention extends nn.Module<[Tensor, Tensor]> { forward(x: Tensor, mask?: Tensor): [Tensor, Tensor] }`.
   * `nn.Module` means a module returning a Tensor (what the lint rules follow through `forward`);
   * `nn.AnyModule` accepts any module.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- PyTorch's Callable[..., Any]: a subclass may declare any parameters
  abstract forward(...inputs: any[]): Out;

  /**
   * Registers `tensor` as a buffer named `name` (state that is not a parameter, such as BatchNorm's
   * running statistics): it becomes the property `this[name]`, is moved by `to()`, and (unless
   * `persistent: false`) is saved by `stateDict()`. `null` registers an absent buffer.
   */
  registerBuffer(name: string, tensor: Tensor | null, options: { persistent?: boolean } = {}): void {
    if (typeof name !== 'string' || name === '' || name.includes('.'))
      fail('INVALID_ARGUMENT', `registerBuffer: the name must be a non-empty string without '.', but ${describeValue(name)} was passed`);
    if (tensor !== null && !(tensor instanceof Tensor))
      fail('INVALID_ARGUMENT', `registerBuffer('${name}'): the buffer must be a Tensor or null, but ${describeValue(tensor)} was passed`);
    if (tensor instanceof Parameter)
      fail(
        'INVALID_ARGUMENT',
        `registerBuffer('${name}'): a Parameter can't be a buffer; assign it as a property to register it as a parameter`,
      );
    const existing = (this as unknown as Record<string, unknown>)[name];
    if (!this[BUFFERS].has(name) && existing !== undefined) fail('INVALID_ARGUMENT', `registerBuffer: attribute '${name}' already exists`);
    this[BUFFERS].set(name, options.persistent ?? true);
    (this as unknown as Record<string, unknown>)[name] = tensor;
  }

  /** Buffers held directly by this module (absent ones skipped). */
  private ownBuffers(persistentOnly = false): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, persistent] of this[BUFFERS]) {
      const t = (this as unknown as Record<string, unknown>)[name];
      if (t instanceof Tensor && (persistent || !persistentOnly)) out.push([name, t]);
    }
    return out;
  }

  /** Every module of the tree (this one first, named ''), each once, with its dotted name. */
  namedModules(prefix = ''): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    const seen = new Set<AnyModule>();
    const visit = (m: AnyModule, name: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([name, m]);
      for (const [child, c] of m.namedChildren()) visit(c, name === '' ? child : `${name}.${child}`);
    };
    visit(this, prefix);
    return out;
  }

  modules(): AnyModule[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Calls `fn` on every submodule (children first) and then on this module, as PyTorch's `apply`. */
  apply(fn: (module: AnyModule) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** All buffers with dotted names (`1.runningMean`), each once. */
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [name, m] of this.namedModules(prefix)) {
      for (const [b, t] of m.ownBuffers()) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([name === '' ? b : `${name}.${b}`, t]);
      }
    }
    return out;
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, t]) => t);
  }

  /** Sets `requiresGrad` of every parameter (freezing with `false`), as PyTorch's `requires_grad_`. */
  requiresGrad_(requiresGrad = true): this {
    if (typeof requiresGrad !== 'boolean')
      fail(
        'INVALID_ARGUMENT',
        `${this.constructor.name}.requiresGrad_: the flag must be a boolean, but ${describeValue(requiresGrad)} was passed`,
      );
    for (const p of this.parameters()) p.requiresGrad_(requiresGrad);
    return this;
  }

  /**
   * Parameters and persistent buffers by dotted name (module by module: its parameters, then its
   * buffers, then its children), as detached tensors sharing the module's storage.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    const visit = (m: AnyModule, pre: string): void => {
      for (const [name, p] of m.ownParameters()) out[pre + name] = p.detach();
      for (const [name, b] of m.ownBuffers(true)) out[pre + name] = b.detach();
      for (const [name, child] of m.namedChildren()) visit(child, `${pre}${name}.`);
    };
    visit(this, '');
    return out;
  }

  /**
   * Copies `stateDict` into the parameters and buffers, in place (without recording). With
   * `strict` (the default) the keys must match exactly; a shape mismatch is an error either way.
   * Nothing is copied when an error is raised.
   */
  loadStateDict(stateDict: StateDict, options: { strict?: boolean } = {}): LoadStateDictResult {
    const raw: unknown = stateDict;
    if (raw === null || typeof raw !== 'object')
      fail('INVALID_ARGUMENT', `loadStateDict: expected an object of tensors, but ${describeValue(stateDict)} was passed`);
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in stateDict));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !(k in own));
    const errors: string[] = [];
    if (strict) {
      if (unexpectedKeys.length > 0) errors.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
      if (missingKeys.length > 0) errors.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    }
    for (const [key, target] of Object.entries(own)) {
      if (!(key in stateDict)) continue;
      const src = stateDict[key];
      if (!(src instanceof Tensor))
        errors.push(`While copying the parameter named "${key}", expected a Tensor but got ${describeValue(src)}.`);
      else if (!shapeEq(src.shape, target.shape))
        errors.push(
          `size mismatch for ${key}: copying a param with shape ${fmtShape(src.shape)} from checkpoint, the shape in current model is ${fmtShape(target.shape)}.`,
        );
    }
    if (errors.length > 0)
      fail(
        errors.some((e) => e.startsWith('size')) ? 'SHAPE_MISMATCH' : 'INVALID_ARGUMENT',
        `Error(s) in loading state_dict for ${this.constructor.name}:\n\t${errors.join('\n\t')}`,
      );
    noGrad(() => {
      for (const [key, target] of Object.entries(own)) {
        if (key in stateDict) target.copy_(stateDict[key]);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Direct submodules with their attribute names. */
  namedChildren(): [string, AnyModule][] {
    const out: [string, AnyModule][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Module)) {
        value.forEach((m, i) => out.push([`${key}.${String(i)}`, m]));
      }
    }
    return out;
  }

  children(): AnyModule[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** Parameters held directly by this module. */
  protected ownParameters(): [string, Parameter][] {
    return Object.entries(this).filter((e): e is [string, Parameter] => e[1] instanceof Parameter);
  }

  /** All parameters with PyTorch's dotted names (`0.weight`, `layer1.bias`), each once. */
  namedParameters(prefix = ''): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Tensor>();
    const visit = (m: AnyModule, pre: string): void => {
      for (const [name, p] of m.ownParameters()) {
        if (!seen.has(p)) {
          seen.add(p);
          out.push([pre + name, p]);
        }
      }
      for (const [name, child] of m.namedChildren()) visit(child, `${pre}${name}.`);
    };
    visit(this, prefix ? `${prefix}.` : '');
    if (prefix === '') parametersListed(out);
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  train(mode = true): this {
    this.training = mode;
    for (const c of this.children()) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Clears parameter gradients: zero-filled by default, `null` with `{ setToNone: true }`. */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = zeroGradSetToNone(`${this.constructor.name}.zeroGrad`, options);
    for (const p of this.parameters()) clearGrad(p, setToNone);
  }

  /** Moves every parameter and buffer to `device` in place (the tensor objects stay the same). */
  to(device: Device): this {
    for (const p of this.parameters()) moveTo(p, device);
    for (const t of this.buffers()) moveTo(t, device);
    return this;
  }

  /** `to(device)` for moves off the GPU, which need an asynchronous read-back (`await model.toAsync('cpu')`). */
  async toAsync(device: Device): Promise<this> {
    for (const p of this.parameters()) await moveToAsync(p, device);
    for (const t of this.buffers()) await moveToAsync(t, device);
    return this;
  }
}

/** zeroGrad's options: `{ setToNone?: boolean }` (a bare `true`, Python's positional form, is refused). */
export function zeroGradSetToNone(owner: string, options: unknown): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail(
      'INVALID_ARGUMENT',
      `${owner}: the options argument must be an object { setToNone?: boolean }, but ${describeValue(options)} was passed${typeof options === 'boolean' ? ` (write zeroGrad({ setToNone: ${String(options)} }))` : ''}`,
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== 'setToNone')
      fail(
        'INVALID_ARGUMENT',
        `${owner}: unknown option '${key}'${key === 'set_to_none' ? ' (did you mean setToNone?)' : ''}; the only option is setToNone`,
      );
  }
  const v = (options as { setToNone?: unknown }).setToNone;
  if (v !== undefined && typeof v !== 'boolean')
    fail('INVALID_ARGUMENT', `${owner}: setToNone must be a boolean, but ${describeValue(v)} was passed`);
  return v ?? false;
}

export function clearGrad(p: Tensor, setToNone: boolean): void {
  const g = p.grad;
  if (g === null) return;
  if (setToNone) {
    p.grad = null;
    return;
  }
  // As PyTorch's zero_grad: a grad built with createGraph is first cut from its graph (which it
  // would otherwise keep alive), then zeroed.
  const plain = g.requiresGrad ? g.detach() : g;
  if (plain !== g) p.grad = plain;
  noGrad(() => plain.zero_());
}
