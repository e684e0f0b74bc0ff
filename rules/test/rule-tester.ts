import { RuleTester } from '@typescript-eslint/rule-tester';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, it } from 'vitest';

// RuleTester drives vitest's own hooks, so each valid/invalid case is a vitest test.
RuleTester.afterAll = afterAll;
RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

/** Type-aware tester: each case is linted as `fixture/file.ts`, which imports the built engine. */
export const ruleTester = new RuleTester({
  languageOptions: {
    parserOptions: {
      projectService: true,
      tsconfigRootDir: fileURLToPath(new URL('./fixture', import.meta.url)),
    },
  },
});

/** Test code starts with the imports every case uses. */
export const IMPORTS = "import { tensor, zeros, randn, noGrad, enableGrad, nn, optim, autograd, Tensor } from '@gradflow/autograd';\n";
