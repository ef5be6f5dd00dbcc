/**
 * `keywarden audit checkpoint --export` and `audit verify --checkpoint` against an attacker who
 * can rewrite the keystore file (and so the audit log in it), but does not know the passphrase.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { canonicalJson, GENESIS_HASH, hashRecord, type AuditRecord } from '../../src/store/audit.js';
import { createCheckpointSigner } from '../../src/store/checkpoint.js';

let cwd: string;
let env: NodeJS.ProcessEnv;
let out = '';
let err = '';
const passphrase = `KW-CANARY-PASS-${randomBytes(8).toString('hex')}`;
const keystore = (): string => join(cwd, '.keywarden', 'keystore.db');

async function kw(...argv: string[]): Promise<number> {
  out = '';
  err = '';
  return main(argv, { cwd, env, stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false });
}

beforeEach(async () => {
  cwd = mkdtempSync(join(tmpdir(), 'kw-cp-cli-'));
  env = { KEYWARDEN_LOCAL_PASSPHRASE: passphrase, PATH: process.env.PATH };
  expect(await kw('keys', 'create', '--spec', 'AES_256', '--alias', 'app')).toBe(0);
  for (let i = 0; i < 4; i++) expect(await kw('keys', 'rotate', 'app')).toBe(0);
  expect(await kw('audit', 'checkpoint', '--export', 'cp.json')).toBe(0);
  expect(await kw('audit', 'verify', '--checkpoint', 'cp.json')).toBe(0);
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

/** As an attacker with write access: triggers off, then SQL. */
function attack(fn: (db: Database.Database) => void): void {
  const db = new Database(keystore());
  db.exec('DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete; DROP TRIGGER IF EXISTS audit_checkpoint_no_delete;');
  fn(db);
  db.close();
}

