import { uniform } from '../creation.js';
import { describeValue } from '../dtype.js';
import { fail } from '../errors.js';
import { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { Parameter } from './parameter.js';

/** y = x Wᵀ + b, initialised as PyTorch does: U(-1/√in, 1/√in) for weight and bias. */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: { bias?: boolean } = {}) {
    super();
    if (!Number.isInteger(inFeatures) || !Number.isInteger(outFeatures) || inFeatures <= 0 || outFeatures <= 0) {
      fail('INVALID_ARGUMENT', `nn.Linear(${String(inFeatures)}, ${String(outFeatures)}): feature counts must be positive integers`);
    }
    const opts: unknown = options;
    if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
      // new nn.Linear(4, 2, false) is Python's positional bias=False: refuse it rather than keep a bias.
      fail('INVALID_ARGUMENT', `nn.Linear: the options argument must be an object { bias? }, but ${describeValue(opts)} was passed${typeof opts === 'boolean' ? ` (write new nn.Linear(${String(inFeatures)}, ${String(outFeatures)}, { bias: ${String(opts)} }))` : ''}`);
    }
    for (const key of Object.keys(opts)) if (key !== 'bias') fail('INVALID_ARGUMENT', `nn.Linear: unknown option '${key}'; the only option is bias`);
    if (options.bias !== undefined && typeof options.bias !== 'boolean') fail('INVALID_ARGUMENT', `nn.Linear: bias must be a boolean, but ${describeValue(options.bias)} was passed`);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    // kaiming_uniform_(a=√5) reduces to a bound of 1/√fan_in.
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = new Parameter(uniform([outFeatures, inFeatures], -bound, bound));
    this.bias = (options.bias ?? true) ? new Parameter(uniform([outFeatures], -bound, bound)) : null;
  }

  forward(input: Tensor): Tensor {
    const last = input.shape[input.ndim - 1];
    if (last !== this.inFeatures) {
      fail('SHAPE_MISMATCH', `Linear(${String(this.inFeatures)} → ${String(this.outFeatures)}) got input of shape [${input.shape.join(', ')}]: its last dimension must be ${String(this.inFeatures)}`);
    }
    const y = input.matmul(this.weight.transpose(0, 1));
    return this.bias ? y.add(this.bias) : y;
  }
}

/** Runs modules in order; children are named '0', '1', … as in PyTorch. */
export class Sequential extends Module {
  private readonly layers: Module[];

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      if (!(m instanceof Module)) fail('INVALID_ARGUMENT', `nn.Sequential: argument ${String(i)} is not a Module`);
    });
    this.layers = modules;
  }

  override namedChildren(): [string, Module][] {
    return this.layers.map((m, i) => [String(i), m]);
  }

  at(index: number): Module {
    const m = this.layers.at(index);
    if (!m) fail('INVALID_ARGUMENT', `nn.Sequential.at(${String(index)}): index out of range for ${String(this.layers.length)} modules`);
    return m;
  }

  get length(): number {
    return this.layers.length;
  }

  forward(input: Tensor): Tensor {
    return this.layers.reduce((x, m) => m.forward(x), input);
  }
}

export class ReLU extends Module {
  forward(input: Tensor): Tensor {
    return input.relu();
  }
}

export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return input.sigmoid();
  }
}

export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return input.tanh();
  }
}
