/**
 * Reads one file (or takes one buffer) for the scanner, and decides how its bytes are read. A kind
 * only adds views of the bytes, never takes one away, so no first bytes (a forged BOM, magic bytes)
 * can hide what follows:
 *
 * - text (UTF-8 or anything else that is mostly printable, a stray NUL included) is scanned as is,
 *   and where it holds a NUL, for UTF-16 runs too, placed on the raw line they start on; and its
 *   decoded views too (`views/`: a Kubernetes Secret's base64 `data:` values, JSON strings with
 *   escapes, URL-encoded runs), each finding placed on the encoded text it came from; a view's
 *   finding that a raw one already reports (same secret, or the same place and type) is dropped;
 *   what a view's budget cut is warned (`KW_VIEW_PARTIAL`);
 * - UTF-16 (a BOM followed by plausible UTF-16, or the zero-byte pattern of ASCII in UTF-16) is
 *   decoded to UTF-8 first, lines and columns counting in the decoded text; and scanned for
 *   printable runs too (ASCII behind a forged BOM, UTF-16 of the other byte order or alignment);
 * - images, audio, video and every other binary (SQLite files, compiled bundles, archives) are
 *   scanned for printable runs as `strings` does: runs of >= 8 printable ASCII bytes, and UTF-16
 *   runs (either byte order) of >= 8 such characters. Such findings are on line 1, and their columns
 *   are 1 + the byte offset in the file. A secret two views see is reported once.
 * - archives are unpacked, wherever their first bytes are (a zip is found from its end, so one
 *   behind a self-extracting stub is too): zip members (stored or deflated) and gzip content are
 *   scanned by the same rules, an archive among them once more, their findings naming the
 *   `member`;
 * - keystores (PKCS#12 and Java keystores, by magic bytes, or a binary `.p12`, `.pfx`, `.jks`,
 *   `.keystore`, `.jceks`, `.bks`) are one finding each (`private-key-keystore`, on line 1): the
 *   keys inside are encrypted or binary, and no text view shows them. All of a file's expansion shares one budget of `maxFileSize` bytes, charged for every
 *   attempt; what is cut or left out is counted (`too-large`) and warned (`KW_ARCHIVE_PARTIAL`).
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
import { createHash } from 'node:crypto';
import { constants as zlibConstants, gunzipSync, inflateRawSync } from 'node:zlib';
import { MAX_FINDINGS, scanBytes, touchesLine, type Ruleset } from '../engine.js';
import { displayName } from '../display-name.js';
import { escapeName } from '../format/text.js';
import type { Finding, ScanWarning, Skipped } from '../types.js';
import { lineIndexOf, lineStarts } from '../../util/line-column.js';
import { keystoreMarker, type KeystoreKind } from '../detectors/private-key.js';
import { scanDecodedViews } from '../views/scan-views.js';
import { fsPathOf } from './entry-path.js';

export const DEFAULT_MAX_FILE_SIZE = 50 * 1024 * 1024;
/** Files above this are read in chunks of this size. */
export const CHUNK_SIZE = 8 * 1024 * 1024;
/** Bytes shared by consecutive chunks; larger than any detector window plus the longest secret. */
const CHUNK_OVERLAP = 256 * 1024;
/** Findings are emitted from this far into a chunk's overlap, so a keyword just before still counts. */
const CHUNK_MARGIN = 128 * 1024;
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
  if (lst.size > options.maxFileSize) return tooLargeResult(rel, lst.size, options.maxFileSize);
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
    if (size > options.maxFileSize) return tooLargeResult(rel, size, options.maxFileSize);
    if (size <= CHUNK_SIZE || isArchiveFile(fd, size)) {
      // Whole: small enough, or an archive (at most maxFileSize) whose members are read from its end.
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

/** Whether a big file is an archive: zip or gzip magic first, or a zip's directory record last. */
function isArchiveFile(fd: number, size: number): boolean {
  const head = Buffer.alloc(4);
  readFully(fd, head, 0, 4, 0);
  if (isZipMagic(head) || (head[0] === 0x1f && head[1] === 0x8b && head[2] === 8)) return true;
  const n = Math.min(size, EOCD_SEARCH);
  const tail = Buffer.allocUnsafe(n);
  return endsLikeZip(tail.subarray(0, readFully(fd, tail, 0, n, size - n)));
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

function tooLargeResult(rel: string, size: number, maxFileSize: number): FileScanResult {
  return skippedResult({ file: rel, reason: 'too-large', detail: String(size) }, [fileTooLarge(rel, size, maxFileSize)]);
}

/**
 * A file (or blob) left unscanned for its size: named, so a secret in it is not silently missed.
 *
 * @example fileTooLarge('dump.sql', 120e6, 50 * 1024 * 1024).code // 'KW_FILE_TOO_LARGE'
 */
export function fileTooLarge(file: string, size: number, maxFileSize: number): ScanWarning {
  const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;
  return {
    code: 'KW_FILE_TOO_LARGE',
    message: `${escapeName(file)} (${mb(size)}) is larger than the size limit (${mb(maxFileSize)}); it was not scanned. Raise --max-file-size to scan it.`,
    file,
  };
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
  item: { file: string; content: Uint8Array; lineMap?: ArrayLike<number>; addedLines?: Uint32Array },
  ruleset: Ruleset,
  options: Pick<ReadFileOptions, 'inlineAllow'> & Partial<Pick<ReadFileOptions, 'maxFileSize'>>,
): FileScanResult {
  const bytes = Buffer.from(item.content.buffer, item.content.byteOffset, item.content.byteLength);
  return scanWhole(bytes, item.file, ruleset, options, item.lineMap, 0, undefined, item.addedLines);
}

/** Findings past the engine's cap in one file: said, never silent. */
function tooManyFindings(file: string, dropped: number): ScanWarning {
  return {
    code: 'KW_TOO_MANY_FINDINGS',
    message: `${escapeName(file)} holds more than ${MAX_FINDINGS} findings; the ${dropped} least severe were not reported.`,
    file,
  };
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
    // A BOM is two bytes anyone can put in front of anything: trusted only when what follows reads as UTF-16.
    if (b[0] === 0xff && b[1] === 0xfe && !(n >= 4 && b[2] === 0 && b[3] === 0) && plausibleUtf16(b.subarray(2), false)) return 'utf16le';
    if (b[0] === 0xfe && b[1] === 0xff && plausibleUtf16(b.subarray(2), true)) return 'utf16be';
  }
  // The common case, decided by two native calls: no NUL and valid UTF-8 is text.
  if (b.indexOf(0) === -1 && isUtf8(trimIncomplete(b))) return 'text';
  // Archives are never text (their members are read by their own rules), whatever their stored members hold.
  if (isZipMagic(b) || isGzipMagic(b)) return 'binary';
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

/**
 * Whether bytes after a BOM read as UTF-16: not ASCII or UTF-8 text (which has no NUL, and real
 * UTF-16 of any ASCII character has one), and at most one code unit in ten a control character,
 * a lone surrogate, private use or a non-character.
 */
function plausibleUtf16(b: Uint8Array, be: boolean): boolean {
  if (b.length < 2) return true;
  if (b.indexOf(0) === -1 && isUtf8(trimIncomplete(b))) return false;
  let units = 0;
  let bad = 0;
  const unitAt = (i: number): number => (be ? (b[i]! << 8) | b[i + 1]! : b[i]! | (b[i + 1]! << 8));
  for (let i = 0; i + 1 < b.length; i += 2) {
    const u = unitAt(i);
    units++;
    if (u < 0x20) {
      if (u !== 9 && u !== 10 && u !== 12 && u !== 13 && u !== 0x1b) bad++;
    } else if (u >= 0x7f && u <= 0x9f) bad++;
    else if (u >= 0xd800 && u <= 0xdbff) {
      const next = i + 3 < b.length ? unitAt(i + 2) : -1;
      if (next >= 0xdc00 && next <= 0xdfff) {
        i += 2;
        units++;
      } else if (next !== -1) bad++;
    } else if ((u >= 0xdc00 && u <= 0xdfff) || (u >= 0xe000 && u <= 0xf8ff) || u === 0xfffe || u === 0xffff) bad++;
  }
  return bad * 10 <= units;
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
  /** Text only: keep the findings that touch these lines (what a git range added). */
  onlyLines?: Uint32Array;
}

interface WindowResult {
  findings: Finding[];
  suppressed: number;
  /** Findings past the engine's per-buffer cap, not reported. */
  dropped?: number;
  /** Newlines (of the decoded text) before the next window's start, `CHUNK_SIZE` further on. */
  lines: number;
  /** Encoded values a decoded view left out (its budget spent). */
  viewCut?: number;
}

/**
 * One window: the whole content (first and last), or a chunk of a stream with its overlap.
 *
 * A kind only adds views of the bytes, never takes one away, so no first bytes can hide what
 * follows: text is scanned as it is, and where it holds a NUL, for UTF-16 runs too (placed on the
 * raw line they start on, so a text finding's line is always a raw `\n` line); UTF-16 is scanned
 * decoded and for printable runs (ASCII, and UTF-16 of either byte order and alignment); media and
 * other binaries for printable runs. A secret two views see is reported once, as the first saw it.
 */
function scanWindow(bytes: Buffer, kind: ContentKind, ctx: WindowContext): WindowResult {
  const allow: { inlineAllow?: false } = ctx.inlineAllow ? {} : { inlineAllow: false };
  const emitFrom = ctx.first ? 0 : CHUNK_MARGIN;
  const emitTo = ctx.last ? bytes.length : CHUNK_SIZE + CHUNK_MARGIN;
  const inWindow = (h: RunHit): boolean => h.start >= emitFrom && h.start < emitTo;
  if (kind === 'text') {
    const r = scanBytes(bytes, ctx.ruleset, {
      file: ctx.file,
      ...(ctx.lineMap ? { lineMap: ctx.lineMap } : { lineOffset: ctx.lineOffset }),
      ...(ctx.first ? {} : { emitFrom }),
      ...(ctx.last ? {} : { emitTo }),
      ...(ctx.onlyLines ? { onlyLines: ctx.onlyLines } : {}),
      ...allow,
    });
    const lines = ctx.last ? 0 : countNewlines(bytes, 0, CHUNK_SIZE);
    const v = decodedViewFindings(bytes, ctx, allow, inWindow);
    const findings = v.findings.length ? mergeDecoded(r.findings, v.findings) : r.findings;
    const viewPart = v.cut ? { viewCut: v.cut } : {};
    // The common case ends here: one more native call.
    if (bytes.indexOf(0) === -1) return { findings, suppressed: r.suppressed + v.suppressed, lines, dropped: r.dropped, ...viewPart };
    const u = utf16RunHits(bytes, ctx, allow);
    const place = rawLinePlacer(bytes, ctx);
    const extra = u.hits.filter(inWindow).map(place);
    return { findings: mergeViews(findings, extra), suppressed: r.suppressed + v.suppressed + u.suppressed, lines, dropped: r.dropped, ...viewPart };
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
    // What the decoding cannot show: ASCII behind a forged BOM, UTF-16 of the other order or alignment.
    const p = scanPrintableRuns(bytes, ctx, allow, inWindow);
    return {
      findings: mergeViews(r.findings, p.findings),
      suppressed: r.suppressed + p.suppressed,
      dropped: r.dropped,
      lines: ctx.last ? 0 : countNewlines(decoded, 0, bytesBefore(unit(CHUNK_SIZE))),
    };
  }
  // Media too: real PNG text chunks, EXIF comments and MP4 metadata hold secrets, and magic bytes are forgeable.
  const r = scanPrintableRuns(bytes, ctx, allow, inWindow);
  return { findings: r.findings, suppressed: r.suppressed, lines: 0 };
}

function hasBom(b: Buffer, kind: 'utf16le' | 'utf16be'): boolean {
  return kind === 'utf16le' ? b[0] === 0xff && b[1] === 0xfe : b[0] === 0xfe && b[1] === 0xff;
}

/** A finding of a printable-run view, with the byte offsets (in the window) of its secret. */
interface RunHit {
  f: Finding;
  start: number;
  end: number;
}

const viewKey = (f: Finding): string => `${f.ruleId}\0${f.fingerprint}`;

/** The first view's findings, and the others' that it did not report (same rule, same secret). */
function mergeViews(primary: Finding[], extra: Finding[]): Finding[] {
  if (!extra.length) return primary;
  const seen = new Set(primary.map(viewKey));
  const out = [...primary];
  for (const f of extra) {
    const k = viewKey(f);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out;
}

/**
 * The findings of a text window's decoded views (`views/scan-views.ts`), placed on the raw line
 * and column of the encoded text they came from. An allow comment on that raw line suppresses
 * them as it does a raw finding; in a git range only those on added lines are kept.
 */
function decodedViewFindings(
  bytes: Buffer,
  ctx: WindowContext,
  allow: { inlineAllow?: false },
  keep: (h: RunHit) => boolean,
): { findings: Finding[]; suppressed: number; cut: number } {
  const v = scanDecodedViews(bytes, ctx.ruleset, { file: ctx.file, ...allow });
  const hits = v.hits.filter(keep);
  if (!hits.length) return { findings: [], suppressed: v.suppressed, cut: v.cut };
  const place = rawLinePlacer(bytes, ctx);
  let suppressed = v.suppressed;
  const findings: Finding[] = [];
  for (const h of hits) {
    if (ctx.inlineAllow && allowedOnRawLine(bytes, h.start)) {
      suppressed++;
      continue;
    }
    const f = place(h);
    if (ctx.onlyLines && !touchesLine(ctx.onlyLines, f.startLine, f.endLine)) continue;
    findings.push(f);
  }
  return { findings, suppressed, cut: v.cut };
}

// The engine's inline allows (same line, or the line before for the next-line forms).
const SAME_LINE_ALLOWS = ['keywarden:allow', 'gitleaks:allow', 'secretlint-disable-line', 'pragma: allowlist secret'];
const NEXT_LINE_ALLOWS = ['keywarden:allow-next-line', 'secretlint-disable-next-line', 'pragma: allowlist nextline secret'];

/** Whether the raw line at `offset` (or an allow-next-line on the line before) suppresses findings. */
function allowedOnRawLine(bytes: Buffer, offset: number): boolean {
  const ls = bytes.lastIndexOf(10, offset - 1) + 1;
  let le = bytes.indexOf(10, offset);
  if (le === -1) le = bytes.length;
  const line = bytes.toString('latin1', ls, Math.min(le, ls + 64 * 1024));
  // `keywarden:allow` counts on its own, not as the start of `keywarden:allow-next-line`.
  if (/keywarden:allow(?!-next-line)/.test(line) || SAME_LINE_ALLOWS.slice(1).some((m) => line.includes(m))) return true;
  if (ls === 0) return false;
  const ps = bytes.lastIndexOf(10, ls - 2) + 1;
  const prev = bytes.toString('latin1', ps, Math.min(ls - 1, ps + 64 * 1024));
  return NEXT_LINE_ALLOWS.some((m) => prev.includes(m));
}

/**
 * Raw findings, and the decoded views' that none of them already reports: the same secret
 * (rule and fingerprint), or one of the same credential type on overlapping text (a base64 PEM
 * found raw and as the PEM it decodes to).
 */
function mergeDecoded(primary: Finding[], extra: Finding[]): Finding[] {
  const seen = new Set(primary.map(viewKey));
  const out = [...primary];
  const before = (l1: number, c1: number, l2: number, c2: number): boolean => l1 < l2 || (l1 === l2 && c1 <= c2);
  const overlaps = (a: Finding, b: Finding): boolean =>
    !before(a.endLine, a.endColumn, b.startLine, b.startColumn) && !before(b.endLine, b.endColumn, a.startLine, a.startColumn);
  // A view finding that covers more than the raw one of its type (a token joined from string
  // pieces, whose first piece alone matched raw) is kept beside it. The raw one stays: which of
  // the two is the real credential is not for the scanner to guess (`"sk_live_…" + "-suffix"`).
  const covers = (a: Finding, b: Finding): boolean =>
    before(a.startLine, a.startColumn, b.startLine, b.startColumn) &&
    before(b.endLine, b.endColumn, a.endLine, a.endColumn) &&
    !(a.startLine === b.startLine && a.startColumn === b.startColumn && a.endLine === b.endLine && a.endColumn === b.endColumn);
  for (const f of extra) {
    const k = viewKey(f);
    if (seen.has(k)) continue;
    // Bounded work: a buffer with thousands of findings both ways compares by secret only.
    if (primary.length * extra.length <= 1_000_000) {
      const same = out.filter((o) => o.type === f.type && overlaps(o, f));
      if (same.length && !same.every((o) => covers(f, o))) continue;
    }
    seen.add(k);
    out.push(f);
  }
  return out;
}

/** Places run hits of a text window on the raw line (and byte column) their secret starts on. */
function rawLinePlacer(bytes: Buffer, ctx: Pick<WindowContext, 'lineMap' | 'lineOffset'>): (h: RunHit) => Finding {
  const starts = lineStarts(bytes);
  const lineOf = (offset: number): number => lineIndexOf(starts, offset);
  const lineNo = (i: number): number => (ctx.lineMap ? (ctx.lineMap[i] ?? i + 1) : i + 1 + ctx.lineOffset);
  return ({ f, start, end }) => {
    const a = lineOf(start);
    const b = lineOf(Math.max(start, end - 1));
    return { ...f, startLine: lineNo(a), startColumn: start - starts[a]! + 1, endLine: lineNo(b), endColumn: Math.max(end, start + 1) - starts[b]! + 1 };
  };
}

/**
 * Printable runs of a binary, as `strings` finds them (>= 8 printable ASCII bytes; and UTF-16 runs
 * of >= 8 such characters, little- or big-endian, at either byte alignment). Findings come back on
 * line 1 with columns of 1 + their byte offset in the file (`ctx.base` + the offset in `bytes`),
 * only those `keep` keeps.
 */
function scanPrintableRuns(
  bytes: Buffer,
  ctx: { ruleset: Ruleset; file: string; base: number },
  allow: { inlineAllow?: false },
  keep: (h: RunHit) => boolean,
): { findings: Finding[]; suppressed: number } {
  const a = asciiRunHits(bytes, ctx, allow);
  const u = utf16RunHits(bytes, ctx, allow);
  const place = ({ f, start, end }: RunHit): Finding => onLineOne(f, ctx.base + start, ctx.base + end);
  return { findings: mergeViews(a.hits.filter(keep).map(place), u.hits.filter(keep).map(place)), suppressed: a.suppressed + u.suppressed };
}

/** ASCII runs: the same bytes, every byte outside a long run turned into a newline, so offsets stay those of the file and a key block stored with its newlines keeps its lines. */
function asciiRunHits(bytes: Buffer, ctx: { ruleset: Ruleset; file: string }, allow: { inlineAllow?: false }): { hits: RunHit[]; suppressed: number } {
  const n = bytes.length;
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
  const a = scanBytes(runs, ctx.ruleset, { file: ctx.file, ...allow });
  let starts: number[] | undefined;
  const offsetOf = (line: number, column: number): number => {
    starts ??= lineStarts(runs);
    return starts[line - 1]! + column - 1;
  };
  return { hits: a.findings.map((f) => ({ f, start: offsetOf(f.startLine, f.startColumn), end: offsetOf(f.endLine, f.endColumn) })), suppressed: a.suppressed };
}

/**
 * UTF-16 runs, little- and big-endian, at both byte alignments: each decoded into one line,
 * remembering the offset of its first character's low byte. One hit per secret and place.
 */
function utf16RunHits(bytes: Buffer, ctx: { ruleset: Ruleset; file: string }, allow: { inlineAllow?: false }): { hits: RunHit[]; suppressed: number } {
  const n = bytes.length;
  const printable = (c: number): boolean => (c >= 0x20 && c <= 0x7e) || c === 9;
  const text: number[] = [];
  const runOrigin: number[] = [];
  const addRun = (first: number, end: number): void => {
    runOrigin.push(first);
    for (let k = first; k < end; k += 2) text.push(bytes[k]!);
    text.push(10);
  };
  for (let parity = 0; parity < 2; parity++) {
    let le = parity; // start of the current little-endian run (pairs c, 0)
    let be = parity; // and big-endian (pairs 0, c)
    let i = parity;
    for (; i + 1 < n; i += 2) {
      const x = bytes[i]!;
      const y = bytes[i + 1]!;
      if (!(y === 0 && printable(x))) {
        if (i - le >= 2 * MIN_RUN) addRun(le, i);
        le = i + 2;
      }
      if (!(x === 0 && printable(y))) {
        if (i - be >= 2 * MIN_RUN) addRun(be + 1, i + 1);
        be = i + 2;
      }
    }
    if (i - le >= 2 * MIN_RUN) addRun(le, i);
    if (i - be >= 2 * MIN_RUN) addRun(be + 1, i + 1);
  }
  if (!runOrigin.length) return { hits: [], suppressed: 0 };
  const u = scanBytes(Buffer.from(text), ctx.ruleset, { file: ctx.file, ...allow });
  const hits: RunHit[] = [];
  const seen = new Set<string>();
  for (const f of u.findings) {
    const start = runOrigin[f.startLine - 1]! + 2 * (f.startColumn - 1);
    const key = `${viewKey(f)}\0${start}`;
    if (seen.has(key)) continue; // the same characters seen as both byte orders
    seen.add(key);
    hits.push({ f, start, end: runOrigin[f.endLine - 1]! + 2 * (f.endColumn - 1) });
  }
  return { hits, suppressed: u.suppressed };
}

function onLineOne(f: Finding, start: number, end: number): Finding {
  return { ...f, startLine: 1, startColumn: start + 1, endLine: 1, endColumn: Math.max(end, start + 1) + 1 };
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

/** What one file may expand to, all its archives' members together, and what was left out. */
interface ArchiveBudget {
  /** Output bytes still allowed (every attempt is charged, kept or not). */
  left: number;
  cut: string[];
  notes: Map<string, number>;
}

/** Archives are unpacked this deep: a file's members, and the members of an archive among them. */
const MAX_ARCHIVE_DEPTH = 2;

/** Scans content held whole: one window, archive members included. */
function scanWhole(
  bytes: Buffer,
  file: string,
  ruleset: Ruleset,
  options: { inlineAllow?: boolean; maxFileSize?: number },
  lineMap?: ArrayLike<number>,
  depth = 0,
  budget: ArchiveBudget = { left: options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE, cut: [], notes: new Map() },
  onlyLines?: Uint32Array,
): FileScanResult {
  const kind = classifyContent(bytes);
  const warnings: ScanWarning[] = kind === 'text' && depth === 0 && !isUtf8(bytes) ? [invalidUtf8(file)] : [];
  const ctx: WindowContext = { ruleset, file, inlineAllow: options.inlineAllow ?? true, base: 0, first: true, last: true, lineOffset: 0, ...(lineMap && kind !== 'binary' && kind !== 'media' ? { lineMap } : {}), ...(onlyLines && kind === 'text' ? { onlyLines } : {}) };
  const r = scanWindow(bytes, kind, ctx);
  if (r.dropped) warnings.push(tooManyFindings(file, r.dropped));
  if (r.viewCut) warnings.push(viewPartial(file, r.viewCut));
  let findings = r.findings;
  let suppressed = r.suppressed;
  const keystore = kind === 'text' ? undefined : keystoreKind(bytes, depth === 0 ? file : '');
  if (keystore) {
    const k = keystoreFindings(bytes, keystore, file, ruleset, options.inlineAllow ?? true);
    findings = [...findings, ...k];
  }
  // An archive is unpacked whatever its first bytes look like (a self-extracting stub can be text).
  const zip = findZip(bytes);
  const gzip = !zip && isGzipMagic(bytes);
  if (zip || gzip) {
    if (depth >= MAX_ARCHIVE_DEPTH) note(budget, 'nested too deep to unpack (scanned for printable runs)');
    else {
      const z = zip ? scanZipMembers(bytes, zip, file, ruleset, options, depth, budget) : scanGzip(bytes, file, ruleset, options, depth, budget);
      // A text container keeps its contract: every finding on a raw line (the member's data start).
      const place = kind === 'text' ? rawLinePlacer(bytes, { lineOffset: 0, ...(lineMap ? { lineMap } : {}) }) : undefined;
      const inMembers = z.findings.map(({ f, at }) => (place ? { ...place({ f, start: at, end: at + 1 }), member: f.member! } : f));
      // A stored member's secret is also a printable run of the archive: report it in the member.
      const fps = new Set(inMembers.map((f) => f.fingerprint));
      findings = [...findings.filter((f) => !fps.has(f.fingerprint)), ...inMembers];
      suppressed += z.suppressed;
    }
  }
  const result: FileScanResult = { findings, suppressed, bytes: bytes.length, scanned: true, warnings };
  if (depth === 0 && (budget.cut.length || budget.notes.size)) {
    warnings.push(archivePartial(file, budget));
    if (budget.cut.length) result.skipped = { file, reason: 'too-large', detail: 'archive members over the size limit' };
  }
  return result;
}

/** Encoded values a decoded view left out: said, never silent. */
function viewPartial(file: string, cut: number): ScanWarning {
  return {
    code: 'KW_VIEW_PARTIAL',
    message: `${escapeName(file)}: ${cut} encoded value(s) or string(s) were not decoded (over the decoding budget or too long); the raw text was scanned.`,
    file,
  };
}

const KEYSTORE_EXTENSIONS: Record<string, KeystoreKind> = { p12: 'pkcs12', pfx: 'pkcs12', jks: 'jks', keystore: 'jks', jceks: 'jceks', bks: 'bks', bcfks: 'bks' };
/** The OID arc of PKCS#7 content types (`1.2.840.113549.1.7`), which a PKCS#12 `authSafe` starts with. */
const PKCS7_OID = Buffer.from([0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07]);

/**
 * The keystore a binary is, from its magic bytes (JKS `FEEDFEED`, JCEKS `CECECECE`, a PKCS#12 PFX:
 * a DER SEQUENCE, version 3, then PKCS#7 content), or else from its extension.
 */
export function keystoreKind(b: Buffer, file: string): KeystoreKind | undefined {
  if (b.length >= 8 && b.readUInt32BE(0) === 0xfeedfeed) return 'jks';
  if (b.length >= 8 && b.readUInt32BE(0) === 0xcececece) return 'jceks';
  if (b.length >= 24 && b[0] === 0x30) {
    const lenBytes = b[1]! & 0x80 ? b[1]! & 0x7f : 0;
    const p = 2 + lenBytes;
    if (lenBytes <= 4 && b[p] === 0x02 && b[p + 1] === 0x01 && b[p + 2] === 0x03 && b[p + 3] === 0x30) {
      const oid = b.indexOf(PKCS7_OID, p + 4);
      if (oid !== -1 && oid <= p + 12) return 'pkcs12';
    }
  }
  const ext = /\.([A-Za-z0-9]{2,8})$/.exec(file)?.[1]?.toLowerCase();
  return ext !== undefined && b.length >= 32 ? KEYSTORE_EXTENSIONS[ext] : undefined;
}

/** A keystore as one finding on line 1 (through the `private-key-keystore` detector, if selected). */
function keystoreFindings(b: Buffer, kind: KeystoreKind, file: string, ruleset: Ruleset, inlineAllow: boolean): Finding[] {
  const marker = Buffer.from(keystoreMarker(kind, createHash('sha256').update(b).digest('hex')), 'latin1');
  const r = scanBytes(marker, ruleset, { file, ...(inlineAllow ? {} : { inlineAllow: false }) });
  return r.findings.map((f) => ({ ...f, startLine: 1, startColumn: 1, endLine: 1, endColumn: b.length + 1 }));
}

function note(budget: ArchiveBudget, what: string): void {
  budget.notes.set(what, (budget.notes.get(what) ?? 0) + 1);
}

function archivePartial(file: string, budget: ArchiveBudget): ScanWarning {
  const parts: string[] = [];
  if (budget.cut.length) {
    const names = budget.cut.slice(0, 3).map(escapeName).join(', ');
    parts.push(`${budget.cut.length} member(s) cut or left out at the size limit (${names}${budget.cut.length > 3 ? ', …' : ''}); raise --max-file-size to scan more`);
  }
  for (const [what, count] of budget.notes) parts.push(`${count} member(s) ${what}`);
  return { code: 'KW_ARCHIVE_PARTIAL', message: `${escapeName(file)} is an archive not scanned in full: ${parts.join('; ')}.`, file };
}

// ---------------------------------------------------------------------------------------------
// Archive members
// ---------------------------------------------------------------------------------------------

/** A member's finding, with the offset of the member's data in the container. */
interface MemberFinding {
  f: Finding & { member: string };
  at: number;
}

interface MembersResult {
  findings: MemberFinding[];
  suppressed: number;
}

function isZipMagic(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && ((b[2] === 3 && b[3] === 4) || (b[2] === 5 && b[3] === 6));
}

function isGzipMagic(b: Uint8Array): boolean {
  return b.length >= 18 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 8;
}

const EOCD = Buffer.from([0x50, 0x4b, 5, 6]);
/** The end-of-central-directory record is in the last 22 bytes + the longest comment. */
const EOCD_SEARCH = 22 + 0xffff;

/**
 * The central directory of a zip, found from the end as unzip finds it, so an archive behind a
 * prefix (a self-extracting stub, a shell-stub jar) is one too: `shift` is the prefix's length,
 * added to every offset the archive records.
 */
function findZip(b: Buffer): { count: number; cd: number; shift: number } | undefined {
  if (b.length < 22) return undefined;
  const from = Math.max(0, b.length - EOCD_SEARCH);
  const tail = b.subarray(from);
  let t = tail.lastIndexOf(EOCD, tail.length - 22);
  for (let tries = 0; t >= 0 && tries < 16; tries++, t = t > 0 ? tail.lastIndexOf(EOCD, t - 1) : -1) {
    const i = from + t;
    const count = b.readUInt16LE(i + 10);
    const cdSize = b.readUInt32LE(i + 12);
    const cdOffset = b.readUInt32LE(i + 16);
    const shift = i - cdSize - cdOffset;
    if (shift < 0) continue;
    if (count === 0) return isZipMagic(b) ? { count, cd: i, shift } : undefined;
    const cd = cdOffset + shift;
    if (cd + 46 <= b.length && b.readUInt32LE(cd) === 0x02014b50) return { count, cd, shift };
  }
  return undefined;
}

/** An end-of-central-directory record ends these bytes (its comment runs to the last byte). */
function endsLikeZip(b: Buffer): boolean {
  const from = Math.max(0, b.length - EOCD_SEARCH);
  const tail = b.subarray(from);
  for (let t = tail.lastIndexOf(EOCD, tail.length - 22), tries = 0; t >= 0 && tries < 16; t = t > 0 ? tail.lastIndexOf(EOCD, t - 1) : -1, tries++) {
    if (t + 22 + tail.readUInt16LE(t + 20) === tail.length) return true;
  }
  return false;
}

/**
 * Inflates at most `limit` bytes; `cut` when there was more. The first bytes of a stream that
 * inflates past the limit come from ever longer prefixes of its input (a deflate byte inflates to
 * at most 1,032), so the cost stays a few times the limit.
 */
function inflateBounded(data: Buffer, gzip: boolean, limit: number, declared?: number): { out: Buffer; cut: boolean; corrupt: boolean } {
  const run = (input: Buffer): Buffer =>
    (gzip ? gunzipSync : inflateRawSync)(input, { maxOutputLength: Math.max(1, limit), finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const tooLarge = (e: unknown): boolean => (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
  const first = Math.max(64, Math.floor(limit / 1032));
  if (data.length <= first || declared === undefined || declared <= limit) {
    try {
      return { out: run(data), cut: false, corrupt: false };
    } catch (e) {
      if (!tooLarge(e)) return { out: Buffer.alloc(0), cut: false, corrupt: true };
    }
  }
  let best: Buffer = Buffer.alloc(0);
  for (let p = first; ; p *= 2) {
    const n = Math.min(p, data.length);
    try {
      best = run(data.subarray(0, n));
    } catch (e) {
      return { out: best, cut: tooLarge(e), corrupt: !tooLarge(e) };
    }
    if (n === data.length) return { out: best, cut: false, corrupt: false };
    if (best.length >= limit) return { out: best.subarray(0, limit), cut: true, corrupt: false };
  }
}

/** Charges an inflation to the budget: a cut used all of it; a failed one what it may have made. */
function charge(budget: ArchiveBudget, limit: number, x: { out: Buffer; cut: boolean; corrupt: boolean }, input: number): void {
  if (x.cut) budget.left = 0;
  else if (x.corrupt) budget.left = Math.max(0, limit - Math.max(x.out.length, Math.min(limit, 1032 * input + 1024)));
  else budget.left = limit - x.out.length;
}

/** Scans expanded member content at the next depth; charges the budget for what was expanded. */
function scanMember(
  content: Buffer,
  name: string,
  at: number,
  file: string,
  ruleset: Ruleset,
  options: { inlineAllow?: boolean; maxFileSize?: number },
  depth: number,
  budget: ArchiveBudget,
  out: MembersResult,
): void {
  const r = scanWhole(content, file, ruleset, options, undefined, depth + 1, budget);
  for (const f of r.findings) out.findings.push({ f: { ...f, member: f.member === undefined ? name : `${name}!/${f.member}` }, at });
  out.suppressed += r.suppressed;
}

/**
 * The stored and deflated members of a zip archive, from its central directory; each is scanned
 * by the rules of a file (an archive among them unpacked once more). Every member of a file, at
 * any depth, shares one budget of `maxFileSize` expanded bytes, charged for every attempt; each
 * local header is expanded once and no two members may claim more compressed bytes than the
 * archive holds, so overlapping entries and zip bombs cost no more than a big file. What is left
 * out (over the budget, encrypted, zip64, other methods, corrupt) is noted for a warning.
 */
function scanZipMembers(
  b: Buffer,
  zip: { count: number; cd: number; shift: number },
  file: string,
  ruleset: Ruleset,
  options: { inlineAllow?: boolean; maxFileSize?: number },
  depth: number,
  budget: ArchiveBudget,
): MembersResult {
  const out: MembersResult = { findings: [], suppressed: 0 };
  interface Entry {
    name: string;
    flags: number;
    method: number;
    compSize: number;
    size: number;
    local: number;
  }
  const entries: Entry[] = [];
  let p = zip.cd;
  let k = 0;
  for (; k < zip.count && p + 46 <= b.length && b.readUInt32LE(p) === 0x02014b50; k++) {
    if (entries.length === MAX_ZIP_MEMBERS) {
      note(budget, `past the first ${MAX_ZIP_MEMBERS} of an archive not read`);
      break;
    }
    const nameLen = b.readUInt16LE(p + 28);
    entries.push({
      name: displayName(b.subarray(p + 46, Math.min(b.length, p + 46 + nameLen))),
      flags: b.readUInt16LE(p + 8),
      method: b.readUInt16LE(p + 10),
      compSize: b.readUInt32LE(p + 20),
      size: b.readUInt32LE(p + 24),
      local: b.readUInt32LE(p + 42) + zip.shift,
    });
    p += 46 + nameLen + b.readUInt16LE(p + 30) + b.readUInt16LE(p + 32);
  }
  // Small members first: a padding member cannot use the budget up before a small secret is read.
  entries.sort((x, y) => x.compSize - y.compSize);
  const expanded = new Set<number>();
  let inputLeft = b.length;
  for (const e of entries) {
    if (e.name.endsWith('/') && e.size === 0) continue;
    if (expanded.has(e.local)) continue; // another entry for the same bytes: already scanned
    expanded.add(e.local);
    if (e.flags & 1) {
      note(budget, 'encrypted, not scanned');
      continue;
    }
    if (e.compSize === 0xffffffff || e.size === 0xffffffff) {
      note(budget, 'in zip64 form, not scanned (the archive was scanned for printable runs)');
      continue;
    }
    if (e.method !== 0 && e.method !== 8) {
      note(budget, `compressed with method ${e.method}, not scanned`);
      continue;
    }
    if (e.local + 30 > b.length || b.readUInt32LE(e.local) !== 0x04034b50) {
      note(budget, 'without a local header, not scanned');
      continue;
    }
    const dataStart = e.local + 30 + b.readUInt16LE(e.local + 26) + b.readUInt16LE(e.local + 28);
    if (dataStart + e.compSize > b.length) {
      note(budget, 'cut short, not scanned');
      continue;
    }
    if (e.compSize > inputLeft) {
      note(budget, 'overlapping others, not scanned');
      continue;
    }
    inputLeft -= e.compSize;
    if (budget.left <= 0) {
      budget.cut.push(e.name);
      continue;
    }
    const data = b.subarray(dataStart, dataStart + e.compSize);
    let content: Buffer;
    if (e.method === 0) {
      content = data.length > budget.left ? data.subarray(0, budget.left) : data;
      if (content.length < data.length) budget.cut.push(e.name);
      budget.left -= content.length;
    } else {
      const limit = budget.left;
      const x = inflateBounded(data, false, limit, e.size);
      charge(budget, limit, x, data.length);
      if (x.cut) budget.cut.push(e.name);
      if (x.corrupt) note(budget, 'corrupt, not scanned in full');
      content = x.out;
      if (!content.length) continue;
    }
    scanMember(content, e.name, dataStart, file, ruleset, options, depth, budget, out);
  }
  return out;
}

/** The content of a gzip file (every member of it), scanned as a file is, within the budget. */
function scanGzip(
  b: Buffer,
  file: string,
  ruleset: Ruleset,
  options: { inlineAllow?: boolean; maxFileSize?: number },
  depth: number,
  budget: ArchiveBudget,
): MembersResult {
  const out: MembersResult = { findings: [], suppressed: 0 };
  const base = file.slice(file.lastIndexOf('/') + 1);
  const name = gzipName(b) ?? (base.replace(/\.tgz$/i, '.tar').replace(/\.gz$/i, '') || 'content');
  if (budget.left <= 0) {
    budget.cut.push(name);
    return out;
  }
  const limit = budget.left;
  const x = inflateBounded(b, true, limit);
  charge(budget, limit, x, b.length);
  if (x.cut) budget.cut.push(name);
  if (x.corrupt) note(budget, 'corrupt, not scanned in full');
  scanMember(x.out, name, 0, file, ruleset, options, depth, budget, out);
  return out;
}

/** The original file name a gzip header records (FNAME), if any. */
function gzipName(b: Buffer): string | undefined {
  const flags = b[3]!;
  if (!(flags & 8)) return undefined;
  let p = 10;
  if (flags & 4) p += 2 + b.readUInt16LE(10);
  const end = b.indexOf(0, p);
  if (end < 0 || end - p > 1024) return undefined;
  return end > p ? displayName(b.subarray(p, end)) : undefined;
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
  const maxWhole = options.maxFileSize ?? DEFAULT_MAX_FILE_SIZE;
  let buf = Buffer.allocUnsafe(64 * 1024);
  let len = 0;
  let base = 0;
  let total = 0;
  let kind: ContentKind | undefined;
  let lineOffset = 0;
  /** UTF-16 units from the start of the line the window starts in to the window's start. */
  let columnOffset = 0;
  let first = true;
  let ended = false;
  let warnedUtf8 = false;
  /** An archive is held whole (up to the size limit), so its members can be read. */
  let whole = false;
  const findings: Finding[] = [];
  const warnings: ScanWarning[] = [];
  let suppressed = 0;
  let dropped = 0;
  let viewCut = 0;

  const flush = (last: boolean): void => {
    kind ??= classifyContent(buf.subarray(0, len));
    const window = buf.subarray(0, len);
    if (kind === 'text' && !warnedUtf8 && !isUtf8(trimIncomplete(skipContinuation(window)))) {
      warnedUtf8 = true;
      warnings.push(invalidUtf8(rel));
    }
    const r = scanWindow(window, kind, { ruleset, file: rel, inlineAllow: options.inlineAllow ?? true, base, first, last, lineOffset });
    // The window's first line may have begun in an earlier window: its columns count from there.
    if (columnOffset) for (const f of r.findings) shiftFirstLine(f, lineOffset + 1, columnOffset);
    findings.push(...r.findings);
    suppressed += r.suppressed;
    dropped += r.dropped ?? 0;
    viewCut += r.viewCut ?? 0;
    lineOffset += r.lines;
    if (!last) columnOffset = columnAfter(window, kind, first, columnOffset);
  };

  return {
    push(chunk) {
      if (ended) throw new Error('push after end');
      total += chunk.length;
      let i = 0;
      while (i < chunk.length) {
        if (len === cap && first && !whole && (isZipMagic(buf) || isGzipMagic(buf))) whole = true;
        const limit = whole ? maxWhole : cap;
        if (whole && len >= limit) return; // past the size limit: the caller counts it
        if (len === cap && !whole) {
          flush(false);
          // The next window starts CHUNK_SIZE further on, so it re-reads the overlap.
          buf.copy(buf, 0, CHUNK_SIZE, cap);
          len = CHUNK_OVERLAP;
          base += CHUNK_SIZE;
          first = false;
        }
        const room = whole ? limit : cap;
        if (buf.length < Math.min(room, len + chunk.length - i)) {
          const grown = Buffer.allocUnsafe(Math.min(room, Math.max(buf.length * 2, len + chunk.length - i)));
          buf.copy(grown, 0, 0, len);
          buf = grown;
        }
        const n = Math.min(chunk.length - i, room - len);
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
      // An archive behind a prefix is known only from its end: too late to read its members.
      if (endsLikeZip(buf.subarray(0, len))) {
        warnings.push({
          code: 'KW_ARCHIVE_PARTIAL',
          message: `${escapeName(rel)} ends like a zip archive behind a prefix; it is larger than one window, so its members were not unpacked (it was scanned for printable runs).`,
          file: rel,
        });
      }
      if (dropped) warnings.push(tooManyFindings(rel, dropped));
      if (viewCut) warnings.push(viewPartial(rel, viewCut));
      return { findings, suppressed, bytes: total, scanned: true, warnings };
    },
  };
}

/**
 * The column offset of the next window, which starts `CHUNK_SIZE` into this one: the UTF-16 units
 * of its line before that point (`offset` more when the line began before this window). Binary
 * kinds place findings by byte offset on line 1 and need none. Cheap unless a line is very long.
 */
function columnAfter(window: Buffer, kind: ContentKind, first: boolean, offset: number): number {
  if (kind === 'text') {
    const nl = window.lastIndexOf(10, CHUNK_SIZE - 1);
    const units = window.toString('utf8', nl + 1, CHUNK_SIZE).length;
    return nl === -1 ? offset + units : units;
  }
  if (kind === 'utf16le' || kind === 'utf16be') {
    const start = first && hasBom(window, kind) ? 2 : 0;
    let units = window.subarray(start, CHUNK_SIZE);
    if (kind === 'utf16be') units = Buffer.from(units).swap16();
    const text = units.toString('utf16le');
    const nl = text.lastIndexOf('\n');
    return nl === -1 ? offset + text.length : text.length - nl - 1;
  }
  return 0;
}

/** Adds `offset` to the columns a finding has on `line` (the first line of its window). */
function shiftFirstLine(f: Finding, line: number, offset: number): void {
  if (f.startLine !== line) return;
  f.startColumn += offset;
  if (f.endLine === line) f.endColumn += offset;
}

/** Without the continuation bytes a window may start with (it can begin inside a character). */
function skipContinuation(b: Buffer): Buffer {
  let s = 0;
  while (s < 3 && s < b.length && (b[s]! & 0xc0) === 0x80) s++;
  return s ? b.subarray(s) : b;
}
