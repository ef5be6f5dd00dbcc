/**
 * Semantics, not text: each feature of the DSL is compiled, built with the real `opa build -t wasm`
 * and evaluated in-process with @open-policy-agent/opa-wasm against inputs with known decisions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isKeywardenError } from '../../src/errors.js';
import { PolicyError } from '../../src/policy/dsl/policy-error.js';
import { readPolicy } from '../../src/policy/engine/load.js';
import { createPolicyEngine, type PolicyEngine } from '../../src/policy/engine/policy-engine.js';
import { type Decision, validateDecision } from '../../src/policy/input.js';
import { engine, FIXTURES, finding, fp, key, NOW, opa, ROOT, tempDir, writeTemp } from './helpers.js';

const rules = (d: Decision): string[] => [...new Set(d.violations.map((v) => v.rule))].sort();
const subjects = (d: Decision, rule: string): string[] => d.violations.filter((v) => v.rule === rule).map((v) => v.subject.id ?? v.subject.file ?? '').sort();
const input = (over: Record<string, unknown>): Record<string, unknown> => ({ now: NOW, ...over });

function expectValid(d: Decision): void {
  const ok = validateDecision(d);
  expect(validateDecision.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
}

describe('the full example policy (every feature) on a realistic input', () => {
  let e: PolicyEngine;
  beforeAll(async () => {
    e = await createPolicyEngine({ ast: await readPolicy('test/fixtures/policy/full.yml', { cwd: ROOT }), opa: opa(), cacheDir: false });
  });

  it('returns the expected decision, valid against the decision schema', () => {
    const d = e.evaluate(JSON.parse(readFileSync(join(FIXTURES, 'input.json'), 'utf8')));
    expectValid(d);
    expect(rules(d)).toEqual([
      'keys/everything/rotation/max-age',
      'keys/everything/spec/deny',
      'keys/payments-signing/access/admins',
      'keys/payments-signing/access/forbid/operation',
      'keys/payments-signing/access/forbid/wildcard-principal',
      'keys/payments-signing/access/separate-duties',
      'keys/payments-signing/access/users',
      'keys/payments-signing/destroy/pending-window',
      'keys/payments-signing/rotation/automatic',
      'keys/payments-signing/rotation/max-age',
      'keys/payments-signing/spec/allow',
      'secrets/on-leak/0',
      'secrets/on-leak/2',
      'storage/forbid-files',
      'storage/require-reference',
    ]);
    // Every violation points back at the policy line that produced it.
    const maxAge = d.violations.find((v) => v.rule === 'keys/payments-signing/rotation/max-age');
    expect(maxAge?.policy).toEqual({ file: 'test/fixtures/policy/full.yml', line: 13, column: 26, path: '/keys/0/rotation/max-age' });
    expect(maxAge?.subject).toMatchObject({ kind: 'key', id: '1234abcd-12ab-34cd-56ef-1234567890ab', backend: 'aws-kms' });
    expect(maxAge?.message).toContain('638 days');
    const leak = d.violations.find((v) => v.rule === 'secrets/on-leak/0');
    expect(leak?.subject).toEqual({ kind: 'finding', file: 'src/config.ts', line: 12, column: 18, fingerprint: fp('1'), type: 'aws-access-key' });
    expect(d.actions.filter((a) => a.rule === 'secrets/on-leak/0').map((a) => a.type).sort()).toEqual(['open-issue', 'open-pr', 'revoke', 'rotate']);
    // The excepted fingerprint (exceptions[0], until 2027-01-31) and ignored paths produce nothing.
    expect(JSON.stringify(d)).not.toContain(fp('0'));
    expect(JSON.stringify(d)).not.toContain('test/fixtures/secrets');
  });

  it('lets an exception expire by itself: the same input later is judged without it', () => {
    const later = { ...JSON.parse(readFileSync(join(FIXTURES, 'input.json'), 'utf8')), now: '2027-02-01T00:00:00Z' };
    const d = e.evaluate(later);
    expect(d.violations.some((v) => v.subject.fingerprint === fp('0') && v.rule === 'secrets/on-leak/1')).toBe(true);
  });

  it('is deterministic: same input, same decision', () => {
    const i = JSON.parse(readFileSync(join(FIXTURES, 'input.json'), 'utf8'));
    expect(e.evaluate(i)).toEqual(e.evaluate(i));
  });
});

describe('which keys', () => {
  it('selects by backend, id, alias, label and tags (globs)', async () => {
    const e = await engine(`version: 1
keys:
  - name: by-alias
    match: { alias: "alias/pay-*" }
    spec: { allow: [NONE] }
  - name: by-id-backend
    match: { id: "k-*", backend: pkcs11 }
    spec: { allow: [NONE] }
  - name: by-label
    match: { label: "sign-*" }
    spec: { allow: [NONE] }
  - name: by-tags
    match: { tags: { env: "prod*", "cost-center": "42" } }
    spec: { allow: [NONE] }
`);
    const d = e.evaluate(
      input({
        keys: [
          key({ id: 'a', aliases: ['alias/pay-1'] }),
          key({ id: 'k-1', backend: 'pkcs11', aliases: [] }),
          key({ id: 'k-2', backend: 'aws-kms', aliases: [] }),
          key({ id: 'b', backend: 'pkcs11', labels: ['sign-2026'], aliases: [] }),
          key({ id: 'c', tags: { env: 'production', 'cost-center': '42' } }),
          key({ id: 'd', tags: { env: 'production' } }),
        ],
      }),
    );
    expectValid(d);
    expect(subjects(d, 'keys/by-alias/spec/allow')).toEqual(['a']);
    expect(subjects(d, 'keys/by-id-backend/spec/allow')).toEqual(['k-1']);
    expect(subjects(d, 'keys/by-label/spec/allow')).toEqual(['b']);
    expect(subjects(d, 'keys/by-tags/spec/allow')).toEqual(['c']);
  });

  it('judges keys declared in repo config (facts) like inventory keys, pointing at the file', async () => {
    const e = await engine(`version: 1
keys:
  - name: all
    match: { id: "*" }
    rotation: { automatic: required }
`);
    const d = e.evaluate(input({ facts: [{ kind: 'key', file: 'infra/kms.tf', line: 12, key: { id: 'aws_kms_key.payments', backend: 'aws-kms', rotation: { enabled: false } } }] }));
    expect(d.violations).toHaveLength(1);
    expect(d.violations[0]?.subject).toMatchObject({ kind: 'key-config', file: 'infra/kms.tf', line: 12 });
  });
});

describe('rotation', () => {
  let e: PolicyEngine;
  beforeAll(async () => {
    e = await engine(`version: 1
backend: { kind: aws-kms }
keys:
  - name: kms
    match: { alias: "alias/*" }
    do: [rotate, open-issue]
    rotation: { max-age: 90d, automatic: required, period: [">= 90d", "<= 365d"] }
  - name: manual
    match: { alias: "manual/*" }
    rotation: { automatic: forbidden }
`);
  });
  it('max age is measured from the last rotation (or creation) to input.now', () => {
    const d = e.evaluate(
      input({
        keys: [
          key({ id: 'old', aliases: ['alias/old'], createdAt: '2025-01-01T00:00:00Z', lastRotatedAt: '2025-11-01T00:00:00Z' }),
          key({ id: 'fresh', aliases: ['alias/fresh'], createdAt: '2025-01-01T00:00:00Z', lastRotatedAt: '2026-02-01T00:00:00Z' }),
          key({ id: 'new', aliases: ['alias/new'], createdAt: '2026-02-15T00:00:00Z' }),
        ],
      }),
    );
    expect(subjects(d, 'keys/kms/rotation/max-age')).toEqual(['old']);
    expect(d.actions.filter((a) => a.subject.id === 'old').map((a) => a.type).sort()).toEqual(['open-issue', 'rotate']);
  });
  it('time comes only from the input: moving now moves the verdict', () => {
    const k = key({ id: 'k', aliases: ['alias/k'], createdAt: '2026-01-01T00:00:00Z' });
    expect(subjects(e.evaluate(input({ keys: [k] })), 'keys/kms/rotation/max-age')).toEqual([]);
    expect(subjects(e.evaluate({ now: '2026-06-01T00:00:00Z', keys: [k] }), 'keys/kms/rotation/max-age')).toEqual(['k']);
  });
  it('automatic rotation required / forbidden, and the period bounds', () => {
    const d = e.evaluate(
      input({
        keys: [
          key({ id: 'off', aliases: ['alias/off'], rotation: { enabled: false } }),
          key({ id: 'short', aliases: ['alias/short'], rotation: { enabled: true, periodDays: 30 } }),
          key({ id: 'long', aliases: ['alias/long'], rotation: { enabled: true, periodDays: 400 } }),
          key({ id: 'ok', aliases: ['alias/ok'], rotation: { enabled: true, periodDays: 365 } }),
          key({ id: 'auto', aliases: ['manual/auto'], rotation: { enabled: true, periodDays: 365 } }),
        ],
      }),
    );
    expect(subjects(d, 'keys/kms/rotation/automatic')).toEqual(['off']);
    expect(subjects(d, 'keys/kms/rotation/period')).toEqual(['long', 'short']);
    expect(subjects(d, 'keys/manual/rotation/automatic')).toEqual(['auto']);
  });
});

describe('algorithms, access and destruction', () => {
  let e: PolicyEngine;
  beforeAll(async () => {
    e = await engine(`version: 1
keys:
  - name: k
    match: { id: "*" }
    severity: critical
    spec: { allow: ["RSA_*", "ECC_NIST_*", "SYMMETRIC_DEFAULT"], deny: ["*3DES*", "DES*"], min-size: { RSA: 2048 } }
    access:
      admins: ["role/admin-*"]
      users: ["role/app-*"]
      forbid: [wildcard-principal, "kms:*"]
      separate-duties: true
    destroy: { pending-window: [">= 14d", "<= 30d"] }
`);
  });
  it('allowed specs, denied specs and minimum sizes', () => {
    const d = e.evaluate(
      input({
        keys: [
          key({ id: 'rsa1024', spec: 'RSA_1024' }),
          key({ id: 'rsa3072', spec: 'RSA_3072' }),
          key({ id: 'des', spec: 'DES3' }),
          key({ id: 'hmac', spec: 'HMAC_256' }),
          key({ id: 'p256', spec: 'ECC_NIST_P256' }),
        ],
      }),
    );
    expect(subjects(d, 'keys/k/spec/min-size')).toEqual(['rsa1024']);
    expect(subjects(d, 'keys/k/spec/deny')).toEqual(['des']);
    expect(subjects(d, 'keys/k/spec/allow')).toEqual(['des', 'hmac']);
    expect(d.violations.every((v) => v.severity === 'critical')).toBe(true);
  });
  it('who may administer and use, forbidden grants and separation of duties', () => {
    const d = e.evaluate(
      input({
        keys: [
          key({
            id: 'k1',
            access: [
              { principal: 'role/admin-1', operations: ['kms:Put*', 'kms:ScheduleKeyDeletion'] },
              { principal: 'role/app-1', operations: ['kms:Decrypt'] },
              { principal: 'role/intruder', operations: ['kms:Encrypt'] },
              { principal: 'role/app-2', operations: ['kms:CreateAlias'] },
              // Grants pass on use only (AWS's default policy gives key users CreateGrant): not administration.
              { principal: 'role/app-1', operations: ['kms:CreateGrant', 'kms:RevokeGrant', 'kms:ListGrants'] },
              { principal: 'role/admin-2', operations: ['kms:Disable*', 'kms:Sign'] },
              { principal: 'arn:aws:iam::*:root', operations: ['kms:Decrypt'] },
              { principal: 'role/admin-3', operations: ['kms:*'] },
            ],
          }),
        ],
      }),
    );
    const who = (rule: string): string[] =>
      d.violations
        .filter((v) => v.rule === rule)
        .map((v) => v.message.split(' ')[0] ?? '')
        .sort();
    expect(who('keys/k/access/admins')).toEqual(['role/app-2']);
    expect(who('keys/k/access/users')).toEqual(['arn:aws:iam::*:root', 'role/intruder']);
    expect(subjects(d, 'keys/k/access/forbid/wildcard-principal')).toEqual(['k1']);
    expect(d.violations.filter((v) => v.rule === 'keys/k/access/forbid/operation').map((v) => v.message)).toEqual([
      'Key k1 grants kms:* to role/admin-3, which policy k forbids.',
    ]);
    expect(who('keys/k/access/separate-duties')).toEqual(['role/admin-2', 'role/admin-3']);
  });
  it('bounds on the pending window before destruction', () => {
    const d = e.evaluate(input({ keys: [key({ id: 'w7', pendingWindowDays: 7 }), key({ id: 'w14', pendingWindowDays: 14 }), key({ id: 'w30', pendingWindowDays: 30 }), key({ id: 'none' })] }));
    expect(subjects(d, 'keys/k/destroy/pending-window')).toEqual(['w7']);
  });
});

describe('leak response, storage and exceptions', () => {
  let e: PolicyEngine;
  beforeAll(async () => {
    e = await engine(`version: 1
secrets:
  ignore-paths: ["docs/**"]
  on-leak:
    - when: { type: aws-access-key, branch: main }
      do: [revoke, rotate, open-pr]
      severity: critical
    - when: { type: "github-*", path: "src/**", visibility: public }
      do: [revoke, notify]
    - when: { visibility: [private, internal] }
      do: [open-issue]
      severity: low
storage:
  forbid-files: ["*.pem", "**/.env", ".env"]
  require-reference: [env, kms, secret-manager]
