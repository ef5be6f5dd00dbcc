/**
 * The bench input: a push to `main` of a private repository, judged against an estate where most
 * keys comply. Deterministic (no randomness), so every run judges the same thing.
 *
 * - 200 managed keys (from the backend inventory): 60 payments signing keys (aws-kms, aliases
 *   `alias/payments-*`, 2–3 grants each), 110 application/data keys (aws-kms), 20 HSM keys
 *   (pkcs11, labels `hsm-*`), 10 legacy local keys (`alias/legacy-*`). 20 of them (10%, every
 *   key whose index ends in 7) have one defect each: overdue rotation, automatic rotation off or
 *   on where forbidden, a disallowed or too-small spec, a wildcard principal, a `kms:*` grant,
 *   a short pending window. One defect is covered by a live exception (legacy keys).
 * - 100 findings: 80 in ignored paths (test fixtures, snapshots), 3 with an excepted
 *   fingerprint, 5 under an excepted path (docs/examples), 12 real leaks (5 AWS access keys,
 *   3 private keys, 2 GitHub tokens in deploy/, 2 Slack tokens in src/ that no leak rule covers).
 * - 50 config facts: 25 secret references (2 inlined) and 25 keys declared in Terraform
 *   (2 with a defect).
 * - 100 changed files, 2 of them forbidden (a .pem and a .env).
 */
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 2, 1);
const ago = (days: number): string => new Date(NOW - days * DAY).toISOString().replace('.000Z', 'Z');
const fp = (i: number): string => `sha256:${(i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(8)}`;

const ADMIN = { principal: 'arn:aws:iam::111122223333:role/KeyAdmin', operations: ['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:Put*', 'kms:Update*', 'kms:ScheduleKeyDeletion', 'kms:TagResource'] };
const role = (name: string, ...operations: string[]): { principal: string; operations: string[] } => ({ principal: `arn:aws:iam::111122223333:role/${name}`, operations });

type Key = Record<string, unknown> & { access?: unknown[] };

function paymentsKey(i: number): Key {
  return {
    id: `mrk-${(0x1a2b3c00 + i).toString(16)}-payments`,
    backend: 'aws-kms',
    aliases: [`alias/payments-${i}`],
    spec: ['ECC_NIST_P256', 'RSA_3072', 'RSA_4096'][i % 3],
    state: 'Enabled',
    createdAt: ago(400 + i * 7),
    lastRotatedAt: ago(20 + ((i * 37) % 300)),
    rotation: { enabled: true, periodDays: i % 2 === 0 ? 365 : 180 },
    tags: { team: 'payments', env: i % 4 === 0 ? 'staging' : 'prod' },
    access: [ADMIN, role('payments-api', 'kms:Sign', 'kms:Verify'), ...(i % 3 === 0 ? [role('payments-batch', 'kms:Sign')] : [])],
    pendingWindowDays: 30,
  };
}

function appKey(i: number): Key {
  const spec = ['SYMMETRIC_DEFAULT', 'SYMMETRIC_DEFAULT', 'RSA_2048', 'HMAC_256', 'ECC_NIST_P256'][i % 5];
  return {
    id: `${(0x5e6f7000 + i).toString(16)}-app`,
    backend: 'aws-kms',
    aliases: [i % 2 === 0 ? `alias/app-${i}` : `alias/data-${i}`],
    spec,
    state: 'Enabled',
    createdAt: ago(100 + i * 5),
    lastRotatedAt: ago((i * 53) % 330),
    rotation: { enabled: spec === 'SYMMETRIC_DEFAULT', periodDays: spec === 'SYMMETRIC_DEFAULT' ? 365 : null },
    tags: { team: i % 3 === 0 ? 'data' : 'platform', env: i % 2 === 0 ? 'prod' : 'staging' },
    access: [ADMIN, role(i % 2 === 0 ? 'app' : 'etl', 'kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*')],
    pendingWindowDays: i % 3 === 0 ? 14 : 30,
  };
}

function hsmKey(i: number): Key {
  return {
    id: `hsm-obj-${i}`,
    backend: 'pkcs11',
    aliases: [],
    labels: [`hsm-signing-${i}`],
    spec: i % 2 === 0 ? 'RSA_3072' : 'ECC_NIST_P384',
    state: 'Enabled',
    createdAt: ago(200 + i),
    lastRotatedAt: ago(30 + (i % 20) * 5),
    rotation: { enabled: false },
    tags: { team: 'pki', env: 'prod' },
    access: [{ principal: 'hsm-user:signer', operations: ['sign', 'verify'] }, { principal: 'hsm-so:admin', operations: ['manage'] }],
  };
}

function legacyKey(i: number): Key {
  return {
    id: `local-${i}`,
    backend: 'local',
    aliases: [`alias/legacy-${i}`],
    spec: 'RSA_2048',
    state: 'Enabled',
    createdAt: ago(500 + i),
    lastRotatedAt: ago(200),
    rotation: { enabled: false },
    tags: { team: 'platform', env: 'staging' },
    access: [],
  };
}

