/**
 * Reads one file (or takes one buffer) for the scanner, and decides how its bytes are read:
 *
 * - text (UTF-8 or anything else that is mostly printable, a stray NUL included) is scanned as is;
 * - UTF-16 (a BOM, or the zero-byte pattern of ASCII in UTF-16) is decoded to UTF-8 first, and
 *   lines and columns count in the decoded text;
 * - images, audio and video (known by their magic bytes, never by their extension) are skipped as
 *   `binary` and counted;
 * - every other binary (SQLite files, compiled bundles, archives) is scanned for printable runs as
 *   `strings` does: runs of >= 8 printable ASCII bytes, and UTF-16LE runs of >= 8 such characters.
 *   Such findings are on line 1, and their columns are 1 + the byte offset in the file. The members
 *   of a zip archive (stored or deflated) are scanned too, each by the same rules (nested
 *   archives only for printable runs), their findings naming the `member`.
 *
 * Files are opened safely, because a tree is hostile input: the path is `lstat`ed first and only a
 * regular file is opened, with `O_NOFOLLOW | O_NONBLOCK`, then `fstat`ed again (same inode, still
 * regular). A symlink is never followed: its content is its target path, as git commits it. FIFOs,
 * sockets and devices are skipped as `special`, never opened, so none can block the scan.
 *
 * Files above `CHUNK_SIZE` stream through `createChunkScanner` in overlapping windows, so memory
 * stays flat; unreadable files and invalid UTF-8 become warnings while the rest of the scan goes on.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { inflateRawSync } from 'node:zlib';
import { scanBytes, type Ruleset } from '../engine.js';
import { displayName } from '../display-name.js';
import { escapeName } from '../format/text.js';
import type { Finding, ScanWarning, SkipReason, Skipped } from '../types.js';

export const DEFAULT_MAX_FILE_SIZE = 50 * 1024 * 1024;
/** Files above this are read in chunks of this size. */
export const CHUNK_SIZE = 8 * 1024 * 1024;
/** Bytes shared by consecutive chunks; larger than any detector window plus the longest secret. */
export const CHUNK_OVERLAP = 64 * 1024;
/** Findings are emitted from this far into a chunk's overlap, so a keyword just before still counts. */
const CHUNK_MARGIN = 32 * 1024;
/** How much of the start decides text, UTF-16, media or binary (git sniffs as much). */
const SNIFF = 8000;
/** A printable run shorter than this in a binary is noise, as for `strings`. */
const MIN_RUN = 8;
const MAX_ZIP_MEMBERS = 10_000;

const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export interface FileScanResult {
  findings: Finding[];
  suppressed: number;
  bytes: number;
  scanned: boolean;
  skipped?: Skipped;
  warnings: ScanWarning[];
}

export interface ReadFileOptions {
  maxFileSize: number;
  inlineAllow?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Entry paths: how a tree entry names what to open
// ---------------------------------------------------------------------------------------------

/**
 * A tree entry's `abs` is its absolute path when its bytes are valid UTF-8 (the usual case, kept a
 * plain string so nothing pays for the rare one). Otherwise it is a locator that starts with NUL,
 * which no real path contains:
 * - `\0p` + the path's bytes, one latin1 character per byte: opened by exactly these bytes;
 * - `\0s` + reason [+ `\0` + detail]: decided while listing (a submodule, a path outside the root),
 *   never opened, reported as skipped.
 */
export function entryPath(bytes: Buffer): string {
  return isUtf8(bytes) ? bytes.toString('utf8') : `\0p${bytes.toString('latin1')}`;
}

/** The `abs` of an entry the listing decided not to open (see `entryPath`). */
export function skippedEntry(reason: SkipReason, detail?: string): string {
  return `\0s${reason}${detail === undefined ? '' : `\0${detail}`}`;
}

/** What to hand `node:fs` for an entry's `abs`, or the skip the listing decided (see `entryPath`). */
export function fsPathOf(abs: string): { path: string | Buffer } | { skip: SkipReason; detail?: string } {
  if (abs.charCodeAt(0) !== 0) return { path: abs };
  if (abs[1] === 'p') return { path: Buffer.from(abs.slice(2), 'latin1') };
  const [reason, detail] = abs.slice(2).split('\0');
  return detail === undefined ? { skip: reason as SkipReason } : { skip: reason as SkipReason, detail };
}

// ---------------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------------

// One read buffer per thread, grown on demand and reused for every file: no allocation and no
// garbage per file. Safe because findings never keep a view of the bytes.
let scratch = Buffer.allocUnsafeSlow(1024 * 1024);
function scratchOf(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, scratch.length * 2));
  return scratch;
}

