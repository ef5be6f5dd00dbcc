/**
 * The `bench/check` corpus: Terraform and CloudFormation (YAML and JSON) KMS configurations, each
 * case in its own folder, written the ways real repositories write them (heredoc and `jsonencode`
 * policies, `aws_iam_policy_document` data sources, `aws_kms_key_policy` resources, variables,
 * locals, tfvars, modules, `!Sub`/`!Ref`/Parameters, CDK synth output), compliant and not.
 *
 * Every case says what is wrong with it (`expected`: one entry per key and kind; `none` for a key
 * with nothing wrong). The expectations follow AWS's documented semantics and the AWS KMS baseline
 * as the issue states it, never Keywarden's output:
 *
 * - `rotation-off`: a symmetric encryption key (`SYMMETRIC_DEFAULT`, the default spec) without
 *   automatic rotation (`enable_key_rotation` / `EnableKeyRotation` default to false). HMAC,
 *   asymmetric and imported-material keys cannot rotate automatically: never asked to.
 * - `rotation-period`: rotation on with `rotation_period_in_days` / `RotationPeriodInDays` > 365
 *   (AWS's default, when unwritten, is 365).
 * - `deletion-window`: a pending window under 14 days (AWS allows 7–30, default 30).
 * - `rsa-size`: an RSA key under 3072 bits.
 * - `wildcard-principal`: an Allow statement whose principal is `*` (`"*"`, `{AWS: "*"}`, a list
 *   holding `*`), with or without a condition. Deny statements are not grants.
 * - `kms-star`: `kms:*` (in any case, IAM compares actions case-insensitively) or `*` allowed to a
 *   principal other than the account root (the root's `kms:*` is AWS's default key policy).
 * - `separation-of-duties`: one principal allowed both administrative actions (the key
 *   administrators' statement of AWS's default key policy: Create*, Put*, Disable*,
 *   ScheduleKeyDeletion, …) and cryptographic use (Encrypt, Decrypt, GenerateDataKey*, Sign, …),
 *   across statements too. `kms:*` or `*` holds both, so a `kms-star` grant is also this. The key
 *   users' `CreateGrant`/`ListGrants`/`RevokeGrant` under `kms:GrantIsForAWSResource` is part of
 *   key use in AWS's default key policy ("allows key users to use the KMS key with AWS services").
 *
 * Values are judged as Terraform / CloudFormation would deploy them without extra inputs: a
 * variable's or parameter's default, `terraform.tfvars`, a module call's arguments. A value with no
 * default at all cannot be known from the repository and is `none` (noted).
 *
 * `npx tsx bench/check/corpus.ts [--out DIR]` writes the corpus (default `bench/.work/check/`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

export const VIOLATION_KINDS = [
  'rotation-off',
  'rotation-period',
  'deletion-window',
  'rsa-size',
  'wildcard-principal',
  'kms-star',
  'separation-of-duties',
] as const;
export type ViolationKind = (typeof VIOLATION_KINDS)[number];
export type ExpectedKind = ViolationKind | 'none';

/** One expectation: `resource` is the Terraform address (`aws_kms_key.main`) or the CloudFormation logical id. */
export interface Expected {
  kind: ExpectedKind;
  resource: string;
}

export type CaseFormat = 'terraform' | 'terraform-json' | 'cloudformation-yaml' | 'cloudformation-json';

export interface CorpusCase {
  /** The case's folder under the corpus root. */
  name: string;
  format: CaseFormat;
  /** Relative path → content. */
  files: Record<string, string>;
  expected: Expected[];
  /** Why the expectation is what it is, where it is not obvious. */
  note?: string;
}

export interface ManifestCase {
  format: CaseFormat;
  files: string[];
  expected: Expected[];
  note?: string;
}

export interface Manifest {
  version: number;
  /** The policy file written at the corpus root. */
  policyFile: string;
  cases: Record<string, ManifestCase>;
}

/** Bump when cases change meaning. */
export const CORPUS_VERSION = 1;
export const POLICY_FILE = '.github/keywarden.yml';
export const POLICY_TEXT = 'version: 1\nname: bench\nextends: [keywarden:aws-kms-baseline]\n';

/** A case is compliant when none of its keys has anything wrong. */
export const isCompliant = (c: { expected: readonly Expected[] }): boolean => c.expected.every((e) => e.kind === 'none');

// ---------------------------------------------------------------------------------------------
// Writers: IAM policy JSON, HCL, CloudFormation YAML and JSON. Written for the corpus alone (it
// must not borrow Keywarden's parsers or writers: the benchmark judges them).

/** A Terraform expression written as is (`var.admin_role_arn`); inside a JSON string it becomes `${…}`. */
export class Raw {
  constructor(readonly expr: string) {}
  toJSON(): string {
    return `\${${this.expr}}`;
  }
}

/** A CloudFormation intrinsic function: `!Ref X` in YAML, `{ "Ref": "X" }` in JSON. */
export class Tag {
  constructor(
    readonly name: 'Ref' | 'Sub' | 'GetAtt' | 'Join' | 'If' | 'Equals',
    readonly value: Json,
  ) {}
}

export type Json = string | number | boolean | Raw | Tag | Json[] | { [key: string]: Json };

export const raw = (expr: string): Raw => new Raw(expr);
export const ref = (name: string): Tag => new Tag('Ref', name);
export const sub = (text: string): Tag => new Tag('Sub', text);
export const getAtt = (path: string): Tag => new Tag('GetAtt', path);
export const join = (sep: string, parts: Json[]): Tag => new Tag('Join', [sep, parts]);
export const cfnIf = (cond: string, a: Json, b: Json): Tag => new Tag('If', [cond, a, b]);
export const equals = (a: Json, b: Json): Tag => new Tag('Equals', [a, b]);

const isRecord = (v: Json): v is { [key: string]: Json } => typeof v === 'object' && !Array.isArray(v) && !(v instanceof Raw) && !(v instanceof Tag);

// ---------------------------------------------------------------------------------------------
// HCL

