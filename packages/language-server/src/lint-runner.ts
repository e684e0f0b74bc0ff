// Runs ESLint on unsaved text, one lint at a time (the TypeScript project service behind type-aware
// rules is shared state), and keeps one ESLint instance per config. It runs inside a lint
// worker (lint-worker.ts), never on the thread that talks to the editor.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import { rules as gradflowRules } from '@gradflow/rules';
import { CONFIG_KEY_PREFIX, LOOSE_KEY, createEslintSetup, eslintKeyFor, forgetTsconfigs, type EslintSetup } from './eslint-setup.js';
import { PROGRAM_CAPTURE_CONFIG, takeCapturedProgram, type CapturedProgram } from './program-capture.js';
import { IncrementalEstree } from './incremental-estree.js';
import { ProgramProvider, parserPathOf, typescriptOfParser } from './program-provider.js';
import { AnalysisThread } from './precompute.js';
import { resolveCapture } from './analysis.js';
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
  /** gradflow rules that took their reports from the analysis thread (precompute.ts). */
  precomputedRules: number;
}

export interface LintHooks {
  /** Resolves to false when, by the time the lint starts, its text is out of date: it is skipped. */
  stillWanted?: () => boolean;
  /** Called once the file's ESLint config is loaded, before the lint proper starts. */
  onConfigLoaded?: () => void;
}

const TYPESCRIPT_FILES = ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'];
const GRADFLOW_RULES = new Set(Object.keys(gradflowRules));

/**
 * Texts at least this long are analysed on the analysis thread (precompute.ts). Below, the analysis
 * is a small part of a lint: on the 1,000-line bench file (30 kB) the thread gained nothing on two
 * cores and took CPU from the hover worker (bench/lsp.mjs); on the 1 MB file it takes a warm edit
 * from 1.35 s to about 1.0 s. `GRADFLOW_LS_ANALYSIS_THREAD`: `off`, or another length in characters.
 */
const ANALYSIS_THREAD_MIN_CHARS = ((): number | undefined => {
  const setting = process.env.GRADFLOW_LS_ANALYSIS_THREAD;
  if (setting === 'off') return undefined;
  const chars = setting === undefined || setting === '' ? NaN : Number(setting);
  return Number.isFinite(chars) && chars >= 0 ? chars : 100_000;
})();

/** A second ESLint instance of a setup whose parser reads the server's programs (program-provider.ts). */
interface ProgramLinting {
  eslint: ESLint;
  /** The workspace's own parser, which the instance wraps: a file configured with another parser is linted by the setup's own instance. */
  parser: unknown;
  /** Per file: whether its config uses that parser, and turns on a gradflow rule (whose reports the thread computes). */
  files: Map<string, { usesParser: boolean; gradflowRules: boolean }>;
  /** The analysis thread of the provider (precompute.ts); undefined where `@gradflow/rules/capture` cannot be found. */
  thread: AnalysisThread | undefined;
}

