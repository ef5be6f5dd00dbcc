/**
 * Red-team findings 12, 13 and 14 against the local keystore's audit log. The attacker can write
 * the keystore file but knows neither the passphrase nor the KEK; the verifier has the secret and
 * (unless said otherwise) no exported checkpoint.
 *
 * - 13: deleting the `kdf` / `kek_check` meta rows (or the log id, the checkpoint table, key
 *   versions) must never downgrade verification to an unsigned chain check, and an honest run
 *   afterwards must not re-initialise or re-sign the keystore.
 * - 12: a log cut and forged below the old 32-record threshold, or emptied, while the keystore
 *   still shows the keys and versions those records made.
 * - 14: `audit export -o` and `audit checkpoint --export FILE` through a symlinked folder, a hard
 *   link and a FIFO.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backends/local.js';
import { main } from '../../src/cli/main.js';
import { ErrorCode } from '../../src/errors.js';
import { canonicalJson, GENESIS_HASH, hashRecord, type AuditRecord } from '../../src/store/audit.js';

let cwd: string;
let env: NodeJS.ProcessEnv;
let out = '';
let err = '';
const kek = randomBytes(32);
const keystore = (): string => join(cwd, '.keywarden', 'keystore.db');

async function kw(...argv: string[]): Promise<number> {
  out = '';
  err = '';
  return main(argv, { cwd, env, stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false });
}
const verdict = (): { ok: boolean; count: number; firstBad?: { seq: number; problem: string } } =>
  JSON.parse(out) as { ok: boolean; count: number; firstBad?: { seq: number; problem: string } };

/** The red team's tamper.mts: keep records 1..keep, rewrite `edit`, recompute the chain, delete every checkpoint, fix the head. */
function truncateAndForge(keep: number, edit = -1): void {
  attack((db) => {
    const rows = db.prepare('SELECT seq, body FROM audit_log ORDER BY seq').all() as { seq: number; body: string }[];
    db.prepare('DELETE FROM audit_log WHERE seq > ?').run(keep);
    db.prepare('DELETE FROM audit_checkpoint').run();
    let prev = GENESIS_HASH;
    for (const r of rows.filter((x) => x.seq <= keep)) {
      const body = JSON.parse(r.body) as Record<string, unknown>;
      if (r.seq === edit) Object.assign(body, { actor: 'mallory', operation: 'describe' });
      const hash = hashRecord({ ...(body as unknown as Omit<AuditRecord, 'hash' | 'prevHash'>), prevHash: prev });
      db.prepare('UPDATE audit_log SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(canonicalJson(body), prev, hash, r.seq);
      prev = hash;
    }
    db.prepare('UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1').run(keep, prev);
  });
}

/** As an attacker with write access to the file: triggers off, then SQL. */
function attack(fn: (db: Database.Database) => void): void {
  const db = new Database(keystore());
  db.exec(
    'DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete; DROP TRIGGER IF EXISTS audit_checkpoint_no_delete; DROP TRIGGER IF EXISTS audit_checkpoint_no_update;',
  );
  fn(db);
  db.close();
}
const meta = (k: string): string | undefined => {
  const db = new Database(keystore(), { readonly: true });
  try {
    return (db.prepare('SELECT v FROM meta WHERE k = ?').get(k) as { v: string } | undefined)?.v;
  } finally {
    db.close();
  }
};

/** A keystore with one key at version `versions` (1 create + versions-1 rotations = that many records), built through the library for speed. */
async function build(versions: number, rotation = false): Promise<string> {
  mkdirSync(join(cwd, '.keywarden'), { recursive: true });
  const b = LocalBackend.open({ path: keystore(), kek });
  const { keyId } = await b.create({ spec: 'AES_256', alias: 'app' }, { idempotencyKey: 'c' });
  if (rotation) await b.setRotation(keyId, { automatic: true, periodDays: 90 }, { idempotencyKey: 's' });
  for (let i = 2; i <= versions; i++) await b.rotate(keyId, { idempotencyKey: `r${i}` });
  await b.close();
  return keyId;
}

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'kw-downgrade-'));
  env = { KEYWARDEN_LOCAL_KEK: kek.toString('base64'), PATH: process.env.PATH };
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

