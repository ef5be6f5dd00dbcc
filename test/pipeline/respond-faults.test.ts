/**
 * `keywarden respond` when things go wrong, on real git repositories with the embedded local
 * keystore: a run SIGKILLed between revoke and rotate and run again, a dirty work tree, one secret
 * in 30 files, a secret in binary files, a TypeScript file that does not parse, and a keystore
 * that cannot be opened; and, against moto, an AWS endpoint that throttles or is down. In every case the raw secret reaches no output, no state file, no commit
 * message, no branch name and no tree of the remediation branch (except files the patch reports
 * it could not edit).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../helpers/git-repo.js';
import { awsConfigFile, awsPolicy, createLeakableAccessKey, useMotoCredentials } from '../helpers/respond-aws.js';
import { auditRecords, createHarness, expectNoCanary, issueLocalToken, remediationBranches, type Harness, describeKey, localHarnesses } from '../helpers/respond-harness.js';
import { freePort, motoSkipReason, startMoto, type MotoServer } from '../setup/moto.js';

const POLICY = `version: 1
name: faults
backend: { kind: local }
secrets:
  on-leak:
    - when: { type: keywarden-key }
      do: [revoke, rotate, open-pr]
      severity: critical
    - do: [open-pr]
`;

const { localHarness, track } = localHarnesses(POLICY);

const config = (token: string): string => `export const config = {\n  region: 'eu-west-1',\n  signingKey: '${token}',\n};\n`;

describe('respond: SIGKILL between revoke and rotate', () => {
  it('a second run replays the revoke, rotates once and patches', async () => {
    const h = localHarness('kill');
    const token = await issueLocalToken(h, 'payments-signing');
    h.write('src/config.ts', config(token));
    h.commit('settings');

    const killed = await h.spawnCli(['respond', '.', '--git', 'HEAD~1..HEAD', '--format', 'json'], { KEYWARDEN_TEST_FAULTS: '1', KEYWARDEN_TEST_KILL_AFTER: 'revoke' });
    expect(killed.signal, `exit ${killed.code}: ${killed.err}`).toBe('SIGKILL');
    // Killed after the revocation, before the rotation and the patch.
    let key = await describeKey(h, 'payments-signing');
    expect(key.currentVersion).toBe(1);
    expect(key.versions.find((v) => v.version === 1)!.state).toBe('revoked');
    expect(remediationBranches(h.repo)).toEqual([]);

    const again = await h.respond('--git', 'HEAD~1..HEAD');
    expect(again.code, again.err).toBe(1);
    expect(again.report.steps.map((s) => `${s.step.kind}:${s.status}:${s.replayed ? 'replayed' : 'new'}`)).toEqual(['revoke:done:replayed', 'rotate:done:new', 'patch:done:new']);
    expect(again.report.steps[0]!.detail).toContain('done by an earlier run');
    key = await describeKey(h, 'payments-signing');
    expect(key.currentVersion).toBe(2);

    // A third run does nothing new.
    const third = await h.respond('--git', 'HEAD~1..HEAD');
    expect(third.report.steps.every((s) => s.status === 'done' && s.replayed)).toBe(true);
    expect((await describeKey(h, 'payments-signing')).currentVersion).toBe(2);

    const records = await auditRecords(h);
    expect(records.filter((r) => r.operation === 'rotate')).toHaveLength(1);
    expect(records.filter((r) => r.operation === 'revoke-version')).toHaveLength(1);
    const verify = await h.kw('audit', 'verify');
    expect(verify.code, verify.out + verify.err).toBe(0);
    expect(remediationBranches(h.repo)).toHaveLength(1);
    expectNoCanary(h, token);
  }, 90_000);
});

describe('respond: a dirty work tree', () => {
  it('leaves the work tree, the index and HEAD exactly as they were', async () => {
    const h = localHarness('dirty');
    const token = await issueLocalToken(h, 'dirty-signing');
    h.write('src/config.ts', config(token));
    h.write('src/other.ts', 'export const other = 1;\n');
    h.commit('settings');
    // A modified tracked file, a staged change and an untracked file.
    h.write('README.md', 'hello\nwork in progress\n');
    h.write('src/other.ts', 'export const other = 2;\n');
    git(h.repo, 'add', 'src/other.ts');
    h.write('notes/todo.txt', 'untracked notes\n');
    const files = ['README.md', 'src/other.ts', 'notes/todo.txt', 'src/config.ts'];
    const before = {
      head: git(h.repo, 'rev-parse', 'HEAD'),
      branch: git(h.repo, 'symbolic-ref', 'HEAD'),
      status: git(h.repo, 'status', '--porcelain', '--untracked-files=all'),
      index: git(h.repo, 'ls-files', '-s'),
      content: files.map((f) => readFileSync(path.join(h.repo, f))),
    };

    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.code, r.err).toBe(1);
    expect(r.report.steps.map((s) => `${s.step.kind}:${s.status}`)).toEqual(['revoke:done', 'rotate:done', 'patch:done']);

    expect(git(h.repo, 'rev-parse', 'HEAD')).toBe(before.head);
    expect(git(h.repo, 'symbolic-ref', 'HEAD')).toBe(before.branch);
    expect(git(h.repo, 'status', '--porcelain', '--untracked-files=all')).toBe(before.status);
    expect(git(h.repo, 'ls-files', '-s')).toBe(before.index);
    files.forEach((f, i) => expect(readFileSync(path.join(h.repo, f)).equals(before.content[i]!), f).toBe(true));
    // The branch is made from the commit, not from the work tree's edits.
    const branch = r.report.patch!.branch;
    expect(git(h.repo, 'show', `${branch}:README.md`)).toBe('hello\n');
    expect(git(h.repo, 'show', `${branch}:src/other.ts`)).toBe('export const other = 1;\n');
    expectNoCanary(h, token);
  }, 90_000);
});

describe('respond: one secret in 30 files', () => {
  it('revokes once, rotates once, and patches all 30 files in one commit', async () => {
    const h = localHarness('thirty');
    const token = await issueLocalToken(h, 'shared-signing');
    const names = Array.from({ length: 30 }, (_, i) => `src/mod${String(i).padStart(2, '0')}.ts`);
    for (const [i, n] of names.entries()) h.write(n, `// module ${i}\nexport const key${i} = '${token}';\n`);
    h.commit('copy-paste');

    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.code, r.err).toBe(1);
    expect(new Set(r.report.findings.map((f) => f.finding.file)).size).toBe(30);
    expect(new Set(r.report.findings.map((f) => f.finding.fingerprint)).size).toBe(1);
    expect(r.report.steps.map((s) => `${s.step.kind}:${s.status}`)).toEqual(['revoke:done', 'rotate:done', 'patch:done']);
    const patch = r.report.patch!;
    const edited = patch.files.filter((f) => f.action === 'edit').map((f) => f.path);
    expect(edited.filter((p) => p.startsWith('src/')).sort()).toEqual(names);
    // One secret, one variable for all 30 sites.
    expect(patch.envVars).toHaveLength(1);
    expect(git(h.repo, 'rev-list', '--count', `main..${patch.branch}`).trim()).toBe('1');
    expect((await describeKey(h, 'shared-signing')).currentVersion).toBe(2);
    expect((await auditRecords(h)).filter((x) => x.operation === 'rotate')).toHaveLength(1);
    expectNoCanary(h, token);
  }, 90_000);
});

describe('respond: the secret in binary files', () => {
  it('revokes and rotates, reports the binary files it could not edit, removes a binary key store, and does not crash', async () => {
    const h = localHarness('binary');
    const token = await issueLocalToken(h, 'binary-signing');
    const nul = Buffer.from([0, 0, 1, 2, 0]);
    const invalidUtf8 = Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]);
    // Not UTF-8 at all; UTF-8 but with NUL bytes; a key store (binary, not UTF-8); and the config.
    h.write('assets/blob.bin', Buffer.concat([invalidUtf8, nul, Buffer.from(`signing=${token}`), nul, invalidUtf8]));
    h.write('assets/data.dat', Buffer.concat([nul, Buffer.from(`key: ${token}\n`), nul]));
    h.write('certs/client.p12', Buffer.concat([Buffer.from([0x30, 0x82, 0xff, 0x01]), nul, Buffer.from(`friendlyName=${token}`), nul, invalidUtf8]));
    h.write('src/config.ts', config(token));
    h.commit('binaries');

    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.code, r.err).toBe(1);
    const files = new Set(r.report.findings.map((f) => f.finding.file));
    expect([...files].sort()).toEqual(['assets/blob.bin', 'assets/data.dat', 'certs/client.p12', 'src/config.ts']);
    expect(r.report.steps.map((s) => `${s.step.kind}:${s.status}`)).toEqual(['revoke:done', 'rotate:done', 'patch:done']);
    const patch = r.report.patch!;
    expect(patch.files).toEqual(expect.arrayContaining([{ path: 'src/config.ts', action: 'edit', method: 'ts-morph' }]));
    // The binaries are named, with a code, and left as they were.
    for (const f of ['assets/blob.bin', 'assets/data.dat']) {
      expect(patch.notes.find((n) => n.startsWith(`${f}:`)) ?? '', f).toContain('KW_PATCH_UNSUPPORTED');
      expect(patch.files.map((x) => x.path)).not.toContain(f);
      expect(git(h.repo, 'show', `${patch.branch}:${f}`)).toContain(token);
    }
    expect(patch.files).toEqual(expect.arrayContaining([{ path: 'certs/client.p12', action: 'remove' }]));
    expect(readFileSync(path.join(h.repo, 'assets/blob.bin')).includes(Buffer.from(token))).toBe(true);
    expectNoCanary(h, token, { allowInTree: ['assets/blob.bin', 'assets/data.dat'] });
  }, 90_000);

  it('removes a binary key store (.p12) that holds the secret and git-ignores it', async () => {
    const h = localHarness('p12');
    const token = await issueLocalToken(h, 'p12-signing');
    const nul = Buffer.from([0, 0, 1, 2, 0]);
    h.write('certs/client.p12', Buffer.concat([Buffer.from([0x30, 0x82, 0xff, 0x01]), nul, Buffer.from(`friendlyName=${token}`), nul, Buffer.from([0xff, 0xfe])]));
    h.commit('key store');

    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.code, r.err).toBe(1);
    // The token, and the file itself flagged as a PKCS#12 keystore (it starts with a DER SEQUENCE).
    expect(r.report.findings.map((f) => `${f.finding.file}:${f.finding.ruleId}`).sort()).toEqual(['certs/client.p12:keywarden-local-key', 'certs/client.p12:private-key-keystore']);
    expect(r.report.steps.map((s) => `${s.step.kind}:${s.status}`)).toEqual(['revoke:done', 'rotate:done', 'patch:done']);
    // patch-file.ts: "A key store (.p12, .jks) is binary and is removed all the same".
    expect(r.report.patch?.files).toEqual(expect.arrayContaining([{ path: 'certs/client.p12', action: 'remove' }]));
    const branch = r.report.patch!.branch;
    expect(git(h.repo, 'ls-tree', '-r', '--name-only', branch, '--', 'certs')).toBe('');
    expect(git(h.repo, 'show', `${branch}:.gitignore`)).toMatch(/^\/?certs\/client\.p12$/m);
    expectNoCanary(h, token);
  }, 90_000);
});

describe('respond: a TypeScript file that does not parse', () => {
  it('falls back to a text edit and says so (KW_PATCH_UNPARSEABLE)', async () => {
    const h = localHarness('unparseable');
    const token = await issueLocalToken(h, 'broken-signing');
    h.write('src/broken.ts', `export const config = {\n  signingKey: '${token}',\n  region: 'eu-west-1'\n  retries: (((,\n};\n`);
    h.commit('broken');

    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.code, r.err).toBe(1);
    expect(r.report.steps.map((s) => `${s.step.kind}:${s.status}`)).toEqual(['revoke:done', 'rotate:done', 'patch:done']);
    const patch = r.report.patch!;
    expect(patch.files).toEqual(expect.arrayContaining([{ path: 'src/broken.ts', action: 'edit', method: 'text' }]));
    expect(patch.notes.some((n) => n.startsWith('src/broken.ts:') && n.includes('KW_PATCH_UNPARSEABLE'))).toBe(true);
    const patched = git(h.repo, 'show', `${patch.branch}:src/broken.ts`);
    expect(patched).not.toContain(token);
    expect(patched).toContain(`\${${patch.envVars[0]}}`);
    // The rest of the broken file is as it was.
    expect(patched).toContain('retries: (((,');
    expectNoCanary(h, token);
  }, 90_000);
});

describe('respond: the keystore cannot be opened', () => {
  it('still reports, decides and patches; the finding says why it is not revoked; exit 1', async () => {
    const h = localHarness('locked');
    const token = await issueLocalToken(h, 'locked-signing');
    h.write('src/config.ts', config(token));
    h.commit('settings');
    const passphrase = h.env.KEYWARDEN_LOCAL_PASSPHRASE!;
    delete h.env.KEYWARDEN_LOCAL_PASSPHRASE;

    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.code, r.err).toBe(1);
    const f = r.report.findings.find((x) => x.finding.type === 'keywarden-key')!;
    expect(f.actions).toEqual(expect.arrayContaining(['revoke', 'rotate', 'open-pr']));
    expect(f.target.kind).toBe('none');
    expect(f.target.kind === 'none' ? f.target.why : '').toMatch(/key backend is not available.*KW_KEYSTORE_LOCKED/);
    expect(r.report.warnings.map((w) => w.code)).toContain('KW_BACKEND_UNAVAILABLE');
    expect(r.err).toContain('[KW_BACKEND_UNAVAILABLE]');
    // Revoke and rotate are not done, and say why; the patch is.
    const notDone = r.report.notDone.filter((n) => n.fingerprint === f.finding.fingerprint).map((n) => n.action);
    expect(notDone.sort()).toEqual(['revoke', 'rotate']);
    expect(r.report.notDone.every((n) => n.reason.includes('not revocable automatically'))).toBe(true);
    expect(r.report.steps.map((s) => `${s.step.kind}:${s.status}`)).toEqual(['patch:done']);
    expect(git(h.repo, 'show', `${r.report.patch!.branch}:REMEDIATION.md`)).toMatch(/not revocable automatically/);

    // The text report says the same.
    const text = await h.kw('respond', '.', '--git', 'HEAD~1..HEAD');
    expect(text.code).toBe(1);
    expect(text.out).toContain('not revocable automatically: the key backend is not available');

    h.env.KEYWARDEN_LOCAL_PASSPHRASE = passphrase;
    expect((await describeKey(h, 'locked-signing')).currentVersion).toBe(1);
    expectNoCanary(h, token);
  }, 90_000);
});

/** IAM's query-protocol throttling answer, as AWS sends it. */
const THROTTLED = '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>0e2a1f6e-throttle</RequestId></ErrorResponse>';

