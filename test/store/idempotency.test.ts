import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { SqliteIdempotencyStore } from '../../src/store/idempotency.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/sqlite.js';

let dir: string;
let db: SqliteDatabase;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-idem-'));
  db = openDatabase(join(dir, 'state.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const scope = (key: string, verb = 'rotate', target = 'k1') => ({ scope: 'test', key, verb, target });

describe('SqliteIdempotencyStore', () => {
  it('runs once and replays the stored result', async () => {
    const store = new SqliteIdempotencyStore(db);
    let calls = 0;
    const fn = async () => ({ n: ++calls, replayed: false });
    expect(await store.run(scope('a'), fn)).toEqual({ n: 1, replayed: false });
    expect(await store.run(scope('a'), fn)).toEqual({ n: 1, replayed: true });
    expect(calls).toBe(1);
  });

  it('lets concurrent callers with one key share the first call', async () => {
    const store = new SqliteIdempotencyStore(db);
    let calls = 0;
    const fn = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 5));
      return { replayed: false };
    };
    const rs = await Promise.all([store.run(scope('a'), fn), store.run(scope('a'), fn), store.run(scope('a'), fn)]);
    expect(calls).toBe(1);
    expect(rs.filter((r) => r.replayed)).toHaveLength(2);
  });

  it('rejects a key reused for another verb or target', async () => {
    const store = new SqliteIdempotencyStore(db);
    await store.run(scope('a'), async () => ({ replayed: false }));
    await expect(store.run(scope('a', 'disable'), async () => ({ replayed: false }))).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT });
    await expect(store.run(scope('a', 'rotate', 'k2'), async () => ({ replayed: false }))).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT });
  });

  it('forgets a failed call so the retry runs', async () => {
    const store = new SqliteIdempotencyStore(db);
    await expect(store.run(scope('a'), async () => Promise.reject(new Error('transient')))).rejects.toThrow('transient');
    expect(await store.run(scope('a'), async () => ({ ok: true, replayed: false }))).toEqual({ ok: true, replayed: false });
  });

  it('treats a live reservation from another process as retryable, and takes over a stale one', async () => {
    const other = new SqliteIdempotencyStore(db, { leaseMs: 60_000 });
    db.prepare("INSERT INTO idempotency (scope, idem_key, verb, target, status, result, started_at) VALUES ('test', 'a', 'rotate', 'k1', 'pending', NULL, ?)").run(Date.now());
    await expect(other.run(scope('a'), async () => ({ replayed: false }))).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT, retryable: true });
    db.prepare("UPDATE idempotency SET started_at = 0 WHERE idem_key = 'a'").run();
    expect(await other.run(scope('a'), async () => ({ replayed: false }))).toEqual({ replayed: false });
  });

  it('requires a key', async () => {
    const store = new SqliteIdempotencyStore(db);
    await expect(store.run(scope(''), async () => ({ replayed: false }))).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
  });
});
