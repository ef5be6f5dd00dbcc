/**
 * Idempotency records for mutating backend verbs.
 *
 * A retried job passes the same idempotency key: the verb's first result is returned
 * (`replayed: true`) and the backend is not called again. The same key for a different
 * verb or target is a conflict, never a silent replay.
 *
 * Two flavours: `runIdempotentSync` runs the mutation inside the same SQLite transaction as
 * the record (the local keystore: all or nothing), and `SqliteIdempotencyStore.run` reserves
 * a row, calls a remote backend, then stores the result (a failure removes the reservation
 * so the retry runs again).
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import type { SqliteDatabase } from './sqlite.js';
import { toStoreError } from './sqlite.js';

export interface IdempotencyScope {
  /** The backend instance, e.g. `aws-kms:eu-west-1:111122223333`. */
  scope: string;
  key: string;
  verb: string;
  target: string;
}

export type Replayable = { replayed: boolean };

export interface IdempotencyStore {
  run<T extends Replayable>(scope: IdempotencyScope, fn: () => Promise<T>): Promise<T>;
}

export const IDEMPOTENCY_SCHEMA = `
CREATE TABLE IF NOT EXISTS idempotency (
  scope TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  verb TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
  result TEXT,
  started_at INTEGER NOT NULL,
  PRIMARY KEY (scope, idem_key)
);`;

interface Row {
  verb: string;
  target: string;
  status: 'pending' | 'done';
  result: string | null;
  started_at: number;
}

export function assertKey(s: IdempotencyScope): void {
  if (typeof s.key !== 'string' || s.key.length === 0 || s.key.length > 200) {
    throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'Every mutating verb needs an idempotency key of 1 to 200 characters.', {
      fault: 'user',
    });
  }
}

export function conflict(s: IdempotencyScope, row: { verb: string; target: string }): KeywardenError {
  return new KeywardenError(
    ErrorCode.IDEMPOTENCY_CONFLICT,
    `Idempotency key "${s.key}" was already used for ${row.verb} on ${row.target}; use a new key for ${s.verb} on ${s.target}.`,
    { fault: 'user', details: { idempotencyKey: s.key, usedFor: row.verb, usedOn: row.target } },
  );
}

export function replay<T extends Replayable>(s: IdempotencyScope, row: { verb: string; target: string; result: string | null }): T {
  if (row.verb !== s.verb || row.target !== s.target) throw conflict(s, row);
  return { ...(JSON.parse(row.result ?? 'null') as T), replayed: true };
}

/**
 * Runs a synchronous mutation and records its result in one transaction (`BEGIN IMMEDIATE`,
 * so two processes serialise). `fn` runs inside the transaction; if it throws, nothing is kept.
 */
export function runIdempotentSync<T extends Replayable>(db: SqliteDatabase, s: IdempotencyScope, fn: () => T): T {
  assertKey(s);
  const tx = db.transaction((): T => {
    const row = db.prepare('SELECT verb, target, status, result, started_at FROM idempotency WHERE scope = ? AND idem_key = ?').get(s.scope, s.key) as Row | undefined;
    if (row) return replay<T>(s, row);
    const result = fn();
    db.prepare("INSERT INTO idempotency (scope, idem_key, verb, target, status, result, started_at) VALUES (?, ?, ?, ?, 'done', ?, ?)").run(
      s.scope,
      s.key,
      s.verb,
      s.target,
      JSON.stringify({ ...result, replayed: false }),
      Date.now(),
    );
    return result;
  });
  return tx.immediate();
}

export interface SqliteIdempotencyStoreOptions {
  /** A pending reservation older than this is taken over (its process is presumed dead). Default 5 min. */
  leaseMs?: number;
}

/** For remote backends (aws-kms, pkcs11): reserve, call, record. */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly leaseMs: number;

  constructor(
    private readonly db: SqliteDatabase,
    options: SqliteIdempotencyStoreOptions = {},
  ) {
    db.exec(IDEMPOTENCY_SCHEMA);
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
  }

  async run<T extends Replayable>(s: IdempotencyScope, fn: () => Promise<T>): Promise<T> {
    assertKey(s);
    const mapKey = `${s.scope}\u0000${s.key}`;
    const running = this.inflight.get(mapKey);
    if (running) {
      // Same process, same key: wait for the first call and answer with its result.
      await running.catch(() => undefined);
      return this.run(s, fn);
    }
    const reserved = this.reserve<T>(s);
    if (reserved.replay) return reserved.replay;
    const p = (async () => {
      try {
        const result = await fn();
        this.finish(s, result);
        return result;
      } catch (e) {
        this.release(s);
        throw e;
      }
    })();
    this.inflight.set(mapKey, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(mapKey);
    }
  }

  private reserve<T extends Replayable>(s: IdempotencyScope): { replay?: T } {
    try {
      return this.db
        .transaction((): { replay?: T } => {
          const row = this.db.prepare('SELECT verb, target, status, result, started_at FROM idempotency WHERE scope = ? AND idem_key = ?').get(s.scope, s.key) as
            | Row
            | undefined;
          if (row?.status === 'done') return { replay: replay<T>(s, row) };
          if (row) {
            if (row.verb !== s.verb || row.target !== s.target) throw conflict(s, row);
            if (Date.now() - row.started_at < this.leaseMs) {
              throw new KeywardenError(ErrorCode.IDEMPOTENCY_CONFLICT, `Another process is running ${s.verb} on ${s.target} with the same idempotency key; try again shortly.`, {
                fault: 'backend',
                retryable: true,
                details: { idempotencyKey: s.key },
              });
            }
            this.db.prepare('UPDATE idempotency SET started_at = ? WHERE scope = ? AND idem_key = ?').run(Date.now(), s.scope, s.key);
            return {};
          }
          this.db
            .prepare("INSERT INTO idempotency (scope, idem_key, verb, target, status, result, started_at) VALUES (?, ?, ?, ?, 'pending', NULL, ?)")
            .run(s.scope, s.key, s.verb, s.target, Date.now());
          return {};
        })
        .immediate();
    } catch (e) {
      throw toStoreError(e, 'reserve an idempotency key');
    }
  }

  private finish(s: IdempotencyScope, result: Replayable): void {
    this.db
      .prepare("UPDATE idempotency SET status = 'done', result = ? WHERE scope = ? AND idem_key = ?")
      .run(JSON.stringify({ ...result, replayed: false }), s.scope, s.key);
  }

  private release(s: IdempotencyScope): void {
    this.db.prepare("DELETE FROM idempotency WHERE scope = ? AND idem_key = ? AND status = 'pending'").run(s.scope, s.key);
  }
}
