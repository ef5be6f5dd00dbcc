/**
 * Git smart HTTP with the real git CLI: clone and push with an installation token in the URL,
 * the 401 challenge without one, a token of another installation, a read-only token; pushes are
 * recorded with the refs they moved, and none of it shows up as REST.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../helpers/github-fake/index.js';

const run = promisify(execFile);
let gh: GitHubFake;
let dir: string;

const env = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 't@example.test',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 't@example.test',
};

async function git(cwd: string, ...args: string[]): Promise<string> {
  return (await run('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'credential.helper=', ...args], { cwd, env })).stdout;
}

async function gitFails(cwd: string, ...args: string[]): Promise<string> {
  try {
    await git(cwd, ...args);
  } catch (e) {
    return String((e as { stderr: string }).stderr);
  }
  throw new Error('git succeeded');
}

beforeAll(async () => {
  gh = await createGitHubFake();
  dir = mkdtempSync(path.join(tmpdir(), 'kw-fake-git-'));
  await gh.createRepo('acme', 'api', { files: { 'README.md': 'hello\n' } });
  await gh.createRepo('other', 'repo', { installationId: 2, files: { 'a.txt': 'a\n' } });
  await gh.createRepo('acme', 'site', { private: false, files: { 'index.html': '<p>hi</p>\n' } });
});
afterEach(() => gh.assertNoViolations());
afterAll(async () => {
  await gh.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('git smart HTTP', () => {
  it('clones and pushes with x-access-token:<installation token> in the URL', async () => {
    const token = gh.createInstallationToken(1);
    const work = path.join(dir, 'clone');
    const restBefore = gh.requests.length;
    await git(dir, 'clone', '-q', gh.gitUrl('acme', 'api', token), work);
    expect(readFileSync(path.join(work, 'README.md'), 'utf8')).toBe('hello\n');
    writeFileSync(path.join(work, 'fix.txt'), 'fixed\n');
    await git(work, 'checkout', '-q', '-b', 'keywarden/fix');
    await git(work, 'add', 'fix.txt');
    await git(work, 'commit', '-qm', 'Fix');
    const local = (await git(work, 'rev-parse', 'HEAD')).trim();
    await git(work, 'push', '-q', 'origin', 'keywarden/fix');
    expect(await gh.refSha('acme', 'api', 'keywarden/fix')).toBe(local);
    expect(await gh.readFile('acme', 'api', 'keywarden/fix', 'fix.txt')).toBe('fixed\n');
    const push = gh.gitRequests.find((r) => r.service === 'git-receive-pack' && r.method === 'POST');
    expect(push).toMatchObject({ status: 200, token, refUpdates: [{ ref: 'refs/heads/keywarden/fix', before: undefined, after: local }] });
    expect(gh.requests.length).toBe(restBefore);
  });

  it('fetches what the fake committed, and a force push moves the branch', async () => {
    const work = path.join(dir, 'clone');
    const next = await gh.commit('acme', 'api', { branch: 'main', files: { 'README.md': 'hello again\n' }, message: 'Edit' });
    await git(work, 'fetch', '-q', 'origin');
    expect((await git(work, 'rev-parse', 'origin/main')).trim()).toBe(next);
    await git(work, 'commit', '-q', '--amend', '-m', 'Fix, amended');
    await git(work, 'push', '-q', '--force', 'origin', 'keywarden/fix');
    expect(await gh.refSha('acme', 'api', 'keywarden/fix')).toBe((await git(work, 'rev-parse', 'HEAD')).trim());
  });

  it('challenges with 401 and WWW-Authenticate: Basic when there is no credential', async () => {
    const res = await fetch(`${gh.gitUrl('acme', 'api')}/info/refs?service=git-upload-pack`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="GitHub"');
    expect(await gitFails(dir, 'ls-remote', gh.gitUrl('acme', 'api'))).toMatch(/could not read Username|Authentication failed/);
    expect(await gitFails(dir, 'ls-remote', gh.gitUrl('acme', 'api', 'ghs_wrong'))).toMatch(/Authentication failed/);
  });

  it('lets anyone fetch a public repository, but only a token push to it', async () => {
    expect(await git(dir, 'ls-remote', gh.gitUrl('acme', 'site'))).toContain('refs/heads/main');
    const res = await fetch(`${gh.gitUrl('acme', 'site')}/info/refs?service=git-receive-pack`);
    expect(res.status).toBe(401);
  });

  it("hides another installation's repository and refuses a push with a read-only token", async () => {
    expect(await gitFails(dir, 'ls-remote', gh.gitUrl('other', 'repo', gh.createInstallationToken(1)))).toMatch(/not found/i);
    const readOnly = gh.createInstallationToken(1, { permissions: { contents: 'read' } });
    expect(await git(dir, 'ls-remote', gh.gitUrl('acme', 'api', readOnly))).toContain('refs/heads/main');
    const work = path.join(dir, 'clone');
    await git(work, 'remote', 'set-url', 'origin', gh.gitUrl('acme', 'api', readOnly));
    expect(await gitFails(work, 'push', '-q', 'origin', 'HEAD:refs/heads/ro')).toMatch(/403|Write access/);
    expect(await gh.refSha('acme', 'api', 'ro')).toBeUndefined();
  });
});
