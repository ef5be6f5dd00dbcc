/**
 * What the tests of hostile repositories share: git run with a fixed identity and no hooks, and
 * fresh fake AWS access key ids (`AKIA` + 16, from the fixture generators, never pasted).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';

export const gitTestEnv: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Eve',
  GIT_AUTHOR_EMAIL: 'e@example.test',
  GIT_COMMITTER_NAME: 'Eve',
  GIT_COMMITTER_EMAIL: 'e@example.test',
};

/** Runs git in `cwd` (the test's own git: hooks off, a fixed identity) and returns its stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'core.hooksPath=/dev/null', ...args], { cwd, encoding: 'utf8', env: gitTestEnv, maxBuffer: 1 << 26 });
}

/** A generator of fresh fake AWS access key ids, seeded so a failing test repeats. */
export function awsKeys(seed: string): () => string {
  const rng = createRng(seed);
  return () => {
    for (;;) {
      const s = secretGenerators['aws-access-key-id']!(rng).secret;
      if (s.startsWith('AKIA')) return s;
    }
  };
}

/** Makes `repo` a repository on `main` with one clean commit (a README); returns that commit. */
export function initRepo(repo: string): string {
  mkdirSync(repo, { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  writeFileSync(path.join(repo, 'README.md'), 'hello\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'base');
  return git(repo, 'rev-parse', 'HEAD').trim();
}
