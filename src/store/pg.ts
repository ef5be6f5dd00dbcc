/**
 * PostgreSQL for the App at org scale: one database holds the job queue, the pipeline's step
 * records and the idempotency records (`KEYWARDEN_DATABASE_URL=postgres://…`), so any number of
 * `serve` and `worker` processes on any number of machines share them. Without that variable
 * everything stays on SQLite in the state folder, as for one machine and for the CLI.
 *
 * - **Migrations** are versioned SQL, applied in order at start-up (`openPgStore`) or by
 *   `keywarden db migrate`, each in its own transaction, under a session advisory lock so two
 *   processes starting together apply each migration once. A database migrated by a newer
 *   Keywarden is refused (`KW_STORE_FAILED`, fault config) rather than written with an old schema.
 * - The audit chain (`pg-audit.ts`) lives here too: one chain for every worker.
 * - Everything lives in the `keywarden` schema, so the database can be shared with other tools.
 * - **Errors** are typed: a lost connection, a server shutting down, a serialisation failure or a
 *   deadlock is `KW_STORE_FAILED` with `retryable: true` (the worker retries the job); anything
 *   else is not retryable. The URL's password never reaches an error or a log (`redactUrl`).
 *
 * Times are milliseconds since the epoch, written by the process from its injected clock (as the
 * SQLite stores do), so both engines pass the same contract tests with a manual clock. Hosts
 * should keep their clocks in sync (NTP), as for any lease-based queue.
 *
 * @example
 * const store = await openPgStore({ url: process.env.KEYWARDEN_DATABASE_URL! });
 * const queue = new PgJobQueue({ pool: store.pool });
 */
import pg from 'pg';
import { ErrorCode, KeywardenError } from '../errors.js';

export type PgPool = pg.Pool;
export type PgClient = pg.PoolClient;

/** The schema Keywarden's tables live in. */
export const PG_SCHEMA = 'keywarden';

/** Arbitrary but fixed: the advisory lock `migrate` holds (the bytes of "kwmigrat"). */
const MIGRATION_LOCK = 0x6b776d6967726174n;

