// A rule the server adds to every lint that reports nothing: it keeps the TypeScript program the
// parser built for the file, so a hover can ask the analysis module about the very text just linted
// without building a second program.
import type { Linter, Rule } from 'eslint';
import type ts from 'typescript';

export interface CapturedProgram {
  program: ts.Program;
  sourceFile: ts.SourceFile;
}

const captured = new Map<string, CapturedProgram>();

const captureProgram: Rule.RuleModule = {
  meta: { type: 'problem', schema: [], docs: { description: 'Internal: keeps the type-checked program for hovers' } },
  create(context) {
    const services = context.sourceCode.parserServices as { program?: ts.Program | null } | undefined;
    const program = services?.program ?? undefined;
    const sourceFile = program?.getSourceFile(context.physicalFilename);
    if (program !== undefined && sourceFile !== undefined) {
      captured.set(context.physicalFilename, { program, sourceFile });
    }
    return {};
  },
};

export const PROGRAM_CAPTURE_CONFIG: Linter.Config = {
  files: ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'],
  plugins: { 'gradflow-language-server': { rules: { 'capture-program': captureProgram } } },
  rules: { 'gradflow-language-server/capture-program': 'error' },
};

/** Takes the program captured while linting `filePath` (the caller keeps it with that lint's result). */
export function takeCapturedProgram(filePath: string): CapturedProgram | undefined {
  const program = captured.get(filePath);
  captured.delete(filePath);
  return program;
}
