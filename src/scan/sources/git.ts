/**
 * Git sources: what a range of commits added, and every blob of a repository's history (each
 * blob once, attributed to the first commit that introduced it, parents before children; `scan()`
 * then reports one finding per secret and path with the count of its occurrences). Never checks
 * anything out.
 *
 * Security properties (a pushed repository is hostile input):
 * - Git's patch output is never parsed. The changes of each commit come from `git log --raw -z`
 *   (NUL-separated: a name can hold any byte, a line can hold `+++ /dev/null`); contents come
 *   from `git cat-file --batch` by blob id. So `.gitattributes` (`-diff`, `binary`, textconv),
 *   diff-looking lines, lone `\r` line endings and unusual names cannot hide an added line.
 * - A merge counts with everything it brings into the branch (its diff against the first
 *   parent), so a secret cannot ride in on a merge commit.
 * - In a range, the whole new blob is scanned (detectors see the context) and a finding is kept
 *   when it touches a line the range added. Added lines are counted as a multiset of line
 *   hashes, linear in the size of both blobs whatever their content.
 * - Blobs over the size limit are skipped by their header and never buffered. A big blob whose
 *   every line counts (history, a file the range adds) is streamed in chunks; otherwise memory
 *   holds one blob (two for a file a range modifies: old and new) at a time.
 * - Every git call goes through `src/git/run-git.ts` (no repository-configured command runs).
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { firstLine, gitMissing, runGit, spawnGit } from '../../git/run-git.js';
import { displayName } from '../display-name.js';
import { classifyContent } from './read-file.js';

/** Blobs over this are streamed when every line of them counts (the chunk scanner's window). */
const STREAM_OVER = 8 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export interface GitBlobUnit {
  /** Path in the repository as shown in findings (see `displayName`). */
  file: string;
  /** The blob's bytes: the new version of the file (range) or the blob (history). Empty when `stream` is set. */
  content: Buffer;
  /**
   * A big blob, streamed: read `chunks` to the end before asking for the next unit (they come
   * from the same git process). Memory holds one chunk, whatever the blob's size.
   */
  stream?: { size: number; chunks: AsyncGenerator<Buffer> };
  /**
   * Range only: 1-based lines of `content` that the range added, ascending. A finding is kept
   * when it touches one of them. Absent: every line counts (a new file, or a binary blob).
   */
  addedLines?: Uint32Array;
  commit: string;
  /** The commit is a merge: its findings repeat ones of the merged commits, which win. */
  merge?: boolean;
  author: string;
  authorEmail: string;
  date: string;
}

export interface GitSkip {
  file: string;
  commit: string;
  reason: 'too-large' | 'submodule' | 'unreadable';
  detail?: string;
  /** `too-large`: the blob's size in bytes. */
  size?: number;
}

export interface GitRange {
  /** Arguments for `git log`: `A..B`, `A...B`, or `X^!`. */
  args: string[];
  /** The revision whose settings judge the range: A, the merge base of A...B, or X's first parent. */
  base: string | undefined;
  /** The commit at the tip of the range. */
  head: string;
}

export async function assertGitRepo(repo: string): Promise<void> {
  const r = await runGit(repo, ['rev-parse', '--git-dir'], { maxStdout: 64 * 1024 });
  if (r.code !== 0) {
    throw new KeywardenError(ErrorCode.NOT_A_GIT_REPO, `${repo} is not inside a git repository. Run the git scan from a clone, or scan the tree without --git.`, {
      location: { file: repo },
    });
  }
}

/** The full commit id of a revision, or undefined when it names no commit. */
export async function revParseCommit(repo: string, rev: string): Promise<string | undefined> {
  const r = await runGit(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], { maxStdout: 1024 });
  const id = r.stdout.toString('utf8').trim();
  return r.code === 0 && /^[0-9a-f]{40,64}$/.test(id) ? id : undefined;
}