export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The migrations, in order. Never edit one that has shipped: add the next. Each runs in one
 * transaction with the version row it writes.
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'jobs, deliveries, steps, idempotency',
    sql: `
CREATE TABLE ${PG_SCHEMA}.jobs (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
  priority INTEGER NOT NULL DEFAULT 0,
  run_at BIGINT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL,
  dedupe_key TEXT,
  delivery_id TEXT,
  enqueued_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT,
  last_error_code TEXT,
  last_error_message TEXT,
  finished_at BIGINT
);
CREATE INDEX jobs_due ON ${PG_SCHEMA}.jobs (priority DESC, run_at, seq) WHERE state = 'queued';
CREATE INDEX jobs_lease ON ${PG_SCHEMA}.jobs (lease_until) WHERE state = 'running';
CREATE INDEX jobs_finished ON ${PG_SCHEMA}.jobs (finished_at) WHERE finished_at IS NOT NULL;
-- A dead job does not hold its key: the same work can be enqueued again.
CREATE UNIQUE INDEX jobs_dedupe ON ${PG_SCHEMA}.jobs (dedupe_key) WHERE dedupe_key IS NOT NULL AND state <> 'dead';
-- Delivery ids outlive their jobs, for the retention period.
CREATE TABLE ${PG_SCHEMA}.deliveries (
  delivery_id TEXT PRIMARY KEY,
  job_id TEXT NOT NULL,
  seen_at BIGINT NOT NULL
);
CREATE INDEX deliveries_seen ON ${PG_SCHEMA}.deliveries (seen_at);
CREATE TABLE ${PG_SCHEMA}.steps (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'skipped', 'planned')),
  title TEXT NOT NULL,
  fingerprints TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  code TEXT,
  detail TEXT,
  facts TEXT NOT NULL DEFAULT '{}',
  started_at TEXT NOT NULL,
  finished_at TEXT
);
CREATE TABLE ${PG_SCHEMA}.idempotency (
  scope TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  verb TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'done')),
  result TEXT,
  started_at BIGINT NOT NULL,
  PRIMARY KEY (scope, idem_key)
);`,
  },
  {
    version: 2,
    name: 'job fairness groups (per-installation concurrency)',
    sql: `
ALTER TABLE ${PG_SCHEMA}.jobs ADD COLUMN group_key TEXT;
CREATE INDEX jobs_running_group ON ${PG_SCHEMA}.jobs (group_key) WHERE state = 'running' AND group_key IS NOT NULL;`,
  },
  {
    version: 3,
    name: 'the audit chain (append-only, signed checkpoints)',
    // pg-audit.ts reads and writes these; the head row starts at the genesis hash.
    sql: `
CREATE TABLE ${PG_SCHEMA}.audit_log (
  pos BIGSERIAL PRIMARY KEY,
  seq BIGINT NOT NULL UNIQUE,
  body TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  key_id TEXT,
  operation TEXT NOT NULL,
  outcome TEXT NOT NULL,
  intent_seq BIGINT
);
CREATE INDEX audit_log_key ON ${PG_SCHEMA}.audit_log (key_id);
CREATE INDEX audit_log_intent ON ${PG_SCHEMA}.audit_log (intent_seq) WHERE intent_seq IS NOT NULL;
CREATE TABLE ${PG_SCHEMA}.audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL);
INSERT INTO ${PG_SCHEMA}.audit_head (id, seq, hash) VALUES (1, 0, '${'0'.repeat(64)}');
CREATE TABLE ${PG_SCHEMA}.audit_meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
INSERT INTO ${PG_SCHEMA}.audit_meta (k, v) VALUES ('log_id', gen_random_uuid()::text);
CREATE TABLE ${PG_SCHEMA}.audit_checkpoint (count BIGINT PRIMARY KEY, head_hash TEXT NOT NULL, time TEXT NOT NULL, public_key TEXT NOT NULL, signature TEXT NOT NULL);
CREATE FUNCTION ${PG_SCHEMA}.audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON ${PG_SCHEMA}.audit_log FOR EACH ROW EXECUTE FUNCTION ${PG_SCHEMA}.audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON ${PG_SCHEMA}.audit_log FOR EACH STATEMENT EXECUTE FUNCTION ${PG_SCHEMA}.audit_append_only();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON ${PG_SCHEMA}.audit_checkpoint FOR EACH ROW EXECUTE FUNCTION ${PG_SCHEMA}.audit_append_only();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON ${PG_SCHEMA}.audit_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION ${PG_SCHEMA}.audit_append_only();`,
  },
];

/** The newest schema version this Keywarden knows. */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(a database URL that does not parse)';
  }
}

const RETRYABLE_SQLSTATE = /^(08|57P0[123]|40001|40P01|53300|55P03)/;
const RETRYABLE_NODE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** True for a failure that may pass on a retry: a lost or refused connection, a shutdown, a serialisation failure, a deadlock. */
export function isTransientPgError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (RETRYABLE_SQLSTATE.test(code) || RETRYABLE_NODE.has(code))) return true;
  const message = e instanceof Error ? e.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|timeout exceeded when trying to connect/i.test(message);
}

/** Maps a driver error to `KW_STORE_FAILED` (retryable when transient); a `KeywardenError` passes through. */
export function toPgStoreError(e: unknown, what: string): KeywardenError {
  if (e instanceof KeywardenError) return e;
  const transient = isTransientPgError(e);
  const sqlstate = (e as { code?: unknown } | null)?.code;
  return new KeywardenError(
    ErrorCode.STORE_FAILED,
    transient ? `PostgreSQL could not be reached, or was busy, while trying to ${what}; try again.` : `PostgreSQL failed while trying to ${what}.`,
    { fault: transient ? 'backend' : 'internal', retryable: transient, cause: e, ...(typeof sqlstate === 'string' ? { details: { sqlstate } } : {}) },
  );
}

