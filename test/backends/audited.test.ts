import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditedBackend } from '../../src/backends/audited.js';
import { LocalBackend } from '../../src/backends/local.js';
import type { KeyBackend } from '../../src/backends/port.js';
import { rotateWithFallback } from '../../src/backends/rotate-with-fallback.js';
import { ErrorCode, UnsupportedError } from '../../src/errors.js';
import { AuditLog } from '../../src/store/audit.js';

let dir: string;
let local: LocalBackend;
let audit: AuditLog;
let backend: AuditedBackend;
const passphrase = `KW-CANARY-PASS-${randomBytes(8).toString('hex')}`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kw-audited-'));
  local = LocalBackend.open({ path: join(dir, 'keystore.db'), passphrase, scrypt: { N: 2 ** 12, r: 8, p: 1 } });
  // The keystore's own log: records commit in the same transaction as the key operation.
  audit = local.auditLog;
  backend = new AuditedBackend(local, audit, { actor: 'tester' });
});
afterEach(async () => {
  await backend.close();
  audit.close();
  rmSync(dir, { recursive: true, force: true });
});

function fileBytes(path: string): Buffer {
  return Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);
}

describe('AuditedBackend', () => {
  it('records every mutating verb and its outcome in the keystore transaction, and the chain verifies', async () => {
    expect(backend.atomic).toBe(true);
    const reason = `finding:sha256:${'c'.repeat(64)}`;
    const { keyId } = await backend.create({ spec: 'AES_256', alias: 'alias/app' }, { idempotencyKey: 'c1', reason });
    await backend.rotate('alias/app', { idempotencyKey: 'r1', actor: 'job-7', reason });
    await backend.rotate('alias/app', { idempotencyKey: 'r1', actor: 'job-7', reason });
    await backend.disable(keyId, { idempotencyKey: 'd1' });
    await expect(backend.rotate(keyId, { idempotencyKey: 'r2' })).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
    await backend.enable(keyId, { idempotencyKey: 'e1' });
    await backend.scheduleDestruction(keyId, 7, { idempotencyKey: 's1' });
    await backend.cancelDestruction(keyId, { idempotencyKey: 'x1' });

    const records = audit.list();
    expect(records.map((r) => [r.operation, r.outcome])).toEqual([
      ['create', 'succeeded'],
      ['rotate', 'succeeded'],
      ['rotate', 'replayed'],
      ['disable', 'succeeded'],
      ['rotate', 'failed'],
      ['enable', 'succeeded'],
      ['schedule-destruction', 'succeeded'],
      ['cancel-destruction', 'succeeded'],
    ]);
    expect(records[1]).toMatchObject({ actor: 'job-7', backend: 'local', keyId, reason, details: { version: 2, idempotencyKey: 'r1' } });
    expect(records[4]).toMatchObject({ errorCode: ErrorCode.KEY_STATE, keyId });
    expect(audit.verify()).toMatchObject({ ok: true, count: 8, openIntents: [] });
  });

  it('around a log in another file, writes an intent before each call and an outcome naming it after', async () => {
    const other = AuditLog.open(join(dir, 'audit.db'));
    try {
      const b = new AuditedBackend(local, other, { actor: 'tester' });
      expect(b.atomic).toBe(false);
      const { keyId } = await b.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
      await b.disable(keyId, { idempotencyKey: 'd1' });
      await expect(b.rotate(keyId, { idempotencyKey: 'r1' })).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
      const records = other.list();
      expect(records.map((r) => [r.operation, r.outcome, r.details.intentSeq ?? null])).toEqual([
        ['create', 'intent', null],
        ['create', 'succeeded', 1],
        ['disable', 'intent', null],
        ['disable', 'succeeded', 3],
        ['rotate', 'intent', null],
        ['rotate', 'failed', 5],
      ]);
      expect(other.verify()).toMatchObject({ ok: true, count: 6, openIntents: [] });
    } finally {
      other.close();
    }
  });

  it('keeps secrets out of the audit log and the keystore files (canary)', async () => {
    const { keyId } = await backend.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
    const canary = Buffer.from(`KW-CANARY-${randomBytes(12).toString('hex')}`);
    const enc = await backend.encrypt(keyId, canary);
    const dk = await backend.generateDataKey(keyId);
    await backend.rotate(keyId, { idempotencyKey: 'r1' });
    await backend.disable(keyId, { idempotencyKey: 'd1' });
    await expect(backend.decrypt(enc.ciphertext)).rejects.toThrow();
    let exported = '';
    audit.exportJsonl((l) => (exported += l));
    // The audit log lives in keystore.db: one scan covers both.
    const haystacks = [exported, fileBytes(join(dir, 'keystore.db')).toString('latin1')];
    for (const h of haystacks) {
      for (const needle of [canary.toString(), canary.toString('base64'), passphrase, Buffer.from(dk.plaintext).toString('latin1'), Buffer.from(dk.plaintext).toString('base64')]) {
        expect(h.includes(needle)).toBe(false);
      }
    }
  });
});

describe('rotateWithFallback', () => {
  /** The local keystore with in-place rotation switched off, as AWS KMS asymmetric keys are. */
  function noInPlace(b: KeyBackend): KeyBackend {
    return Object.assign(Object.create(b) as KeyBackend, {
      rotate: async () => {
        throw new UnsupportedError(b.name, 'rotate this key in place', 'Rotate by replacement.');
      },
    });
  }

  it('rotates in place when it can', async () => {
    const { keyId } = await backend.create({ spec: 'AES_256', alias: 'alias/a' }, { idempotencyKey: 'c1' });
    expect(await rotateWithFallback(backend, 'alias/a', { idempotencyKey: 'r1' })).toEqual({ mode: 'in-place', keyId, version: 2, replayed: false });
  });

  it('replaces the key and moves its aliases when it cannot, and a retry does nothing twice', async () => {
    const { keyId } = await backend.create({ spec: 'ECC_NIST_P256', alias: 'alias/sign' }, { idempotencyKey: 'c1' });
    await backend.moveAlias('alias/sign-2', keyId, { idempotencyKey: 'm0' });
    const b = noInPlace(backend);
    const r = await rotateWithFallback(b, keyId, { idempotencyKey: 'rot-1' });
    expect(r).toMatchObject({ mode: 'replacement', oldKeyId: keyId, movedAliases: ['alias/sign', 'alias/sign-2'], replayed: false });
    if (r.mode !== 'replacement') throw new Error('unreachable');
    const fresh = await backend.describe('alias/sign');
    expect(fresh).toMatchObject({ id: r.newKeyId, spec: 'ECC_NIST_P256', tags: { 'keywarden:replaces': keyId } });
    expect((await backend.describe(keyId)).state).toBe('enabled');
    const again = await rotateWithFallback(b, keyId, { idempotencyKey: 'rot-1' });
    expect(again).toMatchObject({ mode: 'replacement', oldKeyId: keyId, newKeyId: r.newKeyId, replayed: true });
    // A retry by alias, after the alias moved, still names the original key and creates nothing.
    const byAlias = await rotateWithFallback(b, 'alias/sign', { idempotencyKey: 'rot-2' });
    expect(byAlias.mode).toBe('replacement');
    const retry = await rotateWithFallback(b, 'alias/sign', { idempotencyKey: 'rot-2' });
    expect(retry).toMatchObject({ replayed: true, newKeyId: byAlias.mode === 'replacement' ? byAlias.newKeyId : '', oldKeyId: r.newKeyId });
    expect((await backend.inventory()).filter((k) => k.spec === 'ECC_NIST_P256')).toHaveLength(3);
  });
});
