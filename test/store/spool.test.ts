/**
 * The intake's spool, on real parts: a PostgreSQL queue whose server is not there (a free port
 * nobody listens on) spools; a new process on the same state folder, with the database back,
 * replays what the first left behind — once, with a torn last line counted and dropped — and a
 * delivery spooled twice is one job.
 */
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { createPgPool, migratePg, PG_SCHEMA, type PgPool } from '../../src/store/pg.js';
import { PgJobQueue } from '../../src/store/pg-queue.js';
import { SpoolingQueue } from '../../src/store/spool.js';
import { freePort } from '../setup/moto.js';
import { createTestDatabase, postgresSkipReason } from '../setup/postgres.js';

const pgSkip = postgresSkipReason();

describe.skipIf(pgSkip)('SpoolingQueue', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: PgPool;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPgPool({ url: db.url, max: 2 });
    await migratePg(pool);
    dir = mkdtempSync(path.join(tmpdir(), 'kw-spool-'));
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('spools while the database is unreachable, and a later process replays the spool once', async () => {
    const spool = path.join(dir, 'spool');
    const down = new SpoolingQueue(new PgJobQueue({ pool: createPgPool({ url: `postgres://postgres@127.0.0.1:${await freePort()}/none`, max: 1, connectTimeoutMs: 2000 }), ownsPool: true }), { dir: spool, replayEveryMs: 60_000 });
    for (const id of ['d1', 'd2', 'd1']) expect(await down.enqueue({ kind: 'push', payload: { repo: 'acme/api', n: id }, deliveryId: id })).toMatchObject({ duplicate: false, id: expect.stringMatching(/^spooled:/) });
    // Still ready: deliveries can be taken.
    await down.ping();
    // An input the queue would refuse is refused, not spooled.
    await expect(down.enqueue({ kind: 'bad kind', payload: {} })).rejects.toMatchObject({ code: ErrorCode.QUEUE_INPUT_INVALID });
    expect(down.spoolStats()).toMatchObject({ spooled: 3, pending: 3 });
    await down.close();
    const spooled = (): string[] => readdirSync(spool).filter((f) => f.endsWith('.jsonl') || f.endsWith('.replaying'));
    const [file] = spooled();
    expect(statSync(path.join(spool, file!)).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(spool, file!), 'utf8').trim().split('\n')).toHaveLength(3);
    appendFileSync(path.join(spool, file!), '{"v":1,"input":{"kind":"pu'); // a torn write at a crash

    const up = new SpoolingQueue(new PgJobQueue({ pool }), { dir: spool, replayEveryMs: 10 });
    for (let i = 0; i < 200 && spooled().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(spooled()).toEqual([]);
    expect(up.spoolStats()).toMatchObject({ replayed: 3, dropped: 1 });
    const { rows } = await pool.query(`SELECT delivery_id, state FROM ${PG_SCHEMA}.jobs ORDER BY delivery_id`);
    expect(rows).toEqual([
      { delivery_id: 'd1', state: 'queued' },
      { delivery_id: 'd2', state: 'queued' },
    ]);
    await up.close();
  });
});