export interface PgPoolOptions {
  url: string;
  /** Connections in the pool. Default 10. */
  max?: number;
  /** Shown in pg_stat_activity. Default `keywarden`. */
  applicationName?: string;
  /** How long to wait for a connection. Default 10 s. */
  connectTimeoutMs?: number;
}

/** A pool whose idle-client errors (the server restarted) are swallowed: the next query reconnects. */
export function createPgPool(options: PgPoolOptions): PgPool {
  if (!/^postgres(ql)?:\/\//i.test(options.url)) {
    throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, `KEYWARDEN_DATABASE_URL must be a postgres:// URL, not ${redactUrl(options.url)}.`, { fault: 'config' });
  }
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'keywarden',
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client's socket closing (a restart, a failover) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

/** Runs `fn` in one transaction on one client: COMMIT when it resolves, ROLLBACK when it throws. */
export async function inTransaction<T>(pool: PgPool, fn: (c: PgClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: unknown;
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    broken = e;
    await client.query('ROLLBACK').catch(() => {});
    throw e;
  } finally {
    // A client whose connection failed must not go back into the pool.
    client.release(broken !== undefined && isTransientPgError(broken) ? (broken as Error) : undefined);
  }
}

export interface MigrateResult {
  /** The schema version before and after. */
  from: number;
  to: number;
  applied: { version: number; name: string }[];
}

/**
 * Applies the migrations the database lacks, in order, under an advisory lock (two processes
 * starting together: the second waits, then finds nothing to do).
 */
export async function migratePg(pool: PgPool, migrations: readonly PgMigration[] = PG_MIGRATIONS): Promise<MigrateResult> {
  let client: PgClient;
  try {
    client = await pool.connect();
  } catch (e) {
    throw toPgStoreError(e, 'connect to migrate the schema');
  }
  let broken: unknown;
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK.toString()]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${PG_SCHEMA}`);
      await client.query(`CREATE TABLE IF NOT EXISTS ${PG_SCHEMA}.schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
      const { rows } = await client.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${PG_SCHEMA}.schema_migrations`);
      const from = rows[0]?.v ?? 0;
      const newest = migrations[migrations.length - 1]?.version ?? 0;
      if (from > newest) {
        throw new KeywardenError(ErrorCode.STORE_FAILED, `The database was migrated by a newer Keywarden (schema ${from}; this one knows up to ${newest}); upgrade Keywarden.`, {
          fault: 'config',
          details: { schema: from, known: newest },
        });
      }
      const applied: MigrateResult['applied'] = [];
      for (const m of migrations) {
        if (m.version <= from) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query(`INSERT INTO ${PG_SCHEMA}.schema_migrations (version, name) VALUES ($1, $2)`, [m.version, m.name]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK').catch(() => {});
          throw e;
        }
        applied.push({ version: m.version, name: m.name });
      }
      return { from, to: Math.max(from, newest), applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]).catch(() => {});
    }
  } catch (e) {
    broken = e;
    throw toPgStoreError(e, 'migrate the schema');
  } finally {
    client.release(broken !== undefined && isTransientPgError(broken) ? (broken as Error) : undefined);
  }
}

/** The schema version the database has (0 when never migrated). */
export async function pgSchemaVersion(pool: PgPool): Promise<number> {
  try {
    const { rows } = await pool.query<{ t: string | null }>(`SELECT to_regclass('${PG_SCHEMA}.schema_migrations')::text AS t`);
    if (!rows[0]?.t) return 0;
    const v = await pool.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${PG_SCHEMA}.schema_migrations`);
    return v.rows[0]?.v ?? 0;
  } catch (e) {
    throw toPgStoreError(e, 'read the schema version');
  }
}

export interface PgStore {
  pool: PgPool;
  migrated: MigrateResult;
  close(): Promise<void>;
}

/** A pool on `url`, migrated to this Keywarden's schema. */
export async function openPgStore(options: PgPoolOptions): Promise<PgStore> {
  const pool = createPgPool(options);
  try {
    const migrated = await migratePg(pool);
    return { pool, migrated, close: () => pool.end() };
  } catch (e) {
    await pool.end().catch(() => {});
    throw e;
  }
}
