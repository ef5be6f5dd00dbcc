/**
 * One bare git repository on disk behind a fake GitHub repository: the helpers tests use to make
 * commits and move branches, and the reads the REST handlers answer from (compare, contents,
 * refs). Git runs only through the project's hardened `src/git/run-git.ts`: no system or global
 * config, hooks off. Commits are written as objects (`hash-object -t commit`), so their dates are
 * the fake's clock, strictly increasing, and no identity or environment is needed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runGit } from '../../../src/git/run-git.js';
import { readFileAt, type FileAtCommit } from '../../../src/scm/local-git.js';

export const ZERO_SHA = '0000000000000000000000000000000000000000';

/** A person in a commit. */
export interface GitPerson {
  name: string;
  email: string;
}

const SHA40 = /^[0-9a-f]{40}$/;

/** A commit as the compare and push payloads need it. */
export interface CommitInfo {
  sha: string;
  tree: string;
  parents: string[];
  author: GitPerson & { date: string };
  committer: GitPerson & { date: string };
  message: string;
}

/** `gh.commit` input. A file's value is its new content, or null to delete it. */
export interface CommitOptions {
  branch: string;
  files: Record<string, string | Uint8Array | null>;
  message?: string;
  /** The parent commit; default the branch tip (none for a new branch). `null`: a root commit. */
  parent?: string | null;
  author?: GitPerson;
}

export interface DirectoryEntry {
  name: string;
  type: 'file' | 'dir' | 'submodule';
  sha: string;
  size: number;
}

/** One changed file between two commits, in GitHub's `diff-entry` terms. */
export interface FileDiff {
  filename: string;
  previous_filename?: string;
  status: 'added' | 'removed' | 'modified' | 'renamed' | 'changed';
  additions: number;
  deletions: number;
  changes: number;
  /** The file's blob (the old blob for a removed file). */
  sha: string;
  /** From the first `@@` on; absent for a binary file, a pure rename or a patch over the limit. */
  patch?: string;
}

const DEFAULT_AUTHOR: GitPerson = { name: 'Octo Cat', email: 'octocat@users.noreply.localhost' };

export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';
}

function fail(args: readonly string[], stderr: string): never {
  throw new GitCommandError(`github-fake: git ${args.join(' ').slice(0, 200)} failed: ${stderr.trim().slice(0, 500)}`);
}

/** A clock in whole seconds that never repeats, so commits order by date as they were made. */
export function createCommitClock(): () => number {
  let last = 0;
  return () => (last = Math.max(Math.floor(Date.now() / 1000), last + 1));
}

export class BareRepo {
  constructor(
    readonly dir: string,
    private readonly scratch: string,
    private readonly clock: () => number,
  ) {}

  private async git(args: string[], options: Parameters<typeof runGit>[2] = {}): Promise<string> {
    const r = await runGit(this.dir, args, options);
    if (r.code !== 0) fail(args, r.stderr);
    return r.stdout.toString('utf8');
  }

  private async tryGit(args: string[]): Promise<string | undefined> {
    const r = await runGit(this.dir, args);
    return r.code === 0 ? r.stdout.toString('utf8') : undefined;
  }

  /** Creates the bare repository, pushable over smart HTTP. */
  static async init(dir: string, scratch: string, clock: () => number, defaultBranch: string): Promise<BareRepo> {
    const r = await runGit(path.dirname(dir), ['init', '-q', '--bare', `--initial-branch=${defaultBranch}`, dir]);
    if (r.code !== 0) fail(['init'], r.stderr);
    const repo = new BareRepo(dir, scratch, clock);
    await repo.git(['config', 'http.receivepack', 'true']);
    return repo;
  }

  // What a full sha (or two) answers never changes: commit objects are immutable. Kept per
  // repository, so a compare does not cost GitHub's CPU (here: the benchmark's) twice for the same.
  private readonly commitIds = new Set<string>();
  private readonly fixed = new Map<string, unknown>();
  private async memo<T>(key: string, fn: () => Promise<T>): Promise<T> {
    if (this.fixed.has(key)) return this.fixed.get(key) as T;
    const v = await fn();
    if (v !== undefined) this.fixed.set(key, v);
    return v;
  }

