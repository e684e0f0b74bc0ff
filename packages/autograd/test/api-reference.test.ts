// API.md is the engine's API reference: its Errors table must list exactly the engine's codes.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');

/** The members of the `GradFlowErrorCode` union in src/errors.ts. */
function errorCodes(): string[] {
  const source = ts.createSourceFile('errors.ts', read('../src/errors.ts'), ts.ScriptTarget.ES2022, true);
  const alias = source.statements.find(
    (s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === 'GradFlowErrorCode',
  );
  if (!alias || !ts.isUnionTypeNode(alias.type)) throw new Error('GradFlowErrorCode is not a union in src/errors.ts');
  return alias.type.types.map((member) => {
    if (!ts.isLiteralTypeNode(member) || !ts.isStringLiteral(member.literal))
      throw new Error(`not a string literal: ${member.getText(source)}`);
    return member.literal.text;
  });
}

describe('API.md', () => {
  it('lists every error code in its Errors table, and no other', () => {
    const reference = read('../API.md');
    const start = reference.indexOf('\n## Errors\n');
    expect(start).toBeGreaterThan(0);
    const section = reference.slice(start, reference.indexOf('\n## ', start + 1));
    const documented = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map(([, code]) => code);
    expect(documented.toSorted()).toEqual(errorCodes().toSorted());
  });
});