const HCL_IDENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** An HCL expression for a JSON-like value (the argument of `jsonencode(…)`, a list, a string). */
export function hcl(v: Json, indent = ''): string {
  if (v instanceof Raw) return v.expr;
  if (v instanceof Tag) throw new Error('a CloudFormation function in HCL');
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.every((x) => !isRecord(x) && !Array.isArray(x))) return `[${v.map((x) => hcl(x)).join(', ')}]`;
    return `[\n${v.map((x) => `${inner}${hcl(x, inner)},`).join('\n')}\n${indent}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  const names = keys.map((k) => (HCL_IDENT.test(k) ? k : JSON.stringify(k)));
  const width = Math.max(...names.map((n) => n.length));
  return `{\n${keys.map((k, i) => `${inner}${names[i]!.padEnd(width)} = ${hcl(v[k]!, inner)}`).join('\n')}\n${indent}}`;
}

/** One item of a block body: an attribute (`name = expr`) or lines written as they are (a nested block). */
export type BodyItem = [name: string, expr: string] | { text: string };

/**
 * A block (`resource "aws_kms_key" "main" { … }`), attributes aligned on `=` as `terraform fmt`
 * aligns consecutive single-line ones.
 */
export function block(header: string, body: readonly BodyItem[], indent = ''): string {
  const inner = `${indent}  `;
  const out: string[] = [];
  let group: [string, string][] = [];
  const flush = (): void => {
    const width = Math.max(0, ...group.map(([n]) => n.length));
    for (const [n, e] of group) out.push(`${inner}${n.padEnd(width)} = ${e}`);
    group = [];
  };
  // A multi-line expression's continuation lines follow the attribute's indentation; a heredoc's
  // lines are its content and stay as written.
  const continued = (e: string): string => (e.startsWith('<<') ? e : e.replace(/\n/g, `\n${inner}`));
  for (const item of body) {
    if (Array.isArray(item)) {
      if (item[1].includes('\n')) {
        flush();
        out.push(`${inner}${item[0]} = ${continued(item[1])}`);
      } else group.push(item);
    } else {
      flush();
      out.push(item.text.split('\n').map((l) => (l ? `${inner}${l}` : l)).join('\n'));
    }
  }
  flush();
  return `${indent}${header} {\n${out.join('\n')}\n${indent}}\n`;
}

export const str = (s: string): string => JSON.stringify(s);

/** `<<EOF` (or the indented `<<-EOT`) holding the policy as JSON. */
export function heredoc(policy: Json, style: 'EOF' | 'indented' = 'EOF'): string {
  const json = JSON.stringify(policy, null, 2);
  if (style === 'EOF') return `<<EOF\n${json}\nEOF`;
  return `<<-EOT\n${json.split('\n').map((l) => `    ${l}`).join('\n')}\n  EOT`;
}

export const jsonencode = (policy: Json): string => `jsonencode(${hcl(policy)})`;

/**
 * An `aws_iam_policy_document` data source for the statements of an IAM policy, as people write
 * them: one `statement` block each, `principals` per principal type, one `condition` per key.
 * `omitEffect` leaves `effect` out (the data source's default is Allow).
 */
export function policyDocument(name: string, policy: { Statement: Json }, opts: { omitEffect?: boolean } = {}): string {
  const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement];
  const list = (v: Json | undefined): string => hcl(v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const body: BodyItem[] = statements.map((s) => {
    if (!isRecord(s)) throw new Error('statement');
    const items: BodyItem[] = [];
    if (typeof s.Sid === 'string') items.push(['sid', str(s.Sid)]);
    if (!(opts.omitEffect && s.Effect === 'Allow')) items.push(['effect', str(String(s.Effect))]);
    if (s.Action !== undefined) items.push(['actions', list(s.Action)]);
    if (s.NotAction !== undefined) items.push(['not_actions', list(s.NotAction)]);
    items.push(['resources', list(s.Resource ?? '*')]);
    const principal = s.Principal;
    if (principal === '*') items.push({ text: block('principals', [['type', str('*')], ['identifiers', '["*"]']]).trimEnd() });
    else if (principal !== undefined && isRecord(principal)) {
      for (const [type, ids] of Object.entries(principal)) items.push({ text: block('principals', [['type', str(type)], ['identifiers', list(ids)]]).trimEnd() });
    }
    if (s.Condition !== undefined && isRecord(s.Condition)) {
      for (const [test, vars] of Object.entries(s.Condition)) {
        if (!isRecord(vars)) throw new Error('condition');
        for (const [variable, values] of Object.entries(vars)) {
          items.push({ text: block('condition', [['test', str(test)], ['variable', str(variable)], ['values', list(values)]]).trimEnd() });
        }
      }
    }
    return { text: block('statement', items).trimEnd() };
  });
  return block(`data "aws_iam_policy_document" "${name}"`, body);
}

// ---------------------------------------------------------------------------------------------
// CloudFormation

const LONG_FORM: Record<Tag['name'], string> = { Ref: 'Ref', Sub: 'Fn::Sub', GetAtt: 'Fn::GetAtt', Join: 'Fn::Join', If: 'Fn::If', Equals: 'Fn::Equals' };

/** The template as JSON: intrinsic functions in their long form. */
export function cfnJson(template: Json): string {
  const conv = (v: Json): unknown => {
    if (v instanceof Raw) throw new Error('a Terraform expression in CloudFormation');
    if (v instanceof Tag) {
      const value = v.name === 'GetAtt' && typeof v.value === 'string' ? v.value.split('.') : conv(v.value);
      return { [LONG_FORM[v.name]]: value };
    }
    if (Array.isArray(v)) return v.map(conv);
    if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, conv(x)]));
    return v;
  };
  return `${JSON.stringify(conv(template), null, 2)}\n`;
}

const PLAIN = /^[A-Za-z0-9][A-Za-z0-9_./ -]*$/;
/** Block context also takes `AWS::KMS::Key` and `kms:Create*` unquoted, as templates write them. */
const PLAIN_BLOCK = /^[A-Za-z0-9][A-Za-z0-9_./:* -]*$/;
const RESERVED = /^(true|false|yes|no|on|off|null|~|[-+]?[0-9][0-9_.eE+-]*)$/i;

function yamlScalar(s: string, context: 'flow' | 'block' = 'flow'): string {
  const plain = context === 'block' ? PLAIN_BLOCK.test(s) && !/: |:$| #/.test(s) : PLAIN.test(s);
  if (plain && !RESERVED.test(s) && !s.endsWith(' ')) return s;
  return `'${s.replace(/'/g, "''")}'`;
}

const yamlKey = (k: string): string => (/^[A-Za-z0-9_.-]+$/.test(k) && !RESERVED.test(k) ? k : yamlScalar(k));

/** A value in flow style (inside a tag: `!Join ['', [...]]`). */
function yamlFlow(v: Json): string {
  if (v instanceof Tag) return `!${v.name} ${yamlFlow(v.value)}`;
  if (v instanceof Raw) throw new Error('a Terraform expression in CloudFormation');
  if (typeof v === 'string') return yamlScalar(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(yamlFlow).join(', ')}]`;
  return `{ ${Object.entries(v).map(([k, x]) => `${yamlKey(k)}: ${yamlFlow(x)}`).join(', ')} }`;
}

/** The template as YAML, short-form tags (`!Sub`, `!Ref`, `!GetAtt`, `!Join`, `!If`). */
export function cfnYaml(template: Json): string {
  const lines: string[] = [];
  const emit = (v: Json, indent: string, lead: string): void => {
    // `lead` is what precedes the value on its first line ("Key:" or "-").
    if (typeof v === 'string') return void lines.push(`${lead} ${yamlScalar(v, 'block')}`);
    if (v instanceof Tag || v instanceof Raw || !(Array.isArray(v) || isRecord(v))) {
      lines.push(`${lead} ${yamlFlow(v)}`);
      return;
    }
    if (Array.isArray(v)) {
      if (v.length === 0) return void lines.push(`${lead} []`);
      if (v.every((x) => typeof x === 'string' || x instanceof Tag) && lead.endsWith(':')) {
        lines.push(lead);
        for (const x of v) lines.push(`${indent}  - ${typeof x === 'string' ? yamlScalar(x, 'block') : yamlFlow(x)}`);
        return;
      }
      lines.push(lead);
      for (const x of v) emitItem(x, `${indent}  `);
      return;
    }
    const entries = Object.entries(v);
    if (entries.length === 0) return void lines.push(`${lead} {}`);
    lines.push(lead);
    for (const [k, x] of entries) emit(x, `${indent}  `, `${indent}  ${yamlKey(k)}:`);
  };
  const emitItem = (x: Json, indent: string): void => {
    if (isRecord(x) && Object.keys(x).length > 0) {
      // `- Key: value` then the other keys under it.
      const entries = Object.entries(x);
      const start = lines.length;
      for (const [k, y] of entries) emit(y, `${indent}  `, `${indent}  ${yamlKey(k)}:`);
      lines[start] = `${indent}- ${lines[start]!.slice(indent.length + 2)}`;
      return;
    }
    emit(x, indent, `${indent}-`);
  };
  if (!isRecord(template)) throw new Error('template');
  for (const [k, v] of Object.entries(template)) emit(v, '', `${yamlKey(k)}:`);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Building blocks of the cases

const ACCOUNT = '111122223333';
const ROOT = `arn:aws:iam::${ACCOUNT}:root`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/kms-admins`;
const APP = `arn:aws:iam::${ACCOUNT}:role/app`;
const CI = `arn:aws:iam::${ACCOUNT}:role/ci-deployer`;
const OTHER_ACCOUNT_ROOT = 'arn:aws:iam::444455556666:root';
// Terraform interpolations inside strings (plain quotes: not TypeScript template literals).
const TF_CALLER_ROOT = 'arn:aws:iam::${data.aws_caller_identity.current.account_id}:root';
const TF_PARTITION_ROOT = 'arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root';
const TF_CALLER_ROLE = (name: string): string => `arn:aws:iam::\${data.aws_caller_identity.current.account_id}:role/${name}`;

/** The key administrators' actions of AWS's default key policy (console view). */
const ADMIN_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
  'kms:RotateKeyOnDemand',
];
/** The key users' actions of AWS's default key policy. */
const USE_ACTIONS = ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'];

type Statement = { [key: string]: Json };
const policy = (...statements: Statement[]): { Version: string; Statement: Statement[] } => ({ Version: '2012-10-17', Statement: statements });