/**
 * Scans one file of a tree. `abs` is the entry's path (see `entryPath`), `rel` the name shown in
 * findings. Never follows a symlink and never opens anything but a regular file.
 */
export function scanFile(abs: string, rel: string, ruleset: Ruleset, options: ReadFileOptions): FileScanResult {
  const target = fsPathOf(abs);
  if ('skip' in target) return skippedResult({ file: rel, reason: target.skip, ...(target.detail === undefined ? {} : { detail: target.detail }) });
  const p = target.path;
  let lst: Stats | undefined;
  try {
    lst = lstatSync(p, { throwIfNoEntry: false });
  } catch (e) {
    return unreadableResult(rel, e);
  }
  // A path listed by git but deleted from the work tree is not an error.
  if (!lst) return skippedResult({ file: rel, reason: 'unreadable', detail: 'ENOENT' });
  if (lst.isSymbolicLink()) {
    // As git commits a symlink: the target path is the content. The target is never opened.
    let link: Buffer;
    try {
      link = readlinkSync(p, { encoding: 'buffer' });
    } catch (e) {
      return unreadableResult(rel, e);
    }
    return scanWhole(link, rel, ruleset, options);
  }
  if (lst.isFIFO() || lst.isSocket() || lst.isCharacterDevice() || lst.isBlockDevice()) {
    return skippedResult({ file: rel, reason: 'special' });
  }
  if (!lst.isFile()) return skippedResult({ file: rel, reason: 'unreadable', detail: 'not a regular file' });
  if (lst.size > options.maxFileSize) return skippedResult({ file: rel, reason: 'too-large', detail: String(lst.size) });
  let fd: number;
  try {
    fd = openSync(p, OPEN_FLAGS);
  } catch (e) {
    return unreadableResult(rel, e);
  }
  try {
    const st = fstatSync(fd);
    // Swapped between lstat and open (for a FIFO or another file): not what was listed.
    if (!st.isFile() || st.ino !== lst.ino || st.dev !== lst.dev) return skippedResult({ file: rel, reason: 'unreadable', detail: 'changed while read' });
    const size = st.size;
    if (size > options.maxFileSize) return skippedResult({ file: rel, reason: 'too-large', detail: String(size) });
    if (size <= CHUNK_SIZE) {
      const buf = scratchOf(size);
      const got = readFully(fd, buf, 0, size, 0);
      return scanWhole(buf.subarray(0, got), rel, ruleset, options);
    }
    const scanner = createChunkScanner(rel, ruleset, options);
    const piece = scratchOf(1024 * 1024).subarray(0, 1024 * 1024);
    let pos = 0;
    while (pos < size) {
      const got = readFully(fd, piece, 0, Math.min(piece.length, size - pos), pos);
      if (got === 0) break;
      scanner.push(piece.subarray(0, got));
      pos += got;
    }
    return scanner.end();
  } catch (e) {
    return unreadableResult(rel, e);
  } finally {
    closeSync(fd);
  }
}

