/**
 * The facts Keywarden reads from a repository's configuration: what keys it declares and how,
 * which aliases, grants and long-lived credentials, where secrets are stored. Pure data, safe to
 * print and store: a fact never holds a secret value (a Kubernetes Secret's fact lists its key
 * names only), and every fact says where it is declared (1-based line and column).
 *
 * Every value the policy judges is a `Value`: `known` (a literal, or resolved from a literal
 * variable default, local or module input), `absent` (not written: the provider's default applies,
 * see `KEY_DEFAULTS`) or `unknown` (written, but not resolvable without running Terraform or
 * CloudFormation; the reason says why). Extractors never guess.
 */
import type { KeyUsage } from '../model/keys.js';

/** 1-based line and column. */
export interface Position {
  line: number;
  column: number;
}

/** Where a fact is declared: the resource or block start. */
export interface Located extends Position {
  file: string;
}

/**
 * A tagged value. `line`/`column` (when set) are the attribute's position, so a violation annotates
 * the attribute; an `absent` value has none, and the violation annotates the resource.
 */
export type Value<T> =
  | ({ state: 'known'; value: T } & Partial<Position>)
  | { state: 'absent' }
  | ({ state: 'unknown'; reason: string } & Partial<Position>);

export type SourceFormat = 'terraform' | 'cloudformation' | 'kubernetes' | 'code' | 'dotenv' | 'config';
export type KeyProvider = 'aws' | 'gcp' | 'azure' | 'vault';
export type KeyFamily = 'symmetric' | 'asymmetric' | 'hmac';

/**
 * One statement of a key policy, normalised from IAM JSON, `jsonencode`, an
 * `aws_iam_policy_document` data source or a CloudFormation `KeyPolicy`.
 *
 * Principals are strings: an AWS principal as written (`*`, an ARN, an account id), another type as
 * `Type:value` (`Service:logs.amazonaws.com`, `Federated:…`). Actions and resources are as written
 * (IAM compares actions case-insensitively). A string that holds an unresolved reference keeps it
 * as `${…}` (`arn:aws:iam::${data.aws_caller_identity.current.account_id}:root`); a list with an
 * element that is nothing but an unresolved reference is `unknown` as a whole.
 */
export interface PolicyStatement extends Position {
  sid: string | undefined;
  effect: Value<'Allow' | 'Deny'>;
  principals: Value<string[]>;
  /** `NotPrincipal`: absent in almost every key policy. */
  notPrincipals: Value<string[]>;
  actions: Value<string[]>;
  notActions: Value<string[]>;
  resources: Value<string[]>;
  /** A `Condition` element (or `condition` block) is present; Keywarden does not evaluate it. */
  hasConditions: boolean;
}

interface FactBase extends Located {
  format: SourceFormat;
  /** `aws_kms_key`, `AWS::KMS::Key`, `Secret`, … */
  resourceType: string;
  /**
   * The address: `aws_kms_key.main`, `module.kms.aws_kms_key.main` (through a module call),
   * a CloudFormation logical id, or `namespace/name` for a Kubernetes object.
   */
  name: string;
  /** Set when the fact comes from a module call: where the call is. */
  via?: Located & { module: string };
}

/** A managed key as the repository declares it. */
export interface KeyFact extends FactBase {
  kind: 'key';
  provider: KeyProvider;
  /** The vendor spec as written: `SYMMETRIC_DEFAULT`, `RSA_2048`, `HMAC_256`, GCP's algorithm, Vault's `type`, Azure's `key_type`. */
  spec: Value<string>;
  usage: Value<KeyUsage>;
  /** Derived from the spec; when the spec is absent, from the provider's documented default spec. */
  family: Value<KeyFamily>;
  /** RSA modulus size; `absent` for non-RSA keys. */
  rsaBits: Value<number>;
  /** Automatic rotation. GCP: a `rotation_period` is set; Azure: an `automatic` rotation action; Vault: `auto_rotate_period > 0`. */
  rotationEnabled: Value<boolean>;
  rotationPeriodDays: Value<number>;
  /** AWS `deletion_window_in_days` / `PendingWindowInDays`, GCP `destroy_scheduled_duration`. */
  deletionWindowDays: Value<number>;
  multiRegion: Value<boolean>;
  /** The key policy (AWS only): inline, or from an `aws_kms_key_policy` resource of the same module. */
  policy: Value<PolicyStatement[]>;
  /** Known alias names (`alias/…`) pointing at this key, from the same module or template. */
  aliases: string[];
  /** Provider-specific values that have no common name. */
  extra: KeyExtra;
}

