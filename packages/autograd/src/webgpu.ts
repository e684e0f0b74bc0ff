/// <reference types="@webgpu/types" />
import { GpuContext } from './backend/webgpu/context.js';
import { WebGPUBackend } from './backend/webgpu/webgpu-backend.js';
import { registerBackend } from './backend/registry.js';
import { fail } from './errors.js';

/** SwiftShader's Vulkan driver as Debian's `chromium` package installs it. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const VULKAN_LOADERS = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
];

/**
 * `GPUDevice` where the compiling project has WebGPU's types (TypeScript 6's DOM library, or
 * `@webgpu/types`), `unknown` elsewhere. The shipped declarations name no WebGPU global directly:
 * `@webgpu/types` collides with TypeScript 6's DOM library, and TypeScript 5's has no WebGPU, so
 * either way a direct reference would fail to compile in some users' projects (without skipLibCheck).
 */
export type WebGPUDevice = typeof globalThis extends { GPUDevice: { prototype: infer D } } ? D : unknown;

export interface WebGPUInfo {
  /** Adapter vendor and architecture (e.g. `google` / `swiftshader`). */
  readonly vendor: string;
  readonly architecture: string;
  readonly device: WebGPUDevice;
}

let ready: Promise<WebGPUInfo> | null = null;
/** Dawn tears its instance down when the GPU object is collected, crashing later callbacks: hold it. */
const keepAlive = new Set<object>();
/** Whether VK_ICD_FILENAMES was chosen by initWebGPU (it cannot take effect from a worker thread). */
let icdSetHere = false;

/**
 * Readies the WebGPU device once per process and registers the 'webgpu' backend. Browsers use
 * `navigator.gpu`; Node loads Dawn through the optional `webgpu` package. In Node, when
 * `VK_ICD_FILENAMES` is unset and SwiftShader's ICD file exists (Debian's `chromium`), it is
 * selected before Dawn starts, so a machine without a GPU driver still gets an adapter.
 * Throws NO_WEBGPU naming what is missing.
 */
export function initWebGPU(): Promise<WebGPUInfo> {
  ready ??= start().catch((e: unknown) => {
    ready = null;
    throw e;
  });
  return ready;
}

async function start(): Promise<WebGPUInfo> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu ?? (isNode() ? await nodeGpu() : browserMissing());
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter)
    fail(
      'NO_WEBGPU',
      isNode()
        ? nodeNoAdapterMessage()
        : 'navigator.gpu returned no adapter: the browser has WebGPU but no usable GPU or driver (in Chromium without a GPU, start it with --enable-unsafe-webgpu and a SwiftShader/Vulkan backend, e.g. --enable-features=Vulkan --use-angle=swiftshader).',
    );
  keepAlive.add(gpu).add(adapter);
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  device.addEventListener('uncapturederror', (event) => {
    console.error(`[gradflow] WebGPU error: ${event.error.message}`);
  });
  registerBackend(new WebGPUBackend(new GpuContext(device)));
  // `info` is recent (older type packages and browsers lack it).
  const info = (adapter as { info?: { vendor: string; architecture: string } }).info;
  return { vendor: info?.vendor ?? 'unknown', architecture: info?.architecture ?? 'unknown', device };
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions === 'object' && typeof process.versions.node === 'string';
}

function browserMissing(): never {
  return fail(
    'NO_WEBGPU',
    'navigator.gpu is undefined: this browser has no WebGPU, or the page is not a secure context (serve it over https or from http://localhost / 127.0.0.1). Chromium on Linux needs --enable-unsafe-webgpu.',
  );
}

interface NodeFs {
  existsSync(path: string): boolean;
}

function nodeFs(): NodeFs {
  return process.getBuiltinModule('node:fs');
}

async function nodeGpu(): Promise<GPU> {
  const fs = nodeFs();
  if (process.env.VK_ICD_FILENAMES === undefined && process.env.VK_DRIVER_FILES === undefined && fs.existsSync(SWIFTSHADER_ICD)) {
    // Read by the Vulkan loader when Dawn creates its instance, so setting it here is enough.
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
    icdSetHere = true;
  }
  // A variable specifier keeps bundlers from pulling the Node-only addon into browser builds.
  const specifier = 'webgpu';
  let mod: { create(flags: string[]): GPU; globals: object };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (e) {
    return fail(
      'NO_WEBGPU',
      `the optional dependency 'webgpu' (Dawn for Node) could not be loaded: ${e instanceof Error ? e.message : String(e)}. Install it with \`npm install webgpu\` (a prebuilt linux-x64/arm64, macOS or Windows binary).`,
    );
  }
  Object.assign(globalThis, mod.globals);
  return mod.create([]);
}

function nodeNoAdapterMessage(): string {
  const fs = nodeFs();
  const missing: string[] = [];
  if (!VULKAN_LOADERS.some((p) => fs.existsSync(p))) missing.push('the Vulkan loader libvulkan.so.1 (Debian: apt-get install libvulkan1)');
  const icd = process.env.VK_ICD_FILENAMES ?? process.env.VK_DRIVER_FILES;
  if (icd !== undefined && !icd.split(':').every((p) => fs.existsSync(p)))
    missing.push(`the Vulkan driver manifest VK_ICD_FILENAMES=${icd} (file not found)`);
  if (icd === undefined)
    missing.push(
      `a Vulkan driver: no GPU driver was found and SwiftShader's ${SWIFTSHADER_ICD} is absent (Debian: apt-get install chromium, which ships SwiftShader)`,
    );
  const threads = process.getBuiltinModule('node:worker_threads');
  if (icdSetHere && !threads.isMainThread)
    missing.push(
      "VK_ICD_FILENAMES in the environment Node started with (this is a worker thread, whose process.env changes do not reach the Vulkan loader; set it before starting Node or in the test runner's main process)",
    );
  const what =
    missing.length > 0 ? missing.join('; ') : 'a Vulkan driver Dawn accepts (SwiftShader or a GPU driver; Mesa lavapipe 22.x is refused)';
  return `Dawn (the 'webgpu' package) found no WebGPU adapter. Missing: ${what}. Point VK_ICD_FILENAMES at a driver's ICD json to choose one explicitly.`;
}