/**
 * The text of a tree entry for a second pass over the same file (the `--secretlint` deep pass):
 * opened as `scanFile` opens it (a symlink gives its target path, never the target's content;
 * only a regular file is opened), decoded as UTF-8. Undefined when there is nothing to read.
 */
export function readEntryText(abs: string, maxFileSize: number): string | undefined {
  const target = fsPathOf(abs);
  if ('skip' in target) return undefined;
  try {
    const lst = lstatSync(target.path, { throwIfNoEntry: false });
    if (!lst) return undefined;
    if (lst.isSymbolicLink()) return readlinkSync(target.path, { encoding: 'buffer' }).toString('utf8');
    if (!lst.isFile() || lst.size > maxFileSize) return undefined;
    const fd = openSync(target.path, OPEN_FLAGS);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.ino !== lst.ino || st.size > maxFileSize) return undefined;
      const buf = Buffer.allocUnsafe(st.size);
      return buf.toString('utf8', 0, readFully(fd, buf, 0, st.size, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const r = readSync(fd, buf, offset + got, length - got, position + got);
    if (r === 0) break;
    got += r;
  }
  return got;
}

function skippedResult(skipped: Skipped, warnings: ScanWarning[] = []): FileScanResult {
  return { findings: [], suppressed: 0, bytes: 0, scanned: false, skipped, warnings };
}

function unreadableResult(rel: string, e: unknown): FileScanResult {
  const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
  if (code === 'ENOENT') return skippedResult({ file: rel, reason: 'unreadable', detail: code });
  return skippedResult({ file: rel, reason: 'unreadable', detail: code }, [unreadable(rel, code)]);
}

function unreadable(file: string, code: string): ScanWarning {
  return { code: 'KW_FILE_UNREADABLE', message: `Could not read ${escapeName(file)} (${code}); it was skipped.`, file };
}

export function invalidUtf8(file: string): ScanWarning {
  return {
    code: 'KW_INVALID_UTF8',
    message: `${escapeName(file)} is not valid UTF-8; it was scanned as far as it could be decoded.`,
    file,
  };
}

/** Scans a buffer that did not come from a file on disk (a git blob, added lines, stdin). */
export function scanUnit(
  item: { file: string; content: Uint8Array; lineMap?: ArrayLike<number> },
  ruleset: Ruleset,
  options: Pick<ReadFileOptions, 'inlineAllow'> & Partial<Pick<ReadFileOptions, 'maxFileSize'>>,
): FileScanResult {
  const bytes = Buffer.from(item.content.buffer, item.content.byteOffset, item.content.byteLength);
  return scanWhole(bytes, item.file, ruleset, options, item.lineMap);
}

// ---------------------------------------------------------------------------------------------
// What the bytes are
// ---------------------------------------------------------------------------------------------

/** How a file's bytes are read: decided from its first bytes. */
export type ContentKind = 'text' | 'utf16le' | 'utf16be' | 'media' | 'binary';

/**
 * Decides how to read content from its start (the first 8,000 bytes are enough).
 *
 * @example classifyContent(Buffer.from('\xff\xfek\0e\0y\0', 'latin1')) // 'utf16le'
 */
export function classifyContent(head: Uint8Array): ContentKind {
  const b = head.length > SNIFF ? head.subarray(0, SNIFF) : head;
  const n = b.length;
  if (n >= 2) {
    if (b[0] === 0xff && b[1] === 0xfe && !(n >= 4 && b[2] === 0 && b[3] === 0)) return 'utf16le';
    if (b[0] === 0xfe && b[1] === 0xff) return 'utf16be';
  }
  // The common case, decided by two native calls: no NUL and valid UTF-8 is text.
  if (b.indexOf(0) === -1 && isUtf8(trimIncomplete(b))) return 'text';
  const u16 = utf16Pattern(b);
  if (u16) return u16;
  let suspicious = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    // Controls that text does not hold (tab, newlines, form feed and ESC of coloured logs it does).
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 11 && c !== 12 && c !== 13 && c !== 0x1b) || c === 0x7f) suspicious++;
  }
  if (!isUtf8(trimIncomplete(b))) suspicious += invalidUtf8Bytes(b);
  if (suspicious * 10 <= n) return 'text';
  return isMedia(b) ? 'media' : 'binary';
}

