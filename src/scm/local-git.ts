/**
 * The SCM port's local implementation: a git repository on disk. Reads files at a commit and
 * writes a commit on a new branch **without touching the work tree, the index or the current
 * branch**: blobs go in with `hash-object -w`, the tree is built in a temporary index file,
 * `commit-tree` makes the commit and `update-ref` creates the branch only if it does not exist
 * (old value: zeros). So a user's uncommitted changes can never be lost, and a repository's
 * hooks never run (git runs only through `git/run-git.ts`, hooks off).
 */
import { isUtf8 } from 'node:buffer';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import { firstLine, gitMissing, runGit } from '../git/run-git.js';
import { displayName } from '../scan/display-name.js';

export interface FileAtCommit {
  data: Buffer;
  /** `100644`, `100755`, `120000` (symlink). */
  mode: string;
  oid: string;
}

export type FileChange = { path: string; content: string; mode?: string } | { path: string; delete: true };

export interface CommitResult {
  commit: string;
  branch: string;
  /** The branch already pointed at an identical commit (a re-run). */
  replayed: boolean;
}

const ZERO = '0000000000000000000000000000000000000000';
const IDENTITY = ['-c', 'user.name=Keywarden', '-c', 'user.email=keywarden@users.noreply.localhost'];

function failed(what: string, stderr: string): KeywardenError {
  return new KeywardenError(ErrorCode.GIT_FAILED, `git could not ${what}: ${firstLine(stderr) || 'no message'}.`, { fault: 'backend' });
}

async function git(repo: string, args: string[], options: Parameters<typeof runGit>[2] = {}): Promise<string> {
  let r;
  try {
    r = await runGit(repo, args, options);
  } catch (e) {
    if (e instanceof KeywardenError) throw e;
    throw gitMissing(e);
  }
  if (r.code !== 0) throw failed(args[0] === '-c' ? args[args.indexOf('commit-tree')] ?? 'commit' : args[0]!, r.stderr);
  return r.stdout.toString('utf8');
}

