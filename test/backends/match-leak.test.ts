/**
 * The context stage on the backend side: a leaked secret, known only by a finding's fingerprint
 * and identity, recognised as a managed key (version). Local keystore (keyed fingerprints of the
 * material), aws-kms against moto and pkcs11 against SoftHSM2 (public keys).
 */
import { createHash, createPrivateKey, createPublicKey, createDecipheriv, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditedBackend } from '../../src/backends/audited.js';
import { AwsKmsBackend } from '../../src/backends/aws-kms.js';
import { LocalBackend } from '../../src/backends/local.js';
import { Pkcs11Backend } from '../../src/backends/pkcs11.js';
import type { KeyBackend, LeakEvidence } from '../../src/backends/port.js';
import { ErrorCode } from '../../src/errors.js';
import { fingerprintSecret } from '../../src/scan/redact.js';
import { scanText } from '../../src/scan/scan-text.js';
import { motoSkipReason, startMoto, type MotoServer } from '../setup/moto.js';
import { createSoftHsmToken, softHsmSkipReason, type SoftHsmToken } from '../setup/softhsm.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kw-match-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const once = (label: string): { idempotencyKey: string } => ({ idempotencyKey: `${label}-${randomBytes(4).toString('hex')}` });
const sha = (data: string | Uint8Array): string => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const leak = (secret: string, type = 'generic-secret'): LeakEvidence => ({ fingerprint: fingerprintSecret(secret), type });
const publicKeyLeak = (spki: Uint8Array): LeakEvidence => ({ fingerprint: sha(randomBytes(32)), type: 'private-key', identity: { kind: 'public-key', id: sha(spki) } });
const fileBytes = (path: string): Buffer => Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);

