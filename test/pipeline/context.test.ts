import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/model/finding.js';
import { matchFindings } from '../../src/pipeline/context.js';
import { fingerprintSecret } from '../../src/scan/redact.js';
import { awsKeys } from '../helpers/git-repo.js';

const base = { title: 't', severity: 'high', confidence: 'high', file: 'a', startLine: 1, startColumn: 1, endLine: 1, endColumn: 2, redacted: 'x' } as const;

describe('matchFindings', () => {
  const id = awsKeys('context')();
  const idOnly: Finding = { ...base, ruleId: 'aws-access-key-id', type: 'aws-access-key', fingerprint: fingerprintSecret(id), identity: { kind: 'aws-access-key', id } };
  const pair: Finding = { ...base, ruleId: 'aws-credential-pair', type: 'aws-access-key', fingerprint: fingerprintSecret('s'.repeat(40)), identity: { kind: 'aws-access-key', id } };

  it('never acts on an AWS access key ID alone: a pushed ID (public, in logs) must not disable a key', async () => {
    const t = await matchFindings([idOnly], {});
    expect(t.get(idOnly.fingerprint)).toMatchObject({ kind: 'none', why: expect.stringContaining('without its secret key') });
  });

  it('acts on an ID that comes with its secret key, once for both findings', async () => {
    const t = await matchFindings([idOnly, pair], {});
    expect(t.get(idOnly.fingerprint)).toEqual({ kind: 'credential', provider: 'aws-iam', credentialId: id });
    expect(t.get(pair.fingerprint)).toEqual({ kind: 'credential', provider: 'aws-iam', credentialId: id });
  });

  it('says why a finding matches nothing', async () => {
    const generic: Finding = { ...base, ruleId: 'generic-secret', type: 'generic-secret', fingerprint: fingerprintSecret('zzz') };
    const enc: Finding = { ...base, ruleId: 'private-key-pem-encrypted', type: 'private-key', fingerprint: fingerprintSecret('k'), identity: { kind: 'public-key', subtype: 'encrypted' } };
    const t = await matchFindings([generic, enc], { backendUnavailable: 'locked' });
    expect(t.get(generic.fingerprint)).toMatchObject({ kind: 'none', why: expect.stringContaining('rotate it at its provider') });
    expect(t.get(enc.fingerprint)).toMatchObject({ kind: 'none', why: expect.stringContaining('locked') });
  });
});
