/**
 * A decoy AWS pair (a known public key ID with a made-up secret) is never deactivated: the act
 * stage asks STS, signed with the pair, before the first step on the credential.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CredentialRevoker } from '../../src/backends/port.js';
import { checkAwsKeyPair } from '../../src/backends/aws-credential-check.js';
import { actOnPlan } from '../../src/pipeline/act.js';
import type { Plan, Step } from '../../src/pipeline/types.js';
import { SqliteStepStore } from '../../src/store/steps.js';
import { awsKeys } from '../helpers/git-repo.js';

const id = awsKeys('pair-check')();
const policy = { file: '.github/keywarden.yml', line: 3, column: 7, path: '/secrets/on-leak/0' };
const step = (kind: 'revoke' | 'rotate'): Step => ({
  id: `kw1-${kind}`,
  kind,
  fingerprints: ['sha256:' + '1'.repeat(64)],
  target: { kind: 'credential', provider: 'aws-iam', credentialId: id },
  rule: 'secrets/on-leak/0',
  policy,
  title: `${kind} ${id}`,
});

describe('the act stage checks an AWS pair before deactivating it', () => {
  it('a pair STS refuses is not revoked or rotated, and the check runs once', async () => {
    const calls: string[] = [];
    // The one fake here: a revoker that must never be called.
    const revoker: CredentialRevoker = {
      provider: 'aws-iam',
      revoke: async () => {
        calls.push('revoke');
        throw new Error('must not be called');
      },
    };
    let checks = 0;
    const store = SqliteStepStore.open(':memory:');
    const plan: Plan = { steps: [step('revoke'), step('rotate')], notDone: [] };
    const results = await actOnPlan(plan, {
      backend: async () => {
        throw new Error('no backend');
      },
      revokers: new Map([['aws-iam', revoker]]),
      steps: store,
      clock: () => new Date(),
      actor: 'test',
      patch: async () => ({ status: 'skipped', detail: '' }),
      verifyCredential: async () => {
        checks++;
        return { ok: false, why: 'the secret key found with it is not its secret' };
      },
    });
    expect(calls).toEqual([]);
    expect(checks).toBe(1);
    expect(results.map((r) => `${r.step.kind}:${r.status}:${r.code}`)).toEqual(['revoke:skipped:KW_CREDENTIAL_NOT_LIVE', 'rotate:skipped:KW_CREDENTIAL_NOT_LIVE']);
    expect(results[0]!.detail).toMatch(/not revoked: .* \(a decoy, or a key already deleted\)/);
    store.close();
  });
});

describe('checkAwsKeyPair: what STS answers', () => {
  let server: Server;
  let endpoint: string;
  let answer: { status: number; code?: string } = { status: 200 };
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'text/xml');
        if (answer.status === 200) {
          res.end(
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>',
          );
          return;
        }
        res.statusCode = answer.status;
        res.end(`<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${answer.code}</Code><Message>no</Message></Error><RequestId>r</RequestId></ErrorResponse>`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const pair = { accessKeyId: id, secretAccessKey: 'x'.repeat(40) };
  it('live: the account and ARN', async () => {
    answer = { status: 200 };
    expect(await checkAwsKeyPair(pair, { endpoint, region: 'eu-west-1' })).toEqual({ live: true, account: '123456789012', arn: 'arn:aws:iam::123456789012:user/ci' });
  });
  it('no such key, or not its secret: not live', async () => {
    answer = { status: 403, code: 'InvalidClientTokenId' };
    expect(await checkAwsKeyPair(pair, { endpoint })).toMatchObject({ live: false, why: expect.stringContaining('no access key') });
    answer = { status: 403, code: 'SignatureDoesNotMatch' };
    expect(await checkAwsKeyPair(pair, { endpoint })).toMatchObject({ live: false, why: expect.stringContaining('not its secret') });
  });
  it('unreachable: a typed, retryable failure, never "not live"', async () => {
    const e = await checkAwsKeyPair(pair, { endpoint: 'http://127.0.0.1:9', retry: { attempts: 1 } }).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'KW_BACKEND_UNAVAILABLE' });
  });
});
