import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalBackend, readLocalKekFromEnv } from '../../src/backends/local.js';
import { runBackendContract } from '../../src/backends/contract.case.js';
import { ErrorCode } from '../../src/errors.js';

const dirs: string[] = [];
function tempPath(): string {
  const d = mkdtempSync(join(tmpdir(), 'kw-local-'));
  dirs.push(d);
  return join(d, 'keystore.db');
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FAST_SCRYPT = { N: 2 ** 12, r: 8, p: 1 };

runBackendContract('local', () => LocalBackend.open({ path: tempPath(), kek: randomBytes(32) }), {
  unsupported: {
    what: 'encrypt with an ECC key',
    run: async (b) => {
      const { keyId } = await b.create({ spec: 'ECC_NIST_P256' }, { idempotencyKey: `ecc-${Math.random()}` });
      return b.encrypt(keyId, Buffer.from('x'));
    },
  },
});

describe('local keystore', () => {
  it('creates the database and its WAL with mode 0600, in WAL mode', async () => {
    const path = tempPath();
    const b = LocalBackend.open({ path, kek: randomBytes(32) });
    await b.create({ spec: 'AES_256', alias: 'a' }, { idempotencyKey: 'c1' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    if (existsSync(`${path}-wal`)) expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    const peek = new Database(path, { readonly: true });
    expect(peek.pragma('journal_mode', { simple: true })).toBe('wal');
    peek.close();
    await b.close();
  });

  it('derives the KEK from a passphrase with scrypt, reopens with it, and refuses a wrong one', async () => {
    const path = tempPath();
    const passphrase = `pass-${randomBytes(8).toString('hex')}`;
    const a = LocalBackend.open({ path, passphrase, scrypt: FAST_SCRYPT });
    const { keyId } = await a.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
    const enc = await a.encrypt(keyId, Buffer.from('persisted'));
    await a.close();

    const b = LocalBackend.open({ path, passphrase });
    expect(Buffer.from((await b.decrypt(enc.ciphertext)).plaintext).toString()).toBe('persisted');
    await b.close();

    expect(() => LocalBackend.open({ path, passphrase: 'wrong' })).toThrow(expect.objectContaining({ code: ErrorCode.KEYSTORE_LOCKED }));
    expect(() => LocalBackend.open({ path })).toThrow(expect.objectContaining({ code: ErrorCode.KEYSTORE_LOCKED }));
    // The passphrase never reaches the file.
    const bytes = Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);
    expect(bytes.includes(Buffer.from(passphrase))).toBe(false);
  });

  it('reads the KEK from the environment and rejects a bad one', () => {
    const kek = randomBytes(32);
    expect(readLocalKekFromEnv({ KEYWARDEN_LOCAL_KEK: kek.toString('base64') }).kek).toEqual(kek);
    expect(readLocalKekFromEnv({ KEYWARDEN_LOCAL_PASSPHRASE: 'p' })).toEqual({ passphrase: 'p' });
    expect(() => readLocalKekFromEnv({ KEYWARDEN_LOCAL_KEK: 'c2hvcnQ=' })).toThrow(expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }));
  });

  it('never stores key material in clear', async () => {
    const path = tempPath();
    const b = LocalBackend.open({ path, kek: randomBytes(32) });
    const { keyId } = await b.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
    const dk = await b.generateDataKey(keyId);
    await b.close();
    const bytes = Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);
    expect(bytes.includes(Buffer.from(dk.plaintext))).toBe(false);
  });

  it('crypto-shreds on destruction after the window: sealed material overwritten, record kept', async () => {
    const path = tempPath();
    let now = new Date('2026-01-01T00:00:00Z');
    const b = LocalBackend.open({ path, kek: randomBytes(32), now: () => now });
    const { keyId } = await b.create({ spec: 'AES_256', alias: 'alias/doomed' }, { idempotencyKey: 'c1' });
    await b.rotate(keyId, { idempotencyKey: 'r1' });
    const enc = await b.encrypt(keyId, Buffer.from('gone soon'));
    const raw = new Database(path, { readonly: true });
    const sealed = (raw.prepare('SELECT sealed FROM key_versions WHERE key_id = ?').all(keyId) as { sealed: Buffer }[]).map((r) => r.sealed);
    raw.close();
    expect(sealed).toHaveLength(2);

    await b.scheduleDestruction(keyId, 7, { idempotencyKey: 's1' });
    expect(await b.completeDueDestructions(new Date('2026-01-07T23:59:59Z'))).toEqual([]);
    now = new Date('2026-01-08T00:00:01Z');
    const done = await b.completeDueDestructions();
    expect(done).toEqual([expect.objectContaining({ keyId, state: 'destroyed', operation: 'destroy' })]);

    const key = await b.describe(keyId);
    expect(key.state).toBe('destroyed');
    expect(key.versions.every((v) => v.state === 'destroyed')).toBe(true);
    expect(key.aliases).toEqual([]);
    await expect(b.decrypt(enc.ciphertext)).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
    await expect(b.cancelDestruction(keyId, { idempotencyKey: 'x1' })).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
    await b.close();

    const bytes = Buffer.concat([readFileSync(path), existsSync(`${path}-wal`) ? readFileSync(`${path}-wal`) : Buffer.alloc(0)]);
    for (const s of sealed) expect(bytes.includes(s)).toBe(false);
  });

  it('rotates automatically when the period is due', async () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const b = LocalBackend.open({ path: tempPath(), kek: randomBytes(32), now: () => now });
    const { keyId } = await b.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
    await b.setRotation(keyId, { automatic: true, periodDays: 30 }, { idempotencyKey: 's1' });
    now = new Date('2026-01-30T00:00:00Z');
    expect(await b.rotateDue()).toEqual([]);
    now = new Date('2026-01-31T00:00:00Z');
    expect(await b.rotateDue()).toEqual([expect.objectContaining({ keyId, version: 2 })]);
    expect(await b.rotateDue()).toEqual([]);
    await b.close();
  });

  it('two processes rotating the same key at once lose no version', async () => {
    const path = tempPath();
    const kek = randomBytes(32);
    const b = LocalBackend.open({ path, kek });
    const { keyId } = await b.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
    const run = promisify(execFile);
    const worker = join(import.meta.dirname, 'helpers', 'local-rotate-worker.ts');
    const args = ['--import', 'tsx', worker, path, kek.toString('base64'), keyId, '15'];
    const outs = await Promise.all([run(process.execPath, args), run(process.execPath, args)]);
    expect(outs.map((o) => o.stdout.trim())).toEqual(['done', 'done']);
    const key = await b.describe(keyId);
    expect(key.currentVersion).toBe(31);
    expect(key.versions.map((v) => v.version)).toEqual(Array.from({ length: 31 }, (_, i) => i + 1));
    await b.close();
  });
});