/** A proxy in front of `target` that answers the first `throttle` requests with a throttling error, then forwards. */
async function throttlingProxy(target: string, throttle: number): Promise<{ endpoint: string; seen: () => number; throttled: () => number; close: () => Promise<void> }> {
  const to = new URL(target);
  let seen = 0;
  let throttled = 0;
  const server: Server = createServer((req, res) => {
    seen++;
    if (throttled < throttle) {
      throttled++;
      req.resume();
      res.writeHead(400, { 'content-type': 'text/xml', 'x-amzn-requestid': '0e2a1f6e-throttle' }).end(THROTTLED);
      return;
    }
    const up = request({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen: () => seen,
    throttled: () => throttled,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe.skipIf(motoSkipReason !== undefined)(`respond: the AWS endpoint throttles or is down (moto)${motoSkipReason ? ` (skipped: ${motoSkipReason})` : ''}`, () => {
  let moto: MotoServer;
  let iam: IAMClient;
  let restoreEnv: () => void;
  beforeAll(async () => {
    moto = await startMoto();
    restoreEnv = useMotoCredentials(moto);
    iam = new IAMClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: moto.credentials });
  }, 120_000);
  afterAll(async () => {
    restoreEnv?.();
    iam?.destroy();
    await moto?.stop();
  });

  async function awsHarness(prefix: string, user: string): Promise<{ h: Harness; leaked: { id: string; secret: string } }> {
    const h = createHarness(prefix, awsPolicy(moto.region), {
      AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey,
      KEYWARDEN_AUDIT_KEY: randomBytes(32).toString('base64'),
    });
    track(h);
    const leaked = await createLeakableAccessKey(iam, user);
    h.write('src/aws.ts', awsConfigFile(leaked.id, leaked.secret));
    h.commit('deploy settings');
    return { h, leaked };
  }
  const keysOf = async (user: string): Promise<Array<{ id: string; status: string }>> =>
    ((await iam.send(new ListAccessKeysCommand({ UserName: user }))).AccessKeyMetadata ?? []).map((k) => ({ id: k.AccessKeyId!, status: k.Status! }));

  it('retries through throttling and succeeds', async () => {
    const { h, leaked } = await awsHarness('throttle', 'ci-throttled');
    const proxy = await throttlingProxy(moto.endpoint, 3);
    try {
      const r = await h.respond('--git', 'HEAD~1..HEAD', '--endpoint', proxy.endpoint);
      expect(r.code, r.err).toBe(1);
      expect(r.report.steps.map((s) => `${s.step.kind}:${s.status}`)).toEqual(['revoke:done', 'rotate:done', 'patch:done']);
      expect(proxy.throttled()).toBe(3);
      expect(proxy.seen()).toBeGreaterThan(3);
    } finally {
      await proxy.close();
    }
    const keys = await keysOf('ci-throttled');
    expect(keys).toHaveLength(2);
    expect(keys.find((k) => k.id === leaked.id)?.status).toBe('Inactive');
    const v = await h.kw('audit', 'verify');
    expect(v.code, v.out + v.err).toBe(0);
    expectNoCanary(h, leaked.secret);
  }, 120_000);

  it('an endpoint that is down: revoke and rotate fail with a stable code, the patch still runs, exit 4, and the report says what failed', async () => {
    const { h, leaked } = await awsHarness('down', 'ci-unreachable');
    const closed = `http://127.0.0.1:${await freePort()}`;
    const r = await h.respond('--git', 'HEAD~1..HEAD', '--endpoint', closed);
    expect(r.code, r.err).toBe(4);
    expect(r.report.steps.map((s) => `${s.step.kind}:${s.status}${s.code ? `:${s.code}` : ''}`)).toEqual([
      'revoke:failed:KW_BACKEND_UNAVAILABLE',
      'rotate:failed:KW_BACKEND_UNAVAILABLE',
      'patch:done',
    ]);
    for (const s of r.report.steps.filter((x) => x.status === 'failed')) expect(s.detail).toMatch(/aws-(iam|sts) could not be reached/);
    // Nothing happened in IAM; the remediation commit says the revocation failed.
    expect(await keysOf('ci-unreachable')).toEqual([{ id: leaked.id, status: 'Active' }]);
    const remediation = git(h.repo, 'show', `${r.report.patch!.branch}:REMEDIATION.md`);
    // (Markdown-escaped in the file.)
    expect(remediation.replace(/\\/g, '')).toContain('revoke: failed (KW_BACKEND_UNAVAILABLE)');
    expect(git(h.repo, 'show', `${r.report.patch!.branch}:src/aws.ts`)).not.toContain(leaked.secret);

    // The text report names the failed steps and their code.
    const text = await h.kw('respond', '.', '--git', 'HEAD~1..HEAD', '--endpoint', closed);
    expect(text.code).toBe(4);
    expect(text.out).toMatch(/✗ deactivate aws-iam credential [A-Z0-9]+\n\s+failed: .*\[KW_BACKEND_UNAVAILABLE\]/);
    expect(text.out).toMatch(/✗ rotate aws-iam credential/);
    // The failed intents are in the audit log, which verifies.
    const records = await auditRecords(h);
    expect(records.filter((x) => x.outcome === 'failed').length).toBeGreaterThanOrEqual(2);
    const v = await h.kw('audit', 'verify');
    expect(v.code, v.out + v.err).toBe(0);

    // Once the endpoint is back, the failed steps are done and the patch is replayed.
    const back = await h.respond('--git', 'HEAD~1..HEAD', '--endpoint', moto.endpoint);
    expect(back.code, back.err).toBe(1);
    expect(back.report.steps.map((s) => `${s.step.kind}:${s.status}:${String(Boolean(s.replayed))}`)).toEqual(['revoke:done:false', 'rotate:done:false', 'patch:done:true']);
    expect((await keysOf('ci-unreachable')).find((k) => k.id === leaked.id)?.status).toBe('Inactive');
    expectNoCanary(h, leaked.secret);
  }, 120_000);
});
