/**
 * The job queue in SQLite: `<stateDir>/jobs.db`, opened with `openDatabase` (mode 0600, WAL, a
 * busy timeout). Every write is one `BEGIN IMMEDIATE` transaction, so two processes on the same
 * file serialise: a claim reads the next due job and leases it under the write lock, and no
 * other connection can claim it in between. One file serves one host; for several hosts use a
 * server database behind the same `JobQueue` port.
 *
 * Times are milliseconds since the epoch from the injected clock. A claim first takes back jobs
 * whose lease expired (their worker died): queued again, due from the moment the lease ended, or
 * dead if that was their last attempt.
 *
 * Security: payloads are checked by `assertJobInput` (JSON, at most 64 KiB, no detected secret)
 * and error messages masked by `sanitizeJobError` before they are written; `secure_delete` zeroes
 * what `prune` deletes.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCode, KeywardenError } from '../errors.js';
import {
  assertJobInput,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_RETENTION_MS,
  retryDelayMs,
  sanitizeJobError,
  type ClaimOptions,
  type EnqueueResult,
  type FailResult,
  type Job,
  type JobFailure,
  type JobInput,
  type JobQueue,
  type JobRecord,
  type JobState,
  type PruneResult,
  type QueueStats,
} from './queue.js';
import { openDatabase, toStoreError, type SqliteDatabase } from './sqlite.js';

/** The queue's file name in the state folder. */
export const JOBS_DB_FILE = 'jobs.db';

