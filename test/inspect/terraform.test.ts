/**
 * Terraform → facts: realistic KMS configurations, compliant and not; variables, locals, tfvars and
 * module inputs resolved where literal; everything else unknown with a reason, never a guess; each
 * fact and value at its line and column.
 */
import { describe, expect, it } from 'vitest';
import { inspectFile, inspectFiles } from '../../src/inspect/index.js';
import { factNamed, fixture, fixtureFiles, valueOf } from './helpers.js';

describe('AWS KMS keys', () => {
  const r = inspectFiles(fixtureFiles('terraform/compliant'));

  it('reads the compliant module with no problem', () => {
    expect(r.problems).toEqual([]);
    expect(r.facts.map((f) => `${f.kind}:${f.name}`).sort()).toEqual([
      'alias:aws_kms_alias.payments',
      'alias:aws_kms_alias.signing',
      'key:aws_kms_key.payments',
      'key:aws_kms_key.signing',
    ]);
  });

  it('resolves variables (defaults in another file) and locals, at the attribute', () => {
    const key = factNamed(r, 'key', 'aws_kms_key.payments');
    expect(key).toMatchObject({ file: 'terraform/compliant/main.tf', line: 71, column: 1, provider: 'aws', format: 'terraform', resourceType: 'aws_kms_key' });
    expect(key.rotationEnabled).toEqual({ state: 'known', value: true, line: 73, column: 3 });
    expect(key.rotationPeriodDays).toEqual({ state: 'known', value: 90, line: 74, column: 3 });
    expect(key.deletionWindowDays).toEqual({ state: 'known', value: 30, line: 75, column: 3 });
    expect(key.multiRegion).toEqual({ state: 'absent' });
    // No spec written: AWS's default is symmetric, which the family says; the spec itself stays absent.
    expect(key.spec).toEqual({ state: 'absent' });
    expect(valueOf(key.family)).toBe('symmetric');
    expect(key.aliases).toEqual(['alias/payments-prod-data']);
  });

  it('resolves a policy document data source into statements, at each statement block', () => {
    const key = factNamed(r, 'key', 'aws_kms_key.payments');
    const statements = valueOf(key.policy);
    expect(statements.map((s) => s.sid)).toEqual(['EnableRootAccess', 'KeyAdministration', 'KeyUse']);
    const [root, admin, use] = statements;
    // The account id is read at plan time: the reference is kept, so the principal is still recognisably the root.
    expect(valueOf(root!.principals)).toEqual(['arn:aws:iam::${data.aws_caller_identity.current.account_id}:root']);
    expect(valueOf(root!.actions)).toEqual(['kms:*']);
    expect(root).toMatchObject({ line: 23, column: 3, hasConditions: false });
    expect(valueOf(root!.effect)).toBe('Allow');
    expect(valueOf(admin!.principals)).toEqual(['arn:aws:iam::111122223333:role/KeyAdmin']);
    expect(valueOf(admin!.actions)).toContain('kms:ScheduleKeyDeletion');
    // `effect` omitted in a statement block is Allow, as the data source renders it.
    expect(valueOf(admin!.effect)).toBe('Allow');
    expect(valueOf(use!.actions)).toEqual(['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey']);
  });

  it('reads jsonencode policies with each statement at its object, and asymmetric specs', () => {
    const key = factNamed(r, 'key', 'aws_kms_key.signing');
    expect(key.spec).toMatchObject({ state: 'known', value: 'ECC_NIST_P256' });
    expect(valueOf(key.usage)).toBe('sign-verify');
    expect(valueOf(key.family)).toBe('asymmetric');
    expect(key.rsaBits).toEqual({ state: 'absent' });
    const [root, sign] = valueOf(key.policy);
    expect(root).toMatchObject({ sid: 'EnableRootAccess', line: 95, column: 7 });
    expect(valueOf(root!.principals)).toEqual(['arn:aws:iam::111122223333:root']);
    expect(valueOf(sign!.principals)).toEqual(['arn:aws:iam::111122223333:role/payments-signer']);
    expect(key.aliases).toEqual(['alias/payments-signing']);
  });

  it('links aliases to their key by address', () => {
    const alias = factNamed(r, 'alias', 'aws_kms_alias.signing');
    expect(alias.targetKey).toBe('aws_kms_key.signing');
    expect(alias.aliasName).toMatchObject({ state: 'known', value: 'alias/payments-signing' });
    expect(alias.targetKeyId).toMatchObject({ state: 'unknown', reason: 'aws_kms_key.signing.arn is known only after apply' });
  });
});

