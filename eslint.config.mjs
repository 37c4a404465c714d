// ESLint flat config: typescript-eslint's recommended rules on the TypeScript sources.
// Run with `npm run lint` (also part of `npm test`).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', '.tools/', '.data/', 'coverage/', 'jest.config.js', 'bin/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // Unused arguments/variables are errors unless their name says "deliberately unused" (_x).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
      // SDK internals change without notice between releases: public entry points only.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@temporalio/*/lib', '@temporalio/*/lib/**'], message: 'SDK-internal path: use the public exports of the package' },
          ],
        },
      ],
    },
  },
);