exceptions:
  - fingerprint: "${fp('e')}"
    reason: documented test key
    owner: sec@acme.test
    expires: 2026-03-01
  - rule: storage/forbid-files
    path: "fixtures/**"
    reason: test certificates
    owner: sec@acme.test
    expires: 2026-02-28
`);
  });
  it('when (type, branch, path, visibility) → do, with a severity', () => {
    const findings = [finding({ fingerprint: fp('1') }), finding({ type: 'github-token', title: 'GitHub token', file: 'src/a.ts', fingerprint: fp('2') }), finding({ file: 'docs/x.md', fingerprint: fp('3') })];
    const pub = e.evaluate(input({ repo: { visibility: 'public' }, event: { branch: 'main' }, findings }));
    expect(rules(pub)).toEqual(['secrets/on-leak/0', 'secrets/on-leak/1']);
    expect(pub.violations.find((v) => v.rule === 'secrets/on-leak/0')?.severity).toBe('critical');
    expect(pub.actions.filter((a) => a.subject.fingerprint === fp('1')).map((a) => a.type).sort()).toEqual(['open-pr', 'revoke', 'rotate']);
    expect(pub.actions.filter((a) => a.subject.fingerprint === fp('2')).map((a) => a.type).sort()).toEqual(['notify', 'revoke']);
    const priv = e.evaluate(input({ repo: { visibility: 'private' }, event: { branch: 'feature/x' }, findings }));
    expect(rules(priv)).toEqual(['secrets/on-leak/2']);
    expect(priv.actions.map((a) => a.type)).toEqual(['open-issue', 'open-issue']);
  });
  it('storage: forbidden files and inlined secrets', () => {
    const d = e.evaluate(
      input({
        repo: { files: ['a/b/server.pem', '.env', 'deploy/.env', 'src/env.ts', 'fixtures/ca.pem'] },
        facts: [
          { kind: 'secret-ref', file: 'k8s/app.yaml', line: 9, name: 'DB_PASSWORD', source: 'inline' },
          { kind: 'secret-ref', file: 'k8s/app.yaml', line: 10, name: 'API_KEY', source: 'secret-manager' },
        ],
      }),
    );
    // The exception for fixtures/** expired on 2026-02-28, before now (2026-03-01).
    expect(subjects(d, 'storage/forbid-files')).toEqual(['.env', 'a/b/server.pem', 'deploy/.env', 'fixtures/ca.pem']);
    expect(d.violations.filter((v) => v.rule === 'storage/require-reference').map((v) => v.subject)).toEqual([{ kind: 'config', file: 'k8s/app.yaml', line: 9 }]);
  });
  it('an exception applies until the end of its expiry day, then stops applying by itself', () => {
    const leak = { repo: { visibility: 'public' }, event: { branch: 'main' }, findings: [finding({ fingerprint: fp('e') })] };
    expect(e.evaluate({ ...leak, now: '2026-03-01T23:59:59Z' }).violations).toEqual([]);
    expect(e.evaluate({ ...leak, now: '2026-03-02T00:00:00Z' }).violations.map((v) => v.rule)).toEqual(['secrets/on-leak/0']);
    expect(e.evaluate({ ...leak, now: '2026-03-01T12:00:00Z' }).actions).toEqual([]);
  });
});

describe('composition', () => {
  it('extends: org defaults, overridden and joined by the repo policy', async () => {
    const dir = tempDir();
    writeTemp(
      dir,
      'org.yml',
      `version: 1
