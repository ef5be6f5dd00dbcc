/**
 * `revokeVersion` on the local keystore: one leaked version stops working at once, the others
 * keep theirs, rotation brings the key back into use; idempotent, audited in the same
 * transaction, and cross-checked by the keystore state check.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditedBackend } from '../../src/backends/audited.js';
import { KeyVersionRevokedError, LocalBackend } from '../../src/backends/local.js';
import type { KeyBackend } from '../../src/backends/port.js';
import { ErrorCode } from '../../src/errors.js';
import { fingerprintSecret } from '../../src/scan/redact.js';

const dirs: string[] = [];
function tempPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'kw-revoke-'));
  dirs.push(d);
  return join(d, 'keystore.db');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const once = (label: string): { idempotencyKey: string } => ({ idempotencyKey: `${label}-${randomBytes(4).toString('hex')}` });

describe('local keystore: revokeVersion', () => {
  it('revokes the current version: encrypt and decrypt refuse it, typed; rotate restores encryption; other versions keep working', async () => {
    const b = LocalBackend.open({ path: tempPath(), kek: randomBytes(32) });
    const { keyId } = await b.create({ spec: 'AES_256', alias: 'alias/app', exportable: true }, once('c'));
    const sealedV1 = await b.encrypt(keyId, Buffer.from('v1 data'));
    await b.rotate(keyId, once('r'));
    const sealedV2 = await b.encrypt(keyId, Buffer.from('v2 data'));
    const token = (await b.exportKey(keyId, { format: 'token' })).material;

    const r = await b.revokeVersion(keyId, 2, { idempotencyKey: 'revoke-1', reason: `finding:${fingerprintSecret(token)}` });
    expect(r).toEqual({ operation: 'revoke-version', keyId, state: 'enabled', version: 2, revokedVersion: 2, replayed: false });
    const key = await b.describe('alias/app');
    expect(key.versions).toEqual([expect.objectContaining({ version: 1, state: 'enabled', current: false }), expect.objectContaining({ version: 2, state: 'revoked', current: true })]);
    expect(key.state).toBe('enabled');

    const enc = await b.encrypt(keyId, Buffer.from('x')).catch((e: unknown) => e);
    expect(enc).toBeInstanceOf(KeyVersionRevokedError);
    expect(enc).toMatchObject({ code: ErrorCode.KEY_STATE, details: { keyId, version: 2, versionState: 'revoked' } });
    await expect(b.generateDataKey(keyId)).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
    await expect(b.decrypt(sealedV2.ciphertext)).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
    await expect(b.exportKey(keyId, { format: 'token', version: 2 })).rejects.toBeInstanceOf(KeyVersionRevokedError);
    expect(Buffer.from((await b.decrypt(sealedV1.ciphertext)).plaintext).toString()).toBe('v1 data');
    // Still recognised, and now says so.
    expect(await b.matchLeak({ fingerprint: fingerprintSecret(token), type: 'keywarden-key' })).toMatchObject({ keyId, version: 2, versionState: 'revoked' });

    const rot = await b.rotate(keyId, once('r'));
    expect(rot.version).toBe(3);
    const fresh = await b.encrypt(keyId, Buffer.from('after'));
    expect(fresh.version).toBe(3);
    expect(Buffer.from((await b.decrypt(fresh.ciphertext)).plaintext).toString()).toBe('after');
    await expect(b.decrypt(sealedV2.ciphertext)).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
    expect(b.auditLog.verify()).toMatchObject({ ok: true });
    await b.close();
  });

  it('is idempotent, records one revoke-version per change in the same transaction, and refuses what cannot be revoked', async () => {
    const b = LocalBackend.open({ path: tempPath(), kek: randomBytes(32) });
    const { keyId } = await b.create({ spec: 'HMAC_256' }, once('c'));
    const o = { idempotencyKey: 'rv-1', actor: 'pipeline' };
    expect(await b.revokeVersion(keyId, 1, o)).toMatchObject({ replayed: false, revokedVersion: 1 });
    expect(await b.revokeVersion(keyId, 1, o)).toMatchObject({ replayed: true, revokedVersion: 1 });
    // A new key for a revoked version: a no-op, not an error.
    expect(await b.revokeVersion(keyId, 1, once('rv'))).toMatchObject({ replayed: false, revokedVersion: 1 });
    await expect(b.revokeVersion(keyId, 2, o)).rejects.toMatchObject({ code: ErrorCode.IDEMPOTENCY_CONFLICT });
    await expect(b.revokeVersion(keyId, 5, once('rv'))).rejects.toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });
    await expect(b.revokeVersion(keyId, 0, once('rv'))).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await expect(b.revokeVersion('alias/none', 1, once('rv'))).rejects.toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });
    const records = b.auditLog.list({ operation: 'revoke-version' });
    // Refused calls are recorded as failed, except a malformed argument (refused before anything is looked at).
    expect(records.map((r) => r.outcome)).toEqual(['succeeded', 'replayed', 'succeeded', 'failed', 'failed', 'failed']);
    expect(records[0]).toMatchObject({ actor: 'pipeline', keyId, details: { revokedVersion: 1, idempotencyKey: 'rv-1', state: 'enabled', version: 1 } });
    expect(b.auditLog.verify()).toMatchObject({ ok: true });
    await b.close();
  });

  it('works on disabled and pending-destruction keys, and through the audited wrapper (atomic: no second record)', async () => {
    const b = LocalBackend.open({ path: tempPath(), kek: randomBytes(32) });
    const audited: KeyBackend = new AuditedBackend(b, b.auditLog, { actor: 'wrapper' });
    const { keyId } = await audited.create({ spec: 'AES_256' }, once('c'));
    await audited.disable(keyId, once('d'));
    expect(await audited.revokeVersion!(keyId, 1, once('rv'))).toMatchObject({ state: 'disabled', revokedVersion: 1 });
    const other = await audited.create({ spec: 'AES_256' }, once('c'));
    await audited.scheduleDestruction(other.keyId, 7, once('s'));
    expect(await audited.revokeVersion!(other.keyId, 1, once('rv'))).toMatchObject({ state: 'pending-destruction', destructionAt: expect.any(String) });
    expect(b.auditLog.list({ operation: 'revoke-version' }).map((r) => r.actor)).toEqual(['wrapper', 'wrapper']);
    expect(b.auditLog.verify()).toMatchObject({ ok: true });
    await b.close();
  });

  it('the state check catches a revocation undone by hand and one made by hand', async () => {
    const path = tempPath();
    const kek = randomBytes(32);
    const b = LocalBackend.open({ path, kek });
    const { keyId } = await b.create({ spec: 'AES_256' }, once('c'));
    await b.rotate(keyId, once('r'));
    await b.revokeVersion(keyId, 1, once('rv'));
    await b.close();
    const edit = (sql: string): void => {
      const db = new Database(path);
      db.prepare(sql).run(keyId);
      db.close();
    };
    edit('UPDATE key_versions SET revoked_at = NULL WHERE key_id = ? AND version = 1');
    let again = LocalBackend.open({ path, kek });
    expect(again.auditLog.verify()).toMatchObject({ ok: false, firstBad: { problem: 'state-mismatch' } });
    await again.close();
    edit("UPDATE key_versions SET revoked_at = '2026-01-01T00:00:00.000Z' WHERE key_id = ?");
    again = LocalBackend.open({ path, kek });
    expect(again.auditLog.verify()).toMatchObject({ ok: false, firstBad: { problem: 'unrecorded' } });
    await again.close();
  });

  it('a revoked version that is then destroyed reads destroyed, and the check still passes', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const b = LocalBackend.open({ path: tempPath(), kek: randomBytes(32), now: () => now });
    const { keyId } = await b.create({ spec: 'AES_256' }, once('c'));
    await b.revokeVersion(keyId, 1, once('rv'));
    await b.scheduleDestruction(keyId, 1, once('s'));
    now = new Date('2026-01-03T00:00:00Z');
    await b.completeDueDestructions();
    expect((await b.describe(keyId)).versions.map((v) => v.state)).toEqual(['destroyed']);
    await expect(b.revokeVersion(keyId, 1, once('rv'))).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
    expect(b.auditLog.verify()).toMatchObject({ ok: true });
    await b.close();
  });
});
