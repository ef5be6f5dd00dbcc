/**
 * Reading and writing hook scripts and hook-manager configuration without being led elsewhere.
 *
 * Security properties: a target is never written through a symlink, and neither is any folder
 * between the work tree's top and a target inside it (a cloned repository can make `.husky` a
 * link to another folder); the target must be a regular file or absent. Writes go to a fresh
 * temporary file in the same folder (O_EXCL, so a planted name cannot redirect it) and are
 * renamed over the target, which replaces a directory entry and never follows one. Reads open
 * with O_NOFOLLOW and are bounded.
 */
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, unlinkSync, writeSync, fsyncSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { readFdText } from '../util/read-fd.js';
import { ErrorCode, KeywardenError } from '../errors.js';

const MAX_BYTES = 1024 * 1024;

function refused(file: string, why: string): KeywardenError {
  return new KeywardenError(ErrorCode.HOOK_PATH_REFUSED, `${file} ${why}; Keywarden does not write through it.`, {
    fault: 'user',
    hint: 'Replace it with a regular file (or remove it), or add Keywarden to it by hand (see docs/hooks.md).',
    details: { file },
  });
}

function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Checks that `file` can be written safely: a regular file or absent, in a real folder. With
 * `top`, every folder from `top` down to the file's must be a real folder (or absent).
 */
export function assertSafeTarget(file: string, top?: string): void {
  const dir = path.dirname(file);
  const rel = top ? path.relative(top, dir) : '';
  if (top && rel && !rel.startsWith('..') && !path.isAbsolute(rel)) {
    let at = top;
    for (const part of rel.split(path.sep)) {
      at = path.join(at, part);
      const st = lstatOrUndefined(at);
      if (!st) break;
      if (st.isSymbolicLink()) throw refused(at, 'is a symlink');
      if (!st.isDirectory()) throw refused(at, 'is not a folder');
    }
  } else {
    const st = lstatOrUndefined(dir);
    if (st?.isSymbolicLink()) throw refused(dir, 'is a symlink');
    if (st && !st.isDirectory()) throw refused(dir, 'is not a folder');
  }
  const st = lstatOrUndefined(file);
  if (st?.isSymbolicLink()) throw refused(file, 'is a symlink');
  if (st && !st.isFile()) throw refused(file, 'is not a regular file');
}

/** The file's text and mode, or undefined when it does not exist. Never follows a symlink. */
export function readTarget(file: string): { text: string; mode: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | (constants.O_NONBLOCK ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw refused(file, 'is a symlink');
    throw new KeywardenError(ErrorCode.FILE_UNREADABLE, `${file} could not be read (${code ?? 'error'}).`, { fault: 'user', details: { file } });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw refused(file, 'is not a regular file');
    if (st.size > MAX_BYTES) throw refused(file, `is larger than ${MAX_BYTES} bytes`);
    return { text: readFdText(fd, st.size), mode: st.mode & 0o7777 };
  } finally {
    closeSync(fd);
  }
}

/** Writes `text` to `file` through a temporary file and a rename; creates missing folders. */
export function writeTarget(file: string, text: string, mode: number, top?: string): void {
  assertSafeTarget(file, top);
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true });
  assertSafeTarget(file, top);
  const tmp = path.join(dir, `.${path.basename(file)}.keywarden-${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    fchmodSync(fd, mode); // the umask does not decide whether git can run the hook
    const buf = Buffer.from(text, 'utf8');
    let at = 0;
    while (at < buf.length) at += writeSync(fd, buf, at, buf.length - at);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Deletes `file` (the directory entry itself: a symlink is refused before, never followed). */
export function removeTarget(file: string, top?: string): void {
  assertSafeTarget(file, top);
  unlinkSync(file);
}