const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
  priority INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  dedupe_key TEXT,
  delivery_id TEXT,
  enqueued_at INTEGER NOT NULL,
  lease_owner TEXT,
  lease_until INTEGER,
  last_error_code TEXT,
  last_error_message TEXT,
  finished_at INTEGER,
  group_key TEXT
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, priority DESC, run_at, seq);
CREATE INDEX IF NOT EXISTS jobs_lease ON jobs (state, lease_until);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
-- A dead job does not hold its key: the same work can be enqueued again.
CREATE UNIQUE INDEX IF NOT EXISTS jobs_dedupe ON jobs (dedupe_key) WHERE dedupe_key IS NOT NULL AND state <> 'dead';
-- Delivery ids outlive their jobs, for the retention period.
CREATE TABLE IF NOT EXISTS deliveries (
  delivery_id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  seen_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_seen ON deliveries (seen_at);
`;

interface Row {
  seq: number;
  id: string;
  kind: string;
  payload: string;
  state: JobState;
  priority: number;
  run_at: number;
  attempts: number;
  max_attempts: number;
  dedupe_key: string | null;
  delivery_id: string | null;
  enqueued_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  last_error_code: string | null;
  last_error_message: string | null;
  finished_at: number | null;
  group_key: string | null;
}

function toJob(r: Row): Job {
  return {
    id: r.id,
    kind: r.kind,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    priority: r.priority,
    enqueuedAt: new Date(r.enqueued_at),
    runAt: new Date(r.run_at),
    ...(r.delivery_id !== null ? { deliveryId: r.delivery_id } : {}),
    ...(r.dedupe_key !== null ? { dedupeKey: r.dedupe_key } : {}),
    ...(r.last_error_code !== null ? { lastError: { code: r.last_error_code, message: r.last_error_message ?? '' } } : {}),
    ...(r.group_key !== null ? { group: r.group_key } : {}),
  };
}

function toRecord(r: Row): JobRecord {
  return {
    ...toJob(r),
    state: r.state,
    ...(r.lease_owner !== null ? { leaseOwner: r.lease_owner } : {}),
    ...(r.lease_until !== null ? { leaseExpiresAt: new Date(r.lease_until) } : {}),
    ...(r.finished_at !== null ? { finishedAt: new Date(r.finished_at) } : {}),
  };
}

export interface SqliteJobQueueOptions {
  /** The database file (`openSqliteQueue` uses `<stateDir>/jobs.db`); `:memory:` for one connection. */
  file: string;
  clock?: () => Date;
  /** How long delivery ids, and done and dead jobs, are kept. Default 7 days. */
  retentionMs?: number;
  /** How often `enqueue` prunes, at most. Default 1 hour. */
  pruneEveryMs?: number;
  /** Default 64 KiB. */
  maxPayloadBytes?: number;
  /** How long to wait for another process's write lock. Default 10 s. */
  busyTimeoutMs?: number;
}

const EXPIRED_MESSAGE = 'The worker stopped renewing its lease (it was killed, or blocked for longer than the lease).';

function prepareStatements(db: SqliteDatabase) {
  return {
    get: db.prepare<[string], Row>('SELECT * FROM jobs WHERE id = ?'),
    delivery: db.prepare<[string], { job_id: string }>('SELECT job_id FROM deliveries WHERE delivery_id = ?'),
    byKey: db.prepare<[string], { id: string }>("SELECT id FROM jobs WHERE dedupe_key = ? AND state <> 'dead'"),
    remember: db.prepare<[string, string, number]>('INSERT OR IGNORE INTO deliveries (delivery_id, job_id, seen_at) VALUES (?, ?, ?)'),
    insert: db.prepare<[Record<string, string | number | null>]>(
      `INSERT INTO jobs (id, kind, payload, state, priority, run_at, attempts, max_attempts, dedupe_key, delivery_id, enqueued_at, group_key)
       VALUES (@id, @kind, @payload, 'queued', @priority, @runAt, 0, @maxAttempts, @dedupeKey, @deliveryId, @now, @group)`,
    ),
    // A job whose worker died on its last attempt is dead; any other goes back, due from the lease's end.
    reapDead: db.prepare<[{ now: number; code: string; message: string }]>(
      `UPDATE jobs SET state = 'dead', finished_at = @now, lease_owner = NULL, lease_until = NULL,
         last_error_code = @code, last_error_message = @message
       WHERE state = 'running' AND lease_until <= @now AND attempts >= max_attempts`,
    ),
    reapRequeue: db.prepare<[{ now: number; code: string; message: string }]>(
      `UPDATE jobs SET state = 'queued', run_at = lease_until, lease_owner = NULL, lease_until = NULL,
         last_error_code = @code, last_error_message = @message
       WHERE state = 'running' AND lease_until <= @now`,
    ),
    claim: db.prepare<[{ now: number; workerId: string; until: number; kinds: string | null; groupLimit: number | null }], Row>(
      `UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = @workerId, lease_until = @until
       WHERE seq = (
         SELECT seq FROM jobs q WHERE state = 'queued' AND run_at <= @now
           AND (@kinds IS NULL OR kind IN (SELECT value FROM json_each(@kinds)))
           AND (@groupLimit IS NULL OR q.group_key IS NULL
                OR (SELECT count(*) FROM jobs r WHERE r.state = 'running' AND r.group_key = q.group_key) < @groupLimit)
         ORDER BY priority DESC, run_at, seq LIMIT 1)
       RETURNING *`,
    ),
    held: db.prepare<[string, string], { attempts: number; max_attempts: number }>(
      "SELECT attempts, max_attempts FROM jobs WHERE id = ? AND state = 'running' AND lease_owner = ?",
    ),
    // Also revives a lease that ran out while no claim took the job back: it is still this worker's.
    heartbeat: db.prepare<[number, string, string]>("UPDATE jobs SET lease_until = ? WHERE id = ? AND state = 'running' AND lease_owner = ?"),
    complete: db.prepare<[number, string, string]>(
      `UPDATE jobs SET state = 'done', finished_at = ?, lease_owner = NULL, lease_until = NULL
       WHERE id = ? AND state = 'running' AND lease_owner = ?`,
    ),
    retry: db.prepare<[{ id: string; runAt: number; code: string; message: string }]>(
      `UPDATE jobs SET state = 'queued', run_at = @runAt, lease_owner = NULL, lease_until = NULL,
         last_error_code = @code, last_error_message = @message
       WHERE id = @id`,
    ),
    bury: db.prepare<[{ id: string; now: number; code: string; message: string }]>(
      `UPDATE jobs SET state = 'dead', finished_at = @now, lease_owner = NULL, lease_until = NULL,
         last_error_code = @code, last_error_message = @message
       WHERE id = @id`,
    ),
    pruneJobs: db.prepare<[number]>("DELETE FROM jobs WHERE state IN ('done', 'dead') AND finished_at < ?"),
    pruneDeliveries: db.prepare<[number]>(
      "DELETE FROM deliveries WHERE seen_at < ? AND job_id NOT IN (SELECT id FROM jobs WHERE state IN ('queued', 'running'))",
    ),
    dead: db.prepare<[number], Row>("SELECT * FROM jobs WHERE state = 'dead' ORDER BY finished_at DESC, seq DESC LIMIT ?"),
    counts: db.prepare<[], { state: JobState; n: number }>('SELECT state, COUNT(*) AS n FROM jobs GROUP BY state'),
    due: db.prepare<[number], { n: number; oldest: number | null }>(
      "SELECT COUNT(*) AS n, MIN(run_at) AS oldest FROM jobs WHERE state = 'queued' AND run_at <= ?",
    ),
    ping: db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM sqlite_master'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

function prepareSchema(db: SqliteDatabase, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new KeywardenError(ErrorCode.STORE_FAILED, `The job queue at ${file} was written by a newer Keywarden (schema ${version}); upgrade Keywarden.`, {
      fault: 'config',
      details: { path: file, schema: version },
    });
  }
  db.exec(SCHEMA);
  // Version 2: the fairness group (a v1 file gets the column).
  const columns = new Set((db.pragma('table_info(jobs)') as { name: string }[]).map((c) => c.name));
  if (!columns.has('group_key')) db.exec('ALTER TABLE jobs ADD COLUMN group_key TEXT');
  db.exec("CREATE INDEX IF NOT EXISTS jobs_running_group ON jobs (group_key) WHERE state = 'running' AND group_key IS NOT NULL");
  if (version < SCHEMA_VERSION) db.pragma(`user_version = ${SCHEMA_VERSION}`);
}

/**
 * @example
 * const queue = new SqliteJobQueue({ file: join(stateDir, 'jobs.db') });
 * const { id, duplicate } = await queue.enqueue({ kind: 'push', payload: { repo, after }, deliveryId });
 */
export class SqliteJobQueue implements JobQueue {
  readonly name = 'sqlite';
  private readonly db: SqliteDatabase;
  private readonly q: Statements;
  private readonly clock: () => Date;
  private readonly retentionMs: number;
  private readonly pruneEveryMs: number;
  private readonly maxPayloadBytes: number | undefined;
  private lastPruneAt = -Infinity;
  private closed = false;

  constructor(options: SqliteJobQueueOptions) {
    this.clock = options.clock ?? (() => new Date());
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.pruneEveryMs = options.pruneEveryMs ?? 60 * 60_000;
    this.maxPayloadBytes = options.maxPayloadBytes;
    this.db = openDatabase(options.file, options.busyTimeoutMs === undefined ? {} : { busyTimeoutMs: options.busyTimeoutMs });
    try {
      this.db.transaction(prepareSchema).immediate(this.db, options.file);
      this.q = prepareStatements(this.db);
    } catch (e) {
      this.db.close();
      throw toStoreError(e, 'prepare the job queue');
    }
  }

  // Transactions, each BEGIN IMMEDIATE: the write lock is taken before the first read.

  private readonly pruneTx = (now: number): PruneResult => {
    const cutoff = now - this.retentionMs;
    return { jobs: this.q.pruneJobs.run(cutoff).changes, deliveries: this.q.pruneDeliveries.run(cutoff).changes };
  };

  private readonly enqueueTx = (input: JobInput, payload: string, now: number): EnqueueResult => {
    const q = this.q;
    if (now - this.lastPruneAt >= this.pruneEveryMs) {
      this.pruneTx(now);
      this.lastPruneAt = now;
    }
    if (input.deliveryId !== undefined) {
      const seen = q.delivery.get(input.deliveryId);
      if (seen) return { id: seen.job_id, duplicate: true, by: 'delivery' };
    }
    if (input.dedupeKey !== undefined) {
      const same = q.byKey.get(input.dedupeKey);
      if (same) {
        // Remember the new delivery too: its redelivery is then a duplicate by delivery.
        if (input.deliveryId !== undefined) q.remember.run(input.deliveryId, same.id, now);
        return { id: same.id, duplicate: true, by: 'dedupe-key' };
      }
    }
    const id = randomUUID();
    q.insert.run({
      id,
      kind: input.kind,
      payload,
      priority: input.priority ?? 0,
      runAt: input.runAt ? input.runAt.getTime() : now,
      maxAttempts: input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      dedupeKey: input.dedupeKey ?? null,
      deliveryId: input.deliveryId ?? null,
      now,
      group: input.group ?? null,
    });
    if (input.deliveryId !== undefined) q.remember.run(input.deliveryId, id, now);
    return { id, duplicate: false };
  };

  private readonly claimTx = (o: ClaimOptions, now: number): Row | undefined => {
    const expired = { now, code: ErrorCode.QUEUE_LEASE_EXPIRED, message: EXPIRED_MESSAGE };
    this.q.reapDead.run(expired);
    this.q.reapRequeue.run(expired);
    return this.q.claim.get({ now, workerId: o.workerId, until: now + o.leaseMs, kinds: o.kinds ? JSON.stringify(o.kinds) : null, groupLimit: o.groupLimit ?? null });
  };

  private readonly failTx = (jobId: string, workerId: string, failure: JobFailure, now: number): FailResult => {
    const row = this.q.held.get(jobId, workerId);
    if (!row) throw this.leaseLost(jobId, 'fail');
    const { code, message } = sanitizeJobError(failure);
    if (failure.retryable && row.attempts < row.max_attempts) {
      const runAt = now + retryDelayMs(failure, row.attempts);
      this.q.retry.run({ id: jobId, runAt, code, message });
      return { state: 'retrying', runAt: new Date(runAt) };
    }
    this.q.bury.run({ id: jobId, now, code, message });
    return { state: 'dead' };
  };

  private now(): number {
    return this.clock().getTime();
  }

  private leaseLost(jobId: string, verb: string): KeywardenError {
    return new KeywardenError(ErrorCode.QUEUE_LEASE_LOST, `Could not ${verb} job ${jobId}: this worker no longer holds its lease (it expired and the job was taken back).`, {
      fault: 'backend',
      details: { jobId },
    });
  }

  /** Runs a store operation: refused after close, SQLite errors made typed (busy is retryable). */
  private use<T>(what: string, fn: () => T): T {
    if (this.closed) {
      throw new KeywardenError(ErrorCode.QUEUE_CLOSED, `The job queue is closed; cannot ${what}.`, { fault: 'internal' });
    }
    try {
      return fn();
    } catch (e) {
      throw toStoreError(e, what);
    }
  }

  async enqueue(input: JobInput): Promise<EnqueueResult> {
    const payload = assertJobInput(input, this.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: this.maxPayloadBytes });
    return this.use('enqueue a job', () => this.db.transaction(this.enqueueTx).immediate(input, payload, this.now()));
  }

  async claim(options: ClaimOptions): Promise<Job | undefined> {
    assertLease(options.leaseMs);
    if (options.kinds?.length === 0) return undefined;
    const row = this.use('claim a job', () => this.db.transaction(this.claimTx).immediate(options, this.now()));
    return row ? toJob(row) : undefined;
  }

  async heartbeat(jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
    assertLease(leaseMs);
    return this.use('renew a job lease', () => this.q.heartbeat.run(this.now() + leaseMs, jobId, workerId).changes === 1);
  }

  async complete(jobId: string, workerId: string): Promise<void> {
    const changes = this.use('complete a job', () => this.q.complete.run(this.now(), jobId, workerId).changes);
    if (changes !== 1) throw this.leaseLost(jobId, 'complete');
  }

  async fail(jobId: string, workerId: string, failure: JobFailure): Promise<FailResult> {
    return this.use('record a job failure', () => this.db.transaction(this.failTx).immediate(jobId, workerId, failure, this.now()));
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const row = this.use('read a job', () => this.q.get.get(jobId));
    return row ? toRecord(row) : undefined;
  }

  async listDead(limit = 100): Promise<JobRecord[]> {
    return this.use('list dead jobs', () => this.q.dead.all(clampLimit(limit)).map(toRecord));
  }

  async stats(): Promise<QueueStats> {
    return this.use('read queue stats', () => {
      const now = this.now();
      const by = new Map(this.q.counts.all().map((r) => [r.state, r.n]));
      const due = this.q.due.get(now)!;
      return {
        queued: by.get('queued') ?? 0,
        due: due.n,
        running: by.get('running') ?? 0,
        dead: by.get('dead') ?? 0,
        oldestQueuedAgeMs: due.oldest === null ? 0 : Math.max(0, now - due.oldest),
      };
    });
  }

  async prune(): Promise<PruneResult> {
    return this.use('prune the job queue', () => {
      const now = this.now();
      this.lastPruneAt = now;
      return this.db.transaction(this.pruneTx).immediate(now);
    });
  }

  async ping(): Promise<void> {
    this.use('reach the job queue', () => this.q.ping.get());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

const clampLimit = (n: number): number => (Number.isInteger(n) && n > 0 ? Math.min(n, 10_000) : 100);

function assertLease(leaseMs: number): void {
  if (!Number.isInteger(leaseMs) || leaseMs < 1 || leaseMs > 24 * 60 * 60_000) {
    throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A job lease must be a whole number of milliseconds from 1 to 24 hours.', { fault: 'internal' });
  }
}

/**
 * The queue at `<stateDir>/jobs.db`, created with the folder if missing.
 *
 * @example
 * const queue = openSqliteQueue('.keywarden');
 */
export function openSqliteQueue(stateDir: string, options: Omit<SqliteJobQueueOptions, 'file'> = {}): SqliteJobQueue {
  return new SqliteJobQueue({ ...options, file: join(stateDir, JOBS_DB_FILE) });
}
