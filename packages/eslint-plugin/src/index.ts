import { rules } from '@gradflow/rules';
import type { TSESLint } from '@typescript-eslint/utils';
import tseslint from 'typescript-eslint';

/**
 * The flat-config plugin: `rules` from @gradflow/rules, and two configs that are complete on
 * their own (parser with type information through the project service, for .ts/.mts/.cts files).
 * `recommended` makes the rules whose mistake throws at run time errors and the ones whose
 * mistake silently trains the wrong thing warnings; `strict` makes every rule an error.
 */
type RuleId = keyof typeof rules;

const THROWS_AT_RUN_TIME: readonly RuleId[] = [
  'no-leaf-inplace',
  'valid-no-grad',
  'no-inplace-on-saved-tensor',
  'no-backward-twice',
  'valid-requires-grad',
];

const ruleIds = Object.keys(rules) as RuleId[];

function ruleLevels(level: (id: RuleId) => 'error' | 'warn'): TSESLint.FlatConfig.Rules {
  return Object.fromEntries(ruleIds.map((id) => [`@gradflow/${id}`, level(id)]));
}

export interface GradflowPlugin {
  readonly meta: { readonly name: string; readonly version: string };
  readonly rules: Readonly<Record<RuleId, TSESLint.LooseRuleDefinition>>;
  readonly configs: Record<'recommended' | 'strict', TSESLint.FlatConfig.Config>;
}

const plugin: GradflowPlugin = {
  meta: { name: '@gradflow/eslint-plugin', version: '0.1.0' },
  rules,
  configs: {} as Record<'recommended' | 'strict', TSESLint.FlatConfig.Config>,
};

function config(name: string, level: (id: RuleId) => 'error' | 'warn'): TSESLint.FlatConfig.Config {
  return {
    name: `@gradflow/${name}`,
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true },
    },
    plugins: { '@gradflow': plugin as unknown as TSESLint.FlatConfig.Plugin },
    rules: ruleLevels(level),
  };
}

plugin.configs.recommended = config('recommended', (id) => (THROWS_AT_RUN_TIME.includes(id) ? 'error' : 'warn'));
plugin.configs.strict = config('strict', () => 'error');

export default plugin;
