/**
 * Entry paths: how a tree entry names what to open. Apart from read-file.ts (which re-exports
 * them) so that listing a tree, as `keywarden check` does, loads no scanner.
 */
import { isUtf8 } from 'node:buffer';
import type { SkipReason } from '../types.js';

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
