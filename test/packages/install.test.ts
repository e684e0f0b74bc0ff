// What a user does, from the tarballs `npm publish` would upload: `npm pack` every published
// package, install the tarballs (and their third-party dependencies, from the npm registry) into a
// fresh project outside the repository, lint a buggy file with the ESLint CLI, compile it and run it
// on the engine with the checker on, and start the language server from node_modules/.bin and get
// the same diagnostics over stdio. Twice: with the TypeScript the README says to install (6.0), and
// with the side-by-side set-up of a project that compiles with TypeScript 7 (the linter gets a 6.0
// `typescript` through an npm alias).
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** Every package a user installs, directly or as a dependency, with its folder in this repository. */
const FOLDERS: Record<string, string> = {
  '@gradflow/autograd': 'packages/autograd',
  '@gradflow/rules': 'rules',
  '@gradflow/eslint-plugin': 'packages/eslint-plugin',
  '@gradflow/language-server': 'packages/language-server',
};
const PUBLISHED = Object.keys(FOLDERS);
const HOMEPAGE = 'https://github.com/gradflow/gradflow';
const INSTALL_TIMEOUT_MS = 240_000;

const work = mkdtempSync(path.join(tmpdir(), 'gradflow-install-'));
// Removing the installed project (node_modules of several packages) can take over vitest's 10 s hook default on a loaded machine.
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
}, 120_000);

