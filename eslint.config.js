// Lint rules that keep the architecture true: the pure core never does I/O, adapters import
// ports, never the reverse.
import tseslint from 'typescript-eslint';

const io = ['node:fs', 'node:fs/promises', 'fs', 'fs/promises', 'node:child_process', 'child_process', 'node:net', 'node:http', 'node:https'];
const adapters = ['@octokit/*', 'octokit', 'hono', 'hono/*', 'probot', '@aws-sdk/*', 'graphene-pk11', 'better-sqlite3'];
// Shared words (key specs, findings, decisions) live in src/model/: the policy side never imports a backend.
const noBackends = { group: ['**/backends/*'], message: 'The policy and the core never import backends/: import the shared vocabulary from src/model/.' };
const pureCore = {
  'no-restricted-imports': [
    'error',
    {
      paths: io.map((name) => ({ name, message: 'The core is pure: do I/O in a source, adapter or entry point.' })),
      patterns: [{ group: adapters, message: 'The core imports no adapter package.' }, noBackends],
    },
  ],
  'no-restricted-globals': ['error', { name: 'process', message: 'The core takes configuration as arguments, not from process.' }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.keywarden/**', '.cache/**', 'bench/.work/**', 'coverage/**', 'fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['src/policy/**/*.ts', 'src/model/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noBackends] }] },
  },
  {
    files: ['src/scan/*.ts', 'src/scan/detectors/**/*.ts', 'src/scan/views/**/*.ts', 'src/scan/format/**/*.ts', 'src/policy/dsl/**/*.ts', 'src/policy/compile/**/*.ts', 'src/inspect/**/*.ts', 'src/model/**/*.ts', 'src/pipeline/plan.ts', 'src/pipeline/types.ts', 'src/remediate/plan.ts', 'src/remediate/**/*.ts'],
    ignores: ['src/scan/scan.ts', 'src/scan/pool.ts', 'src/scan/worker.ts', 'src/scan/secretlint-bridge.ts'],
    rules: pureCore,
  },
);
