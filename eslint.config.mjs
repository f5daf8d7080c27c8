// Lint: the rules the type checker cannot give. `npm test` runs it before the suites.
//   - a promise nobody awaits or handles (a failure that would surface as an unhandled
//     rejection, or work that a caller believes is done);
//   - require() and control characters in regular expressions only where a comment allows them;
//   - Node built-ins and drivers kept out of workflow code (Temporal's sandbox runs it on
//     replay; test/unit/workflow-determinism.test.ts also checks what common/ modules it shares).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import tseslint from 'typescript-eslint';

const ROOT = path.dirname(fileURLToPath(import.meta.url));

const NOT_IN_WORKFLOWS = ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'http', 'https', 'net', 'pg', 'pg-*', 'mysql2', 'mysql2/*', 'oracledb', 'drizzle-orm', 'drizzle-orm/*', '@temporalio/activity', '@temporalio/client', '@temporalio/worker'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'migrations/pg/**', '.temporal/**', 'test-artifacts/**', '.dms/**', '**/*.js', '**/*.cjs'] },
  {
    files: ['**/*.ts', '**/*.mts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: ROOT },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // require() only where a command loads its module late (client/cli.ts says why at each).
      '@typescript-eslint/no-require-imports': 'error',
      'no-control-regex': 'error',
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: NOT_IN_WORKFLOWS, message: 'workflow code runs in Temporal’s deterministic sandbox: no Node built-in, driver or client/worker SDK (activities do the I/O)' }] }],
    },
  },
);