describe('non-compliant configuration', () => {
  const r = inspectFile('terraform/noncompliant/main.tf', fixture('terraform/noncompliant/main.tf'));

  it('reads rotation off, a short window and multi-region as written', () => {
    expect(r.problems).toEqual([]);
    const key = factNamed(r, 'key', 'aws_kms_key.legacy');
    expect(key.rotationEnabled).toMatchObject({ state: 'known', value: false, line: 3 });
    expect(key.deletionWindowDays).toMatchObject({ state: 'known', value: 7, line: 4 });
    expect(key.multiRegion).toMatchObject({ state: 'known', value: true });
  });

  it('reads a heredoc JSON policy: a wildcard principal with a condition, kms:* to a role', () => {
    const [everyone, app] = valueOf(factNamed(r, 'key', 'aws_kms_key.legacy').policy);
    expect(everyone).toMatchObject({ sid: 'Everyone', hasConditions: true });
    expect(valueOf(everyone!.principals)).toEqual(['*']);
    expect(valueOf(everyone!.actions)).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(app).toMatchObject({ sid: 'AppEverything', hasConditions: false });
    expect(valueOf(app!.principals)).toEqual(['arn:aws:iam::111122223333:role/app']);
    expect(valueOf(app!.actions)).toEqual(['kms:*']);
    // Statements of a JSON string have no positions of their own: they point at the policy attribute.
    expect(app).toMatchObject({ line: 7, column: 3 });
  });

  it('reads RSA size and HMAC family from the spec', () => {
    const rsa = factNamed(r, 'key', 'aws_kms_key.rsa');
    expect(valueOf(rsa.rsaBits)).toBe(2048);
    expect(valueOf(rsa.family)).toBe('asymmetric');
    expect(valueOf(rsa.usage)).toBe('encrypt-decrypt');
    const hmac = factNamed(r, 'key', 'aws_kms_key.hmac');
    expect(valueOf(hmac.family)).toBe('hmac');
    expect(valueOf(hmac.usage)).toBe('generate-verify-mac');
    expect(valueOf(hmac.rotationPeriodDays)).toBe(400);
    expect(hmac.rotationEnabled).toEqual({ state: 'absent' });
  });

  it('reads grants and IAM access keys, never a secret', () => {
    const grant = factNamed(r, 'grant', 'aws_kms_grant.batch');
    expect(grant).toMatchObject({ targetKey: 'aws_kms_key.legacy', hasConstraints: true });
    expect(valueOf(grant.grantee)).toBe('arn:aws:iam::444455556666:role/batch');
    expect(valueOf(grant.operations)).toEqual(['Decrypt', 'GenerateDataKey']);
    const ak = factNamed(r, 'access-key', 'aws_iam_access_key.ci');
    expect(ak).toMatchObject({ encryptedWithPgp: false, line: 61, column: 1 });
    expect(valueOf(ak.status)).toBe('Active');
    expect(ak.user).toMatchObject({ state: 'unknown', reason: 'aws_iam_user.ci.name is known only after apply' });
  });
});

