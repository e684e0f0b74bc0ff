// The shared gradient-flow analysis (`@gradflow/rules/analysis`), loaded at run time so that the
// server keeps working — diagnostics without hovers or related locations — where it is absent.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import type { Linter } from 'eslint';
import type ts from 'typescript';
import type { CapturedProgram } from './program-capture.js';
import type { RelatedLocation } from './related.js';

export interface AnalysisAdapter {
  getRelatedLocations?: (filePath: string, message: Linter.LintMessage) => readonly RelatedLocation[];
  /** Markdown describing the gradient status of the expression at `offset`, or undefined. */
  describeAt?: (captured: CapturedProgram, offset: number) => string | undefined;
}

const ANALYSIS_MODULE = '@gradflow/rules/analysis';

const loaded = new Map<string, Promise<AnalysisAdapter | undefined>>();

/** `specifier` (a module of `@gradflow/rules`) as the workspace's own plugin resolves it, as a file URL; undefined where it cannot. */
function resolveFromPlugin(filePath: string, specifier: string): string | undefined {
  try {
    const plugin = createRequire(filePath).resolve('@gradflow/eslint-plugin');
    return pathToFileURL(createRequire(plugin).resolve(specifier)).href;
  } catch {
    return undefined;
  }
}

/**
 * The analysis module the workspace's own plugin uses: the rules record related locations in
 * that copy's memory, so the server must read the same copy. Falls back to the server's own.
 */
function resolveAnalysis(filePath: string): string {
  return resolveFromPlugin(filePath, ANALYSIS_MODULE) ?? ANALYSIS_MODULE;
}

/**
 * `@gradflow/rules/capture` of the workspace's own plugin (the copy of the rules its config loads),
 * for the analysis thread (precompute.ts); undefined where it cannot be found.
 */
export function resolveCapture(filePath: string): string | undefined {
  return resolveFromPlugin(filePath, '@gradflow/rules/capture');
}

/** The TypeScript module the workspace's analysis module runs on (a program it reads must come from it). */
export async function typescriptOfAnalysis(filePath: string): Promise<typeof ts | undefined> {
  try {
    const specifier = resolveAnalysis(filePath);
    const from = specifier.startsWith('file:') ? specifier : pathToFileURL(createRequire(import.meta.url).resolve(specifier)).href;
    const loaded = (await import(pathToFileURL(createRequire(from).resolve('typescript')).href)) as { default?: typeof ts };
    return loaded.default ?? (loaded as unknown as typeof ts);
  } catch {
    return undefined;
  }
}

export function loadAnalysis(filePath: string): Promise<AnalysisAdapter | undefined> {
  const specifier = resolveAnalysis(filePath);
  let adapter = loaded.get(specifier);
  if (adapter === undefined) {
    adapter = (import(specifier) as Promise<Record<string, unknown>>).then(adapt, () => undefined);
    loaded.set(specifier, adapter);
  }
  return adapter;
}

type GetRelatedLocations = (filename: string, ruleId: string, line: number, column: number) => readonly RelatedLocation[];

type DescribeGradientStatus = (program: ts.Program, fileName: string, position: number) => unknown;

function adapt(module: Record<string, unknown>): AnalysisAdapter {
  const adapter: AnalysisAdapter = {};
  if (typeof module.getRelatedLocations === 'function') {
    const getRelated = module.getRelatedLocations as GetRelatedLocations;
    adapter.getRelatedLocations = (filePath, message) =>
      message.ruleId === null ? [] : getRelated(filePath, message.ruleId, message.line, message.column);
  }
  if (typeof module.describeGradientStatus === 'function' && typeof module.formatGradientStatus === 'function') {
    const describe = module.describeGradientStatus as DescribeGradientStatus;
    const format = module.formatGradientStatus as (status: unknown) => string;
    adapter.describeAt = ({ program, sourceFile }, offset) => {
      const status = describe(program, sourceFile.fileName, offset);
      return status === undefined ? undefined : format(status);
    };
  }
  return adapter;
}