describe('13: a deleted KDF record is tampering, never "unsigned"', () => {
  it('repro 13: rewritten log, checkpoints deleted, kdf + kek_check deleted -> exit 1 KW_KEYSTORE_TAMPERED', async () => {
    await build(46);
    truncateAndForge(46, 5);
    attack((db) => db.exec("DELETE FROM meta WHERE k IN ('kdf', 'kek_check')"));
    expect(await kw('audit', 'verify')).toBe(1);
    expect(err).toContain('[KW_KEYSTORE_TAMPERED]');
    expect(out).not.toContain('intact');
  });

  for (const rows of [['kdf'], ['kek_check'], ['kdf', 'kek_check']]) {
    it(`deleting ${rows.join(' + ')}: verify fails (exit 1), checkpoint and keys refuse (exit 3), nothing re-initialises the keystore`, async () => {
      await build(3);
      attack((db) => db.prepare(`DELETE FROM meta WHERE k IN (${rows.map(() => '?').join(',')})`).run(...rows));
      expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
      expect(JSON.parse(out)).toMatchObject({ ok: false, error: { code: ErrorCode.KEYSTORE_TAMPERED } });
      for (const argv of [['audit', 'checkpoint'], ['keys', 'list'], ['keys', 'rotate', 'app']]) {
        expect(await kw(...argv), argv.join(' ')).toBe(3);
        expect(err).toContain('[KW_KEYSTORE_TAMPERED]');
      }
      for (const k of rows) expect(meta(k)).toBeUndefined();
    });
  }

  it('the same with a passphrase-sealed keystore', async () => {
    env = { KEYWARDEN_LOCAL_PASSPHRASE: 'correct horse battery staple', PATH: process.env.PATH };
    expect(await kw('keys', 'create', '--spec', 'AES_256', '--alias', 'app')).toBe(0);
    expect(await kw('audit', 'verify')).toBe(0);
    attack((db) => db.exec("DELETE FROM meta WHERE k IN ('kdf', 'kek_check')"));
    expect(await kw('audit', 'verify')).toBe(1);
    expect(err).toContain('[KW_KEYSTORE_TAMPERED]');
    expect(await kw('keys', 'rotate', 'app')).toBe(3);
    expect(err).toContain('[KW_KEYSTORE_TAMPERED]');
    expect(meta('kdf')).toBeUndefined();
  });

  it('a keystore emptied of everything is no log: exit 2 without an export, log-missing against one', async () => {
    await build(2);
    expect(await kw('audit', 'checkpoint', '--export', 'cp.json')).toBe(0);
    attack((db) => {
      for (const t of ['meta', 'aliases', 'key_fingerprints', 'key_versions', 'keys', 'idempotency', 'audit_log', 'audit_head', 'audit_checkpoint', 'audit_meta']) db.exec(`DELETE FROM ${t}`);
    });
    expect(await kw('audit', 'verify')).toBe(2);
    expect(err).toContain('[KW_PATH_NOT_FOUND]');
    expect(await kw('audit', 'verify', '--checkpoint', 'cp.json', '-f', 'json')).toBe(1);
    expect(verdict().firstBad).toMatchObject({ problem: 'log-missing' });
  });

  it('a deleted log id: verify says log-replaced, and no new id is made for the old records', async () => {
    await build(3);
    attack((db) => db.exec("DELETE FROM audit_meta WHERE k = 'log_id'"));
    expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
    expect(verdict().firstBad).toMatchObject({ problem: 'log-replaced' });
    expect(await kw('keys', 'rotate', 'app')).toBe(3);
    expect(err).toContain('[KW_AUDIT_BROKEN]');
    const db = new Database(keystore(), { readonly: true });
    expect(db.prepare("SELECT v FROM audit_meta WHERE k = 'log_id'").get()).toBeUndefined();
    db.close();
  });

  it('a dropped checkpoint table: checkpoint-missing', async () => {
    await build(3);
    attack((db) => db.exec('DROP TABLE audit_checkpoint'));
    expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
    expect(verdict().firstBad).toMatchObject({ seq: 1, problem: 'checkpoint-missing' });
  });
});