describe('local keystore: matchLeak', () => {
  it('recognises exported AES and HMAC material as token, base64 and hex, by version, and nothing else', async () => {
    const path = join(tempDir(), 'keystore.db');
    const b = LocalBackend.open({ path, kek: randomBytes(32) });
    const exported: string[] = [];
    for (const spec of ['AES_256', 'HMAC_256'] as const) {
      const alias = `alias/${spec.toLowerCase()}`;
      const { keyId } = await b.create({ spec, alias, exportable: true }, once('c'));
      const v1 = await Promise.all((['token', 'base64', 'hex'] as const).map((format) => b.exportKey(keyId, { format })));
      for (const e of v1) {
        exported.push(e.material);
        expect(await b.matchLeak(leak(e.material)), `${spec} ${e.format}`).toEqual({
          keyId,
          version: 1,
          aliases: [alias],
          how: 'material',
          revocable: 'version',
          versionState: 'enabled',
        });
      }
      // The other usual pastes of the same bytes.
      const raw = Buffer.from(v1[1]!.material, 'base64');
      for (const text of [raw.toString('base64url'), raw.toString('hex').toUpperCase(), raw.toString('base64').replace(/=+$/, '')]) {
        expect(await b.matchLeak(leak(text))).toMatchObject({ keyId, version: 1 });
      }
      await b.rotate(keyId, once('r'));
      const v2 = await b.exportKey(keyId, { format: 'token' });
      exported.push(v2.material);
      expect(await b.matchLeak(leak(v2.material))).toMatchObject({ keyId, version: 2 });
      // Version 1's token still names version 1 after the rotation.
      expect(await b.matchLeak(leak(v1[0]!.material))).toMatchObject({ keyId, version: 1 });
    }
    expect(await b.matchLeak(leak(randomBytes(32).toString('base64')))).toBeUndefined();
    expect(await b.matchLeak({ fingerprint: sha(randomBytes(8)), type: 'keywarden-key', identity: { kind: 'keywarden-key', id: 'lk-x:1' } })).toBeUndefined();
    await expect(b.matchLeak({ fingerprint: 'sha256:XYZ', type: 'x' })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await b.close();

    // Nothing in the files helps an attacker: no exported string, no plain SHA-256 of one (hex or bytes).
    const bytes = fileBytes(path);
    for (const e of exported) {
      const digest = createHash('sha256').update(e).digest();
      for (const needle of [Buffer.from(e), Buffer.from(digest.toString('hex')), digest]) expect(bytes.includes(needle)).toBe(false);
    }
  });

  it('matches the scanner findings of a committed export end to end', async () => {
    const b = LocalBackend.open({ path: join(tempDir(), 'keystore.db'), kek: randomBytes(32) });
    const { keyId } = await b.create({ spec: 'AES_256', alias: 'alias/pay', exportable: true }, once('c'));
    const { material } = await b.exportKey(keyId, { format: 'token' });
    const [finding] = scanText(`export const KEY = "${material}";\n`, { file: 'src/key.ts' }).filter((f) => f.ruleId === 'keywarden-local-key');
    expect(finding).toBeDefined();
    expect(await b.matchLeak({ fingerprint: finding!.fingerprint, type: finding!.type, ...(finding!.identity ? { identity: finding!.identity } : {}) })).toMatchObject({
      keyId,
      version: 1,
      how: 'material',
    });
    await b.close();
  });

  it("recognises an RSA key's PEM export by its text and, in any form, by its public key", async () => {
    const b = LocalBackend.open({ path: join(tempDir(), 'keystore.db'), kek: randomBytes(32) });
    const { keyId } = await b.create({ spec: 'RSA_2048', exportable: true }, once('c'));
    const { material: pem } = await b.exportKey(keyId, { format: 'pem' });
    expect(await b.matchLeak(leak(pem, 'private-key'))).toMatchObject({ keyId, version: 1, how: 'material' });
    // As a scanner spans it (no final newline), and as a Windows checkout has it.
    expect(await b.matchLeak(leak(pem.trimEnd(), 'private-key'))).toMatchObject({ keyId, how: 'material' });
    expect(await b.matchLeak(leak(pem.trimEnd().replace(/\n/g, '\r\n'), 'private-key'))).toMatchObject({ keyId, how: 'material' });
    // Re-encoded (PKCS#1 here): the text is new, the public key is the same.
    const pkcs1 = createPrivateKey(pem).export({ format: 'pem', type: 'pkcs1' }).toString();
    expect(await b.matchLeak(leak(pkcs1, 'private-key'))).toBeUndefined();
    const spki = createPublicKey(pem).export({ format: 'der', type: 'spki' });
    expect(Buffer.from(await b.getPublicKey(keyId)).equals(spki)).toBe(true);
    expect(await b.matchLeak({ ...leak(pkcs1, 'private-key'), identity: { kind: 'public-key', id: sha(spki) } })).toMatchObject({
      keyId,
      version: 1,
      how: 'public-key',
      revocable: 'version',
    });
    // The scanner's own identity of the PKCS#1 block leads to the same key.
    const found = scanText(pkcs1).find((f) => f.type === 'private-key');
    if (found?.identity?.id) expect(found.identity.id).toBe(sha(spki));
    await b.close();
  });

  it('fails closed without the KEK: fingerprints copied into another keystore match nothing, and a wrong KEK does not open', async () => {
    const dir = tempDir();
    const kek = randomBytes(32);
    const a = LocalBackend.open({ path: join(dir, 'a.db'), kek });
    const { keyId } = await a.create({ spec: 'HMAC_256', exportable: true }, once('c'));
    const { material } = await a.exportKey(keyId, { format: 'base64' });
    await a.close();

    const otherKek = randomBytes(32);
    const other = LocalBackend.open({ path: join(dir, 'b.db'), kek: otherKek });
    const { keyId: otherId } = await other.create({ spec: 'AES_256' }, once('c'));
    await other.close();
    const src = new Database(join(dir, 'a.db'), { readonly: true });
    const rows = src.prepare('SELECT kind, encoding, digest FROM key_fingerprints').all() as { kind: string; encoding: string; digest: Buffer }[];
    src.close();
    expect(rows.length).toBeGreaterThan(0);
    const dst = new Database(join(dir, 'b.db'));
    const insert = dst.prepare('INSERT INTO key_fingerprints (key_id, version, kind, encoding, digest) VALUES (?, 7, ?, ?, ?)');
    for (const r of rows) insert.run(otherId, r.kind, r.encoding, r.digest);
    dst.close();
    const b = LocalBackend.open({ path: join(dir, 'b.db'), kek: otherKek });
    expect(await b.matchLeak(leak(material))).toBeUndefined();
    await b.close();

    expect(() => LocalBackend.open({ path: join(dir, 'a.db'), kek: randomBytes(32) })).toThrow(expect.objectContaining({ code: ErrorCode.KEYSTORE_LOCKED }));
    const back = LocalBackend.open({ path: join(dir, 'a.db'), kek });
    expect(await back.matchLeak(leak(material))).toMatchObject({ keyId });
    await back.close();
  });
});

/**
 * test/backends/fixtures/keystore-v1.db was made by the keystore code before leak matching
 * (commit 5446f9a; see fixtures/README.md): no key_fingerprints table, no exportable or
 * revoked_at column. Its KEK is derived from a fixed label, so no key-shaped literal sits here.
 */
describe('local keystore: a keystore made before leak matching', () => {
  const FIXTURE_KEK = createHash('sha256').update('keywarden test fixture: keystore-v1').digest();
  const IDS = { aes: 'lk-37a707d8-0571-4a44-85d5-59afee8aa226', hmac: 'lk-fd488d2b-8f49-49db-b22c-acbb93abe7c4', ec: 'lk-2e9bf543-fa40-4c61-9639-ed26ad0317e6' };
  const CIPHERTEXT = 'S1dMMSdsay0zN2E3MDdkOC0wNTcxLTRhNDQtODVkNS01OWFmZWU4YWEyMjYAAAAClB4sSFZDrAA+yMJJCQ7Srm7GFU5BmebKH4UvtGsI1XMJh8ZWJyeh4ee9zigygIDBHKo=';

  /** The sealed material of a version, opened as the keystore seals it (AES-256-GCM, AAD = key id and version). */
  function unsealFromFile(path: string, keyId: string, version: number): Buffer {
    const db = new Database(path, { readonly: true });
    const { sealed } = db.prepare('SELECT sealed FROM key_versions WHERE key_id = ? AND version = ?').get(keyId, version) as { sealed: Buffer };
    db.close();
    const d = createDecipheriv('aes-256-gcm', FIXTURE_KEK, sealed.subarray(1, 13));
    d.setAAD(Buffer.from(`kw-local-version:${keyId}:${version}`));
    d.setAuthTag(sealed.subarray(13, 29));
    return Buffer.concat([d.update(sealed.subarray(29)), d.final()]);
  }

  it('opens, migrates and backfills fingerprints; old data still decrypts; audit verify passes', async () => {
    const path = join(tempDir(), 'keystore.db');
    copyFileSync(join(import.meta.dirname, 'fixtures', 'keystore-v1.db'), path);
    const before = new Database(path, { readonly: true });
    expect(before.prepare("SELECT 1 FROM sqlite_master WHERE name = 'key_fingerprints'").get()).toBeUndefined();
    before.close();
    const aesV1 = unsealFromFile(path, IDS.aes, 1);
    const aesV2 = unsealFromFile(path, IDS.aes, 2);
    const hmac = unsealFromFile(path, IDS.hmac, 1);
    const ecDer = unsealFromFile(path, IDS.ec, 1);

    const b = LocalBackend.open({ path, kek: FIXTURE_KEK });
    expect(Buffer.from((await b.decrypt(Buffer.from(CIPHERTEXT, 'base64'))).plaintext).toString()).toBe('sealed by the old code');
    expect(await b.matchLeak(leak(aesV1.toString('base64')))).toMatchObject({ keyId: IDS.aes, version: 1, aliases: ['alias/old-aes'] });
    expect(await b.matchLeak(leak(aesV2.toString('hex')))).toMatchObject({ keyId: IDS.aes, version: 2 });
    expect(await b.matchLeak(leak(hmac.toString('base64url')))).toMatchObject({ keyId: IDS.hmac, version: 1 });
    const spki = createPublicKey(createPrivateKey({ key: ecDer, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
    expect(await b.matchLeak(publicKeyLeak(spki))).toMatchObject({ keyId: IDS.ec, how: 'public-key' });
    // Old keys are not exportable; they rotate, revoke and verify as before.
    await expect(b.exportKey(IDS.aes, { format: 'token' })).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
    expect(b.auditLog.verify()).toMatchObject({ ok: true });
    await b.revokeVersion(IDS.aes, 1, once('rv'));
    await b.rotate(IDS.aes, once('r'));
    expect((await b.describe(IDS.aes)).versions.map((v) => v.state)).toEqual(['revoked', 'enabled', 'enabled']);
    expect(b.auditLog.verify()).toMatchObject({ ok: true });
    await b.close();
    const again = LocalBackend.open({ path, kek: FIXTURE_KEK });
    expect(again.auditLog.verify()).toMatchObject({ ok: true });
    await again.close();
  });

  it('verifies read-only without migrating it', async () => {
    const path = join(tempDir(), 'keystore.db');
    copyFileSync(join(import.meta.dirname, 'fixtures', 'keystore-v1.db'), path);
    const log = LocalBackend.openAuditLog({ path, kek: FIXTURE_KEK, readonly: true })!;
    expect(log.verify()).toMatchObject({ ok: true });
    log.close();
  });
});

// ---- remote backends: public keys ---------------------------------------------------------------

let moto: MotoServer | undefined;
let token: SoftHsmToken | undefined;
beforeAll(async () => {
  if (!motoSkipReason) moto = await startMoto();
  if (!softHsmSkipReason) token = createSoftHsmToken();
});
afterAll(async () => {
  await moto?.stop();
  token?.cleanup();
});

describe.skipIf(motoSkipReason !== undefined)(`aws-kms matchLeak against moto${motoSkipReason ? ` (skipped: ${motoSkipReason})` : ''}`, () => {
  it('finds an RSA_2048 SIGN_VERIFY key by its public key, as revocable by key only, through the audited wrapper too', async () => {
    const kms = new AwsKmsBackend({ region: moto!.region, endpoint: moto!.endpoint, credentials: moto!.credentials, retry: { attempts: 3, baseDelayMs: 10 } });
    const alias = `alias/kw-leak-${randomBytes(4).toString('hex')}`;
    const { keyId } = await kms.create({ spec: 'RSA_2048', usage: 'sign-verify', alias }, once('c'));
    await kms.create({ spec: 'AES_256' }, once('c'));
    const spki = await kms.getPublicKey(keyId);
    expect(createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }).asymmetricKeyType).toBe('rsa');
    expect(await kms.matchLeak(publicKeyLeak(spki))).toEqual({ keyId, aliases: [alias], how: 'public-key', revocable: 'key' });
    // Only public-key identities can match: KMS material never leaves KMS.
    expect(await kms.matchLeak(leak(Buffer.from(spki).toString('base64')))).toBeUndefined();
    expect(await kms.matchLeak(publicKeyLeak(randomBytes(64)))).toBeUndefined();
    await expect(kms.create({ spec: 'AES_256', exportable: true }, once('c'))).rejects.toMatchObject({ code: ErrorCode.UNSUPPORTED });
    await expect(kms.getPublicKey(alias.replace('leak', 'none'))).rejects.toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });

    const { AuditLog } = await import('../../src/store/audit.js');
    const { openDatabase } = await import('../../src/store/sqlite.js');
    const audit = new AuditLog(openDatabase(join(tempDir(), 'audit.db')));
    const audited: KeyBackend = new AuditedBackend(kms, audit, { actor: 'test' });
    expect(audited.revokeVersion).toBeUndefined();
    expect(await audited.matchLeak!(publicKeyLeak(spki))).toMatchObject({ keyId });
    expect(audit.list()).toEqual([]);
    await kms.close();
  });
});