name: org
keys:
  - name: all
    match: { id: "*" }
    rotation: { max-age: 365d }
  - name: signing
    match: { alias: "alias/sign-*" }
    spec: { allow: [RSA_4096] }
secrets:
  on-leak:
    - do: [open-issue]
`,
    );
    writeTemp(
      dir,
      'repo.yml',
      `version: 1
name: repo
extends: org.yml
keys:
  - name: signing
    match: { alias: "alias/sign-*" }
    spec: { allow: [RSA_3072, RSA_4096] }
`,
    );
    const ast = await readPolicy('repo.yml', { cwd: dir });
    expect(ast.keys.map((k) => `${k.name}@${k.loc.file}`)).toEqual(['all@org.yml', 'signing@repo.yml']);
    const e = await createPolicyEngine({ ast, opa: opa(), cacheDir: false });
    const d = e.evaluate(input({ keys: [key({ id: 's', aliases: ['alias/sign-1'], spec: 'RSA_3072', createdAt: '2024-01-01T00:00:00Z' })], findings: [finding()] }));
    expect(rules(d)).toEqual(['keys/all/rotation/max-age', 'secrets/on-leak/0']);
    expect(d.violations.find((v) => v.rule === 'keys/all/rotation/max-age')?.policy.file).toBe('org.yml');
  });

  it('extends: a cycle or a missing file is a typed error at the extends line', async () => {
    const dir = tempDir();
    writeTemp(dir, 'a.yml', 'version: 1\nextends: b.yml\n');
    writeTemp(dir, 'b.yml', 'version: 1\nextends: [a.yml]\n');
    writeTemp(dir, 'c.yml', 'version: 1\nextends: nope.yml\n');
    await expect(readPolicy('a.yml', { cwd: dir })).rejects.toMatchObject({ code: 'KW_POLICY_EXTENDS', location: { file: 'b.yml', line: 2, column: 11 } });
    await expect(readPolicy('c.yml', { cwd: dir })).rejects.toMatchObject({ code: 'KW_POLICY_EXTENDS', location: { file: 'c.yml', line: 2, column: 10 } });
  });

  it('custom .rego modules add violations and actions to the same decision, and exceptions apply to them', async () => {
    const e = await engine(
      `version: 1
