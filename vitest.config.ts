import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Dawn's Vulkan loader reads VK_ICD_FILENAMES from the real process environment, which test
// workers cannot change (a worker's process.env is a copy): choose SwiftShader here, in the main
// process, before any worker starts. Same default as initWebGPU() applies when run directly.
const swiftshader = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (process.env.VK_ICD_FILENAMES === undefined && process.env.VK_DRIVER_FILES === undefined && existsSync(swiftshader)) {
  process.env.VK_ICD_FILENAMES = swiftshader;
}

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'rules/test/**/*.test.ts', 'test/**/*.test.ts', 'fuzz/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'threads',
  },
});
