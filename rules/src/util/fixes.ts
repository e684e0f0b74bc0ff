import type { TSESLint } from '@typescript-eslint/utils';
import ts from 'typescript';
import { propertyOf } from '../analysis/bindings.js';
import { rangeOf } from './create-rule.js';

/**
 * Text edits shared by suggestions. They work on TypeScript nodes (whose offsets are the file's
 * text offsets, as ESLint's ranges are).
 */

const LIBRARY = '@gradflow/autograd';

/** How this file can call a library export, plus the edit that imports it when it is not yet. */
export function libraryName(
  sourceFile: ts.SourceFile,
  fixer: TSESLint.RuleFixer,
  exported: string,
): { name: string; fixes: TSESLint.RuleFix[] } {
  let named: ts.NamedImports | undefined;
  for (const statement of sourceFile.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier) || statement.moduleSpecifier.text !== LIBRARY)
      continue;
    const bindings = statement.importClause?.namedBindings;
    if (statement.importClause?.phaseModifier === ts.SyntaxKind.TypeKeyword || !bindings) continue;
    if (ts.isNamespaceImport(bindings)) return { name: `${bindings.name.text}.${exported}`, fixes: [] };
    const existing = bindings.elements.find((e) => (e.propertyName ?? e.name).text === exported && !e.isTypeOnly);
    if (existing) return { name: existing.name.text, fixes: [] };
    named ??= bindings;
  }
  const last = named?.elements.at(-1);
  if (last) return { name: exported, fixes: [fixer.insertTextAfterRange(rangeOf(last), `, ${exported}`)] };
  return { name: exported, fixes: [fixer.insertTextBeforeRange([0, 0], `import { ${exported} } from '${LIBRARY}';\n`)] };
}

/** The statement that holds `node` directly inside a block (or the file), if any. */
export function statementOf(node: ts.Node): ts.Statement | undefined {
  for (let cur: ts.Node = node; ;) {
    const parent = (cur as { parent?: ts.Node }).parent;
    if (!parent) return undefined;
    if (
      ts.isBlock(parent) ||
      ts.isSourceFile(parent) ||
      ts.isModuleBlock(parent) ||
      ts.isCaseClause(parent) ||
      ts.isDefaultClause(parent)
    ) {
      return cur as ts.Statement;
    }
    if (ts.isFunctionLike(parent)) return undefined;
    cur = parent;
  }
}

/** The indentation of the line `node` starts on. */
export function indentOf(node: ts.Node): string {
  const sf = node.getSourceFile();
  const start = node.getStart();
  const lineStart = sf.text.lastIndexOf('\n', start - 1) + 1;
  const match = /^[ \t]*/.exec(sf.text.slice(lineStart, start));
  return match ? match[0] : '';
}

/** Inserts a statement on its own line after `statement`, at the same indentation. */
export function insertStatementAfter(fixer: TSESLint.RuleFixer, statement: ts.Statement, text: string): TSESLint.RuleFix {
  return fixer.insertTextAfterRange(rangeOf(statement), `\n${indentOf(statement)}${text}`);
}

/** Inserts a statement on its own line before `statement`, at the same indentation. */
export function insertStatementBefore(fixer: TSESLint.RuleFixer, statement: ts.Statement, text: string): TSESLint.RuleFix {
  return fixer.insertTextBeforeRange(rangeOf(statement), `${text}\n${indentOf(statement)}`);
}

/** Adds `key: value` to a call's options argument at `index` (creating the object when missing). */
export function setOption(
  fixer: TSESLint.RuleFixer,
  call: ts.CallExpression,
  index: number,
  key: string,
  value: string,
  fill = 'undefined',
): TSESLint.RuleFix | undefined {
  const options = call.arguments.at(index);
  if (!options) {
    const args = call.arguments;
    const before = Array.from({ length: index - args.length }, () => fill);
    const text = [...before, `{ ${key}: ${value} }`].join(', ');
    if (args.length === 0) return fixer.insertTextBeforeRange([call.getEnd() - 1, call.getEnd() - 1], text);
    return fixer.insertTextAfterRange(rangeOf(args[args.length - 1]), `, ${text}`);
  }
  if (!ts.isObjectLiteralExpression(options)) return undefined;
  const existing = propertyOf(options, key);
  if (existing) return fixer.replaceTextRange(rangeOf(existing), value);
  if (options.properties.length === 0) return fixer.replaceTextRange(rangeOf(options), `{ ${key}: ${value} }`);
  return fixer.insertTextAfterRange(rangeOf(options.properties[options.properties.length - 1]), `, ${key}: ${value}`);
}
