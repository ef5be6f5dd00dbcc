/**
 * The job queue in PostgreSQL (`keywarden.jobs`), for many `serve` and `worker` processes on many
 * machines. Same port, same semantics as the SQLite queue (`sqlite-queue.ts`); the contract suite
 * (`test/store/queue.test.ts`) runs on both.
 *
 * - A claim is `FOR UPDATE SKIP LOCKED` on the next due job, so concurrent workers never take the
 *   same job and never wait on each other's row. Before it, jobs whose lease expired (their worker
 *   died) are taken back: queued again from the lease's end, or dead on their last attempt.
 * - `enqueue` is one transaction: the delivery and dedupe-key checks and the insert. Two `serve`
 *   replicas given the same delivery at once race on the unique `deliveries` key and the partial
 *   unique index on live dedupe keys: the loser rolls back and, retried, finds the winner's job.
 * - `complete`, `fail` and `heartbeat` act only while the caller holds the lease.
 *
 * Why not pg-boss: its current releases (11, 12) require Node ≥ 22 and this project runs on Node
 * 20; pg-boss 10 keeps time in the database (`now()`), has no lease owner, heartbeat or per-job
 * retry-after, and dedupes only queued or active jobs — so the port's tested guarantees (a lost
 * lease cannot settle a job, a done job holds its key, retry-after is honoured) could not be kept.
 * The claim is the same `SKIP LOCKED` statement pg-boss uses.
 *
 * Security: payloads are checked by `assertJobInput` and error messages masked by
 * `sanitizeJobError` before they are written, as in SQLite.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, KeywardenError } from '../errors.js';
import { inTransaction, PG_SCHEMA, toPgStoreError, type PgClient, type PgPool } from './pg.js';
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

const T = `${PG_SCHEMA}.jobs`;
const D = `${PG_SCHEMA}.deliveries`;

interface Row {
  seq: string;
  id: string;
  kind: string;
  payload: string;
  state: JobState;
  priority: number;
  run_at: string;
  attempts: number;
  max_attempts: number;
  dedupe_key: string | null;
  delivery_id: string | null;
  enqueued_at: string;
  lease_owner: string | null;
  lease_until: string | null;
  last_error_code: string | null;
  last_error_message: string | null;
  finished_at: string | null;
  group_key: string | null;
}

// BIGINT comes back as a string from node-postgres; times are ms since the epoch, well inside 2^53.
const ms = (v: string): number => Number(v);

function toJob(r: Row): Job {
  return {
    id: r.id,
    kind: r.kind,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    priority: r.priority,
    enqueuedAt: new Date(ms(r.enqueued_at)),
    runAt: new Date(ms(r.run_at)),
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
    ...(r.lease_until !== null ? { leaseExpiresAt: new Date(ms(r.lease_until)) } : {}),
    ...(r.finished_at !== null ? { finishedAt: new Date(ms(r.finished_at)) } : {}),
  };
}

export interface PgJobQueueOptions {
  /** A pool on a migrated database (`openPgStore`). The queue does not end it on `close` unless `ownsPool`. */
  pool: PgPool;
  ownsPool?: boolean;
  clock?: () => Date;
  /** How long delivery ids, and done and dead jobs, are kept. Default 7 days. */
  retentionMs?: number;
  /** How often `enqueue` prunes, at most. Default 1 hour. */
  pruneEveryMs?: number;
  /** Default 64 KiB. */
  maxPayloadBytes?: number;
}

/** The channel `enqueue` notifies and `subscribe` listens on. */
export const NOTIFY_CHANNEL = 'keywarden_jobs';

const EXPIRED_MESSAGE = 'The worker stopped renewing its lease (it was killed, or blocked for longer than the lease).';
const UNIQUE_VIOLATION = '23505';

/**
 * @example
 * const store = await openPgStore({ url });
 * const queue = new PgJobQueue({ pool: store.pool });
 */
export class PgJobQueue implements JobQueue {
  readonly name = 'postgres';
  private readonly pool: PgPool;
  private readonly clock: () => Date;
  private readonly retentionMs: number;
  private readonly pruneEveryMs: number;
  private readonly maxPayloadBytes: number | undefined;
  private lastPruneAt = -Infinity;
  private closed = false;

