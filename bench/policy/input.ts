/** The bench input: 200 managed keys, 100 findings, 50 config facts, generated deterministically. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

export function benchInput(): Record<string, unknown> {
  const r = rng(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const day = (d: number): string => new Date(Date.UTC(2026, 2, 1) - d * 86_400_000).toISOString();
  const hex = (n: number): string => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
  const keys = Array.from({ length: 200 }, (_, i) => ({
    id: `key-${i}`,
    backend: pick(['aws-kms', 'aws-kms', 'pkcs11', 'local']),
    aliases: [pick(['alias/payments-', 'alias/app-', 'alias/legacy-', 'alias/data-']) + i],
    labels: [],
    spec: pick(['RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'SYMMETRIC_DEFAULT', 'HMAC_256', 'RSA_1024', 'DES3']),
    state: 'Enabled',
    createdAt: day(30 + Math.floor(r() * 1500)),
    lastRotatedAt: r() < 0.5 ? day(Math.floor(r() * 600)) : null,
    rotation: { enabled: r() < 0.7, periodDays: pick([90, 180, 365, 730, null]) },
    tags: { team: pick(['payments', 'data', 'platform']), env: pick(['prod', 'staging']) },
    access: [
      { principal: 'arn:aws:iam::111122223333:role/KeyAdmin', operations: ['kms:Create*', 'kms:Put*', 'kms:ScheduleKeyDeletion'] },
      { principal: `arn:aws:iam::111122223333:role/${pick(['payments-api', 'app', 'ops'])}`, operations: [pick(['kms:Sign', 'kms:Decrypt', 'kms:*'])] },
      ...(r() < 0.05 ? [{ principal: '*', operations: ['kms:Decrypt'] }] : []),
    ],
    pendingWindowDays: pick([7, 14, 30]),
  }));
  const findings = Array.from({ length: 100 }, (_, i) => ({
    ruleId: 'rule',
    type: pick(['aws-access-key', 'private-key', 'github-token', 'slack-token']),
    title: 'Secret',
    severity: 'high',
    confidence: 'high',
    file: pick(['src/', 'test/fixtures/secrets/', 'deploy/', 'docs/']) + `f${i}.ts`,
    startLine: 1 + i,
    startColumn: 1,
    endLine: 1 + i,
    endColumn: 30,
    fingerprint: `sha256:${hex(64)}`,
    redacted: 'AKIA…XX',
  }));
  const facts = Array.from({ length: 50 }, (_, i) =>
    i % 2 === 0
      ? { kind: 'secret-ref', file: `deploy/app-${i}.yaml`, line: 10 + i, name: `SECRET_${i}`, source: pick(['env', 'kms', 'inline', 'secret-manager']) }
      : { kind: 'key', file: `infra/kms-${i}.tf`, line: 3, key: { id: `aws_kms_key.k${i}`, backend: 'aws-kms', aliases: [`alias/payments-tf-${i}`], spec: pick(['RSA_2048', 'ECC_NIST_P256']), rotation: { enabled: r() < 0.5, periodDays: 365 }, pendingWindowDays: pick([7, 30]) } },
  );
  return {
    now: '2026-03-01T00:00:00Z',
    repo: { name: 'acme/payments', visibility: 'public', files: Array.from({ length: 100 }, (_, i) => pick(['src/a', 'certs/c', 'config/', 'lib/']) + `${i}${pick(['.ts', '.pem', '.env', '.json'])}`) },
    event: { kind: 'push', branch: 'main' },
    findings,
    keys,
    facts,
  };
}