/** Checks `A..B` (or `A...B`, or a single revision meaning `rev^..rev`) and resolves its ends. */
export async function resolveRange(repo: string, range: string): Promise<GitRange> {
  await assertGitRepo(repo);
  if (range.startsWith('-')) throw badRange(range, 'a revision may not start with "-"');
  if (/[\0\n\r]/.test(range)) throw badRange(range.replace(/[\0-\x1f]/g, '?'), 'a revision may not contain control characters');
  const m = /^(.*?)(\.\.\.?)(.*)$/.exec(range);
  const revs = m ? [m[1] || 'HEAD', m[3] || 'HEAD'] : [range];
  const ids: string[] = [];
  for (const rev of revs) {
    if (rev.startsWith('-')) throw badRange(range, 'a revision may not start with "-"');
    const id = await revParseCommit(repo, rev);
    if (!id) throw badRange(range, `"${rev}" is not a commit in this repository`);
    ids.push(id);
  }
  if (!m) return { args: [`${ids[0]}^!`], base: await revParseCommit(repo, `${ids[0]}^1`), head: ids[0]! };
  if (m[2] === '...') {
    const r = await runGit(repo, ['merge-base', '--end-of-options', ids[0]!, ids[1]!], { maxStdout: 1024 });
    const base = r.code === 0 ? r.stdout.toString('utf8').trim() : '';
    return { args: [`${ids[0]}...${ids[1]}`], base: base || undefined, head: ids[1]! };
  }
  return { args: [`${ids[0]}..${ids[1]}`], base: ids[0], head: ids[1]! };
}

function badRange(range: string, why: string): KeywardenError {
  return new KeywardenError(ErrorCode.BAD_REVISION_RANGE, `Bad revision range "${range}": ${why}.`, {
    hint: 'Use A..B with two commits, branches or tags, for example main..HEAD.',
  });
}

/** Counts commits in a range (for the summary). */
export async function countCommits(repo: string, range: GitRange): Promise<number> {
  const r = await runGit(repo, ['rev-list', '--count', '--end-of-options', ...range.args, '--'], { maxStdout: 1024 });
  return r.code === 0 ? Number(r.stdout.toString('utf8').trim()) || 0 : 0;
}

/** One changed path of a raw listing (`git log --raw -z`, `git diff-index --raw -z`). */
export interface Change {
  oldMode: string;
  newMode: string;
  oldBlob: string;
  newBlob: string;
  status: string;
  path: Buffer;
}

/** The changes of one commit, or (`staged`) of the index against HEAD: then `commit` is empty. */
export interface CommitChanges {
  commit: string;
  parents: number;
  changes: Change[];
  /** The index, not a commit: there is no commit object to read an author from. */
  staged?: boolean;
}

const ZERO = /^0+$/;
const META = /^:([0-7]{6}) ([0-7]{6}) ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) ([A-Z])[0-9]*$/;
const HEADER = /^([0-9a-f]{40,64})((?: [0-9a-f]{40,64})*) ?$/;

/**
 * Runs `git log --raw -z` and yields each commit with its changed paths (as bytes). The stream
 * is NUL-separated and a path token is read only right after its metadata, so no name can be
 * taken for anything else.
 */
function logChanges(repo: string, logArgs: string[]): AsyncGenerator<CommitChanges> {
  return readRawChanges(repo, ['log', '--raw', '-z', '--no-abbrev', '--no-renames', '--no-ext-diff', '--no-textconv', '--format=%H %P', ...logArgs], null);
}

/**
 * Runs a git command that prints a raw NUL-separated listing (`log --raw -z`, or `diff-index
 * --raw -z` with `first` holding the changes, since it prints no commit headers) and yields each
 * commit with its changed paths. `indexFile`: the index git reads (`GIT_INDEX_FILE` of a hook).
 */