describe.skipIf(softHsmSkipReason !== undefined)(`pkcs11 matchLeak against SoftHSM2${softHsmSkipReason ? ` (skipped: ${softHsmSkipReason})` : ''}`, () => {
  it('finds RSA and EC key pairs by their public keys, with the version, and nothing else', async () => {
    const hsm = Pkcs11Backend.open({ library: token!.lib, tokenLabel: token!.label, pin: token!.pin, statePath: join(tempDir(), 'state.db') });
    const rsa = await hsm.create({ spec: 'RSA_2048', alias: 'leak-rsa' }, once('c'));
    const ec = await hsm.create({ spec: 'ECC_NIST_P384', alias: 'leak-ec' }, once('c'));
    await hsm.create({ spec: 'AES_256' }, once('c'));
    const rsaSpki = await hsm.getPublicKey(rsa.keyId);
    await hsm.rotate(ec.keyId, once('r'));
    const ecSpki = await hsm.getPublicKey(ec.keyId);
    expect(createPublicKey({ key: Buffer.from(ecSpki), format: 'der', type: 'spki' }).asymmetricKeyDetails).toMatchObject({ namedCurve: 'secp384r1' });
    expect(await hsm.matchLeak(publicKeyLeak(rsaSpki))).toEqual({ keyId: rsa.keyId, version: 1, aliases: ['leak-rsa'], how: 'public-key', revocable: 'key' });
    expect(await hsm.matchLeak(publicKeyLeak(ecSpki))).toMatchObject({ keyId: ec.keyId, version: 2, aliases: ['leak-ec'] });
    expect(await hsm.matchLeak(publicKeyLeak(randomBytes(64)))).toBeUndefined();
    expect(await hsm.matchLeak(leak('not a key'))).toBeUndefined();
    await expect(hsm.create({ spec: 'AES_256', exportable: true }, once('c'))).rejects.toMatchObject({ code: ErrorCode.UNSUPPORTED });
    await hsm.close();
  });
});
