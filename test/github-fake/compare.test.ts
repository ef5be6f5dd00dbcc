/**
 * Compare, contents and pull request files come from the real git repository: three-dot
 * semantics, GitHub's file statuses and patches, and the caps (files, commits, patch size) that
 * make GitHub truncate, lowered here so a test reaches them with a few files.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createGitHubFake, type GitHubFake } from '../helpers/github-fake/index.js';
import { tokenOctokit } from './clients.js';

let gh: GitHubFake;
let small: GitHubFake;
let octokit: ReturnType<typeof tokenOctokit>;
let sha: Record<string, string>;
let smallSha: Record<string, string>;

/** main: base → m2; feature/x: base → f1 → f2. */
async function build(fake: GitHubFake): Promise<Record<string, string>> {
  const sha: Record<string, string> = {};
  await fake.createRepo('acme', 'api', {
    files: { 'a.txt': 'one\ntwo\nthree\n', 'old.txt': 'moved content\nline 2\nline 3\n', 'del.txt': 'bye\n', 'bin.dat': new Uint8Array([0, 1, 2, 3, 0, 255]) },
  });
  sha.base = (await fake.refSha('acme', 'api', 'main'))!;
  sha.f1 = await fake.commit('acme', 'api', {
    branch: 'feature/x',
    parent: sha.base,
    message: 'Change a, rename old, delete del',
    files: { 'a.txt': 'one\ntwo\nadded line\nthree\n', 'old.txt': null, 'new.txt': 'moved content\nline 2\nline 3\n', 'del.txt': null },
  });
  sha.f2 = await fake.commit('acme', 'api', {
    branch: 'feature/x',
    message: 'Add config, change binary',
    files: { 'config/app.env': 'API_URL=https://example.test\n', 'bin.dat': new Uint8Array([0, 9, 9, 9, 0, 255]), 'big.txt': `${'x'.repeat(200)}\n` },
  });
  sha.m2 = await fake.commit('acme', 'api', { branch: 'main', message: 'Main moves on', files: { 'main-only.txt': 'm\n' } });
  return sha;
}

beforeAll(async () => {
  gh = await createGitHubFake();
  sha = await build(gh);
  small = await createGitHubFake({ compareLimits: { files: 2, commits: 1, patchBytes: 100 } });
  smallSha = await build(small);
  octokit = tokenOctokit(gh, gh.createInstallationToken(1));
});
afterEach(() => {
  gh.assertNoViolations();
  small.assertNoViolations();
});
afterAll(async () => {
  await gh.close();
  await small.close();
});

describe('compare', () => {
  it('gives three-dot commits and files with statuses and patches', async () => {
    const { data } = await octokit.rest.repos.compareCommitsWithBasehead({ owner: 'acme', repo: 'api', basehead: 'main...feature/x' });
    expect(data).toMatchObject({ status: 'diverged', ahead_by: 2, behind_by: 1, total_commits: 2 });
    expect(data.merge_base_commit.sha).toBe(sha.base);
    expect(data.base_commit.sha).toBe(sha.m2);
    expect(data.commits.map((c) => [c.sha, c.commit.message])).toEqual([
      [sha.f1, 'Change a, rename old, delete del'],
      [sha.f2, 'Add config, change binary'],
    ]);
    const files = Object.fromEntries((data.files ?? []).map((f) => [f.filename, f]));
    expect(Object.keys(files).sort()).toEqual(['a.txt', 'big.txt', 'bin.dat', 'config/app.env', 'del.txt', 'new.txt']);
    expect(files['a.txt']).toMatchObject({ status: 'modified', additions: 1, deletions: 0, changes: 1, patch: '@@ -1,3 +1,4 @@\n one\n two\n+added line\n three' });
    expect(files['config/app.env']).toMatchObject({ status: 'added', additions: 1, patch: '@@ -0,0 +1 @@\n+API_URL=https://example.test' });
    expect(files['new.txt']).toMatchObject({ status: 'renamed', previous_filename: 'old.txt', changes: 0 });
    expect(files['new.txt']).not.toHaveProperty('patch');
    expect(files['del.txt']).toMatchObject({ status: 'removed', deletions: 1 });
    expect(files['bin.dat']).toMatchObject({ status: 'modified', additions: 0, deletions: 0 });
    expect(files['bin.dat']).not.toHaveProperty('patch');
    expect(files['a.txt']!.sha).toBe((await gh.repoState('acme', 'api').git.file(sha.f2!, 'a.txt'))!.oid);
  });

  it('computes ahead, behind and identical, from branches or shas', async () => {
    const cmp = async (basehead: string) => (await octokit.rest.repos.compareCommitsWithBasehead({ owner: 'acme', repo: 'api', basehead })).data;
    expect(await cmp(`${sha.base}...main`)).toMatchObject({ status: 'ahead', ahead_by: 1, behind_by: 0 });
    expect(await cmp(`main...${sha.base}`)).toMatchObject({ status: 'behind', ahead_by: 0, behind_by: 1, commits: [] });
    expect(await cmp('main...main')).toMatchObject({ status: 'identical', ahead_by: 0, behind_by: 0, files: [] });
    expect((await octokit.rest.repos.compareCommits({ owner: 'acme', repo: 'api', base: sha.base!, head: sha.f1! })).data.ahead_by).toBe(1);
  });

  it('answers 404 for an unknown revision', async () => {
    await expect(octokit.rest.repos.compareCommitsWithBasehead({ owner: 'acme', repo: 'api', basehead: 'main...nope' })).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.repos.compareCommitsWithBasehead({ owner: 'acme', repo: 'api', basehead: `${'0'.repeat(40)}...main` })).rejects.toMatchObject({ status: 404 });
  });

  it('truncates files, commits and large patches at the configured caps', async () => {
    const o = tokenOctokit(small, small.createInstallationToken(1));
    const { data } = await o.rest.repos.compareCommitsWithBasehead({ owner: 'acme', repo: 'api', basehead: 'main...feature/x' });
    expect(data.total_commits).toBe(2);
    // Without paging parameters, GitHub keeps the most recent commits.
    expect(data.commits.map((c) => c.sha)).toEqual([smallSha.f2]);
    expect(data.files).toHaveLength(2);
    const all = (await o.rest.pulls.create({ owner: 'acme', repo: 'api', head: 'feature/x', base: 'main', title: 't' })).data;
    const files = await o.paginate(o.rest.pulls.listFiles, { owner: 'acme', repo: 'api', pull_number: all.number });
    const big = files.find((f) => f.filename === 'big.txt')!;
    expect(big.additions).toBe(1);
    expect(big).not.toHaveProperty('patch');
    expect(files.find((f) => f.filename === 'a.txt')!.patch).toContain('+added line');
  });

  it('pages commits when asked, with files only on the first page', async () => {
    const page = (n: number) => octokit.rest.repos.compareCommitsWithBasehead({ owner: 'acme', repo: 'api', basehead: 'main...feature/x', per_page: 1, page: n });
    const first = await page(1);
    expect(first.data.commits.map((c) => c.sha)).toEqual([sha.f1]);
    expect(first.data.files).toHaveLength(6);
    expect(first.headers.link).toContain('rel="next"');
    const second = await page(2);
    expect(second.data.commits.map((c) => c.sha)).toEqual([sha.f2]);
    expect(second.data.files).toBeUndefined();
  });
});

