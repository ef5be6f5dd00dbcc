/**
 * Issue 8, "the audit log is tamper-evident and complete": fail closed and atomic, intents
 * reconciled after SIGKILL, KDF parameters authenticated, destruction claimed only when no copy
 * can remain, and a git-ignored state folder. Real SQLite files, real processes, real git.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createCipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditedBackend } from '../../src/backends/audited.js';
import { LocalBackend } from '../../src/backends/local.js';
import type { KeyBackend } from '../../src/backends/port.js';
import { main } from '../../src/cli/main.js';
import { ErrorCode } from '../../src/errors.js';
import { AuditLog } from '../../src/store/audit.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'kw-integrity-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FAST_SCRYPT = { N: 2 ** 12, r: 8, p: 1 };
const PASSPHRASE = `correct-horse-${randomBytes(6).toString('hex')}`;

/** Makes every insert into the log fail, as a full disk or a read-only table would. */
function breakAuditInserts(path: string): () => void {
  const db = new Database(path);
  db.exec("CREATE TRIGGER audit_fail BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
  return () => {
    db.exec('DROP TRIGGER audit_fail');
    db.close();
  };
}

describe('fail closed and atomic', () => {
  it('local keystore: if the audit record cannot be written, the key does not rotate', async () => {
    const path = join(tempDir(), 'keystore.db');
    const b = LocalBackend.open({ path, kek: randomBytes(32) });
    const { keyId } = await b.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
    const restore = breakAuditInserts(path);
    await expect(b.rotate(keyId, { idempotencyKey: 'r1' })).rejects.toMatchObject({ code: ErrorCode.AUDIT_WRITE_FAILED });
    await expect(b.create({ spec: 'AES_256', alias: 'never' }, { idempotencyKey: 'c2' })).rejects.toMatchObject({ code: ErrorCode.AUDIT_WRITE_FAILED });
    expect((await b.describe(keyId)).currentVersion).toBe(1);
    expect((await b.inventory()).map((k) => k.id)).toEqual([keyId]);
    restore();
    // The refused attempt left no idempotency record either: the same key now really rotates.
    expect(await b.rotate(keyId, { idempotencyKey: 'r1' })).toMatchObject({ version: 2, replayed: false });
    expect(b.auditLog.list().map((r) => [r.operation, r.outcome])).toEqual([
      ['create', 'succeeded'],
      ['rotate', 'succeeded'],
    ]);
    await b.close();
  });

  it('remote path: when the intent cannot be written, the backend is never called', async () => {
    const dir = tempDir();
    const local = LocalBackend.open({ path: join(dir, 'keystore.db'), kek: randomBytes(32) });
    const { keyId } = await local.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
    let calls = 0;
    const spy = Object.create(local) as KeyBackend;
    spy.rotate = async (ref, o) => {
      calls++;
      return local.rotate(ref, o);
    };
    const log = AuditLog.open(join(dir, 'audit.db'));
    const restore = breakAuditInserts(join(dir, 'audit.db'));
    const audited = new AuditedBackend(spy, log, { actor: 't' });
    await expect(audited.rotate(keyId, { idempotencyKey: 'r1' })).rejects.toMatchObject({ code: ErrorCode.AUDIT_WRITE_FAILED });
    expect(calls).toBe(0);
    expect((await local.describe(keyId)).currentVersion).toBe(1);
    restore();
    log.close();
    await local.close();
  });
});

/** Starts the worker and SIGKILLs it once `until` matches its output. */
function runAndKill(args: string[], until: (out: string) => boolean): Promise<string> {
  const worker = join(import.meta.dirname, 'helpers', 'audited-rotate-worker.ts');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', worker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (until(out)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => void (err += d.toString()));
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(out) : reject(new Error(`worker exited ${code}: ${err}`))));
  });
}

