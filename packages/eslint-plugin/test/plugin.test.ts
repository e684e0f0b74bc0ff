import { RULE_IDS } from '@gradflow/autograd';
import { rules } from '@gradflow/rules';
import { describeGradientStatus, getRelatedLocations } from '@gradflow/rules/analysis';
import { ESLint } from 'eslint';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

// The contract: the ids the engine's runtime checker gives its findings (a copy the engine keeps,
// as it does not depend on the rules). The plugin's rules must be exactly these.
const CHECKER_RULE_IDS: readonly string[] = RULE_IDS;
const fixtureDir = fileURLToPath(new URL('./fixture', import.meta.url));

function eslintFor(config: 'recommended' | 'strict'): ESLint {
  return new ESLint({
    cwd: fixtureDir,
    overrideConfigFile: true,
    overrideConfig: [plugin.configs[config], { languageOptions: { parserOptions: { tsconfigRootDir: fixtureDir } } }],
  });
}

describe('@gradflow/eslint-plugin', () => {
  it('exports exactly the rules the runtime checker reports, each with a doc that exists', () => {
    expect(
      Object.keys(plugin.rules)
        .map((id) => `@gradflow/${id}`)
        .sort(),
    ).toEqual(CHECKER_RULE_IDS.toSorted());
    for (const [id, rule] of Object.entries(rules)) {
      expect(rule.name).toBe(id);
      const url = rule.meta.docs.url;
      expect(url.endsWith(`/rules/docs/${id}.md`), url).toBe(true);
      // A web address from the package's homepage (SARIF's helpUri, the editor's link), never a local path.
      expect(url).toMatch(/^https:\/\/github\.com\/gradflow\/gradflow\/blob\/main\/rules\/docs\/[a-z-]+\.md$/);
      const inRepo = url.replace('https://github.com/gradflow/gradflow/blob/main/', '');
      expect(existsSync(fileURLToPath(new URL(`../../../${inRepo}`, import.meta.url)))).toBe(true);
    }
  });

  it('configs are complete: TypeScript files, typed parser, every rule on', () => {
    for (const name of ['recommended', 'strict'] as const) {
      const config = plugin.configs[name];
      expect(config.files).toEqual(['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts']);
      expect(config.languageOptions?.parserOptions).toMatchObject({ projectService: true });
      expect(Object.keys(config.rules ?? {}).sort()).toEqual(CHECKER_RULE_IDS.toSorted());
    }
  });

  it("recommended takes each rule's level from its meta.docs.recommended; strict makes all errors", () => {
    const levels = Object.fromEntries(Object.values(rules).map((rule) => [`@gradflow/${rule.name}`, rule.meta.docs.recommended]));
    expect(plugin.configs.recommended.rules).toEqual(levels);
    // The five whose mistake throws at run time are errors, the four silent ones warnings (README).
    expect(Object.values(levels).filter((level) => level === 'error')).toHaveLength(5);
    expect(Object.values(levels).filter((level) => level === 'warn')).toHaveLength(4);
    expect(Object.values(plugin.configs.strict.rules ?? {}).every((level) => level === 'error')).toBe(true);
  });

  it('finds the mistakes of a real training script through the ESLint class, with related locations', async () => {
    const [result] = await eslintFor('strict').lintFiles(['training.ts']);
    const found = result.messages.map((m) => `${String(m.line)}:${m.ruleId ?? 'parse'}`);
    expect(found).toEqual(['18:@gradflow/no-freeze-after-optimizer', '24:@gradflow/require-zero-grad', '27:@gradflow/no-leaf-inplace']);
    const freeze = result.messages[0];
    const related = getRelatedLocations(result.filePath, freeze.ruleId ?? '', freeze.line, freeze.column);
    // The optimizer that holds the frozen parameters is built on line 13.
    expect(related.map((r) => r.line)).toEqual([13]);
  });

  it('lints .tsx files too: a buggy component file fails the lint', async () => {
    const results = await eslintFor('recommended').lintFiles(['.']);
    const tsx = results.find((r) => r.filePath.endsWith('panel.tsx'));
    expect(tsx?.messages.map((m) => `${String(m.line)}:${m.ruleId ?? 'parse'}:${String(m.severity)}`)).toEqual([
      '13:@gradflow/require-zero-grad:1',
      '19:@gradflow/no-leaf-inplace:2',
    ]);
    expect(tsx?.errorCount).toBeGreaterThan(0);
  });

  it('reports nothing on the corrected script', async () => {
    const [result] = await eslintFor('recommended').lintFiles(['clean.ts']);
    expect(result.messages).toEqual([]);
  });

  it('describes gradient status for a hover', () => {
    const file = `${fixtureDir}/training.ts`;
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
    });
    const text = readFileSync(file, 'utf8');
    const optimizer = describeGradientStatus(program, file, text.indexOf('optimizer.step'));
    expect(optimizer).toMatchObject({ kind: 'optimizer', className: 'Adam', movesOnZeroGrad: true, holds: ['model.parameters()'] });
    const encoder = describeGradientStatus(program, file, text.indexOf('encoder.parameters'));
    expect(encoder).toMatchObject({ kind: 'module', className: 'Linear' });
    expect(encoder?.frozenAt.map((f) => f.line)).toEqual([18]);
    expect(encoder?.heldBy.map((h) => [h.optimizer, h.at.line])).toEqual([['optimizer', 13]]);
    const loss = describeGradientStatus(program, file, text.indexOf('loss.backward'));
    expect(loss).toMatchObject({ kind: 'tensor', requiresGrad: 'yes', leaf: 'no', gradMode: 'on' });
    expect(describeGradientStatus(program, file, text.indexOf('step = 0'))).toBeUndefined();
    // The loop variable over the encoder's parameters: a leaf parameter, frozen there, held by the optimizer.
    const p = describeGradientStatus(program, file, text.indexOf('p.requiresGrad'));
    expect(p).toMatchObject({ kind: 'parameter', requiresGrad: 'yes', leaf: 'yes' });
    expect(p?.frozenAt.map((f) => f.line)).toEqual([18]);
    expect(p?.heldBy.map((h) => h.optimizer)).toEqual(['optimizer']);
  });

  it('describes values computed under noGrad', () => {
    const file = `${fixtureDir}/clean.ts`;
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
    });
    const text = readFileSync(file, 'utf8');
    // Inside the noGrad callback at the end of clean.ts, recording is off.
    const inside = describeGradientStatus(program, file, text.lastIndexOf('p.mul_'));
    expect(inside).toMatchObject({ kind: 'parameter', gradMode: 'off' });
  });
});
