/**
 * What the App's stores say after a run, read straight from them (PostgreSQL's `keywarden` schema,
 * or the SQLite files in the state folder), so lost and duplicated work is counted, not assumed:
 * every job row, every step record, and the on-disk size of each table per row.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';

export interface JobRow {
  id: string;
  kind: string;
  state: string;
  attempts: number;
  dedupeKey: string | null;
  deliveryId: string | null;
  enqueuedAt: number;
  finishedAt: number | null;
}

export interface StepRowLite {
  id: string;
  kind: string;
  status: string;
  fingerprints: string;
  attempts: number;
}

export interface Ledger {
  jobs: JobRow[];
  /** delivery id → job id, from the deliveries table. */
  deliveries: Map<string, string>;
  steps: StepRowLite[];
}

export interface TableSize {
  table: string;
  rows: number;
  /** Heap, TOAST and indexes, bytes. */
  totalBytes: number;
  /** Mean `pg_column_size` of a row (the tuple's data, no page or index overhead), bytes. */
  rowBytes: number;
}

const JOB_SQL = 'SELECT id, kind, state, attempts, dedupe_key, delivery_id, enqueued_at, finished_at FROM';

interface RawJob {
  id: string;
  kind: string;
  state: string;
  attempts: number;
  dedupe_key: string | null;
  delivery_id: string | null;
  enqueued_at: string | number;
  finished_at: string | number | null;
}

const toJob = (r: RawJob): JobRow => ({
  id: r.id,
  kind: r.kind,
  state: r.state,
  attempts: r.attempts,
  dedupeKey: r.dedupe_key,
  deliveryId: r.delivery_id,
  enqueuedAt: Number(r.enqueued_at),
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
});

export async function readPgLedger(url: string): Promise<Ledger> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const jobs = (await c.query<RawJob>(`${JOB_SQL} keywarden.jobs`)).rows.map(toJob);
    const deliveries = new Map((await c.query<{ delivery_id: string; job_id: string }>('SELECT delivery_id, job_id FROM keywarden.deliveries')).rows.map((r) => [r.delivery_id, r.job_id]));
    const steps = (await c.query<StepRowLite>('SELECT id, kind, status, fingerprints, attempts FROM keywarden.steps')).rows;
    return { jobs, deliveries, steps };
  } finally {
    await c.end();
  }
}

export function readSqliteLedger(stateDir: string): Ledger {
  const q = new Database(path.join(stateDir, 'jobs.db'), { readonly: true, fileMustExist: true });
  const s = new Database(path.join(stateDir, 'pipeline.db'), { readonly: true, fileMustExist: true });
  try {
    const jobs = (q.prepare(`${JOB_SQL} jobs`).all() as RawJob[]).map(toJob);
    const deliveries = new Map((q.prepare('SELECT delivery_id, job_id FROM deliveries').all() as Array<{ delivery_id: string; job_id: string }>).map((r) => [r.delivery_id, r.job_id]));
    const steps = s.prepare('SELECT id, kind, status, fingerprints, attempts FROM steps').all() as StepRowLite[];
    return { jobs, deliveries, steps };
  } finally {
    q.close();
    s.close();
  }
}

/** Queued and running jobs, and how many of `deliveryIds` have a job yet (the drain is over when all do and nothing is left). */
export async function pgProgress(client: pg.Client, deliveryIds: readonly string[]): Promise<{ open: number; seen: number; done: number; dead: number }> {
  const r = await client.query<{ open: string; done: string; dead: string; seen: string }>(
    `SELECT (SELECT count(*) FROM keywarden.jobs WHERE state IN ('queued', 'running')) AS open,
            (SELECT count(*) FROM keywarden.jobs WHERE state = 'done') AS done,
            (SELECT count(*) FROM keywarden.jobs WHERE state = 'dead') AS dead,
            (SELECT count(*) FROM keywarden.deliveries WHERE delivery_id = ANY($1)) AS seen`,
    [deliveryIds],
  );
  const row = r.rows[0]!;
  return { open: Number(row.open), seen: Number(row.seen), done: Number(row.done), dead: Number(row.dead) };
}

export function sqliteProgress(stateDir: string, deliveryIds: readonly string[]): { open: number; seen: number; done: number; dead: number } {
  const q = new Database(path.join(stateDir, 'jobs.db'), { readonly: true, fileMustExist: true });
  try {
    const by = new Map((q.prepare('SELECT state, count(*) AS n FROM jobs GROUP BY state').all() as Array<{ state: string; n: number }>).map((r) => [r.state, r.n]));
    const ids = new Set(deliveryIds);
    const seen = (q.prepare('SELECT delivery_id FROM deliveries').all() as Array<{ delivery_id: string }>).filter((r) => ids.has(r.delivery_id)).length;
    return { open: (by.get('queued') ?? 0) + (by.get('running') ?? 0), seen, done: by.get('done') ?? 0, dead: by.get('dead') ?? 0 };
  } finally {
    q.close();
  }
}

/** Rows and bytes of each of the App's tables on PostgreSQL (after VACUUM ANALYZE, so the sizes are settled). */
export async function pgTableSizes(url: string): Promise<TableSize[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out: TableSize[] = [];
    for (const t of ['jobs', 'deliveries', 'steps', 'idempotency']) {
      await c.query(`VACUUM ANALYZE keywarden.${t}`);
      const r = await c.query<{ rows: string; total: string; row_bytes: string | null }>(
        `SELECT count(*) AS rows, pg_total_relation_size('keywarden.${t}') AS total, avg(pg_column_size(t.*)) AS row_bytes FROM keywarden.${t} t`,
      );
      const row = r.rows[0]!;
      out.push({ table: t, rows: Number(row.rows), totalBytes: Number(row.total), rowBytes: row.row_bytes === null ? 0 : Number(row.row_bytes) });
    }
    return out;
  } finally {
    await c.end();
  }
}
