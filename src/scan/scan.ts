/**
 * `scan()`: the SDK entry point of the detect stage. Picks the source (a tree, the lines a git
 * range added, a repository's whole history, or a buffer), fans the work out to worker
 * threads, applies ignored paths and the baseline, and returns findings plus a summary in
 * which every skipped file is counted.
 */
import ignore from 'ignore';
import { applyBaseline, type Baseline } from './baseline.js';
import { createScanPool, defaultPoolSize, type UnitItem } from './pool.js';
import type { FileScanResult } from './sources/read-file.js';
import { createChunkScanner, DEFAULT_MAX_FILE_SIZE, fileTooLarge } from './sources/read-file.js';
import { createRuleset, touchesLine, type Ruleset } from './engine.js';
import { escapeName } from './format/text.js';
import { listTree } from './sources/tree.js';
import { countCommits, readHistory, readRange, resolveRange, type GitBlobUnit, type GitRange, type GitSkip } from './sources/git.js';
import { readStaged } from './sources/staged.js';
import { selectDetectors, type DetectorSelection } from './select-detectors.js';
import type { PeerSuppressions } from './suppress/types.js';
import type { Finding, HistoryFinding, ScanResult, ScanWarning, SkipReason, Skipped } from './types.js';

export interface ScanProgress {
  files: number;
  bytes: number;
  findings: number;
  /** Files found so far (grows while the tree is walked). */
  discovered: number;
}

export interface ScanOptions {
  /** The directory or file to scan, or the repository for git scans. Default: the current directory. */
  path?: string;
  /**
   * Scan what a range (`A..B`, or one resolved with `resolveRange`) added, merges included,
   * every blob of the history, or what the index adds against HEAD (`staged`; `indexFile` is the
   * index to read, as a hook's `GIT_INDEX_FILE` names it).
   */
  git?: { range: string | GitRange } | { history: true } | { staged: true; indexFile?: string };
  /**
   * Scan this content instead of files (shown as `file`, default `-`): a buffer, or a stream read
   * in bounded memory (chunk by chunk) up to `maxFileSize`, past which the rest is counted as
   * `too-large` with a warning.
   */
  content?: { bytes: Uint8Array; file?: string } | { stream: AsyncIterable<Uint8Array | string>; file?: string };
  detectors?: DetectorSelection;
  /** gitignore-style patterns of paths never to scan. */
  ignorePaths?: string[];
  baseline?: Baseline;
  /**
   * Peers' suppressions (`readPeerSuppressions`; `prepareScan` reads them where the policy is
   * read), applied after the baseline and counted by source in `summary.suppressedBy`.
   */
  peerSuppressions?: PeerSuppressions;
  /** Files (and blobs) larger than this are skipped and counted. Default 50 MiB. */
  maxFileSize?: number;
  /** Worker threads; 0 scans in this thread. Default: one per core (up to 8). */
  workers?: number;
  /**
   * Tree scans: `.gitignore` files as git reads them by default, so only inside a git work tree
   * (what git would commit is scanned); `true` outside one too; `false` never (ignored files are
   * scanned). What they exclude is counted as `gitignored`, never silently left out.
   */
  gitignore?: boolean;
  /**
   * History scans: report every occurrence (each version of each file that holds a secret)
   * instead of one finding per secret and path at the commit that introduced it (default false).
   */
  allOccurrences?: boolean;
  /** Tree scans: also scan checked-out submodules and embedded repositories (default: counted as skipped). */
  recurseSubmodules?: boolean;
  /** Honour inline allow comments (default true). */
  inlineAllow?: boolean;
  /** Also run secretlint's recommended preset over every scanned text (slow; default false). */
  secretlint?: boolean;
  onProgress?: (p: ScanProgress) => void;
}

const MAX_SKIPPED_LISTED = 10_000;
/** Of which files a `.gitignore` excluded (a `node_modules` can hold a million): the rest only counted. */
const MAX_GITIGNORED_LISTED = 1_000;
const TASK_FILES = 32;
const TASK_BYTES = 2 * 1024 * 1024;

