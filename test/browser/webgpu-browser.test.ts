/**
 * End to end in a real browser: the engine bundled with esbuild (browser platform, no Node
 * modules), served from 127.0.0.1 (a secure context, so navigator.gpu exists), loaded in headless
 * Chromium driven by playwright-core, trains a small model on WebGPU; the losses come back to the
 * test and must match the same run on the CPU in Node. A second bundle (the published package's
 * build, as a user's bundler sees it) trains the nanoGPT port for a few iterations and must agree
 * with the PyTorch reference. Chromium missing locally skips with the reason printed; under CI it fails.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectClose } from '../../packages/autograd/test/backend-harness.js';
import { BROWSER_STEPS, trainSmallModel } from './train.js';
import { deviations, type Reference } from '../nanogpt/reference-run.js';
import { TOLERANCES } from '../nanogpt/tolerances.js';

/** nanoGPT iterations in the browser: warmup, clipping (iterations 0 and 1) and the eval at 0, kept short for CI. */
const NANOGPT_ITERS = 4;

const CHROMIUM = '/usr/bin/chromium';
/**
 * ENVIRONMENT.md's flags. Checked on Debian's chromium without a GPU: these alone give a
 * google/swiftshader adapter; --enable-features=Vulkan / --use-angle=swiftshader change nothing.
 */
const FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  const reason = `${CHROMIUM} not found (Debian: apt-get install chromium; .ci/run installs it)`;
  if (process.env.CI) throw new Error(`CI must run the browser WebGPU test: ${reason}`);
  console.warn(`[gradflow] skipping the browser WebGPU test: ${reason}`);
}

async function bundle(entry: string): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

function serve(scripts: Record<string, string>): Promise<Server> {
  const page = (src: string): string =>
    `<!doctype html><meta charset="utf-8"><title>gradflow webgpu</title><script type="module" src="${src}"></script>`;
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const js = url.endsWith('.js') ? scripts[url] : undefined;
    res.writeHead(200, { 'content-type': js !== undefined ? 'text/javascript' : 'text/html' });
    // /nanogpt loads /nanogpt.js; any other page the engine's own bundle
    res.end(js ?? page(url === '/nanogpt' ? '/nanogpt.js' : '/bundle.js'));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve(server);
    }),
  );
}

describe.skipIf(!hasChromium)('browser end to end (headless Chromium, WebGPU)', () => {
  let server: Server | undefined;
  let browser: Browser | undefined;
  let script = '';
  let nanogptScript = '';

  beforeAll(async () => {
    script = await bundle('./entry.ts');
    nanogptScript = await bundle('./nanogpt-entry.ts');
    server = await serve({ '/bundle.js': script, '/nanogpt.js': nanogptScript });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('the browser bundles do not contain the Node-only webgpu (Dawn) package', () => {
    expect(script).not.toMatch(/dawn\.node|from\s*["']webgpu["']/);
    expect(nanogptScript).not.toMatch(/dawn\.node|from\s*["']webgpu["']/);
  });

  it('trains a small model on WebGPU in the page and returns the CPU loss curve', async () => {
    if (!browser || !server) throw new Error('browser or server did not start');
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${String(port)}/`);
    await page.waitForFunction(() => typeof window.gradflowTrain === 'function');
    const result = await page.evaluate(() => window.gradflowTrain());
    expect(errors).toEqual([]);
    expect(result.adapter).not.toBe('');
    expect(result.losses).toHaveLength(BROWSER_STEPS);
    const cpu = await trainSmallModel('cpu');
    expect(cpu[BROWSER_STEPS - 1]).toBeLessThan(0.5 * cpu[0]);
    expectClose(result.losses, cpu, 2e-3, 1e-4, 'browser webgpu losses vs node cpu');
  }, 120_000);

  it('trains the nanoGPT port on WebGPU in the page within float32 tolerance of PyTorch', async () => {
    if (!browser || !server) throw new Error('browser or server did not start');
    const reference = JSON.parse(readFileSync(new URL('../../scripts/reference/nanogpt.json', import.meta.url), 'utf8')) as Reference;
    const text = readFileSync(new URL('../../examples/nanogpt/data/input.txt', import.meta.url), 'utf8');
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const { port } = server.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${String(port)}/nanogpt`);
    await page.waitForFunction(() => typeof window.gradflowNanoGPT === 'function');
    const result = await page.evaluate(([r, t, n]) => window.gradflowNanoGPT(r, t, n), [reference, text, NANOGPT_ITERS] as const);
    expect(errors).toEqual([]);
    expect(result.recorded.microLosses).toHaveLength(NANOGPT_ITERS);
    const dev = deviations(result.recorded, reference, NANOGPT_ITERS);
    expect(Object.keys(dev).sort()).toEqual(['eval', 'gradNorm', 'gradNormsStep0', 'gradsStep0', 'lr', 'microLosses']);
    for (const [key, value] of Object.entries(dev))
      expect(value, `browser: ${key} deviates by ${value.toExponential(2)}`).toBeLessThan(TOLERANCES[key]);
  }, 120_000);
});
