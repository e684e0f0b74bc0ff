import type { Device } from '../dtype.js';
import { fail } from '../errors.js';
import type { Backend } from './backend.js';
import { cpuBackend } from './cpu/cpu-backend.js';

const backends = new Map<Device, Backend>([['cpu', cpuBackend]]);

export function registerBackend(backend: Backend): void {
  backends.set(backend.device, backend);
}

export function getBackend(device: Device): Backend {
  const b = backends.get(device);
  if (!b) {
    fail('NO_WEBGPU', `device '${device}' is not ready: call \`await initWebGPU()\` once before creating tensors on it.`);
  }
  return b;
}