/**
 * Scans and returns every finding. Throws a `KeywardenError` for bad input that stops the whole
 * scan (a missing path, a bad revision range, an invalid detector); per-file problems become
 * warnings and skipped entries while the rest of the scan goes on.
 *
 * @example
 * import { scan } from 'keywarden';
 * const { findings, summary } = await scan({ path: '.', git: { range: 'main..HEAD' } });
 */
export async function scan(options: ScanOptions = {}): Promise<ScanResult> {
  const started = performance.now();
  const root = options.path ?? '.';
  // Fail fast on a bad selection before starting threads.
  selectDetectors(options.detectors);
  const acc = new Accumulator(options);
  const ig = options.ignorePaths?.length ? ignore().add(options.ignorePaths) : null;
  const isIgnored = (rel: string): boolean => (ig ? ig.ignores(rel) : false);

  const read = { maxFileSize: options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE, ...(options.inlineAllow === false ? { inlineAllow: false } : {}) };
  const init = { selection: options.detectors ?? {}, read, ...(options.secretlint ? { secretlint: true } : {}) };
  const poolSize = options.workers ?? (options.content ? 0 : defaultPoolSize());
  const pool = createScanPool(init, poolSize);
  const limit = new InFlight(Math.max(2, pool.size * 3));
  try {
    if (options.content) {
      const file = options.content.file ?? '-';
      if ('bytes' in options.content) {
        const r = await pool.run({ kind: 'units', items: [{ file, content: options.content.bytes }] });
        acc.add(r, [{ file }]);
      } else if (options.secretlint) {
        // secretlint reads whole texts: the stream is bounded by the size limit instead.
        const bytes = await readBounded(options.content.stream, read.maxFileSize, (w) => acc.warnings.push(w), file);
        acc.add(await pool.run({ kind: 'units', items: [{ file, content: bytes.bytes }] }), [{ file }]);
        if (bytes.truncated) acc.skip({ file, reason: 'too-large', detail: String(bytes.seen) });
      } else {
        acc.add([await scanStream(options.content.stream, file, options, read.maxFileSize, acc)], [{ file }]);
      }
    } else if (options.git) {
      const onSkip = (s: GitSkip): void => {
        acc.skip({ file: s.file, reason: s.reason, detail: s.detail ?? s.commit });
        if (s.reason === 'too-large' && s.size !== undefined) acc.tooLarge(s.file, s.size, read.maxFileSize);
      };
      let units: AsyncGenerator<GitBlobUnit>;
      if ('range' in options.git) {
        const range = typeof options.git.range === 'string' ? await resolveRange(root, options.git.range) : options.git.range;
        acc.commits = await countCommits(root, range);
        units = readRange(root, range, { maxSize: read.maxFileSize, onSkip });
      } else if ('staged' in options.git) {
        // No commit to name: a skip's detail is only what git said.
        const stagedSkip = (s: GitSkip): void => {
          acc.skip({ file: s.file, reason: s.reason, ...(s.detail ? { detail: s.detail } : {}) });
          if (s.reason === 'too-large' && s.size !== undefined) acc.tooLarge(s.file, s.size, read.maxFileSize);
        };
        const indexFile = options.git.indexFile;
        units = readStaged(root, { maxSize: read.maxFileSize, onSkip: stagedSkip, ...(indexFile ? { indexFile } : {}) });
      } else {
        units = readHistory(root, { maxSize: read.maxFileSize, onSkip, onCommits: (n) => (acc.commits = n) });
        if (!options.allOccurrences) acc.groupOccurrences();
      }
      let batch: (GitBlobUnit & { unit: number })[] = [];
      let batchBytes = 0;
      const send = async (): Promise<void> => {
        const metas = batch;
        batch = [];
        batchBytes = 0;
        const items: UnitItem[] = metas.map((u) => ({ file: u.file, content: u.content, ...(u.addedLines ? { addedLines: u.addedLines } : {}) }));
        await limit.add(pool.run({ kind: 'units', items }).then((r) => acc.add(r, metas)));
      };
      for await (const unit of units) {
        acc.discovered++;
        const u = Object.assign(unit, { unit: acc.nextUnit() });
        if (isIgnored(u.file)) {
          acc.skip({ file: u.file, reason: 'ignored-path' });
          continue;
        }
        if (u.stream) {
          // Read to its end here, before the next unit: it shares the git process with them.
          acc.add([await scanStream(u.stream.chunks, u.file, options, read.maxFileSize, acc)], [u]);
          continue;
        }
        batch.push(u);
        batchBytes += u.content.length;
        if (batch.length >= TASK_FILES * 4 || batchBytes >= TASK_BYTES) await send();
      }
      if (batch.length) await send();
    } else {
      let batch: { abs: string; rel: string }[] = [];
      const send = async (): Promise<void> => {
        const items = batch;
        batch = [];
        await limit.add(pool.run({ kind: 'files', items }).then((r) => acc.add(r, items.map((i) => ({ file: i.rel })))));
      };
      const listing = {
        ...(options.gitignore !== undefined ? { gitignore: options.gitignore } : {}),
        ...(options.recurseSubmodules ? { recurseSubmodules: true } : {}),
      };
      for await (const entries of listTree(root, listing)) {
        for (const e of entries) {
          if (e.ignored) {
            acc.skip({ file: e.rel, reason: 'gitignored' });
            continue;
          }
          acc.discovered++;
          if (isIgnored(e.rel)) {
            acc.skip({ file: e.rel, reason: 'ignored-path' });
            continue;
          }
          batch.push(e);
          if (batch.length >= TASK_FILES) await send();
        }
      }
      if (batch.length) await send();
    }
    await limit.drain();
  } finally {
    await pool.close();
  }
  const all = acc.all().sort(compareFindings);
  const { kept: notBaselined, baselined } = applyBaseline(all, options.baseline);
  const peer = options.peerSuppressions?.rules.length ? await applyPeers(notBaselined, options.peerSuppressions, root, options, read.maxFileSize) : undefined;
  const kept = peer?.kept ?? notBaselined;
  if (peer) acc.warnings.push(...peer.warnings);
  const suppressedBy: Record<string, number> = { ...(acc.suppressed ? { inline: acc.suppressed } : {}), ...(baselined.length ? { baseline: baselined.length } : {}), ...peer?.suppressedBy };
  return {
    findings: kept,
    skipped: acc.skipped,
    warnings: acc.warnings,
    summary: {
      files: acc.files,
      bytes: acc.bytes,
      findings: kept.length,
      suppressed: acc.suppressed + baselined.length + (peer?.suppressed.length ?? 0),
      ...(Object.keys(suppressedBy).length ? { suppressedBy } : {}),
      skipped: acc.skippedCount,
      skippedBy: acc.skippedBy,
      ...(options.git && !('staged' in options.git) ? { commits: acc.commits } : {}),
      ...(acc.occurrences !== undefined ? { occurrences: acc.occurrences } : {}),
      durationMs: Math.round(performance.now() - started),
    },
  };
}