  constructor(private readonly options: PgJobQueueOptions) {
    this.pool = options.pool;
    this.clock = options.clock ?? (() => new Date());
    this.retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.pruneEveryMs = options.pruneEveryMs ?? 60 * 60_000;
    this.maxPayloadBytes = options.maxPayloadBytes;
  }

  private now(): number {
    return this.clock().getTime();
  }

  private leaseLost(jobId: string, verb: string): KeywardenError {
    return new KeywardenError(ErrorCode.QUEUE_LEASE_LOST, `Could not ${verb} job ${jobId}: this worker no longer holds its lease (it expired and the job was taken back).`, {
      fault: 'backend',
      details: { jobId },
    });
  }

  private async use<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) {
      throw new KeywardenError(ErrorCode.QUEUE_CLOSED, `The job queue is closed; cannot ${what}.`, { fault: 'internal' });
    }
    try {
      return await fn();
    } catch (e) {
      throw toPgStoreError(e, what);
    }
  }

  private async enqueueTx(c: PgClient, input: JobInput, payload: string, now: number): Promise<EnqueueResult> {
    if (input.deliveryId !== undefined) {
      const seen = await c.query<{ job_id: string }>(`SELECT job_id FROM ${D} WHERE delivery_id = $1`, [input.deliveryId]);
      if (seen.rows[0]) return { id: seen.rows[0].job_id, duplicate: true, by: 'delivery' };
    }
    if (input.dedupeKey !== undefined) {
      const same = await c.query<{ id: string }>(`SELECT id FROM ${T} WHERE dedupe_key = $1 AND state <> 'dead'`, [input.dedupeKey]);
      if (same.rows[0]) {
        // Remember the new delivery too: its redelivery is then a duplicate by delivery.
        if (input.deliveryId !== undefined) await c.query(`INSERT INTO ${D} (delivery_id, job_id, seen_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [input.deliveryId, same.rows[0].id, now]);
        return { id: same.rows[0].id, duplicate: true, by: 'dedupe-key' };
      }
    }
    const id = randomUUID();
    await c.query(
      `INSERT INTO ${T} (id, kind, payload, state, priority, run_at, attempts, max_attempts, dedupe_key, delivery_id, enqueued_at, group_key)
       VALUES ($1, $2, $3, 'queued', $4, $5, 0, $6, $7, $8, $9, $10)`,
      [id, input.kind, payload, input.priority ?? 0, input.runAt ? input.runAt.getTime() : now, input.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, input.dedupeKey ?? null, input.deliveryId ?? null, now, input.group ?? null],
    );
    // Workers in other processes LISTEN: delivered when this transaction commits, dropped if it rolls back.
    await c.query(`SELECT pg_notify('${NOTIFY_CHANNEL}', '')`);
    // A plain insert: a concurrent transaction that took the delivery first makes this one fail
    // with a unique violation, and the retry in `enqueue` then finds its job.
    if (input.deliveryId !== undefined) await c.query(`INSERT INTO ${D} (delivery_id, job_id, seen_at) VALUES ($1, $2, $3)`, [input.deliveryId, id, now]);
    return { id, duplicate: false };
  }

  async enqueue(input: JobInput): Promise<EnqueueResult> {
    const payload = assertJobInput(input, this.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: this.maxPayloadBytes });
    return this.use('enqueue a job', async () => {
      const now = this.now();
      if (now - this.lastPruneAt >= this.pruneEveryMs) {
        this.lastPruneAt = now;
        await this.pruneAt(now);
      }
      for (let attempt = 1; ; attempt++) {
        try {
          return await inTransaction(this.pool, (c) => this.enqueueTx(c, input, payload, now));
        } catch (e) {
          if ((e as { code?: unknown }).code !== UNIQUE_VIOLATION || attempt >= 3) throw e;
        }
      }
    });
  }

  async claim(options: ClaimOptions): Promise<Job | undefined> {
    assertLease(options.leaseMs);
    if (options.kinds?.length === 0) return undefined;
    return this.use('claim a job', async () => {
      const now = this.now();
      // Take back expired leases: dead on the last attempt, else queued from the lease's end. Rows
      // another claimer is taking back are skipped, not waited on (no lock-order deadlock).
      await this.pool.query(
        `UPDATE ${T} SET
           state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END,
           finished_at = CASE WHEN attempts >= max_attempts THEN $1 ELSE NULL END,
           run_at = CASE WHEN attempts >= max_attempts THEN run_at ELSE lease_until END,
           lease_owner = NULL, lease_until = NULL, last_error_code = $2, last_error_message = $3
         WHERE seq IN (SELECT seq FROM ${T} WHERE state = 'running' AND lease_until <= $1 FOR UPDATE SKIP LOCKED)`,
        [now, ErrorCode.QUEUE_LEASE_EXPIRED, EXPIRED_MESSAGE],
      );
      const { rows } = await this.pool.query<Row>(
        `WITH next AS (
           SELECT seq FROM ${T} q
           WHERE state = 'queued' AND run_at <= $1 AND ($2::text[] IS NULL OR kind = ANY($2::text[]))
             AND ($5::int IS NULL OR q.group_key IS NULL
                  OR (SELECT count(*) FROM ${T} r WHERE r.state = 'running' AND r.group_key = q.group_key) < $5)
           ORDER BY priority DESC, run_at, seq
           LIMIT 1
           FOR UPDATE SKIP LOCKED)
         UPDATE ${T} j SET state = 'running', attempts = j.attempts + 1, lease_owner = $3, lease_until = $4
         FROM next WHERE j.seq = next.seq
         RETURNING j.*`,
        [now, options.kinds ? [...options.kinds] : null, options.workerId, now + options.leaseMs, options.groupLimit ?? null],
      );
      return rows[0] ? toJob(rows[0]) : undefined;
    });
  }

  async heartbeat(jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
    assertLease(leaseMs);
    return this.use('renew a job lease', async () => {
      // Also revives a lease that ran out while no claim took the job back: it is still this worker's.
      const r = await this.pool.query(`UPDATE ${T} SET lease_until = $1 WHERE id = $2 AND state = 'running' AND lease_owner = $3`, [this.now() + leaseMs, jobId, workerId]);
      return r.rowCount === 1;
    });
  }

  async complete(jobId: string, workerId: string): Promise<void> {
    const changed = await this.use('complete a job', async () => {
      const r = await this.pool.query(
        `UPDATE ${T} SET state = 'done', finished_at = $1, lease_owner = NULL, lease_until = NULL WHERE id = $2 AND state = 'running' AND lease_owner = $3`,
        [this.now(), jobId, workerId],
      );
      return r.rowCount;
    });
    if (changed !== 1) throw this.leaseLost(jobId, 'complete');
  }

  async fail(jobId: string, workerId: string, failure: JobFailure): Promise<FailResult> {
    return this.use('record a job failure', () =>
      inTransaction(this.pool, async (c) => {
        const now = this.now();
        const held = await c.query<{ attempts: number; max_attempts: number }>(`SELECT attempts, max_attempts FROM ${T} WHERE id = $1 AND state = 'running' AND lease_owner = $2 FOR UPDATE`, [
          jobId,
          workerId,
        ]);
        const row = held.rows[0];
        if (!row) throw this.leaseLost(jobId, 'fail');
        const { code, message } = sanitizeJobError(failure);
        if (failure.retryable && row.attempts < row.max_attempts) {
          const runAt = now + retryDelayMs(failure, row.attempts);
          await c.query(`UPDATE ${T} SET state = 'queued', run_at = $2, lease_owner = NULL, lease_until = NULL, last_error_code = $3, last_error_message = $4 WHERE id = $1`, [
            jobId,
            runAt,
            code,
            message,
          ]);
          return { state: 'retrying', runAt: new Date(runAt) } as const;
        }
        await c.query(`UPDATE ${T} SET state = 'dead', finished_at = $2, lease_owner = NULL, lease_until = NULL, last_error_code = $3, last_error_message = $4 WHERE id = $1`, [
          jobId,
          now,
          code,
          message,
        ]);
        return { state: 'dead' } as const;
      }),
    );
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const row = await this.use('read a job', async () => (await this.pool.query<Row>(`SELECT * FROM ${T} WHERE id = $1`, [jobId])).rows[0]);
    return row ? toRecord(row) : undefined;
  }

  async listDead(limit = 100): Promise<JobRecord[]> {
    const n = Number.isInteger(limit) && limit > 0 ? Math.min(limit, 10_000) : 100;
    return this.use('list dead jobs', async () => (await this.pool.query<Row>(`SELECT * FROM ${T} WHERE state = 'dead' ORDER BY finished_at DESC, seq DESC LIMIT $1`, [n])).rows.map(toRecord));
  }

  async stats(): Promise<QueueStats> {
    return this.use('read queue stats', async () => {
      const now = this.now();
      const counts = await this.pool.query<{ state: JobState; n: string }>(`SELECT state, count(*) AS n FROM ${T} GROUP BY state`);
      const due = await this.pool.query<{ n: string; oldest: string | null }>(`SELECT count(*) AS n, min(run_at) AS oldest FROM ${T} WHERE state = 'queued' AND run_at <= $1`, [now]);
      const by = new Map(counts.rows.map((r) => [r.state, Number(r.n)]));
      const d = due.rows[0]!;
      return {
        queued: by.get('queued') ?? 0,
        due: Number(d.n),
        running: by.get('running') ?? 0,
        dead: by.get('dead') ?? 0,
        oldestQueuedAgeMs: d.oldest === null ? 0 : Math.max(0, now - ms(d.oldest)),
      };
    });
  }

  private async pruneAt(now: number): Promise<PruneResult> {
    const cutoff = now - this.retentionMs;
    return inTransaction(this.pool, async (c) => {
      const jobs = await c.query(`DELETE FROM ${T} WHERE state IN ('done', 'dead') AND finished_at < $1`, [cutoff]);
      const deliveries = await c.query(`DELETE FROM ${D} d WHERE d.seen_at < $1 AND NOT EXISTS (SELECT 1 FROM ${T} j WHERE j.id = d.job_id AND j.state IN ('queued', 'running'))`, [cutoff]);
      return { jobs: jobs.rowCount ?? 0, deliveries: deliveries.rowCount ?? 0 };
    });
  }

  async prune(): Promise<PruneResult> {
    return this.use('prune the job queue', () => {
      const now = this.now();
      this.lastPruneAt = now;
      return this.pruneAt(now);
    });
  }

  async ping(): Promise<void> {
    await this.use('reach the job queue', () => this.pool.query(`SELECT 1 FROM ${T} LIMIT 1`));
  }

  async subscribe(fn: () => void): Promise<() => Promise<void>> {
    // One pooled connection held for LISTEN; reconnected after a loss (a restart, a failover).
    let client: PgClient | undefined;
    let stopped = false;
    let retry: NodeJS.Timeout | undefined;
    const listen = async (): Promise<void> => {
      if (stopped || this.closed) return;
      try {
        const c = await this.pool.connect();
        c.on('notification', () => fn());
        c.once('error', () => {
          c.release(true);
          if (client === c) client = undefined;
          if (!stopped) retry = setTimeout(() => void listen(), 1000);
          // Missed notifications while away: wake once so nothing waits for a poll.
          fn();
        });
        await c.query(`LISTEN ${NOTIFY_CHANNEL}`);
        client = c;
      } catch {
        if (!stopped) retry = setTimeout(() => void listen(), 1000);
      }
    };
    await listen();
    return async () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = undefined;
      if (c) {
        await c.query(`UNLISTEN ${NOTIFY_CHANNEL}`).catch(() => {});
        c.release();
      }
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.options.ownsPool) await this.pool.end();
  }
}

function assertLease(leaseMs: number): void {
  if (!Number.isInteger(leaseMs) || leaseMs < 1 || leaseMs > 24 * 60 * 60_000) {
    throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A job lease must be a whole number of milliseconds from 1 to 24 hours.', { fault: 'internal' });
  }
}
