/**
 * The staged source: what the index adds against HEAD (against the empty tree in a repository
 * with no commit yet), the content a `git commit` is about to record. Never reads the work tree.
 *
 * Security properties (the same as a range's, see git.ts):
 * - the changed paths come from `git diff-index --cached --raw -z` (NUL-separated, names as bytes,
 *   no patch parsed), the contents from one `git cat-file --batch` by blob id, so attributes,
 *   textconv, diff drivers and names cannot hide an added line;
 * - a finding is kept when it touches a line the index adds (a multiset of lines against the
 *   HEAD blob); a new file, a binary blob and (with `--no-renames`) a renamed file count whole;
 * - big blobs are skipped by their header or streamed; every git call goes through run-git.ts.
 * - `indexFile` is the index git named in `GIT_INDEX_FILE` for a hook (`git commit -a` and
 *   `git commit <paths>` stage into a temporary index): without it such a commit would be judged
 *   by the old index.
 */
import { isAbsolute, resolve } from 'node:path';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { firstLine, runGit } from '../../git/run-git.js';
import { assertGitRepo, readBlobs, readRawChanges, revParseCommit, type CommitChanges, type GitBlobUnit, type ReadRangeOptions } from './git.js';

export interface StagedBase {
  /** HEAD's commit id; undefined in a repository with no commit yet. */
  head: string | undefined;
  /** The tree the index is compared with: HEAD's, or the empty tree. */
  tree: string;
}

export interface StagedOptions extends ReadRangeOptions {
  /** The index to read (absolute, or relative to `repo`); default the repository's own. */
  indexFile?: string;
}

/** HEAD (or the empty tree, in the object format of the repository) that staged changes are judged against. */
export async function resolveStagedBase(repo: string): Promise<StagedBase> {
  await assertGitRepo(repo);
  const head = await revParseCommit(repo, 'HEAD');
  if (head) {
    const r = await runGit(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${head}^{tree}`], { maxStdout: 1024 });
    const tree = r.stdout.toString('utf8').trim();
    if (r.code === 0 && /^[0-9a-f]{40,64}$/.test(tree)) return { head, tree };
    throw new KeywardenError(ErrorCode.GIT_FAILED, `git could not read HEAD's tree: ${firstLine(r.stderr)}`, { fault: 'user' });
  }
  // Hashing nothing as a tree gives the empty tree's id in this repository's object format (git
  // knows that object without it being stored); nothing is written.
  const r = await runGit(repo, ['hash-object', '-t', 'tree', '--stdin'], { maxStdout: 1024, input: '' });
  const tree = r.stdout.toString('utf8').trim();
  if (r.code !== 0 || !/^[0-9a-f]{40,64}$/.test(tree)) throw new KeywardenError(ErrorCode.GIT_FAILED, `git could not name the empty tree: ${firstLine(r.stderr)}`, { fault: 'user' });
  return { head: undefined, tree };
}

/** The index file as git run-git passes it: absolute. */
function stagedIndexFile(repo: string, indexFile: string | undefined): { indexFile?: string } {
  if (indexFile === undefined || indexFile === '') return {};
  return { indexFile: isAbsolute(indexFile) ? indexFile : resolve(repo, indexFile) };
}

function diffIndexArgs(tree: string, extra: string[]): string[] {
  return ['diff-index', '--cached', '-z', '--no-abbrev', '--no-renames', '--no-ext-diff', '--no-textconv', ...extra, tree, '--'];
}

/**
 * What the index adds against HEAD, one unit per added or modified file: the staged blob, with
 * the lines it adds to HEAD's version. Units carry no commit (`commit` is empty).
 *
 * @example
 * for await (const u of readStaged('.', { maxSize: 50 << 20, onSkip: console.warn })) console.log(u.file);
 */
export async function* readStaged(repo: string, options: StagedOptions, base?: StagedBase): AsyncGenerator<GitBlobUnit> {
  const { tree } = base ?? (await resolveStagedBase(repo));
  const index = stagedIndexFile(repo, options.indexFile);
  // One parent: not a merge; each file is judged by the lines it adds, like a range's.
  const staged: CommitChanges = { commit: '', parents: 1, changes: [], staged: true };
  // diff-index prints no header: every change lands in `staged`.
  for await (const c of readRawChanges(repo, diffIndexArgs(tree, ['--raw', '--diff-filter=AMT']), staged, index)) void c;
  if (staged.changes.length === 0) return;
  yield* readBlobs(repo, [staged], { maxSize: options.maxSize, onSkip: options.onSkip }, 'range');
}

/**
 * Which of `paths` (repository-relative POSIX) the index changes against `base` in any way:
 * added, modified, deleted, or its type changed. For settings files the staged changes must not
 * switch on or off.
 */
export async function stagedChangedPaths(repo: string, base: StagedBase, paths: readonly string[], options: { indexFile?: string } = {}): Promise<Set<string>> {
  const out = new Set<string>();
  if (paths.length === 0) return out;
  // run-git passes --literal-pathspecs: each path is matched as it is, never as a glob.
  const r = await runGit(repo, [...diffIndexArgs(base.tree, ['--name-only']), ...paths], { maxStdout: 1024 * 1024, ...stagedIndexFile(repo, options.indexFile) });
  if (r.code !== 0) throw new KeywardenError(ErrorCode.GIT_FAILED, `git diff-index failed: ${firstLine(r.stderr)}`, { fault: 'user' });
  const wanted = new Set(paths);
  for (const name of r.stdout.toString('utf8').split('\0')) if (wanted.has(name)) out.add(name);
  return out;
}
