/**
 * Where policy files come from: a folder on disk, or a revision of a git repository. A policy
 * names other files (`extends:`), and a policy is hostile input, so a source reads only inside
 * itself.
 *
 * Security properties, both sources:
 * - a path is repository-relative POSIX: absolute paths, `..` that leaves the root, backslashes,
 *   NUL bytes and empty segments are refused before anything is read;
 * - only regular files of at most 1 MiB are read (never a FIFO, a device, a directory or a
 *   submodule), so a read is bounded in time and memory;
 * - the disk source resolves symlinks (every component, `realpath`) and refuses a target outside
 *   its root; the git source never follows a symlink entry (mode 120000): it refuses it;
 * - errors name the path and the reason, never the content of what was read.
 */
import { constants } from 'node:fs';
import { lstat, open, realpath } from 'node:fs/promises';
import { dirname, join, posix, sep } from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import { firstLine, runGit } from '../git/run-git.js';

export interface PolicySource {
  /** For messages: a folder, or `git:<rev>`. */
  readonly name: string;
  /** Reads a repository-relative POSIX path; undefined when it does not exist. Refuses any path outside the source. */
  read(relPath: string): Promise<string | undefined>;
}

/** Largest policy file a source reads. */
const MAX_POLICY_SOURCE_BYTES = 1024 * 1024;

/** Why a source refused a path (`details.reason` of a `KW_PATH_REFUSED` error). */
export type PathRefusal = 'absolute' | 'escape' | 'invalid' | 'symlink-escape' | 'symlink' | 'not-a-file' | 'submodule' | 'too-large';

function refuse(source: string, relPath: string, reason: PathRefusal, what: string): KeywardenError {
  const code = reason === 'too-large' ? ErrorCode.POLICY_TOO_LARGE : ErrorCode.PATH_REFUSED;
  return new KeywardenError(code, `${printable(relPath)} ${what}; only files inside ${source} are read.`, {
    fault: 'config',
    hint: reason === 'too-large' ? 'A key policy is a few kilobytes.' : 'Name policy files by paths relative to the policy that names them, inside the repository.',
    details: { reason, path: printable(relPath), source },
  });
}

/** A path as it may appear in a message: control characters escaped, length bounded. */
function printable(p: string): string {
  const s = p.length > 300 ? `${p.slice(0, 300)}…` : p;
  return JSON.stringify(s).slice(1, -1);
}

/**
 * Checks a repository-relative POSIX path and returns it normalized (`a/./b` → `a/b`), or throws
 * `KW_PATH_REFUSED`. Pure.
 */
export function normalizeSourcePath(relPath: string, source = 'the repository'): string {
  if (typeof relPath !== 'string' || relPath === '' || relPath.includes('\0')) throw refuse(source, String(relPath), 'invalid', 'is not a valid path');
  if (relPath.includes('\\')) throw refuse(source, relPath, 'invalid', 'contains a backslash (write paths with /)');
  if (relPath.startsWith('/') || /^[A-Za-z]:/.test(relPath)) throw refuse(source, relPath, 'absolute', 'is an absolute path');
  const norm = posix.normalize(relPath);
  if (norm === '..' || norm.startsWith('../')) throw refuse(source, relPath, 'escape', 'leaves the repository (`..`)');
  if (norm === '.' || norm.endsWith('/')) throw refuse(source, relPath, 'not-a-file', 'is a folder');
  return norm;
}

const inside = (root: string, p: string): boolean => p === root || p.startsWith(root.endsWith(sep) ? root : root + sep);

/**
 * Policy files from a folder. `root` is resolved with `realpath` once; every read resolves the
 * path's symlinks and refuses targets outside it.
 *
 * @example
 * const source = createDiskPolicySource('/path/to/repo');
 * const ast = await readPolicy('.github/keywarden.yml', { source });
 */