function run(command: string, args: string[], cwd: string, timeout = INSTALL_TIMEOUT_MS): SpawnSyncReturns<string> {
  return spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  if (result.status !== 0) throw new Error(`${what} exited with ${String(result.status)}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

interface Packed {
  name: string;
  filename: string;
  files: { path: string }[];
}
let packed: Packed[] = [];
const tarball = (name: string): string => path.join(work, 'tarballs', packed.find((p) => p.name === name)?.filename ?? `missing-${name}`);

beforeAll(() => {
  mkdirSync(path.join(work, 'tarballs'));
  const args = ['pack', '--json', '--pack-destination', path.join(work, 'tarballs'), ...PUBLISHED.flatMap((name) => ['-w', name])];
  packed = JSON.parse(ok(run(npm, args, repoRoot), 'npm pack')) as Packed[];
}, 60_000);

describe('the published tarballs', () => {
  it('are one per package a user needs, each complete on its own', () => {
    expect(packed.map((p) => p.name).sort()).toEqual([...PUBLISHED].sort());
    for (const { name, files } of packed) {
      const paths = files.map((f) => f.path);
      const dir = path.join(repoRoot, FOLDERS[name] ?? name);
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      expect(manifest.private, name).toBeUndefined();
      expect(manifest.license, name).toBe('MIT');
      expect(manifest.homepage, name).toBe(HOMEPAGE);
      expect(manifest.publishConfig, name).toEqual({ access: 'public' });
      expect(paths, name).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json']));
      expect(
        paths.filter((p) => p.includes('tsbuildinfo')),
        name,
      ).toEqual([]);
      // Source maps point at sources the tarball ships.
      for (const map of paths.filter((p) => p.endsWith('.map'))) {
        const { sources } = JSON.parse(readFileSync(path.join(dir, map), 'utf8')) as { sources: string[] };
        for (const source of sources)
          expect(paths, `${name}/${map} → ${source}`).toContain(path.posix.join(path.posix.dirname(map), source));
      }
      // Every package a shipped declaration file imports is declared.
      const declared = new Set([name, ...Object.keys({ ...(manifest.dependencies as object), ...(manifest.peerDependencies as object) })]);
      for (const dts of paths.filter((p) => p.endsWith('.d.ts'))) {
        const text = readFileSync(path.join(dir, dts), 'utf8');
        for (const [, specifier] of text.matchAll(/(?:from\s+|import\(|reference types=)["']([^"'.][^"']*)["']/g)) {
          if (specifier.startsWith('node:')) continue;
          const pkg = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
          expect(declared.has(pkg), `${name}/${dts} imports ${specifier}, which ${name} does not depend on`).toBe(true);
        }
      }
      for (const bin of Object.values((manifest.bin ?? {}) as Record<string, string>)) expect(paths).toContain(path.posix.normalize(bin));
    }
  });
});

describe('in this repository', () => {
  it('npm links gradflow-language-server to a committed stub, so the command exists before the build', () => {
    const linked = realpathSync(path.join(repoRoot, 'node_modules/.bin/gradflow-language-server'));
    expect(linked).toBe(path.join(repoRoot, 'packages/language-server/bin/gradflow-language-server.js'));
    expect(statSync(linked).mode & 0o111).not.toBe(0);
    expect(readFileSync(linked, 'utf8')).toContain("import('../dist/bin.js')");
    const help = run(linked, ['--help'], repoRoot, 60_000);
    expect(help.stderr).toContain('Usage: gradflow-language-server --stdio');
  });
});

// ---------------------------------------------------------------------------------------------
// A user's project.

const ESLINT_CONFIG = `import gradflow from '@gradflow/eslint-plugin';
export default [gradflow.configs.recommended];
`;

const TSCONFIG = JSON.stringify(
  {
    compilerOptions: {
      strict: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      jsx: 'react-jsx',
      rootDir: 'src',
      outDir: 'out',
    },
    include: ['src'],
  },
  null,
  2,
);

/** Frozen after the optimizer took it; zeroGrad() zero-fills; Adam still moves the frozen layer. */
const TRAIN_TS = `import { enableGradFlowChecker, nn, optim, randn } from '@gradflow/autograd';

const checker = enableGradFlowChecker();
const encoder = new nn.Linear(4, 8);
const model = new nn.Sequential(encoder, new nn.ReLU(), new nn.Linear(8, 1));
const optimizer = new optim.Adam(model.parameters(), { lr: 1e-2 });
const x = randn([16, 4]);
for (let epoch = 0; epoch < 4; epoch++) {
  if (epoch === 2) for (const p of encoder.parameters()) p.requiresGrad = false;
  optimizer.zeroGrad();
  const loss = model.forward(x).pow(2).mean();
  loss.backward();
  optimizer.step();
}
console.log(JSON.stringify(checker.findings().map((f) => [f.ruleId, f.subject])));
checker.dispose();
`;

/** A .tsx file: an in-place update of a parameter outside noGrad (throws LEAF_INPLACE). */
const PANEL_TSX = `import { nn } from '@gradflow/autograd';

const layer = new nn.Linear(2, 2);
export const identity = <T,>(value: T): T => value;
identity(layer).weight.zero_();
`;

const EXPECTED_LINT = [
  'src/panel.tsx:5:@gradflow/no-leaf-inplace:2',
  'src/train.ts:9:@gradflow/no-freeze-after-optimizer:1',
  'src/train.ts:10:@gradflow/require-set-to-none:1',
].sort();

function makeProject(name: string, devDependencies: Record<string, string>): string {
  const dir = path.join(work, name);
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name, private: true, type: 'module', devDependencies }, null, 2)}\n`);
  writeFileSync(path.join(dir, 'eslint.config.mjs'), ESLINT_CONFIG);
  writeFileSync(path.join(dir, 'tsconfig.json'), TSCONFIG);
  writeFileSync(path.join(dir, 'src/train.ts'), TRAIN_TS);
  writeFileSync(path.join(dir, 'src/panel.tsx'), PANEL_TSX);
  ok(run(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline'], dir), `npm install in ${name}`);
  return dir;
}

/** Our packages come from the tarballs (nothing of ours is on the registry yet); the rest from the registry. */
const ourTarballs = (): Record<string, string> => Object.fromEntries(PUBLISHED.map((name) => [name, `file:${tarball(name)}`]));

interface LintResult {
  filePath: string;
  messages: { ruleId: string | null; line: number; severity: number }[];
}
interface RulesMeta {
  [id: string]: { docs?: { url?: string } };
}

function lintWithCli(dir: string): { findings: string[]; rulesMeta: RulesMeta } {
  const result = run(path.join(dir, 'node_modules/.bin/eslint'), ['src', '-f', 'json-with-metadata'], dir);
  // 1: problems found (an error among them); 2 would mean ESLint itself failed.
  expect(result.status, result.stderr).toBe(1);
  const { results, metadata } = JSON.parse(result.stdout) as { results: LintResult[]; metadata: { rulesMeta: RulesMeta } };
  const findings = results.flatMap((r) =>
    r.messages.map((m) => `${path.relative(dir, r.filePath)}:${String(m.line)}:${m.ruleId ?? 'fatal'}:${String(m.severity)}`),
  );
  return { findings: findings.sort(), rulesMeta: metadata.rulesMeta };
}

function compileAndRun(dir: string, tsc: string[]): void {
  // No skipLibCheck: the engine's declarations must compile as shipped.
  ok(run(process.execPath, [...tsc, '-p', '.'], dir), `${tsc.join(' ')} -p .`);
  const train = ok(run(process.execPath, ['out/train.js'], dir), 'node out/train.js');
  const findings = JSON.parse(train.trim().split('\n').pop() ?? '[]') as [string, string][];
  expect(findings).toEqual(
    expect.arrayContaining([
      ['@gradflow/no-freeze-after-optimizer', '0.weight'],
      ['@gradflow/require-set-to-none', '0.weight'],
    ]),
  );
  const panel = run(process.execPath, ['out/panel.js'], dir);
  expect(panel.status).not.toBe(0);
  expect(panel.stderr).toContain('LEAF_INPLACE');
}

interface LspDiagnostic {
  range: { start: { line: number } };
  code?: string | number;
  severity?: number;
  codeDescription?: { href: string };
}

/** Starts node_modules/.bin/gradflow-language-server --stdio as an editor would and collects diagnostics. */
async function lintWithServer(dir: string, files: { rel: string; languageId: string }[]): Promise<{ findings: string[]; hrefs: string[] }> {
  const bin = path.join(dir, 'node_modules/.bin/gradflow-language-server');
  expect(existsSync(bin)).toBe(true);
  const child = spawn(bin, ['--stdio'], { cwd: dir, stdio: 'pipe' });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
  const latest = new Map<string, LspDiagnostic[]>();
  const expectedCounts = new Map(
    files.map(({ rel }) => [pathToFileURL(path.join(dir, rel)).href, EXPECTED_LINT.filter((f) => f.startsWith(`${rel}:`)).length]),
  );
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  connection.onNotification('textDocument/publishDiagnostics', (params: { uri: string; diagnostics: LspDiagnostic[] }) => {
    latest.set(params.uri, params.diagnostics);
    if ([...expectedCounts].every(([uri, count]) => latest.get(uri)?.length === count)) settle();
  });
  connection.onRequest('client/registerCapability', () => null);
  connection.onRequest('workspace/configuration', () => []);
  connection.onNotification('window/logMessage', () => undefined);
  connection.listen();
  try {
    const rootUri = pathToFileURL(dir).href;
    await connection.sendRequest('initialize', {
      processId: process.pid,
      rootUri,
      workspaceFolders: [{ uri: rootUri, name: path.basename(dir) }],
      capabilities: { textDocument: { publishDiagnostics: { relatedInformation: true } } },
    });
    await connection.sendNotification('initialized', {});
    for (const { rel, languageId } of files) {
      await connection.sendNotification('textDocument/didOpen', {
        textDocument: {
          uri: pathToFileURL(path.join(dir, rel)).href,
          languageId,
          version: 1,
          text: readFileSync(path.join(dir, rel), 'utf8'),
        },
      });
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([settled, new Promise((resolve) => (timer = setTimeout(resolve, 120_000)))]);
    clearTimeout(timer);
    const findings = [...latest].flatMap(([uri, diagnostics]) =>
      diagnostics.map(
        (d) => `${path.relative(dir, fileURLToPath(uri))}:${String(d.range.start.line + 1)}:${String(d.code)}:${d.severity === 1 ? 2 : 1}`,
      ),
    );
    const hrefs = [...latest.values()].flat().map((d) => d.codeDescription?.href ?? '');
    await connection.sendRequest('shutdown');
    await connection.sendNotification('exit');
    return { findings: findings.sort(), hrefs };
  } catch (error) {
    throw new Error(`language server: ${String(error)}\n${stderr}`, { cause: error });
  } finally {
    connection.dispose();
    child.kill();
  }
}

const OPEN_FILES = [
  { rel: 'src/train.ts', languageId: 'typescript' },
  { rel: 'src/panel.tsx', languageId: 'typescriptreact' },
];

function expectDocUrls(rulesMeta: RulesMeta, hrefs: string[]): void {
  for (const id of ['@gradflow/no-leaf-inplace', '@gradflow/no-freeze-after-optimizer', '@gradflow/require-set-to-none']) {
    expect(rulesMeta[id].docs?.url).toBe(`${HOMEPAGE}/blob/main/rules/docs/${id.replace('@gradflow/', '')}.md`);
  }
  for (const href of hrefs) expect(href).toMatch(new RegExp(`^${HOMEPAGE}/blob/main/rules/docs/[a-z-]+\\.md$`));
}

describe('installed from the tarballs into a new project', () => {
  it(
    'with TypeScript 6.0 (npm i -D @gradflow/eslint-plugin eslint typescript@~6.0.3): CLI, engine and language server agree',
    async () => {
      const dir = makeProject('user-ts6', { ...ourTarballs(), eslint: '^10.0.0', typescript: '~6.0.3' });
      const cli = lintWithCli(dir);
      expect(cli.findings).toEqual(EXPECTED_LINT);
      compileAndRun(dir, ['node_modules/typescript/bin/tsc']);
      const server = await lintWithServer(dir, OPEN_FILES);
      expect(server.findings).toEqual(cli.findings);
      expectDocUrls(cli.rulesMeta, server.hrefs);
    },
    INSTALL_TIMEOUT_MS + 120_000,
  );

  it(
    'side by side with TypeScript 7: the linter and the server run on a 6.0 `typescript` alias, tsc 7 compiles',
    async () => {
      const dir = makeProject('user-ts7', {
        ...ourTarballs(),
        eslint: '^10.0.0',
        typescript: 'npm:@typescript/typescript6@^6.0.2',
        'typescript-7': 'npm:typescript@^7.0.2',
      });
      expect(ok(run(process.execPath, ['node_modules/typescript-7/bin/tsc', '--version'], dir), 'tsc 7 --version')).toMatch(/Version 7\./);
      const cli = lintWithCli(dir);
      expect(cli.findings).toEqual(EXPECTED_LINT);
      compileAndRun(dir, ['node_modules/typescript-7/bin/tsc']);
      const server = await lintWithServer(dir, OPEN_FILES);
      expect(server.findings).toEqual(cli.findings);
    },
    INSTALL_TIMEOUT_MS + 120_000,
  );
});