/** ASCII text in UTF-16 without a BOM: most code units are (printable ASCII, 0) in one byte order. */
function utf16Pattern(b: Uint8Array): 'utf16le' | 'utf16be' | undefined {
  const pairs = b.length >> 1;
  if (pairs < 2) return undefined;
  let le = 0;
  let be = 0;
  for (let i = 0; i + 1 < b.length; i += 2) {
    const x = b[i]!;
    const y = b[i + 1]!;
    if (y === 0 && isTextByte(x)) le++;
    else if (x === 0 && isTextByte(y)) be++;
  }
  if (le * 10 >= pairs * 7) return 'utf16le';
  if (be * 10 >= pairs * 7) return 'utf16be';
  return undefined;
}

function isTextByte(c: number): boolean {
  return (c >= 0x20 && c <= 0x7e) || c === 9 || c === 10 || c === 13;
}

/** Without a sequence cut off at the end (the sniff window may end inside a character). */
function trimIncomplete(b: Uint8Array): Uint8Array {
  let end = b.length;
  for (let k = 0; k < 3 && end > 0 && (b[end - 1]! & 0xc0) === 0x80; k++) end--;
  if (end > 0 && b[end - 1]! >= 0xc0) end--;
  else if (end !== b.length) end = b.length;
  return end === b.length ? b : b.subarray(0, end);
}

function invalidUtf8Bytes(b: Uint8Array): number {
  let bad = 0;
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    let ok = n > 0 && i + n <= b.length;
    for (let k = 1; ok && k < n; k++) ok = (b[i + k]! & 0xc0) === 0x80;
    if (ok) i += n;
    else {
      bad++;
      i++;
    }
  }
  return bad;
}

const at = (b: Uint8Array, i: number, sig: readonly number[]): boolean => b.length >= i + sig.length && sig.every((x, k) => b[i + k] === x);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const RIFF = ascii('RIFF');
const MEDIA_RIFF = ['WEBP', 'WAVE', 'AVI '].map(ascii);
const MEDIA_AT_0: readonly (readonly number[])[] = [
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], // PNG
  [0xff, 0xd8, 0xff], // JPEG
  ascii('GIF87a'),
  ascii('GIF89a'),
  [0x49, 0x49, 0x2a, 0x00], // TIFF, little-endian
  [0x4d, 0x4d, 0x00, 0x2a], // TIFF, big-endian
  ascii('8BPS'), // Photoshop
  ascii('ID3'), // MP3 with a tag
  [0xff, 0xfb],
  [0xff, 0xf3],
  [0xff, 0xf2], // MP3 frames
  ascii('OggS'),
  ascii('fLaC'),
  [0x1a, 0x45, 0xdf, 0xa3], // Matroska, WebM
];

/** Images, audio and video: nothing but pixels and samples, skipped as binary. */
function isMedia(b: Uint8Array): boolean {
  if (MEDIA_AT_0.some((sig) => at(b, 0, sig))) return true;
  if (at(b, 0, RIFF) && MEDIA_RIFF.some((sig) => at(b, 8, sig))) return true;
  return at(b, 4, ascii('ftyp')); // MP4, MOV, HEIC, AVIF
}

// ---------------------------------------------------------------------------------------------
// Scanning a whole buffer, or a stream in windows
// ---------------------------------------------------------------------------------------------

interface WindowContext {
  ruleset: Ruleset;
  file: string;
  inlineAllow: boolean;
  /** Offset of the window's first byte in the file. */
  base: number;
  first: boolean;
  last: boolean;
  lineOffset: number;
  lineMap?: ArrayLike<number>;
}

