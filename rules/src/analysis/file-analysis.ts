import ts from 'typescript';
import { Bindings } from './bindings.js';
import { buildFileIndex, type FileIndex } from './file-index.js';
import { Flow } from './flow.js';
import { ModulePaths } from './modules.js';
import { callSitesInOtherFiles } from './program-calls.js';
import { StorageIdentity } from './identity.js';
import { GradientReach } from './reach.js';
import { SavedTensors } from './saved.js';
import { TrainingFacts } from './training.js';
import { TensorValues } from './values.js';

/**
 * Everything the rules and the hover ask about one source file, built once per (program, file):
 * the nine rules of a lint run share it, and so does the language server's hover.
 */
export interface FileAnalysis {
  readonly program: ts.Program;
  readonly checker: ts.TypeChecker;
  readonly sourceFile: ts.SourceFile;
  readonly index: FileIndex;
  readonly bindings: Bindings;
  readonly flow: Flow;
  readonly paths: ModulePaths;
  readonly values: TensorValues;
  readonly training: TrainingFacts;
  readonly reach: GradientReach;
  readonly identity: StorageIdentity;
  readonly saved: SavedTensors;
}

const cache = new WeakMap<ts.SourceFile, FileAnalysis>();

/** Analysis failures, kept so that tests and the crash check can see them; rules stay silent instead. */
const failures: { fileName: string; error: unknown }[] = [];

export function analysisFailures(): readonly { fileName: string; error: unknown }[] {
  return failures;
}

export function getFileAnalysis(program: ts.Program, sourceFile: ts.SourceFile): FileAnalysis | undefined {
  const cached = cache.get(sourceFile);
  if (cached?.program === program) return cached;
  try {
    const checker = program.getTypeChecker();
    const index = buildFileIndex(checker, sourceFile);
    const bindings = new Bindings(checker, index.writes, index.callSites);
    const flow = new Flow(checker, index.callSites, {
      sitesOf: (symbol) => callSitesInOtherFiles(program, symbol, sourceFile),
      gradModeAt: (site) => getFileAnalysis(program, site.getSourceFile())?.values.gradModeAt(site) ?? 'unknown',
    });
    const paths = new ModulePaths(checker, bindings, index.containers);
    const values = new TensorValues(checker, index, bindings, flow, paths, {
      program,
      sourceFile,
      valuesOf: (file) => getFileAnalysis(program, file)?.values,
    });
    const training = new TrainingFacts(index, flow, paths, bindings, program, sourceFile);
    values.frozen = (path, at) => training.mayBeFrozen(path, true, at);
    const identity = new StorageIdentity(values, bindings, paths);
    const saved = new SavedTensors(checker, index, values, identity, bindings, paths, training, program);
    const reach = new GradientReach(
      checker,
      index,
      bindings,
      paths,
      values,
      sourceFile,
      (file) => getFileAnalysis(program, file)?.reach,
      program,
    );
    const analysis: FileAnalysis = { program, checker, sourceFile, index, bindings, flow, paths, values, training, reach, identity, saved };
    cache.set(sourceFile, analysis);
    return analysis;
  } catch (error) {
    failures.push({ fileName: sourceFile.fileName, error });
    return undefined;
  }
}

/** Runs a query on the analysis; an exception becomes "nothing to report" and is recorded. */
export function safely<T>(fileName: string, fallback: T, query: () => T): T {
  try {
    return query();
  } catch (error) {
    failures.push({ fileName, error });
    return fallback;
  }
}