export function createDiskPolicySource(root: string): PolicySource {
  let realRoot: Promise<string> | undefined;
  const name = root;
  return {
    name,
    async read(relPath: string): Promise<string | undefined> {
      const rel = normalizeSourcePath(relPath, name);
      const top = await (realRoot ??= realpath(root).catch((e: unknown) => {
        throw new KeywardenError(ErrorCode.PATH_NOT_FOUND, `The policy folder ${name} does not exist.`, { hint: 'Pass an existing folder.', cause: e, location: { file: name } });
      }));
      const abs = join(top, ...rel.split('/'));
      let real: string;
      try {
        real = await realpath(abs);
      } catch (e) {
        if (!isMissing(e)) throw unreadable(name, rel, e);
        // Missing: say so only if what exists of the path is inside the root (no probing outside
        // through a symlinked folder), and a dangling symlink is not "missing".
        if (await lstat(abs).then(
          () => true,
          () => false,
        ))
          throw refuse(name, rel, 'symlink-escape', 'is a symlink to nothing');
        let dir = dirname(abs);
        for (;;) {
          const r = await realpath(dir).catch(() => undefined);
          if (r !== undefined) {
            if (!inside(top, r)) throw refuse(name, rel, 'symlink-escape', 'goes through a symlink out of the repository');
            return undefined;
          }
          if (dirname(dir) === dir) return undefined;
          dir = dirname(dir);
        }
      }
      if (!inside(top, real)) throw refuse(name, rel, 'symlink-escape', 'is a symlink to a file outside the repository');
      // O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the checked path is final.
      const handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW).catch((e: unknown) => {
        throw isMissing(e) ? refuse(name, rel, 'symlink-escape', 'changed while it was read') : unreadable(name, rel, e);
      });
      try {
        const st = await handle.stat();
        if (!st.isFile()) throw refuse(name, rel, 'not-a-file', 'is not a regular file');
        if (st.size > MAX_POLICY_SOURCE_BYTES) throw refuse(name, rel, 'too-large', `is ${st.size} bytes, more than ${MAX_POLICY_SOURCE_BYTES}`);
        const buf = Buffer.alloc(MAX_POLICY_SOURCE_BYTES + 1);
        let size = 0;
        for (;;) {
          const { bytesRead } = await handle.read(buf, size, buf.length - size, size);
          if (bytesRead === 0) break;
          size += bytesRead;
          if (size > MAX_POLICY_SOURCE_BYTES) throw refuse(name, rel, 'too-large', `is more than ${MAX_POLICY_SOURCE_BYTES} bytes`);
        }
        return buf.toString('utf8', 0, size);
      } finally {
        await handle.close();
      }
    },
  };
}

const isMissing = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

function unreadable(source: string, rel: string, e: unknown): KeywardenError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code ?? 'unknown';
  if (code === 'ELOOP') return refuse(source, rel, 'symlink-escape', 'is a symlink loop');
  return new KeywardenError(ErrorCode.FILE_UNREADABLE, `${printable(rel)} in ${source} could not be read (${code}).`, { fault: 'config', hint: 'Check the file permissions.', details: { path: printable(rel), source, errno: code } });
}

/**
 * Policy files of one revision of a git repository (the default branch's policy judges a push).
 * The revision is resolved to a tree once, so every read sees the same snapshot. Git runs through
 * the hardened runner (no configured command of the repository runs).
 *
 * @example
 * const source = createGitPolicySource('/path/to/repo', 'origin/main');
 * const ast = await readPolicy('.github/keywarden.yml', { source });
 */