describe('contents and refs', () => {
  it('reads a file at a ref, base64 like GitHub', async () => {
    const { data } = await octokit.rest.repos.getContent({ owner: 'acme', repo: 'api', path: 'config/app.env', ref: 'feature/x' });
    if (Array.isArray(data) || data.type !== 'file') throw new Error('expected a file');
    expect(Buffer.from(data.content, 'base64').toString('utf8')).toBe('API_URL=https://example.test\n');
    expect(data).toMatchObject({ encoding: 'base64', size: 29, path: 'config/app.env', name: 'app.env' });
    expect((await octokit.rest.repos.getContent({ owner: 'acme', repo: 'api', path: 'a.txt' })).status).toBe(200);
  });

  it('answers the raw media type with the bytes, as the config plugin reads them', async () => {
    await gh.commit('acme', 'api', { branch: 'conf', parent: sha.base!, files: { '.github/keywarden.yml': 'version: 1\nsecrets:\n  on-leak: []\n' } });
    const raw = await octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { owner: 'acme', repo: 'api', path: '.github/keywarden.yml', ref: 'conf', mediaType: { format: 'raw' } });
    expect(raw.data).toBe('version: 1\nsecrets:\n  on-leak: []\n');
    const { config } = await octokit.config.get({ owner: 'acme', repo: 'api', path: '.github/keywarden.yml', branch: 'conf' });
    expect(config).toEqual({ version: 1, secrets: { 'on-leak': [] } });
    const none = await octokit.config.get({ owner: 'acme', repo: 'api', path: '.github/none.yml' });
    expect(none.files.every((f) => f.config === null)).toBe(true);
    await gh.deleteBranch('acme', 'api', 'conf');
  });

  it('lists a directory and answers 404 for a missing path or ref', async () => {
    const { data } = await octokit.rest.repos.getContent({ owner: 'acme', repo: 'api', path: 'config', ref: 'feature/x' });
    expect(Array.isArray(data) && data.map((e) => [e.name, e.type])).toEqual([['app.env', 'file']]);
    await expect(octokit.rest.repos.getContent({ owner: 'acme', repo: 'api', path: 'config/app.env' })).rejects.toMatchObject({ status: 404 });
    await expect(octokit.rest.repos.getContent({ owner: 'acme', repo: 'api', path: 'a.txt', ref: 'nope' })).rejects.toMatchObject({ status: 404 });
  });

  it('reads, creates, moves and deletes refs; reads branches', async () => {
    expect((await octokit.rest.git.getRef({ owner: 'acme', repo: 'api', ref: 'heads/feature/x' })).data.object.sha).toBe(sha.f2);
    await octokit.rest.git.createRef({ owner: 'acme', repo: 'api', ref: 'refs/heads/kw/fix', sha: sha.base! });
    await expect(octokit.rest.git.createRef({ owner: 'acme', repo: 'api', ref: 'refs/heads/kw/fix', sha: sha.base! })).rejects.toMatchObject({ status: 422 });
    await octokit.rest.git.updateRef({ owner: 'acme', repo: 'api', ref: 'heads/kw/fix', sha: sha.f1! });
    await expect(octokit.rest.git.updateRef({ owner: 'acme', repo: 'api', ref: 'heads/kw/fix', sha: sha.m2! })).rejects.toMatchObject({ status: 422 });
    expect((await octokit.rest.repos.getBranch({ owner: 'acme', repo: 'api', branch: 'kw/fix' })).data.commit.sha).toBe(sha.f1);
    await octokit.rest.git.deleteRef({ owner: 'acme', repo: 'api', ref: 'heads/kw/fix' });
    expect(Object.keys(await gh.branches('acme', 'api')).sort()).toEqual(['feature/x', 'main']);
    await expect(octokit.rest.git.getRef({ owner: 'acme', repo: 'api', ref: 'heads/kw/fix' })).rejects.toMatchObject({ status: 404 });
  });
});
