// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', '.tools/', 'coverage/', 'bench/.out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['eslint.config.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Fastify hooks and Temporal handlers are async by contract, with or without an await inside.
      '@typescript-eslint/require-await': 'off',
      // typebox's static types often need a cast the checker then calls unnecessary.
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
  {
    // The workflow sandbox and the pure domain: no I/O, no Node, no database, no activity code (types only).
    files: ['src/workflows/**/*.ts', 'src/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflow and domain code must not use Node builtins.' })),
            { name: 'pg', message: 'Workflow and domain code must not touch the database.' },
            { name: 'undici', message: 'Workflow and domain code must not do I/O.' },
            { name: '@temporalio/activity', message: 'Activity APIs are not for workflow code.' },
            { name: '@temporalio/client', message: 'Client APIs are not for workflow code.' },
            { name: '@temporalio/worker', message: 'Worker APIs are not for workflow code.' },
          ],
          patterns: [
            { group: ['**/activities/*', '**/activities'], allowTypeImports: true, message: 'Import activity code as types only (proxyActivities).' },
            { group: ['**/db/*', '**/http/*', '**/delivery/*', '**/config', '**/config.js', '**/ids', '**/ids.js', '**/logger.js', '**/metrics.js'], message: 'Not allowed in the workflow sandbox.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@temporalio/*'], message: 'The domain is pure: no Temporal.' }] }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
    },
  },
);