export async function* readRawChanges(repo: string, argv: string[], first: CommitChanges | null, options: { indexFile?: string } = {}): AsyncGenerator<CommitChanges> {
  const p = spawnGit(repo, argv, options.indexFile ? { indexFile: options.indexFile } : {});
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 16384) stderr += d.toString('utf8');
  });
  const exited = new Promise<number>((resolve, reject) => {
    p.on('error', (e) => reject(gitMissing(e)));
    p.on('close', (c) => resolve(c ?? 1));
  });
  let cur: CommitChanges | null = first;
  let pending: Omit<Change, 'path'> | null = null;
  for await (const token of nulTokens(p.stdout)) {
    if (pending) {
      cur?.changes.push({ ...pending, path: token });
      pending = null;
      continue;
    }
    let start = 0;
    while (start < token.length && token[start] === 10) start++;
    const text = token.toString('latin1', start);
    if (text === '') continue;
    const meta = META.exec(text);
    if (meta) {
      pending = { oldMode: meta[1]!, newMode: meta[2]!, oldBlob: meta[3]!, newBlob: meta[4]!, status: meta[5]! };
      continue;
    }
    const head = HEADER.exec(text);
    if (head) {
      if (cur) yield cur;
      cur = { commit: head[1]!, parents: head[2] ? head[2].trim().split(' ').length : 0, changes: [] };
      continue;
    }
    throw new KeywardenError(ErrorCode.GIT_FAILED, 'git log printed output Keywarden does not understand; the scan stopped rather than miss changes.', { fault: 'internal' });
  }
  if (cur) yield cur;
  const code = await exited;
  if (code !== 0) {
    if (/does not have any commits/.test(stderr)) return;
    throw new KeywardenError(ErrorCode.GIT_FAILED, `git ${argv[0] ?? ''} failed (exit ${code}): ${firstLine(stderr)}`, { fault: 'user' });
  }
}

/** Splits a stream on NUL bytes, yielding each token as its own copy. */
async function* nulTokens(stream: Readable): AsyncGenerator<Buffer> {
  let rest: Buffer[] = [];
  let restLen = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    for (let i = chunk.indexOf(0); i !== -1; i = chunk.indexOf(0, from)) {
      const piece = chunk.subarray(from, i);
      yield restLen ? Buffer.concat([...rest, piece]) : Buffer.from(piece);
      rest = [];
      restLen = 0;
      from = i + 1;
    }
    if (from < chunk.length) {
      rest.push(chunk.subarray(from));
      restLen += chunk.length - from;
      if (restLen > 1024 * 1024) throw new KeywardenError(ErrorCode.GIT_FAILED, 'git printed a path longer than 1 MiB.', { fault: 'user' });
    }
  }
  if (restLen) yield Buffer.concat(rest);
}

const isBlobMode = (mode: string): boolean => mode.startsWith('100') || mode === '120000';
const isSubmodule = (mode: string): boolean => mode === '160000';

export interface ReadRangeOptions {
  maxSize: number;
  onSkip: (s: GitSkip) => void;
}

/**
 * What a range brought in, one unit per (commit, changed file): the new blob with the lines the
 * commit added (merges against their first parent). Oldest commit first.
 */
export async function* readRange(repo: string, range: GitRange, options: ReadRangeOptions): AsyncGenerator<GitBlobUnit> {
  const commits: CommitChanges[] = [];
  for await (const c of logChanges(repo, ['--reverse', '--diff-merges=first-parent', '--diff-filter=AMT', '--end-of-options', ...range.args, '--'])) {
    if (c.changes.length) commits.push(c);
  }
  yield* readBlobs(repo, commits, options, 'range');
}

/**
 * Every blob reachable from any ref, once, with the first commit (oldest first) that added it.
 * Blobs over `maxSize` are reported through `onSkip` and never read.
 */
