/**
 * Creates the folders Keywarden keeps its databases in, git-ignored from the first moment.
 *
 * Security: a keystore or audit log committed by accident is a leak that outlives any
 * rotation (the history keeps it). So the first thing written into a folder Keywarden creates
 * is a `.gitignore` holding `*`, before any database file exists; the `*` covers the
 * `.gitignore` itself, so `git status` shows nothing at all. A folder that already existed is
 * left alone (it may be the repository root), except a `.keywarden` folder that lacks one.
 */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';

const IGNORE_ALL = '# Keywarden state: keystore, audit log, idempotency records. Never commit.\n*\n';

function writeIgnore(dir: string): void {
  try {
    writeFileSync(join(dir, '.gitignore'), IGNORE_ALL, { flag: 'wx', mode: 0o600 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Makes `dir` (mode 0700) and any missing parents; the topmost folder it creates gets the `.gitignore`. */
export function ensureStateDir(dir: string): void {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let d = target; !exists(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const [i, d] of missing.entries()) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      // Another process made it first: it writes the .gitignore; writing it too is harmless.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (i === 0) writeIgnore(d);
  }
  if (missing.length === 0 && basename(target) === '.keywarden') writeIgnore(target);
}
