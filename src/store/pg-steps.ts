/**
 * The pipeline's step records in PostgreSQL (`keywarden.steps`): the same records as
 * `SqliteStepStore`, shared by every worker, so a job retried on another machine sees which
 * steps the first attempt finished. Rows hold ids, fingerprints and public facts — never a secret.
 */
import type { StepResult } from '../pipeline/types.js';
import { PG_SCHEMA, toPgStoreError, type PgPool } from './pg.js';
import { stepRecordOf, type StepRecord, type StepRow, type StepStore } from './steps.js';

const T = `${PG_SCHEMA}.steps`;

export class PgStepStore implements StepStore {
  constructor(
    private readonly pool: PgPool,
    private readonly options: { ownsPool?: boolean } = {},
  ) {}

  async get(id: string): Promise<StepRecord | undefined> {
    try {
      const { rows } = await this.pool.query<StepRow>(`SELECT * FROM ${T} WHERE id = $1`, [id]);
      return rows[0] ? stepRecordOf(rows[0]) : undefined;
    } catch (e) {
      throw toPgStoreError(e, 'read a step');
    }
  }

  async start(step: { id: string; kind: string; title: string; fingerprints: string[] }, now: Date): Promise<StepRecord> {
    try {
      const { rows } = await this.pool.query<StepRow>(
        `INSERT INTO ${T} AS s (id, kind, status, title, fingerprints, attempts, started_at) VALUES ($1, $2, 'running', $3, $4, 1, $5)
         ON CONFLICT (id) DO UPDATE SET status = 'running', attempts = s.attempts + 1, code = NULL, detail = NULL, finished_at = NULL
         RETURNING *`,
        [step.id, step.kind, step.title, JSON.stringify(step.fingerprints), now.toISOString()],
      );
      return stepRecordOf(rows[0]!);
    } catch (e) {
      throw toPgStoreError(e, 'record a step');
    }
  }

  async finish(result: StepResult, now: Date): Promise<void> {
    try {
      await this.pool.query(`UPDATE ${T} SET status = $1, code = $2, detail = $3, facts = $4, finished_at = $5 WHERE id = $6`, [
        result.status,
        result.code ?? null,
        result.detail,
        JSON.stringify(result.facts ?? {}),
        now.toISOString(),
        result.step.id,
      ]);
    } catch (e) {
      throw toPgStoreError(e, 'record a step outcome');
    }
  }

  async list(): Promise<StepRecord[]> {
    try {
      return (await this.pool.query<StepRow>(`SELECT * FROM ${T} ORDER BY started_at, id`)).rows.map(stepRecordOf);
    } catch (e) {
      throw toPgStoreError(e, 'list the steps');
    }
  }

  async close(): Promise<void> {
    if (this.options.ownsPool) await this.pool.end();
  }
}