export async function* readHistory(repo: string, options: ReadRangeOptions & { onCommits: (n: number) => void }): AsyncGenerator<GitBlobUnit> {
  await assertGitRepo(repo);
  const seen = new Set<string>();
  const commits: CommitChanges[] = [];
  let count = 0;
  // Parents before children whatever the commit dates say, so "first" is the commit that brought it.
  for await (const c of logChanges(repo, ['--all', '--date-order', '--reverse', '--diff-merges=separate', '--diff-filter=AMT', '--'])) {
    count++;
    // Each blob (and each submodule commit) once, with the first commit that brought it.
    const fresh = c.changes.filter((ch) => {
      if (ZERO.test(ch.newBlob) || seen.has(ch.newBlob)) return false;
      seen.add(ch.newBlob);
      return true;
    });
    if (fresh.length) commits.push({ ...c, changes: fresh });
  }
  options.onCommits(count);
  yield* readBlobs(repo, commits, options, 'history');
}

interface Request {
  kind: 'commit' | 'old' | 'new';
  id: string;
}

/**
 * The blobs of listed changes through one `git cat-file --batch`, in order: `range` pairs each new
 * blob with the lines it adds to the old one, `history` yields every blob whole.
 */
export async function* readBlobs(repo: string, commits: CommitChanges[], options: ReadRangeOptions, mode: 'range' | 'history'): AsyncGenerator<GitBlobUnit> {
  if (commits.length === 0) return;
  const requests: Request[] = [];
  for (const c of commits) {
    if (!c.staged) requests.push({ kind: 'commit', id: c.commit });
    for (const ch of c.changes) {
      if (!isBlobMode(ch.newMode) || ZERO.test(ch.newBlob)) continue;
      if (mode === 'range' && ch.status !== 'A' && isBlobMode(ch.oldMode) && !ZERO.test(ch.oldBlob)) requests.push({ kind: 'old', id: ch.oldBlob });
      requests.push({ kind: 'new', id: ch.newBlob });
    }
  }
  const p = spawnGit(repo, ['cat-file', '--batch'], { stdin: true });
  const exited = new Promise<number>((resolve, reject) => {
    p.on('error', (e) => reject(gitMissing(e)));
    p.on('close', (c) => resolve(c ?? 1));
  });
  // Requests are fed as the reader drains, so the pipe never holds more than git's buffer.
  p.stdin.on('error', () => undefined);
  let fed = 0;
  const feed = (): void => {
    while (fed < requests.length) {
      const ok = p.stdin.write(`${requests[fed]!.id}\n`);
      fed++;
      if (!ok) {
        p.stdin.once('drain', feed);
        return;
      }
    }
    p.stdin.end();
  };
  feed();
  const reader = new ByteReader(p.stdout);
  // Reads the next object; undefined when it is missing or larger than `limit` (then skipped unread).
  // `streamOver`: an object larger than this is left in the reader (`streamed`) for the caller.
  const next = async (limit: number, streamOver = Infinity): Promise<{ bytes: Buffer | undefined; size: number; missing: boolean; streamed?: boolean }> => {
    const header = await reader.readLine(4096);
    if (header === null) throw new KeywardenError(ErrorCode.GIT_FAILED, 'git cat-file stopped early; the scan is incomplete.', { fault: 'internal' });
    const parts = header.toString('latin1').split(' ');
    if (parts[1] === 'missing' || parts.length < 3) return { bytes: undefined, size: 0, missing: true };
    const size = Number(parts[2]);
    if (!Number.isSafeInteger(size) || size < 0) throw new KeywardenError(ErrorCode.GIT_FAILED, 'git cat-file printed a bad object header.', { fault: 'internal' });
    if (size > limit) {
      await reader.skip(size + 1);
      return { bytes: undefined, size, missing: false };
    }
    if (size > streamOver) return { bytes: undefined, size, missing: false, streamed: true };
    const bytes = await reader.read(size);
    await reader.skip(1); // the newline after the object
    return { bytes, size, missing: false };
  };
  try {
    for (const c of commits) {
      const commitObject = c.staged ? undefined : await next(1024 * 1024);
      const who = commitObject?.bytes ? parseAuthor(commitObject.bytes) : { author: '', authorEmail: '', date: '' };
      for (const ch of c.changes) {
        const file = displayName(ch.path);
        if (isSubmodule(ch.newMode)) {
          options.onSkip({ file, commit: c.commit, reason: 'submodule' });
          continue;
        }
        if (!isBlobMode(ch.newMode) || ZERO.test(ch.newBlob)) continue;
        let old: Buffer | undefined;
        let oldKnown = mode === 'history' || ch.status === 'A' || !isBlobMode(ch.oldMode) || ZERO.test(ch.oldBlob);
        if (mode === 'range' && !oldKnown) {
          // The old blob only tells which lines are new; past the limit every line counts as new.
          const o = await next(options.maxSize);
          old = o.bytes;
          oldKnown = true;
        }
        // A big blob whose every line counts (history, a new file) is streamed, never held whole.
        const n = await next(options.maxSize, old === undefined ? STREAM_OVER : Infinity);
        if (n.streamed) {
          let left = n.size;
          const chunks = async function* (): AsyncGenerator<Buffer> {
            while (left > 0) {
              const c = await reader.chunk(left);
              if (!c) return;
              left -= c.length;
              yield c;
            }
          };
          const unit: GitBlobUnit = { file, content: EMPTY, stream: { size: n.size, chunks: chunks() }, commit: c.commit, ...who };
          if (mode === 'range' && c.parents > 1) unit.merge = true;
          yield unit;
          await reader.skip(left + 1); // what the consumer left, and the newline after the object
          continue;
        }
        if (n.missing) {
          options.onSkip({ file, commit: c.commit, reason: 'unreadable', detail: 'missing object' });
          continue;
        }
        if (!n.bytes) {
          options.onSkip({ file, commit: c.commit, reason: 'too-large', detail: String(n.size), size: n.size });
          continue;
        }
        const unit: GitBlobUnit = { file, content: n.bytes, commit: c.commit, ...who };
        if (mode === 'range' && c.parents > 1) unit.merge = true;
        if (old) {
          const added = addedLines(old, n.bytes);
          if (added) unit.addedLines = added;
        }
        yield unit;
      }
    }
  } finally {
    p.stdin.destroy();
    p.stdout.destroy();
    await exited.catch(() => undefined);
  }
}

