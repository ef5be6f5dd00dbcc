/**
 * `keywarden respond` end to end against a SoftHSM2 token: a key pair made in software (as an
 * imported key is: somewhere else, where a copy can leak) backs a Keywarden key on the token; its
 * private key PEM is committed; respond matches the PEM to the key by its public key, disables the
 * key, replaces it (the label moves to the replacement: rotation by replacement), removes the PEM
 * file on the remediation branch and git-ignores it, and the audit log verifies.
 *
 * The PKCS#11 backend has no import verb (keys are generated non-extractable on the token, see
 * src/backends/pkcs11.ts), so the import is done here with graphene: the version-1 objects of a
 * key made by `keywarden keys create` are replaced by private and public key objects holding the
 * software key pair, with the same CKA_ID and CKA_LABEL — what an operator's import would leave.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import * as graphene from 'graphene-pk11';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineReport } from '../../src/pipeline/types.js';
import { git } from '../helpers/git-repo.js';
import { auditRecords, createHarness, expectNoCanary, remediationBranches, type Harness } from '../helpers/respond-harness.js';
import { createSoftHsmToken, softHsmSkipReason, type SoftHsmToken } from '../setup/softhsm.js';

const POLICY = `version: 1
name: e2e-pkcs11
secrets:
  on-leak:
    - when: { type: private-key }
      do: [revoke, rotate, open-pr]
      severity: critical
    - do: [open-pr]
`;

/** Replaces the version-1 objects of `keyId` on the token with an imported P-256 key pair. */
function importP256(token: SoftHsmToken, keyId: string, label: string, jwk: { d: string; x: string; y: string }): void {
  const mod = graphene.Module.load(token.lib, 'softhsm-test');
  mod.initialize();
  try {
    const slots = mod.getSlots(true);
    let slot: graphene.Slot | undefined;
    for (let i = 0; i < slots.length; i++) if (slots.items(i).getToken().label.trim() === token.label) slot = slots.items(i);
    const session = slot!.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
    session.login(token.pin, graphene.UserType.USER);
    const id = Buffer.concat([Buffer.from(keyId, 'hex'), Buffer.from([0, 0, 0, 1])]);
    let destroyed = 0;
    for (const cls of [graphene.ObjectClass.PRIVATE_KEY, graphene.ObjectClass.PUBLIC_KEY]) {
      const found = session.find({ class: cls, id });
      for (let i = 0; i < found.length; i++) {
        found.items(i).destroy();
        destroyed++;
      }
    }
    expect(destroyed).toBe(2);
    const params = graphene.NamedCurve.getByName('secp256r1').value;
    const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')]);
    const common = { token: true, label, id, modifiable: true, keyType: graphene.KeyType.EC, paramsEC: params };
    session.create({
      ...common,
      class: graphene.ObjectClass.PRIVATE_KEY,
      value: Buffer.from(jwk.d, 'base64url'),
      private: true,
      sensitive: true,
      extractable: false,
      sign: true,
      decrypt: false,
      signRecover: false,
      unwrap: false,
      derive: false,
    });
    // CKA_EC_POINT: the uncompressed point as a DER OCTET STRING.
    session.create({
      ...common,
      class: graphene.ObjectClass.PUBLIC_KEY,
      pointEC: Buffer.concat([Buffer.from([0x04, point.length]), point]),
      verify: true,
      encrypt: false,
      verifyRecover: false,
      wrap: false,
      derive: false,
    });
    session.logout();
    session.close();
  } finally {
    mod.finalize();
  }
}

interface KeyView {
  id: string;
  state: string;
  aliases: string[];
  currentVersion: number;
  tags: Record<string, string>;
}

