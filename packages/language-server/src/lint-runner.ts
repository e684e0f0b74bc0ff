// Runs ESLint on unsaved text, one lint at a time (the TypeScript project service behind type-aware
// rules is shared state), and keeps one ESLint instance per config. It runs inside a lint
// worker (lint-worker.ts), never on the thread that talks to the editor.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { CONFIG_KEY_PREFIX, LOOSE_KEY, createEslintSetup, eslintKeyFor, forgetTsconfigs, type EslintSetup } from './eslint-setup.js';
import { PROGRAM_CAPTURE_CONFIG, takeCapturedProgram, type CapturedProgram } from './program-capture.js';
import { IncrementalEstree } from './incremental-estree.js';
import { ProgramProvider, parserPathOf, typescriptOfParser } from './program-provider.js';
import { collectRelatedLocations, type RelatedLocation } from './related.js';

export interface LintOutcome {
  messages: Linter.LintMessage[];
  /** rule id → `meta.docs.url`, for `codeDescription.href`. */
  docsUrls: Map<string, string>;
  /** message index → the second places that matter, as the rules recorded them during this lint. */
  related: Map<number, readonly RelatedLocation[]>;
  program: CapturedProgram | undefined;
  /** Whether the parser read the server's program (program-provider.ts) rather than building its own. */
  serverProgram: boolean;
  /** Top-level statements whose ESTree came from the file's previous lint (incremental-estree.ts). */
  reusedStatements: number;
}

export interface LintHooks {
  /** Resolves to false when, by the time the lint starts, its text is out of date: it is skipped. */
  stillWanted?: () => boolean;
  /** Called once the file's ESLint config is loaded, before the lint proper starts. */
  onConfigLoaded?: () => void;
}

const TYPESCRIPT_FILES = ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'];

/** A second ESLint instance of a setup whose parser reads the server's programs (program-provider.ts). */
interface ProgramLinting {
  eslint: ESLint;
  /** The workspace's own parser, which the instance wraps: a file configured with another parser is linted by the setup's own instance. */
  parser: unknown;
  /** Per file: whether its config uses that parser. */
  files: Map<string, boolean>;
}

export class LintRunner {
  private readonly setups = new Map<string, Promise<EslintSetup>>();
  private readonly programLinting = new WeakMap<EslintSetup, Promise<ProgramLinting | undefined>>();
  /** One provider per TypeScript module the workspaces' parsers run on. */
  private readonly providers = new Map<unknown, ProgramProvider>();
  /** The incremental ESTree conversions of the parsers the provider's programs go to. */
  private readonly incrementals = new Set<IncrementalEstree>();
  /** Files linted with no ESLint config and no tsconfig that includes them. */
  private readonly looseFiles = new Set<string>();
  /** Instances whose config file has been loaded (a config that hangs never gets here). */
  private readonly loaded = new WeakSet<EslintSetup>();
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * Lints `text` as the content of `filePath`, after every lint queued before it. Resolves to
   * undefined, without linting, when `stillWanted` says by then that the text is out of date.
   */
  lint(filePath: string, text: string, hooks: LintHooks = {}): Promise<LintOutcome | undefined> {
    return this.enqueue(async () => {
      if (hooks.stillWanted?.() === false) return undefined;
      const setup = await this.setupFor(filePath);
      if (!this.loaded.has(setup)) {
        // Loads (imports) the config file on its own, so that the time it takes can be told apart.
        await setup.eslint.calculateConfigForFile(filePath);
        this.loaded.add(setup);
      }
      hooks.onConfigLoaded?.();
      const eslint = (await this.programEslintFor(setup, filePath)) ?? setup.eslint;
      const served = this.served();
      const reused = this.reused();
      const results = await eslint.lintText(text, { filePath, warnIgnored: false });
      const serverProgram = this.served() > served;
      const reusedStatements = this.reused() - reused;
      const result = results.at(0);
      const program = takeCapturedProgram(filePath);
      if (result === undefined) return { messages: [], docsUrls: new Map(), related: new Map(), program, serverProgram, reusedStatements };
      return {
        serverProgram,
        reusedStatements,
        messages: result.messages,
        docsUrls: docsUrlsOf(eslint, results),
        related: await collectRelatedLocations(filePath, result.messages),
        program,
      };
    });
  }

  private served(): number {
    let total = 0;
    for (const provider of this.providers.values()) total += provider.served;
    return total;
  }

  private reused(): number {
    let total = 0;
    for (const incremental of this.incrementals) total += incremental.stats.reused;
    return total;
  }

  /** The document was closed: the programs read the file from disk again. */
  forget(filePath: string): void {
    for (const provider of this.providers.values()) provider.close(filePath);
  }

  /**
   * Drops every ESLint instance and the parser's TypeScript programs: after a config or a file that
   * is not open changed on disk. The project service does not watch the disk, so its copy of an
   * imported file would otherwise stay stale.
   */
  async invalidate(): Promise<void> {
    await this.enqueue(async () => {
      const folders = this.configFolders();
      this.setups.clear();
      for (const provider of this.providers.values()) provider.invalidate();
      forgetTsconfigs();
      await clearParserCaches(folders);
    });
  }