/** Author name, email and ISO date from a raw commit object (never trusts a format string). */
function parseAuthor(commit: Buffer): { author: string; authorEmail: string; date: string } {
  const end = commit.indexOf('\n\n');
  const head = commit.toString('utf8', 0, end === -1 ? commit.length : end);
  const line = head.split('\n').find((l) => l.startsWith('author ')) ?? '';
  // Parsed from the right, in linear time: the name may hold any character, even '<' and '>'.
  const m = line.length > 4096 ? null : /^author ([^]*) <([^<>]*)> (\d{1,15}) ([+-])(\d\d)(\d\d)$/.exec(line);
  if (!m) return { author: '', authorEmail: '', date: '' };
  const offsetMin = (m[4] === '-' ? -1 : 1) * (Number(m[5]) * 60 + Number(m[6]));
  const local = new Date((Number(m[3]) + offsetMin * 60) * 1000);
  const iso = Number.isNaN(local.getTime()) ? '' : `${local.toISOString().slice(0, 19)}${m[4]}${m[5]}:${m[6]}`;
  return { author: m[1]!.trimEnd(), authorEmail: m[2]!, date: iso };
}

/** Lines of a blob up to this length are keys as they are; longer ones by their SHA-1 (V8 hashes long strings by length only). */
const SHORT_LINE = 4096;

function lineKey(b: Buffer, start: number, end: number): string {
  if (end - start <= SHORT_LINE) return b.toString('latin1', start, end);
  return `#${end - start}:${createHash('sha1').update(b.subarray(start, end)).digest('base64')}`;
}

