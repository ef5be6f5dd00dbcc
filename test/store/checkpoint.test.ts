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

  it('refuses empty, truncated, garbled and unsigned exports with KW_CHECKPOINT_INVALID', () => {
    fill(4);
    const good = JSON.stringify(log.checkpoint());
    expect(parseCheckpoint(good).count).toBe(4);
    for (const bad of ['', '   \n', good.slice(0, good.length / 2), '[]', '{}', good.replace('"count":4', '"count":3'), JSON.stringify({ ...JSON.parse(good), signature: 'AAAA' })]) {
      expect(() => parseCheckpoint(bad)).toThrow(expect.objectContaining({ code: ErrorCode.CHECKPOINT_INVALID, fault: 'user' }));
    }
  });
});
