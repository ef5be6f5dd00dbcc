/**
 * Idempotency records in PostgreSQL (`keywarden.idempotency`), shared by every worker: the same
 * reserve–call–record protocol as `SqliteIdempotencyStore`, so two workers on two machines given
 * the same idempotency key never call the backend twice. The reservation is a row inserted in its
 * own transaction (the primary key decides the race); a live reservation held by another process
 * is a retryable conflict, a stale one (its process presumed dead) is taken over; a failed call
 * removes its reservation so the retry runs.
 */
import { ErrorCode, KeywardenError } from '../errors.js';
import { assertKey, conflict, replay, type IdempotencyScope, type IdempotencyStore, type Replayable } from './idempotency.js';
import { inTransaction, PG_SCHEMA, toPgStoreError, type PgPool } from './pg.js';

const T = `${PG_SCHEMA}.idempotency`;

interface Row {
  verb: string;
  target: string;
  status: 'pending' | 'done';
  result: string | null;
  started_at: string;
}

export interface PgIdempotencyStoreOptions {
  /** A pending reservation older than this is taken over. Default 5 min. */
  leaseMs?: number;
  clock?: () => number;
}

export class PgIdempotencyStore implements IdempotencyStore {
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly leaseMs: number;
  private readonly now: () => number;

  constructor(
    private readonly pool: PgPool,
    options: PgIdempotencyStoreOptions = {},
  ) {
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.now = options.clock ?? Date.now;
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
    const p = (async () => {
      const reserved = await this.reserve<T>(s);
      if (reserved.replay) return reserved.replay;
      let result: T;
      try {
        result = await fn();
      } catch (e) {
        await this.release(s);
        throw e;
      }
      await this.finish(s, result);
      return result;
    })();
    this.inflight.set(mapKey, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(mapKey);
    }
  }

  private async reserve<T extends Replayable>(s: IdempotencyScope): Promise<{ replay?: T }> {
    try {
      return await inTransaction(this.pool, async (c) => {
        const now = this.now();
        const inserted = await c.query(
          `INSERT INTO ${T} (scope, idem_key, verb, target, status, result, started_at) VALUES ($1, $2, $3, $4, 'pending', NULL, $5) ON CONFLICT DO NOTHING`,
          [s.scope, s.key, s.verb, s.target, now],
        );
        if (inserted.rowCount === 1) return {};
        const { rows } = await c.query<Row>(`SELECT verb, target, status, result, started_at FROM ${T} WHERE scope = $1 AND idem_key = $2 FOR UPDATE`, [s.scope, s.key]);
        const row = rows[0];
        if (!row) throw new KeywardenError(ErrorCode.IDEMPOTENCY_CONFLICT, `The reservation for ${s.verb} on ${s.target} vanished; try again.`, { fault: 'backend', retryable: true });
        if (row.status === 'done') return { replay: replay<T>(s, row) };
        if (row.verb !== s.verb || row.target !== s.target) throw conflict(s, row);
        if (now - Number(row.started_at) < this.leaseMs) {
          throw new KeywardenError(ErrorCode.IDEMPOTENCY_CONFLICT, `Another process is running ${s.verb} on ${s.target} with the same idempotency key; try again shortly.`, {
            fault: 'backend',
            retryable: true,
            details: { idempotencyKey: s.key },
          });
        }
        await c.query(`UPDATE ${T} SET started_at = $3 WHERE scope = $1 AND idem_key = $2`, [s.scope, s.key, now]);
        return {};
      });
    } catch (e) {
      throw toPgStoreError(e, 'reserve an idempotency key');
    }
  }

  private async finish(s: IdempotencyScope, result: Replayable): Promise<void> {
    try {
      await this.pool.query(`UPDATE ${T} SET status = 'done', result = $3 WHERE scope = $1 AND idem_key = $2`, [s.scope, s.key, JSON.stringify({ ...result, replayed: false })]);
    } catch (e) {
      // The backend acted but the record was not written: a retry would act again. Say so loudly.
      throw toPgStoreError(e, `record the outcome of ${s.verb} on ${s.target} (it was done; its idempotency record is still pending)`);
    }
  }

  private async release(s: IdempotencyScope): Promise<void> {
    await this.pool.query(`DELETE FROM ${T} WHERE scope = $1 AND idem_key = $2 AND status = 'pending'`, [s.scope, s.key]).catch(() => {});
  }
}