describe('SIGKILL mid-rotation', () => {
  it('local keystore: every rotation the key shows has its record, and verify passes', async () => {
    const path = join(tempDir(), 'keystore.db');
    const kek = randomBytes(32);
    const b = LocalBackend.open({ path, kek });
    const { keyId } = await b.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
    await b.close();
    const out = await runAndKill(['atomic', path, kek.toString('base64'), keyId, '5000'], (o) => /rotated 13\n/.test(o));
    expect(out).not.toContain('done');

    const after = LocalBackend.open({ path, kek });
    const key = await after.describe(keyId);
    const recorded = after.auditLog.list({ keyId, operation: 'rotate' }).filter((r) => r.outcome === 'succeeded');
    expect(key.currentVersion).toBeGreaterThanOrEqual(14);
    expect(recorded).toHaveLength(key.currentVersion - 1);
    expect(recorded.map((r) => r.details.version)).toEqual(key.versions.slice(1).map((v) => v.version));
    expect(after.auditLog.verify()).toMatchObject({ ok: true, openIntents: [], checkpoints: { trust: 'secret' } });
    await after.close();
  });

  for (const where of ['after', 'before'] as const) {
    it(`intent + outcome: killed ${where} the backend call, verify reports the open intent and reconcile settles it`, async () => {
      const dir = tempDir();
      const path = join(dir, 'keystore.db');
      const auditPath = join(dir, 'audit.db');
      const kek = randomBytes(32);
      const b = LocalBackend.open({ path, kek });
      const { keyId } = await b.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
      await b.close();
      await runAndKill(['intent', path, kek.toString('base64'), keyId, '10', auditPath, '4', where], (o) => o.includes('hung'));

      const local = LocalBackend.open({ path, kek });
      const log = AuditLog.open(auditPath);
      const before = log.verify();
      expect(before).toMatchObject({ ok: false, firstBad: { problem: 'unreconciled' }, openIntents: [7] });

      const audited = new AuditedBackend(local, log, { actor: 'test' });
      const settled = await audited.reconcile();
      expect(settled).toEqual([{ intentSeq: 7, operation: 'rotate', keyId, outcome: where === 'after' ? 'succeeded' : 'not-applied' }]);
      expect(await audited.reconcile()).toEqual([]);

      const key = await local.describe(keyId);
      expect(key.currentVersion).toBe(where === 'after' ? 5 : 4);
      const completed = log.list({ keyId, operation: 'rotate' }).filter((r) => r.outcome === 'succeeded');
      expect(completed).toHaveLength(key.currentVersion - 1);
      expect(completed.at(-1)!.details).toMatchObject(where === 'after' ? { intentSeq: 7, reconciled: true, version: 5 } : { intentSeq: 5 });
      expect(log.verify()).toMatchObject({ ok: true, openIntents: [] });
      log.close();
      await local.close();
    });
  }
});

describe('KDF parameters are authenticated', () => {
  function setKdf(path: string, edit: (kdf: Record<string, unknown>) => void): void {
    const db = new Database(path);
    const kdf = JSON.parse((db.prepare("SELECT v FROM meta WHERE k = 'kdf'").get() as { v: string }).v) as Record<string, unknown>;
    edit(kdf);
    db.prepare("UPDATE meta SET v = ? WHERE k = 'kdf'").run(JSON.stringify(kdf));
    db.close();
  }
  async function keystore(): Promise<string> {
    const path = join(tempDir(), 'keystore.db');
    const b = LocalBackend.open({ path, passphrase: PASSPHRASE, scrypt: FAST_SCRYPT });
    await b.create({ spec: 'AES_256' }, { idempotencyKey: 'c1' });
    await b.close();
    return path;
  }

  it('a keystore opened again in the same process (the KEK derived once) still refuses the wrong passphrase', async () => {
    const path = await keystore();
    (await LocalBackend.open({ path, passphrase: PASSPHRASE })).close();
    expect(() => LocalBackend.open({ path, passphrase: 'wrong-passphrase-123' })).toThrow(expect.objectContaining({ code: ErrorCode.KEYSTORE_LOCKED }));
    expect(() => LocalBackend.open({ path, passphrase: `${PASSPHRASE}x` })).toThrow(expect.objectContaining({ code: ErrorCode.KEYSTORE_LOCKED }));
    const again = LocalBackend.open({ path, passphrase: PASSPHRASE });
    expect((await again.inventory()).length).toBe(1);
    await again.close();
  });

  it('an edited cost or salt opens with neither the wrong nor the right passphrase', async () => {
    for (const edit of [(k: Record<string, unknown>) => void (k.N = 2 ** 13), (k: Record<string, unknown>) => void (k.salt = randomBytes(16).toString('base64'))]) {
      const path = await keystore();
      setKdf(path, edit);
      expect(() => LocalBackend.open({ path, passphrase: 'wrong-passphrase-123' })).toThrow(expect.objectContaining({ code: ErrorCode.KEYSTORE_LOCKED }));
      expect(() => LocalBackend.open({ path, passphrase: PASSPHRASE })).toThrow(expect.objectContaining({ code: ErrorCode.KEYSTORE_LOCKED }));
    }
  });

  it('a cost out of bounds is refused before scrypt runs (no memory blow-up, no silent downgrade)', async () => {
    for (const edit of [
      (k: Record<string, unknown>) => void (k.N = 2 ** 30),
      (k: Record<string, unknown>) => void (k.N = 2 ** 4),
      (k: Record<string, unknown>) => void (k.p = 1_000_000),
      (k: Record<string, unknown>) => void (k.alg = 'none'),
    ]) {
      const path = await keystore();
      setKdf(path, edit);
      expect(() => LocalBackend.open({ path, passphrase: PASSPHRASE })).toThrow(expect.objectContaining({ code: ErrorCode.KEYSTORE_TAMPERED }));
    }
  });

  it('binds the KDF record into the check value, upgrading a v1 check on open', async () => {
    const path = join(tempDir(), 'keystore.db');
    const kek = randomBytes(32);
    const b = LocalBackend.open({ path, kek });
    await b.close();
    // Write a v1 check value (bound to nothing) as earlier versions did.
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', kek, iv).setAAD(Buffer.from('kek-check'));
    const ct = Buffer.concat([c.update(Buffer.from('keywarden-local-kek-check-v1')), c.final()]);
    const v1 = Buffer.concat([Buffer.from([1]), iv, c.getAuthTag(), ct]).toString('base64');
    const db = new Database(path);
    db.prepare("UPDATE meta SET v = ? WHERE k = 'kek_check'").run(v1);
    db.close();
    await LocalBackend.open({ path, kek }).close();
    const peek = new Database(path, { readonly: true });
    expect((peek.prepare("SELECT v FROM meta WHERE k = 'kek_check'").get() as { v: string }).v).toMatch(/^v2:/);
    peek.close();
    expect(() => LocalBackend.open({ path, kek: randomBytes(32) })).toThrow(expect.objectContaining({ code: ErrorCode.KEYSTORE_LOCKED }));
  });

  it('a new keystore refuses a passphrase shorter than 12 characters, and writes nothing', async () => {
    const path = join(tempDir(), 'keystore.db');
    for (const short of ['tiny-pw', 'elevenchars', '🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑']) {
      const e = (() => {
        try {
          LocalBackend.open({ path, passphrase: short, scrypt: FAST_SCRYPT });
        } catch (err) {
          return err as { code: string; message: string };
        }
        return undefined;
      })();
      expect(e).toMatchObject({ code: ErrorCode.PASSPHRASE_TOO_SHORT });
      expect(e!.message).not.toContain(short);
    }
    const peek = new Database(path, { readonly: true });
    expect(peek.prepare("SELECT count(*) AS n FROM meta WHERE k = 'kdf'").get()).toEqual({ n: 0 });
    peek.close();
    await LocalBackend.open({ path, passphrase: 'twelve-chars', scrypt: FAST_SCRYPT }).close();
  });
});