describe('unknowns are unknown, with a reason', () => {
  const r = inspectFiles(fixtureFiles('terraform/unknowns'));
  const fromVar = factNamed(r, 'key', 'aws_kms_key.from_var');

  it('a variable without a default, one set in a tfvars file chosen at plan time', () => {
    expect(fromVar.rotationEnabled).toEqual({ state: 'unknown', reason: 'variable var.rotate is also set in prod.tfvars, chosen at plan time', line: 31, column: 3 });
    // terraform.tfvars is loaded automatically: it beats the default.
    expect(valueOf(fromVar.deletionWindowDays)).toBe(21);
    expect(fromVar.policy).toMatchObject({ state: 'unknown', reason: 'the policy: file("./policy.json") reads a file Keywarden did not read' });
  });

  it('a cycle among locals is a problem, and unknown, not a hang', () => {
    expect(fromVar.rotationPeriodDays).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/cycle/) });
    expect(r.problems).toEqual([expect.objectContaining({ code: 'tf-local-cycle', file: 'terraform/unknowns/main.tf', line: 16 })]);
  });

  it('each/count values and conditionals on them', () => {
    const perKey = factNamed(r, 'key', 'aws_kms_key.per_key');
    expect(perKey.rotationEnabled).toMatchObject({ state: 'unknown', reason: 'each.key differs per instance' });
    // The condition is on a literal (tfvars) value: it resolves.
    expect(valueOf(perKey.deletionWindowDays)).toBe(14);
    expect(perKey.policy).toMatchObject({ state: 'unknown', reason: 'the policy document has dynamic statements' });
  });

  it('an unresolvable principal makes that statement unknown, not the whole policy', () => {
    const [first, second] = valueOf(factNamed(r, 'key', 'aws_kms_key.partial').policy);
    expect(first!.principals).toMatchObject({ state: 'unknown', reason: 'variable var.principal is not declared in the files inspected' });
    expect(valueOf(first!.actions)).toEqual(['kms:*']);
    expect(valueOf(second!.principals)).toEqual(['arn:aws:iam::111122223333:root']);
  });

  it('without the other files of the module, a variable is unknown, not guessed', () => {
    const alone = inspectFile('main.tf', 'resource "aws_kms_key" "k" {\n  enable_key_rotation = var.rotate\n}\n');
    expect(factNamed(alone, 'key', 'aws_kms_key.k').rotationEnabled).toMatchObject({ state: 'unknown', reason: 'variable var.rotate is not declared in the files inspected' });
  });
});

describe('module calls', () => {
  const r = inspectFiles(fixtureFiles('terraform/modules'));

  it('binds literal inputs to the child module, one fact per call, addressed through the module', () => {
    expect(r.problems).toEqual([]);
    const orders = factNamed(r, 'key', 'module.orders_key.aws_kms_key.this');
    expect(orders).toMatchObject({ file: 'terraform/modules/modules/kms/main.tf', line: 1, via: { module: 'orders_key', file: 'terraform/modules/root/main.tf', line: 1, column: 1 } });
    expect(valueOf(orders.rotationEnabled)).toBe(false);
    expect(valueOf(orders.deletionWindowDays)).toBe(10);
    expect(orders.aliases).toEqual(['alias/orders']);
    // An input not given falls back to the child's default.
    const billing = factNamed(r, 'key', 'module.billing_key.aws_kms_key.this');
    expect(valueOf(billing.rotationEnabled)).toBe(true);
    expect(valueOf(billing.deletionWindowDays)).toBe(30);
    // The child folder is not read a second time on its own.
    expect(r.facts.filter((f) => f.kind === 'key')).toHaveLength(2);
  });

  it('a cycle of module calls is a problem, not a hang', () => {
    const c = inspectFiles([
      { path: 'a/main.tf', text: 'module "b" {\n  source = "../b"\n}\nresource "aws_kms_key" "a" {}\n' },
      { path: 'b/main.tf', text: 'module "a" {\n  source = "../a"\n}\nresource "aws_kms_key" "b" {}\n' },
    ]);
    expect(c.problems.map((p) => p.code)).toContain('tf-module-cycle');
    expect(c.facts.some((f) => f.name.endsWith('aws_kms_key.a'))).toBe(true);
  });
});