interface WindowResult {
  findings: Finding[];
  suppressed: number;
  /** Newlines (of the decoded text) before the next window's start, `CHUNK_SIZE` further on. */
  lines: number;
}

/** One window: the whole content (first and last), or a chunk of a stream with its overlap. */
function scanWindow(bytes: Buffer, kind: ContentKind, ctx: WindowContext): WindowResult {
  const allow: { inlineAllow?: false } = ctx.inlineAllow ? {} : { inlineAllow: false };
  const emitFrom = ctx.first ? 0 : CHUNK_MARGIN;
  const emitTo = ctx.last ? bytes.length : CHUNK_SIZE + CHUNK_MARGIN;
  if (kind === 'text') {
    const r = scanBytes(bytes, ctx.ruleset, {
      file: ctx.file,
      ...(ctx.lineMap ? { lineMap: ctx.lineMap } : { lineOffset: ctx.lineOffset }),
      ...(ctx.first ? {} : { emitFrom }),
      ...(ctx.last ? {} : { emitTo }),
      ...allow,
    });
    return { findings: r.findings, suppressed: r.suppressed, lines: ctx.last ? 0 : countNewlines(bytes, 0, CHUNK_SIZE) };
  }
  if (kind === 'utf16le' || kind === 'utf16be') {
    const start = ctx.first && hasBom(bytes, kind) ? 2 : 0;
    const end = bytes.length & ~1;
    let units = bytes.subarray(start, end);
    if (kind === 'utf16be') units = Buffer.from(units).swap16();
    const text = units.toString('utf16le');
    // Window boundaries in code units, moved off the middle of a surrogate pair.
    const unit = (byteOffset: number): number => {
      let u = Math.max(0, Math.min(text.length, (byteOffset - start) >> 1));
      const c = text.charCodeAt(u - 1);
      if (u > 0 && u < text.length && c >= 0xd800 && c <= 0xdbff) u++;
      return u;
    };
    const decoded = Buffer.from(text, 'utf8');
    const bytesBefore = (u: number): number => Buffer.byteLength(text.slice(0, u), 'utf8');
    const r = scanBytes(decoded, ctx.ruleset, {
      file: ctx.file,
      ...(ctx.lineMap ? { lineMap: ctx.lineMap } : { lineOffset: ctx.lineOffset }),
      ...(ctx.first ? {} : { emitFrom: bytesBefore(unit(emitFrom)) }),
      ...(ctx.last ? {} : { emitTo: bytesBefore(unit(emitTo)) }),
      ...allow,
    });
    return { findings: r.findings, suppressed: r.suppressed, lines: ctx.last ? 0 : countNewlines(decoded, 0, bytesBefore(unit(CHUNK_SIZE))) };
  }
  if (kind === 'media') return { findings: [], suppressed: 0, lines: 0 };
  const r = scanPrintableRuns(bytes, ctx, allow);
  const findings: Finding[] = [];
  for (const f of r.findings) {
    const offset = f.startColumn - 1; // within the window, set by scanPrintableRuns
    if (offset < emitFrom || offset >= emitTo) continue;
    f.startColumn += ctx.base;
    f.endColumn += ctx.base;
    findings.push(f);
  }
  return { findings, suppressed: r.suppressed, lines: 0 };
}

function hasBom(b: Buffer, kind: 'utf16le' | 'utf16be'): boolean {
  return kind === 'utf16le' ? b[0] === 0xff && b[1] === 0xfe : b[0] === 0xfe && b[1] === 0xff;
}

/**
 * Printable runs of a binary, as `strings` finds them (>= 8 printable ASCII bytes; and UTF-16LE
 * runs of >= 8 such characters, at either byte alignment). Findings come back on line 1 with
 * columns of 1 + their byte offset in `bytes`.
 */