describe('12: the head must be signed, and the keystore must match its records', () => {
  it('repro 12a: 46 records cut to 32, record 5 forged, checkpoints deleted -> checkpoint-missing (exactly 32 unsigned fails)', async () => {
    await build(46);
    expect(await kw('audit', 'verify')).toBe(0);
    truncateAndForge(32, 5);
    expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
    expect(verdict().firstBad).toMatchObject({ seq: 1, problem: 'checkpoint-missing' });
  });

  for (const keep of [1, 31]) {
    it(`a forged log of ${keep} record(s) with no checkpoint fails too: every record is signed when written`, async () => {
      await build(46);
      truncateAndForge(keep, 1);
      expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
      expect(verdict().firstBad).toMatchObject({ seq: 1, problem: 'checkpoint-missing' });
    });
  }

  it('repro 12b: the log emptied while the key still shows 46 versions -> unrecorded', async () => {
    await build(46);
    truncateAndForge(0);
    expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
    expect(verdict()).toMatchObject({ ok: false, count: 0, firstBad: { seq: 1, problem: 'unrecorded' } });
  });

  it('a rollback to a signed prefix (records cut back to a valid checkpoint) is caught by the keystore state: unrecorded', async () => {
    await build(10);
    attack((db) => {
      db.exec('DELETE FROM audit_log WHERE seq > 6; DELETE FROM audit_checkpoint WHERE count > 6');
      const h = db.prepare('SELECT hash FROM audit_log WHERE seq = 6').get() as { hash: string };
      db.prepare('UPDATE audit_head SET seq = 6, hash = ? WHERE id = 1').run(h.hash);
    });
    expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
    expect(verdict().firstBad).toMatchObject({ seq: 7, problem: 'unrecorded' });
  });

  it('keystore rows changed by hand, with the log untouched: unrecorded or state-mismatch', async () => {
    const keyId = await build(4, true);
    const cases: [string, string, string][] = [
      ['state flipped', `UPDATE keys SET state = 'disabled' WHERE id = '${keyId}'`, 'unrecorded'],
      ['automatic rotation switched off by hand', `UPDATE keys SET rotation_automatic = 0, rotation_period_days = NULL WHERE id = '${keyId}'`, 'unrecorded'],
      ['destruction date moved', `UPDATE keys SET destruction_at = '2030-01-01T00:00:00.000Z' WHERE id = '${keyId}'`, 'unrecorded'],
      ['alias moved', "UPDATE aliases SET key_id = 'lk-other' WHERE alias = 'app'", 'unrecorded'],
      ['alias added', `INSERT INTO aliases VALUES ('extra', '${keyId}')`, 'unrecorded'],
      ['version deleted', `DELETE FROM key_versions WHERE key_id = '${keyId}' AND version = 3`, 'state-mismatch'],
      ['key deleted', `DELETE FROM key_versions; DELETE FROM aliases; DELETE FROM keys`, 'state-mismatch'],
      ['key_versions dropped', 'DROP TABLE key_versions', 'state-mismatch'],
      ['made exportable by hand', `UPDATE keys SET exportable = 1 WHERE id = '${keyId}'`, 'state-mismatch'],
      ['version revoked by hand', `UPDATE key_versions SET revoked_at = '2030-01-01T00:00:00.000Z' WHERE key_id = '${keyId}' AND version = 2`, 'unrecorded'],
      ['version added', `INSERT INTO key_versions (key_id, version, created_at, state, sealed) SELECT key_id, 5, created_at, state, sealed FROM key_versions WHERE version = 4; UPDATE keys SET current_version = 5`, 'unrecorded'],
    ];
    const clean = readFileSync(keystore());
    for (const [name, sql, problem] of cases) {
      for (const f of ['-wal', '-shm']) rmSync(`${keystore()}${f}`, { force: true });
      writeFileSync(keystore(), clean);
      expect(await kw('audit', 'verify'), name).toBe(0);
      attack((db) => db.exec(`PRAGMA foreign_keys = OFF; ${sql}`));
      expect(await kw('audit', 'verify', '-f', 'json'), name).toBe(1);
      expect(verdict().firstBad?.problem, name).toBe(problem);
    }
  });

  it('an honest run never signs over a rewritten, unsigned log: keys and audit checkpoint refuse with KW_AUDIT_BROKEN (exit 3)', async () => {
    await build(5);
    truncateAndForge(5, 2);
    for (const argv of [['keys', 'rotate', 'app'], ['keys', 'create', '--spec', 'AES_256'], ['audit', 'checkpoint', '--export', 'cp.json']]) {
      expect(await kw(...argv), argv.join(' ')).toBe(3);
      expect(err).toContain('[KW_AUDIT_BROKEN]');
    }
    expect(existsSync(join(cwd, 'cp.json'))).toBe(false);
    expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
    expect(verdict()).toMatchObject({ count: 5, firstBad: { problem: 'checkpoint-missing' } });
  });

  it('a run that is never closed (killed) still leaves its head signed, and verify passes', async () => {
    const keyId = await build(1);
    const b = LocalBackend.open({ path: keystore(), kek });
    await b.rotate(keyId, { idempotencyKey: 'x' });
    await b.disable(keyId, { idempotencyKey: 'y' });
    // No close(): the end-of-run checkpoint never happens.
    expect(await kw('audit', 'verify', '-f', 'json')).toBe(0);
    expect(verdict()).toMatchObject({ ok: true, count: 3 });
    await b.close();
  });

  it('a destroyed key, a moved alias and a replayed call all match the keystore', async () => {
    const keyId = await build(2);
    const b = LocalBackend.open({ path: keystore(), kek, now: () => new Date(Date.now() - 3 * 86_400_000) });
    const other = await b.create({ spec: 'AES_256' }, { idempotencyKey: 'o' });
    await b.create({ spec: 'AES_256', alias: 'app' }, { idempotencyKey: 'dup' }).catch(() => undefined);
    await b.moveAlias('app', other.keyId, { idempotencyKey: 'm' });
    await b.moveAlias('app', keyId, { idempotencyKey: 'm2' });
    await b.moveAlias('app', keyId, { idempotencyKey: 'm2' });
    await b.setRotation(keyId, { automatic: true }, { idempotencyKey: 'sr1' });
    await b.setRotation(keyId, { automatic: false, periodDays: 30 }, { idempotencyKey: 'sr2' });
    await b.scheduleDestruction(keyId, 7, { idempotencyKey: 'k7' });
    await b.cancelDestruction(keyId, { idempotencyKey: 'k8' });
    await b.enable(keyId, { idempotencyKey: 'k9' });
    await b.scheduleDestruction(other.keyId, 1, { idempotencyKey: 'd' });
    await b.scheduleDestruction(other.keyId, 1, { idempotencyKey: 'd2' });
    await b.close();
    const later = LocalBackend.open({ path: keystore(), kek });
    expect(await later.completeDueDestructions()).toHaveLength(1);
    expect(later.auditLog.verify()).toMatchObject({ ok: true });
    await later.close();
    expect(await kw('audit', 'verify')).toBe(0);
  });
});

