/**
 * The files of a tree. Inside a git work tree, git itself lists what it would commit (tracked
 * files, plus untracked ones the tree's `.gitignore` files do not exclude), which is exact and
 * fast, and lists what they exclude so that it is counted, never silently left out. Outside a work
 * tree a `.gitignore` means nothing to git, so every file is listed; only when asked
 * (`gitignore: true`) does a walker apply every `.gitignore` it meets with the `ignore` package,
 * counting what they exclude too. `gitignore: false` lists ignored files everywhere.
 *
 * A tree is hostile input. Security properties:
 * - names are bytes: every name is listed, whatever its bytes, and opened by exactly those bytes
 *   (`TreeEntry.abs`, see `entryPath`); `rel` shows it losslessly (`displayName`);
 * - nothing outside the scan root is listed or opened: the root is resolved once, the walker
 *   never descends into a symlinked directory, every path git lists is checked to be relative and
 *   free of `..`, and a listed path whose directory resolves outside the root (a tracked `a/b`
 *   where `a` is now a symlink) is reported as `outside-root`, never opened. Symlinks themselves
 *   are listed and scanned as their target path (`scanFile` never follows one);
 * - FIFOs, sockets and devices are listed as `special` and never opened;
 * - submodules and embedded repositories are listed as `submodule` unless `recurseSubmodules`; but
 *   only a real one: a gitlink in the index (which is attacker content) whose path is a file, or a
 *   folder with no `.git` of its own, is listed and scanned like untracked files;
 * - only git directories are left out: the repository's own, and those of nested repositories
 *   (`HEAD`, `objects/` and `refs/`, or a `gitdir:` file). A folder merely named `.git`, and
 *   `.GIT` or `.Git`, is scanned like any other, by git's listing and the walker alike;
 * - git runs only through the hardened runner (`src/git/run-git.ts`), and what is ignored comes
 *   only from the tree's own `.gitignore` files: neither `core.excludesFile` nor
 *   `.git/info/exclude` can hide a file.
 */
