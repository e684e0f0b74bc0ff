// The TypeScript programs the lints read, kept by the server instead of typescript-eslint's project
// service. Per edit, the project service re-opens the file with its whole new text (a full reparse,
// and its bookkeeping of open files and projects) before the program is updated; here each tsconfig
// has an incremental `ts.LanguageService` whose edited file is re-parsed from the changed range only,
// and the program is handed to the workspace's own typescript-eslint parser through
// `parserOptions.programs` — ESLint, the workspace's config and its other plugins run as before.
// Files no tsconfig includes (typescript-eslint's default project) keep using the project service.
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type ts from 'typescript';
import type { IncrementalEstree } from './incremental-estree.js';

type Ts = typeof ts;

/** A snapshot that tells the language service which range changed, so that it re-parses incrementally. */
class TextSnapshot implements ts.IScriptSnapshot {
  constructor(
    private readonly tsModule: Ts,
    readonly text: string,
  ) {}

  getText(start: number, end: number): string {
    return this.text.slice(start, end);
  }

  getLength(): number {
    return this.text.length;
  }

  getChangeRange(old: ts.IScriptSnapshot): ts.TextChangeRange | undefined {
    if (!(old instanceof TextSnapshot)) return undefined;
    const before = old.text;
    const after = this.text;
    const shorter = Math.min(before.length, after.length);
    let start = 0;
    while (start < shorter && before.charCodeAt(start) === after.charCodeAt(start)) start++;
    let end = 0;
    while (end < shorter - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end)) end++;
    const span = this.tsModule.createTextSpan(start, before.length - end - start);
    return this.tsModule.createTextChangeRange(span, after.length - end - start);
  }
}

function remembered(known: Map<string, boolean>, key: string, ask: () => boolean): boolean {
  let answer = known.get(key);
  if (answer === undefined) {
    answer = ask();
    known.set(key, answer);
  }
  return answer;
}

/** One tsconfig's files, with the unsaved texts of the documents linted in it. */
class Project {
  private readonly service: ts.LanguageService;
  private parsed: ts.ParsedCommandLine;
  private readonly fileNames: Set<string>;
  /** Unsaved texts: the text each document was last linted with, until it is closed. */
  private readonly open = new Map<string, { snapshot: TextSnapshot; version: number }>();
  /** Versions of files read from disk: their modification times, read once per file until `invalidate`. */
  private readonly diskVersions = new Map<string, string>();
  /**
   * Texts of files read from disk, until `invalidate`: the language service asks for every file's
   * snapshot on every update (before it compares versions), and lib.dom.d.ts alone is 1.5 MB.
   */
  private readonly diskSnapshots = new Map<string, TextSnapshot | undefined>();
  /**
   * Whether files and folders exist on disk, until `invalidate`: every new program asks again for
   * every file's package scope (the `package.json` of each folder above it, for its module format),
   * about 5 ms of each edit of the 1,000-line bench file in file-system calls and reads.
   */
  private readonly fileExistence = new Map<string, boolean>();
  private readonly directoryExistence = new Map<string, boolean>();
  /** The same programs read those `package.json` files again: their texts, until `invalidate`. */
  private readonly packageJsons = new Map<string, string | undefined>();
  private projectVersion = 0;
  private nextVersion = 1;

  constructor(
    private readonly tsModule: Ts,
    readonly tsconfig: string,
  ) {
    this.parsed = this.parse();
    this.fileNames = new Set(this.parsed.fileNames.map((file) => path.resolve(file)));
    const sys = tsModule.sys;
    const host: ts.LanguageServiceHost = {
      getProjectVersion: () => String(this.projectVersion),
      getCompilationSettings: () => this.parsed.options,
      getProjectReferences: () => this.parsed.projectReferences,
      getScriptFileNames: () => [...new Set([...this.parsed.fileNames, ...this.open.keys()])],
      getScriptVersion: (fileName) => {
        const open = this.open.get(path.resolve(fileName));
        if (open !== undefined) return `open:${String(open.version)}`;
        let version = this.diskVersions.get(fileName);
        if (version === undefined) {
          version = `disk:${String(sys.getModifiedTime?.(fileName)?.getTime() ?? 0)}`;
          this.diskVersions.set(fileName, version);
        }
        return version;
      },
      getScriptSnapshot: (fileName) => {
        const open = this.open.get(path.resolve(fileName));
        if (open !== undefined) return open.snapshot;
        if (this.diskSnapshots.has(fileName)) return this.diskSnapshots.get(fileName);
        const text = sys.readFile(fileName);
        const snapshot = text === undefined ? undefined : new TextSnapshot(tsModule, text);
        this.diskSnapshots.set(fileName, snapshot);
        return snapshot;
      },
      getCurrentDirectory: () => path.dirname(tsconfig),
      getDefaultLibFileName: (options) => tsModule.getDefaultLibFilePath(options),
      fileExists: (file) => remembered(this.fileExistence, file, () => sys.fileExists(file)),
      readFile: (file, encoding) => {
        if (path.basename(file) !== 'package.json') return sys.readFile(file, encoding);
        const key = `${encoding ?? ''}:${file}`;
        if (!this.packageJsons.has(key)) this.packageJsons.set(key, sys.readFile(file, encoding));
        return this.packageJsons.get(key);
      },
      readDirectory: (...args) => sys.readDirectory(...args),
      directoryExists: (dir) => remembered(this.directoryExistence, dir, () => sys.directoryExists(dir)),
      getDirectories: (dir) => sys.getDirectories(dir),
      realpath: sys.realpath === undefined ? undefined : (file) => sys.realpath?.(file) ?? file,
      useCaseSensitiveFileNames: () => sys.useCaseSensitiveFileNames,
    };
    this.service = tsModule.createLanguageService(host, tsModule.createDocumentRegistry(sys.useCaseSensitiveFileNames));
  }