function scanPrintableRuns(bytes: Buffer, ctx: { ruleset: Ruleset; file: string }, allow: { inlineAllow?: false }): { findings: Finding[]; suppressed: number } {
  const file = ctx.file;
  const n = bytes.length;
  // ASCII runs: the same bytes, every byte outside a long run turned into a newline, so offsets
  // stay those of the file and a key block stored with its newlines keeps its lines.
  const runs = Buffer.allocUnsafe(n);
  bytes.copy(runs);
  let runStart = 0;
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if ((c >= 0x20 && c <= 0x7e) || c === 9) continue;
    runs[i] = 10;
    if (i > runStart && i - runStart < MIN_RUN) runs.fill(10, runStart, i);
    runStart = i + 1;
  }
  if (n > runStart && n - runStart < MIN_RUN) runs.fill(10, runStart, n);
  const a = scanBytes(runs, ctx.ruleset, { file, ...allow });
  let starts: number[] | undefined;
  const offsetOf = (line: number, column: number): number => {
    starts ??= lineStarts(runs);
    return starts[line - 1]! + column - 1;
  };
  const findings: Finding[] = a.findings.map((f) => onLineOne(f, offsetOf(f.startLine, f.startColumn), offsetOf(f.endLine, f.endColumn)));
  let suppressed = a.suppressed;

  // UTF-16LE runs: decoded into one line each, remembering where each run began.
  const text: number[] = [];
  const runOrigin: number[] = [];
  for (let parity = 0; parity < 2; parity++) {
    let s = parity;
    let i = parity;
    for (; i + 1 < n; i += 2) {
      const c = bytes[i]!;
      if (bytes[i + 1] === 0 && ((c >= 0x20 && c <= 0x7e) || c === 9)) continue;
      if (i - s >= 2 * MIN_RUN) addRun(s, i);
      s = i + 2;
    }
    if (i - s >= 2 * MIN_RUN) addRun(s, i);
  }
  function addRun(s: number, e: number): void {
    runOrigin.push(s);
    for (let k = s; k < e; k += 2) text.push(bytes[k]!);
    text.push(10);
  }
  if (runOrigin.length) {
    const u = scanBytes(Buffer.from(text), ctx.ruleset, { file, ...allow });
    for (const f of u.findings) findings.push(onLineOne(f, runOrigin[f.startLine - 1]! + 2 * (f.startColumn - 1), runOrigin[f.endLine - 1]! + 2 * (f.endColumn - 1)));
    suppressed += u.suppressed;
  }
  return { findings, suppressed };
}

function onLineOne(f: Finding, start: number, end: number): Finding {
  return { ...f, startLine: 1, startColumn: start + 1, endLine: 1, endColumn: Math.max(end, start + 1) + 1 };
}

function lineStarts(b: Buffer): number[] {
  const starts = [0];
  let i = b.indexOf(10);
  while (i !== -1) {
    starts.push(i + 1);
    i = b.indexOf(10, i + 1);
  }
  return starts;
}

function countNewlines(b: Buffer, from: number, to: number): number {
  let n = 0;
  let i = b.indexOf(10, from);
  while (i !== -1 && i < to) {
    n++;
    i = b.indexOf(10, i + 1);
  }
  return n;
}