export function createGitPolicySource(repo: string, rev: string): GitPolicySource {
  const name = `git:${rev}`;
  let tree: Promise<string> | undefined;
  const resolveTree = async (): Promise<string> => {
    if (rev === '' || rev.startsWith('-') || /[\0\s]/.test(rev))
      throw new KeywardenError(ErrorCode.BAD_REVISION_RANGE, `${printable(rev)} is not a revision.`, { hint: 'Pass a branch, tag or commit id.' });
    const r = await runGit(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{tree}`], { maxStdout: 4096 });
    const oid = r.stdout.toString('utf8').trim();
    if (r.code !== 0 || !/^[0-9a-f]{40,64}$/.test(oid))
      throw new KeywardenError(ErrorCode.BAD_REVISION_RANGE, `The revision ${printable(rev)} does not exist in ${repo}.`, {
        hint: 'Pass a branch, tag or commit id that the repository has.',
        details: { rev: printable(rev), ...(r.stderr ? { git: firstLine(r.stderr) } : {}) },
      });
    return oid;
  };
  // Tree entries looked up so far: null when the tree has none at that path.
  const entries = new Map<string, { mode: string; type: string; object: string; size: string } | null>();
  const lookUp = async (rels: readonly string[]): Promise<void> => {
    let want = [...new Set(rels)].filter((r) => !entries.has(r));
    // A path that is a folder of another asked for is not listed once git descends into it: such
    // a path is looked up on its own.
    if (want.length > 1) want = want.filter((r) => !want.some((o) => o.startsWith(`${r}/`)));
    if (!want.length) return;
    const oid = await (tree ??= resolveTree());
    const ls = await runGit(repo, ['ls-tree', '-z', '--full-tree', '-l', '--end-of-options', oid, '--', ...want], { maxStdout: 1024 * 1024 });
    if (ls.code !== 0) throw new KeywardenError(ErrorCode.GIT_FAILED, `git ls-tree failed for ${printable(want[0]!)}${want.length > 1 ? ` and ${want.length - 1} more` : ''} in ${name}: ${firstLine(ls.stderr)}`, { fault: 'internal' });
    // `<mode> SP <type> SP <object> SP+ <size> TAB <path> NUL`; a path through a symlinked or
    // missing folder has no entry (trees never follow symlinks). Only exact paths count.
    const wanted = new Set(want);
    for (const e of ls.stdout.toString('utf8').split('\0')) {
      const m = /^(\d{6}) (\w+) ([0-9a-f]+) +(-|\d+)\t([\s\S]*)$/.exec(e);
      if (m && wanted.has(m[5]!)) entries.set(m[5]!, { mode: m[1]!, type: m[2]!, object: m[3]!, size: m[4]! });
    }
    for (const r of want) if (!entries.has(r)) entries.set(r, null);
  };
  return {
    name,
    async prefetch(relPaths: readonly string[]): Promise<void> {
      const rels: string[] = [];
      for (const p of relPaths) {
        try {
          rels.push(normalizeSourcePath(p, name));
        } catch {
          // Refused again, with its reason, when it is read.
        }
      }
      await lookUp(rels);
    },
    async read(relPath: string): Promise<string | undefined> {
      const rel = normalizeSourcePath(relPath, name);
      if (!entries.has(rel)) await lookUp([rel]);
      const entry = entries.get(rel);
      if (!entry) return undefined;
      const { mode, type, object, size } = entry;
      if (mode === '120000') throw refuse(name, rel, 'symlink', 'is a symlink in the tree (symlinks are not followed)');
      if (mode === '160000' || type === 'commit') throw refuse(name, rel, 'submodule', 'is a submodule');
      if (type !== 'blob') throw refuse(name, rel, 'not-a-file', 'is a folder');
      if (Number(size) > MAX_POLICY_SOURCE_BYTES) throw refuse(name, rel, 'too-large', `is ${size} bytes, more than ${MAX_POLICY_SOURCE_BYTES}`);
      const blob = await runGit(repo, ['cat-file', 'blob', object], { maxStdout: MAX_POLICY_SOURCE_BYTES });
      if (blob.code !== 0) throw new KeywardenError(ErrorCode.GIT_FAILED, `git cat-file failed for ${printable(rel)} in ${name}: ${firstLine(blob.stderr)}`, { fault: 'internal' });
      return blob.stdout.toString('utf8');
    },
  };
}

/** A revision's files; `prefetch` looks many paths up in one git run (a missing one then costs nothing more). */
export interface GitPolicySource extends PolicySource {
  prefetch(relPaths: readonly string[]): Promise<void>;
}
