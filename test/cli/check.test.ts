/**
 * `keywarden check`: repository key facts (Terraform, CloudFormation, Kubernetes) held to the key
 * policy and the built-in packs, through `main()` with the real OPA build.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import type { CheckReport } from '../../src/cli/commands/check.js';
import { opa } from '../policy/helpers.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/inspect');
const BASELINES = 'extends: [keywarden:aws-kms-baseline, keywarden:gcp-kms-baseline, keywarden:azure-key-vault-baseline, keywarden:leak-response]';
let dir: string;

async function check(cwd: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(['check', ...args], { cwd, stdout: (s) => void (out += s), stderr: (s) => void (err += s), isTTY: false, env: { ...process.env, KEYWARDEN_OPA: opa() } });
  return { code, out, err };
}

function repo(name: string, files: Record<string, string>, policy = `version: 1\nname: repo\n${BASELINES}\n`): string {
  const root = path.join(dir, name);
  mkdirSync(path.join(root, '.github'), { recursive: true });
  writeFileSync(path.join(root, '.github/keywarden.yml'), policy);
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    writeFileSync(path.join(root, f), text);
  }
  return root;
}

const report = (out: string): CheckReport => JSON.parse(out) as CheckReport;
const rulesAt = (r: CheckReport, file: string): string[] =>
  r.violations
    .filter((v) => (v.subject as { file?: string }).file === file)
    .map((v) => v.rule)
    .sort();

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'kw-check-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('keywarden check', () => {
  it('finds every problem of the non-compliant Terraform and CloudFormation, at the resource, with the pack line that demands it', async () => {
    const root = repo('bad', {});
    cpSync(path.join(FIXTURES, 'terraform/noncompliant'), path.join(root, 'infra'), { recursive: true });
    cpSync(path.join(FIXTURES, 'cloudformation/kms.yaml'), path.join(root, 'cfn/kms.yaml'));
    const { code, out } = await check(root, '--format', 'json');
    expect(code).toBe(1);
    const r = report(out);
    expect(rulesAt(r, 'infra/main.tf')).toEqual(
      expect.arrayContaining([
        'keys/aws-kms-keys/access/forbid/operation',
        'keys/aws-kms-keys/access/forbid/wildcard-principal',
        'keys/aws-kms-keys/access/separate-duties',
        'keys/aws-kms-keys/destroy/pending-window',
        'keys/aws-kms-keys/spec/min-size',
        'keys/aws-kms-symmetric-rotation/rotation/automatic',
      ]),
    );
    expect(rulesAt(r, 'cfn/kms.yaml')).toEqual(expect.arrayContaining(['keys/aws-kms-keys/access/forbid/wildcard-principal', 'keys/aws-kms-keys/destroy/pending-window']));
    // Each violation says where the pack demands it.
    for (const v of r.violations) expect(v.policy.file).toMatch(/^keywarden:[a-z-]+$/);
    expect(r.violations.every((v) => typeof (v.subject as { line?: unknown }).line === 'number')).toBe(true);
  });

  it('passes the compliant configuration: the account root keeps kms:* (the AWS default key policy), nothing else is flagged', async () => {
    const root = repo('good', {});
    cpSync(path.join(FIXTURES, 'terraform/compliant'), path.join(root, 'infra'), { recursive: true });
    const { code, out } = await check(root, '--format', 'json');
    const r = report(out);
    expect(r.violations).toEqual([]);
    expect(code).toBe(0);
    expect(r.summary.keys).toBeGreaterThan(0);
  });

  it('judges nothing it could not resolve, and counts it', async () => {
    const root = repo('unknown', {
      'main.tf': 'variable "rotate" {}\nvariable "window" {}\nresource "aws_kms_key" "k" {\n  enable_key_rotation     = var.rotate\n  deletion_window_in_days = var.window\n}\n',
    });
    const { code, out } = await check(root, '--format', 'json');
    const r = report(out);
    expect(r.violations).toEqual([]);
    expect(code).toBe(0);
    expect(r.summary.unknown).toMatchObject({ rotation: 1, pendingWindowDays: 1 });
  });

  it('applies AWS’s defaults to what is not written: no rotation, a 30-day window', async () => {
    const root = repo('defaults', { 'main.tf': 'resource "aws_kms_key" "plain" {}\n' });
    const r = report((await check(root, '--format', 'json')).out);
    expect(rulesAt(r, 'main.tf')).toEqual(['keys/aws-kms-symmetric-rotation/rotation/automatic']);
  });

  it('does not ask AWS to rotate an asymmetric or HMAC key, and holds a rotation period to at most a year', async () => {
    const root = repo('families', {
      'main.tf': [
        'resource "aws_kms_key" "sign" {\n  customer_master_key_spec = "ECC_NIST_P256"\n  key_usage = "SIGN_VERIFY"\n}',
        'resource "aws_kms_key" "mac" {\n  customer_master_key_spec = "HMAC_256"\n  key_usage = "GENERATE_VERIFY_MAC"\n}',
        'resource "aws_kms_key" "slow" {\n  enable_key_rotation = true\n  rotation_period_in_days = 730\n}',
        '',
      ].join('\n'),
    });
    const r = report((await check(root, '--format', 'json')).out);
    expect(r.violations.map((v) => `${(v.subject as { id: string }).id} ${v.rule}`)).toEqual(['aws_kms_key.slow keys/aws-kms-symmetric-rotation/rotation/period']);
  });

  it('prints file:line, rule and policy line in text, and SARIF for code scanning', async () => {
    const root = repo('formats', { 'main.tf': 'resource "aws_kms_key" "plain" {\n  deletion_window_in_days = 7\n}\n' });
    const text = await check(root);
    expect(text.code).toBe(1);
    expect(text.out).toMatch(/^main\.tf:1 {2}high {2}keys\/aws-kms-keys\/destroy\/pending-window {2}.*\(policy keywarden:aws-kms-baseline:\d+:\d+\)$/m);
    expect(text.out).toMatch(/✖ 2 violations · 1 key and 0 secret references in \d+ configuration files? · policy /);
    const sarif = JSON.parse((await check(root, '--format', 'sarif')).out) as { runs: { results: { ruleId: string; locations: { physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } } }[] }[] }[] };
    const results = sarif.runs[0]!.results;
    expect(results.map((x) => x.ruleId).sort()).toEqual(['keys/aws-kms-keys/destroy/pending-window', 'keys/aws-kms-symmetric-rotation/rotation/automatic']);
    expect(results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe('main.tf');
  });

  it('reports a Kubernetes Secret with inline values, never the values', async () => {
    const root = repo('k8s', { 'deploy/secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata:\n  password: ZmFrZS1wYXNzd29yZA==\n' });
    const { code, out } = await check(root, '--format', 'json');
    expect(code).toBe(1);
    expect(rulesAt(report(out), 'deploy/secret.yaml')).toEqual(['storage/require-reference']);
    expect(out).not.toContain('ZmFrZS1wYXNzd29yZA==');
  });

  it('holds against hostile files: invalid HCL and YAML are problems at their line, a symlink is not followed, an oversized file is not read', async () => {
    const root = repo('hostile', {
      'broken.tf': 'resource "aws_kms_key" "k" {\n  enable_key_rotation = \n',
      'broken.yaml': 'AWSTemplateFormatVersion: "2010-09-09"\nResources: [\n',
      'deep.tf': `locals {\n  x = ${'['.repeat(50_000)}\n}\n`,
      'big.json': `{"a": "${'x'.repeat(3 * 1024 * 1024)}"}`,
      'ok.tf': 'resource "aws_kms_key" "plain" {\n  enable_key_rotation = true\n}\n',
    });
    symlinkSync('/etc/passwd', path.join(root, 'link.tf'));
    const { code, out } = await check(root, '--format', 'json');
    const r = report(out);
    const codes = r.problems.map((p) => `${p.file} ${p.code}`);
    expect(codes).toEqual(expect.arrayContaining(['big.json file-too-large', 'broken.yaml yaml-syntax']));
    expect(codes.some((c) => c.startsWith('broken.tf hcl-'))).toBe(true);
    expect(codes.some((c) => c.startsWith('deep.tf hcl-'))).toBe(true);
    for (const p of r.problems) expect(p.line).toBeGreaterThanOrEqual(1);
    expect(r.problems.some((p) => p.file === 'link.tf')).toBe(false);
    // The rest of the repository is still checked.
    expect(r.summary.keys).toBeGreaterThanOrEqual(1);
    expect(code).toBe(0);
  });

  it('--fix turns rotation on and sets the window within the policy, edits only those lines, leaves expressions and symlinks alone, and is idempotent', async () => {
    const root = repo('fix', {
      'main.tf': 'resource "aws_kms_key" "empty" {}\n\nresource "aws_kms_key" "old" {\n  description             = "old"\n  enable_key_rotation     = false # was off\n  deletion_window_in_days = 7\n}\n\nresource "aws_kms_key" "v" {\n  enable_key_rotation = var.rot\n}\n\nvariable "rot" {}\n',
      'cfn/key.yaml': 'AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      Description: data\n',
    });
    const outside = path.join(dir, 'outside.tf');
    writeFileSync(outside, 'resource "aws_kms_key" "t" {}\n');
    symlinkSync(outside, path.join(root, 'linked.tf'));
    const first = await check(root, '--fix', '--format', 'json');
    expect(first.err).toMatch(/4 fixes applied in 2 files/);
    const tf = readFileSync(path.join(root, 'main.tf'), 'utf8');
    expect(tf).toContain('resource "aws_kms_key" "empty" {\n  enable_key_rotation = true\n}\n');
    expect(tf).toContain('  enable_key_rotation     = true # was off\n  deletion_window_in_days = 30\n');
    expect(tf).toContain('  enable_key_rotation = var.rot\n');
    expect(readFileSync(path.join(root, 'cfn/key.yaml'), 'utf8')).toBe('AWSTemplateFormatVersion: "2010-09-09"\nResources:\n  Key:\n    Type: AWS::KMS::Key\n    Properties:\n      EnableKeyRotation: true\n      Description: data\n');
    // A symlink is neither read nor written through.
    expect(readFileSync(outside, 'utf8')).toBe('resource "aws_kms_key" "t" {}\n');
    const after = report(first.out);
    expect(after.violations.filter((v) => /rotation\/automatic|pending-window/.test(v.rule))).toEqual([]);
    const second = await check(root, '--fix', '--format', 'json');
    expect(second.err).toMatch(/0 fixes applied in 0 files/);
  });

  it('--fix sets a Google key\'s rotation period and destroy window in seconds, and gives an Azure key a rotation policy', async () => {
    const root = repo('fix-gcp-azure', {
      'gcp.tf':
        'resource "google_kms_crypto_key" "none" {\n  name     = "none"\n  key_ring = "r"\n}\n\nresource "google_kms_crypto_key" "slow" {\n  name                       = "slow"\n  key_ring                   = "r"\n  rotation_period            = "31536000s" # a year\n  destroy_scheduled_duration = "86400s"\n}\n',
      'azure.tf': 'resource "azurerm_key_vault_key" "k" {\n  name         = "k"\n  key_vault_id = "v"\n  key_type     = "RSA"\n  key_size     = 4096\n  key_opts     = ["decrypt", "encrypt"]\n}\n',
    });
    const first = await check(root, '--fix', '--format', 'json');
    expect(first.err).toMatch(/fixes? applied in 2 files/);
    const gcp = readFileSync(path.join(root, 'gcp.tf'), 'utf8');
    expect(gcp).toContain('resource "google_kms_crypto_key" "none" {\n  rotation_period = "7776000s"\n');
    expect(gcp).toContain('  rotation_period            = "7776000s" # a year\n  destroy_scheduled_duration = "2592000s"\n');
    const azure = readFileSync(path.join(root, 'azure.tf'), 'utf8');
    expect(azure).toContain('resource "azurerm_key_vault_key" "k" {\n  rotation_policy {\n    automatic {\n      time_before_expiry = "P30D"\n    }\n    expire_after         = "P120D"\n    notify_before_expiry = "P29D"\n  }\n  name         = "k"\n');
    const after = report(first.out);
    expect(after.violations.filter((v) => /rotation\/|pending-window/.test(v.rule))).toEqual([]);
    expect((await check(root, '--fix', '--format', 'json')).err).toMatch(/0 fixes applied in 0 files/);
  });

  it('holds credentials written into TypeScript to the storage policy, at their line', async () => {
    const id = `AKIA${'Z3'.repeat(8)}`;
    const root = repo('code-creds', {
      'src/kms.ts': `import { KMSClient } from '@aws-sdk/client-kms';\nexport const kms = new KMSClient({\n  credentials: { accessKeyId: '${id}', secretAccessKey: '${'s'.repeat(40)}' },\n});\n`,
      'src/ok.ts': "import { KMSClient } from '@aws-sdk/client-kms';\nexport const kms = new KMSClient({});\n",
    }, 'version: 1\nname: repo\nstorage:\n  require-reference: [env, secret-manager]\n');
    const { code, out } = await check(root, '--format', 'json');
    expect(code).toBe(1);
    const r = report(out);
    expect(r.violations.map((v) => `${(v.subject as { file?: string }).file}:${(v.subject as { line?: number }).line}:${v.rule}`)).toEqual(['src/kms.ts:3:storage/require-reference']);
    expect(out).not.toContain(id);
  });

  it('prints repository text safely: a resource name cannot forge a line or drive the terminal', async () => {
    const root = repo('forged-name', { 'kms.tf': 'resource "aws_kms_key" "x\\nforged.tf:1  critical  all-clear\\u001b[2J" {\n  enable_key_rotation = false\n}\n' });
    const { code, out } = await check(root);
    expect(code).toBe(1);
    expect(out.split('\n').some((l) => l.startsWith('forged.tf'))).toBe(false);
    expect(out).not.toContain('\u001b');
  });

  it('runs the custom .rego modules of policies/ over the same facts', async () => {
    const root = repo('custom-rego', { 'legacy/kms.tf': 'resource "aws_kms_key" "old" {\n  enable_key_rotation = true\n}\n', 'new/kms.tf': 'resource "aws_kms_key" "new" {\n  enable_key_rotation = true\n}\n' }, 'version: 1\nname: repo\n');
    mkdirSync(path.join(root, 'policies'));
    writeFileSync(
      path.join(root, 'policies/no_legacy.rego'),
      'package keywarden.custom.no_legacy\n\nviolations contains v if {\n\tsome f in input.facts\n\tstartswith(f.file, "legacy/")\n\tv := {"rule": "custom/no-legacy-keys", "message": "No new keys under legacy/.", "severity": "medium", "policy": {"file": "policies/no_legacy.rego", "line": 3, "column": 1, "path": ""}, "subject": {"kind": "key-config", "id": f.key.id, "file": f.file, "line": f.line}}\n}\n',
    );
    const { code, out } = await check(root, '--format', 'json');
    expect(code).toBe(1);
    expect(report(out).violations.map((v) => `${(v.subject as { file?: string }).file}:${v.rule}`)).toEqual(['legacy/kms.tf:custom/no-legacy-keys']);
    expect((await check(root, '--policies', 'nope')).code).toBe(2);
  });

  it('refuses an unknown pack at its line, and exits 2', async () => {
    const root = repo('nopack', {}, 'version: 1\nname: repo\nextends: [keywarden:no-such-pack]\n');
    const { code, err } = await check(root);
    expect(code).toBe(2);
    expect(err).toMatch(/no built-in policy pack/);
    expect(err).toMatch(/keywarden:aws-kms-baseline/);
  });
});