  private configFolders(): string[] {
    return [...this.setups.keys()]
      .filter((key) => key.startsWith(CONFIG_KEY_PREFIX))
      .map((key) => path.dirname(key.slice(CONFIG_KEY_PREFIX.length)));
  }

  /** Runs inside a queued job: it may reset the parser, which no other lint may be using. */
  private async setupFor(filePath: string): Promise<EslintSetup> {
    const key = eslintKeyFor(filePath);
    if (key === LOOSE_KEY && !this.looseFiles.has(filePath)) {
      // The shared project service learns its default-project files only when it is created:
      // start it afresh, with the default configs that name the new loose file.
      this.looseFiles.add(filePath);
      for (const setupKey of [...this.setups.keys()]) {
        if (!setupKey.startsWith(CONFIG_KEY_PREFIX)) this.setups.delete(setupKey);
      }
      await clearParserCaches(this.configFolders());
    }
    let setup = this.setups.get(key);
    if (setup === undefined) {
      setup = createEslintSetup(filePath, [PROGRAM_CAPTURE_CONFIG], [...this.looseFiles]);
      // A failed setup (a broken config file) is retried on the next lint rather than cached.
      setup.catch(() => this.setups.delete(key));
      this.setups.set(key, setup);
    }
    return setup;
  }

  /**
   * The instance that lints `filePath` with the provider's programs, when the file's config uses
   * typescript-eslint's parser with the project service; undefined otherwise (the setup's own
   * instance lints it, as the ESLint CLI would).
   */
  private async programEslintFor(setup: EslintSetup, filePath: string): Promise<ESLint | undefined> {
    let linting = this.programLinting.get(setup);
    if (linting === undefined) {
      linting = this.createProgramLinting(setup, filePath).catch(() => undefined);
      this.programLinting.set(setup, linting);
    }
    const ready = await linting;
    if (ready === undefined) return undefined;
    let usesParser = ready.files.get(filePath);
    if (usesParser === undefined) {
      const config = (await setup.eslint.calculateConfigForFile(filePath)) as Linter.Config | undefined;
      usesParser = config?.languageOptions?.parser === ready.parser;
      ready.files.set(filePath, usesParser);
    }
    return usesParser ? ready.eslint : undefined;
  }

  private async createProgramLinting(setup: EslintSetup, filePath: string): Promise<ProgramLinting | undefined> {
    const config = (await setup.eslint.calculateConfigForFile(filePath)) as Linter.Config | undefined;
    const parser = config?.languageOptions?.parser;
    const fromDir = setup.options.cwd ?? path.dirname(filePath);
    const tsModule = await typescriptOfParser(parser, fromDir);
    if (typeof parser !== 'object' || parser === null || tsModule === undefined) return undefined;
    const parserPath = await parserPathOf(parser, fromDir);
    const incremental = parserPath === undefined ? undefined : IncrementalEstree.forParser(parserPath);
    if (incremental !== undefined) this.incrementals.add(incremental);
    let provider = this.providers.get(tsModule);
    if (provider === undefined) {
      provider = new ProgramProvider(tsModule);
      this.providers.set(tsModule, provider);
    }
    const overrides = setup.options.overrideConfig ?? [];
    const programParser: Linter.Config = {
      files: TYPESCRIPT_FILES,
      languageOptions: { parser: provider.wrap(parser, incremental) },
    };
    const eslint = new ESLint({
      ...setup.options,
      overrideConfig: [...(Array.isArray(overrides) ? overrides : [overrides]), programParser],
    });
    return { eslint, parser, files: new Map() };
  }

  private enqueue<T>(job: () => Promise<T>): Promise<T> {
    // Between two lints, let waiting messages (newer edits, cancellations) land first, so that a
    // queued lint can see it is no longer wanted.
    const next = async () => {
      await setImmediatePromise();
      return job();
    };
    const run = this.queue.then(next, next);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

function docsUrlsOf(eslint: ESLint, results: ESLint.LintResult[]): Map<string, string> {
  const urls = new Map<string, string>();
  let meta: Record<string, { docs?: { url?: string } } | undefined>;
  try {
    meta = eslint.getRulesMetaForResults(results);
  } catch {
    return urls; // a result from a different instance; the links are an extra, never a failure
  }
  for (const [ruleId, ruleMeta] of Object.entries(meta)) {
    const url = ruleMeta?.docs?.url;
    if (url !== undefined) urls.set(ruleId, url);
  }
  return urls;
}

/**
 * typescript-eslint's caches live in its parser module: clear the copies the workspaces' configs
 * load (resolved from their folders) and the server's own.
 */
async function clearParserCaches(folders: Iterable<string>): Promise<void> {
  const specifiers = new Set<string>(['@typescript-eslint/parser']);
  for (const folder of folders) {
    try {
      specifiers.add(pathToFileURL(createRequire(path.join(folder, 'noop.js')).resolve('@typescript-eslint/parser')).href);
    } catch {
      // not installed there
    }
  }
  for (const specifier of specifiers) {
    try {
      const parser = (await import(specifier)) as { clearCaches?: () => void };
      parser.clearCaches?.();
    } catch {
      // not installed there
    }
  }
}
