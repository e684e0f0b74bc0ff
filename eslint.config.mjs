// Lints gradflow's own code with typescript-eslint's strict type-checked config: the packages'
// sources (typed by their own tsconfig.json), the tests (typed by tsconfig.test.json), and the
// plain-JS benches and scripts (type-checked by tsc through tsconfig.scripts.json, linted here
// without type information).
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Test code and its helpers: not in the packages' tsconfigs, which build src/ only. */
const TESTS = ['packages/*/test/**/*.ts', 'rules/test/**/*.ts', 'test/**/*.ts', 'test/**/*.mts', 'vitest.config.ts'];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'fixtures/**',
      'examples/**',
      'bench/results/**',
      'fuzz/.out/**',
      '.cache/**',
      // Programs the tests lint or run, with their own tsconfig: inputs, not our code.
      'packages/*/test/fixture/**',
      'rules/test/fixture/**',
      'packages/language-server/test/fixtures/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers in template literals are how error messages name shapes and sizes.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Kernels index typed arrays in tight loops; `noUncheckedIndexedAccess` is off for speed and clarity.
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
    },
  },
  {
    files: TESTS,
    languageOptions: {
      parserOptions: { projectService: false, project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Plain JS (benches, scripts, the validation harness): tsc type-checks them (checkJs); the
    // type-aware rules would only see `any` in untyped JS, and `no-undef` is tsc's job there.
    files: ['**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    rules: { 'no-undef': 'off' },
  },
);