/** The commit HEAD points at, or undefined in a repository without commits. */
export async function headCommit(repo: string): Promise<string | undefined> {
  const r = await runGit(repo, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
}

/** The branch HEAD is on, or undefined when detached. */
export async function currentBranch(repo: string): Promise<string | undefined> {
  const r = await runGit(repo, ['symbolic-ref', '--quiet', '--short', 'HEAD']);
  return r.code === 0 ? r.stdout.toString('utf8').trim() || undefined : undefined;
}

/** A file as recorded in `commit`, or undefined when the commit has no such file. */
export async function readFileAt(repo: string, commit: string, file: string, maxBytes = 64 * 1024 * 1024): Promise<FileAtCommit | undefined> {
  const ls = await git(repo, ['ls-tree', '-z', '--full-tree', commit, '--', file]);
  const entry = ls.split('\0').find(Boolean);
  if (!entry) return undefined;
  const m = /^(\d{6}) (blob) ([0-9a-f]{40,64})\t([\s\S]*)$/.exec(entry);
  if (!m || m[4] !== file) return undefined;
  const r = await runGit(repo, ['cat-file', 'blob', m[3]!], { maxStdout: maxBytes });
  if (r.code !== 0) throw failed('read a file', r.stderr);
  return { data: r.stdout, mode: m[1]!, oid: m[3]! };
}

/** Tracked text files at `commit` that contain `needle` literally (for references to a replaced key). */
export async function filesContaining(repo: string, commit: string, needle: string): Promise<string[]> {
  if (!needle || needle.includes('\n')) return [];
  const r = await runGit(repo, ['grep', '-z', '-l', '-I', '-F', '-e', needle, commit, '--']);
  if (r.code === 1) return [];
  if (r.code !== 0) throw failed('search the repository', r.stderr);
  const prefix = `${commit}:`;
  return r.stdout
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .map((s) => (s.startsWith(prefix) ? s.slice(prefix.length) : s));
}

async function branchTip(repo: string, branch: string): Promise<string | undefined> {
  const r = await runGit(repo, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`]);
  return r.code === 0 ? r.stdout.toString('utf8').trim() : undefined;
}

/**
 * Commits `changes` on top of `base` and points a new branch at it. When `branch` exists already:
 * if its tip has the same tree and parent, that commit is returned (`replayed`); otherwise
 * `-2`, `-3`, … is appended, so no branch is ever moved.
 */
export async function commitOnNewBranch(repo: string, input: { base: string; branch: string; message: string; changes: FileChange[] }): Promise<CommitResult> {
  const check = await runGit(repo, ['check-ref-format', '--branch', input.branch]);
  if (check.code !== 0) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, `"${input.branch}" is not a valid branch name.`, { fault: 'user' });
  const dir = mkdtempSync(path.join(tmpdir(), 'kw-index-'));
  const indexFile = path.join(dir, 'index');
  try {
    await git(repo, ['read-tree', input.base], { indexFile });
    for (const c of input.changes) {
      if ('delete' in c) {
        await git(repo, ['update-index', '--force-remove', '--', c.path], { indexFile });
        continue;
      }
      const oid = (await git(repo, ['hash-object', '-w', '--stdin'], { input: c.content })).trim();
      await git(repo, ['update-index', '--add', '--cacheinfo', `${c.mode ?? '100644'},${oid},${c.path}`], { indexFile });
    }
    const tree = (await git(repo, ['write-tree'], { indexFile })).trim();
    const baseTree = (await git(repo, ['rev-parse', `${input.base}^{tree}`])).trim();
    if (tree === baseTree) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'The remediation changes nothing in the repository.', { fault: 'user' });
    for (let n = 1; n < 100; n++) {
      const branch = n === 1 ? input.branch : `${input.branch}-${n}`;
      const tip = await branchTip(repo, branch);
      if (tip) {
        const same = (await git(repo, ['rev-parse', `${tip}^{tree}`, `${tip}^`])).trim().split('\n');
        if (same[0] === tree && same[1] === input.base) return { commit: tip, branch, replayed: true };
        continue;
      }
      const commit = (await git(repo, [...IDENTITY, 'commit-tree', tree, '-p', input.base, '-F', '-'], { input: input.message })).trim();
      const r = await runGit(repo, ['update-ref', '-m', 'keywarden: remediation branch', `refs/heads/${branch}`, commit, ZERO]);
      if (r.code === 0) return { commit, branch, replayed: false };
      // Another run created the branch in between: look again.
      if (!(await branchTip(repo, branch))) throw failed('create the branch', r.stderr);
    }
    throw new KeywardenError(ErrorCode.GIT_FAILED, `Too many remediation branches named ${input.branch}-N exist; delete old ones.`, { fault: 'user' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface TreeFiles {
  /** Every file path at the commit (blobs and symlinks; submodules left out). */
  paths: string[];
  /** The selected regular files' texts (UTF-8), in tree order. */
  files: Array<{ path: string; text: string }>;
  /** Selected files larger than `maxBytes`: not read. */
  tooLarge: string[];
  /** Selected files not read: symlinks, names that are not UTF-8, past `maxFiles` or past `maxTotalBytes`. */
  skipped: number;
  /** Their paths (the first 10,000). */
  skippedPaths: string[];
  /** Of those, the names that are not UTF-8 (shown as `displayName` does; git tools may still read them). */
  badNames: string[];
}

/**
 * The files of `commit` that `select` picks, read in one `git cat-file --batch` (never through a
 * symlink: only regular blobs are read). Names that are not UTF-8 are shown as `displayName` does
 * and are not read: a selected one is counted in `skipped` and listed in `badNames`. Bounded: at most `maxFiles` files of at most `maxBytes` each and
 * `maxTotalBytes` in all; the listing itself at most 256 MiB.
 */
export async function readTreeFiles(repo: string, commit: string, options: { select: (path: string) => boolean; maxBytes: number; maxFiles: number; maxTotalBytes?: number }): Promise<TreeFiles> {
  if (!/^[0-9a-f]{40,64}$/.test(commit)) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A commit id was expected.', { fault: 'internal' });
  const ls = await runGit(repo, ['ls-tree', '-r', '-z', '-l', '--full-tree', '--end-of-options', commit], { maxStdout: 256 * 1024 * 1024 });
  if (ls.code !== 0) throw failed('list the files of a commit', ls.stderr);
  const out: TreeFiles = { paths: [], files: [], tooLarge: [], skipped: 0, skippedPaths: [], badNames: [] };
  const skip = (name: string): void => {
    out.skipped++;
    if (out.skippedPaths.length < 10_000) out.skippedPaths.push(name);
  };
  const wanted: Array<{ path: string; oid: string }> = [];
  const maxTotal = options.maxTotalBytes ?? 128 * 1024 * 1024;
  let total = 0;
  const raw = ls.stdout;
  let at = 0;
  while (at < raw.length) {
    let end = raw.indexOf(0, at);
    if (end < 0) end = raw.length;
    const tab = raw.indexOf(9, at);
    if (tab < 0 || tab > end) break;
    // `<mode> <type> <oid> <size, right-aligned>\t<path>`
    const [mode, type, oid, size] = raw.toString('latin1', at, tab).trim().split(/ +/);
    const nameBytes = raw.subarray(tab + 1, end);
    at = end + 1;
    if (type !== 'blob' || !mode || !oid) continue;
    const name = displayName(nameBytes);
    out.paths.push(name);
    if (!options.select(name)) continue;
    if (!isUtf8(nameBytes)) {
      if (out.badNames.length < 10_000) out.badNames.push(name);
      skip(name);
      continue;
    }
    if (mode !== '100644' && mode !== '100755') {
      skip(name);
      continue;
    }
    const bytes = Number(size);
    if (!Number.isSafeInteger(bytes) || bytes > options.maxBytes) {
      out.tooLarge.push(name);
      continue;
    }
    if (wanted.length >= options.maxFiles || total + bytes > maxTotal) {
      skip(name);
      continue;
    }
    total += bytes;
    wanted.push({ path: name, oid });
  }
  if (wanted.length === 0) return out;
  const batch = await runGit(repo, ['cat-file', '--batch'], { input: wanted.map((w) => `${w.oid}\n`).join(''), maxStdout: total + wanted.length * 128 + 1024 });
  if (batch.code !== 0) throw failed('read the files of a commit', batch.stderr);
  const b = batch.stdout;
  let p = 0;
  for (const w of wanted) {
    const nl = b.indexOf(10, p);
    if (nl < 0) throw failed('read the files of a commit', 'cat-file stopped early');
    const header = b.toString('latin1', p, nl).split(' ');
    p = nl + 1;
    if (header[1] === 'missing' || header.length < 3) {
      skip(w.path);
      continue;
    }
    const n = Number(header[2]);
    if (!Number.isSafeInteger(n) || n < 0 || p + n > b.length) throw failed('read the files of a commit', 'cat-file printed a bad object header');
    out.files.push({ path: w.path, text: b.toString('utf8', p, p + n) });
    p += n + 1;
  }
  return out;
}