import { closeSync, constants, lstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { ErrorCode, KeywardenError } from '../../errors.js';
import { firstLine, gitTopLevel, isInsideWorkTree, spawnGit } from '../../git/run-git.js';
import { displayName } from '../display-name.js';
import { entryPath, skippedEntry } from './entry-path.js';

export interface TreeEntry {
  /** What `scanFile` opens: the absolute path, or a locator for other names and listed skips (see `entryPath`). */
  abs: string;
  /** Relative to the scan root, forward slashes, shown as `displayName` shows bytes. */
  rel: string;
  /**
   * Excluded by a `.gitignore`: listed only to be counted, never opened (`abs` is then a skip
   * locator). A folder git does not descend into (an ignored repository of its own) is one entry.
   */
  ignored?: true;
}

export interface ListTreeOptions {
  /**
   * `.gitignore` files: by default as git reads them, so only inside a git work tree; `true`
   * outside one too; `false` never. Whatever they exclude is listed as `ignored`.
   */
  gitignore?: boolean;
  /** List the files of checked-out submodules and embedded repositories too (default false). */
  recurseSubmodules?: boolean;
}

const BATCH = 256;
const SEP = Buffer.from(path.sep);
/** git prints `/`, and every platform's file API takes it. */
const SLASH = Buffer.from('/');
const GIT = Buffer.from('.git');

/** Lists the files to scan under `root` (a directory or a single file; either may be a symlink). */
export async function* listTree(root: string, options: ListTreeOptions = {}): AsyncGenerator<TreeEntry[]> {
  let real: string;
  let st;
  try {
    real = realpathSync(root);
    st = statSync(real);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new KeywardenError(
      code === 'ENOENT' ? ErrorCode.PATH_NOT_FOUND : ErrorCode.FILE_UNREADABLE,
      code === 'ENOENT' ? `Path not found: ${root}. Check the path you gave to scan.` : `Cannot read ${root} (${code ?? 'error'}).`,
      { location: { file: root } },
    );
  }
  if (!st.isDirectory()) {
    // A file named on the command line (scanFile still refuses a FIFO or device).
    yield [{ abs: real, rel: path.basename(root) }];
    return;
  }
  if (options.gitignore !== false && (await isInsideWorkTree(real))) {
    const ctx: GitContext = { rootBytes: Buffer.from(real), dirs: new Map(), recurse: options.recurseSubmodules ?? false, pending: [] };
    queueDotGit(ctx, '');
    const out = new Batcher();
    for await (const e of gitListFiles(ctx, real, Buffer.alloc(0))) {
      const full = out.add(e);
      if (full) yield full;
    }
    for await (const e of drainPending(ctx)) {
      const full = out.add(e);
      if (full) yield full;
    }
    const rest = out.flush();
    if (rest) yield rest;
    return;
  }
  yield* walk(real, options.gitignore === true);
}

class Batcher {
  private batch: TreeEntry[] = [];
  add(e: TreeEntry): TreeEntry[] | undefined {
    this.batch.push(e);
    return this.batch.length >= BATCH ? this.flush() : undefined;
  }
  flush(): TreeEntry[] | undefined {
    if (!this.batch.length) return undefined;
    const b = this.batch;
    this.batch = [];
    return b;
  }
}

// ---------------------------------------------------------------------------------------------
// git ls-files
// ---------------------------------------------------------------------------------------------

interface GitContext {
  /** The resolved scan root. */
  rootBytes: Buffer;
  /** Directory (relative to the root, latin1 of its bytes) → resolves inside the root. */
  dirs: Map<string, boolean>;
  recurse: boolean;
  /** Folders named `.git` that are not git directories, met while listing: walked like untracked files. */
  pending: Buffer[];
}

/**
 * Tracked files (with their modes, so submodules and symlinks are known) and untracked files not
 * ignored by the tree's `.gitignore` files, of the repository at `dir`, relative to `dir` (which is
 * `prefix` under the scan root). Two listings, because `--stage` output cannot be told from an
 * untracked name that looks like it.
 */
async function* gitListFiles(ctx: GitContext, dir: string, prefix: Buffer): AsyncGenerator<TreeEntry> {
  // What the .gitignore files exclude, listed by a second git at the same time, yielded at the end.
  const ignored = new IgnoredListing(dir, prefix);
  try {
    yield* gitListCommitted(ctx, dir, prefix);
    for await (const rel of ignored.drain()) yield { abs: skippedEntry('gitignored'), rel, ignored: true };
  } finally {
    await ignored.close();
  }
}

/** Names read ahead of the consumer, at most: the rest waits in git's pipe. */
const IGNORED_READ_AHEAD = 16_384;

/**
 * Untracked files the tree's `.gitignore` files exclude (`ls-files --others --ignored`), as the
 * names to show; a folder git does not descend into (a repository of its own) is one name. Read
 * ahead while the main listing runs, so it costs no wait beside it, in bounded memory.
 */
class IgnoredListing {
  private readonly it: AsyncGenerator<Buffer>;
  private readonly names: string[] = [];
  private done = false;
  private failed: unknown;
  private wake: (() => void) | undefined;
  private resume: (() => void) | undefined;
  private readonly reading: Promise<void>;
  constructor(dir: string, private readonly prefix: Buffer) {
    this.it = gitRecords(dir, ['ls-files', '-z', '--others', '--ignored', '--exclude-per-directory=.gitignore', '--', '.']);
    this.reading = this.read();
  }
  private async read(): Promise<void> {
    try {
      for await (const rec of this.it) {
        const name = rec[rec.length - 1] === 0x2f ? rec.subarray(0, -1) : rec;
        this.names.push(displayName(this.prefix.length ? Buffer.concat([this.prefix, name]) : name));
        this.signal();
        if (this.names.length >= IGNORED_READ_AHEAD) await new Promise<void>((r) => (this.resume = r));
        if (this.done) return;
      }
    } catch (e) {
      this.failed = e;
    } finally {
      this.done = true;
      this.signal();
    }
  }
  private signal(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }
  async *drain(): AsyncGenerator<string> {
    for (;;) {
      while (this.names.length) {
        const batch = this.names.splice(0, this.names.length);
        const r = this.resume;
        this.resume = undefined;
        r?.();
        yield* batch;
      }
      if (this.done) break;
      await new Promise<void>((r) => (this.wake = r));
    }
    if (this.failed) throw this.failed;
  }
  /** Stops git if it is still listing (the consumer stopped early) and waits for it. */
  async close(): Promise<void> {
    this.done = true;
    const r = this.resume;
    this.resume = undefined;
    r?.();
    await this.it.return(undefined).catch(() => undefined);
    await this.reading;
  }
}

async function* gitListCommitted(ctx: GitContext, dir: string, prefix: Buffer): AsyncGenerator<TreeEntry> {
  let prev: Buffer | undefined;
  for await (const rec of gitRecords(dir, ['ls-files', '-z', '--stage', '--', '.'])) {
    const tab = rec.indexOf(9);
    if (tab < 0) continue;
    const name = rec.subarray(tab + 1);
    if (prev && name.equals(prev)) continue; // one line per stage during a merge conflict
    prev = name;
    const mode = rec.toString('latin1', 0, rec.indexOf(32));
    if (mode === '160000') yield* nestedRepository(ctx, prefix, name, 'submodule');
    else yield entryFor(ctx, Buffer.concat([prefix, name]));
    if (ctx.pending.length) yield* drainPending(ctx);
  }
  for await (const name of gitRecords(dir, ['ls-files', '-z', '--others', '--exclude-per-directory=.gitignore', '--', '.'])) {
    // A directory in the listing is a repository of its own that git does not descend into.
    if (name[name.length - 1] === 0x2f) yield* nestedRepository(ctx, prefix, name.subarray(0, -1), 'embedded repository');
    else yield entryFor(ctx, Buffer.concat([prefix, name]));
    if (ctx.pending.length) yield* drainPending(ctx);
  }
}

/** A submodule (or an embedded repository): listed as not scanned, or its files when recursing. */
async function* nestedRepository(ctx: GitContext, prefix: Buffer, name: Buffer, what: string): AsyncGenerator<TreeEntry> {
  const relBytes = Buffer.concat([prefix, name]);
  const rel = displayName(relBytes);
  const bad = checkPath(ctx, relBytes, true);
  if (bad) {
    yield { abs: skippedEntry(bad), rel };
    return;
  }
  const abs = Buffer.concat([ctx.rootBytes, SLASH, relBytes]);
  let st;
  try {
    st = lstatSync(abs, { throwIfNoEntry: false });
  } catch {
    st = undefined;
  }
  if (st && !st.isDirectory()) {
    // The index says gitlink, the work tree holds a file (or a symlink): it is scanned as one.
    yield entryFor(ctx, relBytes);
    return;
  }
  if (st && !isGitDir(Buffer.concat([abs, SLASH, GIT]))) {
    // Not a repository of its own, whatever the index says: its files are the parent's.
    let any = false;
    for await (const batch of walk(abs, true, rel)) {
      for (const e of batch) {
        any = true;
        yield e;
      }
    }
    if (any) return;
  }
  if (!ctx.recurse || !st) {
    yield { abs: skippedEntry('submodule', ctx.recurse ? 'not checked out' : what), rel };
    return;
  }
  // Only a checked-out repository of its own: an empty submodule directory belongs to the parent.
  const dir = isUtf8(abs) ? abs.toString('utf8') : undefined;
  let own = false;
  if (dir !== undefined && (await isInsideWorkTree(dir))) {
    try {
      own = realpathSync(await gitTopLevel(dir)) === realpathSync(dir);
    } catch {
      own = false;
    }
  }
  if (!own) {
    yield { abs: skippedEntry('submodule', dir === undefined ? 'name is not UTF-8' : 'not checked out'), rel };
    return;
  }
  yield* gitListFiles(ctx, dir!, Buffer.concat([relBytes, Buffer.from('/')]));
}

function entryFor(ctx: GitContext, relBytes: Buffer): TreeEntry {
  const rel = displayName(relBytes);
  const bad = checkPath(ctx, relBytes, false);
  if (bad) return { abs: skippedEntry(bad), rel };
  return { abs: entryPath(Buffer.concat([ctx.rootBytes, SLASH, relBytes])), rel };
}

/**
 * Why a listed path must not be opened, if it must not: it is not a plain relative path, or a
 * directory on its way resolves outside the root (each directory resolved once per scan).
 */
function checkPath(ctx: GitContext, relBytes: Buffer, self: boolean): 'outside-root' | undefined {
  const parts = relBytes.toString('latin1').split('/');
  // git never lists a `.git` component; a hostile index can (a folder named `.git` is walked instead).
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p === '.git')) return 'outside-root';
  const last = self ? parts.length : parts.length - 1;
  let dir = '';
  for (let i = 0; i < last; i++) {
    dir = dir ? `${dir}/${parts[i]!}` : parts[i]!;
    let ok = ctx.dirs.get(dir);
    if (ok === undefined) {
      // Every directory before it resolved inside (or the loop has returned): a real directory
      // under them resolves to their real path plus its name, so only a symlink (or an odd entry)
      // needs the full resolution, which reads every component again.
      const abs = Buffer.concat([ctx.rootBytes, SLASH, Buffer.from(dir, 'latin1')]);
      ok = isPlainDirectory(abs) || resolvesInside(ctx.rootBytes, abs);
      ctx.dirs.set(dir, ok);
      if (ok) queueDotGit(ctx, dir);
    }
    if (!ok) return 'outside-root';
  }
  return undefined;
}