/** Peers' suppressions, loaded only when a scan has some; content is read again where the scan read it. */
async function applyPeers(findings: Finding[], peer: PeerSuppressions, root: string, options: ScanOptions, maxFileSize: number) {
  const { applyPeerSuppressions } = await import('./suppress/apply.js');
  const git = options.git;
  const source = options.content ? { kind: 'none' as const } : !git ? { kind: 'tree' as const } : 'staged' in git ? { kind: 'staged' as const, ...(git.indexFile ? { indexFile: git.indexFile } : {}) } : { kind: 'git' as const };
  return applyPeerSuppressions(findings, peer, { root, source, maxFileSize });
}

/** Scans a stream chunk by chunk in this thread: memory holds one window, whatever its length. */
async function scanStream(
  stream: AsyncIterable<Uint8Array | string>,
  file: string,
  options: ScanOptions,
  maxSize: number,
  acc: Accumulator,
): Promise<FileScanResult> {
  const scanner = createChunkScanner(file, (acc.streamRuleset ??= createRuleset(selectDetectors(options.detectors))), {
    maxFileSize: maxSize,
    ...(options.inlineAllow === false ? { inlineAllow: false } : {}),
  });
  let seen = 0;
  for await (const c of stream) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : c;
    const room = maxSize - seen;
    seen += chunk.length;
    if (room <= 0) continue; // read on so the writer is not blocked, but scan no more
    scanner.push(room < chunk.length ? chunk.subarray(0, room) : chunk);
  }
  const r = scanner.end();
  if (seen > maxSize) {
    acc.skip({ file, reason: 'too-large', detail: String(seen) });
    acc.warnings.push(tooLargeStream(file, maxSize));
  }
  return r;
}