describe('GCP, Azure and Vault keys', () => {
  const r = inspectFiles(fixtureFiles('terraform/providers'));

  it('GCP: rotation period and destroy duration in days, algorithm and purpose', () => {
    expect(r.problems).toEqual([]);
    const data = factNamed(r, 'key', 'google_kms_crypto_key.data');
    expect(data).toMatchObject({ provider: 'gcp', line: 6 });
    expect(data.rotationPeriodDays).toEqual({ state: 'known', value: 90, line: 9, column: 3 });
    expect(valueOf(data.rotationEnabled)).toBe(true);
    expect(valueOf(data.deletionWindowDays)).toBe(1);
    expect(valueOf(data.family)).toBe('symmetric');
    const signer = factNamed(r, 'key', 'google_kms_crypto_key.signer');
    expect(signer.rotationEnabled).toEqual({ state: 'absent' });
    expect(valueOf(signer.spec)).toBe('RSA_SIGN_PSS_2048_SHA256');
    expect(valueOf(signer.rsaBits)).toBe(2048);
    expect(valueOf(signer.usage)).toBe('sign-verify');
    expect(signer.extra.protectionLevel).toMatchObject({ state: 'known', value: 'HSM' });
  });

  it('Azure: rotation policy, period from expiry minus lead time, key size', () => {
    const app = factNamed(r, 'key', 'azurerm_key_vault_key.app');
    expect(app.extra.hasRotationPolicy).toMatchObject({ state: 'known', value: true, line: 8 });
    expect(valueOf(app.rotationEnabled)).toBe(true);
    expect(valueOf(app.rotationPeriodDays)).toBe(60);
    expect(valueOf(app.rsaBits)).toBe(3072);
    expect(valueOf(app.usage)).toBe('encrypt-decrypt');
    const legacy = factNamed(r, 'key', 'azurerm_key_vault_key.no_policy');
    expect(legacy.extra.hasRotationPolicy).toEqual({ state: 'known', value: false });
    expect(legacy.rotationEnabled).toEqual({ state: 'absent' });
    expect(valueOf(legacy.rsaBits)).toBe(2048);
    expect(valueOf(legacy.extra.expirationDate!)).toBe('2027-01-31T00:00:00Z');
  });

  it('Vault transit: auto-rotate period in seconds, min decryption version, deletion', () => {
    const orders = factNamed(r, 'key', 'vault_transit_secret_backend_key.orders');
    expect(valueOf(orders.rotationEnabled)).toBe(true);
    expect(valueOf(orders.rotationPeriodDays)).toBe(30);
    expect(valueOf(orders.extra.minDecryptionVersion!)).toBe(1);
    expect(valueOf(orders.extra.deletionAllowed!)).toBe(false);
    const hmac = factNamed(r, 'key', 'vault_transit_secret_backend_key.hmac');
    expect(valueOf(hmac.family)).toBe('hmac');
    expect(hmac.rotationEnabled).toEqual({ state: 'absent' });
  });
});

describe('expressions', () => {
  const key = (body: string, extra = '') => {
    const r = inspectFile('k.tf', `${extra}\nresource "aws_kms_key" "k" {\n${body}\n}\n`);
    expect(r.problems).toEqual([]);
    return factNamed(r, 'key', 'aws_kms_key.k');
  };

  it('arithmetic, conditionals and string booleans of literals resolve', () => {
    expect(valueOf(key('  rotation_period_in_days = 30 * 3').rotationPeriodDays)).toBe(90);
    expect(valueOf(key('  deletion_window_in_days = true ? 14 : 7').deletionWindowDays)).toBe(14);
    expect(valueOf(key('  enable_key_rotation = "true"').rotationEnabled)).toBe(true);
    expect(valueOf(key('  deletion_window_in_days = local.w.days', 'locals {\n  w = { days = 20 }\n}').deletionWindowDays)).toBe(20);
    expect(valueOf(key('  deletion_window_in_days = var.m["x"]', 'variable "m" {\n  default = { x = 15 }\n}').deletionWindowDays)).toBe(15);
  });

  it('null is "not set", as in Terraform', () => {
    expect(key('  enable_key_rotation = null').rotationEnabled).toEqual({ state: 'absent' });
  });

  it('a policy of a local jsonencode, and a heredoc with an interpolation inside a string', () => {
    const viaLocal = key('  policy = local.p', 'locals {\n  p = jsonencode({ Statement = [{ Effect = "Deny", Principal = "*", Action = "kms:*", Resource = "*" }] })\n}');
    expect(valueOf(valueOf(viaLocal.policy)[0]!.effect)).toBe('Deny');
    const heredoc = key('  policy = <<EOT\n{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "${var.p}"}, "Action": "kms:*"}]}\nEOT', 'variable "p" {\n  default = "arn:aws:iam::111122223333:role/x"\n}');
    expect(valueOf(valueOf(heredoc.policy)[0]!.principals)).toEqual(['arn:aws:iam::111122223333:role/x']);
    const outside = key('  policy = <<EOT\n{"Statement": ${var.s}}\nEOT');
    expect(outside.policy).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/outside a string/) });
  });

  it('a policy that is not JSON is unknown', () => {
    expect(key('  policy = "not json"').policy).toMatchObject({ state: 'unknown', reason: 'the policy is not valid JSON' });
  });

  it('aws_kms_key_policy attaches its statements to the key', () => {
    const r = inspectFile(
      'k.tf',
      'resource "aws_kms_key" "k" {}\nresource "aws_kms_key_policy" "p" {\n  key_id = aws_kms_key.k.id\n  policy = jsonencode({ Statement = [{ Effect = "Allow", Principal = { AWS = "*" }, Action = "kms:*" }] })\n}\n',
    );
    const k = factNamed(r, 'key', 'aws_kms_key.k');
    expect(valueOf(valueOf(k.policy)[0]!.principals)).toEqual(['*']);
    expect(factNamed(r, 'key-policy', 'aws_kms_key_policy.p').targetKey).toBe('aws_kms_key.k');
  });
});

