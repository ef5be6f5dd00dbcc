/**
 * The step store's contract, on SQLite and on PostgreSQL: a step written before it runs and after,
 * a re-run counted, the outcome and facts kept, listing in start order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StepResult } from '../../src/pipeline/types.js';
import { createPgPool, migratePg, PG_SCHEMA, type PgPool } from '../../src/store/pg.js';
import { PgStepStore } from '../../src/store/pg-steps.js';
import { SqliteStepStore, type StepStore } from '../../src/store/steps.js';
import { createTestDatabase, postgresSkipReason } from '../setup/postgres.js';

const pgSkip = postgresSkipReason();
let pgDb: { url: string; drop(): Promise<void> } | undefined;
let pool: PgPool | undefined;
beforeAll(async () => {
  if (pgSkip) return;
  pgDb = await createTestDatabase();
  pool = createPgPool({ url: pgDb.url, max: 4 });
  await migratePg(pool);
});
afterAll(async () => {
  await pool?.end();
  await pgDb?.drop();
});

let dir: string;
const stores: StepStore[] = [];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kw-steps-'));
  if (pool) await pool.query(`TRUNCATE ${PG_SCHEMA}.steps`);
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const step = { id: 'revoke:aws-iam:AKIA-example', kind: 'revoke', title: 'Revoke the access key', fingerprints: ['fp2', 'fp1'] };
const t0 = new Date('2030-01-01T00:00:00Z');
const t1 = new Date('2030-01-01T00:00:05Z');

describe.each(['sqlite', 'postgres'] as const)('the step store on %s', (engine) => {
  if (engine === 'postgres' && pgSkip) {
    it.skip(`PostgreSQL: ${pgSkip}`, () => {});
    return;
  }
  const open = (): StepStore => {
    const s = engine === 'sqlite' ? SqliteStepStore.open(join(dir, 'pipeline.db')) : new PgStepStore(pool!);
    stores.push(s);
    return s;
  };

  it('records a step before and after it runs, and a re-run as another attempt', async () => {
    const s = open();
    expect(await s.get(step.id)).toBeUndefined();
    expect(await s.start(step, t0)).toMatchObject({ id: step.id, status: 'running', attempts: 1, fingerprints: ['fp2', 'fp1'], startedAt: t0.toISOString(), finishedAt: null });
    const result = { step: { ...step, rule: 'r' }, status: 'failed', code: 'KW_BACKEND_UNAVAILABLE', detail: 'AWS did not answer' } as unknown as StepResult;
    await s.finish(result, t1);
    expect(await s.get(step.id)).toMatchObject({ status: 'failed', code: 'KW_BACKEND_UNAVAILABLE', detail: 'AWS did not answer', finishedAt: t1.toISOString() });

    // A second store on the same database (another worker) sees it and re-runs it.
    const other = open();
    expect(await other.start(step, t1)).toMatchObject({ status: 'running', attempts: 2, code: null, detail: null, finishedAt: null });
    await other.finish({ step: { ...step, rule: 'r' }, status: 'done', detail: 'revoked', facts: { newKeyId: 'k2', replaced: true } } as unknown as StepResult, t1);
    expect(await s.get(step.id)).toMatchObject({ status: 'done', attempts: 2, facts: { newKeyId: 'k2', replaced: true } });
  });

  it('lists steps in start order', async () => {
    const s = open();
    await s.start({ ...step, id: 'b' }, t1);
    await s.start({ ...step, id: 'a' }, t0);
    await s.start({ ...step, id: 'c' }, t1);
    expect((await s.list()).map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });
});