/** Scans content held whole: one window, zip members included. */
function scanWhole(
  bytes: Buffer,
  file: string,
  ruleset: Ruleset,
  options: { inlineAllow?: boolean; maxFileSize?: number },
  lineMap?: ArrayLike<number>,
  nested = false,
): FileScanResult {
  // An archive is unpacked whatever its first bytes look like (stored text members can look like text).
  const zip = !nested && isZip(bytes);
  const kind = zip ? 'binary' : classifyContent(bytes);
  if (kind === 'media') return { findings: [], suppressed: 0, bytes: 0, scanned: false, skipped: { file, reason: 'binary' }, warnings: [] };
  const warnings: ScanWarning[] = kind === 'text' && !isUtf8(bytes) ? [invalidUtf8(file)] : [];
  const ctx: WindowContext = { ruleset, file, inlineAllow: options.inlineAllow ?? true, base: 0, first: true, last: true, lineOffset: 0, ...(lineMap && kind !== 'binary' ? { lineMap } : {}) };
  const r = scanWindow(bytes, kind, ctx);
  let findings = r.findings;
  let suppressed = r.suppressed;
  if (zip) {
    const z = scanZipMembers(bytes, file, ruleset, options);
    // A stored member's secret is also a printable run of the archive: report it in the member.
    const inMembers = new Set(z.findings.map((f) => f.fingerprint));
    findings = [...findings.filter((f) => !inMembers.has(f.fingerprint)), ...z.findings];
    suppressed += z.suppressed;
    warnings.push(...z.warnings);
    }
  return { findings, suppressed, bytes: bytes.length, scanned: true, warnings };
}

// ---------------------------------------------------------------------------------------------
// Zip members
// ---------------------------------------------------------------------------------------------

function isZip(b: Buffer): boolean {
  return b.length >= 22 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
}

/**
 * The stored and deflated members of a zip archive, from its central directory; each is scanned
 * by the rules of a file (nested archives for printable runs only). Encrypted members, zip64 and
 * other methods are left to the archive's own printable runs. Everything inflated together stays
 * under the size limit, so a zip bomb costs no more than a big file.
 */
