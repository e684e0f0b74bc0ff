import { initWebGPU } from '../src/index.js';

/**
 * Whether this process has a WebGPU adapter. Locally a missing adapter skips the WebGPU suites
 * with the reason printed; under CI (`process.env.CI` set) it fails them, since CI installs
 * SwiftShader (`.ci/run`) and must never skip silently.
 */
export interface WebGPUAvailability {
  readonly available: boolean;
  readonly reason: string;
}

let probe: Promise<WebGPUAvailability> | null = null;

export function webgpuAvailability(): Promise<WebGPUAvailability> {
  probe ??= initWebGPU().then(
    (info) => ({ available: true, reason: `${info.vendor}/${info.architecture}` }),
    (e: unknown) => {
      const reason = e instanceof Error ? e.message : String(e);
      if (process.env.CI) throw new Error(`CI must run the WebGPU suites, but no adapter is available: ${reason}`);
      console.warn(`[gradflow] skipping WebGPU tests: ${reason}`);
      return { available: false, reason };
    },
  );
  return probe;
}
