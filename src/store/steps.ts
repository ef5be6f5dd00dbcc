/**
 * The pipeline's step records: every step is written before it runs (`started`) and after
 * (`done`/`failed`), keyed by its idempotency key. A run that resumes after a crash sees which
 * steps finished; one left `running` is run again with the same idempotency key, and the backend
 * replays it instead of acting twice (see `IdempotencyStore`). Rows hold ids, fingerprints and
 * public facts — never a secret.
 */
import type { StepResult, StepStatus } from '../pipeline/types.js';
import { openDatabase, toStoreError, type SqliteDatabase } from './sqlite.js';

export interface StepRecord {
  id: string;
  kind: string;
  status: 'running' | StepStatus;
  title: string;
  fingerprints: string[];
  attempts: number;
  code: string | null;
  detail: string | null;
  facts: Record<string, string | number | boolean>;
  startedAt: string;
  finishedAt: string | null;
}

/**
 * The port: SQLite (`SqliteStepStore`, the state folder's `pipeline.db`) or PostgreSQL
 * (`PgStepStore`, shared by every worker). Async because a server database is.
 */
export interface StepStore {
  get(id: string): Promise<StepRecord | undefined>;
  start(step: { id: string; kind: string; title: string; fingerprints: string[] }, now: Date): Promise<StepRecord>;
  finish(result: StepResult, now: Date): Promise<void>;
  list(): Promise<StepRecord[]>;
  close(): Promise<void>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS steps (
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
);`;

export interface StepRow {
  id: string;
  kind: string;
  status: StepRecord['status'];
  title: string;
  fingerprints: string;
  attempts: number;
  code: string | null;
  detail: string | null;
  facts: string;
  started_at: string;
  finished_at: string | null;
}

export const stepRecordOf = (r: StepRow): StepRecord => ({
  id: r.id,
  kind: r.kind,
  status: r.status,
  title: r.title,
  fingerprints: JSON.parse(r.fingerprints) as string[],
  attempts: r.attempts,
  code: r.code,
  detail: r.detail,
  facts: JSON.parse(r.facts) as StepRecord['facts'],
  startedAt: r.started_at,
  finishedAt: r.finished_at,
});

export class SqliteStepStore implements StepStore {
  private constructor(private readonly db: SqliteDatabase) {}

  static open(path: string): SqliteStepStore {
    const db = openDatabase(path);
    try {
      db.exec(SCHEMA);
    } catch (e) {
      db.close();
      throw toStoreError(e, 'prepare the step store');
    }
    return new SqliteStepStore(db);
  }

  async get(id: string): Promise<StepRecord | undefined> {
    return this.read(id);
  }

  private read(id: string): StepRecord | undefined {
    const r = this.db.prepare('SELECT * FROM steps WHERE id = ?').get(id) as StepRow | undefined;
    return r ? stepRecordOf(r) : undefined;
  }

  async start(step: { id: string; kind: string; title: string; fingerprints: string[] }, now: Date): Promise<StepRecord> {
    try {
      return this.db.transaction(() => {
        this.db
          .prepare(
            `INSERT INTO steps (id, kind, status, title, fingerprints, attempts, started_at) VALUES (?, ?, 'running', ?, ?, 1, ?)
             ON CONFLICT (id) DO UPDATE SET status = 'running', attempts = attempts + 1, code = NULL, detail = NULL, finished_at = NULL`,
          )
          .run(step.id, step.kind, step.title, JSON.stringify(step.fingerprints), now.toISOString());
        return this.read(step.id)!;
      }).immediate();
    } catch (e) {
      throw toStoreError(e, 'record a step');
    }
  }

  async finish(result: StepResult, now: Date): Promise<void> {
    try {
      this.db
        .prepare('UPDATE steps SET status = ?, code = ?, detail = ?, facts = ?, finished_at = ? WHERE id = ?')
        .run(result.status, result.code ?? null, result.detail, JSON.stringify(result.facts ?? {}), now.toISOString(), result.step.id);
    } catch (e) {
      throw toStoreError(e, 'record a step outcome');
    }
  }

  async list(): Promise<StepRecord[]> {
    return (this.db.prepare('SELECT * FROM steps ORDER BY started_at, id').all() as StepRow[]).map(stepRecordOf);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
