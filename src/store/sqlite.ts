/**
 * Opens Keywarden's SQLite files the one safe way: the file created with mode 0600 before
 * SQLite touches it (SQLite gives its -wal and -shm files the same mode), WAL journaling so
 * readers never block the writer, a busy timeout so two processes queue instead of failing,
 * and `secure_delete` so freed pages are zeroed rather than left on disk.
 */
import { chmodSync, closeSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode, KeywardenError } from '../errors.js';
import { ensureStateDir } from './state-dir.js';

export type SqliteDatabase = Database.Database;

export interface OpenDatabaseOptions {
  /** Milliseconds to wait for another writer. Default 10 s. */
  busyTimeoutMs?: number;
  /**
   * Open an existing file read-only: nothing is created, no schema is written, no pragma is
   * changed. What `audit verify` uses, so verifying never creates an empty log in place of a
   * deleted one.
   */
  readonly?: boolean;
}

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  try {
    if (options.readonly) {
      const db = new Database(path, { readonly: true, fileMustExist: true, timeout: options.busyTimeoutMs ?? 10_000 });
      db.pragma('query_only = ON');
      return db;
    }
    if (path !== ':memory:') {
      ensureStateDir(dirname(path));
      // 'a' creates the file if missing without truncating; the mode applies only on creation,
      // so chmod afterwards as well (the umask may have narrowed or the file may predate us).
      closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
    }
    const db = new Database(path, { timeout: options.busyTimeoutMs ?? 10_000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
    return db;
  } catch (e) {
    throw new KeywardenError(ErrorCode.STORE_FAILED, `Could not open the database at ${path}. Check that the folder is writable.`, {
      fault: 'config',
      cause: e,
      details: { path },
    });
  }
}

/** Maps a SQLite busy/locked error to a retryable store error; anything else to STORE_FAILED. */
export function toStoreError(e: unknown, what: string): KeywardenError {
  if (e instanceof KeywardenError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  const busy = code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
  return new KeywardenError(ErrorCode.STORE_FAILED, busy ? `The database was busy while trying to ${what}; try again.` : `The database failed while trying to ${what}.`, {
    fault: busy ? 'backend' : 'internal',
    retryable: busy,
    cause: e,
  });
}
