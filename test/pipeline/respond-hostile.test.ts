/**
 * `keywarden respond` against a hostile repository: decoys that try to make it revoke a key it
 * must not, names and values that try to forge lines of REMEDIATION.md, the commit message, the
 * text report or `.gitignore`, a cloned `.git/` that tries to run a command, links that try to
 * make it write elsewhere, and files whose patch errors might quote the secret. Each test asserts
 * the safe behaviour; `it.skip` with `// VULN:` marks one that fails today.
 */
import { generateKeyPairSync, randomBytes, createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { matchFindings } from '../../src/pipeline/context.js';
import { planResponse } from '../../src/pipeline/plan.js';
import { scanText } from '../../src/scan/scan-text.js';
import { encodeKeywardenToken, parseKeywardenToken } from '../../src/scan/detectors/keywarden.js';
import type { Decision } from '../../src/model/decision.js';
import { git } from '../helpers/git-repo.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';
import { describeKey, expectNoCanary, issueLocalToken, localHarnesses, remediationBranches, type Harness } from '../helpers/respond-harness.js';

const POLICY = `version: 1
name: hostile
backend: { kind: local }
secrets:
  on-leak:
    - when: { type: keywarden-key }
      do: [revoke, rotate, open-pr]
      severity: critical
    - when: { type: private-key }
      do: [revoke, rotate, open-pr]
      severity: critical
    - do: [open-pr]
`;

const { localHarness } = localHarnesses(POLICY);

/** A managed EC key and its public key as SPKI DER (public: it is what verifiers are given). */
async function managedEcKey(h: Harness, alias: string): Promise<Buffer> {
  const created = await h.kw('keys', 'create', '--spec', 'ECC_NIST_P256', '--alias', alias, '--exportable', '--reason', 'hostile');
  expect(created.code, created.err).toBe(0);
  const exported = await h.kw('keys', 'export', alias, '--format', 'pem');
  expect(exported.code, exported.err).toBe(0);
  h.outputs.splice(h.outputs.length - 2, 1); // the export's stdout is the one place the material is meant to appear
  return Buffer.from(createPublicKey(exported.out).export({ type: 'spki', format: 'der' }));
}

function armour(label: string, der: Buffer): string {
  return `-----BEGIN ${label}-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
}

function sshString(b: Buffer | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

describe('respond: decoys must not revoke a key', () => {
  it('a fake kwk_ token naming the real key id and version (other material) revokes nothing', async () => {
    const h = localHarness('decoy-token');
    const real = await issueLocalToken(h, 'payments-signing');
    const parts = parseKeywardenToken(real)!;
    const fake = encodeKeywardenToken({ ...parts, material: new Uint8Array(randomBytes(parts.material.length)) });
    h.write('src/config.ts', `export const k = '${fake}';\n`);
    h.commit('decoy');
    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.report.findings.map((f) => f.target.kind)).toEqual(['none']);
    expect(r.report.steps.filter((s) => s.step.kind !== 'patch')).toEqual([]);
    const key = await describeKey(h, 'payments-signing');
    expect(key.currentVersion).toBe(1);
    expect(key.versions[0]!.state).not.toBe('revoked');
    expectNoCanary(h, real);
  }, 90_000);

  // A PEM "private key" carries its public key as a field (SEC1's point, PKCS#1's n, e) that
  // nothing ties to the private part: anyone who knows a managed key's PUBLIC key could embed it
  // beside a random scalar. The identity is `proven` only when the private part signs a challenge
  // the public key verifies (public-key.ts), and only a proven one is matched by public key.
  it('a crafted EC PEM (random scalar, the managed key\'s public point) revokes nothing', async () => {
    const h = localHarness('decoy-pem');
    const spki = await managedEcKey(h, 'release-signing');
    const att = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sec1 = Buffer.from(att.privateKey.export({ type: 'sec1', format: 'der' }));
    const forged = Buffer.concat([sec1.subarray(0, sec1.length - 65), spki.subarray(spki.length - 65)]);
    const pem = armour('EC PRIVATE KEY', forged);
    h.write('deploy/signing.pem', pem);
    h.commit('decoy pem');
    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.report.findings.map((f) => f.target.kind)).toEqual(['none']);
    expect(r.report.steps.filter((s) => s.step.kind !== 'patch')).toEqual([]);
    const key = await describeKey(h, 'release-signing');
    expect(key.versions[0]!.state).not.toBe('revoked');
    expect(key.currentVersion).toBe(1);
  }, 90_000);

  // An OpenSSH (or PuTTY) private key names its public key in a plain header: copied there
  // beside junk, it proves nothing. A header-only identity is never matched by public key.
  it('a crafted openssh-key-v1 header (the managed key\'s public key, junk private part) revokes nothing', async () => {
    const h = localHarness('decoy-ssh');
    const spki = await managedEcKey(h, 'ssh-signing');
    const q = spki.subarray(spki.length - 65);
    const blob = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(q)]);
    const body = Buffer.concat([
      Buffer.from('openssh-key-v1\0', 'latin1'),
      sshString('aes256-ctr'),
      sshString('bcrypt'),
      sshString(Buffer.concat([sshString(randomBytes(16)), Buffer.from([0, 0, 0, 16])])),
      Buffer.from([0, 0, 0, 1]),
      sshString(blob),
      sshString(randomBytes(144)),
    ]);
    h.write('deploy/id_ecdsa', armour('OPENSSH PRIVATE KEY', body));
    h.commit('decoy ssh');
    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.report.findings.length).toBe(1);
    expect(r.report.steps.filter((s) => s.step.kind !== 'patch')).toEqual([]);
    const key = await describeKey(h, 'ssh-signing');
    expect(key.versions[0]!.state).not.toBe('revoked');
  }, 90_000);

  const awsDecision = (fps: string[]): Decision =>
    ({
      violations: [],
      actions: fps.map((fp) => ({ type: 'revoke', rule: 'r', severity: 'critical', policy: { path: 'p' }, subject: { kind: 'finding', fingerprint: fp } })),
    }) as unknown as Decision;

  it('an AWS access key ID alone (public) is never acted on', async () => {
    const id = secretGenerators['aws-access-key-id']!(createRng('hostile-id')).secret;
    const findings = scanText(`aws_access_key_id = ${id}\n`, { file: 'x.ini' });
    const targets = await matchFindings(findings, {});
    const plan = planResponse(awsDecision(findings.map((f) => f.fingerprint)), findings, targets, { revokers: new Set(['aws-iam']), canPatch: true });
    expect(plan.steps).toEqual([]);
  });

  // An AWS access key ID is public and any 40 characters next to it make a pair finding: the
  // pair is checked against STS (signed with the pair itself) before anything is deactivated;
  // see test/pipeline/aws-pair-check.test.ts for the refusal and for the STS answers.
});

describe('respond: hostile text in the outputs', () => {
  const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

  it('a secret whose preview holds ESC, C1 CSI or a bidi override cannot drive the terminal through the text report', async () => {
    const h = localHarness('escapes');
    // generic-secret takes any non-space byte but quotes, brackets and a few more: ESC c is a full terminal reset,
    // U+009B is the 8-bit CSI, U+202E reorders what follows.
    h.write('src/a.ts', `export const password = "\u001bcQ7Kp9Xw3Lm5Rt8Vb2Zx";\n`);
    h.write('src/b.ts', `export const password = "\u009b2JQ7Kp9Xw3Lm5Rt8Vb4Ny";\n`);
    h.write('src/c.ts', `export const password = "\u202eQ7Kp9Xw3Lm5Rt8Vb6Hj";\n`);
    h.commit('escapes');
    const r = await h.kw('respond', '.', '--git', 'HEAD~1..HEAD');
    expect(r.out).toContain('keywarden respond:');
    expect(r.out.split('\n').filter((l) => l.includes('generic-secret')).length).toBeGreaterThanOrEqual(3);
    expect(UNSAFE.test(r.out), JSON.stringify(r.out)).toBe(false);
    expect(UNSAFE.test(r.err), JSON.stringify(r.err)).toBe(false);
    const branch = remediationBranches(h.repo)[0]!;
    const md = git(h.repo, 'show', `${branch}:REMEDIATION.md`);
    expect(UNSAFE.test(md), JSON.stringify(md)).toBe(false);
    const msg = git(h.repo, 'log', '-1', '--format=%B', branch);
    expect(UNSAFE.test(msg), JSON.stringify(msg)).toBe(false);
  }, 90_000);

  it('file names with newlines, HTML, backticks and bidi overrides forge nothing in REMEDIATION.md, the commit message, .gitignore or the report', async () => {
    const h = localHarness('names');
    const token = await issueLocalToken(h, 'names-signing');
    // A folder name with line breaks and HTML, and an `.env` file in it (removed and git-ignored).
    const envName = "cfg/x\nSigned-off-by: Mallory <m@x>\n<img src=x onerror=alert(1)>'$(touch pwned)/.env";
    const tsName = 'src/```\n## Forged heading\n[click](http://evil)\u202egpj.ts';
    h.write(envName, `TOKEN=${token}\n`);
    h.write(tsName, `export const k = '${token}';\n`);
    h.write('.gitignore', 'node_modules\n');
    h.commit('names');
    const r = await h.kw('respond', '.', '--git', 'HEAD~1..HEAD');
    expect(r.code, r.err).toBe(1);
    expect(UNSAFE.test(r.out.replace(/\n/g, '')), JSON.stringify(r.out)).toBe(false);
    expect(r.out).not.toMatch(/^## Forged/m);
    const branch = remediationBranches(h.repo)[0]!;
    const msg = git(h.repo, 'log', '-1', '--format=%B', branch);
    expect(msg).not.toMatch(/^Signed-off-by: Mallory/m);
    expect(msg).not.toMatch(/^## Forged/m);
    expect(msg).not.toMatch(/^<img/m);
    expect(UNSAFE.test(msg.replace(/\n/g, '')), JSON.stringify(msg)).toBe(false);
    const trailers = git(h.repo, 'log', '-1', '--format=%(trailers)', branch);
    expect(trailers.trim()).toBe('');
    const md = git(h.repo, 'show', `${branch}:REMEDIATION.md`);
    expect(md).not.toMatch(/^## Forged/m);
    expect(md).not.toMatch(/^<img/m);
    expect(md).not.toMatch(/^\[click\]/m);
    expect(UNSAFE.test(md.replace(/\n/g, '')), JSON.stringify(md)).toBe(false);
    // Every line with a hostile name keeps it inside a code span, or has its markup escaped.
    for (const line of md.split('\n').filter((l) => l.includes('onerror') || l.includes('evil'))) {
      if (!line.includes('`') && !line.startsWith('git filter-repo')) expect(line, line).not.toMatch(/(?<!\\)[<[]/);
    }
    const gi = git(h.repo, 'show', `${branch}:.gitignore`);
    expect(gi.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual(['node_modules', '/cfg/x?Signed-off-by: Mallory <m@x>?<img src=x onerror=alert(1)>\'$(touch pwned)/.env']);
    // The filter-repo command quotes the path for the shell: the `'` cannot end the quoting.
    const cmd = md.split('\n').find((l) => l.startsWith('git filter-repo'))!;
    expect(cmd).toContain(`--path 'cfg/x\\u{a}Signed-off-by: Mallory <m@x>\\u{a}<img src=x onerror=alert(1)>'\\''$(touch pwned)/.env'`);
    expectNoCanary(h, token);
  }, 90_000);
});

describe('respond: the repository cannot run a command, write elsewhere or touch the work tree', () => {
  it('hooks, fsmonitor, filters and links in a cloned .git/ do nothing; REMEDIATION.md and .gitignore as symlinks write nowhere', async () => {
    const h = localHarness('clone');
    const token = await issueLocalToken(h, 'clone-signing');
    const marker = path.join(h.dir, 'ran');
    const outside = path.join(h.dir, 'outside.md');
    writeFileSync(outside, 'outside\n');
    const script = `#!/bin/sh\necho "$0" >> '${marker}'\ncat >/dev/null\n`;
    const hooks = path.join(h.repo, '.git', 'hooks');
    mkdirSync(hooks, { recursive: true });
    for (const n of ['reference-transaction', 'post-index-change', 'pre-commit', 'post-commit', 'post-checkout', 'fsmonitor-watchman']) {
      writeFileSync(path.join(hooks, n), script);
      chmodSync(path.join(hooks, n), 0o755);
    }
    const prog = path.join(h.dir, 'prog.sh');
    writeFileSync(prog, script);
    chmodSync(prog, 0o755);
    git(h.repo, 'config', 'core.fsmonitor', prog);
    git(h.repo, 'config', 'filter.kw.clean', prog);
    git(h.repo, 'config', 'filter.kw.smudge', prog);
    git(h.repo, 'config', 'filter.kw.process', prog);
    git(h.repo, 'config', 'diff.kw.textconv', prog);
    git(h.repo, 'config', 'core.sshCommand', prog);
    git(h.repo, 'config', 'gpg.program', prog);
    git(h.repo, 'config', 'commit.gpgSign', 'true');
    h.write('.gitattributes', '* filter=kw diff=kw\n');
    h.write('src/config.ts', `export const k = '${token}';\n`);
    h.write('.env', `TOKEN=${token}\n`);
    symlinkSync(outside, path.join(h.repo, 'REMEDIATION.md'));
    symlinkSync(outside, path.join(h.repo, '.gitignore'));
    // Commit with the test's own git, filters off.
    const off = ['-c', 'filter.kw.clean=cat', '-c', 'filter.kw.smudge=cat', '-c', 'filter.kw.process=', '-c', 'core.fsmonitor=false', '-c', 'commit.gpgSign=false'];
    git(h.repo, ...off, 'add', '-A');
    git(h.repo, ...off, 'commit', '-qm', 'leak');
    if (existsSync(marker)) writeFileSync(marker, '');
    const before = {
      head: git(h.repo, '-c', 'core.fsmonitor=false', 'rev-parse', 'HEAD'),
      ref: git(h.repo, 'symbolic-ref', 'HEAD'),
      index: readFileSync(path.join(h.repo, '.git', 'index')),
    };
    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.code, r.err).toBe(1);
    expect(r.report.steps.map((s) => `${s.step.kind}:${s.status}`)).toEqual(['revoke:done', 'rotate:done', 'patch:done']);
    expect(existsSync(marker) ? readFileSync(marker, 'utf8') : '').toBe('');
    expect(readFileSync(outside, 'utf8')).toBe('outside\n');
    expect(git(h.repo, '-c', 'core.fsmonitor=false', 'rev-parse', 'HEAD')).toBe(before.head);
    expect(git(h.repo, 'symbolic-ref', 'HEAD')).toBe(before.ref);
    expect(readFileSync(path.join(h.repo, '.git', 'index')).equals(before.index)).toBe(true);
    const branch = r.report.patch!.branch;
    const tree = git(h.repo, 'ls-tree', branch, '--', 'REMEDIATION.md', '.gitignore');
    expect(tree).toMatch(/^100644 blob \S+\t\.gitignore$/m);
    expect(tree).toMatch(/^100644 blob \S+\tREMEDIATION\.md$/m);
    expectNoCanary(h, token);
  }, 120_000);

  it('a branch the repository already has under the remediation name is never moved', async () => {
    const h = localHarness('branch');
    const token = await issueLocalToken(h, 'branch-signing');
    h.write('src/config.ts', `export const k = '${token}';\n`);
    const leak = h.commit('leak');
    const fp = scanText(`'${token}'`, { file: 'x.ts' })[0]!.fingerprint;
    // The attacker knows the secret, so knows the branch name: it pre-creates it at the leak commit.
    const name = `keywarden/remediate-${fp.replace(/^sha256:/, '').slice(0, 12)}`;
    git(h.repo, 'branch', name, leak);
    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.code, r.err).toBe(1);
    expect(git(h.repo, 'rev-parse', name).trim()).toBe(leak);
    expect(r.report.patch!.branch).toBe(`${name}-2`);
    git(h.repo, 'branch', '-D', name); // the attacker's own branch holds the leak, as the leak commit does
    expectNoCanary(h, token);
  }, 90_000);
});

describe('respond: the secret reaches no output through a patcher\'s error', () => {
  it('YAML, JSON and tfvars files that do not parse', async () => {
    const h = localHarness('broken');
    const token = await issueLocalToken(h, 'broken-signing');
    h.write('conf/a.yml', `key: '${token}'\n  bad: [unclosed\n\t- x: ${token}\n`);
    // The first copy is outside any JSON string (cannot be patched), the second is patched.
    h.write('conf/b.json', `{ oops ${token}, "key": "${token}" }\n`);
    h.write('conf/c.tfvars', `key = "${token}"\nbad = {\n`);
    h.write('conf/d.ts', `export const k = '${token}' +;\nclass {\n`);
    h.write('conf/e.json', `{ "${token}": "${token}" }\n`);
    h.commit('broken');
    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.report.steps.find((s) => s.step.kind === 'patch')?.status).toBeDefined();
    // Env var names derive from the code: never from the secret itself.
    for (const v of r.report.patch?.envVars ?? []) expect(v, v).not.toContain(token.toUpperCase().replace(/[^A-Z0-9]+/g, '_').slice(0, 16));
    const branch = r.report.patch!.branch;
    // A file the patch edited but that still holds a copy is not reported as "replaced".
    const still = ['conf/a.yml', 'conf/b.json', 'conf/c.tfvars', 'conf/d.ts', 'conf/e.json'].filter((f) => git(h.repo, 'show', `${branch}:${f}`).includes(token));
    expect(still).toContain('conf/b.json');
    const md = git(h.repo, 'show', `${branch}:REMEDIATION.md`);
    expect(md).not.toContain('In the file: replaced');
    expectNoCanary(h, token, { allowInTree: still });
  }, 120_000);
});