export class LintRunner {
  private readonly setups = new Map<string, Promise<EslintSetup>>();
  private readonly programLinting = new WeakMap<EslintSetup, Promise<ProgramLinting | undefined>>();
  /** Per TypeScript module the workspaces' parsers run on: one program provider, and its analysis thread. */
  private readonly programs = new Map<unknown, { provider: ProgramProvider; thread: AnalysisThread | undefined }>();
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
      const linting = await this.programLintingFor(setup, filePath);
      const eslint = linting?.eslint ?? setup.eslint;
      const served = this.served();
      const reused = this.reused();
      const taken = this.taken();
      const lint = () => eslint.lintText(text, { filePath, warnIgnored: false });
      // With the analysis thread computing the gradflow rules' reports meanwhile (precompute.ts).
      const long = ANALYSIS_THREAD_MIN_CHARS !== undefined && text.length >= ANALYSIS_THREAD_MIN_CHARS;
      const thread = linting?.gradflowRules === true && long ? linting.thread : undefined;
      const results = thread === undefined ? await lint() : await thread.during(filePath, text, lint);
      const serverProgram = this.served() > served;
      const reusedStatements = this.reused() - reused;
      const precomputedRules = this.taken() - taken;
      const result = results.at(0);
      const program = takeCapturedProgram(filePath);
      if (result === undefined)
        return { messages: [], docsUrls: new Map(), related: new Map(), program, serverProgram, reusedStatements, precomputedRules };
      return {
        serverProgram,
        reusedStatements,
        precomputedRules,
        messages: result.messages,
        docsUrls: docsUrlsOf(eslint, results),
        related: await collectRelatedLocations(filePath, result.messages),
        program,
      };
    });
  }

  private served(): number {
    let total = 0;
    for (const { provider } of this.programs.values()) total += provider.served;
    return total;
  }

  private taken(): number {
    let total = 0;
    for (const { thread } of this.programs.values()) total += thread?.taken ?? 0;
    return total;
  }

  private reused(): number {
    let total = 0;
    for (const incremental of this.incrementals) total += incremental.stats.reused;
    return total;
  }

  /** The document was closed: the programs read the file from disk again. */
  forget(filePath: string): void {
    for (const { provider, thread } of this.programs.values()) {
      provider.close(filePath);
      thread?.close(filePath);
    }
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
      for (const { provider, thread } of this.programs.values()) {
        provider.invalidate();
        thread?.invalidate();
      }
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
   * The instance that lints `filePath` with the provider's programs (and whether the file's config
   * turns on a gradflow rule, with the provider's analysis thread), when the file's config uses
   * typescript-eslint's parser with the project service; undefined otherwise (the setup's own
   * instance lints it, as the ESLint CLI would).
   */
  private async programLintingFor(
    setup: EslintSetup,
    filePath: string,
  ): Promise<{ eslint: ESLint; gradflowRules: boolean; thread: AnalysisThread | undefined } | undefined> {
    let linting = this.programLinting.get(setup);
    if (linting === undefined) {
      linting = this.createProgramLinting(setup, filePath).catch(() => undefined);
      this.programLinting.set(setup, linting);
    }
    const ready = await linting;
    if (ready === undefined) return undefined;
    let file = ready.files.get(filePath);
    if (file === undefined) {
      const config = (await setup.eslint.calculateConfigForFile(filePath)) as Linter.Config | undefined;
      file = { usesParser: config?.languageOptions?.parser === ready.parser, gradflowRules: turnsOnGradflowRule(config) };
      ready.files.set(filePath, file);
    }
    return file.usesParser ? { eslint: ready.eslint, gradflowRules: file.gradflowRules, thread: ready.thread } : undefined;
  }

  private async createProgramLinting(setup: EslintSetup, filePath: string): Promise<ProgramLinting | undefined> {
    const config = (await setup.eslint.calculateConfigForFile(filePath)) as Linter.Config | undefined;
    const parser = config?.languageOptions?.parser;
    const fromDir = setup.options.cwd ?? path.dirname(filePath);
    const typescript = await typescriptOfParser(parser, fromDir);
    if (typeof parser !== 'object' || parser === null || typescript === undefined) return undefined;
    const { tsModule, tsPath } = typescript;
    const parserPath = await parserPathOf(parser, fromDir);
    const incremental = parserPath === undefined ? undefined : IncrementalEstree.forParser(parserPath);
    if (incremental !== undefined) this.incrementals.add(incremental);
    let programs = this.programs.get(tsModule);
    if (programs === undefined) {
      const captureUrl = resolveCapture(filePath);
      const thread =
        captureUrl === undefined || ANALYSIS_THREAD_MIN_CHARS === undefined
          ? undefined
          : new AnalysisThread(tsPath, captureUrl, () => provider.openTexts());
      const provider = new ProgramProvider(tsModule, (file, text) => {
        thread?.mirror(file, text);
      });
      programs = { provider, thread };
      this.programs.set(tsModule, programs);
    }
    const { provider, thread } = programs;
    const overrides = setup.options.overrideConfig ?? [];
    const programParser: Linter.Config = {
      files: TYPESCRIPT_FILES,
      languageOptions: { parser: provider.wrap(parser, incremental) },
    };
    const eslint = new ESLint({
      ...setup.options,
      overrideConfig: [...(Array.isArray(overrides) ? overrides : [overrides]), programParser],
    });
    return { eslint, parser, files: new Map(), thread };
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

/** Whether `config` turns on a rule of a gradflow plugin (`<prefix>/<gradflow rule name>`). */
function turnsOnGradflowRule(config: Linter.Config | undefined): boolean {
  return Object.entries(config?.rules ?? {}).some(([id, entry]) => {
    const severity: unknown = Array.isArray(entry) ? entry[0] : entry;
    return id.includes('/') && GRADFLOW_RULES.has(id.slice(id.lastIndexOf('/') + 1)) && severity !== 0 && severity !== 'off';
  });
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
