/**
 * A backend's inventory, mapped by `policyKeysFrom`, is what a policy judges: keys made in the real
 * local keystore are selected by label, their specs, rotation and grants judged; the mapping of
 * what the local keystore cannot make (vendor specs, deny rules, vendor action names) is shown on
 * a hand-made inventory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backends/local.js';
import type { ManagedKey } from '../../src/backends/port.js';
import { policyKeysFrom } from '../../src/policy/backend-keys.js';
import { engine } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kw-policy-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const POLICY = `
version: 1
name: estate
keys:
  - name: signing
    match: { label: "signing-*" }
    spec: { min-size: { RSA: 3072 } }
    rotation: { automatic: required }
  - name: all
    match: { id: "*" }
    access: { forbid: ["kms:*", wildcard-principal] }
`;

describe('policyKeysFrom', () => {
  it('judges the keys of a real local keystore', async () => {
    const backend = LocalBackend.open({ path: join(dir, 'keystore.db'), kek: randomBytes(32) });
    try {
      await backend.create({ spec: 'RSA_2048', alias: 'signing-old' }, { idempotencyKey: 'k1' });
      await backend.create({ spec: 'RSA_4096', alias: 'signing-new' }, { idempotencyKey: 'k2' });
      await backend.setRotation('signing-new', { automatic: true, periodDays: 90 }, { idempotencyKey: 'k3' });
      await backend.create({ spec: 'AES_256', alias: 'data' }, { idempotencyKey: 'k4' });
      const keys = policyKeysFrom(await backend.inventory());
      expect(keys.find((k) => k.aliases?.includes('signing-new'))).toMatchObject({ backend: 'local', labels: ['signing-new'], spec: 'RSA_4096', rotation: { enabled: true, periodDays: 90 } });

      const e = await engine(POLICY);
      e.setKeyInventory(keys);
      const d = e.evaluate({ now: new Date().toISOString() });
      const byRule = d.violations.map((v) => `${v.rule} ${v.subject.aliases?.join(',')}`).sort();
      expect(byRule).toEqual(['keys/signing/rotation/automatic signing-old', 'keys/signing/spec/min-size signing-old']);
    } finally {
      await backend.close();
    }
  });

  it('keeps vendor specs and action names, drops deny rules', async () => {
    const key: ManagedKey = {
      backend: 'aws-kms',
      id: '1234abcd',
      aliases: ['alias/app'],
      spec: 'OTHER',
      vendorSpec: 'SM2',
      usage: 'sign-verify',
      state: 'enabled',
      createdAt: '2026-01-01T00:00:00Z',
      rotation: { automatic: false, inPlace: false },
      versions: [],
      currentVersion: 1,
      tags: { env: 'prod' },
      access: [
        { principal: 'arn:aws:iam::1:role/ops', effect: 'allow', operations: ['*'], actions: ['kms:*'], source: 'key-policy', conditional: false },
        { principal: '*', effect: 'deny', operations: ['decrypt'], actions: ['kms:Decrypt'], source: 'key-policy', conditional: false },
      ],
    };
    const [k] = policyKeysFrom([key]);
    expect(k).toEqual({
      id: '1234abcd',
      backend: 'aws-kms',
      aliases: ['alias/app'],
      labels: [],
      spec: 'SM2',
      state: 'enabled',
      createdAt: '2026-01-01T00:00:00Z',
      rotation: { enabled: false, periodDays: null },
      tags: { env: 'prod' },
      access: [{ principal: 'arn:aws:iam::1:role/ops', operations: ['*', 'kms:*'] }],
    });
    const e = await engine(POLICY);
    const d = e.evaluate({ now: '2026-03-01T00:00:00Z', keys: [k] });
    expect(d.violations.map((v) => v.rule)).toEqual(['keys/all/access/forbid/operation']);
  });
});