/** Rewrites the chain consistently: every hash and the head recomputed after `edit`. */
function rewriteChain(db: Database.Database, edit: (r: AuditRecord) => AuditRecord): void {
  const rows = db.prepare('SELECT seq, body, prev_hash, hash FROM audit_log ORDER BY seq').all() as { seq: number; body: string; prev_hash: string; hash: string }[];
  let prev = GENESIS_HASH;
  for (const row of rows) {
    const r = edit({ ...(JSON.parse(row.body) as AuditRecord), prevHash: row.prev_hash, hash: row.hash });
    const { hash: _h, ...partial } = { ...r, prevHash: prev };
    const hash = hashRecord(partial);
    const { prevHash: _p, ...body } = partial;
    db.prepare('UPDATE audit_log SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(canonicalJson(body), prev, hash, row.seq);
    prev = hash;
  }
  db.prepare('UPDATE audit_head SET hash = ? WHERE id = 1').run(prev);
}

const verdict = (): { ok: boolean; firstBad?: { problem: string } } => JSON.parse(out) as { ok: boolean; firstBad?: { problem: string } };

describe('audit checkpoint --export / verify --checkpoint', () => {
  it('exports JSON with the public key and signature, to a file (0600) or stdout', async () => {
    const c = JSON.parse(readFileSync(join(cwd, 'cp.json'), 'utf8')) as Record<string, unknown>;
    expect(c).toMatchObject({ format: 'keywarden-audit-checkpoint', version: 1, count: 5, publicKey: expect.any(String), signature: expect.any(String) });
    expect(await kw('audit', 'checkpoint', '--export')).toBe(0);
    expect(JSON.parse(out)).toEqual(c);
    expect(out).not.toContain(passphrase);
  });

  it('catches the tail cut and the head row updated (exit 1, truncated)', async () => {
    attack((db) => {
      db.exec('DELETE FROM audit_log WHERE seq > 3; DELETE FROM audit_checkpoint');
      const last = db.prepare('SELECT hash FROM audit_log WHERE seq = 3').get() as { hash: string };
      db.prepare('UPDATE audit_head SET seq = 3, hash = ? WHERE id = 1').run(last.hash);
    });
    expect(await kw('audit', 'verify', '--checkpoint', 'cp.json', '-f', 'json')).toBe(1);
    expect(verdict()).toMatchObject({ ok: false, firstBad: { problem: 'truncated' } });
  });

  it('catches a record edited and every hash recomputed (exit 1, rewritten), live and against the export', async () => {
    attack((db) => rewriteChain(db, (r) => (r.seq === 2 ? { ...r, actor: 'mallory' } : r)));
    expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
    expect(verdict().firstBad).toMatchObject({ problem: 'rewritten' });
    attack((db) => db.exec('DELETE FROM audit_checkpoint'));
    expect(await kw('audit', 'verify', '--checkpoint', 'cp.json', '-f', 'json')).toBe(1);
    expect(verdict().firstBad).toMatchObject({ problem: 'rewritten' });
  });

  it('catches checkpoints re-signed with a key of the attacker\'s own (exit 1, checkpoint-forged)', async () => {
    const forger = createCheckpointSigner(randomBytes(32));
    attack((db) => {
      rewriteChain(db, (r) => (r.seq === 2 ? { ...r, actor: 'mallory' } : r));
      const head = db.prepare('SELECT seq, hash FROM audit_head').get() as { seq: number; hash: string };
      const logId = (db.prepare("SELECT v FROM audit_meta WHERE k = 'log_id'").get() as { v: string }).v;
      const time = new Date().toISOString();
      db.exec('DELETE FROM audit_checkpoint');
      db.prepare('INSERT INTO audit_checkpoint VALUES (?, ?, ?, ?, ?)').run(head.seq, head.hash, time, forger.publicKey.toString('base64'), forger.sign({ logId, count: head.seq, headHash: head.hash, time }));
    });
    expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
    expect(verdict().firstBad).toMatchObject({ problem: 'checkpoint-forged' });
  });

  it('catches a deleted database (exit 1) and never recreates it; without an export it is a usage error', async () => {
    for (const f of ['', '-wal', '-shm']) rmSync(`${keystore()}${f}`, { force: true });
    expect(await kw('audit', 'verify', '--checkpoint', 'cp.json', '-f', 'json')).toBe(1);
    expect(verdict().firstBad).toMatchObject({ problem: 'log-missing' });
    expect(existsSync(keystore())).toBe(false);
    expect(await kw('audit', 'verify')).toBe(2);
    expect(err).toContain('[KW_PATH_NOT_FOUND]');
  });

  it('catches an emptied database: zero bytes, or every row deleted (exit 1)', async () => {
    attack((db) => db.exec('DELETE FROM audit_log; DELETE FROM audit_head; DELETE FROM audit_checkpoint'));
    expect(await kw('audit', 'verify', '--checkpoint', 'cp.json', '-f', 'json')).toBe(1);
    expect(verdict().firstBad).toMatchObject({ problem: 'truncated' });
    for (const f of ['-wal', '-shm']) rmSync(`${keystore()}${f}`, { force: true });
    writeFileSync(keystore(), '');
    expect(await kw('audit', 'verify', '--checkpoint', 'cp.json', '-f', 'json')).toBe(1);
    expect(verdict().ok).toBe(false);
  });

  it('refuses an empty, truncated, garbled or missing export with exit 2 and a stable code', async () => {
    const good = readFileSync(join(cwd, 'cp.json'), 'utf8');
    const cases: Record<string, string> = {
      'empty.json': '',
      'cut.json': good.slice(0, 40),
      'garbled.json': good.replace(/"count": 5/, '"count": 9'),
      'shape.json': '{"format":"keywarden-audit-checkpoint"}',
    };
    for (const [name, text] of Object.entries(cases)) {
      writeFileSync(join(cwd, name), text);
      expect(await kw('audit', 'verify', '--checkpoint', name), name).toBe(2);
      expect(err).toContain('[KW_CHECKPOINT_INVALID]');
    }
    expect(await kw('audit', 'verify', '--checkpoint', 'nope.json')).toBe(2);
    expect(err).toContain('[KW_FILE_UNREADABLE]');
  });

  it('needs the passphrase to verify: a key read from the database is never trusted', async () => {
    delete env.KEYWARDEN_LOCAL_PASSPHRASE;
    expect(await kw('audit', 'verify')).toBe(2);
    expect(err).toContain('[KW_KEYSTORE_LOCKED]');
    env.KEYWARDEN_LOCAL_PASSPHRASE = 'another-long-passphrase';
    expect(await kw('audit', 'verify')).toBe(2);
    expect(err).toContain('[KW_KEYSTORE_LOCKED]');
    expect(err).not.toContain('another-long-passphrase');
  });

  it('an export from another keystore does not vouch for this one (exit 1)', async () => {
    const other = mkdtempSync(join(tmpdir(), 'kw-cp-other-'));
    try {
      const saved = cwd;
      cwd = other;
      expect(await kw('keys', 'create', '--spec', 'AES_256')).toBe(0);
      expect(await kw('audit', 'checkpoint', '--export', join(saved, 'other.json'))).toBe(0);
      cwd = saved;
      expect(await kw('audit', 'verify', '--checkpoint', 'other.json', '-f', 'json')).toBe(1);
      expect(verdict().firstBad).toMatchObject({ problem: 'checkpoint-forged' });
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});
