// The extension is buildable with `@vscode/vsce package`, and the VSIX holds what VS Code loads.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_IDLE_TIMEOUT_MS } from '../../language-server/src/lint-host.js';
import { initializationOptions } from '../src/options.js';

const extensionDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const vsce = path.resolve(extensionDir, '../../node_modules/.bin/vsce');

describe('VS Code extension package', () => {
  const outDir = mkdtempSync(path.join(tmpdir(), 'gradflow-vsix-'));
  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
  });

  it('packages from its folder alone (vsce runs the bundling itself) into a VSIX with the bundled client and manifest', () => {
    rmSync(path.join(extensionDir, 'dist'), { recursive: true, force: true });
    const vsix = path.join(outDir, 'gradflow.vsix');
    // `vscode:prepublish` builds: nothing is prepared beforehand.
    execFileSync(vsce, ['package', '--no-dependencies', '--out', vsix], { cwd: extensionDir, stdio: 'pipe' });
    const listing = execFileSync(vsce, ['ls', '--no-dependencies'], { cwd: extensionDir, encoding: 'utf8' });
    const files = listing.split('\n').filter((line) => line !== '');
    expect(files.sort()).toEqual(['LICENSE', 'README.md', 'dist/extension.cjs', 'package.json']);
    // A VSIX is a zip; its central directory names each entry in plain bytes.
    const archive = readFileSync(vsix);
    expect(archive.subarray(0, 2).toString('latin1')).toBe('PK');
    expect(archive.includes('extension/dist/extension.cjs')).toBe(true);
    expect(archive.includes('extension/package.json')).toBe(true);
    const bundle = readFileSync(path.join(extensionDir, 'dist/extension.cjs'), 'utf8');
    // The language client is bundled; `vscode` is left to the editor.
    expect(bundle).toContain('gradflow.server.path');
    expect(bundle).toMatch(/require\("vscode"\)/);
  }, 120_000);

  it('declares workspace trust, a machine-scoped server path, and TypeScript React files', () => {
    const manifest = JSON.parse(readFileSync(path.join(extensionDir, 'package.json'), 'utf8')) as {
      capabilities: { untrustedWorkspaces: { supported: boolean | string; description?: string } };
      activationEvents: string[];
      contributes: { configuration: { properties: Record<string, { scope?: string }> } };
    };
    expect(manifest.capabilities.untrustedWorkspaces.supported).toBe(false);
    expect(manifest.capabilities.untrustedWorkspaces.description).toMatch(/eslint\.config/);
    expect(manifest.contributes.configuration.properties['gradflow.server.path'].scope).toBe('machine');
    expect(manifest.activationEvents).toEqual(expect.arrayContaining(['onLanguage:typescript', 'onLanguage:typescriptreact']));
    const source = readFileSync(path.join(extensionDir, 'src/extension.ts'), 'utf8');
    expect(source).toContain("language: 'typescriptreact'");
  });

  it("passes the debounce and idle-timeout settings to the server, whose defaults the manifest's defaults are", () => {
    const manifest = JSON.parse(readFileSync(path.join(extensionDir, 'package.json'), 'utf8')) as {
      contributes: { configuration: { properties: Record<string, { default?: unknown; minimum?: number }> } };
    };
    const properties = manifest.contributes.configuration.properties;
    expect(properties['gradflow.idleTimeoutMs'].default).toBe(DEFAULT_IDLE_TIMEOUT_MS);
    expect(properties['gradflow.idleTimeoutMs'].minimum).toBe(0);
    const settings: Record<string, unknown> = { debounceMs: 20, idleTimeoutMs: 30_000 };
    expect(initializationOptions((section) => settings[section])).toEqual({ debounceMs: 20, idleTimeoutMs: 30_000 });
    // Unset (or not a number): left out, and the server's own default applies.
    expect(initializationOptions(() => undefined)).toEqual({});
    expect(initializationOptions((section) => (section === 'idleTimeoutMs' ? 'soon' : undefined))).toEqual({});
  });
});
