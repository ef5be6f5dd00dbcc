/**
 * The idempotency store's contract, on SQLite and on PostgreSQL: once per key, replay, conflicts,
 * a failed call forgotten, a live reservation from another process retryable and a stale one
 * taken over. On PostgreSQL also across pools: two "processes" racing on one key call once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { SqliteIdempotencyStore, type IdempotencyStore } from '../../src/store/idempotency.js';
import { createPgPool, migratePg, PG_SCHEMA, type PgPool } from '../../src/store/pg.js';
import { PgIdempotencyStore } from '../../src/store/pg-idempotency.js';
import { openDatabase, type SqliteDatabase } from '../../src/store/sqlite.js';
import { createTestDatabase, postgresSkipReason } from '../setup/postgres.js';

const pgSkip = postgresSkipReason();
let pgDb: { url: string; drop(): Promise<void> } | undefined;
const pools: PgPool[] = [];
const pool = (): PgPool => {
  const p = createPgPool({ url: pgDb!.url, max: 4 });
  pools.push(p);
  return p;
};
beforeAll(async () => {
  if (pgSkip) return;
  pgDb = await createTestDatabase();
  await migratePg(pool());
});
afterAll(async () => {
  for (const p of pools.splice(0)) await p.end();
  await pgDb?.drop();
});

let dir: string;
let db: SqliteDatabase;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kw-idem-'));
  db = openDatabase(join(dir, 'state.db'));
  if (pgDb) await pools[0]!.query(`TRUNCATE ${PG_SCHEMA}.idempotency`);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const scope = (key: string, verb = 'rotate', target = 'k1') => ({ scope: 'test', key, verb, target });

describe.each(['sqlite', 'postgres'] as const)('the idempotency store on %s', (engine) => {
  if (engine === 'postgres' && pgSkip) {
    it.skip(`PostgreSQL: ${pgSkip}`, () => {});
    return;
  }
  const open = (options: { leaseMs?: number } = {}): IdempotencyStore => (engine === 'sqlite' ? new SqliteIdempotencyStore(db, options) : new PgIdempotencyStore(pool(), options));
  /** Writes a pending reservation as another process would, and ages it. */
  const foreign = {
    reserve: async (startedAt: number) => {
      if (engine === 'sqlite') db.prepare("INSERT INTO idempotency (scope, idem_key, verb, target, status, result, started_at) VALUES ('test', 'a', 'rotate', 'k1', 'pending', NULL, ?)").run(startedAt);
      else await pools[0]!.query(`INSERT INTO ${PG_SCHEMA}.idempotency (scope, idem_key, verb, target, status, result, started_at) VALUES ('test', 'a', 'rotate', 'k1', 'pending', NULL, $1)`, [startedAt]);
    },
    age: async () => {
      if (engine === 'sqlite') db.prepare("UPDATE idempotency SET started_at = 0 WHERE idem_key = 'a'").run();
      else await pools[0]!.query(`UPDATE ${PG_SCHEMA}.idempotency SET started_at = 0 WHERE idem_key = 'a'`);
    },
  };

  it('runs once and replays the stored result', async () => {
    const store = open();
    let calls = 0;
    const fn = async () => ({ n: ++calls, replayed: false });
    expect(await store.run(scope('a'), fn)).toEqual({ n: 1, replayed: false });
    expect(await store.run(scope('a'), fn)).toEqual({ n: 1, replayed: true });
    expect(calls).toBe(1);
  });

  it('lets concurrent callers with one key share the first call', async () => {
    const store = open();
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
    const store = open();
    await store.run(scope('a'), async () => ({ replayed: false }));
    await expect(store.run(scope('a', 'disable'), async () => ({ replayed: false }))).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT });
    await expect(store.run(scope('a', 'rotate', 'k2'), async () => ({ replayed: false }))).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT });
  });

  it('forgets a failed call so the retry runs', async () => {
    const store = open();
    await expect(store.run(scope('a'), async () => Promise.reject(new Error('transient')))).rejects.toThrow('transient');
    expect(await store.run(scope('a'), async () => ({ ok: true, replayed: false }))).toEqual({ ok: true, replayed: false });
  });

  it('treats a live reservation from another process as retryable, and takes over a stale one', async () => {
    const other = open({ leaseMs: 60_000 });
    await foreign.reserve(Date.now());
    await expect(other.run(scope('a'), async () => ({ replayed: false }))).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT, retryable: true });
    await foreign.age();
    expect(await other.run(scope('a'), async () => ({ replayed: false }))).toEqual({ replayed: false });
  });

  it('requires a key', async () => {
    const store = open();
    await expect(store.run(scope(''), async () => ({ replayed: false }))).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
  });

  it.skipIf(engine !== 'postgres')('calls once when 8 processes race on one key (one pool each)', async () => {
    let calls = 0;
    const fn = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return { n: calls, replayed: false };
    };
    const settled = await Promise.allSettled(Array.from({ length: 8 }, () => open().run(scope('race'), fn)));
    expect(calls).toBe(1);
    const ok = settled.filter((r) => r.status === 'fulfilled');
    expect(ok.length).toBeGreaterThanOrEqual(1);
    // The losers were told to retry, and a retry now replays the winner's result.
    for (const r of settled) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT, retryable: true });
    expect(await open().run(scope('race'), fn)).toEqual({ n: 1, replayed: true });
  });
});
