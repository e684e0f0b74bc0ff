// Runs the CNN example from the repository root (after `npm run build`):
//   node examples/cnn/run.mjs                  # CPU
//   node examples/cnn/run.mjs --device=webgpu  # WebGPU (Dawn through the `webgpu` package)
//   node examples/cnn/run.mjs --epochs=5
// The example is TypeScript (so `npx eslint examples` lints it with type information); esbuild,
// already a dev dependency, bundles it into examples/cnn/.build/ (git-ignored) and Node runs that.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const args = new Map(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const device = args.get('device') ?? 'cpu';
if (device !== 'cpu' && device !== 'webgpu') throw new Error(`--device must be cpu or webgpu, got ${device}`);
const outfile = join(here, '.build', 'train.mjs');
mkdirSync(dirname(outfile), { recursive: true });
await build({
  entryPoints: [join(here, 'train.ts')],
  bundle: true,
  packages: 'external',
  platform: 'node',
  format: 'esm',
  outfile,
  logLevel: 'warning',
});
if (device === 'webgpu') {
  const { initWebGPU } = await import('@gradflow/autograd');
  const gpu = await initWebGPU();
  console.log(`WebGPU adapter: ${gpu.vendor}/${gpu.architecture}`);
}
const { train } = await import(pathToFileURL(outfile).href);
await train({ device, epochs: args.has('epochs') ? Number(args.get('epochs')) : undefined });