describe('respond: a file the policy input cannot take', () => {
  it('an OpenSSH private key next to a leaked token does not make the whole run fail', async () => {
    const h = localHarness('openssh');
    const token = await issueLocalToken(h, 'openssh-signing');
    const att = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const spki = Buffer.from(att.publicKey.export({ type: 'spki', format: 'der' }));
    const blob = Buffer.concat([sshString('ecdsa-sha2-nistp256'), sshString('nistp256'), sshString(spki.subarray(spki.length - 65))]);
    const body = Buffer.concat([Buffer.from('openssh-key-v1\0', 'latin1'), sshString('none'), sshString('none'), sshString(''), Buffer.from([0, 0, 0, 1]), sshString(blob), sshString(randomBytes(96))]);
    h.write('deploy/id_ecdsa', armour('OPENSSH PRIVATE KEY', body));
    h.write('src/config.ts', `export const k = '${token}';\n`);
    h.commit('two leaks');
    const r = await h.respond('--git', 'HEAD~1..HEAD');
    expect(r.code, r.err).toBe(1);
    expect(r.report.steps.filter((s) => s.step.kind === 'revoke').map((s) => s.status)).toEqual(['done']);
    expect((await describeKey(h, 'openssh-signing')).currentVersion).toBe(2);
    expectNoCanary(h, token);
  }, 90_000);
});
