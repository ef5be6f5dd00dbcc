/**
 * `keywarden check --drift` against moto's KMS: the keys a Terraform repository declares compared
 * with the live keys (matched by alias) — rotation off in the KMS though declared on, a different
 * rotation period, a declared key that no longer exists, a disabled key — each reported with both
 * values at the declaration's line; a key that matches is not reported; exit 1 on drift. (moto
 * 5.2 does not keep rotation periods, so a different period is shown in test/inspect/drift.test.ts.)
 */
import { CreateAliasCommand, CreateKeyCommand, DisableKeyCommand, EnableKeyRotationCommand, KMSClient } from '@aws-sdk/client-kms';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CheckReport } from '../../src/cli/commands/check.js';
import { useMotoCredentials } from '../helpers/respond-aws.js';
import { opa } from '../policy/helpers.js';
import { motoSkipReason, startMoto, type MotoServer } from '../setup/moto.js';

const key = (name: string, alias: string, body: string): string =>
  `resource "aws_kms_key" "${name}" {\n  description = "${name}"\n${body}}\n\nresource "aws_kms_alias" "${name}" {\n  name          = "alias/${alias}"\n  target_key_id = aws_kms_key.${name}.key_id\n}\n\n`;

describe.skipIf(motoSkipReason !== undefined)(`keywarden check --drift against moto${motoSkipReason ? ` (skipped: ${motoSkipReason})` : ''}`, () => {
  let moto: MotoServer;
  let kms: KMSClient;
  let restore: () => void;
  let dir: string;
  beforeAll(async () => {
    moto = await startMoto();
    restore = useMotoCredentials(moto);
    kms = new KMSClient({ region: moto.region, endpoint: moto.endpoint, credentials: moto.credentials });
    const make = async (alias: string, setup: (id: string) => Promise<unknown> = async () => undefined): Promise<string> => {
      const id = (await kms.send(new CreateKeyCommand({ Description: alias }))).KeyMetadata!.KeyId!;
      await kms.send(new CreateAliasCommand({ AliasName: `alias/${alias}`, TargetKeyId: id }));
      await setup(id);
      return id;
    };
    await make('payments-data');
    await make('orders-data', (id) => kms.send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 180 })));
    await make('ok-data', (id) => kms.send(new EnableKeyRotationCommand({ KeyId: id, RotationPeriodInDays: 90 })));
    await make('old-data', (id) => kms.send(new DisableKeyCommand({ KeyId: id })));
    dir = mkdtempSync(path.join(tmpdir(), 'kw-drift-'));
    mkdirSync(path.join(dir, 'infra'), { recursive: true });
    writeFileSync(path.join(dir, '.github-policy.yml'), 'version: 1\nname: drift\n');
    writeFileSync(
      path.join(dir, 'infra/kms.tf'),
      key('payments', 'payments-data', '  enable_key_rotation     = true\n  rotation_period_in_days = 90\n') +
        key('orders', 'orders-data', '  enable_key_rotation     = true\n  rotation_period_in_days = 90\n') +
        key('ok', 'ok-data', '  enable_key_rotation     = true\n  rotation_period_in_days = 90\n') +
        key('old', 'old-data', '') +
        key('gone', 'gone-data', '  enable_key_rotation = true\n') +
        'resource "aws_kms_key" "anonymous" {\n  enable_key_rotation = true\n}\n',
    );
  }, 120_000);
  afterAll(async () => {
    restore?.();
    kms?.destroy();
    await moto?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('reports each disagreement with both values at the declaration, and nothing for the key that matches', async () => {
    let out = '';
    const env = { ...process.env, KEYWARDEN_OPA: opa(), AWS_ACCESS_KEY_ID: moto.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: moto.credentials.secretAccessKey };
    const code = await main(['check', dir, '--policy', path.join(dir, '.github-policy.yml'), '--drift', '--backend', 'aws-kms', '--endpoint', moto.endpoint, '--region', moto.region, '--state-dir', path.join(dir, '.state'), '--format', 'json'], { cwd: dir, stdout: (s) => void (out += s), stderr: () => undefined, isTTY: false, env });
    const r = JSON.parse(out) as CheckReport;
    expect(code).toBe(1);
    const drift = (r.drift ?? []).map((d) => ({ key: d.key, kind: d.kind, declared: d.declared, live: d.live }));
    expect(drift).toEqual(
      expect.arrayContaining([
        { key: 'aws_kms_key.payments', kind: 'rotation', declared: 'on', live: 'off' },
        { key: 'aws_kms_key.old', kind: 'state', declared: 'enabled', live: 'disabled' },
        { key: 'aws_kms_key.gone', kind: 'missing', declared: 'alias/gone-data', live: 'no such key' },
      ]),
    );
    expect(drift.filter((d) => d.key === 'aws_kms_key.ok' || d.key === 'aws_kms_key.orders')).toEqual([]);
    // The rotation drift is at the attribute that declares it.
    const payments = r.drift!.find((d) => d.key === 'aws_kms_key.payments')!;
    expect(payments).toMatchObject({ file: 'infra/kms.tf', line: 3 });
    expect(r.summary.drift).toMatchObject({ backend: 'aws-kms', compared: 4, unmatched: 1 });
  }, 60_000);
});