export interface KeyExtra {
  /** GCP `purpose` as written (`ENCRYPT_DECRYPT`, `ASYMMETRIC_SIGN`, …). */
  purpose?: Value<string>;
  /** GCP `version_template.protection_level`. */
  protectionLevel?: Value<string>;
  /** Azure: a `rotation_policy` block is present. */
  hasRotationPolicy?: Value<boolean>;
  /** Azure `rotation_policy.expire_after`, in days. */
  expireAfterDays?: Value<number>;
  /** Azure `expiration_date` (RFC 3339 as written). */
  expirationDate?: Value<string>;
  /** Azure `key_opts`. */
  keyOperations?: Value<string[]>;
  /** Azure `curve`. */
  curve?: Value<string>;
  /** Vault `min_decryption_version`. */
  minDecryptionVersion?: Value<number>;
  /** Vault `deletion_allowed`. */
  deletionAllowed?: Value<boolean>;
  /** Vault `exportable`. */
  exportable?: Value<boolean>;
  /** AWS `is_enabled` / `Enabled`. */
  enabled?: Value<boolean>;
}

/** `aws_kms_alias` / `AWS::KMS::Alias`. */
export interface AliasFact extends FactBase {
  kind: 'alias';
  provider: 'aws';
  aliasName: Value<string>;
  /** The target as written or resolved (a key id or ARN), usually unknown (`aws_kms_key.x.key_id`). */
  targetKeyId: Value<string>;
  /** The address of the target key when it is a resource of the same module or template. */
  targetKey?: string;
}

/** `aws_kms_grant`. */
export interface GrantFact extends FactBase {
  kind: 'grant';
  provider: 'aws';
  keyId: Value<string>;
  targetKey?: string;
  grantee: Value<string>;
  retiringPrincipal: Value<string>;
  operations: Value<string[]>;
  hasConstraints: boolean;
}

/** A separate key policy attachment (`aws_kms_key_policy`). Its statements are also merged into the target's `KeyFact.policy`. */
export interface KeyPolicyFact extends FactBase {
  kind: 'key-policy';
  provider: 'aws';
  keyId: Value<string>;
  targetKey?: string;
  policy: Value<PolicyStatement[]>;
}

/**
 * `aws_iam_access_key`: a long-lived credential created by Terraform. Its secret lands in the
 * state unless `pgp_key` encrypts it.
 */
export interface AccessKeyFact extends FactBase {
  kind: 'access-key';
  provider: 'aws';
  user: Value<string>;
  status: Value<string>;
  /** `pgp_key` is set (its value is not kept). */
  encryptedWithPgp: boolean;
}

/** A Kubernetes `Secret` holding its values inline: a storage violation. Key names only, never values. */
export interface InlineSecretFact extends FactBase {
  kind: 'inline-secret';
  namespace: string | undefined;
  secretType: string | undefined;
  /** Names under `data` and `stringData`, sorted, each once. */
  keys: string[];
  dataKeys: string[];
  stringDataKeys: string[];
}

/** A reference to an external secret store: the good way to hold a secret. */
export interface SecretStoreRefFact extends FactBase {
  kind: 'secret-store-ref';
  refKind: 'ExternalSecret' | 'ClusterExternalSecret' | 'SealedSecret' | 'SecretProviderClass';
  namespace: string | undefined;
  /** `secretStoreRef.name` (External Secrets) or the CSI `provider` (`aws`, `azure`, `gcp`, `vault`). */
  store: string | undefined;
  /** Keys of the target secret (names only). */
  keys: string[];
}

/**
 * A credential or key written into code (an SDK client given literal access keys, a literal key
 * given to `createCipheriv`): a storage violation, like an inline Kubernetes Secret. Never the value.
 */
export interface InlineCredentialFact extends FactBase {
  kind: 'inline-credential';
  /** What holds it, in words: `credentials written into new KMSClient(…)`. */
  what: string;
}

/** A KMS key named by a literal in code or a dotenv file: which key a call site or a setting uses. */
export interface KeyRefFact extends FactBase {
  kind: 'key-ref';
  provider: 'aws';
  /** The ARN, alias or key id as written. */
  ref: string;
  refKind: 'arn' | 'alias-arn' | 'alias' | 'key-id';
}

export type Fact = KeyFact | AliasFact | GrantFact | KeyPolicyFact | AccessKeyFact | InlineSecretFact | SecretStoreRefFact | InlineCredentialFact | KeyRefFact;
export type FactKind = Fact['kind'];

/** Stable codes of the problems an extractor reports. Branch on these, never on the message. */
export const ProblemCode = {
  FILE_TOO_LARGE: 'file-too-large',
  BINARY: 'binary-content',
  HCL_SYNTAX: 'hcl-syntax',
  HCL_TOO_DEEP: 'hcl-too-deep',
  HCL_DUPLICATE: 'hcl-duplicate-attribute',
  YAML_SYNTAX: 'yaml-syntax',
  JSON_SYNTAX: 'json-syntax',
  YAML_TOO_DEEP: 'yaml-too-deep',
  YAML_ALIASES: 'yaml-alias-limit',
  YAML_UNRENDERED: 'yaml-unrendered-template',
  TEMPLATE_INVALID: 'template-invalid',
  LOCAL_CYCLE: 'tf-local-cycle',
  MODULE_CYCLE: 'tf-module-cycle',
  POLICY_INVALID: 'policy-json-invalid',
  BUDGET: 'evaluation-budget',
  INTERNAL: 'internal',
} as const;
export type ProblemCode = (typeof ProblemCode)[keyof typeof ProblemCode];