  includes(filePath: string): boolean {
    return this.fileNames.has(filePath);
  }

  /** Takes `text` as the content of `filePath`. */
  setText(filePath: string, text: string): void {
    const open = this.open.get(filePath);
    if (open?.snapshot.text !== text) {
      this.open.set(filePath, { snapshot: new TextSnapshot(this.tsModule, text), version: this.nextVersion++ });
      this.projectVersion += 1;
    }
  }

  /** The program of the texts as they are now. */
  program(): ts.Program | undefined {
    return this.service.getProgram();
  }

  *openTexts(): Iterable<readonly [string, string]> {
    for (const [filePath, { snapshot }] of this.open) yield [filePath, snapshot.text];
  }

  /** The document was closed: the file is read from disk again. */
  close(filePath: string): void {
    if (this.open.delete(filePath)) this.projectVersion += 1;
  }

  /** Files changed on disk: read the tsconfig and the files' modification times again. */
  invalidate(): void {
    this.parsed = this.parse();
    this.fileNames.clear();
    for (const file of this.parsed.fileNames) this.fileNames.add(path.resolve(file));
    this.diskVersions.clear();
    this.diskSnapshots.clear();
    this.fileExistence.clear();
    this.directoryExistence.clear();
    this.packageJsons.clear();
    this.projectVersion += 1;
  }

  dispose(): void {
    this.service.dispose();
  }

  private parse(): ts.ParsedCommandLine {
    const sys = this.tsModule.sys;
    const read = this.tsModule.readConfigFile(this.tsconfig, (file) => sys.readFile(file));
    return this.tsModule.parseJsonConfigFileContent(read.config, sys, path.dirname(this.tsconfig), undefined, this.tsconfig);
  }
}

/** A parser as a config gives it (typescript-eslint's has `parseForESLint`). */
export interface Parser {
  meta?: { name?: string; version?: string };
  parseForESLint?: (code: string, options?: Record<string, unknown>) => unknown;
}

/** Programs for one TypeScript module (the one the workspace's typescript-eslint parser runs on). */
export class ProgramProvider {
  private readonly projects = new Map<string, Project>();
  /** Files no tsconfig includes (from the project service's default project). */
  private readonly unincluded = new Set<string>();
  /** How many parses got a program from here (for `gradflow/stats` and the tests). */
  served = 0;
  /** The incremental conversions the wrapped parsers use (to forget closed files). */
  private readonly incrementals = new Set<IncrementalEstree>();

  /** `onText`: told of every text a program is asked for (precompute.ts keeps a second provider in step). */
  constructor(
    private readonly tsModule: Ts,
    private readonly onText?: (filePath: string, text: string) => void,
  ) {}

  /** The program with `text` as the content of `filePath`, or undefined when no tsconfig includes the file. */
  programFor(filePath: string, text: string): ts.Program | undefined {
    return this.projectWith(filePath, text)?.program();
  }

  /** Takes `text` as the unsaved content of `filePath` for the next program, without building one. */
  setText(filePath: string, text: string): void {
    this.projectWith(filePath, text);
  }

  private projectWith(filePath: string, text: string): Project | undefined {
    this.onText?.(filePath, text);
    const file = path.resolve(filePath);
    if (this.unincluded.has(file)) return undefined;
    const project = this.projectFor(file);
    if (project === undefined) {
      this.unincluded.add(file);
      return undefined;
    }
    project.setText(file, text);
    return project;
  }

