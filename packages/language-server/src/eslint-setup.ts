// Chooses how a file is linted: with the workspace's own `eslint.config.*` (the same rules and options
// the CLI runs), or — for a file with no ESLint config — gradflow's recommended config with type
// information from the nearest tsconfig.json that includes it or, failing that (a loose file), from
// a default project made of the loose files.
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import ts from 'typescript';

const CONFIG_FILE_NAMES = [
  'eslint.config.js',
  'eslint.config.mjs',
  'eslint.config.cjs',
  'eslint.config.ts',
  'eslint.config.mts',
  'eslint.config.cts',
];

export const LINTED_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts'];

/** The ESLint instance that lints one file, and where its configuration comes from. */
export interface EslintSetup {
  /** A stable key: files with the same key share the instance (and its caches). */
  key: string;
  eslint: ESLint;
  /** The options `eslint` was made with (a second instance with a different parser is made from them). */
  options: ESLint.Options;
  /** The config file used, or undefined when gradflow's default config stands in for a missing one. */
  configFile: string | undefined;
  /** The tsconfig.json giving types to a loose file, when there is no ESLint config. */
  tsconfig: string | undefined;
}

/** The nearest `eslint.config.*` above `filePath`, as ESLint's own lookup (from the file's folder) finds it. */
export function findEslintConfig(filePath: string): string | undefined {
  let dir = path.dirname(filePath);
  for (;;) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if (ts.sys.fileExists(candidate)) return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const tsconfigFileNames = new Map<string, Set<string>>();

/** Whether the nearest tsconfig.json above the file includes it (parsed once per tsconfig). */
function findIncludingTsconfig(filePath: string): string | undefined {
  const tsconfig = ts.findConfigFile(path.dirname(filePath), (f) => ts.sys.fileExists(f));
  if (tsconfig === undefined) return undefined;
  let files = tsconfigFileNames.get(tsconfig);
  if (files === undefined) {
    const read = ts.readConfigFile(tsconfig, (f) => ts.sys.readFile(f));
    const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(tsconfig));
    files = new Set(parsed.fileNames.map((f) => path.resolve(f)));
    tsconfigFileNames.set(tsconfig, files);
  }
  return files.has(path.resolve(filePath)) ? tsconfig : undefined;
}

interface PluginWithConfigs {
  configs: Record<string, Linter.Config | Linter.Config[] | undefined>;
}

/** gradflow's plugin as the file's own workspace resolves it, else the copy this server ships with. */
async function loadPlugin(fromDir: string): Promise<PluginWithConfigs> {
  let specifier: string;
  try {
    specifier = pathToFileURL(createRequire(path.join(fromDir, 'noop.js')).resolve('@gradflow/eslint-plugin')).href;
  } catch {
    specifier = '@gradflow/eslint-plugin';
  }
  const loaded = (await import(specifier)) as { default?: PluginWithConfigs } & Partial<PluginWithConfigs>;
  const plugin = loaded.default ?? (loaded as PluginWithConfigs);
  return plugin;
}

/**
 * typescript-eslint keeps one project service per process, set up by the first lint: its
 * `allowDefaultProject` must already name every loose file. Paths are relative to `/`.
 */
function defaultProjectGlobs(looseFiles: readonly string[]): string[] {
  return looseFiles.map((file) => path.relative('/', file).replace(/[*?[\]{}()!+@]/g, '\\$&'));
}

async function defaultConfig(filePath: string, looseFiles: readonly string[]): Promise<Linter.Config[]> {
  const plugin = await loadPlugin(path.dirname(filePath));
  const recommended = plugin.configs.recommended;
  if (recommended === undefined) throw new Error('@gradflow/eslint-plugin has no configs.recommended');
  const base = Array.isArray(recommended) ? recommended : [recommended];
  // A file in a tsconfig gets its types from that project; a loose file from the default project.
  // Both name the loose files, whichever of them happens to set up the shared project service.
  const parserOptions = { projectService: { allowDefaultProject: defaultProjectGlobs(looseFiles) }, tsconfigRootDir: '/' };
  return [...base, { files: ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'], languageOptions: { parserOptions } }];
}

/** Extra configuration the server adds to every lint (its own rules, such as the hover's program capture). */
export type ServerConfig = Linter.Config[];

export async function createEslintSetup(filePath: string, serverConfig: ServerConfig, looseFiles: readonly string[]): Promise<EslintSetup> {
  const configFile = findEslintConfig(filePath);
  if (configFile !== undefined) {
    const cwd = path.dirname(configFile);
    const options: ESLint.Options = { cwd, overrideConfigFile: configFile, overrideConfig: serverConfig };
    return {
      key: `${CONFIG_KEY_PREFIX}${configFile}`,
      eslint: new ESLint(options),
      options,
      configFile,
      tsconfig: undefined,
    };
  }
  const tsconfig = findIncludingTsconfig(filePath);
  // Loose files share one instance rooted at `/`: ESLint ignores files outside its cwd.
  const cwd = tsconfig !== undefined ? path.dirname(tsconfig) : '/';
  const config = [...(await defaultConfig(filePath, looseFiles)), ...serverConfig];
  const options: ESLint.Options = { cwd, overrideConfigFile: true, overrideConfig: config };
  return {
    key: eslintKeyFor(filePath),
    eslint: new ESLint(options),
    options,
    configFile: undefined,
    tsconfig,
  };
}

/** Which key a file's ESLint instance is cached under, without building it. */
export function eslintKeyFor(filePath: string): string {
  const configFile = findEslintConfig(filePath);
  if (configFile !== undefined) return `${CONFIG_KEY_PREFIX}${configFile}`;
  const tsconfig = findIncludingTsconfig(filePath);
  return tsconfig !== undefined ? `tsconfig:${tsconfig}` : LOOSE_KEY;
}

export const LOOSE_KEY = 'loose';
export const CONFIG_KEY_PREFIX = 'config:';

/** Forget parsed tsconfigs (after one changed on disk). */
export function forgetTsconfigs(): void {
  tsconfigFileNames.clear();
}
