import type { GradFlowFinding } from '@gradflow/autograd';

export interface Fixture {
  rule: string;
  name: string;
  path: string;
  relPath: string;
  text: string;
  description: string;
  lint: { rule: string; line: number }[];
  runtime: string[];
  knownDifferences: { rule: string; reason: string }[];
}
export interface LintMessage { rule: string | null; line: number; message: string; fatal: boolean }
export const repoRoot: string;
export const fixturesDir: string;
export const RULES: string[];
export function parseHeader(file: string, text: string): Pick<Fixture, 'description' | 'lint' | 'runtime' | 'knownDifferences'>;
export function loadFixtures(): Fixture[];
export function executeFixture(fixture: Fixture): Promise<{ findings: readonly GradFlowFinding[]; kinds: string[]; error: unknown }>;
export function runtimeRules(findings: readonly GradFlowFinding[]): string[];
export function labelledRuntimeRules(fixture: Fixture): string[];
export function loadPlugin(): Promise<{ plugin: unknown; existing: string[]; reason: string | null }>;
export function lintFiles(plugin: unknown, files: string[]): Promise<Map<string, LintMessage[]>>;