exceptions:
  - rule: custom/excepted
    reason: r
    owner: o
    expires: 2030-01-01
`,
      [
        {
          path: 'policies/no-test-keys.rego',
          text: `package keywarden.custom.no_test_keys

violations contains {"rule": "custom/no-test-keys", "message": "test key", "severity": "low", "policy": {"file": "policies/no-test-keys.rego", "line": 3, "path": ""}, "subject": {"kind": "key", "id": k.id}} if {
	some k in input.keys
	startswith(k.id, "test-")
}

violations contains {"rule": "custom/excepted", "message": "x", "severity": "low", "policy": {"path": ""}, "subject": {"kind": "key", "id": "x"}} if true

actions contains {"type": "notify", "rule": "custom/no-test-keys", "severity": "low", "policy": {"path": ""}, "subject": {"kind": "key", "id": k.id}} if {
	some k in input.keys
	startswith(k.id, "test-")
}
`,
        },
      ],
    );
    const d = e.evaluate(input({ keys: [key({ id: 'test-1' }), key({ id: 'prod-1' })] }));
    expectValid(d);
    expect(d.violations.map((v) => `${v.rule} ${v.subject.id}`)).toEqual(['custom/no-test-keys test-1']);
    expect(d.actions.map((a) => a.type)).toEqual(['notify']);
  });
});

describe('errors', () => {
  it('a builtin that wasm or the JS SDK lacks is rejected at build time with the .rego line', async () => {
    const err = await engine('version: 1\n', [
      { path: 'policies/clock.rego', text: 'package keywarden.custom.clock\n\nviolations contains {"t": t} if {\n\tt := time.now_ns()\n}\n\nactions contains x if {\n\tx := http.send({"url": "https://x", "method": "get"})\n}\n' },
    ]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolicyError);
    const problems = (err as PolicyError).problems.map((p) => ({ code: p.code, location: p.location, builtin: p.details?.builtin }));
    expect(problems).toEqual([
      { code: 'KW_POLICY_BUILTIN', location: { file: 'policies/clock.rego', line: 4, column: 7 }, builtin: 'time.now_ns' },
      { code: 'KW_POLICY_BUILTIN', location: { file: 'policies/clock.rego', line: 8, column: 7 }, builtin: 'http.send' },
    ]);
  });

  it('bad input is a typed KW_POLICY_EVAL error listing every problem; no clock means no decision', async () => {
    const e = await engine('version: 1\n');
    const err = (() => {
      try {
        e.evaluate({ keys: [{ id: 1 }], findings: 'x' });
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(isKeywardenError(err)).toBe(true);
    expect((err as PolicyError).code).toBe('KW_POLICY_EVAL');
    expect((err as PolicyError).problems.length).toBeGreaterThanOrEqual(3);
    expect(() => e.evaluate({ now: 'yesterday' })).toThrow(expect.objectContaining({ code: 'KW_POLICY_EVAL' }));
  });
});

describe('key selectors by family, spec, resource and path; access exemptions', () => {
  let e: PolicyEngine;
  beforeAll(async () => {
    e = await engine(`version: 1
