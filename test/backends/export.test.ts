/**
 * Exporting local-keystore key material as a recognisable token (and base64, hex, PEM), the
 * token's format, and the scanner's `keywarden-local-key` detector that finds it again.
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KeyNotExportableError, LocalBackend } from '../../src/backends/local.js';
import { main } from '../../src/cli/main.js';
import { ErrorCode } from '../../src/errors.js';
import { encodeKeywardenToken, keywardenLocalKey, parseKeywardenToken } from '../../src/scan/detectors/keywarden.js';
import { base62, crc32 } from '../../src/scan/detectors/util.js';
import { fingerprintSecret } from '../../src/scan/redact.js';
import { scanText } from '../../src/scan/scan-text.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kw-export-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const open = (): LocalBackend => LocalBackend.open({ path: join(tempDir(), 'keystore.db'), kek: randomBytes(32) });
const once = (label: string): { idempotencyKey: string } => ({ idempotencyKey: `${label}-${randomBytes(4).toString('hex')}` });

describe('exportKey', () => {
  it('exports an exportable key as token, base64 and hex; the token carries id, version, spec and material', async () => {
    const b = open();
    const { keyId } = await b.create({ spec: 'AES_256', alias: 'alias/demo', exportable: true }, once('c'));
    const token = await b.exportKey('alias/demo', { format: 'token' });
    const b64 = await b.exportKey(keyId, { format: 'base64' });
    const hex = await b.exportKey(keyId, { format: 'hex', version: 1 });
    expect(token).toMatchObject({ keyId, version: 1, spec: 'AES_256', format: 'token' });
    expect(token.material).toMatch(/^kwk_[A-Za-z0-9_-]+$/);
    const raw = Buffer.from(b64.material, 'base64');
    expect(raw).toHaveLength(32);
    expect(hex.material).toBe(raw.toString('hex'));
    const parts = parseKeywardenToken(token.material)!;
    expect(parts).toMatchObject({ keyId, version: 1, spec: 'AES_256' });
    expect(Buffer.from(parts.material).equals(raw)).toBe(true);
    // The exported key is the key: data it seals is what the keystore opens.
    const enc = await b.encrypt(keyId, Buffer.from('hi'));
    expect(Buffer.from((await b.decrypt(enc.ciphertext)).plaintext).toString()).toBe('hi');
    await expect(b.exportKey(keyId, { format: 'pem' })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    await b.close();
  });

  it('exports RSA and EC keys as PKCS#8 PEM and as a token', async () => {
    const b = open();
    const { keyId } = await b.create({ spec: 'ECC_NIST_P256', exportable: true }, once('c'));
    const pem = await b.exportKey(keyId, { format: 'pem' });
    expect(pem.material).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const key = createPrivateKey(pem.material);
    expect(key.asymmetricKeyType).toBe('ec');
    const parts = parseKeywardenToken((await b.exportKey(keyId, { format: 'token' })).material)!;
    expect(Buffer.from(parts.material).equals(key.export({ format: 'der', type: 'pkcs8' }))).toBe(true);
    await b.close();
  });

  it('refuses keys that are not exportable, disabled keys and unknown versions, with typed errors, and records each refusal', async () => {
    const b = open();
    const { keyId } = await b.create({ spec: 'HMAC_256' }, once('c'));
    const e = await b.exportKey(keyId, { format: 'token' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KeyNotExportableError);
    expect(e).toMatchObject({ code: ErrorCode.KEY_STATE, details: { exportable: false } });
    const ex = await b.create({ spec: 'HMAC_256', exportable: true }, once('c'));
    await b.disable(ex.keyId, once('d'));
    await expect(b.exportKey(ex.keyId, { format: 'hex' })).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
    await b.enable(ex.keyId, once('e'));
    await expect(b.exportKey(ex.keyId, { format: 'hex', version: 9 })).rejects.toMatchObject({ code: ErrorCode.DECRYPT_FAILED });
    const failed = b.auditLog.list({ operation: 'export' }).filter((r) => r.outcome === 'failed');
    expect(failed.map((r) => r.errorCode)).toEqual([ErrorCode.KEY_STATE, ErrorCode.KEY_STATE, ErrorCode.DECRYPT_FAILED]);
    expect(b.auditLog.verify()).toMatchObject({ ok: true });
    await b.close();
  });

  it('writes an export audit record without the material, and the state check stays clean', async () => {
    const b = open();
    const { keyId } = await b.create({ spec: 'AES_256', exportable: true }, once('c'));
    const out = [await b.exportKey(keyId, { format: 'token' }, { actor: 'alice', reason: 'demo' }), await b.exportKey(keyId, { format: 'base64' })];
    const records = b.auditLog.list({ keyId });
    expect(records.find((r) => r.operation === 'create')?.details).toMatchObject({ exportable: true });
    const exports = records.filter((r) => r.operation === 'export');
    expect(exports).toEqual([
      expect.objectContaining({ actor: 'alice', reason: 'demo', outcome: 'succeeded', details: { format: 'token', version: 1 } }),
      expect.objectContaining({ outcome: 'succeeded', details: { format: 'base64', version: 1 } }),
    ]);
    const text = JSON.stringify(records);
    for (const o of out) expect(text).not.toContain(o.material);
    expect(b.auditLog.verify()).toMatchObject({ ok: true });
    await b.close();
  });

  it('will not export a key made exportable by hand (the create record says otherwise), and audit verify reports it', async () => {
    const path = join(tempDir(), 'keystore.db');
    const kek = randomBytes(32);
    const b = LocalBackend.open({ path, kek });
    const { keyId } = await b.create({ spec: 'AES_256' }, once('c'));
    await b.close();
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(path);
    raw.prepare('UPDATE keys SET exportable = 1 WHERE id = ?').run(keyId);
    raw.close();
    const again = LocalBackend.open({ path, kek });
    await expect(again.exportKey(keyId, { format: 'token' })).rejects.toBeInstanceOf(KeyNotExportableError);
    expect(again.auditLog.verify()).toMatchObject({ ok: false, firstBad: { problem: 'state-mismatch' } });
    await again.close();
  });
});

describe('the export token', () => {
  const parts = { keyId: 'lk-00000000-1111-4222-8333-444444444444', version: 7, spec: 'HMAC_512', material: new Uint8Array(64).map((_, i) => (i * 37 + 11) & 0xff) };

  it('round-trips and ends in a base62 CRC-32 of everything before it', () => {
    const token = encodeKeywardenToken(parts);
    expect(token.startsWith('kwk_')).toBe(true);
    expect(token.slice(-6)).toBe(base62(crc32(token.slice(0, -6)), 6));
    expect(parseKeywardenToken(token)).toMatchObject({ keyId: parts.keyId, version: 7, spec: 'HMAC_512' });
  });

  it('rejects a changed character, a truncated token, a wrong spec length and a forged checksum over a bad payload', () => {
    const token = encodeKeywardenToken(parts);
    for (let i = 4; i < token.length; i += 7) {
      const c = token[i]!;
      const changed = token.slice(0, i) + (c === 'A' ? 'B' : 'A') + token.slice(i + 1);
      expect(parseKeywardenToken(changed), `position ${i}`).toBeUndefined();
    }
    expect(parseKeywardenToken(token.slice(0, -1))).toBeUndefined();
    // A well-checksummed string whose payload is not a token (HMAC_512 spec with 32 bytes of material).
    const payload = Buffer.concat([Buffer.from([1, 3]), Buffer.from('lk-'), Buffer.from([0, 0, 0, 1, 5, 0, 32]), randomBytes(32)]);
    const head = `kwk_${payload.toString('base64url')}`;
    expect(parseKeywardenToken(`${head}${base62(crc32(head), 6)}`)).toBeUndefined();
    expect(() => encodeKeywardenToken({ ...parts, material: new Uint8Array(10) })).toThrow(RangeError);
  });
});

describe('keywarden-local-key detector', () => {
  it('finds an exported token committed in a TypeScript file, with its key id and version as identity and no material', async () => {
    const b = open();
    const { keyId } = await b.create({ spec: 'AES_256', alias: 'alias/payments', exportable: true }, once('c'));
    await b.rotate(keyId, once('r'));
    const exported = await b.exportKey(keyId, { format: 'token' });
    const hex = (await b.exportKey(keyId, { format: 'hex' })).material;
    const b64 = (await b.exportKey(keyId, { format: 'base64' })).material;
    await b.close();
    const source = [
      "import { createCipheriv } from 'node:crypto';",
      '',
      '// TODO: move to the secret store',
      `export const PAYMENTS_KEY = '${exported.material}';`,
      '',
    ].join('\n');
    const findings = scanText(source, { file: 'src/payments.ts' });
    const hit = findings.find((f) => f.ruleId === 'keywarden-local-key');
    expect(hit).toMatchObject({
      type: 'keywarden-key',
      severity: 'critical',
      confidence: 'high',
      startLine: 4,
      fingerprint: fingerprintSecret(exported.material),
      identity: { kind: 'keywarden-key', id: `${keyId}:2`, subtype: 'AES_256' },
    });
    // Canary: neither the token nor the material in any encoding leaves the scan.
    const text = JSON.stringify(findings);
    for (const needle of [exported.material, exported.material.slice(4, 40), hex, b64, b64.slice(0, 20)]) expect(text).not.toContain(needle);
    expect(JSON.stringify(keywardenLocalKey.identify!(exported.material, { match: [] as unknown as RegExpExecArray, text: '', index: 0 }))).not.toContain(hex);
  });

  it('does not fire on a token with a broken checksum, nor on kwk_ prose', () => {
    const token = encodeKeywardenToken({ keyId: 'lk-a', version: 1, spec: 'AES_256', material: randomBytes(32) });
    const last = token.at(-1)!;
    const broken = token.slice(0, -1) + (last === '0' ? '1' : '0');
    expect(scanText(`const k = "${broken}";`, { detectors: [keywardenLocalKey] })).toEqual([]);
    expect(scanText(`const k = "${token}";`, { detectors: [keywardenLocalKey] }).map((f) => f.ruleId)).toEqual(['keywarden-local-key']);
    expect(scanText('The kwk_ prefix marks exported keys: kwk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.', { detectors: [keywardenLocalKey] })).toEqual([]);
  });

  it('finds a token as long as an RSA-4096 key', async () => {
    const b = open();
    const { keyId } = await b.create({ spec: 'RSA_4096', exportable: true }, once('c'));
    const { material } = await b.exportKey(keyId, { format: 'token' });
    await b.close();
    expect(material.length).toBeGreaterThan(3000);
    const hit = scanText(`KEY=${material}\n`, { file: '.env' }).find((f) => f.ruleId === 'keywarden-local-key');
    expect(hit?.identity).toEqual({ kind: 'keywarden-key', id: `${keyId}:1`, subtype: 'RSA_4096' });
  });
});

describe('keywarden keys export (CLI)', () => {
  it('creates an exportable key, prints only the material on stdout, warns on stderr, and audits the export', async () => {
    const cwd = tempDir();
    const env = { KEYWARDEN_LOCAL_KEK: randomBytes(32).toString('base64'), PATH: process.env.PATH };
    let out = '';
    let err = '';
    const kw = (...argv: string[]): Promise<number> => {
      out = '';
      err = '';
      return main(argv, { cwd, env, stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false });
    };
    expect(await kw('keys', 'create', '--spec', 'AES_256', '--alias', 'alias/demo', '--exportable', '-f', 'json')).toBe(0);
    const { keyId } = JSON.parse(out) as { keyId: string };
    expect(await kw('keys', 'create', '--spec', 'AES_256', '--alias', 'alias/plain')).toBe(0);

    expect(await kw('keys', 'export', 'alias/demo'), err).toBe(0);
    const token = out.trim();
    expect(out).toBe(`${token}\n`);
    expect(parseKeywardenToken(token)).toMatchObject({ keyId, version: 1 });
    expect(err.split('\n').filter(Boolean)).toHaveLength(1);
    expect(err).toContain('secret');
    expect(err).not.toContain(token);

    expect(await kw('keys', 'export', 'alias/demo', '--format', 'hex', '--key-version', '1')).toBe(0);
    expect(out.trim()).toMatch(/^[0-9a-f]{64}$/);
    const hex = out.trim();

    expect(await kw('keys', 'export', 'alias/plain')).not.toBe(0);
    expect(out).toBe('');

    expect(await kw('audit', 'list', '--format', 'json')).toBe(0);
    expect(out).toContain('"export"');
    expect(out).not.toContain(token);
    expect(out).not.toContain(hex);
  });
});