/** One defect per key whose index ends in 7, by class. */
function addDefect(k: Key, i: number): void {
  const n = Math.floor(i / 10);
  if (i < 60) {
    const defects: Array<() => void> = [
      () => (k.lastRotatedAt = ago(420)),
      () => ((k.rotation as Record<string, unknown>).enabled = false),
      () => (k.spec = 'RSA_2048'),
      () => k.access?.push({ principal: '*', operations: ['kms:Decrypt'] }),
      () => k.access?.push(role('ops', 'kms:*')),
      () => (k.pendingWindowDays = 7),
    ];
    defects[n % defects.length]?.();
  } else if (i < 170) {
    const defects: Array<() => void> = [
      () => (k.lastRotatedAt = ago(800)),
      () => (k.spec = 'RSA_1024'),
      () => (k.spec = 'HMAC_224'),
      () => (k.lastRotatedAt = ago(450)),
    ];
    defects[n % defects.length]?.();
  } else if (i < 190) {
    if (n % 2 === 0) (k.rotation as Record<string, unknown>).enabled = true;
    else k.spec = 'DES3';
  } else k.spec = 'RSA_1024';
}

export function benchInput(): Record<string, unknown> {
  const keys = Array.from({ length: 200 }, (_, i) => {
    const k = i < 60 ? paymentsKey(i) : i < 170 ? appKey(i) : i < 190 ? hsmKey(i) : legacyKey(i);
    if (i % 10 === 7) addDefect(k, i);
    return k;
  });

  const finding = (i: number, type: string, file: string, fingerprint = fp(i + 1000)): Record<string, unknown> => ({
    ruleId: type,
    type,
    title: { 'aws-access-key': 'AWS access key ID', 'private-key': 'Private key', 'github-token': 'GitHub token', 'slack-token': 'Slack token' }[type] ?? type,
    severity: 'high',
    confidence: 'high',
    file,
    startLine: 3 + (i % 40),
    startColumn: 7,
    endLine: 3 + (i % 40),
    endColumn: 47,
    fingerprint,
    redacted: 'AKIA…QX',
  });
  const TYPES = ['aws-access-key', 'private-key', 'github-token', 'slack-token'];
  const findings = [
    ...Array.from({ length: 75 }, (_, i) => finding(i, TYPES[i % 4] ?? 'aws-access-key', `test/fixtures/secrets/${TYPES[i % 4]}-${i}.txt`)),
    ...Array.from({ length: 5 }, (_, i) => finding(75 + i, 'aws-access-key', `src/config/__snapshots__/config-${i}.test.ts.snap`)),
    ...[0, 1, 2].map((d) => finding(80 + d, 'aws-access-key', `src/legacy/keys-${d}.ts`, `sha256:${String(d).repeat(64)}`)),
    ...Array.from({ length: 5 }, (_, i) => finding(83 + i, 'aws-access-key', `docs/examples/setup-${i}.md`)),
    ...Array.from({ length: 5 }, (_, i) => finding(88 + i, 'aws-access-key', `src/services/billing-${i}.ts`)),
    ...Array.from({ length: 3 }, (_, i) => finding(93 + i, 'private-key', `src/certs/signing-${i}.ts`)),
    ...Array.from({ length: 2 }, (_, i) => finding(96 + i, 'github-token', `deploy/ci-${i}.yaml`)),
    ...Array.from({ length: 2 }, (_, i) => finding(98 + i, 'slack-token', `src/notify/slack-${i}.ts`)),
  ];

  const facts = Array.from({ length: 50 }, (_, i) =>
    i % 2 === 0
      ? { kind: 'secret-ref', file: `deploy/k8s/app-${i}.yaml`, line: 10 + i, column: 9, name: `SECRET_${i}`, source: i === 10 || i === 30 ? 'inline' : ['env', 'kms', 'secret-manager'][i % 3] }
      : {
          kind: 'key',
          file: `infra/kms-${i}.tf`,
          line: 3,
          column: 1,
          key: { id: `aws_kms_key.k${i}`, backend: 'aws-kms', aliases: [`alias/payments-tf-${i}`], spec: 'ECC_NIST_P256', rotation: { enabled: i !== 21, periodDays: 365 }, pendingWindowDays: i === 41 ? 7 : 30 },
        },
  );

  const files = Array.from({ length: 100 }, (_, i) =>
    i === 42 ? 'config/tls/server.pem' : i === 77 ? 'deploy/.env' : `${['src/services/', 'src/lib/', 'test/unit/', 'docs/'][i % 4]}file-${i}.${['ts', 'ts', 'json', 'md'][i % 4]}`,
  );

  return {
    now: new Date(NOW).toISOString().replace('.000Z', 'Z'),
    repo: { name: 'acme/payments', visibility: 'private', defaultBranch: 'main', files },
    event: { kind: 'push', branch: 'main', sha: '9f2c4e1d0b7a6c5e4f3a2b1c0d9e8f7a6b5c4d3e' },
    findings,
    keys,
    facts,
  };
}
