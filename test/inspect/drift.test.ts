/**
 * `compareDrift` (src/inspect/drift.ts), pure: declared AWS keys against an inventory, matched by
 * alias. Unknown values are never compared, an absent value is AWS's default, keys of other
 * backends are not matched, a key without an alias is counted, not guessed.
 */
import { describe, expect, it } from 'vitest';
import { compareDrift } from '../../src/inspect/drift.js';
import { inspectFile, type KeyFact } from '../../src/inspect/index.js';
import type { ManagedKey } from '../../src/model/keys.js';

const live = (over: Partial<ManagedKey> & { aliases: string[] }): ManagedKey => ({
  backend: 'aws-kms',
  id: `id-${over.aliases[0]}`,
  spec: 'AES_256',
  usage: 'encrypt-decrypt',
  state: 'enabled',
  createdAt: '2026-01-01T00:00:00Z',
  rotation: { automatic: true, periodDays: 365, inPlace: true },
  versions: [],
  currentVersion: 1,
  tags: {},
  access: [],
  ...over,
});

const keysOf = (tf: string): KeyFact[] => inspectFile('kms.tf', tf).facts.filter((f): f is KeyFact => f.kind === 'key');
const aliased = (name: string, body: string): string => `resource "aws_kms_key" "${name}" {\n${body}}\nresource "aws_kms_alias" "${name}" {\n  name          = "alias/${name}"\n  target_key_id = aws_kms_key.${name}.key_id\n}\n`;

describe('compareDrift', () => {
  it('takes an absent rotation period as AWS default (365 days) and an absent spec as SYMMETRIC_DEFAULT', () => {
    const r = compareDrift(keysOf(aliased('a', '  enable_key_rotation = true\n')), [live({ aliases: ['alias/a'] })], 'aws-kms');
    expect(r).toEqual({ drift: [], compared: 1, unmatched: 0 });
  });

  it('reports a different rotation period with both values, and not when the KMS does not say its period', () => {
    const tf = aliased('p', '  enable_key_rotation = true\n  rotation_period_in_days = 90\n');
    const r = compareDrift(keysOf(tf), [live({ aliases: ['alias/p'], rotation: { automatic: true, periodDays: 180, inPlace: true } })], 'aws-kms');
    expect(r.drift).toEqual([expect.objectContaining({ kind: 'rotation-period', declared: '90 days', live: '180 days', line: 3, liveKeyId: 'id-alias/p' })]);
    expect(compareDrift(keysOf(tf), [live({ aliases: ['alias/p'], rotation: { automatic: true, inPlace: true } })], 'aws-kms').drift).toEqual([]);
  });

  it('does not compare what a replica key inherits from its primary', () => {
    const tf = 'resource "aws_kms_replica_key" "r" {\n  primary_key_arn = "arn:aws:kms:us-east-1:111122223333:key/mrk-00000000000000000000000000000000"\n}\nresource "aws_kms_alias" "r" {\n  name          = "alias/r"\n  target_key_id = aws_kms_replica_key.r.key_id\n}\n';
    const r = compareDrift(keysOf(tf), [live({ aliases: ['alias/r'], spec: 'RSA_2048', usage: 'sign-verify' })], 'aws-kms');
    expect(r.drift).toEqual([]);
  });

  it('does not compare a value it cannot know', () => {
    const r = compareDrift(keysOf(`variable "days" {}\n${aliased('a', '  enable_key_rotation = true\n  rotation_period_in_days = var.days\n')}`), [live({ aliases: ['alias/a'], rotation: { automatic: true, periodDays: 90, inPlace: true } })], 'aws-kms');
    expect(r.drift).toEqual([]);
  });

  it('reports a different spec and usage, and matches aliases written without the alias/ prefix in the inventory', () => {
    const r = compareDrift(keysOf(aliased('s', '  customer_master_key_spec = "RSA_3072"\n  key_usage = "SIGN_VERIFY"\n')), [live({ aliases: ['s'], spec: 'RSA_4096', usage: 'encrypt-decrypt', rotation: { automatic: false, inPlace: false } })], 'aws-kms');
    expect(r.drift.map((d) => [d.kind, d.declared, d.live])).toEqual([
      ['spec', 'RSA_3072', 'RSA_4096'],
      ['usage', 'sign-verify', 'encrypt-decrypt'],
    ]);
  });

  it('matches only keys of the AWS backend, and counts keys it cannot match', () => {
    const tf = `${aliased('x', '  enable_key_rotation = true\n')}resource "aws_kms_key" "bare" {}\n`;
    const r = compareDrift(keysOf(tf), [live({ backend: 'local', aliases: ['alias/x'] })], 'aws-kms');
    expect(r.drift.map((d) => d.kind)).toEqual(['missing']);
    expect(r.unmatched).toBe(1);
    // An inventory of another backend says nothing of AWS keys: nothing is reported missing.
    expect(compareDrift(keysOf(tf), [], 'local')).toEqual({ drift: [], compared: 0, unmatched: 2 });
  });
});