name: selectors
keys:
  - name: sym
    match: { family: symmetric }
    rotation: { automatic: required }
  - name: rsa
    match: { spec: "RSA_*", path: "infra/**" }
    spec: { min-size: { RSA: 3072 } }
  - name: cfn
    match: { resource: "AWS::KMS::*" }
    access:
      forbid: ["kms:*", wildcard-principal]
      separate-duties: true
      exempt: ["arn:*:iam::*:root"]
`);
  });
  const declared = (j: number, k: Record<string, unknown>): Record<string, unknown> => ({ kind: 'key', file: String(k.file ?? 'x'), line: j + 1, key: k });

  it('selects live keys and declared keys by what they are and where they are declared', () => {
    const facts = [
      declared(0, { id: 'aes', backend: 'aws-kms', spec: 'SYMMETRIC_DEFAULT', rotation: { enabled: false }, file: 'a.tf', resourceType: 'aws_kms_key' }),
      declared(1, { id: 'hmac', backend: 'aws-kms', spec: 'HMAC_256', rotation: { enabled: false }, file: 'a.tf', resourceType: 'aws_kms_key' }),
      declared(2, { id: 'rsa-infra', backend: 'aws-kms', spec: 'RSA_2048', file: 'infra/kms.tf', resourceType: 'aws_kms_key' }),
      declared(3, { id: 'rsa-elsewhere', backend: 'aws-kms', spec: 'RSA_2048', file: 'other/kms.tf', resourceType: 'aws_kms_key' }),
      declared(4, { id: 'unknown-rotation', backend: 'aws-kms', spec: 'SYMMETRIC_DEFAULT', unknown: ['rotation'], file: 'a.tf' }),
      declared(5, {
        id: 'cfn',
        backend: 'aws-kms',
        file: 't.yaml',
        resourceType: 'AWS::KMS::Key',
        access: [
          { principal: 'arn:aws:iam::111122223333:root', operations: ['kms:*'] },
          { principal: 'arn:aws:iam::111122223333:role/app', operations: ['kms:*'] },
        ],
      }),
    ];
    const d = e.evaluate(input({ keys: [key({ id: 'live-aes', spec: 'AES_256', rotation: { enabled: false } })], facts }));
    expectValid(d);
    expect(subjects(d, 'keys/sym/rotation/automatic')).toEqual(['aes', 'live-aes']);
    expect(subjects(d, 'keys/rsa/spec/min-size')).toEqual(['rsa-infra']);
    // The root keeps kms:* (AWS's default key policy); the role does not.
    expect(d.violations.filter((v) => v.rule === 'keys/cfn/access/forbid/operation').map((v) => v.message)).toEqual([expect.stringContaining('role/app')]);
    expect(d.violations.filter((v) => v.rule === 'keys/cfn/access/separate-duties').map((v) => v.message)).toEqual([expect.stringContaining('role/app')]);
  });
});