function scanZipMembers(b: Buffer, file: string, ruleset: Ruleset, options: { inlineAllow?: boolean; maxFileSize?: number }): { findings: Finding[]; suppressed: number; warnings: ScanWarning[] } {
  const out = { findings: [] as Finding[], suppressed: 0, warnings: [] as ScanWarning[] };
  let eocd = -1;
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 0xffff); i--) {
    if (b.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return out;
  const count = Math.min(b.readUInt16LE(eocd + 10), MAX_ZIP_MEMBERS);
  let p = b.readUInt32LE(eocd + 16);
  let budget = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  for (let k = 0; k < count && p + 46 <= b.length && b.readUInt32LE(p) === 0x02014b50; k++) {
    const flags = b.readUInt16LE(p + 8);
    const method = b.readUInt16LE(p + 10);
    const compSize = b.readUInt32LE(p + 20);
    const size = b.readUInt32LE(p + 24);
    const nameLen = b.readUInt16LE(p + 28);
    const next = p + 46 + nameLen + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
    const local = b.readUInt32LE(p + 42);
    const name = displayName(b.subarray(p + 46, Math.min(b.length, p + 46 + nameLen)));
    p = next;
    if (flags & 1 || (method !== 0 && method !== 8) || name.endsWith('/')) continue;
    if (local + 30 > b.length || b.readUInt32LE(local) !== 0x04034b50) continue;
    const dataStart = local + 30 + b.readUInt16LE(local + 26) + b.readUInt16LE(local + 28);
    if (dataStart + compSize > b.length || size > budget) continue;
    let content: Buffer;
    try {
      content = method === 0 ? b.subarray(dataStart, dataStart + compSize) : inflateRawSync(b.subarray(dataStart, dataStart + compSize), { maxOutputLength: Math.max(1, budget) });
    } catch {
      continue; // corrupt or larger than it says: its printable runs were scanned with the archive
    }
    budget -= content.length;
    const r = scanWhole(content, file, ruleset, options, undefined, true);
    for (const f of r.findings) out.findings.push({ ...f, member: name });
    out.suppressed += r.suppressed;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The streaming scanner
// ---------------------------------------------------------------------------------------------

export interface ChunkScanner {
  /** Adds the next bytes of the stream. The chunk is copied; the caller may reuse it. */
  push(chunk: Uint8Array): void;
  /** Scans what is left and returns the result for the whole stream. Call once. */
  end(): FileScanResult;
}

export type ChunkScannerOptions = Pick<ReadFileOptions, 'inlineAllow'> & Partial<Pick<ReadFileOptions, 'maxFileSize'>>;

/**
 * A push-based scanner for content of any length in bounded memory: it keeps one window of
 * `CHUNK_SIZE + CHUNK_OVERLAP` bytes, scans it when full, and keeps its last `CHUNK_OVERLAP`
 * bytes as the start of the next window, emitting each finding from exactly one window (from
 * `CHUNK_MARGIN` into the overlap). Content that never fills a window is scanned whole, exactly
 * as `scanUnit` would (zip members included); longer content is read by the kind its start shows
 * (text, UTF-16, media, binary printable runs; archives are not unpacked).
 *
 * @example
 * const s = createChunkScanner('-', ruleset, { inlineAllow: true });
 * for await (const chunk of process.stdin) s.push(chunk);
 * const { findings } = s.end();
 */
export function createChunkScanner(rel: string, ruleset: Ruleset, options: ChunkScannerOptions): ChunkScanner {
  const cap = CHUNK_SIZE + CHUNK_OVERLAP;
  let buf = Buffer.allocUnsafe(64 * 1024);
  let len = 0;
  let base = 0;
  let total = 0;
  let kind: ContentKind | undefined;
  let lineOffset = 0;
  let first = true;
  let ended = false;
  let warnedUtf8 = false;
  const findings: Finding[] = [];
  const warnings: ScanWarning[] = [];
  let suppressed = 0;

  const flush = (last: boolean): void => {
      kind ??= classifyContent(buf.subarray(0, len));
    if (kind === 'media') return;
    const window = buf.subarray(0, len);
    if (kind === 'text' && !warnedUtf8 && !isUtf8(trimIncomplete(skipContinuation(window)))) {
      warnedUtf8 = true;
      warnings.push(invalidUtf8(rel));
    }
    const r = scanWindow(window, kind, { ruleset, file: rel, inlineAllow: options.inlineAllow ?? true, base, first, last, lineOffset });
    findings.push(...r.findings);
    suppressed += r.suppressed;
    lineOffset += r.lines;
  };

  return {
    push(chunk) {
      if (ended) throw new Error('push after end');
      total += chunk.length;
      if (kind === 'media') return;
      let i = 0;
      while (i < chunk.length) {
        if (len === cap) {
          flush(false);
          if ((kind as ContentKind | undefined) === 'media') return;
          // The next window starts CHUNK_SIZE further on, so it re-reads the overlap.
          buf.copy(buf, 0, CHUNK_SIZE, cap);
          len = CHUNK_OVERLAP;
          base += CHUNK_SIZE;
          first = false;
        }
        if (buf.length < Math.min(cap, len + chunk.length - i)) {
          const grown = Buffer.allocUnsafe(Math.min(cap, Math.max(buf.length * 2, len + chunk.length - i)));
          buf.copy(grown, 0, 0, len);
          buf = grown;
        }
        const n = Math.min(chunk.length - i, cap - len);
        buf.set(chunk.subarray(i, i + n), len);
        len += n;
        i += n;
      }
    },
    end() {
      if (ended) throw new Error('end called twice');
      ended = true;
      if (first) {
        const r = scanWhole(buf.subarray(0, len), rel, ruleset, options);
        return { ...r, bytes: r.scanned ? total : 0 };
      }
      flush(true);
      if (kind === 'media') return { findings: [], suppressed: 0, bytes: 0, scanned: false, skipped: { file: rel, reason: 'binary' }, warnings: [] };
      return { findings, suppressed, bytes: total, scanned: true, warnings };
    },
  };
}

/** Without the continuation bytes a window may start with (it can begin inside a character). */
function skipContinuation(b: Buffer): Buffer {
  let s = 0;
  while (s < 3 && s < b.length && (b[s]! & 0xc0) === 0x80) s++;
  return s ? b.subarray(s) : b;
}
