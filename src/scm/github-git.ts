/**
 * The App's local copies of GitHub repositories: one git repository per GitHub repository under
 * the state folder, fetched over HTTPS with the installation token and never checked out. The
 * pipeline scans ranges in it, re-reads a secret from it at act time, and commits the remediation
 * branch in it, which is then pushed.
 *
 * Security properties:
 * - nothing is ever checked out: the fetched tree is only read as git objects, so a pushed
 *   `.gitattributes`, hook, symlink or submodule has no effect (and every git call is hardened,
 *   `git/run-git.ts`);
 * - the token travels in git's environment as an HTTP header, never in a URL or an argument, and
 *   no credential is written to the copy's config;
 * - the remote URL is built from the API's host and the repository's full name, checked to be a
 *   plain `owner/name`; only that scheme is allowed for the call, redirects are not followed;
 * - the copy's folder is named by the repository's numeric id, so a renamed or hostile name
 *   cannot reach outside the state folder.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import { firstLine, runGit } from '../git/run-git.js';

export interface GitRemote {
  /** `https://github.com/owner/repo.git`, or `http://127.0.0.1:…` for a loopback test server. */
  url: string;
  /** The installation token. */
  token: string;
}

const NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** The clone URL of a repository on a GitHub host, checked. Plain HTTP only for a loopback host. */
export function cloneUrl(gitBase: string, owner: string, repo: string): string {
  if (!NAME.test(owner) || !NAME.test(repo) || /^[.-]/.test(owner) || /^[.-]/.test(repo) || repo.includes('..')) {
    throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'The repository name from GitHub is not a plain owner/name.', { fault: 'user' });
  }
  const u = new URL(gitBase);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) {
    throw new KeywardenError(ErrorCode.CONFIG_INVALID, `Git over ${u.protocol} is refused: use https (plain http only on loopback).`, { fault: 'config' });
  }
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}/${owner}/${repo}.git`;
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]' || host === '::1';
}

function remoteOptions(remote: GitRemote): { remote: { scheme: 'https' | 'http'; authorization: string } } {
  const scheme = new URL(remote.url).protocol === 'http:' ? 'http' : 'https';
  return { remote: { scheme, authorization: `Basic ${Buffer.from(`x-access-token:${remote.token}`).toString('base64')}` } };
}

function gitFailed(what: string, stderr: string, retryable = true): KeywardenError {
  // git prints the URL, never the header; the URL has no credential in it.
  return new KeywardenError(ErrorCode.GIT_FAILED, `git could not ${what}: ${firstLine(stderr) || 'no message'}.`, { fault: 'backend', retryable });
}

/** The local copy of repository `repoId`, created (empty, no work tree checked out) when missing. */
export async function ensureMirror(stateDir: string, repoId: number): Promise<string> {
  if (!Number.isSafeInteger(repoId) || repoId <= 0) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A repository id must be a positive integer.', { fault: 'internal' });
  const dir = path.join(stateDir, 'repos', String(repoId));
  if (!existsSync(path.join(dir, '.git'))) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const r = await runGit(dir, ['init', '--quiet', '--initial-branch=keywarden-empty']);
    if (r.code !== 0) throw gitFailed('create a local copy', r.stderr, false);
    for (const [k, v] of [['gc.auto', '0'], ['maintenance.auto', 'false'], ['core.bare', 'false'], ['fetch.prune', 'false']] as const) {
      await runGit(dir, ['config', '--local', k, v]);
    }
  }
  return dir;
}

/**
 * Fetches refs (and, where the server allows, commits by id) into the copy. Refs land under
 * `refs/keywarden/remote/`; a commit id that cannot be fetched is reported in `missing`.
 */
export async function fetchInto(dir: string, remote: GitRemote, wants: { branches: string[]; pulls?: number[]; commits?: string[] }): Promise<{ missing: string[] }> {
  const refspecs: string[] = [];
  for (const b of new Set(wants.branches)) {
    const ok = await runGit(dir, ['check-ref-format', '--branch', b]);
    if (ok.code !== 0 || b.startsWith('-')) continue;
    refspecs.push(`+refs/heads/${b}:refs/keywarden/remote/${b}`);
  }
  if (refspecs.length) {
    const r = await runGit(dir, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--end-of-options', remote.url, ...refspecs], remoteOptions(remote));
    if (r.code !== 0) throw gitFailed('fetch from GitHub', r.stderr);
  }
  // A pull request's head as GitHub keeps it in the base repository (`refs/pull/N/head`): the
  // only way to a fork's commits. On its own, since a PR closed long ago may have lost it.
  for (const n of new Set(wants.pulls ?? [])) {
    if (!Number.isSafeInteger(n) || n <= 0) continue;
    await runGit(dir, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--end-of-options', remote.url, `+refs/pull/${n}/head:refs/keywarden/pull/${n}/head`], remoteOptions(remote));
  }
  const missing: string[] = [];
  for (const c of new Set(wants.commits ?? [])) {
    if (!/^[0-9a-f]{40,64}$/.test(c)) continue;
    if (await hasCommit(dir, c)) continue;
    const r = await runGit(dir, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--end-of-options', remote.url, c], remoteOptions(remote));
    if (r.code !== 0 || !(await hasCommit(dir, c))) missing.push(c);
  }
  return { missing };
}

export async function hasCommit(dir: string, sha: string): Promise<boolean> {
  const r = await runGit(dir, ['cat-file', '-e', `${sha}^{commit}`]);
  return r.code === 0;
}

export async function isAncestor(dir: string, a: string, b: string): Promise<boolean> {
  const r = await runGit(dir, ['merge-base', '--is-ancestor', '--end-of-options', a, b]);
  return r.code === 0;
}

/** The commit a fetched branch points at in the copy. */
export async function fetchedBranch(dir: string, branch: string): Promise<string | undefined> {
  const r = await runGit(dir, ['rev-parse', '--verify', '--quiet', `refs/keywarden/remote/${branch}^{commit}`]);
  return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
}

/**
 * Drops the copy's local branches under `keywarden/` (the scratch refs remediation commits were
 * made on; their commits stay), and returns the files those commits changed: a new patch looks in
 * them again, so a remediation PR rebuilt on a new push keeps fixing what it fixed.
 */
export async function dropScratchBranches(dir: string): Promise<string[]> {
  const r = await runGit(dir, ['for-each-ref', '--format=%(refname)', 'refs/heads/keywarden/']);
  const files = new Set<string>();
  for (const ref of r.stdout.toString('utf8').split('\n').filter(Boolean)) {
    const d = await runGit(dir, ['diff-tree', '-r', '-z', '--no-commit-id', '--name-only', '--no-renames', `${ref}^`, ref], { maxStdout: 4 * 1024 * 1024 });
    if (d.code === 0) for (const f of d.stdout.toString('utf8').split('\0')) if (f) files.add(f);
    await runGit(dir, ['update-ref', '-d', ref]);
  }
  return [...files];
}

/**
 * Pushes `commit` to `branch` on GitHub. `expect`: the branch's current tip there (a lease: the
 * push fails rather than overwrite a commit someone else pushed), or `null` for a new branch.
 */
export async function pushBranch(dir: string, remote: GitRemote, commit: string, branch: string, expect: string | null): Promise<void> {
  const ok = await runGit(dir, ['check-ref-format', '--branch', branch]);
  if (ok.code !== 0 || !/^[0-9a-f]{40,64}$/.test(commit)) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'Not a branch and commit to push.', { fault: 'internal' });
  const lease = `--force-with-lease=refs/heads/${branch}:${expect ?? ''}`;
  const r = await runGit(dir, ['push', '--quiet', '--no-verify', lease, '--end-of-options', remote.url, `${commit}:refs/heads/${branch}`], remoteOptions(remote));
  if (r.code !== 0) throw gitFailed(`push the branch ${branch}`, r.stderr);
}

/** The tip of `branch` on GitHub (`git ls-remote`), or null when there is no such branch. */
export async function remoteBranchTip(dir: string, remote: GitRemote, branch: string): Promise<string | null> {
  const r = await runGit(dir, ['ls-remote', '--heads', '--end-of-options', remote.url, `refs/heads/${branch}`], { ...remoteOptions(remote), maxStdout: 64 * 1024 });
  if (r.code !== 0) throw gitFailed('list the branches on GitHub', r.stderr);
  const line = r.stdout.toString('utf8').split('\n').find((l) => l.endsWith(`\trefs/heads/${branch}`));
  return line ? line.split('\t')[0]! : null;
}

/**
 * A range of every commit `commit` reaches: from an empty commit of no history (made in the copy
 * only) to `commit`. For the first push of a default branch, where nothing came before: a secret
 * a pushed commit added and a later one removed is still in the history GitHub now serves.
 */
export async function historyAsRange(dir: string, commit: string): Promise<string> {
  const identity = ['-c', 'user.name=Keywarden', '-c', 'user.email=keywarden@users.noreply.localhost'];
  const empty = await runGit(dir, ['mktree'], { input: '' });
  if (empty.code !== 0) throw gitFailed('prepare the scan of the pushed history', empty.stderr, false);
  const root = await runGit(dir, [...identity, 'commit-tree', empty.stdout.toString('utf8').trim(), '-m', 'keywarden: nothing before']);
  if (root.code !== 0) throw gitFailed('prepare the scan of the pushed history', root.stderr, false);
  return `${root.stdout.toString('utf8').trim()}..${commit}`;
}

/**
 * A range whose added lines are the whole tree of `commit`: a commit with that tree whose parent
 * has an empty tree, both made in the copy only (never pushed). So a first scan of a repository
 * runs through the same range scan, with every line counted.
 */
export async function treeAsRange(dir: string, commit: string): Promise<string> {
  const identity = ['-c', 'user.name=Keywarden', '-c', 'user.email=keywarden@users.noreply.localhost'];
  const run = async (args: string[], input?: string): Promise<string> => {
    const r = await runGit(dir, args, input === undefined ? {} : { input });
    if (r.code !== 0) throw gitFailed('prepare the first scan', r.stderr, false);
    return r.stdout.toString('utf8').trim();
  };
  const empty = await run(['mktree'], '');
  const root = await run([...identity, 'commit-tree', empty, '-m', 'keywarden: empty']);
  const tree = await run(['rev-parse', `${commit}^{tree}`]);
  const tip = await run([...identity, 'commit-tree', tree, '-p', root, '-m', `keywarden: tree of ${commit}`]);
  return `${root}..${tip}`;
}
