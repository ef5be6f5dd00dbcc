/**
 * The job queue port's contract, on SQLite and on PostgreSQL (a fresh database on the run's
 * throwaway cluster, test/setup/postgres.ts), in one process: enqueue, claim and complete; duplicates by
 * delivery id and by dedupe key; retries, retry-after and dead jobs; leases that expire; two
 * connections on one file; refused inputs; stats and pruning. Then the worker: backoff, the
 * error policy, heartbeats on a long job, a lost lease, concurrency and a graceful stop.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, KeywardenError } from '../../src/errors.js';
import {
  createWorker,
  DEFAULT_MAX_ATTEMPTS,
  exponentialBackoff,
  MAX_PAYLOAD_BYTES,
  retryAfterOf,
  type Job,
  type JobOutcome,
  type JobQueue,
  type JobWorker,
  type JobWorkerOptions,
} from '../../src/store/queue.js';
import { createPgPool, migratePg, PG_SCHEMA, PG_SCHEMA_VERSION } from '../../src/store/pg.js';
import { PgJobQueue } from '../../src/store/pg-queue.js';
import { JOBS_DB_FILE, openSqliteQueue, SqliteJobQueue, type SqliteJobQueueOptions } from '../../src/store/sqlite-queue.js';
import { openDatabase } from '../../src/store/sqlite.js';
import type { Logger } from '../../src/util/logger.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';
import { createTestDatabase, postgresSkipReason } from '../setup/postgres.js';

const ENGINES = ['sqlite', 'postgres'] as const;
type Engine = (typeof ENGINES)[number];
const pgSkip = postgresSkipReason();
let pg: { url: string; drop(): Promise<void> } | undefined;
beforeAll(async () => {
  if (pgSkip) return;
  pg = await createTestDatabase();
  const pool = createPgPool({ url: pg.url, max: 1 });
  await migratePg(pool);
  await pool.end();
});
afterAll(async () => {
  await pg?.drop();
});

let dir: string;
let file: string;
const opened: JobQueue[] = [];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kw-queue-'));
  file = join(dir, 'jobs.db');
  if (pg) await sql(`TRUNCATE ${PG_SCHEMA}.jobs, ${PG_SCHEMA}.deliveries`);
});
afterEach(async () => {
  for (const q of opened.splice(0)) await q.close();
  rmSync(dir, { recursive: true, force: true });
});

/** One statement on the test database, outside any queue. */
async function sql(text: string, values: unknown[] = []): Promise<Record<string, unknown>[]> {
  const pool = createPgPool({ url: pg!.url, max: 1 });
  try {
    return (await pool.query(text, values)).rows as Record<string, unknown>[];
  } finally {
    await pool.end();
  }
}

type QueueTestOptions = Omit<Partial<SqliteJobQueueOptions>, 'file' | 'busyTimeoutMs'>;

/** A queue on the engine's store: each call is a new connection (SQLite) or pool (PostgreSQL) on the same one. */
function engineQueue(engine: Engine, options: QueueTestOptions = {}): JobQueue {
  const q = engine === 'sqlite' ? new SqliteJobQueue({ file, ...options }) : new PgJobQueue({ pool: createPgPool({ url: pg!.url, max: 4 }), ownsPool: true, ...options });
  opened.push(q);
  return q;
}

/** A clock the test moves by hand. */
function manualClock(start = Date.parse('2030-01-01T00:00:00Z')) {
  let t = start;
  return { now: () => new Date(t), advance: (ms: number) => (t += ms), at: () => t };
}


const token = (): string => secretGenerators['github-pat-classic']!(createRng('queue-test')).secret;
const lease = { workerId: 'w1', leaseMs: 60_000 };