describe('policy documents that combine others', () => {
  it('source documents come first, own statements replace theirs by Sid, overrides replace last', () => {
    const text = `data "aws_iam_policy_document" "base" {
  statement {
    sid       = "Root"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::111122223333:root"]
    }
  }
  statement {
    sid     = "Use"
    actions = ["kms:Decrypt"]
  }
}
data "aws_iam_policy_document" "override" {
  statement {
    sid     = "Use"
    actions = ["kms:Encrypt"]
  }
}
data "aws_iam_policy_document" "final" {
  source_policy_documents   = [data.aws_iam_policy_document.base.json]
  override_policy_documents = [data.aws_iam_policy_document.override.json]
  statement {
    sid     = "Extra"
    effect  = "Deny"
    actions = ["kms:ScheduleKeyDeletion"]
    not_principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::111122223333:role/KeyAdmin"]
    }
  }
}
resource "aws_kms_key" "k" {
  policy = data.aws_iam_policy_document.final.json
}
`;
    const r = inspectFile('p.tf', text);
    expect(r.problems).toEqual([]);
    const sts = valueOf(factNamed(r, 'key', 'aws_kms_key.k').policy);
    expect(sts.map((s) => s.sid)).toEqual(['Root', 'Use', 'Extra']);
    expect(valueOf(sts[1]!.actions)).toEqual(['kms:Encrypt']);
    expect(valueOf(sts[2]!.effect)).toBe('Deny');
    expect(valueOf(sts[2]!.notPrincipals)).toEqual(['arn:aws:iam::111122223333:role/KeyAdmin']);
    expect(sts[2]!.principals).toEqual({ state: 'absent' });
  });

  it('a document that includes itself is unknown, not a hang', () => {
    const r = inspectFile('p.tf', 'data "aws_iam_policy_document" "a" {\n  source_policy_documents = [data.aws_iam_policy_document.a.json]\n}\nresource "aws_kms_key" "k" {\n  policy = data.aws_iam_policy_document.a.json\n}\n');
    expect(factNamed(r, 'key', 'aws_kms_key.k').policy).toMatchObject({ state: 'unknown', reason: expect.stringMatching(/includes itself/) });
  });
});

describe('dispatch', () => {
  it('folders are separate modules; a tfvars file alone gives no fact; other files are ignored', () => {
    const r = inspectFiles([
      { path: 'a/main.tf', text: 'variable "w" {\n  default = 10\n}\nresource "aws_kms_key" "k" {\n  deletion_window_in_days = var.w\n}\n' },
      { path: 'b/main.tf', text: 'variable "w" {\n  default = 20\n}\nresource "aws_kms_key" "k" {\n  deletion_window_in_days = var.w\n}\n' },
      { path: 'b/terraform.tfvars', text: 'w = 25\n' },
      { path: 'c/terraform.tfvars', text: 'w = 1\n' },
      { path: 'README.md', text: 'resource "aws_kms_key" "k" {}' },
    ]);
    expect(r.problems).toEqual([]);
    expect(r.facts.map((f) => [f.file, f.kind === 'key' ? valueOf(f.deletionWindowDays) : undefined])).toEqual([
      ['a/main.tf', 10],
      ['b/main.tf', 25],
    ]);
  });

  it('invalid HCL is a problem at its line and column; the other files of the folder are still read', () => {
    const r = inspectFiles([
      { path: 'm/bad.tf', text: 'resource "aws_kms_key" "x" {\n  enable_key_rotation = \n}\n' },
      { path: 'm/good.tf', text: 'resource "aws_kms_key" "y" {}\n' },
    ]);
    expect(r.problems).toEqual([{ code: 'hcl-syntax', file: 'm/bad.tf', line: 2, column: 25, message: expect.stringMatching(/^Terraform syntax: /) }]);
    expect(r.facts.map((f) => f.name)).toEqual(['aws_kms_key.y']);
  });
});