describe('14: audit export -o and checkpoint --export use the safe writer', () => {
  let victim: string;
  beforeEach(async () => {
    await build(2);
    victim = mkdtempSync(join(tmpdir(), 'kw-victim-'));
  });
  afterEach(() => rmSync(victim, { recursive: true, force: true }));

  it('refuses a symlinked parent folder that leads out of the working folder (exit 2), writing nothing there', async () => {
    symlinkSync(victim, join(cwd, 'ci'));
    expect(await kw('audit', 'export', '-o', 'ci/audit.jsonl')).toBe(2);
    expect(err).toContain('[KW_USAGE]');
    expect(await kw('audit', 'checkpoint', '--export', 'ci/cp.json')).toBe(2);
    expect(readdirSync(victim)).toEqual([]);
  });

  it('refuses a symlink as the target (exit 2)', async () => {
    writeFileSync(join(victim, 'precious'), 'precious');
    symlinkSync(join(victim, 'precious'), join(cwd, 'cp.json'));
    expect(await kw('audit', 'checkpoint', '--export', 'cp.json')).toBe(2);
    expect(await kw('audit', 'export', '-o', 'cp.json')).toBe(2);
    expect(readFileSync(join(victim, 'precious'), 'utf8')).toBe('precious');
  });

  it('replaces a hard link instead of writing through it; the new file is 0600', async () => {
    writeFileSync(join(victim, 'precious'), 'precious');
    linkSync(join(victim, 'precious'), join(cwd, 'hard.json'));
    linkSync(join(victim, 'precious'), join(cwd, 'hard.jsonl'));
    expect(await kw('audit', 'checkpoint', '--export', 'hard.json')).toBe(0);
    expect(await kw('audit', 'export', '-o', 'hard.jsonl')).toBe(0);
    expect(readFileSync(join(victim, 'precious'), 'utf8')).toBe('precious');
    expect(JSON.parse(readFileSync(join(cwd, 'hard.json'), 'utf8'))).toMatchObject({ format: 'keywarden-audit-checkpoint', count: 2 });
    expect(readFileSync(join(cwd, 'hard.jsonl'), 'utf8').trimEnd().split('\n')).toHaveLength(2);
    for (const f of ['hard.json', 'hard.jsonl']) expect(statSync(join(cwd, f)).mode & 0o777).toBe(0o600);
    expect(readdirSync(cwd).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('refuses a FIFO at once (exit 2) instead of blocking on it', async () => {
    execFileSync('mkfifo', [join(cwd, 'fifo.json')]);
    const t0 = Date.now();
    expect(await kw('audit', 'checkpoint', '--export', 'fifo.json')).toBe(2);
    expect(await kw('audit', 'export', '-o', 'fifo.json')).toBe(2);
    expect(err).toContain('not a regular file');
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('checks the path before any work: a missing folder is exit 2 and the keystore is not even opened', async () => {
    env = { PATH: process.env.PATH };
    expect(await kw('audit', 'checkpoint', '--export', 'nope/cp.json')).toBe(2);
    expect(err).toContain('folder does not exist');
    expect(err).not.toContain(ErrorCode.KEYSTORE_LOCKED);
  });
});
