/**
 * Reads one file for the scanner: skips binaries and oversized files (counted, never silent),
 * streams large files in overlapping chunks so memory stays flat, and reports unreadable
 * files and invalid UTF-8 as warnings while the rest of the scan goes on.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { scanBytes, type Ruleset } from '../engine.js';
import type { Finding, ScanWarning, Skipped } from '../types.js';

export const DEFAULT_MAX_FILE_SIZE = 50 * 1024 * 1024;
/** Files above this are read in chunks of this size. */
export const CHUNK_SIZE = 8 * 1024 * 1024;
/** Bytes shared by consecutive chunks; larger than any detector window plus the longest secret. */
export const CHUNK_OVERLAP = 64 * 1024;
/** Findings are emitted from this far into a chunk's overlap, so a keyword just before still counts. */
const CHUNK_MARGIN = 32 * 1024;
const SNIFF = 8000;

// Extensions that are never text; skipped without reading.
const BINARY_EXT = new Set(
  'png jpg jpeg gif bmp ico webp tif tiff psd avif heic mp3 mp4 m4a wav ogg flac webm mov avi mkv zip gz tgz bz2 xz 7z rar zst jar war ear class dll exe so dylib o a lib node wasm pdf woff woff2 ttf otf eot pyc pyo db sqlite sqlite3 bin dat iso dmg'.split(' '),
);

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

export function isBinaryPath(rel: string): boolean {
  const dot = rel.lastIndexOf('.');
  if (dot === -1 || dot < rel.lastIndexOf('/')) return false;
  return BINARY_EXT.has(rel.slice(dot + 1).toLowerCase());
}

/** True if the bytes look binary: a NUL byte in the first 8,000 (git's own test). */
export function looksBinary(bytes: Uint8Array): boolean {
  return bytes.subarray(0, SNIFF).indexOf(0) !== -1;
}

// One read buffer per thread, grown on demand and reused for every file: no allocation and no
// garbage per file. Safe because findings never keep a view of the bytes.
let scratch = Buffer.allocUnsafeSlow(1024 * 1024);
function scratchOf(size: number): Buffer {
  if (scratch.length < size) scratch = Buffer.allocUnsafeSlow(Math.max(size, scratch.length * 2));
  return scratch;
}

export function scanFile(absPath: string, rel: string, ruleset: Ruleset, options: ReadFileOptions): FileScanResult {
  const empty = (skipped: Skipped, warnings: ScanWarning[] = []): FileScanResult => ({
    findings: [],
    suppressed: 0,
    bytes: 0,
    scanned: false,
    skipped,
    warnings,
  });
  if (isBinaryPath(rel)) return empty({ file: rel, reason: 'binary' });
  let fd: number;
  try {
    fd = openSync(absPath, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    // A path listed by git but deleted from the work tree is not an error.
    if (code === 'ENOENT') return empty({ file: rel, reason: 'unreadable', detail: code });
    return empty({ file: rel, reason: 'unreadable', detail: code }, [unreadable(rel, code)]);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return empty({ file: rel, reason: 'unreadable', detail: 'not a regular file' });
    const size = st.size;
    if (size > options.maxFileSize) return empty({ file: rel, reason: 'too-large', detail: String(size) });
    if (size <= CHUNK_SIZE) {
      const buf = scratchOf(size);
      let got = 0;
      while (got < size) {
        const r = readSync(fd, buf, got, size - got, got);
        if (r === 0) break;
        got += r;
      }
      const bytes = buf.subarray(0, got);
      if (looksBinary(bytes)) return empty({ file: rel, reason: 'binary' });
      const warnings: ScanWarning[] = [];
      if (!isUtf8(bytes)) warnings.push(invalidUtf8(rel));
      const r = scanBytes(bytes, ruleset, { file: rel, ...(options.inlineAllow === false ? { inlineAllow: false } : {}) });
      return { findings: r.findings, suppressed: r.suppressed, bytes: got, scanned: true, warnings };
    }
    return scanChunked(fd, size, rel, ruleset, options);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    return empty({ file: rel, reason: 'unreadable', detail: code }, [unreadable(rel, code)]);
  } finally {
    closeSync(fd);
  }
}

function scanChunked(fd: number, size: number, rel: string, ruleset: Ruleset, options: ReadFileOptions): FileScanResult {
  const buf = scratchOf(CHUNK_SIZE + CHUNK_OVERLAP);
  const findings: Finding[] = [];
  let suppressed = 0;
  let pos = 0;
  let lineOffset = 0;
  let first = true;
  const warnings: ScanWarning[] = [];
  while (pos < size) {
    const want = Math.min(CHUNK_SIZE + CHUNK_OVERLAP, size - pos);
    let got = 0;
    while (got < want) {
      const r = readSync(fd, buf, got, want - got, pos + got);
      if (r === 0) break;
      got += r;
    }
    const chunk = buf.subarray(0, got);
    if (first && looksBinary(chunk)) {
      return { findings: [], suppressed: 0, bytes: 0, scanned: false, skipped: { file: rel, reason: 'binary' }, warnings };
    }
    const last = pos + got >= size;
    const emitFrom = first ? 0 : CHUNK_MARGIN;
    const emitTo = last ? got : CHUNK_SIZE + CHUNK_MARGIN;
    const r = scanBytes(chunk, ruleset, {
      file: rel,
      lineOffset,
      emitFrom,
      emitTo,
      ...(options.inlineAllow === false ? { inlineAllow: false } : {}),
    });
    findings.push(...r.findings);
    suppressed += r.suppressed;
    if (last) break;
    // Next chunk starts CHUNK_SIZE further on, so it re-reads the overlap.
    lineOffset += countNewlines(chunk, 0, CHUNK_SIZE);
    pos += CHUNK_SIZE;
    first = false;
  }
  return { findings, suppressed, bytes: size, scanned: true, warnings };
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

function unreadable(file: string, code: string): ScanWarning {
  return { code: 'KW_FILE_UNREADABLE', message: `Could not read ${file} (${code}); it was skipped.`, file };
}

export function invalidUtf8(file: string): ScanWarning {
  return {
    code: 'KW_INVALID_UTF8',
    message: `${file} is not valid UTF-8; it was scanned as far as it could be decoded.`,
    file,
  };
}

/** Scans a buffer that did not come from a file on disk (a git blob, added lines, stdin). */
export function scanUnit(
  item: { file: string; content: Uint8Array; lineMap?: ArrayLike<number> },
  ruleset: Ruleset,
  options: Pick<ReadFileOptions, 'inlineAllow'>,
): FileScanResult {
  const bytes = Buffer.from(item.content.buffer, item.content.byteOffset, item.content.byteLength);
  if (looksBinary(bytes)) {
    return { findings: [], suppressed: 0, bytes: 0, scanned: false, skipped: { file: item.file, reason: 'binary' }, warnings: [] };
  }
  const warnings: ScanWarning[] = isUtf8(bytes) ? [] : [invalidUtf8(item.file)];
  const r = scanBytes(bytes, ruleset, {
    file: item.file,
    ...(item.lineMap ? { lineMap: item.lineMap } : {}),
    ...(options.inlineAllow === false ? { inlineAllow: false } : {}),
  });
  return { findings: r.findings, suppressed: r.suppressed, bytes: bytes.length, scanned: true, warnings };
}
