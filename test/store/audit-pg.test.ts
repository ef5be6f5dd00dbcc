/**
 * The audit chain in PostgreSQL: one chain for every worker. Appends from four processes at once
 * (one pool each) are serialised into one chain that verifies; records and checkpoints are
 * append-only (UPDATE, DELETE and TRUNCATE refused); an owner who drops the triggers and edits a
 * record, or rewrites the whole chain with fresh hashes, is caught by `verify` (the chain, then
 * the signed checkpoints under the trusted key).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, hashRecord, parseAuditJsonl, verifyRecords, type AuditRecord } from '../../src/store/audit.js';
import { createCheckpointSigner } from '../../src/store/checkpoint.js';
import { createPgPool, migratePg, PG_SCHEMA, type PgPool } from '../../src/store/pg.js';
import { PgAuditLog } from '../../src/store/pg-audit.js';
import { createTestDatabase, postgresSkipReason } from '../setup/postgres.js';

const pgSkip = postgresSkipReason();

describe.skipIf(pgSkip)('PgAuditLog', () => {
  let db: { url: string; drop(): Promise<void> };
  let pool: PgPool;
  const pools: PgPool[] = [];
  const signer = createCheckpointSigner(randomBytes(32));

  beforeAll(async () => {
    db = await createTestDatabase();
    pool = createPgPool({ url: db.url, max: 2 });
  });
  beforeEach(async () => {
    // A fresh chain per test: a fresh schema (the log itself refuses TRUNCATE).
    await pool.query(`DROP SCHEMA IF EXISTS ${PG_SCHEMA} CASCADE`);
    await migratePg(pool);
  });
  afterAll(async () => {
    for (const p of pools.splice(0)) await p.end();
    await pool?.end();
    await db?.drop();
  });

  const event = (n: number, outcome: AuditRecord['outcome'] = 'succeeded', details: Record<string, number | string> = {}) => ({
    actor: `worker-${n % 4}`,
    backend: 'aws-kms',
    keyId: `key-${n % 3}`,
    operation: 'disable',
    outcome,
    details: { n, ...details },
  });

  it('appends, lists, finds open intents and verifies with signed checkpoints', async () => {
    const log = new PgAuditLog(pool, { signer, checkpointEvery: 2 });
    const intent = await log.append(event(1, 'intent'));
    await log.append(event(2, 'intent'));
    await log.append(event(3, 'succeeded', { intentSeq: intent.seq }));
    expect((await log.openIntents()).map((r) => r.seq)).toEqual([2]);
    expect((await log.list({ keyId: 'key-1' })).map((r) => r.seq)).toEqual([1]);
    expect((await log.list({ afterSeq: 1, limit: 1 })).map((r) => r.seq)).toEqual([2]);
    // An intent without its outcome is reported until it is settled.
    expect(await log.verify()).toMatchObject({ ok: false, firstBad: { seq: 2, problem: 'unreconciled' } });
    await log.append(event(4, 'failed', { intentSeq: 2 }));
    await log.append(event(5));
    await log.checkpointIfMoved();
    expect((await log.checkpoints()).map((c) => c.count)).toEqual([2, 4, 5]);
    expect(await log.verify()).toMatchObject({ ok: true, count: 5 });
    const exported = await log.checkpoint();
    expect(exported).toMatchObject({ count: 5, logId: await log.logId() });
    expect(await log.verify({ anchor: exported })).toMatchObject({ ok: true });
  });

  it('serialises appends from four processes at once into one chain that verifies', async () => {
    const logs = Array.from({ length: 4 }, () => {
      const p = createPgPool({ url: db.url, max: 3 });
      pools.push(p);
      return new PgAuditLog(p, { signer, checkpointEvery: 8 });
    });
    await Promise.all(logs.map((log, w) => Promise.all(Array.from({ length: 25 }, (_, i) => log.append(event(w * 100 + i))))));
    const head = await logs[0]!.head();
    expect(head.seq).toBe(100);
    const records = await logs[0]!.records();
    expect(records.map((r) => r.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    for (let i = 1; i < records.length; i++) expect(records[i]!.prevHash).toBe(records[i - 1]!.hash);
    await logs[0]!.checkpointIfMoved();
    expect(await logs[1]!.verify()).toMatchObject({ ok: true, count: 100 });
  });

  it('refuses UPDATE, DELETE and TRUNCATE of records and checkpoints', async () => {
    const log = new PgAuditLog(pool, { signer, checkpointEvery: 1 });
    await log.append(event(1));
    for (const sql of [
      `UPDATE ${PG_SCHEMA}.audit_log SET body = '{}'`,
      `DELETE FROM ${PG_SCHEMA}.audit_log`,
      `TRUNCATE ${PG_SCHEMA}.audit_log`,
      `UPDATE ${PG_SCHEMA}.audit_checkpoint SET signature = 'x'`,
      `DELETE FROM ${PG_SCHEMA}.audit_checkpoint`,
      `TRUNCATE ${PG_SCHEMA}.audit_checkpoint`,
    ]) {
      await expect(pool.query(sql), sql).rejects.toThrow(/append-only/);
    }
    expect(await log.verify()).toMatchObject({ ok: true, count: 1 });
  });

  /** Tampering needs the triggers out of the way first, as an owner of the database would. */
  const tamper = async (...sql: string[]): Promise<void> => {
    await pool.query(`ALTER TABLE ${PG_SCHEMA}.audit_log DISABLE TRIGGER USER`);
    for (const q of sql) await pool.query(q);
  };

  it('names a deleted record, records cut from the end, and the first reordered record', async () => {
    const log = new PgAuditLog(pool);
    for (let i = 1; i <= 5; i++) await log.append(event(i));
    await tamper(`DELETE FROM ${PG_SCHEMA}.audit_log WHERE seq = 2`);
    expect((await log.verify()).firstBad).toMatchObject({ seq: 2, problem: 'missing' });

    await pool.query(`DROP SCHEMA ${PG_SCHEMA} CASCADE`);
    await migratePg(pool);
    for (let i = 1; i <= 5; i++) await log.append(event(i));
    await tamper(`DELETE FROM ${PG_SCHEMA}.audit_log WHERE seq = 5`);
    expect((await log.verify()).firstBad).toMatchObject({ seq: 5, problem: 'truncated' });

    await pool.query(`DROP SCHEMA ${PG_SCHEMA} CASCADE`);
    await migratePg(pool);
    for (let i = 1; i <= 5; i++) await log.append(event(i));
    // Swap the storage order of records 3 and 4 (a fresh schema: pos = seq; insertion order is what verify judges).
    await tamper(
      `UPDATE ${PG_SCHEMA}.audit_log SET pos = -3 WHERE seq = 3`,
      `UPDATE ${PG_SCHEMA}.audit_log SET pos = 3 WHERE seq = 4`,
      `UPDATE ${PG_SCHEMA}.audit_log SET pos = 4 WHERE pos = -3`,
    );
    expect((await log.verify()).firstBad).toMatchObject({ seq: 3, problem: 'reordered' });
  });

  it('exports JSONL that verifies on its own against the head', async () => {
    const log = new PgAuditLog(pool);
    for (let i = 1; i <= 4; i++) await log.append(event(i));
    let out = '';
    expect(await log.exportJsonl((l) => (out += l))).toBe(4);
    expect(verifyRecords(parseAuditJsonl(out), await log.head()).ok).toBe(true);
    const edited = out.replace('"actor":"worker-2"', '"actor":"worker-9"');
    expect(verifyRecords(parseAuditJsonl(edited)).firstBad).toMatchObject({ seq: 2, problem: 'edited' });
  });

  it('catches an owner who drops the triggers and edits a record, or rewrites the whole chain', async () => {
    const log = new PgAuditLog(pool, { signer, checkpointEvery: 2 });
    for (let i = 1; i <= 6; i++) await log.append(event(i));
    await pool.query(`ALTER TABLE ${PG_SCHEMA}.audit_log DISABLE TRIGGER USER`);
    const rec = (await log.list({ afterSeq: 2, limit: 1 }))[0]!;
    const { prevHash: _p, hash: _h, ...body } = { ...rec, actor: 'someone-else' };
    await pool.query(`UPDATE ${PG_SCHEMA}.audit_log SET body = $1 WHERE seq = 3`, [canonicalJson(body)]);
    expect(await log.verify()).toMatchObject({ ok: false, firstBad: { seq: 3, problem: 'edited' } });

    // Rewrite every hash from there on, and the head: the chain holds, the signed checkpoints do not.
    const records = await log.records();
    let prev = records[1]!.hash;
    for (const r of records.slice(2)) {
      const next = { ...r, prevHash: prev };
      const hash = hashRecord(next);
      await pool.query(`UPDATE ${PG_SCHEMA}.audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3`, [prev, hash, r.seq]);
      prev = hash;
    }
    await pool.query(`UPDATE ${PG_SCHEMA}.audit_head SET hash = $1 WHERE id = 1`, [prev]);
    const v = await log.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBad?.problem).toBe('rewritten');
  });
});
