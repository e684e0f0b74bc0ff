/**
 * The nn part of the second wave: the Module API (buffers, stateDict, apply, namedModules, any
 * forward signature), the new layers, nn.init and nn.utils. Expected values come from PyTorch's
 * documented formulas written out as scalar JS here, never from the engine's own output.
 *
 * This file: the Module API. The layers are in nn-second-wave-layers.test.ts, nn.init and nn.utils
 * in nn-second-wave-init.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, ones, randn, tensor, zeros, type Tensor } from '../src/index.js';
import { errorOf } from './expect-error.js';
import { flat } from './tensor-close.js';

class Attention extends nn.Module<[Tensor, Tensor]> {
  proj = new nn.Linear(4, 4);
  forward(x: Tensor, mask?: Tensor): [Tensor, Tensor] {
    const y = this.proj.forward(x);
    return [mask ? y.mul(mask) : y, y.sum()];
  }
}

class Net extends nn.Module<{ a: Tensor; b: Tensor }> {
  body = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4), new nn.ReLU());
  heads = new nn.ModuleDict({ a: new nn.Linear(4, 2), b: new nn.Linear(4, 1, { bias: false }) });
  blocks = new nn.ModuleList([new nn.LayerNorm(4), new nn.Identity()]);
  forward(x: Tensor): { a: Tensor; b: Tensor } {
    let h = this.body.forward(x);
    for (const m of this.blocks) h = m.forward(h);
    return { a: this.heads.get('a').forward(h), b: this.heads.get('b').forward(h) };
  }
}

describe('Module API', () => {
  it('forward may take any arguments and return a tuple', () => {
    const m = new Attention();
    const [y, s] = m.forward(ones([2, 4]), zeros([2, 4]));
    expect(flat(y).map(Math.abs)).toEqual(Array<number>(8).fill(0));
    expect(s.shape).toEqual([]);
    const [y2] = m.forward(ones([2, 4]));
    expect(y2.shape).toEqual([2, 4]);
    // Any module, whatever its forward returns, is an nn.AnyModule.
    const all: nn.AnyModule[] = [m, new nn.Linear(2, 2), new nn.ModuleList()];
    expect(all.length).toBe(3);
    const list = new nn.ModuleList([m]);
    const [first] = list.at(0).forward(ones([1, 4]));
    expect(first.shape).toEqual([1, 4]);
  });

  it('namedModules / modules: the tree in PyTorch order with dotted names, itself first as ""', () => {
    const net = new Net();
    expect(net.namedModules().map(([n]) => n)).toEqual([
      '',
      'body',
      'body.0',
      'body.1',
      'body.2',
      'heads',
      'heads.a',
      'heads.b',
      'blocks',
      'blocks.0',
      'blocks.1',
    ]);
    expect(net.modules()[0]).toBe(net);
  });

  it('apply visits children before the module itself and returns it', () => {
    const seq = new nn.Sequential(new nn.Linear(2, 2), new nn.Sequential(new nn.Tanh()));
    const seen: string[] = [];
    expect(
      seq.apply((m) => {
        seen.push(m.constructor.name);
      }),
    ).toBe(seq);
    expect(seen).toEqual(['Linear', 'Tanh', 'Sequential', 'Sequential']);
  });

  it('stateDict: parameters then buffers per module, dotted keys, camelCased buffer names', () => {
    const net = new nn.Sequential(new nn.Linear(3, 4), new nn.BatchNorm1d(4));
    expect(Object.keys(net.stateDict())).toEqual([
      '0.weight',
      '0.bias',
      '1.weight',
      '1.bias',
      '1.runningMean',
      '1.runningVar',
      '1.numBatchesTracked',
    ]);
    expect(net.namedBuffers().map(([n]) => n)).toEqual(['1.runningMean', '1.runningVar', '1.numBatchesTracked']);
    expect(net.buffers().length).toBe(3);
    // Buffers are not parameters.
    expect(net.parameters().length).toBe(4);
    const sd = net.stateDict();
    expect(sd['0.weight'].requiresGrad).toBe(false);
    expect(sd['1.numBatchesTracked'].dtype).toBe('int32');
  });

  it('registerBuffer: a property, non-persistent ones are left out of stateDict, null ones skipped', () => {
    class M extends nn.Module {
      constructor() {
        super();
        this.registerBuffer('scale', tensor([2, 3]));
        this.registerBuffer('cache', tensor([1]), { persistent: false });
        this.registerBuffer('absent', null);
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    const m = new M() as M & { scale: Tensor };
    expect(flat(m.scale)).toEqual([2, 3]);
    expect(m.namedBuffers().map(([n]) => n)).toEqual(['scale', 'cache']);
    expect(Object.keys(m.stateDict())).toEqual(['scale']);
    expect(
      errorOf(() => {
        m.registerBuffer('bad.name', tensor([1]));
      }).code,
    ).toBe('INVALID_ARGUMENT');
  });

  it('loadStateDict copies values in place; strict errors name the missing and unexpected keys', () => {
    manualSeed(1);
    const a = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
    const b = new nn.Sequential(new nn.Linear(3, 2), new nn.BatchNorm1d(2));
    const w = b.at(0).parameters()[0];
    const before = w.version;
    expect(b.loadStateDict(a.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(w.version).toBeGreaterThan(before);
    expect(b.at(0).parameters()[0]).toBe(w);
    for (const [k, t] of Object.entries(a.stateDict())) expect(flat(b.stateDict()[k])).toEqual(flat(t));

    const partial = a.stateDict();
    delete partial['0.bias'];
    partial['extra.weight'] = ones([1]);
    const e = errorOf(() => b.loadStateDict(partial));
    expect(e.message).toContain('Missing key(s) in state_dict: "0.bias"');
    expect(e.message).toContain('Unexpected key(s) in state_dict: "extra.weight"');
    expect(b.loadStateDict(partial, { strict: false })).toEqual({ missingKeys: ['0.bias'], unexpectedKeys: ['extra.weight'] });

    const wrong = a.stateDict();
    wrong['0.weight'] = ones([3, 2]);
    const s = errorOf(() => b.loadStateDict(wrong, { strict: false }));
    expect(s.code).toBe('SHAPE_MISMATCH');
    expect(s.message).toContain(
      'size mismatch for 0.weight: copying a param with shape [3, 2] from checkpoint, the shape in current model is [2, 3]',
    );
  });

  it('requiresGrad_(false) freezes every parameter; true unfreezes', () => {
    const net = new Net();
    net.requiresGrad_(false);
    expect(net.parameters().every((p) => !p.requiresGrad)).toBe(true);
    net.heads.requiresGrad_();
    expect(net.parameters().filter((p) => p.requiresGrad).length).toBe(3);
  });

  it('ModuleList / ModuleDict register their modules under index and key names', () => {
    const net = new Net();
    const names = net.namedParameters().map(([n]) => n);
    expect(names).toEqual([
      'body.0.weight',
      'body.0.bias',
      'body.1.weight',
      'body.1.bias',
      'heads.a.weight',
      'heads.a.bias',
      'heads.b.weight',
      'blocks.0.weight',
      'blocks.0.bias',
    ]);
    const out = net.forward(randn([5, 3]));
    expect(out.a.shape).toEqual([5, 2]);
    expect(out.b.shape).toEqual([5, 1]);
    expect(net.blocks.length).toBe(2);
    expect(net.heads.keys()).toEqual(['a', 'b']);
    expect(errorOf(() => net.heads.get('c')).code).toBe('INVALID_ARGUMENT');
  });
});