describe('file() and templatefile()', () => {
  const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Everyone', Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }] }, null, 2);
  const key = (policy: string): string => `resource "aws_kms_key" "k" {\n  enable_key_rotation = true\n  policy = ${policy}\n}\n`;

  it('reads a key policy from a JSON file beside the module, through path.module, also in a called module', () => {
    const r = inspectFiles([
      { path: 'infra/main.tf', text: 'module "kms" {\n  source = "./modules/kms"\n}\n' },
      { path: 'infra/modules/kms/main.tf', text: key('file("${path.module}/policy.json")') },
      { path: 'infra/modules/kms/policy.json', text: POLICY },
      { path: 'solo/main.tf', text: key('file("policy.json")') },
      { path: 'solo/policy.json', text: POLICY },
    ]);
    expect(r.problems).toEqual([]);
    for (const name of ['module.kms.aws_kms_key.k', 'aws_kms_key.k']) {
      const f = r.facts.find((x) => x.kind === 'key' && x.name === name && x.file.endsWith('main.tf'));
      expect(f, name).toBeDefined();
      const [s] = valueOf((f as Extract<typeof f, { kind: 'key' }>)!.policy);
      expect(valueOf(s!.principals)).toEqual(['*']);
    }
  });

  it('bounds the work of many roots reading one big file: not a key policy past 64 KiB, and one budget for the whole run', () => {
    const big = JSON.stringify({ Statement: Array.from({ length: 4000 }, (_, i) => ({ Sid: `s${i}`, Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' })) });
    const files = [{ path: 'shared/policy.json', text: big }];
    for (let i = 0; i < 200; i++) files.push({ path: `r${i}/main.tf`, text: key('file("../shared/policy.json")') });
    const r = inspectFiles(files);
    const policies = r.facts.filter((f) => f.kind === 'key').map((f) => (f as { policy: { state: string; reason?: string } }).policy);
    expect(policies).toHaveLength(200);
    expect(policies.every((p) => p.state === 'unknown' && /larger than a key policy/.test(p.reason ?? ''))).toBe(true);
    // Many module instances share one run budget.
    const small = inspectFiles(Array.from({ length: 30 }, (_, i) => ({ path: `m${i}/main.tf`, text: key(`jsonencode({ Statement = [${'{ Effect = "Allow", Action = "kms:Decrypt" }, '.repeat(300)}] })`) })), { totalBudget: 10_000 });
    expect(small.problems.some((p) => /as a whole/.test(p.message))).toBe(true);
  });

  it('is unknown for a file it did not read, one outside the repository, or a template with variables', () => {
    const r = inspectFiles([
      { path: 'a/main.tf', text: key('file("${path.module}/missing.json")') },
      { path: 'b/main.tf', text: key('file("../../../etc/passwd")') },
      { path: 'c/main.tf', text: key('file("/etc/passwd")') },
      { path: 'd/main.tf', text: key('templatefile("${path.module}/p.json.tpl", { account = "1" })') },
      { path: 'd/p.json.tpl', text: '{"Statement": [{"Principal": {"AWS": "arn:aws:iam::${account}:root"}}]}' },
    ]);
    const reasons = r.facts.filter((f) => f.kind === 'key').map((f) => (f as { file: string; policy: { state: string; reason?: string } }).policy);
    expect(reasons.map((p) => p.state)).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
    expect(reasons.map((p) => p.reason)).toEqual([expect.stringContaining('did not read'), expect.stringContaining('did not read'), expect.stringContaining('outside the repository'), expect.stringContaining('interpolates variables')]);
  });
});