async function readBounded(
  stream: AsyncIterable<Uint8Array | string>,
  maxSize: number,
  warn: (w: ScanWarning) => void,
  file: string,
): Promise<{ bytes: Buffer; truncated: boolean; seen: number }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let seen = 0;
  for await (const c of stream) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    seen += chunk.length;
    const room = maxSize - kept;
    if (room <= 0) continue;
    const part = room < chunk.length ? chunk.subarray(0, room) : chunk;
    chunks.push(part);
    kept += part.length;
  }
  if (seen > maxSize) warn(tooLargeStream(file, maxSize));
  const bytes = Buffer.allocUnsafeSlow(kept);
  let at = 0;
  for (const c of chunks) at += c.copy(bytes, at);
  return { bytes, truncated: seen > maxSize, seen };
}

function tooLargeStream(file: string, maxSize: number): ScanWarning {
  return {
    code: 'KW_INPUT_TRUNCATED',
    message: `${file === '-' ? 'Standard input' : escapeName(file)} is larger than the size limit; only its first ${maxSize} bytes were scanned. Raise --max-file-size to scan more.`,
    file,
  };
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.startLine - b.startLine ||
    a.startColumn - b.startColumn ||
    (a.commit ?? '').localeCompare(b.commit ?? '') ||
    a.ruleId.localeCompare(b.ruleId)
  );
}

class Accumulator {
  findings: Finding[] = [];
  skipped: Skipped[] = [];
  warnings: ScanWarning[] = [];
  skippedBy: Partial<Record<SkipReason, number>> = {};
  skippedCount = 0;
  files = 0;
  bytes = 0;
  suppressed = 0;
  discovered = 0;
  commits = 0;
  /** The ruleset for content scanned in this thread (streams), made on first use. */
  streamRuleset: Ruleset | undefined;
  /** Findings of merge commits: kept unless a merged commit of the range has the same one. */
  private readonly mergeFindings: Finding[] = [];
  /** History: one group per (path, member, secret), holding the earliest finding; see `groupOccurrences`. */
  private groups: Map<string, OccurrenceGroup> | undefined;
  /** History, grouped: every finding before grouping (what `allOccurrences` would list). */
  occurrences: number | undefined;
  /** Units handed to `add`, in the order the source gave them (history: oldest commit first). */
  private units = 0;
  private readonly tooLargeWarned = new Set<string>();
  private gitignoredListed = 0;
  constructor(private readonly options: ScanOptions) {}

  /**
   * From now on findings are grouped: one per secret and path (and archive member), the one the
   * earliest unit brought, carrying how many findings and commits the group holds. Units must be
   * registered in source order (`add` is called per batch, batches may finish out of order).
   */
  groupOccurrences(): void {
    this.groups = new Map();
    this.occurrences = 0;
  }

  /** The position of the next unit in source order (for groups: which finding is the earliest). */
  nextUnit(): number {
    return this.units++;
  }

  /** A file or blob skipped for its size: named in a warning, once per path. */
  tooLarge(file: string, size: number, max: number): void {
    if (this.tooLargeWarned.has(file)) return;
    this.tooLargeWarned.add(file);
    this.warnings.push(fileTooLarge(file, size, max));
  }