/**
 * git skips every folder named `.git` without a word; one that is not a git directory (a folder
 * holding a `config` with a token in a URL) is walked instead. Checked once per listed directory.
 */
function queueDotGit(ctx: GitContext, dir: string): void {
  const rel = dir ? Buffer.concat([Buffer.from(dir, 'latin1'), SLASH, GIT]) : GIT;
  const abs = Buffer.concat([ctx.rootBytes, SLASH, rel]);
  let st;
  try {
    st = lstatSync(abs, { throwIfNoEntry: false });
  } catch {
    return;
  }
  if (st?.isDirectory() && !isGitDir(abs)) ctx.pending.push(rel);
}

async function* drainPending(ctx: GitContext): AsyncGenerator<TreeEntry> {
  while (ctx.pending.length) {
    const rel = ctx.pending.shift()!;
    const abs = Buffer.concat([ctx.rootBytes, SLASH, rel]);
    for await (const batch of walk(isUtf8(abs) ? abs.toString('utf8') : abs, true, displayName(rel))) yield* batch;
  }
}

/**
 * A git directory as git tells one (`HEAD`, `objects/`, `refs/`), or a `gitdir:` file pointing at
 * one. Never follows a symlink at `p` itself.
 */
function isGitDir(p: Buffer): boolean {
  try {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st) return false;
    if (st.isFile()) {
      const fd = openSync(p, NOFOLLOW);
      try {
        const head = Buffer.alloc(8);
        return readSync(fd, head, 0, 8, 0) === 8 && head.toString('latin1') === 'gitdir: ';
      } finally {
        closeSync(fd);
      }
    }
    if (!st.isDirectory()) return false;
    const at = (name: string): ReturnType<typeof lstatSync> => lstatSync(Buffer.concat([p, SLASH, Buffer.from(name)]), { throwIfNoEntry: false });
    return !!at('HEAD')?.isFile() && !!at('objects')?.isDirectory() && !!at('refs')?.isDirectory();
  } catch {
    return false;
  }
}

