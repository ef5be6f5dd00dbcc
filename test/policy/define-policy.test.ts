/**
 * The TypeScript builder: same AST (and so the same Rego) as the YAML, and type errors for invalid
 * policies. The `@ts-expect-error` lines are checked by `tsc -p tsconfig.json --noEmit`: if one of
 * them stopped being an error, the typecheck would fail.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { compilePolicy } from '../../src/policy/compile/compile-policy.js';
import type { PolicyAst } from '../../src/policy/dsl/ast.js';
import { definePolicy, type PolicySpec } from '../../src/policy/dsl/define-policy.js';
import { parsePolicy } from '../../src/policy/dsl/parse.js';
import { PolicyError } from '../../src/policy/dsl/policy-error.js';
import { getSecretsConfig } from '../../src/policy/dsl/secrets.js';
import { FIXTURES } from './helpers.js';

const inCode = definePolicy({
  version: 1,
  name: 'acme-payments',
  backend: { kind: 'aws-kms', region: 'eu-west-1' },
  keys: [
    {
      name: 'payments-signing',
      match: { alias: 'alias/payments-*' },
      severity: 'high',
      spec: { allow: ['ECC_NIST_P256', 'RSA_3072', 'RSA_4096'], deny: ['*3DES*'], 'min-size': { RSA: 2048 } },
      rotation: { 'max-age': '365d', automatic: 'required', period: ['>= 90d', '<= 365d'] },
      access: {
        admins: ['arn:aws:iam::111122223333:role/KeyAdmin'],
        users: ['arn:aws:iam::111122223333:role/payments-*'],
        forbid: ['wildcard-principal', 'kms:*'],
        'separate-duties': true,
      },
      destroy: { 'pending-window': '>= 14d' },
    },
    { name: 'everything', match: { id: '*' }, severity: 'medium', spec: { 'min-size': { RSA: 2048, HMAC: 256 }, deny: ['*3DES*', 'DES*'] }, rotation: { 'max-age': '2y' } },
  ],
  secrets: {
    detectors: ['recommended', { id: 'internal-token', pattern: 'itk_[a-z0-9]{32}', type: 'internal-token', keywords: ['itk_'] }],
    'ignore-paths': ['test/fixtures/secrets/**'],
    'on-leak': [
      { when: { type: 'aws-access-key' }, do: ['revoke', 'rotate', 'open-pr', 'open-issue'] },
      { when: { type: 'private-key', branch: 'main' }, do: ['revoke', 'rotate', 'open-pr'], severity: 'critical' },
      { when: { visibility: 'public' }, do: ['revoke', 'notify', 'fail-check'], severity: 'critical', message: 'A secret leaked in a public repository' },
    ],
  },
  storage: { 'forbid-files': ['*.pem', '**/.env', '.env', '*.jks', '*.p12'], 'require-reference': ['env', 'kms', 'secret-manager'] },
  exceptions: [
    { fingerprint: 'sha256:0000000000000000000000000000000000000000000000000000000000000000', reason: 'documented test key', owner: 'security@acme.test', expires: '2027-01-31' },
    { key: 'alias/legacy-*', rule: 'key/everything/*', reason: 'legacy keys being migrated', owner: 'platform@acme.test', expires: '2025-01-01' },
  ],
});

describe('definePolicy', () => {
  it('compiles to the same Rego as the same policy in YAML', () => {
    const fromYaml = parsePolicy(readFileSync(join(FIXTURES, 'full.yml'), 'utf8'), { file: 'full.yml' });
    expect(compilePolicy(inCode, { locations: false }).rego).toBe(compilePolicy(fromYaml, { locations: false }).rego);
    expectTypeOf(inCode).toEqualTypeOf<PolicyAst>();
  });

  it('runs the same validation as YAML and throws every problem at once', () => {
    const bad = (): PolicyAst =>
      definePolicy({
        version: 1,
        keys: [
          { name: 'a', match: { alias: 'alias/[x' }, rotation: { period: ['>= 400d', '< 100d'] } },
          { name: 'a', rotation: { 'max-age': '0d' } },
        ],
      });
    expect(bad).toThrow(PolicyError);
    try {
      bad();
    } catch (e) {
      expect((e as PolicyError).problems.map((p) => p.details?.reason)).toEqual(['glob', 'bound-empty', 'duplicate-key', 'duration-range']);
      expect((e as PolicyError).problems.map((p) => p.details?.path)).toEqual(['/keys/0/match/alias', '/keys/0/rotation/period', '/keys/1/name', '/keys/1/rotation/max-age']);
    }
  });

  it('exposes the secrets block to the scanner through a typed accessor', () => {
    const s = getSecretsConfig(inCode);
    expect(s.presets).toEqual(['recommended']);
    expect(s.custom).toEqual([{ id: 'internal-token', pattern: 'itk_[a-z0-9]{32}', type: 'internal-token', keywords: ['itk_'] }]);
    expect(s.ignorePaths).toEqual(['test/fixtures/secrets/**']);
    expect(s.onLeak.map((r) => r.do)).toEqual([
      ['revoke', 'rotate', 'open-pr', 'open-issue'],
      ['revoke', 'rotate', 'open-pr'],
      ['revoke', 'notify', 'fail-check'],
    ]);
    expect(getSecretsConfig(definePolicy({ version: 1 })).presets).toEqual(['recommended']);
  });
});

// Type tests: never called, only type-checked.
export function typeTests(): void {
  // @ts-expect-error version must be 1
  definePolicy({ version: 2 });
  // @ts-expect-error a duration needs a unit
  definePolicy({ version: 1, keys: [{ name: 'k', rotation: { 'max-age': '90' } }] });
  // @ts-expect-error a comparison needs an operator
  definePolicy({ version: 1, keys: [{ name: 'k', destroy: { 'pending-window': '14d' } }] });
  // @ts-expect-error unknown action
  definePolicy({ version: 1, secrets: { 'on-leak': [{ do: ['explode'] }] } });
  // @ts-expect-error on-leak needs at least one action
  definePolicy({ version: 1, secrets: { 'on-leak': [{ do: [] }] } });
  // @ts-expect-error unknown severity
  definePolicy({ version: 1, keys: [{ name: 'k', severity: 'urgent' }] });
  // @ts-expect-error unknown property (typo)
  definePolicy({ version: 1, keys: [{ name: 'k', rotaton: { 'max-age': '90d' } }] });
  // @ts-expect-error an exception must say what it applies to
  definePolicy({ version: 1, exceptions: [{ reason: 'r', owner: 'o', expires: '2027-01-01' }] });
  // @ts-expect-error an exception needs an expiry date
  definePolicy({ version: 1, exceptions: [{ key: 'k', reason: 'r', owner: 'o' }] });
  // @ts-expect-error unknown backend
  definePolicy({ version: 1, backend: { kind: 'floppy-disk' } });
  // @ts-expect-error a forbidden grant is wildcard-principal or service:Action
  definePolicy({ version: 1, keys: [{ name: 'k', access: { forbid: ['everyone'] } }] });
  const ok: PolicySpec = { version: 1, keys: [{ name: 'k', rotation: { 'max-age': '90d', period: '>= 90d' } }] };
  definePolicy(ok);
}