describe.skipIf(softHsmSkipReason !== undefined)(`keywarden respond against pkcs11 (SoftHSM2)${softHsmSkipReason ? ` (skipped: ${softHsmSkipReason})` : ''}`, () => {
  let token: SoftHsmToken;
  let h: Harness;
  let pem: string;
  let keyId: string;
  let report: PipelineReport;
  const LABEL = 'deploy-signing';
  let flags: string[];

  beforeAll(async () => {
    // Before anything loads the module: SOFTHSM2_CONF is read at C_Initialize.
    token = createSoftHsmToken('kw-respond');
    h = createHarness('respond-pkcs11', POLICY, { KEYWARDEN_PKCS11_PIN: token.pin, KEYWARDEN_AUDIT_KEY: randomBytes(32).toString('base64'), SOFTHSM2_CONF: process.env.SOFTHSM2_CONF });
    flags = ['--backend', 'pkcs11', '--pkcs11-library', token.lib, '--pkcs11-token', token.label];
    const created = await h.kw('keys', 'create', ...flags, '--spec', 'ECC_NIST_P256', '--alias', LABEL, '--reason', 'e2e', '--format', 'json');
    expect(created.code, created.err).toBe(0);
    keyId = (JSON.parse(created.out) as { keyId: string }).keyId;

    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    importP256(token, keyId, LABEL, pair.privateKey.export({ format: 'jwk' }) as { d: string; x: string; y: string });
    pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    h.write('deploy/signing-key.pem', pem);
    h.write('deploy/sign.ts', "import { readFileSync } from 'node:fs';\nexport const key = readFileSync('deploy/signing-key.pem', 'utf8');\n");
    h.commit('signing key');
  }, 120_000);

  afterAll(() => {
    h?.cleanup();
    token?.cleanup();
  });

  const describeKey = async (ref: string): Promise<KeyView> => {
    const r = await h.kw('keys', 'describe', ...flags, ref, '--format', 'json');
    expect(r.code, r.err).toBe(0);
    return JSON.parse(r.out) as KeyView;
  };

  it('matches the committed PEM to the token key by its public key, disables it, replaces it and removes the file', async () => {
    const r = await h.respond('--git', 'HEAD~1..HEAD', ...flags);
    expect(r.code, r.err).toBe(1);
    report = r.report;
    const f = report.findings.find((x) => x.finding.type === 'private-key')!;
    expect(f.finding.file).toBe('deploy/signing-key.pem');
    expect(f.target).toEqual({ kind: 'managed-key', backend: 'pkcs11', keyId, version: 1, aliases: [LABEL], revocable: 'key', how: 'public-key' });
    expect(report.steps.map((s) => `${s.step.kind}:${s.status}`)).toEqual(['revoke:done', 'rotate:done', 'patch:done']);
    const rotate = report.steps.find((s) => s.step.kind === 'rotate')!;
    expect(rotate.facts).toMatchObject({ keyId, mode: 'replacement', movedAliases: LABEL });

    // The leaked key is disabled on the token; the label names its replacement.
    const old = await describeKey(keyId);
    expect(old).toMatchObject({ id: keyId, state: 'disabled', aliases: [] });
    const now = await describeKey(LABEL);
    expect(now.id).not.toBe(keyId);
    expect(now.id).toBe(rotate.facts!.newKeyId);
    expect(now).toMatchObject({ state: 'enabled', aliases: [LABEL], currentVersion: 1, tags: { 'keywarden:replaces': keyId } });

    // The patch removes the PEM file and ignores it; the user's branch is untouched.
    const patch = report.patch!;
    expect(patch.files).toEqual(expect.arrayContaining([{ path: 'deploy/signing-key.pem', action: 'remove' }]));
    expect(git(h.repo, 'ls-tree', '-r', '--name-only', patch.branch, '--', 'deploy')).toBe('deploy/sign.ts\n');
    expect(git(h.repo, 'show', `${patch.branch}:.gitignore`)).toMatch(/^\/?deploy\/signing-key\.pem$/m);
    expect(git(h.repo, 'show', 'HEAD:deploy/signing-key.pem')).toBe(pem);
  }, 120_000);

  it('does nothing twice when run again', async () => {
    const r = await h.respond('--git', 'HEAD~1..HEAD', ...flags);
    expect(r.code, r.err).toBe(1);
    // The disabled key still matches the PEM; every step replays, and no third key is made.
    expect(r.report.steps.every((s) => s.status === 'done' && s.replayed)).toBe(true);
    expect(remediationBranches(h.repo)).toEqual([report.patch!.branch]);
    const inv = await h.kw('keys', 'list', ...flags, '--format', 'json');
    expect(inv.code, inv.err).toBe(0);
    expect((JSON.parse(inv.out) as { keys: KeyView[] }).keys.map((k) => k.id).sort()).toEqual([keyId, String(report.steps[1]!.facts!.newKeyId)].sort());
  }, 120_000);

  it('logs every key operation to state/audit.db, with the decision, and verifies', async () => {
    const ops = (await auditRecords(h, '--backend', 'pkcs11')).map((r) => `${r.operation}:${r.outcome}`);
    expect(ops).toEqual(expect.arrayContaining(['disable:succeeded', 'create:succeeded', 'move-alias:succeeded', 'respond:succeeded']));
    const v = await h.kw('audit', 'verify', '--backend', 'pkcs11');
    expect(v.code, v.out + v.err).toBe(0);
    expect(v.out).not.toContain('NOT verified');
  }, 60_000);

  it('never lets the private key reach an output, the state folder, a commit or a branch', () => {
    expectNoCanary(h, pem.trim());
    // Any one line of its body is enough to look for.
    for (const line of pem.trim().split('\n').slice(1, -1)) expectNoCanary(h, line);
  });
});