function isPlainDirectory(p: Buffer): boolean {
  try {
    return lstatSync(p, { throwIfNoEntry: false })?.isDirectory() === true;
  } catch {
    return false;
  }
}

function resolvesInside(root: Buffer, p: Buffer): boolean {
  let real: Buffer;
  try {
    real = realpathSync(p, { encoding: 'buffer' });
  } catch (e) {
    // Gone from the work tree: nothing there to open (scanFile reports ENOENT).
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
  if (real.equals(root)) return true;
  return real.length > root.length && real.subarray(0, root.length).equals(root) && real.subarray(root.length, root.length + SEP.length).equals(SEP);
}

/** The NUL-separated records git prints, as bytes, streamed. */
async function* gitRecords(dir: string, args: string[]): AsyncGenerator<Buffer> {
  const p = spawnGit(dir, args);
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString('utf8');
  });
  const exit = new Promise<number>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => resolve(code ?? 1));
  });
  exit.catch(() => undefined);
  let rest = Buffer.alloc(0);
  try {
    for await (const chunk of p.stdout as AsyncIterable<Buffer>) {
      let data = rest.length ? Buffer.concat([rest, chunk]) : chunk;
      let i = data.indexOf(0);
      while (i !== -1) {
        if (i > 0) yield data.subarray(0, i);
        data = data.subarray(i + 1);
        i = data.indexOf(0);
      }
      rest = Buffer.from(data);
    }
  } finally {
    if (p.exitCode === null) p.kill();
  }
  if (rest.length) yield rest;
  const code = await exit;
  if (code !== 0) throw new KeywardenError(ErrorCode.GIT_FAILED, `git ls-files failed: ${firstLine(stderr)}`, { fault: 'internal' });
}

