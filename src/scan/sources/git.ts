/**
 * Git sources: the lines a range of commits added, and every blob of a repository's history
 * (each blob once, attributed to the first commit that introduced it). Reads git's own
 * plumbing output; never checks anything out.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ErrorCode, KeywardenError } from '../../errors.js';

export interface GitBlobUnit {
  /** Path in the repository, forward slashes. */
  file: string;
  /** The text to scan: added lines joined by `\n` (range) or the whole blob (history). */
  content: Buffer;
  /** For added lines: 0-based index in `content` → 1-based line in the new file. */
  lineMap?: Int32Array;
  commit: string;
  author: string;
  authorEmail: string;
  date: string;
}

export interface GitSkip {
  file: string;
  commit: string;
  reason: 'binary' | 'too-large';
}

function runGit(repo: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('git', ['-C', repo, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', (e) =>
      reject(new KeywardenError(ErrorCode.GIT_FAILED, 'Could not run git. Install git and make sure it is on PATH.', { cause: e })),
    );
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

export async function assertGitRepo(repo: string): Promise<void> {
  const r = await runGit(repo, ['rev-parse', '--git-dir']);
  if (r.code !== 0) {
    throw new KeywardenError(ErrorCode.NOT_A_GIT_REPO, `${repo} is not inside a git repository. Run the git scan from a clone, or scan the tree without --git.`, {
      location: { file: repo },
    });
  }
}

/** Checks `A..B` (or `A...B`, or a single revision meaning `rev^..rev`) and returns git's range arguments. */
export async function resolveRange(repo: string, range: string): Promise<string[]> {
  await assertGitRepo(repo);
  if (range.startsWith('-')) throw badRange(range, 'a revision may not start with "-"');
  const m = /^(.*?)(\.\.\.?)(.*)$/.exec(range);
  const revs = m ? [m[1] || 'HEAD', m[3] || 'HEAD'] : [range];
  for (const rev of revs) {
    const r = await runGit(repo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]);
    if (r.code !== 0) throw badRange(range, `"${rev}" is not a commit in this repository`);
  }
  if (!m) return [`${range}^!`];
  return [`${revs[0]}${m[2]}${revs[1]}`];
}

function badRange(range: string, why: string): KeywardenError {
  return new KeywardenError(ErrorCode.BAD_REVISION_RANGE, `Bad revision range "${range}": ${why}.`, {
    hint: 'Use A..B with two commits, branches or tags, for example main..HEAD.',
  });
}

const COMMIT_MARK = '\x01';
const FIELD_SEP = '\x02';

/**
 * The lines added in a range, one unit per (commit, file). Consecutive added lines of a file
 * are joined so multi-line secrets (PEM blocks) stay whole.
 */
export async function* readAddedLines(repo: string, rangeArgs: string[], onSkip: (s: GitSkip) => void): AsyncGenerator<GitBlobUnit> {
  const p = spawn(
    'git',
    ['-C', repo, '-c', 'core.quotePath=false', 'log', '-p', '-U0', '--no-color', '--no-ext-diff', '--no-renames', '--diff-filter=AMT', `--format=${COMMIT_MARK}%H${FIELD_SEP}%an${FIELD_SEP}%ae${FIELD_SEP}%aI`, ...rangeArgs, '--'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => p.on('close', (c) => resolve(c ?? 1)));
  const rl = createInterface({ input: p.stdout, crlfDelay: Infinity });

  let commit = '';
  let author = '';
  let authorEmail = '';
  let date = '';
  let file: string | null = null;
  let lines: string[] = [];
  let map: number[] = [];
  let newLine = 0;

  const flush = (): GitBlobUnit | null => {
    if (file === null || lines.length === 0) {
      lines = [];
      map = [];
      return null;
    }
    const unit: GitBlobUnit = {
      file,
      content: Buffer.from(lines.join('\n'), 'utf8'),
      lineMap: Int32Array.from(map),
      commit,
      author,
      authorEmail,
      date,
    };
    lines = [];
    map = [];
    return unit;
  };

  for await (const line of rl) {
    if (line.startsWith(COMMIT_MARK)) {
      const u = flush();
      if (u) yield u;
      [commit = '', author = '', authorEmail = '', date = ''] = line.slice(1).split(FIELD_SEP);
      file = null;
      continue;
    }
    if (line.startsWith('diff --git ')) {
      const u = flush();
      if (u) yield u;
      file = null;
      continue;
    }
    if (line.startsWith('+++ ')) {
      const target = line.slice(4);
      file = target === '/dev/null' ? null : unquote(target).replace(/^b\//, '');
      continue;
    }
    if (line.startsWith('Binary files ')) {
      const m = / and b\/(.*) differ$/.exec(line);
      if (m) onSkip({ file: unquote(m[1]!), commit, reason: 'binary' });
      continue;
    }
    if (line.startsWith('@@')) {
      const m = /^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(line);
      newLine = m ? Number(m[1]) : 0;
      continue;
    }
    if (file !== null && line.startsWith('+')) {
      lines.push(line.slice(1));
      map.push(newLine++);
    }
  }
  const u = flush();
  if (u) yield u;
  const code = await exited;
  if (code !== 0) {
    throw new KeywardenError(ErrorCode.GIT_FAILED, `git log failed (exit ${code}): ${firstLine(stderr)}`, { fault: 'user' });
  }
}

/** Counts commits in a range (for the summary). */
export async function countCommits(repo: string, rangeArgs: string[]): Promise<number> {
  const r = await runGit(repo, ['rev-list', '--count', ...rangeArgs]);
  return r.code === 0 ? Number(r.stdout.trim()) || 0 : 0;
}

interface BlobRef {
  blob: string;
  file: string;
  commit: string;
  author: string;
  authorEmail: string;
  date: string;
}

/**
 * Every blob reachable from any ref, once, with the first commit (oldest first) that added it.
 * Blobs over `maxSize` are reported through `onSkip` and never read.
 */
export async function* readHistory(
  repo: string,
  maxSize: number,
  onSkip: (s: GitSkip) => void,
  onCommits: (n: number) => void,
): AsyncGenerator<GitBlobUnit> {
  await assertGitRepo(repo);
  const refs: BlobRef[] = [];
  const seen = new Set<string>();
  const p = spawn(
    'git',
    ['-C', repo, '-c', 'core.quotePath=false', 'log', '--all', '--reverse', '--raw', '-m', '--no-abbrev', '--no-renames', '--diff-filter=AMT', `--format=${COMMIT_MARK}%H${FIELD_SEP}%an${FIELD_SEP}%ae${FIELD_SEP}%aI`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => p.on('close', (c) => resolve(c ?? 1)));
  let cur = { commit: '', author: '', authorEmail: '', date: '' };
  const commitSet = new Set<string>();
  for await (const line of createInterface({ input: p.stdout, crlfDelay: Infinity })) {
    if (line.startsWith(COMMIT_MARK)) {
      const [commit = '', author = '', authorEmail = '', date = ''] = line.slice(1).split(FIELD_SEP);
      cur = { commit, author, authorEmail, date };
      commitSet.add(commit);
      continue;
    }
    if (!line.startsWith(':')) continue;
    // :100644 100644 <old> <new> M\tpath
    const tab = line.indexOf('\t');
    const meta = line.slice(1, tab).split(' ');
    const mode = meta[1] ?? '';
    const blob = meta[3] ?? '';
    if (!mode.startsWith('100') && !mode.startsWith('120')) continue; // files and symlinks; not submodules
    if (seen.has(blob) || /^0+$/.test(blob)) continue;
    seen.add(blob);
    refs.push({ blob, file: unquote(line.slice(tab + 1)), ...cur });
  }
  const code = await exited;
  if (code !== 0) {
    // An empty repository has no history: not an error.
    if (/does not have any commits/.test(stderr)) return;
    throw new KeywardenError(ErrorCode.GIT_FAILED, `git log failed (exit ${code}): ${firstLine(stderr)}`, { fault: 'user' });
  }
  onCommits(commitSet.size);
  yield* catBlobs(repo, refs, maxSize, onSkip);
}

async function* catBlobs(repo: string, refs: BlobRef[], maxSize: number, onSkip: (s: GitSkip) => void): AsyncGenerator<GitBlobUnit> {
  if (refs.length === 0) return;
  const p = spawn('git', ['-C', repo, 'cat-file', '--batch'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number>((resolve) => p.on('close', (c) => resolve(c ?? 1)));
  // Feed requests as the reader drains, so memory holds one blob at a time.
  p.stdin.on('error', () => undefined);
  let fed = 0;
  const feed = (): void => {
    while (fed < refs.length) {
      const ok = p.stdin.write(`${refs[fed]!.blob}\n`);
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
  for (const ref of refs) {
    const header = await reader.readLine();
    if (header === null) break;
    const [, type, sizeText] = header.split(' ');
    if (type === 'missing' || sizeText === undefined) continue;
    const size = Number(sizeText);
    if (size > maxSize) {
      await reader.skip(size + 1);
      onSkip({ file: ref.file, commit: ref.commit, reason: 'too-large' });
      continue;
    }
    const content = await reader.read(size);
    await reader.skip(1); // trailing newline
    yield { file: ref.file, content, commit: ref.commit, author: ref.author, authorEmail: ref.authorEmail, date: ref.date };
  }
  p.stdin.destroy();
  await exited;
}

/** Minimal pull reader over a stream of Buffers. */
class ByteReader {
  private bufs: Buffer[] = [];
  private len = 0;
  private ended = false;
  private waiter: (() => void) | null = null;
  constructor(stream: NodeJS.ReadableStream) {
    stream.on('data', (d: Buffer) => {
      this.bufs.push(d);
      this.len += d.length;
      this.wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }
  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }
  private async need(n: number): Promise<boolean> {
    while (this.len < n && !this.ended) await new Promise<void>((r) => (this.waiter = r));
    return this.len >= n;
  }
  private take(n: number): Buffer {
    const all = this.bufs.length === 1 ? this.bufs[0]! : Buffer.concat(this.bufs, this.len);
    const out = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this.bufs = rest.length ? [rest] : [];
    this.len = rest.length;
    return out;
  }
  async readLine(): Promise<string | null> {
    for (;;) {
      const all = this.bufs.length === 1 ? this.bufs[0]! : Buffer.concat(this.bufs, this.len);
      this.bufs = all.length ? [all] : [];
      const i = all.indexOf(10);
      if (i !== -1) {
        const line = all.subarray(0, i).toString('utf8');
        this.take(i + 1);
        return line;
      }
      if (this.ended) return null;
      await new Promise<void>((r) => (this.waiter = r));
    }
  }
  async read(n: number): Promise<Buffer> {
    await this.need(n);
    return this.take(Math.min(n, this.len));
  }
  async skip(n: number): Promise<void> {
    await this.need(n);
    this.take(Math.min(n, this.len));
  }
}

/** Undoes git's C-style quoting of unusual paths ("a\tb" → a<TAB>b). */
function unquote(s: string): string {
  if (!s.startsWith('"') || !s.endsWith('"')) return s;
  const inner = s.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i]!;
    if (c !== '\\') {
      bytes.push(...Buffer.from(c, 'utf8'));
      continue;
    }
    const nx = inner[++i] ?? '';
    if (/[0-7]/.test(nx)) {
      bytes.push(parseInt(inner.slice(i, i + 3), 8));
      i += 2;
    } else bytes.push(({ n: 10, t: 9, r: 13, '"': 34, '\\': 92, a: 7, b: 8, f: 12, v: 11 } as Record<string, number>)[nx] ?? nx.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('utf8');
}

function firstLine(s: string): string {
  return s.split('\n').find((l) => l.trim()) ?? '';
}