  /** The unsaved texts the programs hold (file, text). */
  *openTexts(): Iterable<readonly [string, string]> {
    for (const project of this.projects.values()) yield* project.openTexts();
  }

  close(filePath: string): void {
    for (const project of this.projects.values()) project.close(path.resolve(filePath));
    for (const incremental of this.incrementals) incremental.forget(path.resolve(filePath));
  }

  invalidate(): void {
    this.unincluded.clear();
    for (const project of this.projects.values()) project.invalidate();
  }

  dispose(): void {
    for (const project of this.projects.values()) project.dispose();
    this.projects.clear();
  }

  /** The nearest tsconfig.json above the file that includes it, as the project service finds it first. */
  private projectFor(file: string): Project | undefined {
    const tsconfig = this.tsModule.findConfigFile(path.dirname(file), (candidate) => this.tsModule.sys.fileExists(candidate));
    if (tsconfig === undefined) return undefined;
    let project = this.projects.get(tsconfig);
    if (project === undefined) {
      project = new Project(this.tsModule, tsconfig);
      this.projects.set(tsconfig, project);
    }
    return project.includes(file) ? project : undefined;
  }

  /**
   * A parser that gives `original` (typescript-eslint's parser, as the workspace's config set it)
   * this provider's program instead of its project service, for the files a tsconfig includes;
   * everything else goes to `original` untouched.
   */
  wrap(original: Parser, incremental?: IncrementalEstree): Parser {
    const parseForESLint = original.parseForESLint?.bind(original);
    if (parseForESLint === undefined) return original;
    if (incremental !== undefined) this.incrementals.add(incremental);
    return {
      meta: { name: 'gradflow-language-server/program-provider', version: '1' },
      parseForESLint: (code: string, options: Record<string, unknown> = {}) => {
        const filePath = typeof options.filePath === 'string' ? options.filePath : undefined;
        const wantsTypes = options.projectService !== undefined && options.projectService !== false && options.programs == null;
        const program = filePath !== undefined && wantsTypes ? this.programFor(filePath, code) : undefined;
        if (program === undefined) return parseForESLint(code, options);
        this.served += 1;
        // The program instead of the project service (and of a `project` list, which `programs` overrides anyway).
        const parse = () => parseForESLint(code, { ...options, projectService: undefined, project: undefined, programs: [program] });
        // The statements the edit did not touch keep their ESTree from the last parse (incremental-estree.ts).
        return incremental === undefined || filePath === undefined ? parse() : incremental.run(path.resolve(filePath), parse);
      },
    };
  }
}

/**
 * The TypeScript module that `parser` (from a workspace's config) runs on, and its path, when it is the
 * typescript-eslint parser installed in `fromDir`: the provider's programs must come from the very
 * module whose syntax kinds the parser's converter reads. Undefined when that cannot be made sure.
 */
export async function typescriptOfParser(parser: unknown, fromDir: string): Promise<{ tsModule: Ts; tsPath: string } | undefined> {
  const parserPath = await parserPathOf(parser, fromDir);
  if (parserPath === undefined) return undefined;
  try {
    const estreePath = createRequire(parserPath).resolve('@typescript-eslint/typescript-estree');
    const tsPath = createRequire(estreePath).resolve('typescript');
    return { tsModule: await importTypescript(tsPath), tsPath };
  } catch {
    return undefined;
  }
}

/** The TypeScript module at `tsPath` (a file path). */
export async function importTypescript(tsPath: string): Promise<Ts> {
  const tsModule = (await import(pathToFileURL(tsPath).href)) as { default?: Ts } & Partial<Ts>;
  return tsModule.default ?? (tsModule as Ts);
}

/**
 * Where `parser` (from a workspace's config) was loaded from, when it is the typescript-eslint
 * parser installed in `fromDir`; undefined otherwise.
 */
export async function parserPathOf(parser: unknown, fromDir: string): Promise<string | undefined> {
  if (typeof parser !== 'object' || parser === null || !('parseForESLint' in parser)) return undefined;
  try {
    const parserPath = createRequire(path.join(fromDir, 'noop.js')).resolve('@typescript-eslint/parser');
    const loaded = (await import(pathToFileURL(parserPath).href)) as { default?: { parseForESLint?: unknown }; parseForESLint?: unknown };
    const parseForESLint = loaded.default?.parseForESLint ?? loaded.parseForESLint;
    return parseForESLint === parser.parseForESLint ? parserPath : undefined;
  } catch {
    return undefined;
  }
}
