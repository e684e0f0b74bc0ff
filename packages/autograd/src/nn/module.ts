import { describeValue, type Device } from '../dtype.js';
import { fail } from '../errors.js';
import { noGrad } from '../grad-mode.js';
import { parametersListed } from '../observe.js';
import type { Tensor } from '../tensor.js';
import { Parameter } from './parameter.js';

/**
 * Base class of layers and models. Own properties holding a Module, a Parameter, or an array of
 * Modules are registered automatically (PyTorch's `__setattr__` registration), in declaration order.
 */
export abstract class Module {
  training = true;

  abstract forward(...inputs: Tensor[]): Tensor;

  /** Direct submodules with their attribute names. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value) && value.length > 0 && value.every((v) => v instanceof Module)) {
        value.forEach((m, i) => out.push([`${key}.${String(i)}`, m]));
      }
    }
    return out;
  }

  children(): Module[] {
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
    const visit = (m: Module, pre: string): void => {
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

  /** Moves every parameter to `device` in place (the Parameter objects stay the same). */
  to(device: Device): this {
    for (const p of this.parameters()) p.moveTo(device);
    return this;
  }

  /** `to(device)` for moves off the GPU, which need an asynchronous read-back (`await model.toAsync('cpu')`). */
  async toAsync(device: Device): Promise<this> {
    for (const p of this.parameters()) await p.moveToAsync(device);
    return this;
  }
}

/** zeroGrad's options: `{ setToNone?: boolean }` (a bare `true`, Python's positional form, is refused). */
export function zeroGradSetToNone(owner: string, options: unknown): boolean {
  if (options === undefined) return false;
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    fail('INVALID_ARGUMENT', `${owner}: the options argument must be an object { setToNone?: boolean }, but ${describeValue(options)} was passed${typeof options === 'boolean' ? ` (write zeroGrad({ setToNone: ${String(options)} }))` : ''}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'setToNone') fail('INVALID_ARGUMENT', `${owner}: unknown option '${key}'${key === 'set_to_none' ? ' (did you mean setToNone?)' : ''}; the only option is setToNone`);
  }
  const v = (options as { setToNone?: unknown }).setToNone;
  if (v !== undefined && typeof v !== 'boolean') fail('INVALID_ARGUMENT', `${owner}: setToNone must be a boolean, but ${describeValue(v)} was passed`);
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
