import { rules, type RuleId } from '@gradflow/rules';
import type { TSESLint } from '@typescript-eslint/utils';
import type { ESLint, Linter } from 'eslint';
import tseslint from 'typescript-eslint';

/**
 * The flat-config plugin: `rules` from @gradflow/rules, and two configs that are complete on
 * their own (parser with type information through the project service, for .ts/.tsx/.mts/.cts files).
 * As typescript-eslint does, the configs are built from each rule's `meta.docs.recommended`:
 * `recommended` uses that level ('error' where the mistake throws at run time, 'warn' where it
 * silently trains the wrong thing); `strict` makes every rule an error.
 */
type Level = 'error' | 'warn';
type Rule = (typeof rules)[RuleId];

export interface GradflowPlugin {
  readonly meta: { readonly name: string; readonly version: string };
  readonly rules: Readonly<Record<RuleId, TSESLint.LooseRuleDefinition>>;
  /** ESLint's own config type, so that `defineConfig([gradflow.configs.recommended])` type-checks. */
  readonly configs: Record<'recommended' | 'strict', Linter.Config>;
}

const plugin: GradflowPlugin = {
  meta: { name: '@gradflow/eslint-plugin', version: '0.1.0' },
  rules,
  configs: {} as Record<'recommended' | 'strict', Linter.Config>,
};

function ruleLevels(level: (rule: Rule) => Level): Linter.RulesRecord {
  return Object.fromEntries(Object.values<Rule>(rules).map((rule) => [`@gradflow/${rule.name}`, level(rule)]));
}

function config(name: string, level: (rule: Rule) => Level): Linter.Config {
  return {
    name: `@gradflow/${name}`,
    files: ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true },
    },
    // typescript-eslint's rule type and ESLint's differ in shape only (a known mismatch of the two).
    plugins: { '@gradflow': plugin as unknown as ESLint.Plugin },
    rules: ruleLevels(level),
  };
}

plugin.configs.recommended = config('recommended', (rule) => rule.meta.docs.recommended);
plugin.configs.strict = config('strict', () => 'error');

export default plugin;