/**
 * The 1-based lines of `next` that `prev` does not account for, counted as a multiset of lines
 * (a line that moved is not new; a line added twice is new once more than before). Linear in
 * both sizes. Undefined when `next` looks binary: then every finding in it counts.
 */
export function addedLines(prev: Buffer, next: Buffer): Uint32Array | undefined {
  // Line numbers of findings are raw `\n` lines only for text; for any other kind (UTF-16,
  // binary runs, archives) every finding of a changed blob counts.
  if (classifyContent(next) !== 'text') return undefined;
  const counts = new Map<string, number>();
  forEachLine(prev, (s, e) => {
    const k = lineKey(prev, s, e);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  });
  const out: number[] = [];
  let line = 0;
  forEachLine(next, (s, e) => {
    line++;
    const k = lineKey(next, s, e);
    const c = counts.get(k);
    if (c) counts.set(k, c - 1);
    else out.push(line);
  });
  return Uint32Array.from(out);
}

function forEachLine(b: Buffer, fn: (start: number, end: number) => void): void {
  let start = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, start)) {
    fn(start, i);
    start = i + 1;
  }
  if (start < b.length) fn(start, b.length);
}

/**
 * A pull reader over a byte stream in paused mode: reads exactly what is asked, and skips by
 * discarding chunk by chunk, so a 600 MB blob that is skipped never sits in memory.
 */
class ByteReader {
  private chunks: Buffer[] = [];
  private len = 0;
  private ended = false;
  private failed: unknown = null;
  private waiter: (() => void) | null = null;
  constructor(private readonly stream: Readable) {
    stream.on('readable', () => this.wake());
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
    stream.on('error', (e) => {
      this.failed = e;
      this.wake();
    });
  }
  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
  /** Pulls one more chunk; false at the end of the stream. */
  private async fill(): Promise<boolean> {
    for (;;) {
      if (this.failed) {
        if (this.failed instanceof KeywardenError) throw this.failed;
        throw new KeywardenError(ErrorCode.GIT_FAILED, 'Reading from git failed.', { cause: this.failed, fault: 'internal' });
      }
      const c = this.stream.read() as Buffer | null;
      if (c) {
        this.chunks.push(c);
        this.len += c.length;
        return true;
      }
      if (this.ended) return false;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
  /** Copies the first `n` buffered bytes into a buffer of its own (safe to transfer to a worker). */
  private take(n: number): Buffer {
    const out = Buffer.allocUnsafeSlow(n);
    let at = 0;
    while (at < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - at);
      c.copy(out, at, 0, k);
      at += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.len -= n;
    return out;
  }
  async readLine(max: number): Promise<Buffer | null> {
    let scanned = 0;
    for (;;) {
      let off = 0;
      for (const c of this.chunks) {
        if (off + c.length > scanned) {
          const i = c.indexOf(10, Math.max(0, scanned - off));
          if (i !== -1) {
            const line = this.take(off + i + 1);
            return line.subarray(0, line.length - 1);
          }
        }
        off += c.length;
      }
      scanned = this.len;
      if (this.len > max) throw new KeywardenError(ErrorCode.GIT_FAILED, 'git printed an overlong header line.', { fault: 'internal' });
      if (!(await this.fill())) return null;
    }
  }
  async read(n: number): Promise<Buffer> {
    while (this.len < n && (await this.fill()));
    return this.take(Math.min(n, this.len));
  }
  /** The next buffered bytes, at most `max` of them, as they came (no copy); null at the end. */
  async chunk(max: number): Promise<Buffer | null> {
    if (this.len === 0 && !(await this.fill())) return null;
    const c = this.chunks[0]!;
    const k = Math.min(c.length, max);
    if (k === c.length) this.chunks.shift();
    else this.chunks[0] = c.subarray(k);
    this.len -= k;
    return c.subarray(0, k);
  }
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.len === 0 && !(await this.fill())) return;
      const c = this.chunks[0]!;
      const k = Math.min(c.length, left);
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
      this.len -= k;
      left -= k;
    }
  }
}
