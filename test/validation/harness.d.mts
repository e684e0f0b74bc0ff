import type { GradFlowFinding } from '@gradflow/autograd';

export interface Fixture {
  rule: string;
  name: string;
  path: string;
  relPath: string;
  text: string;
  description: string;
  /** Every file of the fixture, the main one first (one file unless the fixture is a folder). */
  files: { path: string; name: string; text: string }[];
  lint: LintLabel[];
  runtime: string[];
  knownDifferences: { rule: string; reason: string }[];
  /** The public original a ported program follows (`@source`), if any. */
  source: string | undefined;
}
export interface LintLabel {
  rule: string;
  file: string;
  line: number;
}
export function compareLabels(
  a: { rule: string | null; file: string; line: number },
  b: { rule: string | null; file: string; line: number },
): number;
export interface LintMessage {
  rule: string | null;
  line: number;
  message: string;
  fatal: boolean;
}
export const repoRoot: string;
export const fixturesDir: string;
export const RULES: string[];
export function parseHeader(file: string, text: string): Pick<Fixture, 'description' | 'lint' | 'runtime' | 'knownDifferences' | 'source'>;
export function loadFixtures(): Fixture[];
export function executeFixture(
  fixture: Pick<Fixture, 'path' | 'relPath' | 'text'> & Partial<Pick<Fixture, 'files'>>,
): Promise<{ findings: readonly GradFlowFinding[]; kinds: string[]; error: unknown }>;
export function runtimeRules(findings: readonly GradFlowFinding[]): string[];
export function labelledRuntimeRules(fixture: Fixture): string[];
export function loadPlugin(): Promise<{ plugin: unknown; existing: string[]; reason: string | null }>;
export function lintFiles(plugin: unknown, files: string[]): Promise<Map<string, LintMessage[]>>;
