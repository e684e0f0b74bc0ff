import { describeGradientStatus, getRelatedLocations } from '@gradflow/rules/analysis';
import { ESLint } from 'eslint';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

const RULE_IDS = [
  'no-leaf-inplace', 'no-freeze-after-optimizer', 'require-set-to-none', 'valid-no-grad', 'no-inplace-on-saved-tensor',
  'no-backward-twice', 'no-nonleaf-grad', 'valid-requires-grad', 'require-zero-grad',
];
const fixtureDir = fileURLToPath(new URL('./fixture', import.meta.url));

function eslintFor(config: 'recommended' | 'strict'): ESLint {
  return new ESLint({
    cwd: fixtureDir,
    overrideConfigFile: true,
    overrideConfig: [plugin.configs[config], { languageOptions: { parserOptions: { tsconfigRootDir: fixtureDir } } }],
  });
}

describe('@gradflow/eslint-plugin', () => {
  it('exports exactly the nine rules of the contract, each with a doc that exists', () => {
    expect(Object.keys(plugin.rules).sort()).toEqual([...RULE_IDS].sort());
    for (const rule of Object.values(plugin.rules)) {
      const url = (rule as { meta?: { docs?: { url?: string } } }).meta?.docs?.url;
      expect(url).toMatch(/^file:\/\/.*\/rules\/docs\/[a-z-]+\.md$/);
      expect(existsSync(fileURLToPath(url ?? ''))).toBe(true);
    }
  });

  it('configs are complete: TypeScript files, typed parser, every rule on', () => {
    for (const name of ['recommended', 'strict'] as const) {
      const config = plugin.configs[name];
      expect(config.files).toEqual(['**/*.ts', '**/*.mts', '**/*.cts']);
      expect(config.languageOptions?.parserOptions).toMatchObject({ projectService: true });
      expect(Object.keys(config.rules ?? {}).sort()).toEqual(RULE_IDS.map((id) => `@gradflow/${id}`).sort());
    }
    expect(Object.values(plugin.configs.strict.rules ?? {}).every((level) => level === 'error')).toBe(true);
  });

  it('finds the mistakes of a real training script through the ESLint class, with related locations', async () => {
    const [result] = await eslintFor('strict').lintFiles(['training.ts']);
    const found = result?.messages.map((m) => `${String(m.line)}:${m.ruleId ?? 'parse'}`);
    expect(found).toEqual([
      '15:@gradflow/no-freeze-after-optimizer',
      '22:@gradflow/require-zero-grad',
      '25:@gradflow/no-leaf-inplace',
    ]);
    const freeze = result?.messages[0];
    const related = freeze ? getRelatedLocations(result?.filePath ?? '', freeze.ruleId ?? '', freeze.line, freeze.column) : [];
    // The optimizer that holds the frozen parameters is built on line 13.
    expect(related.map((r) => r.line)).toEqual([13]);
  });

  it('reports nothing on the corrected script', async () => {
    const [result] = await eslintFor('recommended').lintFiles(['clean.ts']);
    expect(result?.messages).toEqual([]);
  });

  it('describes gradient status for a hover', () => {
    const file = `${fixtureDir}/training.ts`;
    const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, skipLibCheck: true, noEmit: true });
    const text = readFileSync(file, 'utf8');
    const optimizer = describeGradientStatus(program, file, text.indexOf('optimizer.step'));
    expect(optimizer).toMatchObject({ kind: 'optimizer', className: 'Adam', movesOnZeroGrad: true, holds: ['model.parameters()'] });
    const encoder = describeGradientStatus(program, file, text.indexOf('encoder.parameters'));
    expect(encoder).toMatchObject({ kind: 'module', className: 'Linear' });
    expect(encoder?.frozenAt.map((f) => f.line)).toEqual([15]);
    expect(encoder?.heldBy.map((h) => [h.optimizer, h.at.line])).toEqual([['optimizer', 13]]);
    const loss = describeGradientStatus(program, file, text.indexOf('loss.backward'));
    expect(loss).toMatchObject({ kind: 'tensor', requiresGrad: 'yes', leaf: 'no', gradMode: 'on' });
    expect(describeGradientStatus(program, file, text.indexOf('step = 0'))).toBeUndefined();
    // The loop variable over the encoder's parameters: a leaf parameter, frozen there, held by the optimizer.
    const p = describeGradientStatus(program, file, text.indexOf('p.requiresGrad'));
    expect(p).toMatchObject({ kind: 'parameter', requiresGrad: 'yes', leaf: 'yes' });
    expect(p?.frozenAt.map((f) => f.line)).toEqual([15]);
    expect(p?.heldBy.map((h) => h.optimizer)).toEqual(['optimizer']);
  });

  it('describes values computed under noGrad', () => {
    const file = `${fixtureDir}/clean.ts`;
    const program = ts.createProgram([file], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, strict: true, skipLibCheck: true, noEmit: true });
    const text = readFileSync(file, 'utf8');
    // Inside the noGrad callback at the end of clean.ts, recording is off.
    const inside = describeGradientStatus(program, file, text.lastIndexOf('p.mul_'));
    expect(inside).toMatchObject({ kind: 'parameter', gradMode: 'off' });
  });
});
