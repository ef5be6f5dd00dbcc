import { CreateGrantCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditedRevoker } from '../../src/backends/audited.js';
import { AwsIamAccessKeyRevoker } from '../../src/backends/aws-iam-revoker.js';
import { AuditLog } from '../../src/store/audit.js';
import { openDatabase } from '../../src/store/sqlite.js';
import { AwsKmsBackend } from '../../src/backends/aws-kms.js';
import { runBackendContract } from '../../src/backends/contract.case.js';
import { rotateWithFallback } from '../../src/backends/rotate-with-fallback.js';
import { MemorySecretSink } from '../../src/backends/secret-sink.js';
import type { SecretSink } from '../../src/backends/port.js';
import { ErrorCode } from '../../src/errors.js';
import { motoSkipReason, startMoto, type MotoServer } from '../setup/moto.js';

let moto: MotoServer | undefined;
beforeAll(async () => {
  if (!motoSkipReason) moto = await startMoto();
});
afterAll(async () => {
  await moto?.stop();
});

function kms(): AwsKmsBackend {
  if (!moto) throw new Error('moto not started');
  return new AwsKmsBackend({ region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials, retry: { attempts: 3, baseDelayMs: 10 } });
}

const MOTO = 'moto 5.2.5';
describe.skipIf(motoSkipReason !== undefined)(`aws-kms against moto${motoSkipReason ? ` (skipped: ${motoSkipReason})` : ''}`, () => {
  runBackendContract('aws-kms (moto)', () => kms(), {
    skip: [
      { reason: 'KMS ciphertexts do not say which key version sealed them', tests: ['new encryptions use the new version'] },
      {
        reason: `${MOTO} ignores RotationPeriodInDays (EnableKeyRotation reads only KeyId, GetKeyRotationStatus omits it); the flag itself is tested below`,
        tests: ['rotation setting'],
      },
      {
        reason: `${MOTO} Encrypt/Decrypt do not check the key state; real KMS raises DisabledException / KMSInvalidStateException, whose mapping to KW_KEY_STATE is tested in aws-errors.test.ts`,
        tests: ['disabled key refuses encrypt'],
      },
    ],
    unsupported: {
      what: 'rotate an ECC key in place',
      run: async (b) => {
        const { keyId } = await b.create({ spec: 'ECC_NIST_P256' }, { idempotencyKey: `ecc-${Math.random()}` });
        return b.rotate(keyId, { idempotencyKey: `rot-${Math.random()}` });
      },
    },
  });

  describe('aws-kms specifics', () => {
    it('toggles automatic rotation', async () => {
      const b = kms();
      const { keyId } = await b.create({ spec: 'AES_256' }, { idempotencyKey: 'auto-c' });
      await b.setRotation(keyId, { automatic: true, periodDays: 180 }, { idempotencyKey: 'auto-on' });
      expect((await b.describe(keyId)).rotation).toMatchObject({ automatic: true, inPlace: true });
      await b.setRotation(keyId, { automatic: false }, { idempotencyKey: 'auto-off' });
      expect((await b.describe(keyId)).rotation.automatic).toBe(false);
      await expect(b.setRotation(keyId, { automatic: true, periodDays: 30 }, { idempotencyKey: 'auto-bad' })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
      await b.close();
    });

    it('rotates asymmetric and HMAC keys by replacement and UpdateAlias', async () => {
      const b = kms();
      for (const spec of ['ECC_NIST_P256', 'HMAC_256'] as const) {
        const alias = `alias/kw-replace-${spec.toLowerCase()}`;
        const { keyId } = await b.create({ spec, alias }, { idempotencyKey: `rep-c-${spec}` });
        const r = await rotateWithFallback(b, alias, { idempotencyKey: `rep-r-${spec}` });
        expect(r).toMatchObject({ mode: 'replacement', oldKeyId: keyId, movedAliases: [alias] });
        const now = await b.describe(alias);
        expect(now.id).not.toBe(keyId);
        expect(now).toMatchObject({ spec, state: 'enabled', tags: { 'keywarden:replaces': keyId } });
        expect((await b.describe(keyId)).aliases).toEqual([]);
      }
      await b.close();
    });

    it('normalises the key policy and grants to principals × operations', async () => {
      const b = kms();
      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'Admins', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/KeyAdmin' }, Action: ['kms:Create*', 'kms:Disable*', 'kms:ScheduleKeyDeletion'], Resource: '*' },
          { Sid: 'Users', Effect: 'Allow', Principal: { AWS: ['arn:aws:iam::123456789012:role/app'] }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'], Resource: '*', Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } } },
          { Sid: 'Everyone', Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' },
        ],
      });
      const { keyId } = await b.create({ spec: 'AES_256', policy }, { idempotencyKey: 'pol-c' });
      const raw = new KMSClient({ region: moto!.region, endpoint: moto!.endpoint, credentials: moto!.credentials });
      await raw.send(new CreateGrantCommand({ KeyId: keyId, GranteePrincipal: 'arn:aws:iam::123456789012:role/batch', Operations: ['Encrypt', 'Decrypt'] }));
      const key = await b.describe(keyId);
      const byRef = Object.fromEntries(key.access.filter((r) => r.source === 'key-policy').map((r) => [r.ref, r]));
      expect(byRef.Admins).toMatchObject({ principal: 'arn:aws:iam::123456789012:role/KeyAdmin', effect: 'allow', conditional: false });
      expect(byRef.Admins!.operations).toEqual(expect.arrayContaining(['create-grant', 'manage-aliases', 'disable', 'rotate', 'schedule-destruction']));
      expect(byRef.Admins!.operations).not.toContain('decrypt');
      expect(byRef.Users).toMatchObject({ operations: ['decrypt', 'generate-data-key'], conditional: true });
      expect(byRef.Everyone).toMatchObject({ principal: '*', operations: ['*'], actions: ['kms:*'] });
      expect(key.access.find((r) => r.source === 'grant')).toMatchObject({ principal: 'arn:aws:iam::123456789012:role/batch', operations: ['encrypt', 'decrypt'] });
      // A changed policy shows up on the next describe.
      await raw.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify({ Statement: [] }) }));
      expect((await b.describe(keyId)).access.filter((r) => r.source === 'key-policy')).toEqual([]);
      raw.destroy();
      await b.close();
    });

    it('reports versions from ListKeyRotations and keeps old ciphertext readable', async () => {
      const b = kms();
      const { keyId } = await b.create({ spec: 'AES_256', alias: 'alias/kw-versions' }, { idempotencyKey: 'ver-c' });
      const enc = await b.encrypt('alias/kw-versions', Buffer.from('v1 data'));
      await b.rotate(keyId, { idempotencyKey: 'ver-r1' });
      await b.rotate(keyId, { idempotencyKey: 'ver-r2' });
      const key = await b.describe('alias/kw-versions');
      expect(key.versions.map((v) => [v.version, v.current])).toEqual([
        [1, false],
        [2, false],
        [3, true],
      ]);
      expect(Buffer.from((await b.decrypt(enc.ciphertext)).plaintext).toString()).toBe('v1 data');
      await b.close();
    });
  });

  describe('IAM access-key revoker', () => {
    let iam: IAMClient;
    beforeAll(() => {
      iam = new IAMClient({ region: 'us-east-1', endpoint: moto!.endpoint, credentials: moto!.credentials });
    });
    afterAll(() => iam.destroy());

    async function leakedKey(user: string): Promise<{ id: string; secret: string }> {
      await iam.send(new CreateUserCommand({ UserName: user }));
      const k = await iam.send(new CreateAccessKeyCommand({ UserName: user }));
      return { id: k.AccessKey!.AccessKeyId!, secret: k.AccessKey!.SecretAccessKey! };
    }

    function revoker(sink: SecretSink): AwsIamAccessKeyRevoker {
      return new AwsIamAccessKeyRevoker({ endpoint: moto!.endpoint, credentials: moto!.credentials, sink, retry: { attempts: 2, baseDelayMs: 5 } });
    }

    it('finds the owner, deactivates the key, and stores the replacement only in the sink', async () => {
      const leaked = await leakedKey('ci-deployer');
      const sink = new MemorySecretSink();
      const r = await revoker(sink).revoke(leaked.id, { idempotencyKey: 'leak-1', reason: 'finding:sha256:abc' });
      expect(r).toMatchObject({ provider: 'aws-iam', credentialId: leaked.id, owner: 'ci-deployer', deactivated: true, replayed: false, replacementRef: 'memory:aws-iam-ci-deployer' });
      const keys = (await iam.send(new ListAccessKeysCommand({ UserName: 'ci-deployer' }))).AccessKeyMetadata ?? [];
      expect(keys.find((k) => k.AccessKeyId === leaked.id)?.Status).toBe('Inactive');
      expect(keys.find((k) => k.AccessKeyId === r.replacementId)?.Status).toBe('Active');
      const stored = sink.secrets.get('aws-iam-ci-deployer')!;
      expect(stored.accessKeyId).toBe(r.replacementId);
      // The new secret is only in the sink: not in the result.
      expect(JSON.stringify(r)).not.toContain(stored.secretAccessKey);
      expect(JSON.stringify(r)).not.toContain(leaked.secret);
    });

    it('records revocations in the audit log without the secret', async () => {
      const leaked = await leakedKey('ci-audited');
      const sink = new MemorySecretSink();
      const audit = new AuditLog(openDatabase(':memory:'));
      const rv = new AuditedRevoker(revoker(sink), audit, { actor: 'app' });
      const r = await rv.revoke(leaked.id, { idempotencyKey: 'leak-a', reason: 'finding:sha256:def' });
      await rv.revoke(leaked.id, { idempotencyKey: 'leak-a' });
      await expect(rv.revoke('AKIAZZZZZZZZZZZZZZZY', { idempotencyKey: 'leak-b' })).rejects.toThrow();
      expect(audit.list().filter((x) => x.outcome !== 'intent').map((x) => [x.operation, x.outcome, x.keyId])).toEqual([
        ['revoke-and-replace-credential', 'succeeded', leaked.id],
        ['revoke-and-replace-credential', 'replayed', leaked.id],
        ['revoke-and-replace-credential', 'failed', 'AKIAZZZZZZZZZZZZZZZY'],
      ]);
      expect(audit.list()[1]!.details).toMatchObject({ owner: 'ci-audited', replacementId: r.replacementId, replacementRef: r.replacementRef });
      let exported = '';
      audit.exportJsonl((l) => (exported += l));
      expect(exported).not.toContain(sink.secrets.get('aws-iam-ci-audited')!.secretAccessKey);
      expect(exported).not.toContain(leaked.secret);
      expect(audit.verify().ok).toBe(true);
    });

    it('is idempotent: a retried job creates no second replacement', async () => {
      const leaked = await leakedKey('ci-retry');
      const sink = new MemorySecretSink();
      const rv = revoker(sink);
      const a = await rv.revoke(leaked.id, { idempotencyKey: 'leak-2' });
      const b = await rv.revoke(leaked.id, { idempotencyKey: 'leak-2' });
      expect(b).toMatchObject({ replayed: true, replacementId: a.replacementId });
      expect((await iam.send(new ListAccessKeysCommand({ UserName: 'ci-retry' }))).AccessKeyMetadata).toHaveLength(2);
    });

    it('deletes the replacement again when the sink fails, and never echoes the secret', async () => {
      const leaked = await leakedKey('ci-sinkfail');
      const failing: SecretSink = {
        name: 'broken',
        put: async () => {
          throw new Error('disk full');
        },
      };
      const err = await revoker(failing)
        .revoke(leaked.id, { idempotencyKey: 'leak-3' })
        .catch((e: unknown) => e as { code: string; message: string });
      expect(err).toMatchObject({ code: ErrorCode.SECRET_SINK_FAILED });
      const keys = (await iam.send(new ListAccessKeysCommand({ UserName: 'ci-sinkfail' }))).AccessKeyMetadata ?? [];
      expect(keys.map((k) => [k.AccessKeyId, k.Status])).toEqual([[leaked.id, 'Inactive']]);
      expect(JSON.stringify(err)).not.toContain(leaked.secret);
    });

    it('says CREDENTIAL_NOT_FOUND for an unknown key and INVALID_ARGUMENT for a non-key', async () => {
      const rv = revoker(new MemorySecretSink());
      await expect(rv.revoke('AKIAZZZZZZZZZZZZZZZZ', { idempotencyKey: 'leak-4' })).rejects.toMatchObject({ code: ErrorCode.CREDENTIAL_NOT_FOUND });
      await expect(rv.revoke('not-a-key', { idempotencyKey: 'leak-5' })).rejects.toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    });
  });
});