  /** The commit `rev` names (a sha, a branch, `refs/...`), or undefined. */
  async resolve(rev: string): Promise<string | undefined> {
    if (!rev || rev.startsWith('-')) return undefined;
    if (this.commitIds.has(rev)) return rev;
    const out = (await this.tryGit(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]))?.trim() || undefined;
    if (out && SHA40.test(rev) && out === rev) this.commitIds.add(rev);
    return out;
  }

  async branchTip(branch: string): Promise<string | undefined> {
    return this.resolve(`refs/heads/${branch}`);
  }

  /** Every branch and its tip. */
  async branches(): Promise<Record<string, string>> {
    const out = await this.git(['for-each-ref', '--format=%(refname:strip=2)%00%(objectname)', 'refs/heads/']);
    return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => l.split('\0') as [string, string]));
  }

  /** Every ref and its object (`refs/heads/main` → sha). */
  async refs(): Promise<Record<string, string>> {
    const out = await this.git(['for-each-ref', '--format=%(refname)%00%(objectname)']);
    return Object.fromEntries(out.split('\n').filter(Boolean).map((l) => l.split('\0') as [string, string]));
  }

  /** Moves `ref` to `sha` (no fast-forward check); with `old`, only if it still points there. */
  async setRef(ref: string, sha: string, old?: string): Promise<void> {
    await this.git(['update-ref', ref, sha, ...(old === undefined ? [] : [old])]);
  }

  async deleteRef(ref: string): Promise<void> {
    await this.git(['update-ref', '-d', ref]);
  }

  /** Writes blobs, a tree on top of the parent's and a commit; moves the branch to it. */
  async commit(options: CommitOptions): Promise<string> {
    const parent = options.parent === undefined ? await this.branchTip(options.branch) : options.parent;
    const work = mkdtempSync(path.join(this.scratch, 'commit-'));
    try {
      const indexFile = path.join(work, 'index');
      await this.git(parent ? ['read-tree', parent] : ['read-tree', '--empty'], { indexFile });
      const entries = Object.entries(options.files);
      const written = entries.filter(([, v]) => v !== null);
      const blobFiles = written.map(([, v], i) => {
        const f = path.join(work, `blob-${i}`);
        writeFileSync(f, v as string | Uint8Array);
        return f;
      });
      const shas = blobFiles.length ? (await this.git(['hash-object', '-w', '--no-filters', '--', ...blobFiles])).trim().split('\n') : [];
      const lines = entries.map(([p, v]) => (v === null ? `0 ${ZERO_SHA}\t${p}` : `100644 ${shas[written.findIndex(([q]) => q === p)]}\t${p}`));
      if (lines.length) await this.git(['update-index', '--index-info'], { indexFile, input: `${lines.join('\n')}\n` });
      const tree = (await this.git(['write-tree'], { indexFile })).trim();
      const who = options.author ?? DEFAULT_AUTHOR;
      const stamp = `${who.name} <${who.email}> ${this.clock()} +0000`;
      const parents = parent ? [`parent ${parent}`] : [];
      const object = [`tree ${tree}`, ...parents, `author ${stamp}`, `committer ${stamp}`, '', options.message ?? 'Update files', ''];
      const sha = (await this.git(['hash-object', '-t', 'commit', '-w', '--stdin'], { input: object.join('\n') })).trim();
      await this.setRef(`refs/heads/${options.branch}`, sha);
      this.commitIds.add(sha);
      return sha;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** A file at `rev`, or undefined. */
  async file(rev: string, filePath: string): Promise<FileAtCommit | undefined> {
    const commit = await this.resolve(rev);
    return commit ? readFileAt(this.dir, commit, filePath) : undefined;
  }

  /** The entries of the directory `dir` at `commit` ('' for the root), or undefined if it is not a directory. */
  async listDirectory(commit: string, dir: string): Promise<DirectoryEntry[] | undefined> {
    const out = await this.tryGit(['ls-tree', '-z', '-l', '--end-of-options', dir ? `${commit}:${dir}` : `${commit}^{tree}`]);
    if (out === undefined) return undefined;
    return out
      .split('\0')
      .filter(Boolean)
      .map((e) => {
        const m = /^\d{6} (\w+) ([0-9a-f]+) +(-|\d+)\t([\s\S]*)$/.exec(e)!;
        const type: DirectoryEntry['type'] = m[1] === 'tree' ? 'dir' : m[1] === 'commit' ? 'submodule' : 'file';
        return { name: m[4]!, type, sha: m[2]!, size: m[3] === '-' ? 0 : Number(m[3]) };
      });
  }

  async mergeBase(a: string, b: string): Promise<string | undefined> {
    const run = async (): Promise<string | undefined> => (await this.tryGit(['merge-base', a, b]))?.trim() || undefined;
    return SHA40.test(a) && SHA40.test(b) ? this.memo(`mb:${a}:${b}`, run) : run();
  }

  async isAncestor(a: string, b: string): Promise<boolean> {
    const r = await runGit(this.dir, ['merge-base', '--is-ancestor', a, b]);
    return r.code === 0;
  }

  async count(range: string): Promise<number> {
    return Number((await this.git(['rev-list', '--count', range])).trim());
  }

  /** Commits only `a` has and only `b` has (`a...b`), in one walk. */
  async countSides(a: string, b: string): Promise<{ left: number; right: number }> {
    const run = async (): Promise<{ left: number; right: number }> => {
      const [left, right] = (await this.git(['rev-list', '--left-right', '--count', `${a}...${b}`])).trim().split(/\s+/).map(Number);
      return { left: left ?? 0, right: right ?? 0 };
    };
    return SHA40.test(a) && SHA40.test(b) ? this.memo(`sides:${a}:${b}`, run) : run();
  }

  /** The commits `shas` name, each once, in the order given. */
  async commits(shas: string[]): Promise<CommitInfo[]> {
    const unique = [...new Set(shas)].filter((s) => !this.fixed.has(`commit:${s}`));
    if (unique.length) for (const c of await this.log(['--no-walk=unsorted', ...unique])) this.fixed.set(`commit:${c.sha}`, c);
    return shas.map((s) => this.fixed.get(`commit:${s}`) as CommitInfo);
  }

  /** Commits of `range` (`a..b`, or one sha for its history), oldest first. */
  async log(range: string[], max?: number): Promise<CommitInfo[]> {
    const fmt = '%H%x1f%T%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cn%x1f%ce%x1f%cI%x1f%B%x1e';
    const out = await this.git(['log', `--format=${fmt}`, ...(max === undefined ? [] : [`-n${max}`]), ...range, '--']);
    return out
      .split('\x1e')
      .map((r) => r.replace(/^\n/, ''))
      .filter(Boolean)
      .map((r) => {
        const [sha, tree, parents, an, ae, ad, cn, ce, cd, message] = r.split('\x1f') as [string, ...string[]];
        return {
          sha,
          tree: tree!,
          parents: parents ? parents.split(' ') : [],
          author: { name: an!, email: ae!, date: isoUtc(ad!) },
          committer: { name: cn!, email: ce!, date: isoUtc(cd!) },
          message: (message ?? '').replace(/\n+$/, ''),
        };
      })
      .reverse();
  }

  /** Paths a commit added, removed and modified against its first parent (for push payloads). */
  async changedPaths(commit: string): Promise<{ added: string[]; removed: string[]; modified: string[] }> {
    const out = await this.git(['diff-tree', '-r', '-z', '--no-commit-id', '--name-status', '--root', '-m', '--first-parent', commit]);
    const parts = out.split('\0').filter(Boolean);
    const res = { added: [] as string[], removed: [] as string[], modified: [] as string[] };
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const list = parts[i] === 'A' ? res.added : parts[i] === 'D' ? res.removed : res.modified;
      list.push(parts[i + 1]!);
    }
    return res;
  }

  /** The files that differ from `base` to `head` (renames found), with patches up to `patchBytes`. */
  async diff(base: string, head: string, patchBytes: number): Promise<FileDiff[]> {
    const common = ['--no-color', '--no-ext-diff', '--no-textconv', '-M', '--full-index'];
    const raw = (await this.git(['diff', '--raw', '-z', '--no-abbrev', ...common, base, head, '--'])).split('\0');
    const patch = await this.git(['diff', '-U3', ...common, base, head, '--'], { maxStdout: 512 * 1024 * 1024 });
    const sections = patch.split(/^(?=diff --git )/m).filter((s) => s.startsWith('diff --git '));
    const files: FileDiff[] = [];
    let n = 0;
    for (let i = 0; i < raw.length && raw[i]; ) {
      const [, , oldSha, newSha, code] = raw[i]!.slice(1).split(' ') as [string, string, string, string, string];
      const renamed = code.startsWith('R') || code.startsWith('C');
      const from = raw[i + 1]!;
      const to = renamed ? raw[i + 2]! : from;
      i += renamed ? 3 : 2;
      const stat = sectionStat(sections[n]);
      const hunks = sectionPatch(sections[n]);
      n++;
      const status = code[0] === 'A' ? 'added' : code[0] === 'D' ? 'removed' : renamed ? 'renamed' : code[0] === 'T' ? 'changed' : 'modified';
      const entry: FileDiff = {
        filename: to,
        status,
        additions: stat.additions,
        deletions: stat.deletions,
        changes: stat.additions + stat.deletions,
        sha: code[0] === 'D' ? oldSha : newSha,
      };
      if (renamed) entry.previous_filename = from;
      if (!stat.binary && hunks !== undefined && Buffer.byteLength(hunks) <= patchBytes) entry.patch = hunks;
      files.push(entry);
    }
    return files;
  }

  /** A merge of `head` into `base` as a new commit (a conflict throws). */
  async mergeCommit(base: string, head: string, message: string, author?: GitPerson): Promise<string> {
    const r = await runGit(this.dir, ['merge-tree', '--write-tree', '--no-messages', base, head]);
    if (r.code !== 0) fail(['merge-tree', base, head], r.code === 1 ? 'the branches conflict' : r.stderr);
    const tree = r.stdout.toString('utf8').split('\n')[0]!.trim();
    const who = author ?? DEFAULT_AUTHOR;
    const stamp = `${who.name} <${who.email}> ${this.clock()} +0000`;
    const object = [`tree ${tree}`, `parent ${base}`, `parent ${head}`, `author ${stamp}`, `committer ${stamp}`, '', message, ''];
    return (await this.git(['hash-object', '-t', 'commit', '-w', '--stdin'], { input: object.join('\n') })).trim();
  }
}

function isoUtc(iso: string): string {
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `--numstat -z` records: `a\td\tpath`, or for a rename `a\td\t` followed by two paths. */
/** Lines added and removed in one file's section of `git diff` (as `--numstat` counts them); binary files count none. */
function sectionStat(section: string | undefined): { additions: number; deletions: number; binary: boolean } {
  if (!section) return { additions: 0, deletions: 0, binary: false };
  const at = section.search(/^@@ /m);
  if (at < 0) return { additions: 0, deletions: 0, binary: /^(?:Binary files |GIT binary patch)/m.test(section) };
  let additions = 0;
  let deletions = 0;
  for (const line of section.slice(at).split('\n')) {
    if (line.startsWith('+')) additions++;
    else if (line.startsWith('-')) deletions++;
  }
  return { additions, deletions, binary: false };
}

/** The hunks of one file's section of `git diff`, without the trailing newline, as GitHub shows them. */
function sectionPatch(section: string | undefined): string | undefined {
  if (!section) return undefined;
  const at = section.search(/^@@ /m);
  if (at < 0) return undefined;
  return section.slice(at).replace(/\n$/, '');
}
