// Lints gradflow's own sources with typescript-eslint's strict type-checked config.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'fixtures/**', 'examples/**', 'bench/**'] },
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
);