// ---------------------------------------------------------------------------------------------
// The walker, outside git
// ---------------------------------------------------------------------------------------------

interface Frame {
  /** A string while every name on the way is valid UTF-8, else the bytes. */
  dir: string | Buffer;
  rel: string;
  rules: { base: string; ig: Ignore }[];
  /** Inside a folder a `.gitignore` excludes: every file is listed as `ignored`, to be counted. */
  ignored?: true;
}

const NOFOLLOW = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/** Files under `root`, named `relRoot/...` (a subfolder met while listing with git, or the scan root). */
async function* walk(root: string | Buffer, useGitignore: boolean, relRoot = ''): AsyncGenerator<TreeEntry[]> {
  const stack: Frame[] = [{ dir: root, rel: relRoot, rules: [] }];
  let batch: TreeEntry[] = [];
  while (stack.length) {
    const frame = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(frame.dir, { withFileTypes: true, encoding: 'buffer' });
    } catch {
      continue; // unreadable directory: nothing to list
    }
    let rules = frame.rules;
    if (useGitignore && !frame.ignored) {
      const gi = entries.find((e) => e.isFile() && e.name.equals(GITIGNORE));
      if (gi) {
        try {
          // Never through a symlink (git does not follow one either), never blocking on a FIFO.
          const fd = openSync(childPath(frame.dir, gi.name), NOFOLLOW);
          try {
            rules = [...rules, { base: frame.rel, ig: ignore().add(readFileSync(fd, 'utf8')) }];
          } finally {
            closeSync(fd);
          }
        } catch {
          // an unreadable .gitignore ignores nothing
        }
      }
    }
    for (const e of entries) {
      // A git directory is left out (the scan root's own silently, a nested repository's counted); a
      // folder or file that only has the name is scanned.
      if (e.name.equals(GIT) && isGitDir(childBuffer(frame.dir, e.name))) {
        const rel = frame.rel ? `${frame.rel}/.git` : '.git';
        if (frame.ignored) batch.push({ abs: skippedEntry('gitignored'), rel, ignored: true });
        else if (frame.dir !== root) batch.push({ abs: skippedEntry('submodule', 'git directory'), rel });
        continue;
      }
      const name = displayName(e.name);
      const rel = frame.rel ? `${frame.rel}/${name}` : name;
      const isDir = e.isDirectory(); // a symlink to a directory is not one: never descended into
      const ignored = frame.ignored ?? (useGitignore && isIgnored(rules, rel, isDir) ? true : undefined);
      if (isDir) {
        stack.push({ dir: childPath(frame.dir, e.name), rel, rules, ...(ignored ? { ignored } : {}) });
        continue;
      }
      let abs: string;
      if (ignored) {
        // Counted, never opened: whatever it is (a file, a link, a FIFO), the .gitignore excluded it.
        batch.push({ abs: skippedEntry('gitignored'), rel, ignored });
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
        continue;
      }
      if (e.isFile() || e.isSymbolicLink()) {
        const p = childPath(frame.dir, e.name);
        abs = typeof p === 'string' ? p : entryPath(p);
      } else if (e.isFIFO() || e.isSocket() || e.isCharacterDevice() || e.isBlockDevice()) abs = skippedEntry('special');
      else continue;
      batch.push({ abs, rel });
      if (batch.length >= BATCH) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length) yield batch;
}

const GITIGNORE = Buffer.from('.gitignore');

function childPath(dir: string | Buffer, name: Buffer): string | Buffer {
  if (typeof dir === 'string' && isUtf8(name)) return dir.endsWith(path.sep) ? `${dir}${name.toString('utf8')}` : `${dir}${path.sep}${name.toString('utf8')}`;
  const d = typeof dir === 'string' ? Buffer.from(dir) : dir;
  return Buffer.concat([d, SEP, name]);
}

function childBuffer(dir: string | Buffer, name: Buffer): Buffer {
  const p = childPath(dir, name);
  return typeof p === 'string' ? Buffer.from(p) : p;
}

function isIgnored(rules: Frame['rules'], rel: string, isDir: boolean): boolean {
  for (const { base, ig } of rules) {
    const sub = base ? rel.slice(base.length + 1) : rel;
    try {
      if (ig.ignores(isDir ? `${sub}/` : sub)) return true;
    } catch {
      // a name the ignore package cannot take as a relative path: not ignored, so it is scanned
    }
  }
  return false;
}