describe.each(ENGINES)('the job queue on %s', (engine) => {
  const newQueue = (options: QueueTestOptions = {}): JobQueue => engineQueue(engine, options);
  if (engine === 'postgres' && pgSkip) {
    it.skip(`PostgreSQL: ${pgSkip}`, () => {});
    return;
  }

  it('enqueues, claims and completes a job (in a 0600 file on SQLite)', async () => {
    const q = newQueue();
    const { id, duplicate } = await q.enqueue({ kind: 'push', payload: { repo: 'octo/app', after: 'a'.repeat(40) }, deliveryId: 'd1' });
    expect(duplicate).toBe(false);
    expect(await q.get(id)).toMatchObject({ state: 'queued', attempts: 0, maxAttempts: DEFAULT_MAX_ATTEMPTS, deliveryId: 'd1' });

    const job = await q.claim(lease);
    expect(job).toMatchObject({ id, kind: 'push', payload: { repo: 'octo/app', after: 'a'.repeat(40) }, attempts: 1, priority: 0 });
    expect(job!.lastError).toBeUndefined();
    expect(await q.get(id)).toMatchObject({ state: 'running', leaseOwner: 'w1' });
    expect(await q.claim({ ...lease, workerId: 'w2' })).toBeUndefined();

    await q.complete(id, 'w1');
    const done = await q.get(id);
    expect(done).toMatchObject({ state: 'done' });
    expect(done!.finishedAt).toBeInstanceOf(Date);
    expect(done!.leaseOwner).toBeUndefined();
    await expect(q.complete(id, 'w1')).rejects.toMatchObject({ code: ErrorCode.QUEUE_LEASE_LOST });
    if (engine === 'sqlite') expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it.skipIf(engine !== 'sqlite')('openSqliteQueue keeps jobs.db in a git-ignored state folder', async () => {
    const stateDir = join(dir, '.keywarden');
    const q = openSqliteQueue(stateDir);
    opened.push(q);
    await q.ping();
    expect(statSync(join(stateDir, JOBS_DB_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(stateDir, '.gitignore'), 'utf8')).toContain('*');
  });

  it('claims due jobs by priority, then runAt, then enqueue order, and only the kinds asked for', async () => {
    const clock = manualClock();
    const q = newQueue({ clock: clock.now });
    const t = clock.at();
    const a = (await q.enqueue({ kind: 'push', payload: { n: 'a' } })).id;
    const b = (await q.enqueue({ kind: 'push', payload: { n: 'b' }, priority: 5 })).id;
    const c = (await q.enqueue({ kind: 'push', payload: { n: 'c' }, runAt: new Date(t - 1000) })).id;
    const d = (await q.enqueue({ kind: 'push', payload: { n: 'd' } })).id;
    const later = (await q.enqueue({ kind: 'push', payload: { n: 'later' }, runAt: new Date(t + 5000), priority: 100 })).id;
    const pr = (await q.enqueue({ kind: 'pull_request', payload: { n: 'pr' } })).id;

    const order: string[] = [];
    for (let job = await q.claim({ ...lease, kinds: ['push'] }); job; job = await q.claim({ ...lease, kinds: ['push'] })) order.push(job.id);
    expect(order).toEqual([b, c, a, d]);
    expect(await q.claim({ ...lease, kinds: [] })).toBeUndefined();
    clock.advance(5000);
    expect((await q.claim({ ...lease, kinds: ['push'] }))!.id).toBe(later);
    expect((await q.claim(lease))!.id).toBe(pr);
  });

  it('with a group limit, skips a job whose group (an installation) already runs that many, over every connection', async () => {
    const clock = manualClock();
    const q = newQueue({ clock: clock.now });
    const other = newQueue({ clock: clock.now });
    const a1 = (await q.enqueue({ kind: 'push', payload: { n: 'a1' }, group: 'installation:1', priority: 5 })).id;
    const a2 = (await q.enqueue({ kind: 'push', payload: { n: 'a2' }, group: 'installation:1', priority: 5 })).id;
    const b1 = (await q.enqueue({ kind: 'push', payload: { n: 'b1' }, group: 'installation:2' })).id;
    const free = (await q.enqueue({ kind: 'push', payload: { n: 'free' } })).id;
    const limited = { ...lease, groupLimit: 1 };
    expect(await q.claim(limited)).toMatchObject({ id: a1, group: 'installation:1' });
    // a2 outranks b1 but its installation is at its limit — also for another connection.
    expect((await other.claim({ ...limited, workerId: 'w2' }))!.id).toBe(b1);
    expect((await q.claim(limited))!.id).toBe(free);
    expect(await q.claim(limited)).toBeUndefined();
    await q.complete(a1, 'w1');
    expect((await q.claim(limited))!.id).toBe(a2);
    // Without a limit, groups do not matter.
    const a3 = (await q.enqueue({ kind: 'push', payload: { n: 'a3' }, group: 'installation:1' })).id;
    expect((await q.claim(lease))!.id).toBe(a3);
    await expect(q.enqueue({ kind: 'push', payload: {}, group: '' })).rejects.toMatchObject({ code: ErrorCode.QUEUE_INPUT_INVALID });
  });

  it('takes 10 enqueues of one delivery as one job, and remembers the delivery after the job is done', async () => {
    const q = newQueue();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => q.enqueue({ kind: 'push', payload: { try: i }, deliveryId: 'delivery-1' })));
    const created = results.filter((r) => !r.duplicate);
    expect(created).toHaveLength(1);
    expect(results.filter((r) => r.duplicate && r.by === 'delivery')).toHaveLength(9);
    expect(new Set(results.map((r) => r.id))).toEqual(new Set([created[0]!.id]));
    expect(await q.stats()).toMatchObject({ queued: 1 });

    const job = (await q.claim(lease))!;
    await q.complete(job.id, 'w1');
    expect(await q.enqueue({ kind: 'push', payload: {}, deliveryId: 'delivery-1' })).toEqual({ id: job.id, duplicate: true, by: 'delivery' });
    // Another connection on the same store sees it too.
    const other = newQueue();
    expect((await other.enqueue({ kind: 'push', payload: {}, deliveryId: 'delivery-1' })).duplicate).toBe(true);
  });

  it('remembers a delivery even when its job died, and even once the job is pruned, until the retention ends', async () => {
    const clock = manualClock();
    const q = newQueue({ clock: clock.now, retentionMs: 10_000 });
    const { id } = await q.enqueue({ kind: 'push', payload: {}, deliveryId: 'd-dead', maxAttempts: 1 });
    await q.claim(lease);
    expect(await q.fail(id, 'w1', { code: 'X', message: 'no', retryable: true })).toEqual({ state: 'dead' });
    expect((await q.enqueue({ kind: 'push', payload: {}, deliveryId: 'd-dead' })).by).toBe('delivery');

    clock.advance(10_001);
    // The job went first (it finished 10 s ago), the delivery with it (seen 10 s ago, nothing live).
    expect(await q.prune()).toEqual({ jobs: 1, deliveries: 1 });
    expect(await q.get(id)).toBeUndefined();
    expect(await q.enqueue({ kind: 'push', payload: {}, deliveryId: 'd-dead' })).toMatchObject({ duplicate: false });
  });

  it('treats the same dedupe key as a duplicate while its job is queued, running or done, but not once it is dead', async () => {
    const q = newQueue();
    const key = 'push:octo/app:abc123';
    const first = await q.enqueue({ kind: 'push', payload: { after: 'abc123' }, dedupeKey: key, deliveryId: 'd1' });
    expect(await q.enqueue({ kind: 'push', payload: {}, dedupeKey: key, deliveryId: 'd2' })).toEqual({ id: first.id, duplicate: true, by: 'dedupe-key' });
    // d2 is now remembered against the first job.
    expect(await q.enqueue({ kind: 'push', payload: {}, deliveryId: 'd2' })).toEqual({ id: first.id, duplicate: true, by: 'delivery' });

    await q.claim(lease);
    expect((await q.enqueue({ kind: 'push', payload: {}, dedupeKey: key })).by).toBe('dedupe-key');
    await q.complete(first.id, 'w1');
    expect((await q.enqueue({ kind: 'push', payload: {}, dedupeKey: key })).by).toBe('dedupe-key');

    const other = await q.enqueue({ kind: 'push', payload: {}, dedupeKey: 'push:octo/app:def456', maxAttempts: 1 });
    await q.claim(lease);
    await q.fail(other.id, 'w1', { code: 'KW_GITHUB_DENIED', message: 'denied', retryable: false });
    const again = await q.enqueue({ kind: 'push', payload: {}, dedupeKey: 'push:octo/app:def456' });
    expect(again.duplicate).toBe(false);
    expect(again.id).not.toBe(other.id);
  });

  it('puts a retryable failure back after its delay, with the last error, and counts the attempts', async () => {
    const clock = manualClock();
    const q = newQueue({ clock: clock.now });
    const { id } = await q.enqueue({ kind: 'push', payload: {} });
    await q.claim(lease);
    const r = await q.fail(id, 'w1', { code: ErrorCode.GITHUB_THROTTLED, message: 'rate-limited', retryable: true, retryInMs: 30_000 });
    expect(r).toEqual({ state: 'retrying', runAt: new Date(clock.at() + 30_000) });
    expect(await q.stats()).toMatchObject({ queued: 1, due: 0, running: 0 });
    clock.advance(29_999);
    expect(await q.claim(lease)).toBeUndefined();
    clock.advance(1);
    const job = await q.claim(lease);
    expect(job).toMatchObject({ id, attempts: 2, lastError: { code: ErrorCode.GITHUB_THROTTLED, message: 'rate-limited' } });
    // Without a delay of its own the failure gets the default backoff: at most 2 s after attempt 2.
    const next = await q.fail(id, 'w1', { code: 'X', message: 'again', retryable: true });
    expect(next.state).toBe('retrying');
    const wait = (next as { runAt: Date }).runAt.getTime() - clock.at();
    expect(wait).toBeGreaterThanOrEqual(0);
    expect(wait).toBeLessThan(2000);
  });

  it('buries a job after maxAttempts, or at once when the failure is not retryable', async () => {
    const clock = manualClock();
    const q = newQueue({ clock: clock.now });
    const { id } = await q.enqueue({ kind: 'push', payload: {}, maxAttempts: 3 });
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = (await q.claim(lease))!;
      outcomes.push((await q.fail(job.id, 'w1', { code: 'X', message: `try ${i + 1}`, retryable: true, retryInMs: 0 })).state);
    }
    expect(outcomes).toEqual(['retrying', 'retrying', 'dead']);
    expect(await q.get(id)).toMatchObject({ state: 'dead', attempts: 3, lastError: { code: 'X', message: 'try 3' } });
    expect(await q.claim(lease)).toBeUndefined();

    const other = await q.enqueue({ kind: 'push', payload: {} });
    await q.claim(lease);
    expect(await q.fail(other.id, 'w1', { code: 'KW_CONFIG_INVALID', message: 'bad config', retryable: false })).toEqual({ state: 'dead' });
    expect(await q.stats()).toMatchObject({ dead: 2, queued: 0, running: 0 });
  });

  it('makes a job claimable again once its lease expires, and the old worker can no longer settle it', async () => {
    const clock = manualClock();
    const q = newQueue({ clock: clock.now });
    const { id } = await q.enqueue({ kind: 'push', payload: {} });
    await q.claim({ workerId: 'w1', leaseMs: 1000 });
    clock.advance(500);
    expect(await q.heartbeat(id, 'w1', 1000)).toBe(true); // now held until +1500
    clock.advance(999);
    expect(await q.claim({ workerId: 'w2', leaseMs: 1000 })).toBeUndefined();
    clock.advance(1);
    const job = await q.claim({ workerId: 'w2', leaseMs: 1000 });
    expect(job).toMatchObject({ id, attempts: 2, lastError: { code: ErrorCode.QUEUE_LEASE_EXPIRED } });
    expect(job!.runAt.getTime()).toBe(clock.at()); // due from the moment the lease ended

    expect(await q.heartbeat(id, 'w1', 1000)).toBe(false);
    await expect(q.complete(id, 'w1')).rejects.toMatchObject({ code: ErrorCode.QUEUE_LEASE_LOST });
    await expect(q.fail(id, 'w1', { code: 'X', message: 'x', retryable: true })).rejects.toMatchObject({ code: ErrorCode.QUEUE_LEASE_LOST });
    await q.complete(id, 'w2');
    expect(await q.get(id)).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('buries a job whose lease expires on its last attempt (a job that kills its worker cannot loop)', async () => {
    const clock = manualClock();
    const q = newQueue({ clock: clock.now });
    const { id } = await q.enqueue({ kind: 'push', payload: {}, maxAttempts: 2 });
    await q.claim({ workerId: 'w1', leaseMs: 1000 });
    clock.advance(1000);
    await q.claim({ workerId: 'w2', leaseMs: 1000 });
    clock.advance(1000);
    expect(await q.claim({ workerId: 'w3', leaseMs: 1000 })).toBeUndefined();
    expect(await q.get(id)).toMatchObject({ state: 'dead', attempts: 2, lastError: { code: ErrorCode.QUEUE_LEASE_EXPIRED } });
  });

  it('never lets two connections on one store claim the same job (200 jobs)', async () => {
    const a = newQueue();
    const b = newQueue();
    for (let i = 0; i < 200; i++) await (i % 2 ? a : b).enqueue({ kind: 'push', payload: { i } });
    const seen = new Map<string, number>();
    const drain = async (q: JobQueue, workerId: string): Promise<number> => {
      let n = 0;
      for (;;) {
        const job = await q.claim({ workerId, leaseMs: 60_000 });
        if (!job) return n;
        seen.set(job.id, (seen.get(job.id) ?? 0) + 1);
        await new Promise((r) => setImmediate(r));
        await q.complete(job.id, workerId);
        n++;
      }
    };
    const [na, nb] = await Promise.all([drain(a, 'a'), drain(b, 'b')]);
    expect(na + nb).toBe(200);
    expect(na).toBeGreaterThan(0);
    expect(nb).toBeGreaterThan(0);
    expect(seen.size).toBe(200);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(await a.stats()).toMatchObject({ queued: 0, running: 0 });
  });

  it('refuses a payload JSON cannot hold, listing every problem', async () => {
    const q = newQueue();
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const err = await q
      .enqueue({ kind: 'push', payload: { big: 10n, fn: () => 1, when: new Date(), nan: NaN, missing: undefined, list: [1, Symbol('s')], circular } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeywardenError);
    const e = err as KeywardenError;
    expect(e.code).toBe(ErrorCode.QUEUE_INPUT_INVALID);
    expect(e.details!.problems).toEqual([
      'payload.big is a bigint, which JSON cannot hold.',
      'payload.fn is a function, which JSON cannot hold.',
      'payload.when is a Date, not a plain object; pass its JSON form (a Date as toISOString()).',
      'payload.nan is NaN, which JSON cannot hold.',
      'payload.missing is undefined, which JSON cannot hold.',
      'payload.list[1] is a symbol, which JSON cannot hold.',
      'payload.circular.self refers back to itself.',
    ]);
    expect(e.message).toMatch(/^The job was not enqueued: payload\.big is a bigint.*\(and 6 more\)$/);
    expect(await q.stats()).toMatchObject({ queued: 0 });
  });

  it('refuses a payload over 64 KiB, a bad kind or bad options, and a payload that holds a secret', async () => {
    const q = newQueue();
    await expect(q.enqueue({ kind: 'push', payload: { blob: 'x'.repeat(MAX_PAYLOAD_BYTES) } })).rejects.toMatchObject({
      code: ErrorCode.QUEUE_INPUT_INVALID,
      message: expect.stringContaining('the limit is 65536'),
    });
    const bad = await q
      .enqueue({ kind: 'push event', payload: [] as unknown as Record<string, unknown>, maxAttempts: 0, priority: 1.5, dedupeKey: '', runAt: new Date(NaN) })
      .catch((e: KeywardenError) => e);
    expect((bad as KeywardenError).details!.problems).toHaveLength(6);

    const secret = token();
    const leaked = await q.enqueue({ kind: 'push', payload: { note: `token=${secret}` } }).catch((e: KeywardenError) => e);
    expect(leaked).toMatchObject({ code: ErrorCode.QUEUE_INPUT_INVALID, message: expect.stringContaining('looks like a secret') });
    expect(JSON.stringify((leaked as KeywardenError).toJSON())).not.toContain(secret);
    expect(await q.stats()).toMatchObject({ queued: 0 });
  });

  it('masks a secret in a failure message before storing it', async () => {
    const q = newQueue();
    const secret = token();
    const { id } = await q.enqueue({ kind: 'push', payload: {} });
    await q.claim(lease);
    await q.fail(id, 'w1', { code: 'X', message: `request with ${secret} failed`, retryable: false });
    const job = await q.get(id);
    expect(job!.lastError!.message).toContain('request with ');
    expect(job!.lastError!.message).not.toContain(secret);
    await q.close();
    if (engine === 'sqlite') expect(readFileSync(file).toString('latin1')).not.toContain(secret);
    else expect(JSON.stringify(await sql(`SELECT * FROM ${PG_SCHEMA}.jobs`))).not.toContain(secret);
  });

  it('reports depth and age for /metrics', async () => {
    const clock = manualClock();
    const q = newQueue({ clock: clock.now });
    expect(await q.stats()).toEqual({ queued: 0, due: 0, running: 0, dead: 0, oldestQueuedAgeMs: 0 });
    await q.enqueue({ kind: 'push', payload: { n: 1 } });
    clock.advance(1000);
    await q.enqueue({ kind: 'push', payload: { n: 2 } });
    await q.enqueue({ kind: 'push', payload: { n: 3 }, runAt: new Date(clock.at() + 60_000) });
    clock.advance(500);
    expect(await q.stats()).toEqual({ queued: 3, due: 2, running: 0, dead: 0, oldestQueuedAgeMs: 1500 });
    await q.claim(lease);
    expect(await q.stats()).toEqual({ queued: 2, due: 1, running: 1, dead: 0, oldestQueuedAgeMs: 500 });
  });

  it('prunes finished jobs and old deliveries after the retention period, also from enqueue, but keeps live ones', async () => {
    const clock = manualClock();
    const q = newQueue({ clock: clock.now, retentionMs: 60_000, pruneEveryMs: 30_000 });
    const done = await q.enqueue({ kind: 'a', payload: {}, deliveryId: 'd-done' });
    const waiting = await q.enqueue({ kind: 'b', payload: {}, deliveryId: 'd-waiting', runAt: new Date(clock.at() + 600_000) });
    await q.claim({ ...lease, kinds: ['a'] });
    await q.complete(done.id, 'w1');
    clock.advance(60_001);
    await q.enqueue({ kind: 'a', payload: {} }); // prunes on the way
    expect(await q.get(done.id)).toBeUndefined();
    expect(await q.get(waiting.id)).toMatchObject({ state: 'queued' });
    expect((await q.enqueue({ kind: 'a', payload: {}, deliveryId: 'd-done' })).duplicate).toBe(false);
    expect(await q.enqueue({ kind: 'b', payload: {}, deliveryId: 'd-waiting' })).toEqual({ id: waiting.id, duplicate: true, by: 'delivery' });
  });

  it('answers ping, and refuses every call once closed', async () => {
    const q = newQueue();
    await q.ping();
    await q.close();
    await q.close();
    await expect(q.ping()).rejects.toMatchObject({ code: ErrorCode.QUEUE_CLOSED });
    await expect(q.enqueue({ kind: 'push', payload: {} })).rejects.toMatchObject({ code: ErrorCode.QUEUE_CLOSED });
    await expect(q.claim(lease)).rejects.toMatchObject({ code: ErrorCode.QUEUE_CLOSED });
  });

  it.skipIf(engine !== 'postgres')('wakes a subscriber on another connection when a job is enqueued (LISTEN/NOTIFY), and not for a duplicate', async () => {
    const worker = newQueue();
    const intake = newQueue();
    let woken = 0;
    const unsubscribe = await worker.subscribe!(() => void woken++);
    await intake.enqueue({ kind: 'push', payload: {}, deliveryId: 'notify-1' });
    for (let i = 0; i < 100 && woken === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(woken).toBe(1);
    // A duplicate inserts nothing and notifies no one.
    await intake.enqueue({ kind: 'push', payload: {}, deliveryId: 'notify-1' });
    await new Promise((r) => setTimeout(r, 100));
    expect(woken).toBe(1);
    await unsubscribe();
    await intake.enqueue({ kind: 'push', payload: {} });
    await new Promise((r) => setTimeout(r, 100));
    expect(woken).toBe(1);
  });

  it.skipIf(engine !== 'sqlite')('upgrades a version-1 file in place (the fairness group column is added, jobs kept)', async () => {
    const db = openDatabase(file);
    db.exec(`CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, payload TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')), priority INTEGER NOT NULL DEFAULT 0, run_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL, dedupe_key TEXT, delivery_id TEXT, enqueued_at INTEGER NOT NULL,
      lease_owner TEXT, lease_until INTEGER, last_error_code TEXT, last_error_message TEXT, finished_at INTEGER)`);
    db.prepare("INSERT INTO jobs (id, kind, payload, state, run_at, max_attempts, enqueued_at) VALUES ('old', 'push', '{}', 'queued', 0, 8, 0)").run();
    db.pragma('user_version = 1');
    db.close();
    const q = newQueue();
    expect((await q.claim({ ...lease, groupLimit: 1 }))!.id).toBe('old');
    await q.enqueue({ kind: 'push', payload: {}, group: 'installation:9' });
    expect((await q.claim({ ...lease, groupLimit: 1 }))!.group).toBe('installation:9');
  });

  it('refuses a store written by a newer schema', async () => {
    if (engine === 'sqlite') {
      const db = openDatabase(file);
      db.pragma('user_version = 99');
      db.close();
      expect(() => new SqliteJobQueue({ file })).toThrow(expect.objectContaining({ code: ErrorCode.STORE_FAILED, message: expect.stringContaining('newer Keywarden') }));
      return;
    }
    await sql(`INSERT INTO ${PG_SCHEMA}.schema_migrations (version, name) VALUES (99, 'from the future')`);
    try {
      const pool = createPgPool({ url: pg!.url, max: 1 });
      await expect(migratePg(pool)).rejects.toMatchObject({ code: ErrorCode.STORE_FAILED, fault: 'config', message: expect.stringContaining('newer Keywarden') });
      await pool.end();
    } finally {
      await sql(`DELETE FROM ${PG_SCHEMA}.schema_migrations WHERE version = 99`);
    }
    const pool = createPgPool({ url: pg!.url, max: 1 });
    expect(await migratePg(pool)).toEqual({ from: PG_SCHEMA_VERSION, to: PG_SCHEMA_VERSION, applied: [] });
    await pool.end();
  });
});

// ---------------------------------------------------------------------------------------------

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (msg: string, fields?: object) => void lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function settledLog() {
  const events: { id: string; kind: string; attempts: number; outcome: JobOutcome; error?: unknown }[] = [];
  return {
    events,
    onSettled: (job: Job, outcome: JobOutcome, error?: unknown) => void events.push({ id: job.id, kind: job.kind, attempts: job.attempts, outcome, error }),
  };
}

const workers: JobWorker[] = [];
function startWorker(options: JobWorkerOptions): JobWorker {
  const w = createWorker({ pollMs: 10, backoff: () => 0, ...options });
  workers.push(w);
  w.start();
  return w;
}
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
});

const throttled = (retryAfterMs?: number) =>
  new KeywardenError(ErrorCode.GITHUB_THROTTLED, 'GitHub rate-limited the request.', { retryable: true, fault: 'backend', ...(retryAfterMs === undefined ? {} : { details: { retryAfterMs } }) });

describe.each(ENGINES)('createWorker on %s', (engine) => {
  const newQueue = (options: QueueTestOptions = {}): JobQueue => engineQueue(engine, options);
  if (engine === 'postgres' && pgSkip) {
    it.skip(`PostgreSQL: ${pgSkip}`, () => {});
    return;
  }

  it('runs jobs, calls onSettled, and idle() resolves once nothing is due', async () => {
    const q = newQueue();
    const seen: unknown[] = [];
    const log = settledLog();
    const w = startWorker({ queue: q, handlers: { push: async (job) => void seen.push(job.payload) }, onSettled: log.onSettled });
    for (let i = 0; i < 5; i++) await q.enqueue({ kind: 'push', payload: { i } });
    w.wake();
    await w.idle();
    expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(log.events.map((e) => e.outcome)).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(await q.stats()).toMatchObject({ queued: 0, running: 0 });
  });

  it('retries a retryable KeywardenError with backoff until it succeeds', async () => {
    const q = newQueue();
    const attempts: number[] = [];
    const backoffCalls: number[] = [];
    const log = settledLog();
    const w = startWorker({
      queue: q,
      backoff: (n) => (backoffCalls.push(n), 1),
      handlers: {
        push: async (job) => {
          attempts.push(job.attempts);
          if (job.attempts < 3) throw throttled();
        },
      },
      onSettled: log.onSettled,
    });
    const { id } = await q.enqueue({ kind: 'push', payload: {} });
    w.wake();
    while (log.events.at(-1)?.outcome !== 'done') await w.idle();
    expect(attempts).toEqual([1, 2, 3]);
    expect(backoffCalls).toEqual([1, 2]);
    expect(log.events.map((e) => e.outcome)).toEqual(['retrying', 'retrying', 'done']);
    expect(await q.get(id)).toMatchObject({ state: 'done', attempts: 3, lastError: { code: ErrorCode.GITHUB_THROTTLED } });
  });

  it("honours an error's retry-after when it is longer than the backoff", async () => {
    const clock = manualClock();
    const q = newQueue({ clock: clock.now });
    let n = 0;
    const w = startWorker({ queue: q, backoff: () => 5000, handlers: { push: async () => Promise.reject(throttled(++n === 1 ? 60_000 : 10)) } });
    const { id } = await q.enqueue({ kind: 'push', payload: {} });
    w.wake();
    await w.idle();
    expect((await q.get(id))!.runAt.getTime()).toBe(clock.at() + 60_000);
    clock.advance(60_000);
    w.wake();
    await w.idle();
    // The second time the backoff (5 s) is longer than the retry-after (10 ms).
    expect((await q.get(id))!).toMatchObject({ attempts: 2, state: 'queued' });
    expect((await q.get(id))!.runAt.getTime()).toBe(clock.at() + 5000);
    expect(retryAfterOf(throttled(1234))).toBe(1234);
    expect(retryAfterOf(new Error('x'))).toBeUndefined();
  });

  it('buries a job after maxAttempts, and at once for a KeywardenError that is not retryable', async () => {
    const q = newQueue();
    const log = settledLog();
    const w = startWorker({
      queue: q,
      handlers: {
        flaky: async () => Promise.reject(throttled()),
        denied: async () => Promise.reject(new KeywardenError(ErrorCode.GITHUB_DENIED, 'GitHub refused.', { fault: 'config' })),
      },
      onSettled: log.onSettled,
    });
    const flaky = await q.enqueue({ kind: 'flaky', payload: {}, maxAttempts: 4 });
    const denied = await q.enqueue({ kind: 'denied', payload: {} });
    w.wake();
    while (log.events.filter((e) => e.outcome === 'dead').length < 2) await w.idle();
    expect(log.events.filter((e) => e.kind === 'flaky').map((e) => e.outcome)).toEqual(['retrying', 'retrying', 'retrying', 'dead']);
    expect(log.events.filter((e) => e.kind === 'denied').map((e) => e.outcome)).toEqual(['dead']);
    expect(await q.get(flaky.id)).toMatchObject({ state: 'dead', attempts: 4 });
    expect(await q.get(denied.id)).toMatchObject({ state: 'dead', attempts: 1, lastError: { code: ErrorCode.GITHUB_DENIED, message: 'GitHub refused.' } });
  });

  it('retries an error that is not a KeywardenError 3 times, recorded as KW_INTERNAL with its message masked', async () => {
    const q = newQueue();
    const logger = capture();
    const log = settledLog();
    const secret = token();
    const w = startWorker({ queue: q, logger, handlers: { push: async () => Promise.reject(new TypeError(`fetch failed for ${secret}`)) }, onSettled: log.onSettled });
    const { id } = await q.enqueue({ kind: 'push', payload: {} });
    w.wake();
    while (log.events.at(-1)?.outcome !== 'dead') await w.idle();
    expect(log.events.map((e) => e.outcome)).toEqual(['retrying', 'retrying', 'dead']);
    const job = (await q.get(id))!;
    expect(job).toMatchObject({ state: 'dead', attempts: 3, lastError: { code: ErrorCode.INTERNAL } });
    expect(job.lastError!.message).toMatch(/^TypeError: fetch failed for /);
    expect(job.lastError!.message).not.toContain(secret);
    expect(logger.lines.join('\n')).not.toContain(secret);
    expect(logger.lines.some((l) => l.startsWith('error job failed; dead'))).toBe(true);
  });

  it('renews the lease of a job that runs longer than the lease, so no one else takes it', async () => {
    const q = newQueue();
    const thief = newQueue();
    let runs = 0;
    const w = startWorker({
      queue: q,
      leaseMs: 300,
      handlers: {
        slow: async () => {
          runs++;
          await new Promise((r) => setTimeout(r, 1000));
        },
      },
    });
    const { id } = await q.enqueue({ kind: 'slow', payload: {} });
    w.wake();
    while ((await q.get(id))!.state !== 'running') await new Promise((r) => setTimeout(r, 5));
    const stolen: string[] = [];
    const deadline = Date.now() + 900;
    while (Date.now() < deadline) {
      const job = await thief.claim({ workerId: 'thief', leaseMs: 1000 });
      if (job) stolen.push(job.id);
      await new Promise((r) => setTimeout(r, 20));
    }
    await w.idle();
    expect(stolen).toEqual([]);
    expect(runs).toBe(1);
    expect(await q.get(id)).toMatchObject({ state: 'done', attempts: 1 });
  });

  it('aborts the signal when the lease is lost and does not record an outcome', async () => {
    const q = newQueue();
    const later = newQueue({ clock: () => new Date(Date.now() + 3_600_000) });
    const log = settledLog();
    let reason: unknown;
    const w = startWorker({
      queue: q,
      leaseMs: 90,
      handlers: {
        push: (_job, { signal }) =>
          new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              reason = signal.reason;
              resolve();
            });
          }),
      },
      onSettled: log.onSettled,
    });
    const { id } = await q.enqueue({ kind: 'push', payload: {} });
    w.wake();
    while ((await q.get(id))!.state !== 'running') await new Promise((r) => setTimeout(r, 5));
    // Another worker, an hour later by its clock, takes the job back.
    expect((await later.claim({ workerId: 'other', leaseMs: 3_600_000 }))!.id).toBe(id);
    while (!log.events.length) await new Promise((r) => setTimeout(r, 10));
    expect(log.events[0]!.outcome).toBe('lost');
    expect(reason).toMatchObject({ code: ErrorCode.QUEUE_LEASE_LOST });
    expect(await q.get(id)).toMatchObject({ state: 'running', leaseOwner: 'other', attempts: 2 });
  });

  it('runs at most `concurrency` jobs at once and claims only the kinds it has handlers for', async () => {
    const q = newQueue();
    let now = 0;
    let peak = 0;
    const w = startWorker({
      queue: q,
      concurrency: 2,
      handlers: {
        push: async () => {
          peak = Math.max(peak, ++now);
          await new Promise((r) => setTimeout(r, 30));
          now--;
        },
      },
    });
    for (let i = 0; i < 6; i++) await q.enqueue({ kind: 'push', payload: { i } });
    const other = await q.enqueue({ kind: 'installation', payload: {} });
    w.wake();
    await w.idle();
    expect(peak).toBe(2);
    expect(await q.stats()).toMatchObject({ queued: 1, running: 0 });
    expect(await q.get(other.id)).toMatchObject({ state: 'queued', attempts: 0 });
  });

  it('runs at most `kindConcurrency[kind]` jobs of a kind at once, and fills the other slots with other kinds', async () => {
    const q = newQueue();
    const now: Record<string, number> = { scan: 0, push: 0 };
    const peak: Record<string, number> = { scan: 0, push: 0 };
    const order: string[] = [];
    // The first scan and the first three pushes hold their slots until all four run at once (a
    // gate, not a timer: the store's speed does not matter), then everything drains.
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const held = setTimeout(() => open(), 5000);
    const job = (kind: 'scan' | 'push') => async (): Promise<void> => {
      order.push(kind);
      peak[kind] = Math.max(peak[kind]!, ++now[kind]!);
      if (now.scan! + now.push! === 4) open();
      await gate;
      await new Promise((r) => setTimeout(r, 5));
      now[kind]!--;
    };
    const w = startWorker({ queue: q, concurrency: 4, kindConcurrency: { scan: 1 }, handlers: { scan: job('scan'), push: job('push') } });
    // The scans first (and at a higher priority): the limit, not the order, keeps all but one waiting.
    for (let i = 0; i < 4; i++) await q.enqueue({ kind: 'scan', payload: { i }, priority: 5 });
    for (let i = 0; i < 6; i++) await q.enqueue({ kind: 'push', payload: { i } });
    w.wake();
    await w.idle();
    clearTimeout(held);
    expect(peak).toEqual({ scan: 1, push: 3 });
    expect(order.slice(0, 4)).toEqual(['scan', 'push', 'push', 'push']);
    expect(await q.stats()).toMatchObject({ queued: 0, running: 0 });
  });

  it('sends a poison job (it fails every time) to the dead-letter list after maxAttempts, with its error code, without holding up the queue', async () => {
    const q = newQueue();
    const log = settledLog();
    let poisonRuns = 0;
    const ran: number[] = [];
    const w = startWorker({
      queue: q,
      concurrency: 1,
      handlers: {
        poison: async () => {
          poisonRuns++;
          throw new KeywardenError(ErrorCode.BACKEND_UNAVAILABLE, 'the backend refused again', { retryable: true, fault: 'backend' });
        },
        work: async (job) => void ran.push((job.payload as { n: number }).n),
      },
      onSettled: log.onSettled,
    });
    const poison = await q.enqueue({ kind: 'poison', payload: {}, maxAttempts: 4, priority: 10 });
    for (let n = 0; n < 20; n++) await q.enqueue({ kind: 'work', payload: { n } });
    w.wake();
    await w.idle();
    expect(poisonRuns).toBe(4);
    expect(ran.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(await q.get(poison.id)).toMatchObject({ state: 'dead', attempts: 4, lastError: { code: ErrorCode.BACKEND_UNAVAILABLE, message: 'the backend refused again' } });
    expect((await q.listDead()).map((j) => [j.id, j.lastError?.code])).toEqual([[poison.id, ErrorCode.BACKEND_UNAVAILABLE]]);
    expect(await q.stats()).toMatchObject({ queued: 0, running: 0, dead: 1 });
    expect(log.events.filter((e) => e.kind === 'poison').map((e) => e.outcome)).toEqual(['retrying', 'retrying', 'retrying', 'dead']);
  });

  it('stops gracefully: no new claims, and stop() waits for the running job', async () => {
    const q = newQueue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const log = settledLog();
    const w = startWorker({
      queue: q,
      handlers: {
        push: async () => {
          started();
          await gate;
        },
      },
      onSettled: log.onSettled,
    });
    const first = await q.enqueue({ kind: 'push', payload: { n: 1 } });
    w.wake();
    await running;
    let stopped = false;
    const stopping = w.stop().then(() => (stopped = true));
    await q.enqueue({ kind: 'push', payload: { n: 2 } });
    w.wake();
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(log.events).toMatchObject([{ id: first.id, outcome: 'done' }]);
    expect(await q.stats()).toMatchObject({ queued: 1, running: 0 });
    await w.idle(); // a stopped worker is idle
  });

  it('exponentialBackoff: full jitter under an exponential ceiling, capped', () => {
    const top = exponentialBackoff({ baseMs: 1000, capMs: 300_000, random: () => 0.999999 });
    expect([1, 2, 3, 4].map(top)).toEqual([999, 1999, 3999, 7999]);
    expect(top(20)).toBe(299_999);
    expect(top(1000)).toBe(299_999);
    expect(exponentialBackoff({ random: () => 0 })(5)).toBe(0);
    const real = exponentialBackoff();
    for (let i = 0; i < 50; i++) expect(real(3)).toBeLessThan(4000);
  });
});