const rootStmt = (p: Json = ROOT): Statement => ({ Sid: 'EnableIAMUserPermissions', Effect: 'Allow', Principal: { AWS: p }, Action: 'kms:*', Resource: '*' });
const adminStmt = (p: Json = ADMIN): Statement => ({ Sid: 'AllowKeyAdministration', Effect: 'Allow', Principal: { AWS: p }, Action: ADMIN_ACTIONS, Resource: '*' });
const useStmt = (p: Json = APP): Statement => ({ Sid: 'AllowUseOfTheKey', Effect: 'Allow', Principal: { AWS: p }, Action: USE_ACTIONS, Resource: '*' });
const grantStmt = (p: Json = APP): Statement => ({
  Sid: 'AllowAttachmentOfPersistentResources',
  Effect: 'Allow',
  Principal: { AWS: p },
  Action: ['kms:CreateGrant', 'kms:ListGrants', 'kms:RevokeGrant'],
  Resource: '*',
  Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
});
const logsStmt = (): Statement => ({
  Sid: 'AllowCloudWatchLogs',
  Effect: 'Allow',
  Principal: { Service: 'logs.us-east-1.amazonaws.com' },
  Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
  Resource: '*',
  Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:*` } },
});
const denyInsecureStmt = (): Statement => ({
  Sid: 'DenyInsecureTransport',
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Action: 'kms:*',
  Resource: '*',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
});
const denyDeletionStmt = (): Statement => ({
  Sid: 'DenyKeyDeletionExceptBreakGlass',
  Effect: 'Deny',
  Principal: '*',
  Action: ['kms:ScheduleKeyDeletion', 'kms:DisableKey'],
  Resource: '*',
  Condition: { StringNotLike: { 'aws:PrincipalArn': [`arn:aws:iam::${ACCOUNT}:role/break-glass`] } },
});
/** An Allow to anyone (with `cond`: narrowed by a condition, still a wildcard principal). */
const wildStmt = (principal: Json, cond?: Json): Statement => ({
  Sid: 'AllowAccountUse',
  Effect: 'Allow',
  Principal: principal,
  Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey*'],
  Resource: '*',
  ...(cond === undefined ? {} : { Condition: cond }),
});
const CALLER_COND = { StringEquals: { 'kms:CallerAccount': ACCOUNT, 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' } };
const ORG_COND = { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } };
const fullStmt = (p: Json, action: Json = 'kms:*'): Statement => ({ Sid: 'DeployerFullAccess', Effect: 'Allow', Principal: { AWS: p }, Action: action, Resource: '*' });

type Exp = Expected[];
const ok = (resource: string): Exp => [{ kind: 'none', resource }];
const bad = (resource: string, ...kinds: ViolationKind[]): Exp => kinds.map((kind) => ({ kind, resource }));
const STAR: ViolationKind[] = ['kms-star', 'separation-of-duties'];

const VERSIONS_TF = block('terraform', [
  { text: 'required_version = ">= 1.5"\n' + block('required_providers', [['aws', '{\n  source  = "hashicorp/aws"\n  version = "~> 5.60"\n}']]).trimEnd() },
]);
const PROVIDER_TF = block('provider "aws"', [['region', str('us-east-1')]]);
const CALLER_TF = 'data "aws_caller_identity" "current" {}\n';
const PARTITION_TF = 'data "aws_partition" "current" {}\n';

const GOOD: BodyItem[] = [['enable_key_rotation', 'true'], ['deletion_window_in_days', '30']];
const desc = (d: string): BodyItem => ['description', str(d)];
const key = (name: string, items: BodyItem[]): string => block(`resource "aws_kms_key" "${name}"`, items);
const alias = (name: string, keyName: string, aliasName: string): string =>
  block(`resource "aws_kms_alias" "${name}"`, [['name', str(`alias/${aliasName}`)], ['target_key_id', `aws_kms_key.${keyName}.key_id`]]);
const variable = (name: string, type: string, def?: string, description?: string): string =>
  block(`variable "${name}"`, [...(description ? [['description', str(description)] as BodyItem] : []), ['type', type], ...(def === undefined ? [] : [['default', def] as BodyItem])]);
const locals = (items: BodyItem[]): string => block('locals', items);
const keyPolicyRes = (keyName: string, expr: string): string => block(`resource "aws_kms_key_policy" "${keyName}"`, [['key_id', `aws_kms_key.${keyName}.id`], ['policy', expr]]);

function tfCase(cases: CorpusCase[], name: string, main: string, expected: Exp, extra: Record<string, string> = {}, note?: string): void {
  // Every third case carries the usual versions.tf / provider block, as a root module does.
  const boiler = cases.length % 3 === 0 ? { 'versions.tf': `${VERSIONS_TF}\n${PROVIDER_TF}` } : {};
  cases.push({ name, format: 'terraform', files: { 'main.tf': main, ...boiler, ...extra }, expected, ...(note ? { note } : {}) });
}

// ---------------------------------------------------------------------------------------------
// Terraform: rotation, specs, deletion window

function terraformKeyCases(cases: CorpusCase[]): void {
  const t = (name: string, main: string, expected: Exp, extra?: Record<string, string>, note?: string): void => tfCase(cases, name, main, expected, extra, note);

  t('tf-rotation-absent', key('main', [desc('application data')]), bad('aws_kms_key.main', 'rotation-off'));
  t('tf-rotation-false', key('main', [desc('application data'), ['enable_key_rotation', 'false'], ['deletion_window_in_days', '30']]), bad('aws_kms_key.main', 'rotation-off'));
  t('tf-rotation-true', key('main', [desc('application data'), ...GOOD]), ok('aws_kms_key.main'));
  t('tf-rotation-string-true', key('main', [desc('strings convert to bool'), ['enable_key_rotation', str('true')]]), ok('aws_kms_key.main'));
  t('tf-rotation-string-false', key('main', [desc('strings convert to bool'), ['enable_key_rotation', str('false')]]), bad('aws_kms_key.main', 'rotation-off'));
  t(
    'tf-rotation-var-default-true',
    key('main', [desc('rotation from a variable'), ['enable_key_rotation', 'var.enable_key_rotation']]),
    ok('aws_kms_key.main'),
    { 'variables.tf': variable('enable_key_rotation', 'bool', 'true', 'Rotate the key every year') },
  );
  t(
    'tf-rotation-var-default-false',
    key('main', [desc('rotation from a variable'), ['enable_key_rotation', 'var.enable_key_rotation'], ['deletion_window_in_days', '30']]),
    bad('aws_kms_key.main', 'rotation-off'),
    { 'variables.tf': variable('enable_key_rotation', 'bool', 'false') },
  );
  t('tf-rotation-local-true', `${locals([['rotate', 'true'], ['window', '30']])}\n${key('main', [desc('from locals'), ['enable_key_rotation', 'local.rotate'], ['deletion_window_in_days', 'local.window']])}`, ok('aws_kms_key.main'));
  t('tf-rotation-local-false', `${locals([['kms_settings', '{\n  rotate = false\n  window = 30\n}']])}\n${key('main', [desc('from a local object'), ['enable_key_rotation', 'local.kms_settings.rotate'], ['deletion_window_in_days', 'local.kms_settings.window']])}`, bad('aws_kms_key.main', 'rotation-off'));
  t(
    'tf-rotation-var-no-default',
    key('main', [desc('set per environment'), ['enable_key_rotation', 'var.enable_key_rotation']]),
    ok('aws_kms_key.main'),
    { 'variables.tf': variable('enable_key_rotation', 'bool') },
    'No default and no tfvars: the value is only known at plan time; not judged.',
  );
  t(
    'tf-rotation-tfvars-false',
    key('main', [desc('tfvars override'), ['enable_key_rotation', 'var.enable_key_rotation'], ['deletion_window_in_days', 'var.deletion_window']]),
    bad('aws_kms_key.main', 'rotation-off'),
    { 'variables.tf': `${variable('enable_key_rotation', 'bool', 'true')}\n${variable('deletion_window', 'number', '30')}`, 'terraform.tfvars': 'enable_key_rotation = false\ndeletion_window     = 30\n' },
    'terraform.tfvars is loaded automatically and overrides the default (true).',
  );
  t(
    'tf-rotation-conditional-env',
    key('main', [desc('rotation only in prod'), ['enable_key_rotation', 'var.environment == "prod" ? true : false']]),
    bad('aws_kms_key.main', 'rotation-off'),
    { 'variables.tf': variable('environment', 'string', str('dev')) },
    'A conditional over a variable whose default is "dev": false as deployed without inputs.',
  );
  t('tf-period-730', key('main', [desc('two-year rotation'), ['enable_key_rotation', 'true'], ['rotation_period_in_days', '730']]), bad('aws_kms_key.main', 'rotation-period'));
  t('tf-period-366', key('main', [desc('just over a year'), ['enable_key_rotation', 'true'], ['rotation_period_in_days', '366'], ['deletion_window_in_days', '30']]), bad('aws_kms_key.main', 'rotation-period'));
  t('tf-period-2560', key('main', [desc('the AWS maximum'), ['enable_key_rotation', 'true'], ['rotation_period_in_days', '2560']]), bad('aws_kms_key.main', 'rotation-period'));
  t('tf-period-365', key('main', [desc('yearly'), ['enable_key_rotation', 'true'], ['rotation_period_in_days', '365']]), ok('aws_kms_key.main'));
  t('tf-period-90', key('main', [desc('quarterly'), ['enable_key_rotation', 'true'], ['rotation_period_in_days', '90'], ['deletion_window_in_days', '14']]), ok('aws_kms_key.main'));
  t(
    'tf-period-var-1095',
    key('main', [desc('period from a variable'), ['enable_key_rotation', 'true'], ['rotation_period_in_days', 'var.rotation_days']]),
    bad('aws_kms_key.main', 'rotation-period'),
    { 'variables.tf': variable('rotation_days', 'number', '1095') },
  );
  t('tf-period-local-180', `${locals([['rotation_days', '180']])}\n${key('main', [desc('period from a local'), ['enable_key_rotation', 'true'], ['rotation_period_in_days', 'local.rotation_days']])}`, ok('aws_kms_key.main'));
  t(
    'tf-period-tfvars-730',
    key('main', [desc('period from tfvars'), ['enable_key_rotation', 'true'], ['rotation_period_in_days', 'var.rotation_days']]),
    bad('aws_kms_key.main', 'rotation-period'),
    { 'variables.tf': variable('rotation_days', 'number', '365'), 'terraform.tfvars': 'rotation_days = 730\n' },
    'terraform.tfvars overrides the default (365).',
  );
  t('tf-rotation-false-with-period', key('main', [desc('period written, rotation off'), ['enable_key_rotation', 'false'], ['rotation_period_in_days', '730']]), bad('aws_kms_key.main', 'rotation-off'), undefined, 'With rotation off the period does nothing: only rotation-off.');
  t('tf-multi-region-rotation-off', key('primary', [desc('multi-Region primary'), ['multi_region', 'true'], ['deletion_window_in_days', '30']]), bad('aws_kms_key.primary', 'rotation-off'), undefined, 'Multi-Region symmetric keys support automatic rotation.');
  t('tf-multi-region-ok', `${key('primary', [desc('multi-Region primary'), ['multi_region', 'true'], ...GOOD])}\n${alias('primary', 'primary', 'global-data')}`, ok('aws_kms_key.primary'));
  t('tf-for-each-rotation-off', key('tenant', [['for_each', 'toset(["acme", "globex"])'], ['description', str('tenant ${each.key}')], ['deletion_window_in_days', '30']]), bad('aws_kms_key.tenant', 'rotation-off'));
  t('tf-count-ok', key('shard', [['count', '3'], ['description', str('shard ${count.index}')], ...GOOD]), ok('aws_kms_key.shard'));
  t(
    'tf-two-keys-one-bad',
    `${key('logs', [desc('logs'), ...GOOD])}\n${key('data', [desc('data'), ['deletion_window_in_days', '30']])}`,
    [...ok('aws_kms_key.logs'), ...bad('aws_kms_key.data', 'rotation-off')],
  );
  t('tf-alias-rotation-off', `${key('app', [desc('app secrets'), ['deletion_window_in_days', '30'], ['tags', '{\n  Team = "payments"\n}']])}\n${alias('app', 'app', 'payments-app')}`, bad('aws_kms_key.app', 'rotation-off'));
  t('tf-symmetric-explicit-rotation-off', key('main', [desc('explicit spec'), ['key_usage', str('ENCRYPT_DECRYPT')], ['key_spec', str('SYMMETRIC_DEFAULT')]]), bad('aws_kms_key.main', 'rotation-off'));
  t('tf-cmk-spec-symmetric-ok', key('main', [desc('deprecated attribute name'), ['customer_master_key_spec', str('SYMMETRIC_DEFAULT')], ...GOOD]), ok('aws_kms_key.main'));

  // Specs: HMAC and asymmetric keys cannot rotate automatically; RSA below 3072 is too small.
  t('tf-hmac-256', key('mac', [desc('webhook signatures'), ['key_usage', str('GENERATE_VERIFY_MAC')], ['key_spec', str('HMAC_256')]]), ok('aws_kms_key.mac'), undefined, 'HMAC keys cannot rotate automatically: not asked to.');
  t('tf-hmac-512-rotation-false', key('mac', [desc('tokens'), ['key_usage', str('GENERATE_VERIFY_MAC')], ['key_spec', str('HMAC_512')], ['enable_key_rotation', 'false'], ['deletion_window_in_days', '30']]), ok('aws_kms_key.mac'));
  t('tf-hmac-window-7', key('mac', [desc('tokens'), ['key_usage', str('GENERATE_VERIFY_MAC')], ['key_spec', str('HMAC_384')], ['deletion_window_in_days', '7']]), bad('aws_kms_key.mac', 'deletion-window'));
  t('tf-rsa-2048-sign', key('signing', [desc('JWT signing'), ['key_usage', str('SIGN_VERIFY')], ['key_spec', str('RSA_2048')]]), bad('aws_kms_key.signing', 'rsa-size'));
  t('tf-rsa-2048-encrypt', key('wrap', [desc('envelope for partners'), ['key_usage', str('ENCRYPT_DECRYPT')], ['key_spec', str('RSA_2048')], ['deletion_window_in_days', '30']]), bad('aws_kms_key.wrap', 'rsa-size'));
  t('tf-rsa-3072', key('signing', [desc('code signing'), ['key_usage', str('SIGN_VERIFY')], ['key_spec', str('RSA_3072')]]), ok('aws_kms_key.signing'));
  t('tf-rsa-4096-cmk-spec', key('signing', [desc('deprecated attribute name'), ['key_usage', str('SIGN_VERIFY')], ['customer_master_key_spec', str('RSA_4096')]]), ok('aws_kms_key.signing'));
  t('tf-rsa-2048-cmk-spec', key('signing', [desc('deprecated attribute name'), ['key_usage', str('SIGN_VERIFY')], ['customer_master_key_spec', str('RSA_2048')]]), bad('aws_kms_key.signing', 'rsa-size'));
  t(
    'tf-rsa-var-2048',
    key('signing', [desc('spec from a variable'), ['key_usage', str('SIGN_VERIFY')], ['key_spec', 'var.key_spec']]),
    bad('aws_kms_key.signing', 'rsa-size'),
    { 'variables.tf': variable('key_spec', 'string', str('RSA_2048')) },
  );
  t('tf-rsa-2048-window-7', key('signing', [desc('short-lived'), ['key_usage', str('SIGN_VERIFY')], ['key_spec', str('RSA_2048')], ['deletion_window_in_days', '7']]), bad('aws_kms_key.signing', 'rsa-size', 'deletion-window'));
  t('tf-ecc-p256', key('signing', [desc('ES256 tokens'), ['key_usage', str('SIGN_VERIFY')], ['key_spec', str('ECC_NIST_P256')], ['deletion_window_in_days', '30']]), ok('aws_kms_key.signing'));
  t('tf-ecc-secg-p256k1', key('wallet', [desc('secp256k1 signing'), ['key_usage', str('SIGN_VERIFY')], ['customer_master_key_spec', str('ECC_SECG_P256K1')]]), ok('aws_kms_key.wallet'));
  t('tf-ecc-key-agreement', key('ecdh', [desc('ECDH'), ['key_usage', str('KEY_AGREEMENT')], ['key_spec', str('ECC_NIST_P384')]]), ok('aws_kms_key.ecdh'));
  t('tf-ml-dsa-65', key('pq', [desc('post-quantum signing'), ['key_usage', str('SIGN_VERIFY')], ['key_spec', str('ML_DSA_65')]]), ok('aws_kms_key.pq'), undefined, 'ML-DSA keys are asymmetric: no automatic rotation.');
  t('tf-sm2', key('cn', [desc('China Regions'), ['key_usage', str('SIGN_VERIFY')], ['key_spec', str('SM2')]]), ok('aws_kms_key.cn'), undefined, 'SM2 is asymmetric: no automatic rotation.');

  // Deletion window.
  t('tf-window-7', key('main', [desc('short window'), ['enable_key_rotation', 'true'], ['deletion_window_in_days', '7']]), bad('aws_kms_key.main', 'deletion-window'));
  t('tf-window-13', key('main', [desc('almost two weeks'), ['enable_key_rotation', 'true'], ['deletion_window_in_days', '13']]), bad('aws_kms_key.main', 'deletion-window'));
  t('tf-window-14', key('main', [desc('two weeks'), ['enable_key_rotation', 'true'], ['deletion_window_in_days', '14']]), ok('aws_kms_key.main'));
  t('tf-window-absent', key('main', [desc('default window'), ['enable_key_rotation', 'true']]), ok('aws_kms_key.main'), undefined, 'Unwritten: AWS default 30.');
  t('tf-window-string-10', key('main', [desc('string number'), ['enable_key_rotation', 'true'], ['deletion_window_in_days', str('10')]]), bad('aws_kms_key.main', 'deletion-window'));
  t(
    'tf-window-var-7',
    key('main', [desc('window from a variable'), ['enable_key_rotation', 'true'], ['deletion_window_in_days', 'var.deletion_window_in_days']]),
    bad('aws_kms_key.main', 'deletion-window'),
    { 'variables.tf': variable('deletion_window_in_days', 'number', '7', 'Days before a scheduled deletion happens') },
  );
  t('tf-window-local-20', `${locals([['deletion_window', '20']])}\n${key('main', [desc('window from a local'), ['enable_key_rotation', 'true'], ['deletion_window_in_days', 'local.deletion_window']])}`, ok('aws_kms_key.main'));
  t(
    'tf-everything-wrong',
    `${CALLER_TF}\n${key('main', [desc('everything wrong'), ['deletion_window_in_days', '7'], ['policy', jsonencode(policy(rootStmt(TF_CALLER_ROOT), wildStmt({ AWS: '*' })))]])}`,
    bad('aws_kms_key.main', 'rotation-off', 'deletion-window', 'wildcard-principal'),
  );

  // Modules: the call's arguments decide.
  const moduleKms = (rotateDefault: string | undefined, windowDefault: string | undefined): Record<string, string> => ({
    'modules/kms/main.tf': key('this', [['description', 'var.description'], ['enable_key_rotation', 'var.enable_key_rotation'], ['deletion_window_in_days', 'var.deletion_window_in_days']]),
    'modules/kms/variables.tf': [variable('description', 'string', str('managed by module')), variable('enable_key_rotation', 'bool', rotateDefault), variable('deletion_window_in_days', 'number', windowDefault)].join('\n'),
    'modules/kms/outputs.tf': block('output "key_arn"', [['value', 'aws_kms_key.this.arn']]),
  });
  const call = (args: BodyItem[]): string => block('module "kms"', [['source', str('./modules/kms')], ...args]);
  t('tf-module-window-7', call([['description', str('orders')], ['deletion_window_in_days', '7']]), bad('aws_kms_key.this', 'deletion-window'), moduleKms('true', undefined));
  t('tf-module-ok', call([['enable_key_rotation', 'true'], ['deletion_window_in_days', '30']]), ok('aws_kms_key.this'), moduleKms(undefined, undefined));
  t('tf-module-rotation-default-false', call([['deletion_window_in_days', '30']]), bad('aws_kms_key.this', 'rotation-off'), moduleKms('false', '30'), 'The call leaves the module default (false).');
  t(
    'tf-module-call-overrides-default',
    call([['enable_key_rotation', 'true']]),
    ok('aws_kms_key.this'),
    moduleKms('false', '30'),
    'The module default is false, the one call passes true: what is deployed rotates.',
  );

  // Key types beside aws_kms_key.
  t(
    'tf-replica-window-7',
    `${key('primary', [desc('multi-Region primary'), ['multi_region', 'true'], ...GOOD])}\n${block('resource "aws_kms_replica_key" "eu"', [
      ['provider', 'aws.eu'],
      ['description', str('replica in eu-west-1')],
      ['primary_key_arn', 'aws_kms_key.primary.arn'],
      ['deletion_window_in_days', '7'],
    ])}`,
    [...ok('aws_kms_key.primary'), ...bad('aws_kms_replica_key.eu', 'deletion-window')],
    { 'providers.tf': `${PROVIDER_TF}\n${block('provider "aws"', [['alias', str('eu')], ['region', str('eu-west-1')]])}` },
    'A replica has its own deletion window; its rotation follows the primary.',
  );
  t(
    'tf-external-key-window-7',
    block('resource "aws_kms_external_key" "byok"', [desc('imported key material'), ['deletion_window_in_days', '7']]),
    bad('aws_kms_external_key.byok', 'deletion-window'),
    undefined,
    'Imported key material cannot rotate automatically: only the window.',
  );
  t('tf-external-key-ok', block('resource "aws_kms_external_key" "byok"', [desc('imported key material'), ['deletion_window_in_days', '30']]), ok('aws_kms_external_key.byok'));
}

// ---------------------------------------------------------------------------------------------
// Terraform: key policies, written every usual way

function terraformPolicyCases(cases: CorpusCase[]): void {
  const t = (name: string, main: string, expected: Exp, extra?: Record<string, string>, note?: string): void => tfCase(cases, name, main, expected, extra, note);
  const k = (expr: string, name = 'main'): string => key(name, [desc('key with a policy'), ...GOOD, ['policy', expr]]);
  const M = 'aws_kms_key.main';

  // Compliant.
  t('tf-policy-root-heredoc', k(heredoc(policy(rootStmt()))), ok(M));
  t('tf-policy-root-jsonencode-caller', `${CALLER_TF}\n${k(jsonencode(policy(rootStmt(TF_CALLER_ROOT))))}`, ok(M));
  t('tf-policy-root-partition', `${CALLER_TF}${PARTITION_TF}\n${k(jsonencode(policy(rootStmt(TF_PARTITION_ROOT))))}`, ok(M));
  t('tf-policy-root-account-id', k(heredoc(policy(rootStmt(ACCOUNT)))), ok(M), undefined, 'An account id as principal is that account root.');
  t('tf-policy-root-local', `${CALLER_TF}\n${locals([['account_root', str(TF_CALLER_ROOT)]])}\n${k(jsonencode(policy(rootStmt(raw('local.account_root')))))}`, ok(M));
  t(
    'tf-policy-admins-users-doc',
    `${CALLER_TF}\n${policyDocument('key', policy(rootStmt(TF_CALLER_ROOT), adminStmt(TF_CALLER_ROLE('kms-admins')), useStmt(TF_CALLER_ROLE('app'))))}\n${k('data.aws_iam_policy_document.key.json')}`,
    ok(M),
  );
  t('tf-policy-admins-users-jsonencode', k(jsonencode(policy(rootStmt(), adminStmt(), useStmt([APP, `arn:aws:iam::${ACCOUNT}:role/worker`])))), ok(M));
  t(
    'tf-policy-admins-users-vars',
    k(heredoc(policy(rootStmt(), adminStmt(raw('var.admin_role_arn')), useStmt(raw('var.app_role_arn'))))),
    ok(M),
    { 'variables.tf': `${variable('admin_role_arn', 'string', str(ADMIN))}\n${variable('app_role_arn', 'string', str(APP))}` },
  );
  t('tf-policy-console-default-heredoc', k(heredoc(policy(rootStmt(), adminStmt(), useStmt(), grantStmt()))), ok(M), undefined, "AWS's default key policy as the console writes it.");
  t(
    'tf-policy-console-default-doc',
    `${CALLER_TF}\n${policyDocument('key', policy(rootStmt(TF_CALLER_ROOT), adminStmt(TF_CALLER_ROLE('kms-admins')), useStmt(TF_CALLER_ROLE('app')), grantStmt(TF_CALLER_ROLE('app'))))}\n${k('data.aws_iam_policy_document.key.json')}`,
    ok(M),
    undefined,
    "AWS's default key policy as the console writes it.",
  );
  t('tf-policy-logs-service', k(jsonencode(policy(rootStmt(), logsStmt()))), ok(M));
  t('tf-policy-deny-insecure-transport', k(heredoc(policy(rootStmt(), useStmt(), denyInsecureStmt()), 'indented')), ok(M), undefined, 'A Deny with a wildcard principal grants nothing.');
  t('tf-policy-deny-deletion-doc', `${policyDocument('key', policy(rootStmt(), adminStmt(), useStmt(), denyDeletionStmt()))}\n${k('data.aws_iam_policy_document.key.json')}`, ok(M));
  t('tf-policy-cross-account-use', k(jsonencode(policy(rootStmt(), useStmt(OTHER_ACCOUNT_ROOT)))), ok(M), undefined, 'Another account may use the key; it is not granted kms:*.');
  t('tf-policy-key-policy-resource-ok', `${key('main', [desc('policy set apart'), ...GOOD])}\n${keyPolicyRes('main', jsonencode(policy(rootStmt(), useStmt())))}`, ok(M));
  t(
    'tf-policy-key-policy-resource-doc-ok',
    `${key('main', [desc('policy set apart'), ...GOOD])}\n${policyDocument('key', policy(rootStmt(), adminStmt(), useStmt()))}\n${keyPolicyRes('main', 'data.aws_iam_policy_document.key.json')}`,
    ok(M),
  );
  t('tf-policy-statement-object-ok', k(heredoc({ Version: '2012-10-17', Statement: rootStmt() })), ok(M), undefined, 'Statement as a single object, as IAM allows.');
  t('tf-policy-sign-users', key('signing', [desc('signing'), ['key_usage', str('SIGN_VERIFY')], ['key_spec', str('ECC_NIST_P256')], ['policy', jsonencode(policy(rootStmt(), { Sid: 'Sign', Effect: 'Allow', Principal: { AWS: APP }, Action: ['kms:Sign', 'kms:Verify', 'kms:GetPublicKey'], Resource: '*' }))]]), ok('aws_kms_key.signing'));

  // Wildcard principals.
  t('tf-wildcard-star-heredoc', k(heredoc(policy(rootStmt(), wildStmt('*')))), bad(M, 'wildcard-principal'));
  t('tf-wildcard-aws-star-jsonencode', k(jsonencode(policy(rootStmt(), wildStmt({ AWS: '*' })))), bad(M, 'wildcard-principal'));
  t('tf-wildcard-aws-list-heredoc', k(heredoc(policy(rootStmt(), wildStmt({ AWS: ['*'] })))), bad(M, 'wildcard-principal'));
  t('tf-wildcard-in-list-jsonencode', k(jsonencode(policy(rootStmt(), wildStmt({ AWS: [APP, '*'] })))), bad(M, 'wildcard-principal'));
  t('tf-wildcard-condition-caller-jsonencode', k(jsonencode(policy(rootStmt(), wildStmt({ AWS: '*' }, CALLER_COND)))), bad(M, 'wildcard-principal'), undefined, 'A condition narrows the grant; the principal is still anyone.');
  t('tf-wildcard-condition-org-heredoc', k(heredoc(policy(rootStmt(), wildStmt('*', ORG_COND)))), bad(M, 'wildcard-principal'));
  t('tf-wildcard-indented-heredoc', k(heredoc(policy(rootStmt(), wildStmt({ AWS: '*' })), 'indented')), bad(M, 'wildcard-principal'));
  t('tf-wildcard-doc-aws', `${policyDocument('key', policy(rootStmt(), wildStmt({ AWS: '*' })))}\n${k('data.aws_iam_policy_document.key.json')}`, bad(M, 'wildcard-principal'));
  t('tf-wildcard-doc-type-star-condition', `${policyDocument('key', policy(rootStmt(), wildStmt('*', ORG_COND)))}\n${k('data.aws_iam_policy_document.key.json')}`, bad(M, 'wildcard-principal'));
  t(
    'tf-wildcard-doc-effect-omitted',
    `${policyDocument('key', policy(rootStmt(), wildStmt({ AWS: '*' })), { omitEffect: true })}\n${k('data.aws_iam_policy_document.key.json')}`,
    bad(M, 'wildcard-principal'),
    undefined,
    "aws_iam_policy_document's effect defaults to Allow.",
  );
  t('tf-wildcard-key-policy-resource', `${key('main', [desc('policy set apart'), ...GOOD])}\n${keyPolicyRes('main', jsonencode(policy(rootStmt(), wildStmt('*'))))}`, bad(M, 'wildcard-principal'));
  t(
    'tf-wildcard-key-policy-resource-doc',
    `${key('main', [desc('policy set apart'), ...GOOD])}\n${policyDocument('key', policy(rootStmt(), wildStmt({ AWS: '*' }, CALLER_COND)))}\n${keyPolicyRes('main', 'data.aws_iam_policy_document.key.json')}`,
    bad(M, 'wildcard-principal'),
  );
  t('tf-wildcard-statement-object', k(heredoc({ Version: '2012-10-17', Statement: wildStmt('*') })), bad(M, 'wildcard-principal'), undefined, 'Statement as a single object, as IAM allows.');
  t('tf-wildcard-beside-deny', k(heredoc(policy(rootStmt(), denyInsecureStmt(), wildStmt({ AWS: '*' })))), bad(M, 'wildcard-principal'));
  t(
    'tf-wildcard-policy-file',
    k('file("${path.module}/key-policy.json")'),
    bad(M, 'wildcard-principal'),
    { 'key-policy.json': `${JSON.stringify(policy(rootStmt(), wildStmt('*')), null, 2)}\n` },
    'The policy is read with file() from the module folder.',
  );
  t('tf-wildcard-kms-star', k(heredoc(policy(rootStmt(), { Sid: 'Open', Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' }))), bad(M, 'wildcard-principal', ...STAR));

  // kms:* and * to principals other than the account root.
  t('tf-kms-star-role-heredoc', k(heredoc(policy(rootStmt(), fullStmt(CI)))), bad(M, ...STAR));
  t('tf-kms-star-role-list-jsonencode', k(jsonencode(policy(rootStmt(), fullStmt([CI], ['kms:*'])))), bad(M, ...STAR));
  t('tf-kms-star-action-star-doc', `${policyDocument('key', policy(rootStmt(), fullStmt(CI, '*')))}\n${k('data.aws_iam_policy_document.key.json')}`, bad(M, ...STAR), undefined, 'Action "*" includes every kms action.');
  t('tf-kms-star-uppercase', k(heredoc(policy(rootStmt(), fullStmt(CI, 'KMS:*')))), bad(M, ...STAR), undefined, 'IAM compares action names case-insensitively.');
  t('tf-kms-star-var-role', k(jsonencode(policy(rootStmt(), fullStmt(raw('var.deployer_role_arn'))))), bad(M, ...STAR), { 'variables.tf': variable('deployer_role_arn', 'string', str(CI)) });
  t('tf-kms-star-key-policy-resource', `${key('main', [desc('policy set apart'), ...GOOD])}\n${keyPolicyRes('main', heredoc(policy(rootStmt(), fullStmt(CI))))}`, bad(M, ...STAR));
  t('tf-kms-star-user', k(jsonencode(policy(rootStmt(), fullStmt(`arn:aws:iam::${ACCOUNT}:user/terraform`)))), bad(M, ...STAR));

  // Separation of duties.
  t('tf-sod-same-statement', k(jsonencode(policy(rootStmt(), { Sid: 'Deployer', Effect: 'Allow', Principal: { AWS: CI }, Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:PutKeyPolicy', 'kms:ScheduleKeyDeletion'], Resource: '*' }))), bad(M, 'separation-of-duties'));
  t('tf-sod-across-statements', k(heredoc(policy(rootStmt(), adminStmt(ADMIN), useStmt(ADMIN)))), bad(M, 'separation-of-duties'));
  t('tf-sod-wildcard-actions-doc', `${policyDocument('key', policy(rootStmt(), { Sid: 'Ops', Effect: 'Allow', Principal: { AWS: CI }, Action: ['kms:Disable*', 'kms:GenerateDataKey*', 'kms:Describe*'], Resource: '*' }))}\n${k('data.aws_iam_policy_document.key.json')}`, bad(M, 'separation-of-duties'));
  t('tf-sod-principal-lists', k(jsonencode(policy(rootStmt(), adminStmt([ADMIN, CI]), useStmt([APP, CI])))), bad(M, 'separation-of-duties'));
  t(
    'tf-sod-key-policy-resource-doc',
    `${key('main', [desc('policy set apart'), ...GOOD])}\n${policyDocument('key', policy(rootStmt(), { Sid: 'Ops', Effect: 'Allow', Principal: { AWS: CI }, Action: ['kms:ScheduleKeyDeletion', 'kms:Decrypt'], Resource: '*' }))}\n${keyPolicyRes('main', 'data.aws_iam_policy_document.key.json')}`,
    bad(M, 'separation-of-duties'),
  );
  t('tf-sod-sign-and-disable', key('signing', [desc('signing'), ['key_usage', str('SIGN_VERIFY')], ['key_spec', str('RSA_4096')], ['policy', heredoc(policy(rootStmt(), { Sid: 'Signer', Effect: 'Allow', Principal: { AWS: CI }, Action: ['kms:Sign', 'kms:DisableKey', 'kms:EnableKey'], Resource: '*' }))]]), bad('aws_kms_key.signing', 'separation-of-duties'));
  t(
    'tf-sod-not-action',
    k(heredoc(policy(rootStmt(), { Sid: 'AllButDelete', Effect: 'Allow', Principal: { AWS: CI }, NotAction: ['kms:ScheduleKeyDeletion', 'kms:Delete*'], Resource: '*' }))),
    bad(M, 'separation-of-duties'),
    undefined,
    'NotAction allows every other action: PutKeyPolicy and DisableKey beside Decrypt.',
  );

  // CDKTF synth output (Terraform JSON).
  const tfJson = (name: string, resources: Json, expected: Exp): void => {
    cases.push({ name, format: 'terraform-json', files: { 'cdk.tf.json': cfnJson({ '//': { metadata: { backend: 'local', stackName: name, version: '0.20.0' } }, resource: resources }) }, expected });
  };
  tfJson('tfjson-rotation-off', { aws_kms_key: { data: { description: 'cdktf key', deletion_window_in_days: 30, '//': { metadata: { path: 'app/data', uniqueId: 'data' } } } } }, bad('aws_kms_key.data', 'rotation-off'));
  tfJson('tfjson-ok', { aws_kms_key: { data: { description: 'cdktf key', enable_key_rotation: true, deletion_window_in_days: 30 } } }, ok('aws_kms_key.data'));
  tfJson(
    'tfjson-wildcard',
    { aws_kms_key: { data: { description: 'cdktf key', enable_key_rotation: true, policy: JSON.stringify(policy(rootStmt(), wildStmt({ AWS: '*' }))) } } },
    bad('aws_kms_key.data', 'wildcard-principal'),
  );
}

// ---------------------------------------------------------------------------------------------
// CloudFormation

interface CfnKeyProps {
  [key: string]: Json;
}

function cfnTemplate(opts: { description: string; parameters?: Json; conditions?: Json; resources: Json; outputs?: Json }): Json {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: opts.description,
    ...(opts.parameters ? { Parameters: opts.parameters } : {}),
    ...(opts.conditions ? { Conditions: opts.conditions } : {}),
    Resources: opts.resources,
    ...(opts.outputs ? { Outputs: opts.outputs } : {}),
  };
}

const cfnKey = (props: CfnKeyProps, retain = false): Json => ({ Type: 'AWS::KMS::Key', ...(retain ? { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' } : {}), Properties: props });
const CFN_ROOT_SUB = sub('arn:aws:iam::${AWS::AccountId}:root');
const CFN_ROOT_PARTITION = sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root');
const CFN_ROOT_JOIN = join('', ['arn:', ref('AWS::Partition'), ':iam::', ref('AWS::AccountId'), ':root']);
const cfnRole = (name: string): Tag => sub(`arn:aws:iam::\${AWS::AccountId}:role/${name}`);

function cloudFormationCases(cases: CorpusCase[]): void {
  const add = (name: string, yaml: boolean, template: Json, expected: Exp, note?: string, file?: string): void => {
    const fileName = file ?? (yaml ? 'template.yaml' : 'template.json');
    cases.push({ name, format: yaml ? 'cloudformation-yaml' : 'cloudformation-json', files: { [fileName]: yaml ? cfnYaml(template) : cfnJson(template) }, expected, ...(note ? { note } : {}) });
  };
  /** One key named `Key` in both formats: `cfn-y-…` and `cfn-j-…`. */
  const both = (name: string, props: CfnKeyProps, expected: Exp, extra: { parameters?: Json; conditions?: Json; note?: string } = {}): void => {
    const template = cfnTemplate({ description: name, ...extra, resources: { Key: cfnKey(props) }, outputs: { KeyArn: { Value: getAtt('Key.Arn') } } });
    add(`cfn-y-${name}`, true, template, expected, extra.note);
    add(`cfn-j-${name}`, false, template, expected, extra.note);
  };
  const yamlOnly = (name: string, resources: Json, expected: Exp, extra: { parameters?: Json; conditions?: Json; note?: string } = {}): void =>
    add(`cfn-y-${name}`, true, cfnTemplate({ description: name, ...extra, resources }), expected, extra.note);
  const jsonOnly = (name: string, resources: Json, expected: Exp, extra: { parameters?: Json; note?: string; file?: string } = {}): void =>
    add(`cfn-j-${name}`, false, cfnTemplate({ description: name, ...extra, resources }), expected, extra.note, extra.file);
  const rootPolicy = (root: Json = CFN_ROOT_SUB): Json => policy(rootStmt(root));
  const K = 'Key';

  // Rotation.
  both('rotation-absent', { Description: 'application data', KeyPolicy: rootPolicy() }, bad(K, 'rotation-off'));
  both('rotation-false', { Description: 'application data', EnableKeyRotation: false, PendingWindowInDays: 30, KeyPolicy: rootPolicy() }, bad(K, 'rotation-off'));
  both('rotation-true', { Description: 'application data', EnableKeyRotation: true, PendingWindowInDays: 30, KeyPolicy: rootPolicy() }, ok(K));
  yamlOnly('rotation-string-true', { Key: cfnKey({ Description: 'string boolean', EnableKeyRotation: 'true', KeyPolicy: rootPolicy() }) }, ok(K));
  yamlOnly('rotation-string-false', { Key: cfnKey({ Description: 'string boolean', EnableKeyRotation: 'false', KeyPolicy: rootPolicy() }) }, bad(K, 'rotation-off'));
  both(
    'rotation-param-false',
    { Description: 'rotation from a parameter', EnableKeyRotation: ref('EnableRotation'), KeyPolicy: rootPolicy() },
    bad(K, 'rotation-off'),
    { parameters: { EnableRotation: { Type: 'String', AllowedValues: ['true', 'false'], Default: 'false' } } },
  );
  yamlOnly(
    'rotation-param-true',
    { Key: cfnKey({ Description: 'rotation from a parameter', EnableKeyRotation: ref('EnableRotation'), PendingWindowInDays: ref('PendingWindow'), KeyPolicy: rootPolicy() }) },
    ok(K),
    { parameters: { EnableRotation: { Type: 'String', AllowedValues: ['true', 'false'], Default: 'true' }, PendingWindow: { Type: 'Number', Default: 30, MinValue: 7, MaxValue: 30 } } },
  );
  yamlOnly(
    'rotation-param-no-default',
    { Key: cfnKey({ Description: 'rotation from a parameter', EnableKeyRotation: ref('EnableRotation'), KeyPolicy: rootPolicy() }) },
    ok(K),
    { parameters: { EnableRotation: { Type: 'String', AllowedValues: ['true', 'false'] } }, note: 'No default: known only at deploy time; not judged.' },
  );
  both('period-730', { Description: 'two-year rotation', EnableKeyRotation: true, RotationPeriodInDays: 730, KeyPolicy: rootPolicy() }, bad(K, 'rotation-period'));
  yamlOnly('period-365', { Key: cfnKey({ Description: 'yearly', EnableKeyRotation: true, RotationPeriodInDays: 365, KeyPolicy: rootPolicy() }) }, ok(K));
  jsonOnly('period-2560', { Key: cfnKey({ Description: 'AWS maximum', EnableKeyRotation: true, RotationPeriodInDays: 2560, KeyPolicy: rootPolicy() }) }, bad(K, 'rotation-period'));
  yamlOnly(
    'period-param-1000',
    { Key: cfnKey({ Description: 'period from a parameter', EnableKeyRotation: true, RotationPeriodInDays: ref('RotationDays'), KeyPolicy: rootPolicy() }) },
    bad(K, 'rotation-period'),
    { parameters: { RotationDays: { Type: 'Number', Default: 1000, MinValue: 90, MaxValue: 2560 } } },
  );
  yamlOnly('multi-region-rotation-off', { Key: cfnKey({ Description: 'multi-Region primary', MultiRegion: true, KeyPolicy: rootPolicy() }) }, bad(K, 'rotation-off'));
  jsonOnly('multi-region-ok', { Key: cfnKey({ Description: 'multi-Region primary', MultiRegion: true, EnableKeyRotation: true, KeyPolicy: rootPolicy() }) }, ok(K));
  yamlOnly(
    'alias-rotation-off',
    { Key: cfnKey({ Description: 'app secrets', KeyPolicy: rootPolicy(), Tags: [{ Key: 'Team', Value: 'payments' }] }, true), KeyAlias: { Type: 'AWS::KMS::Alias', Properties: { AliasName: 'alias/payments-app', TargetKeyId: ref('Key') } } },
    bad(K, 'rotation-off'),
  );
  yamlOnly(
    'two-keys-one-bad',
    { LogsKey: cfnKey({ Description: 'logs', EnableKeyRotation: true, KeyPolicy: rootPolicy() }), DataKey: cfnKey({ Description: 'data', EnableKeyRotation: true, PendingWindowInDays: 7, KeyPolicy: rootPolicy() }) },
    [...ok('LogsKey'), ...bad('DataKey', 'deletion-window')],
  );
  yamlOnly('no-key-policy', { Key: cfnKey({ Description: 'default key policy', EnableKeyRotation: true }) }, ok(K), { note: 'KeyPolicy omitted: AWS applies the default key policy (root kms:*).' });

  // Deletion window.
  both('window-7', { Description: 'short window', EnableKeyRotation: true, PendingWindowInDays: 7, KeyPolicy: rootPolicy() }, bad(K, 'deletion-window'));
  yamlOnly('window-30', { Key: cfnKey({ Description: 'long window', EnableKeyRotation: true, PendingWindowInDays: 30, KeyPolicy: rootPolicy() }) }, ok(K));
  yamlOnly(
    'window-param-10',
    { Key: cfnKey({ Description: 'window from a parameter', EnableKeyRotation: true, PendingWindowInDays: ref('PendingWindow'), KeyPolicy: rootPolicy() }) },
    bad(K, 'deletion-window'),
    { parameters: { PendingWindow: { Type: 'Number', Default: 10 } } },
  );
  yamlOnly(
    'window-if-env',
    { Key: cfnKey({ Description: 'window by environment', EnableKeyRotation: true, PendingWindowInDays: cfnIf('IsProd', 30, 7), KeyPolicy: rootPolicy() }) },
    bad(K, 'deletion-window'),
    { parameters: { Env: { Type: 'String', Default: 'dev', AllowedValues: ['dev', 'prod'] } }, conditions: { IsProd: equals(ref('Env'), 'prod') }, note: 'Env defaults to dev, so IsProd is false: 7 days as deployed without inputs.' },
  );

  // Specs.
  both('hmac-256', { Description: 'webhook signatures', KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', KeyPolicy: rootPolicy() }, ok(K), { note: 'HMAC keys cannot rotate automatically: not asked to.' });
  jsonOnly('hmac-384-window-7', { Key: cfnKey({ Description: 'tokens', KeySpec: 'HMAC_384', KeyUsage: 'GENERATE_VERIFY_MAC', PendingWindowInDays: 7, KeyPolicy: rootPolicy() }) }, bad(K, 'deletion-window'));
  both('rsa-2048', { Description: 'JWT signing', KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY', KeyPolicy: rootPolicy() }, bad(K, 'rsa-size'));
  yamlOnly('rsa-4096', { Key: cfnKey({ Description: 'code signing', KeySpec: 'RSA_4096', KeyUsage: 'SIGN_VERIFY', KeyPolicy: rootPolicy() }) }, ok(K));
  jsonOnly('rsa-3072-encrypt', { Key: cfnKey({ Description: 'partner envelope', KeySpec: 'RSA_3072', KeyUsage: 'ENCRYPT_DECRYPT', KeyPolicy: rootPolicy() }) }, ok(K));
  yamlOnly(
    'rsa-param-2048',
    { Key: cfnKey({ Description: 'spec from a parameter', KeySpec: ref('KeySpec'), KeyUsage: 'SIGN_VERIFY', KeyPolicy: rootPolicy() }) },
    bad(K, 'rsa-size'),
    { parameters: { KeySpec: { Type: 'String', Default: 'RSA_2048', AllowedValues: ['RSA_2048', 'RSA_3072', 'RSA_4096'] } } },
  );
  both('ecc-p384', { Description: 'ES384 tokens', KeySpec: 'ECC_NIST_P384', KeyUsage: 'SIGN_VERIFY', KeyPolicy: rootPolicy() }, ok(K));
  yamlOnly('ecc-ed25519', { Key: cfnKey({ Description: 'EdDSA signing', KeySpec: 'ECC_NIST_EDWARDS25519', KeyUsage: 'SIGN_VERIFY', KeyPolicy: rootPolicy() }) }, ok(K), { note: 'Asymmetric: no automatic rotation.' });
  yamlOnly('symmetric-explicit-rotation-off', { Key: cfnKey({ Description: 'explicit spec', KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', KeyPolicy: rootPolicy() }) }, bad(K, 'rotation-off'));

  // Key policies: compliant.
  const good = (keyPolicy: Json): CfnKeyProps => ({ Description: 'key with a policy', EnableKeyRotation: true, PendingWindowInDays: 30, KeyPolicy: keyPolicy });
  yamlOnly('root-partition-sub', { Key: cfnKey(good(rootPolicy(CFN_ROOT_PARTITION))) }, ok(K));
  yamlOnly('root-fn-sub-long-form', { Key: cfnKey(good(rootPolicy({ 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' }))) }, ok(K));
  both('root-join', good(rootPolicy(CFN_ROOT_JOIN)), ok(K));
  yamlOnly('root-account-ref', { Key: cfnKey(good(rootPolicy(ref('AWS::AccountId')))) }, ok(K), { note: 'An account id as principal is that account root.' });
  yamlOnly('root-literal', { Key: cfnKey(good(rootPolicy(ROOT))) }, ok(K));
  both('admins-users', good(policy(rootStmt(CFN_ROOT_SUB), adminStmt(cfnRole('kms-admins')), useStmt(cfnRole('app')))), ok(K));
  yamlOnly(
    'admins-users-params',
    { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_SUB), adminStmt(ref('AdminRoleArn')), useStmt(ref('AppRoleArn'))))) },
    ok(K),
    { parameters: { AdminRoleArn: { Type: 'String', Default: ADMIN }, AppRoleArn: { Type: 'String', Default: APP } } },
  );
  both('console-default', good(policy(rootStmt(CFN_ROOT_SUB), adminStmt(cfnRole('kms-admins')), useStmt(cfnRole('app')), grantStmt(cfnRole('app')))), ok(K), { note: "AWS's default key policy as the console writes it." });
  both('deny-insecure-transport', good(policy(rootStmt(CFN_ROOT_SUB), useStmt(cfnRole('app')), denyInsecureStmt())), ok(K), { note: 'A Deny with a wildcard principal grants nothing.' });
  yamlOnly('deny-deletion', { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_SUB), adminStmt(cfnRole('kms-admins')), denyDeletionStmt()))) }, ok(K));
  yamlOnly('logs-service', { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_SUB), logsStmt()))) }, ok(K));
  jsonOnly('cross-account-use', { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_SUB), useStmt(OTHER_ACCOUNT_ROOT)))) }, ok(K));

  // Key policies: wildcard principals.
  both('wildcard-star', good(policy(rootStmt(CFN_ROOT_SUB), wildStmt('*'))), bad(K, 'wildcard-principal'));
  both('wildcard-aws-star-condition', good(policy(rootStmt(CFN_ROOT_SUB), wildStmt({ AWS: '*' }, CALLER_COND))), bad(K, 'wildcard-principal'));
  yamlOnly('wildcard-in-list', { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_SUB), wildStmt({ AWS: [cfnRole('app'), '*'] })))) }, bad(K, 'wildcard-principal'));
  yamlOnly('wildcard-org-condition', { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_SUB), wildStmt('*', ORG_COND)))) }, bad(K, 'wildcard-principal'));
  yamlOnly('wildcard-statement-object', { Key: cfnKey(good({ Version: '2012-10-17', Statement: wildStmt({ AWS: '*' }) })) }, bad(K, 'wildcard-principal'), { note: 'Statement as a single object, as IAM allows.' });
  yamlOnly(
    'join-root-plus-wildcard',
    { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_JOIN), wildStmt('*')))) },
    bad(K, 'wildcard-principal'),
    { note: "The root's Fn::Join is not resolved statically; the wildcard statement is fully written." },
  );
  jsonOnly('wildcard-beside-deny', { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_SUB), denyInsecureStmt(), wildStmt({ AWS: '*' })))) }, bad(K, 'wildcard-principal'));

  // kms:* and separation of duties.
  both('kms-star-role', good(policy(rootStmt(CFN_ROOT_SUB), fullStmt(cfnRole('ci-deployer')))), bad(K, ...STAR));
  yamlOnly(
    'kms-star-param-role',
    { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_SUB), fullStmt(ref('DeployerRoleArn'))))) },
    bad(K, ...STAR),
    { parameters: { DeployerRoleArn: { Type: 'String', Default: CI } } },
  );
  jsonOnly('action-star-role', { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_SUB), fullStmt(CI, ['*'])))) }, bad(K, ...STAR), { note: 'Action "*" includes every kms action.' });
  both('sod-same-statement', good(policy(rootStmt(CFN_ROOT_SUB), { Sid: 'Deployer', Effect: 'Allow', Principal: { AWS: cfnRole('ci-deployer') }, Action: ['kms:Decrypt', 'kms:PutKeyPolicy'], Resource: '*' })), bad(K, 'separation-of-duties'));
  yamlOnly('sod-across-statements', { Key: cfnKey(good(policy(rootStmt(CFN_ROOT_SUB), adminStmt(cfnRole('platform')), useStmt(cfnRole('platform'))))) }, bad(K, 'separation-of-duties'));
  yamlOnly(
    'everything-wrong',
    { Key: cfnKey({ Description: 'everything wrong', PendingWindowInDays: 7, KeyPolicy: policy(rootStmt(CFN_ROOT_SUB), wildStmt('*')) }) },
    bad(K, 'rotation-off', 'deletion-window', 'wildcard-principal'),
  );

  // CDK synth output: logical ids with hashes, Fn::Join roots, Retain policies, a .template.json name.
  const cdkKey = (props: CfnKeyProps): Json => ({
    Type: 'AWS::KMS::Key',
    Properties: {
      KeyPolicy: { Statement: [{ Action: 'kms:*', Effect: 'Allow', Principal: { AWS: CFN_ROOT_JOIN }, Resource: '*' }], Version: '2012-10-17' },
      ...props,
    },
    UpdateReplacePolicy: 'Retain',
    DeletionPolicy: 'Retain',
    Metadata: { 'aws:cdk:path': 'DataStack/DataKey/Resource' },
  });
  jsonOnly('cdk-default-key', { DataKey1A2B3C4D: cdkKey({}) }, bad('DataKey1A2B3C4D', 'rotation-off'), { file: 'DataStack.template.json', note: "CDK's `new kms.Key(this, 'DataKey')`: rotation off by default." });
  jsonOnly('cdk-rotating-key', { DataKey1A2B3C4D: cdkKey({ EnableKeyRotation: true, PendingWindowInDays: 30 }) }, ok('DataKey1A2B3C4D'), { file: 'DataStack.template.json' });
  jsonOnly('cdk-short-window', { DataKey1A2B3C4D: cdkKey({ EnableKeyRotation: true, PendingWindowInDays: 7 }) }, bad('DataKey1A2B3C4D', 'deletion-window'), { file: 'DataStack.template.json' });
  jsonOnly('template-extension', { Key: cfnKey({ Description: 'a .template file', KeyPolicy: rootPolicy() }) }, bad(K, 'rotation-off'), { file: 'kms.template' });
}

/** Every case, in a fixed order. */
export function createCases(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  terraformKeyCases(cases);
  terraformPolicyCases(cases);
  cloudFormationCases(cases);
  return cases;
}

export interface WriteCorpusOptions {
  /** Where the case folders go (emptied first). */
  corpusDir: string;
  manifestFile: string;
  /** Make the corpus its own git repository (default true): inside bench/.work/ it is git-ignored by the enclosing one. */
  gitInit?: boolean;
}

/** Writes every case and the policy file under `corpusDir`, and the manifest. */
export function writeCheckCorpus(o: WriteCorpusOptions): Manifest {
  const cases = createCases();
  rmSync(o.corpusDir, { recursive: true, force: true });
  mkdirSync(o.corpusDir, { recursive: true });
  const manifest: Manifest = { version: CORPUS_VERSION, policyFile: POLICY_FILE, cases: {} };
  for (const c of cases) {
    if (manifest.cases[c.name]) throw new Error(`case ${c.name} twice`);
    for (const [rel, text] of Object.entries(c.files)) {
      const file = path.join(o.corpusDir, c.name, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, text);
    }
    manifest.cases[c.name] = { format: c.format, files: Object.keys(c.files).sort(), expected: c.expected, ...(c.note ? { note: c.note } : {}) };
  }
  const policyFile = path.join(o.corpusDir, POLICY_FILE);
  mkdirSync(path.dirname(policyFile), { recursive: true });
  writeFileSync(policyFile, POLICY_TEXT);
  if (o.gitInit !== false) execFileSync('git', ['init', '-q', o.corpusDir], { stdio: 'ignore' });
  mkdirSync(path.dirname(o.manifestFile), { recursive: true });
  writeFileSync(o.manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export const DEFAULT_WORK_DIR = path.resolve(import.meta.dirname, '..', '.work', 'check');

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--out');
  const work = i > 0 ? path.resolve(process.argv[i + 1]!) : DEFAULT_WORK_DIR;
  const m = writeCheckCorpus({ corpusDir: path.join(work, 'corpus'), manifestFile: path.join(work, 'manifest.json') });
  const all = Object.values(m.cases);
  process.stderr.write(`bench:check: wrote ${all.length} cases (${all.filter(isCompliant).length} compliant) to ${path.join(work, 'corpus')}\n`);
}