describe('destruction is claimed only when no copy can remain', () => {
  function rawFiles(path: string): Buffer {
    return Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
  }

  it('a reader holding an old snapshot keeps it pending; purge-due finishes it later; no byte of the material remains', async () => {
    const path = join(tempDir(), 'keystore.db');
    let now = new Date('2026-01-01T00:00:00Z');
    const b = LocalBackend.open({ path, kek: randomBytes(32), now: () => now });
    const { keyId } = await b.create({ spec: 'AES_256', alias: 'doomed' }, { idempotencyKey: 'c1' });
    await b.rotate(keyId, { idempotencyKey: 'r1' });
    const raw = new Database(path, { readonly: true });
    const sealed = (raw.prepare('SELECT sealed FROM key_versions WHERE key_id = ?').all(keyId) as { sealed: Buffer }[]).map((r) => r.sealed);
    raw.close();
    expect(sealed).toHaveLength(2);
    await b.scheduleDestruction(keyId, 7, { idempotencyKey: 's1' });
    now = new Date('2026-01-09T00:00:00Z');

    // A second, real connection in a read transaction: its snapshot still holds the material.
    const reader = new Database(path);
    reader.prepare('BEGIN').run();
    reader.prepare('SELECT count(*) FROM key_versions').get();
    expect(await b.completeDueDestructions()).toEqual([expect.objectContaining({ keyId, state: 'pending-destruction' })]);
    expect((await b.describe(keyId)).state).toBe('pending-destruction');
    await expect(b.cancelDestruction(keyId, { idempotencyKey: 'x1' })).rejects.toMatchObject({ code: ErrorCode.KEY_STATE });
    expect(await b.completeDueDestructions()).toEqual([expect.objectContaining({ state: 'pending-destruction' })]);
    expect(b.auditLog.list({ operation: 'destroy' }).map((r) => r.outcome)).toEqual(['pending']);

    reader.prepare('COMMIT').run();
    reader.close();
    expect(await b.completeDueDestructions()).toEqual([expect.objectContaining({ keyId, state: 'destroyed', operation: 'destroy' })]);
    expect((await b.describe(keyId)).state).toBe('destroyed');
    expect(b.auditLog.list({ operation: 'destroy' }).map((r) => r.outcome)).toEqual(['pending', 'succeeded']);
    expect(await b.completeDueDestructions()).toEqual([]);

    const bytes = rawFiles(path);
    for (const s of sealed) {
      expect(bytes.includes(s)).toBe(false);
      expect(bytes.includes(s.subarray(29, 45))).toBe(false);
    }
    await b.close();
    const closed = rawFiles(path);
    for (const s of sealed) expect(closed.includes(s.subarray(29, 45))).toBe(false);
  });
});

describe('the state folder is git-ignored from the start', () => {
  it('git status shows nothing after keys create in a fresh repository', async () => {
    const repo = tempDir();
    execFileSync('git', ['init', '-q'], { cwd: repo });
    const env = { KEYWARDEN_LOCAL_PASSPHRASE: PASSPHRASE, PATH: process.env.PATH };
    const io = { cwd: repo, env, stdout: () => undefined, stderr: () => undefined, isTTY: false };
    expect(await main(['keys', 'create', '--spec', 'AES_256', '--alias', 'app'], io)).toBe(0);
    expect(await main(['audit', 'checkpoint'], io)).toBe(0);
    expect(existsSync(join(repo, '.keywarden', 'keystore.db'))).toBe(true);
    expect(readFileSync(join(repo, '.keywarden', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
    expect(execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: repo, encoding: 'utf8' })).toBe('');
  });
});
