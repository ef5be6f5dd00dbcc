import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { motoSkipReason, startMoto, type MotoServer } from '../setup/moto.js';
import { createSoftHsmToken, softHsmSkipReason, type SoftHsmToken } from '../setup/softhsm.js';

let cwd: string;
let env: NodeJS.ProcessEnv;
const passphrase = `KW-CANARY-PASS-${randomBytes(8).toString('hex')}`;
let out = '';
let err = '';

async function kw(...argv: string[]): Promise<number> {
  out = '';
  err = '';
  return main(argv, { cwd, env, stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false });
}

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'kw-cli-'));
  env = { KEYWARDEN_LOCAL_PASSPHRASE: passphrase, PATH: process.env.PATH };
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

describe('keywarden keys / audit (local backend)', () => {
  it('runs the whole lifecycle with text and JSON output, audited, with no secret in any output', async () => {
    const all: string[] = [];
    const run = async (...a: string[]): Promise<number> => {
      const code = await kw(...a);
      all.push(out, err);
      return code;
    };
    expect(await run('keys', 'create', '--spec', 'AES_256', '--alias', 'alias/app', '--tag', 'team=payments', '--idempotency-key', 'create-1', '--reason', 'setup')).toBe(0);
    expect(out).toContain('create: done');
    expect(await run('keys', 'create', '--spec', 'AES_256', '--alias', 'alias/app', '--idempotency-key', 'create-1', '-f', 'json')).toBe(0);
    const created = JSON.parse(out) as { keyId: string; replayed: boolean };
    expect(created.replayed).toBe(true);

    expect(await run('keys', 'list')).toBe(0);
    expect(out).toMatch(/ID\s+ALIASES\s+SPEC\s+STATE/);
    expect(out).toContain('alias/app');
    expect(await run('keys', 'list', '--format', 'json')).toBe(0);
    expect((JSON.parse(out) as { keys: { id: string }[] }).keys.map((k) => k.id)).toEqual([created.keyId]);

    expect(await run('keys', 'rotate', 'alias/app', '--idempotency-key', 'rot-1')).toBe(0);
    expect(out).toContain('in place');
    expect(await run('keys', 'describe', 'alias/app')).toBe(0);
    expect(out).toContain('versions:    1 2*');
    expect(out).toContain('team=payments');
    expect(await run('keys', 'disable', 'alias/app')).toBe(0);
    expect(await run('keys', 'enable', 'alias/app')).toBe(0);
    expect(await run('keys', 'destroy', 'alias/app', '--window', '7', '-f', 'json')).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ state: 'pending-destruction', operation: 'schedule-destruction' });
    expect(await run('keys', 'cancel-destroy', 'alias/app')).toBe(0);
    expect(out).toContain('state:   disabled');

    expect(await run('audit', 'list')).toBe(0);
    for (const op of ['create', 'rotate', 'disable', 'enable', 'schedule-destruction', 'cancel-destruction']) expect(out).toContain(op);
    expect(out).toContain('replayed');
    expect(await run('audit', 'verify')).toBe(0);
    expect(out).toContain('Audit log intact: 7 records');
    expect(await run('audit', 'export')).toBe(0);
    expect(out.trimEnd().split('\n')).toHaveLength(7);

    for (const text of all) expect(text).not.toContain(passphrase);
    expect(statSync(join(cwd, '.keywarden', 'keystore.db')).mode & 0o777).toBe(0o600);
    // The local keystore holds its own audit log (one transaction per operation and record).
    expect(existsSync(join(cwd, '.keywarden', 'audit.db'))).toBe(false);
    expect(readFileSync(join(cwd, '.keywarden', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });

  it('audit verify exits 1 and names the first tampered record; export --file verifies too', async () => {
    await kw('keys', 'create', '--spec', 'AES_256', '--alias', 'alias/a');
    await kw('keys', 'rotate', 'alias/a');
    await kw('keys', 'disable', 'alias/a');
    expect(await kw('audit', 'export', '-o', 'audit.jsonl')).toBe(0);
    expect(await kw('audit', 'verify', '--file', 'audit.jsonl')).toBe(0);
    const lines = readFileSync(join(cwd, 'audit.jsonl'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(cwd, 'swapped.jsonl'), [lines[0], lines[2], lines[1]].join('\n'));
    expect(await kw('audit', 'verify', '--file', 'swapped.jsonl')).toBe(1);
    expect(out).toContain('BROKEN at record 2 (reordered)');

    const db = new Database(join(cwd, '.keywarden', 'keystore.db'));
    db.exec("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET body = json_set(body, '$.actor', 'mallory') WHERE seq = 2");
    db.close();
    expect(await kw('audit', 'verify', '-f', 'json')).toBe(1);
    expect(JSON.parse(out)).toMatchObject({ ok: false, firstBad: { seq: 2, problem: 'edited' } });
  });

  it('reads backend: from the policy file, lets flags and env override it, and reports all problems at once', async () => {
    mkdirSync(join(cwd, '.github'));
    writeFileSync(join(cwd, '.github', 'keywarden.yml'), 'version: 1\nbackend: { kind: aws-kms }\n');
    expect(await kw('keys', 'list')).toBe(2);
    expect(err).toContain('aws-kms needs a region');
    // Flags win over the file.
    expect(await kw('keys', 'create', '--spec', 'AES_256', '--backend', 'local', '--keystore', 'custom/ks.db')).toBe(0);
    expect(existsSync(join(cwd, 'custom', 'ks.db'))).toBe(true);

    env.KEYWARDEN_BACKEND = 'pkcs11';
    expect(await kw('keys', 'list')).toBe(2);
    expect(err).toMatch(/pkcs11 needs a module.*needs a token label.*KEYWARDEN_PKCS11_PIN/);
    expect(err).toContain('[KW_CONFIG_INVALID]');
    delete env.KEYWARDEN_BACKEND;
  });

  it('refuses machine settings and secrets in a committed policy: a repository cannot pick the module, endpoint, keystore or PIN', async () => {
    mkdirSync(join(cwd, '.github'));
    for (const block of ['{ kind: pkcs11, library: /tmp/evil.so }', '{ kind: aws-kms, region: eu-west-1, endpoint: "https://attacker.example" }', '{ kind: local, keystore: /etc/x.db }', '{ kind: pkcs11, pin: "1234" }']) {
      writeFileSync(join(cwd, '.github', 'keywarden.yml'), `version: 1\nbackend: ${block}\n`);
      expect(await kw('keys', 'list')).toBe(2);
      expect(err).toMatch(/\.github\/keywarden\.yml:2:\d+/);
      expect(err).toContain('KW_POLICY');
      expect(existsSync('/tmp/evil.so.loaded')).toBe(false);
    }
  });

  it('maps errors to exit codes: missing key 2, locked keystore 2, bad spec 2', async () => {
    expect(await kw('keys', 'describe', 'alias/nope')).toBe(2);
    expect(err).toContain('[KW_KEY_NOT_FOUND]');
    expect(await kw('keys', 'create', '--spec', 'AES_999')).toBe(2);
    env.KEYWARDEN_LOCAL_PASSPHRASE = 'wrong';
    expect(await kw('keys', 'list')).toBe(2);
    expect(err).toContain('[KW_KEYSTORE_LOCKED]');
    expect(err).not.toContain('wrong');
  });
});

describe.skipIf(motoSkipReason !== undefined)(`keywarden keys against aws-kms (moto)${motoSkipReason ? ` (skipped: ${motoSkipReason})` : ''}`, () => {
  let moto: MotoServer;
  const saved = { ...process.env };
  beforeAll(async () => {
    moto = await startMoto();
    // The SDK's default credential chain reads the process environment.
    process.env.AWS_ACCESS_KEY_ID = moto.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = moto.credentials.secretAccessKey;
  });
  afterAll(async () => {
    process.env.AWS_ACCESS_KEY_ID = saved.AWS_ACCESS_KEY_ID;
    process.env.AWS_SECRET_ACCESS_KEY = saved.AWS_SECRET_ACCESS_KEY;
    if (saved.AWS_ACCESS_KEY_ID === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    if (saved.AWS_SECRET_ACCESS_KEY === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    await moto?.stop();
  });

  it('rotates an asymmetric key by replacement and says so', async () => {
    const flags = ['--backend', 'aws-kms', '--region', moto.region, '--endpoint', moto.endpoint];
    expect(await kw('keys', 'create', ...flags, '--spec', 'ECC_NIST_P256', '--alias', 'alias/signing', '-f', 'json')).toBe(0);
    const { keyId } = JSON.parse(out) as { keyId: string };
    expect(await kw('keys', 'rotate', ...flags, 'alias/signing')).toBe(0);
    expect(out).toContain('cannot rotate this key in place, so it was replaced');
    expect(out).toContain(`old key: ${keyId}`);
    expect(await kw('keys', 'describe', ...flags, 'alias/signing', '-f', 'json')).toBe(0);
    expect((JSON.parse(out) as { id: string }).id).not.toBe(keyId);
    expect(await kw('audit', 'list', ...flags.slice(0, 2), '--operation', 'move-alias', '-f', 'json')).toBe(0);
    const records = (JSON.parse(out) as { records: { outcome: string }[] }).records;
    expect(records.map((r) => r.outcome)).toEqual(['intent', 'succeeded']);
    expect(await kw('audit', 'verify', ...flags.slice(0, 2))).toBe(0);
    expect(out).toContain('NOT verified');
  });
});

describe.skipIf(softHsmSkipReason !== undefined)(`keywarden keys against pkcs11 (SoftHSM2)${softHsmSkipReason ? ` (skipped: ${softHsmSkipReason})` : ''}`, () => {
  let token: SoftHsmToken;
  beforeAll(() => {
    token = createSoftHsmToken('kw-cli');
  });
  afterAll(() => token?.cleanup());

  it('takes the module and token from the environment and the PIN only from there', async () => {
    env.KEYWARDEN_BACKEND = 'pkcs11';
    env.KEYWARDEN_PKCS11_LIBRARY = token.lib;
    env.KEYWARDEN_PKCS11_TOKEN = token.label;
    env.KEYWARDEN_PKCS11_PIN = token.pin;
    expect(await kw('keys', 'create', '--spec', 'ECC_NIST_P256', '--alias', 'signing')).toBe(0);
    expect(await kw('keys', 'rotate', 'signing', '-f', 'json')).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ mode: 'in-place', version: 2 });
    expect(await kw('keys', 'disable', 'signing')).toBe(0);
    expect(await kw('keys', 'describe', 'signing', '-f', 'json')).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ backend: 'pkcs11', state: 'disabled', currentVersion: 2, aliases: ['signing'] });
    expect(await kw('keys', 'destroy', 'signing', '--window', '1')).toBe(0);
    expect(await kw('keys', 'purge-due')).toBe(0);
    expect(out).toContain('Nothing is due.');
    expect(await kw('audit', 'verify')).toBe(0);
  });
});
