/**
 * `keywarden hook install|uninstall` next to what a team already has: a plain hook script, husky,
 * lefthook, the pre-commit framework. Nothing of theirs is replaced, uninstall restores it byte
 * for byte, and hostile paths and input are refused with stable codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { awsKeys, git, initRepo } from '../helpers/git-repo.js';
import { assertBuilt, devEnv, devGit, kw } from './helpers.js';

let dir: string;
let n = 0;
const awsKey = awsKeys('hooks-install');

beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(path.join(tmpdir(), 'kw-hook-install-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function newRepo(): { repo: string; env: NodeJS.ProcessEnv } {
  const id = n++;
  const repo = path.join(dir, `r${id}`);
  initRepo(repo);
  return { repo, env: devEnv(path.join(dir, `home${id}`), { KEYWARDEN_STATE_DIR: path.join(dir, `state${id}`) }) };
}

function writeExec(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

describe('plain git hooks', () => {
  it('keeps an existing hook, runs both, and uninstall restores it exactly', async () => {
    const { repo, env } = newRepo();
    const file = path.join(repo, '.git', 'hooks', 'pre-commit');
    const theirs = '#!/bin/sh\n# our team hook\necho theirs-ran >> "$(git rev-parse --show-toplevel)/ran.log"\n';
    writeExec(file, theirs);
    let r = await kw(repo, env, ['hook', 'install', 'pre-commit']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('added Keywarden to .git/hooks/pre-commit');
    const installed = readFileSync(file, 'utf8');
    expect(installed.startsWith('#!/bin/sh\n# >>> keywarden >>>\n')).toBe(true);
    expect(installed.endsWith(theirs.slice('#!/bin/sh\n'.length))).toBe(true);
    expect(lstatSync(file).mode & 0o777).toBe(0o755);
    // Idempotent.
    r = await kw(repo, env, ['hook', 'install', 'pre-commit']);
    expect(r.out).toContain('already in');
    expect(readFileSync(file, 'utf8')).toBe(installed);

    writeFileSync(path.join(repo, 'ok.txt'), 'fine\n');
    devGit(repo, env, 'add', 'ok.txt');
    expect(devGit(repo, env, 'commit', '-qm', 'ok').code).toBe(0);
    expect(readFileSync(path.join(repo, 'ran.log'), 'utf8')).toBe('theirs-ran\n');
    writeFileSync(path.join(repo, 'bad.txt'), `k = ${awsKey()}\n`);
    devGit(repo, env, 'add', 'bad.txt');
    expect(devGit(repo, env, 'commit', '-qm', 'bad').code).not.toBe(0);
    // Ours stopped the hook before theirs ran again.
    expect(readFileSync(path.join(repo, 'ran.log'), 'utf8')).toBe('theirs-ran\n');

    r = await kw(repo, env, ['hook', 'uninstall', 'pre-commit']);
    expect(r.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(theirs);
    r = await kw(repo, env, ['hook', 'uninstall', 'pre-commit']);
    expect(r.out).toContain('is not in');
  });

  it('deletes a hook file that was entirely its own', async () => {
    const { repo, env } = newRepo();
    await kw(repo, env, ['hook', 'install', 'pre-push']);
    const file = path.join(repo, '.git', 'hooks', 'pre-push');
    expect(existsSync(file)).toBe(true);
    const r = await kw(repo, env, ['hook', 'uninstall', 'pre-push']);
    expect(r.out).toContain('deleted');
    expect(existsSync(file)).toBe(false);
  });

  it('hands the pre-push input on to the rest of an existing pre-push script', async () => {
    const { repo, env } = newRepo();
    const file = path.join(repo, '.git', 'hooks', 'pre-push');
    writeExec(file, '#!/bin/sh\nwhile read l; do [ -n "$l" ] && echo "$l" >> "$(git rev-parse --show-toplevel)/push.log"; done\nexit 0\n');
    await kw(repo, env, ['hook', 'install', 'pre-push']);
    const remote = path.join(dir, `remote${n++}.git`);
    git(dir, 'init', '-q', '--bare', remote);
    git(repo, 'remote', 'add', 'origin', remote);
    const r = devGit(repo, env, 'push', '-q', 'origin', 'main');
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(path.join(repo, 'push.log'), 'utf8')).toMatch(/^refs\/heads\/main [0-9a-f]{40} refs\/heads\/main 0{40}\n$/);
  });

  it('installs into the common hooks folder from a linked worktree, and into a local core.hooksPath', async () => {
    const { repo, env } = newRepo();
    const wt = path.join(dir, `wt${n++}`);
    git(repo, 'worktree', 'add', '-q', wt);
    expect((await kw(wt, env, ['hook', 'install', 'pre-commit'])).code).toBe(0);
    expect(existsSync(path.join(repo, '.git', 'hooks', 'pre-commit'))).toBe(true);
    git(repo, 'config', 'core.hooksPath', 'githooks');
    expect((await kw(repo, env, ['hook', 'install', 'pre-push'])).code).toBe(0);
    expect(existsSync(path.join(repo, 'githooks', 'pre-push'))).toBe(true);
  });
});

describe('hook managers', () => {
  /** A husky v9 layout: core.hooksPath = .husky/_, its runner calls .husky/<hook>. */
  function husky(repo: string): void {
    writeExec(path.join(repo, '.husky', '_', 'h'), '#!/usr/bin/env sh\nn=$(basename "$0")\ns=$(dirname "$(dirname "$0")")/$n\n[ -f "$s" ] || exit 0\nsh -e "$s" "$@"\n');
    writeExec(path.join(repo, '.husky', '_', 'pre-commit'), '#!/usr/bin/env sh\n. "$(dirname "$0")/h"\n');
    git(repo, 'config', 'core.hooksPath', '.husky/_');
  }

  it('husky: adds its block to .husky/pre-commit, never to .husky/_, and both run', async () => {
    const { repo, env } = newRepo();
    husky(repo);
    const user = 'echo husky-user-ran >> ran.log\n';
    writeFileSync(path.join(repo, '.husky', 'pre-commit'), user);
    const runner = readFileSync(path.join(repo, '.husky', '_', 'pre-commit'), 'utf8');
    const r = await kw(repo, env, ['hook', 'install', 'pre-commit']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('.husky/pre-commit (husky)');
    expect(r.out).toContain('--portable');
    expect(readFileSync(path.join(repo, '.husky', '_', 'pre-commit'), 'utf8')).toBe(runner);
    writeFileSync(path.join(repo, 'ok.txt'), 'fine\n');
    devGit(repo, env, 'add', 'ok.txt');
    const ok = devGit(repo, env, 'commit', '-qm', 'ok');
    expect(ok.code, ok.err).toBe(0);
    expect(readFileSync(path.join(repo, 'ran.log'), 'utf8')).toBe('husky-user-ran\n');
    writeFileSync(path.join(repo, 'bad.txt'), `k = ${awsKey()}\n`);
    devGit(repo, env, 'add', 'bad.txt');
    expect(devGit(repo, env, 'commit', '-qm', 'bad').code).not.toBe(0);
    await kw(repo, env, ['hook', 'uninstall', 'pre-commit']);
    expect(readFileSync(path.join(repo, '.husky', 'pre-commit'), 'utf8')).toBe(user);
  });

  it('husky: creates .husky/pre-push when absent; --portable writes npx --no-install', async () => {
    const { repo, env } = newRepo();
    husky(repo);
    expect((await kw(repo, env, ['hook', 'install', 'pre-push', '--portable'])).code).toBe(0);
    expect(readFileSync(path.join(repo, '.husky', 'pre-push'), 'utf8')).toContain('npx --no-install keywarden hook run pre-push "$@"');
  });

  const lefthook = `# Team hooks, see https://lefthook.dev
pre-commit:
  parallel: true # lint and test together
  commands:
    lint:
      run: npm run lint   # eslint
      glob: "*.{js,ts}"

# keep pushes fast
pre-push:
  commands:
    test:
      run: npm test
`;

  it('lefthook: adds a keywarden command with comments kept; uninstall restores the file exactly', async () => {
    const { repo, env } = newRepo();
    const file = path.join(repo, 'lefthook.yml');
    writeFileSync(file, lefthook);
    let r = await kw(repo, env, ['hook', 'install', 'pre-commit']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('lefthook install');
    r = await kw(repo, env, ['hook', 'install', 'pre-push']);
    expect(r.code, r.err).toBe(0);
    const text = readFileSync(file, 'utf8');
    for (const comment of ['# Team hooks, see https://lefthook.dev', '# lint and test together', '# eslint', '# keep pushes fast']) expect(text).toContain(comment);
    const doc = parse(text) as Record<string, { commands: Record<string, { run: string; use_stdin?: boolean }> }>;
    expect(doc['pre-commit']!.commands.keywarden!.run).toMatch(/ hook run pre-commit$/);
    expect(doc['pre-push']!.commands.keywarden).toMatchObject({ use_stdin: true });
    expect(Object.keys(doc['pre-commit']!.commands)).toEqual(['lint', 'keywarden']);
    expect((await kw(repo, env, ['hook', 'install', 'pre-commit'])).out).toContain('already in');
    await kw(repo, env, ['hook', 'uninstall', 'pre-push']);
    await kw(repo, env, ['hook', 'uninstall', 'pre-commit']);
    expect(readFileSync(file, 'utf8')).toBe(lefthook);
    // The git hooks folder is lefthook's to write.
    expect(existsSync(path.join(repo, '.git', 'hooks', 'pre-commit'))).toBe(false);
  });

  const preCommit = `# See https://pre-commit.com for more information
repos:
- repo: https://github.com/pre-commit/pre-commit-hooks
  rev: v4.6.0  # pinned
  hooks:
  - id: trailing-whitespace
  # keep files tidy
  - id: end-of-file-fixer
`;

  it('pre-commit framework: adds a repo: local entry with comments kept; uninstall restores the file exactly', async () => {
    const { repo, env } = newRepo();
    const file = path.join(repo, '.pre-commit-config.yaml');
    writeFileSync(file, preCommit);
    const r = await kw(repo, env, ['hook', 'install', 'pre-commit']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('pre-commit install --hook-type pre-commit');
    const text = readFileSync(file, 'utf8');
    for (const comment of ['# See https://pre-commit.com', '# pinned', '# keep files tidy']) expect(text).toContain(comment);
    const doc = parse(text) as { repos: { repo: string; hooks: Record<string, unknown>[] }[] };
    expect(doc.repos.map((x) => x.repo)).toEqual(['https://github.com/pre-commit/pre-commit-hooks', 'local']);
    expect(doc.repos[1]!.hooks[0]).toMatchObject({ id: 'keywarden', language: 'system', pass_filenames: false, stages: ['pre-commit'] });
    expect(String(doc.repos[1]!.hooks[0]!.entry)).toMatch(/ hook run pre-commit$/);
    expect((await kw(repo, env, ['hook', 'install', 'pre-push'])).code).toBe(0);
    const both = parse(readFileSync(file, 'utf8')) as { repos: { hooks: { stages: string[] }[] }[] };
    expect(both.repos.slice(1).map((x) => x.hooks[0]!.stages)).toEqual([['pre-commit'], ['pre-push']]);
    await kw(repo, env, ['hook', 'uninstall', 'pre-commit']);
    await kw(repo, env, ['hook', 'uninstall', 'pre-push']);
    expect(readFileSync(file, 'utf8')).toBe(preCommit);
  });
});

describe('refused', () => {
  it('a hook path that is a symlink, or not a regular file', async () => {
    const { repo, env } = newRepo();
    const target = path.join(dir, `elsewhere${n++}`);
    writeFileSync(target, '#!/bin/sh\n');
    mkdirSync(path.join(repo, '.git', 'hooks'), { recursive: true });
    symlinkSync(target, path.join(repo, '.git', 'hooks', 'pre-commit'));
    let r = await kw(repo, env, ['hook', 'install', 'pre-commit']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('KW_HOOK_PATH_REFUSED');
    expect(readFileSync(target, 'utf8')).toBe('#!/bin/sh\n');
    mkdirSync(path.join(repo, '.git', 'hooks', 'pre-push'));
    r = await kw(repo, env, ['hook', 'install', 'pre-push']);
    expect(r.err).toContain('KW_HOOK_PATH_REFUSED');
  });

  it('a husky folder that is a symlink out of the work tree', async () => {
    const { repo, env } = newRepo();
    const outside = path.join(dir, `outside${n++}`);
    mkdirSync(path.join(outside, '_'), { recursive: true });
    writeFileSync(path.join(outside, '_', 'h'), '');
    symlinkSync(outside, path.join(repo, '.husky'));
    git(repo, 'config', 'core.hooksPath', '.husky/_');
    const r = await kw(repo, env, ['hook', 'install', 'pre-commit']);
    expect(r.err).toContain('KW_HOOK_PATH_REFUSED');
    expect(existsSync(path.join(outside, 'pre-commit'))).toBe(false);
  });

  it('a hook that is not a shell script, an unknown hook, a folder that is no repository, a global hooksPath', async () => {
    const { repo, env } = newRepo();
    writeExec(path.join(repo, '.git', 'hooks', 'pre-commit'), '#!/usr/bin/env python3\nprint("hi")\n');
    expect((await kw(repo, env, ['hook', 'install', 'pre-commit'])).err).toContain('KW_HOOK_NOT_SHELL');
    expect((await kw(repo, env, ['hook', 'install', 'post-merge'])).err).toContain('KW_HOOK_UNKNOWN');
    expect((await kw(repo, env, ['hook', 'run', 'commit-msg'])).err).toContain('KW_HOOK_UNKNOWN');
    const plain = mkdtempSync(path.join(dir, 'plain-'));
    expect((await kw(plain, env, ['hook', 'install', 'pre-push'])).err).toContain('KW_NOT_A_GIT_REPO');
    writeFileSync(path.join(env.HOME!, '.gitconfig'), '[core]\n\thooksPath = ~/shared-hooks\n');
    const r = await kw(repo, env, ['hook', 'install', 'pre-push']);
    expect(r.err).toContain('KW_HOOK_PATH_REFUSED');
    expect(r.err).toContain('global');
  });

  it('hostile pre-push input: a sha that is no hex id never reaches git', async () => {
    const { repo, env } = newRepo();
    const head = git(repo, 'rev-parse', 'HEAD').trim();
    const out = path.join(dir, `planted${n++}`);
    for (const line of [
      `refs/heads/main --output=${out} refs/heads/main ${'0'.repeat(40)}`,
      `refs/heads/main ${head} refs/heads/main --output=${out}`,
      `refs/heads/main HEAD refs/heads/main ${'0'.repeat(40)}`,
      `refs/heads/main ${head.toUpperCase()} refs/heads/main ${'0'.repeat(40)}`,
      `refs/heads/main ${head} refs/heads/main`,
      `refs/heads/main  ${head} refs/heads/main ${'0'.repeat(40)}`,
    ]) {
      const r = await kw(repo, env, ['hook', 'run', 'pre-push', 'origin', 'url'], `${line}\n`);
      expect(r.code, line).toBe(2);
      expect(r.err).toContain('KW_HOOK_INPUT_INVALID');
    }
    expect(existsSync(out)).toBe(false);
    const framework = await kw(repo, { ...env, PRE_COMMIT_TO_REF: '--all' }, ['hook', 'run', 'pre-push'], '');
    expect(framework.err).toContain('KW_HOOK_INPUT_INVALID');
    // A well-formed line of a clean commit passes; the escaped ref is only printed.
    const ok = await kw(repo, env, ['hook', 'run', 'pre-push'], `refs/heads/m\u001bain ${head} refs/heads/main ${'0'.repeat(40)}\n`);
    expect(ok.code, ok.err).toBe(0);
  });
});