  /** All findings; a merge's repeat of what a merged commit in the range added is dropped. */
  all(): Finding[] {
    if (this.groups) {
      const out: HistoryFinding[] = [];
      for (const g of this.groups.values()) out.push({ ...g.first, occurrences: { count: g.count, commits: g.commits.size } });
      return out;
    }
    if (this.mergeFindings.length === 0) return this.findings;
    const key = (f: Finding): string => `${f.file}\0${f.ruleId}\0${f.fingerprint}`;
    const seen = new Set(this.findings.map(key));
    return [...this.findings, ...this.mergeFindings.filter((f) => !seen.has(key(f)))];
  }

  skip(s: Skipped): void {
    this.skippedCount++;
    this.skippedBy[s.reason] = (this.skippedBy[s.reason] ?? 0) + 1;
    if (s.reason === 'gitignored' && this.gitignoredListed++ >= MAX_GITIGNORED_LISTED) return;
    if (this.skipped.length < MAX_SKIPPED_LISTED) this.skipped.push(s);
  }

  add(results: FileScanResult[], metas: readonly ({ file: string; unit?: number } & Partial<GitBlobUnit>)[]): void {
    results.forEach((r, i) => {
      const meta = metas[i]!;
      if (r.skipped) {
        // A path git lists but that is gone from the work tree is neither scanned nor worth a count.
        if (r.skipped.detail === 'ENOENT') return;
        this.skip(meta.commit ? { ...r.skipped, detail: meta.commit } : r.skipped);
      }
      if (r.scanned) {
        this.files++;
        this.bytes += r.bytes;
      }
      this.suppressed += r.suppressed;
      for (const w of r.warnings) {
        // A blob too large in many commits is named once.
        if (w.code === 'KW_FILE_TOO_LARGE' && w.file !== undefined) {
          if (this.tooLargeWarned.has(w.file)) continue;
          this.tooLargeWarned.add(w.file);
        }
        this.warnings.push(w);
      }
      for (const f of r.findings) {
        // A range keeps what touches an added line; a merge's repeat of a merged commit's finding goes.
        if (meta.addedLines && !touchesLine(meta.addedLines, f.startLine, f.endLine)) continue;
        if (meta.commit) {
          f.commit = meta.commit;
          if (meta.author !== undefined) f.author = meta.author;
          if (meta.authorEmail !== undefined) f.authorEmail = meta.authorEmail;
          if (meta.date !== undefined) f.date = meta.date;
        }
        if (this.groups) this.group(f, meta.unit ?? 0, meta.commit);
        else if (meta.merge) this.mergeFindings.push(f);
        else this.findings.push(f);
      }
    });
    this.options.onProgress?.({ files: this.files, bytes: this.bytes, findings: this.groups?.size ?? this.findings.length, discovered: this.discovered });
  }

  private group(f: Finding, unit: number, commit: string | undefined): void {
    this.occurrences!++;
    const key = `${f.file}\0${f.member ?? ''}\0${f.fingerprint}`;
    const g = this.groups!.get(key);
    if (!g) {
      this.groups!.set(key, { first: f, unit, count: 1, commits: new Set(commit ? [commit] : []) });
      return;
    }
    g.count++;
    if (commit) g.commits.add(commit);
    if (unit < g.unit || (unit === g.unit && compareFindings(f, g.first) < 0)) {
      g.first = f;
      g.unit = unit;
    }
  }
}

interface OccurrenceGroup {
  /** The finding of the earliest unit (history: the commit that introduced the secret there). */
  first: Finding;
  unit: number;
  count: number;
  commits: Set<string>;
}

/** Bounds the number of tasks in flight so memory stays flat on huge inputs. */
class InFlight {
  private readonly pending = new Set<Promise<void>>();
  private error: unknown = null;
  constructor(private readonly max: number) {}
  async add(p: Promise<void>): Promise<void> {
    const tracked = p.catch((e) => {
      this.error ??= e;
    });
    this.pending.add(tracked);
    void tracked.finally(() => this.pending.delete(tracked));
    if (this.error) throw this.error;
    while (this.pending.size >= this.max) await Promise.race(this.pending);
    if (this.error) throw this.error;
  }
  async drain(): Promise<void> {
    await Promise.all(this.pending);
    if (this.error) throw this.error;
  }
}

