/** The CPU backend's wasm relu kernels (wasm-relu.ts), above their threshold: bit for bit the JS kernels' results. */
import { afterEach, describe, expect, it } from 'vitest';
import type { View } from '../src/backend/backend.js';
import { cpuBackend } from '../src/backend/cpu/cpu-backend.js';
import { reluModuleBytes, WASM_RELU_MIN } from '../src/backend/cpu/wasm-relu.js';
import { setWasmKernelsEnabled } from '../src/backend/cpu/wasm-runtime.js';
import { dataOf, rnd, view } from './cpu-kernel-harness.js';

/** n floats after `pad` others: random values with specials (NaN of both signs and odd payloads, ±0, ±∞, denormals) mixed in. */
function specialRow(n: number, pad: number): View {
  const specials = [NaN, -0, 0, -Infinity, Infinity, -1e-45, 1e-45, -3.5, 2.25, 3.4e38, -3.4e38];
  const data = new Float32Array(pad + n);
  for (let i = 0; i < data.length; i++) data[i] = i % 13 < specials.length ? specials[i % 13] : rnd();
  const bits = new Int32Array(data.buffer);
  for (let i = 12; i < data.length; i += 13) bits[i] = i % 2 === 0 ? -0x400000 : 0x7f800001 + (i % 1000);
  return view(data, 'float32', [n], [1], pad);
}

const bitsOf = (a: Float32Array): number[] => [...new Int32Array(a.buffer, a.byteOffset, a.length)];

describe('wasm relu kernels', () => {
  afterEach(() => {
    setWasmKernelsEnabled(true);
  });

  it('is a valid module small enough for synchronous compilation on a browser main thread', () => {
    const bytes = reluModuleBytes();
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect(bytes.length).toBeLessThan(4096);
  });

  it('relu and reluBackward above the threshold (odd lengths, offsets) equal the JS kernels bit for bit', () => {
    for (const n of [WASM_RELU_MIN, WASM_RELU_MIN + 3, 3 * WASM_RELU_MIN + 1]) {
      const x = specialRow(n, 5);
      const g = specialRow(n, 2);
      const results = [true, false].map((wasm) => {
        setWasmKernelsEnabled(wasm);
        return {
          relu: dataOf(cpuBackend.unary('relu', x, 'float32')) as Float32Array,
          grad: dataOf(cpuBackend.reluBackward(g, x)) as Float32Array,
          // y and g in one storage: the kernel copies each range in separately.
          self: dataOf(cpuBackend.reluBackward(x, x)) as Float32Array,
        };
      });
      const [viaWasm, viaJs] = results;
      expect(viaWasm.relu.length).toBe(n);
      expect(bitsOf(viaWasm.relu)).toEqual(bitsOf(viaJs.relu));
      expect(bitsOf(viaWasm.grad)).toEqual(bitsOf(viaJs.grad));
      expect(bitsOf(viaWasm.self)).toEqual(bitsOf(viaJs.self));
    }
  });
});
