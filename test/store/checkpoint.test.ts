import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { AuditLog } from '../../src/store/audit.js';
import { checkSignature, createCheckpointSigner, parseCheckpoint } from '../../src/store/checkpoint.js';

let dir: string;
let log: AuditLog;
const secret = randomBytes(32);
const signer = createCheckpointSigner(secret);

function fill(n: number): void {
  for (let i = 0; i < n; i++) log.append({ actor: 't', backend: 'local', keyId: 'k', operation: 'rotate', outcome: 'succeeded', details: { version: i + 2 } });
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-cp-'));
  log = AuditLog.open(join(dir, 'audit.db'), { signer, checkpointEvery: 4 });
});
afterEach(() => {
  log.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('signed checkpoints', () => {
  it('derives the same key from the same secret, a different one from another', () => {
    expect(createCheckpointSigner(secret).publicKey.equals(signer.publicKey)).toBe(true);
    expect(createCheckpointSigner(randomBytes(32)).publicKey.equals(signer.publicKey)).toBe(false);
    expect(signer.publicKey).toHaveLength(32);
  });

  it('signs every N records in the append transaction, and on demand', () => {
    fill(9);
    expect(log.checkpoints().map((c) => c.count)).toEqual([4, 8]);
    const c = log.checkpoint();
    expect(c).toMatchObject({ format: 'keywarden-audit-checkpoint', version: 1, count: 9, logId: log.logId(), headHash: log.head().hash });
    expect(checkSignature(c, signer.publicKey)).toBe(true);
    expect(log.checkpoint().count).toBe(9);
    expect(log.checkpoints()).toHaveLength(3);
    expect(log.verify()).toMatchObject({ ok: true, checkpoints: { total: 3, verified: 3, latest: 9, trust: 'secret' } });
  });

  it('catches checkpoints signed with another key, even with a matching public key column', () => {
    fill(4);
    const forger = createCheckpointSigner(randomBytes(32));
    log.db.exec('DROP TRIGGER audit_checkpoint_no_delete; DELETE FROM audit_checkpoint');
    const head = log.head();
    const time = new Date().toISOString();
    const signature = forger.sign({ logId: log.logId(), count: 4, headHash: head.hash, time });
    log.db.prepare('INSERT INTO audit_checkpoint VALUES (?, ?, ?, ?, ?)').run(4, head.hash, time, signer.publicKey.toString('base64'), signature);
    expect(log.verify().firstBad).toMatchObject({ seq: 4, problem: 'checkpoint-forged' });
    // Trusting the key in the database would have passed: that is why verify never does.
    const unkeyed = AuditLog.open(join(dir, 'audit.db'), { readonly: true });
    expect(unkeyed.verify()).toMatchObject({ ok: true, checkpoints: { trust: 'none', verified: 0 } });
    unkeyed.close();
  });

  it('catches checkpoints removed, once more than N records are unsigned', () => {
    fill(5);
    log.db.exec('DROP TRIGGER audit_checkpoint_no_delete; DELETE FROM audit_checkpoint');
    expect(log.verify().firstBad).toMatchObject({ problem: 'checkpoint-missing' });
  });

  it('at most N-1 records may trail the latest checkpoint (a killed run); exactly N unsigned is checkpoint-missing', () => {
    fill(7);
    // Checkpoint at 4 (in the append transaction); 3 trail it, as a run killed before its final checkpoint leaves.
    expect(log.checkpoints().map((c) => c.count)).toEqual([4]);
    expect(log.verify()).toMatchObject({ ok: true, count: 7 });
    log.db.exec('DROP TRIGGER audit_checkpoint_no_delete; DELETE FROM audit_checkpoint');
    expect(log.verify().firstBad).toMatchObject({ seq: 1, problem: 'checkpoint-missing' });
    const fresh = AuditLog.open(join(dir, 'four.db'), { signer, checkpointEvery: 4 });
    for (let i = 0; i < 4; i++) fresh.append({ actor: 't', backend: 'local', operation: 'rotate', outcome: 'succeeded' });
    fresh.db.exec('DROP TRIGGER audit_checkpoint_no_delete; DELETE FROM audit_checkpoint');
    expect(fresh.verify().firstBad).toMatchObject({ seq: 1, problem: 'checkpoint-missing' });
    fresh.db.exec("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq = 4; UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_log WHERE seq = 3)");
    expect(fresh.verify()).toMatchObject({ ok: true, count: 3 });
    fresh.close();
  });

  it('by default every record commits with a checkpoint of itself, so the head is always signed', () => {
    const every = AuditLog.open(join(dir, 'every.db'), { signer });
    for (let i = 0; i < 3; i++) every.append({ actor: 't', backend: 'local', operation: 'rotate', outcome: 'succeeded' });
    expect(every.checkpoints().map((c) => c.count)).toEqual([1, 2, 3]);
    expect(every.verify()).toMatchObject({ ok: true, checkpoints: { verified: 3, latest: 3 } });
    every.db.exec('DROP TRIGGER audit_checkpoint_no_delete; DELETE FROM audit_checkpoint WHERE count = 3');
    expect(every.verify().firstBad).toMatchObject({ seq: 3, problem: 'checkpoint-missing' });
    every.close();
  });

  it('guardHead: nothing is appended or signed on top of a head no valid checkpoint covers', () => {
    const g = AuditLog.open(join(dir, 'guard.db'), { signer, guardHead: true });
    g.append({ actor: 't', backend: 'local', operation: 'rotate', outcome: 'succeeded' });
    g.append({ actor: 't', backend: 'local', operation: 'rotate', outcome: 'succeeded' });
    g.db.exec('DROP TRIGGER audit_checkpoint_no_delete; DELETE FROM audit_checkpoint WHERE count = 2');
    const rec = { actor: 't', backend: 'local', operation: 'rotate', outcome: 'succeeded' } as const;
    expect(() => g.append(rec)).toThrow(expect.objectContaining({ code: ErrorCode.AUDIT_BROKEN }));
    expect(() => g.checkpoint()).toThrow(expect.objectContaining({ code: ErrorCode.AUDIT_BROKEN }));
    expect(g.head().seq).toBe(2);
    // A checkpoint under another key, or for another log id, does not count either.
    const forger = createCheckpointSigner(randomBytes(32));
    const h = g.head();
    const time = new Date().toISOString();
    g.db.prepare('INSERT INTO audit_checkpoint VALUES (?, ?, ?, ?, ?)').run(2, h.hash, time, signer.publicKey.toString('base64'), forger.sign({ logId: g.logId(), count: 2, headHash: h.hash, time }));
    expect(() => g.append(rec)).toThrow(expect.objectContaining({ code: ErrorCode.AUDIT_BROKEN }));
    g.close();
  });

  it('a log whose id row was deleted gets no new id on reopen, and verify names it', () => {
    fill(4);
    log.db.exec("DELETE FROM audit_meta WHERE k = 'log_id'");
    const again = AuditLog.open(join(dir, 'audit.db'), { signer, checkpointEvery: 4 });
    expect(again.logId()).toBe('');
    expect(again.verify().firstBad).toMatchObject({ problem: 'log-replaced' });
    again.close();
  });

  it('refuses empty, truncated, garbled and unsigned exports with KW_CHECKPOINT_INVALID', () => {
    fill(4);
    const good = JSON.stringify(log.checkpoint());
    expect(parseCheckpoint(good).count).toBe(4);
    for (const bad of ['', '   \n', good.slice(0, good.length / 2), '[]', '{}', good.replace('"count":4', '"count":3'), JSON.stringify({ ...JSON.parse(good), signature: 'AAAA' })]) {
      expect(() => parseCheckpoint(bad)).toThrow(expect.objectContaining({ code: ErrorCode.CHECKPOINT_INVALID, fault: 'user' }));
    }
  });
});