/** Bad input, located. The message never quotes the file's content. */
export interface Problem extends Located {
  code: ProblemCode;
  message: string;
}

export interface InspectResult {
  facts: Fact[];
  problems: Problem[];
}

/**
 * What each resource type means when an attribute is `absent`, from the providers' documentation.
 * The policy applies these; the extractor reports what is written.
 */
export const KEY_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  aws_kms_key: { spec: 'SYMMETRIC_DEFAULT', usage: 'encrypt-decrypt', rotationEnabled: false, rotationPeriodDays: 365, deletionWindowDays: 30, multiRegion: false },
  'AWS::KMS::Key': { spec: 'SYMMETRIC_DEFAULT', usage: 'encrypt-decrypt', rotationEnabled: false, rotationPeriodDays: 365, deletionWindowDays: 30, multiRegion: false },
  aws_kms_replica_key: { deletionWindowDays: 30, multiRegion: true },
  aws_kms_external_key: { usage: 'encrypt-decrypt', deletionWindowDays: 30, multiRegion: false },
  google_kms_crypto_key: { spec: 'GOOGLE_SYMMETRIC_ENCRYPTION', usage: 'encrypt-decrypt', rotationEnabled: false, deletionWindowDays: 30 },
  azurerm_key_vault_key: { rotationEnabled: false },
  vault_transit_secret_backend_key: { spec: 'aes256-gcm96', usage: 'encrypt-decrypt', rotationEnabled: false, minDecryptionVersion: 1, deletionAllowed: false },
};

/** A position that may be missing (an `absent` value's, or a value's whose attribute Keywarden did not locate). */
export interface MaybePosition {
  line?: number | undefined;
  column?: number | undefined;
}

export const known = <T>(value: T, at?: MaybePosition): Value<T> => ({ state: 'known', value, ...positionOf(at) });
export const unknown = <T = never>(reason: string, at?: MaybePosition): Value<T> => ({ state: 'unknown', reason, ...positionOf(at) });
export const ABSENT: { state: 'absent' } = Object.freeze({ state: 'absent' as const });

function positionOf(at: MaybePosition | undefined): Partial<Position> {
  return at?.line === undefined || at.column === undefined ? {} : { line: at.line, column: at.column };
}

/** Map a known value, keeping its position; `absent` and `unknown` pass through. */
export function mapValue<T, U>(v: Value<T>, f: (t: T) => Value<U>): Value<U> {
  if (v.state !== 'known') return v;
  const r = f(v.value);
  if (r.state === 'absent') return r;
  return { ...r, ...positionOf(v), ...positionOf(r as MaybePosition) } as Value<U>;
}

/** Family, RSA size and usage implied by a vendor key spec. */
export interface SpecInfo {
  family: KeyFamily;
  rsaBits?: number;
  usage?: KeyUsage;
}

/**
 * What a vendor spec says about the key: AWS specs (`SYMMETRIC_DEFAULT`, `RSA_3072`, `HMAC_256`,
 * `ECC_NIST_P256`, `SM2`, `ML_DSA_65`), GCP algorithms (`GOOGLE_SYMMETRIC_ENCRYPTION`,
 * `RSA_SIGN_PSS_3072_SHA256`, `EC_SIGN_P256_SHA256`, `HMAC_SHA256`), Vault types (`aes256-gcm96`,
 * `rsa-4096`, `ecdsa-p256`, `ed25519`, `hmac`) and Azure key types (`RSA`, `RSA-HSM`, `EC`, `oct-HSM`).
 * Undefined for a spec Keywarden does not know.
 */
export function specInfo(spec: string): SpecInfo | undefined {
  const s = spec.toUpperCase();
  // AWS RSA_3072, GCP RSA_SIGN_PSS_3072_SHA256, Vault rsa-3072.
  const rsa = /^RSA[_-](?:.*[_-])?(\d{4})(?:[_-]|$)/.exec(s);
  if (rsa) return { family: 'asymmetric', rsaBits: Number(rsa[1]) };
  if (s === 'RSA' || s === 'RSA-HSM') return { family: 'asymmetric' };
  if (s.startsWith('HMAC')) return { family: 'hmac', usage: 'generate-verify-mac' };
  if (/^(SYMMETRIC_DEFAULT|GOOGLE_SYMMETRIC_ENCRYPTION|EXTERNAL_SYMMETRIC_ENCRYPTION|AES|CHACHA20|OCT$|OCT-HSM$|XTS)/.test(s)) return { family: 'symmetric' };
  if (/^(ECC_|EC_|EC$|EC-HSM$|ECDSA|ED25519|SM2$|ML_DSA)/.test(s)) return { family: 'asymmetric' };
  return undefined;
}
