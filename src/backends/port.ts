/**
 * The `KeyBackend` port: domain verbs over a KMS, an HSM or the embedded keystore.
 *
 * The verbs are Keywarden's, not one vendor's: inventory and describe, create, rotate,
 * disable and enable, schedule and cancel destruction, and envelope encryption. A verb a
 * backend cannot do throws `UnsupportedError` (code `KW_UNSUPPORTED`) and the caller falls
 * back, for example `rotateWithFallback` replaces a key that cannot rotate in place.
 *
 * Security properties:
 * - No value returned by a management verb holds key material; only `encrypt`,
 *   `decrypt` and `generateDataKey` return plaintext, and only to the caller.
 * - Every mutating verb takes an idempotency key: calling it again with the same key
 *   returns the first result (`replayed: true`) and does nothing twice.
 * - Errors are `KeywardenError`s with stable codes; throttling and transient faults are
 *   `retryable`, permanent ones are not.
 */

/** Key specs, in the AWS KMS vocabulary the policy DSL also uses. */
export const KEY_SPECS = [
  'AES_256',
  'AES_128',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
  'ECC_SECG_P256K1',
] as const;
export type KeySpec = (typeof KEY_SPECS)[number];

export function isKeySpec(s: string): s is KeySpec {
  return (KEY_SPECS as readonly string[]).includes(s);
}

export function isSymmetricSpec(spec: KeySpec): boolean {
  return spec === 'AES_256' || spec === 'AES_128';
}

export type KeyUsage = 'encrypt-decrypt' | 'sign-verify' | 'generate-verify-mac' | 'key-agreement';

/** `destroyed` keys stay listed (their record is kept for the audit); their material is gone. */
export type KeyState = 'enabled' | 'disabled' | 'pending-destruction' | 'destroyed';

/**
 * Normalised operations: what a principal may do with a key. Vendor actions map onto these
 * (`kms:Decrypt` → `decrypt`, `kms:*` → `*`), so the policy engine judges every backend alike.
 */
export const USE_OPERATIONS = ['encrypt', 'decrypt', 'generate-data-key', 'sign', 'verify', 'mac'] as const;
/** Operations that administer the key rather than use it; used to judge separation of duties. */
export const ADMIN_OPERATIONS = [
  'rotate',
  'disable',
  'enable',
  'schedule-destruction',
  'cancel-destruction',
  'manage-access',
  'manage-aliases',
  'tag',
  'create-grant',
] as const;
export const OPERATIONS = [...USE_OPERATIONS, 'describe', ...ADMIN_OPERATIONS, '*'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** One row of a key's access policy: a principal, an effect and the operations it covers. */
export interface AccessRule {
  /** An ARN, `*` for anyone, or a backend-specific principal such as `pkcs11:token/<label>:user`. */
  principal: string;
  effect: 'allow' | 'deny';
  operations: Operation[];
  /** The vendor's own action names, kept so a policy can forbid `kms:*` literally. */
  actions: string[];
  /** Where the rule came from. */
  source: 'key-policy' | 'grant' | 'keystore' | 'token';
  /** True when the vendor rule carries conditions Keywarden did not evaluate. */
  conditional: boolean;
  /** The policy statement id or the grant id. */
  ref?: string;
}

export interface KeyVersion {
  /** 1-based, increasing. */
  version: number;
  createdAt: string;
  state: 'enabled' | 'destroyed';
  current: boolean;
}

export interface RotationSetting {
  /** The backend rotates the key by itself on a schedule. */
  automatic: boolean;
  periodDays?: number;
  /** Whether `rotate` can add a version in place; when false, rotate by replacement. */
  inPlace: boolean;
}

export interface ManagedKey {
  backend: string;
  /** The backend's own id (KMS key id, keystore id, PKCS#11 CKA_ID prefix). */
  id: string;
  arn?: string;
  /** Aliases (KMS) or labels (PKCS#11, local); the first is the primary name. */
  aliases: string[];
  description?: string;
  /** `OTHER` for a vendor spec outside `KEY_SPECS`; `vendorSpec` then holds its name. */
  spec: KeySpec | 'OTHER';
  vendorSpec?: string;
  usage: KeyUsage;
  state: KeyState;
  createdAt: string;
  lastRotatedAt?: string;
  rotation: RotationSetting;
  /** Known versions, oldest first. Backends that cannot list versions report what they know. */
  versions: KeyVersion[];
  currentVersion: number;
  /** When destruction is pending: the time the backend (or Keywarden) will destroy the key. */
  destructionAt?: string;
  tags: Record<string, string>;
  access: AccessRule[];
}

/** Every mutating verb takes one. */
export interface MutationOptions {
  /**
   * Same key, same verb and key → the first result is returned and nothing runs twice.
   * Same key with a different verb or key → `KW_IDEMPOTENCY_CONFLICT`.
   */
  idempotencyKey: string;
  /** Who asked (a user, the app, a job id); recorded in the audit log by the audited wrapper. */
  actor?: string;
  /** Why, for example `finding:sha256:…`; never a secret. */
  reason?: string;
}

export type MutationVerb =
  | 'create'
  | 'rotate'
  | 'set-rotation'
  | 'disable'
  | 'enable'
  | 'schedule-destruction'
  | 'cancel-destruction'
  | 'destroy'
  | 'move-alias';

/** What a mutating verb returns: small, serialisable, and free of key material. */
export interface MutationResult {
  operation: MutationVerb;
  keyId: string;
  state: KeyState;
  /** The current version after the verb. */
  version?: number;
  destructionAt?: string;
  /** True when this result is the stored result of an earlier call with the same idempotency key. */
  replayed: boolean;
}

export interface CreateKeyInput {
  spec: KeySpec;
  usage?: KeyUsage;
  /** An alias or label to give the key; must not be in use. */
  alias?: string;
  description?: string;
  tags?: Record<string, string>;
  /** Backend-specific access policy; the local keystore takes `AccessRule[]`, aws-kms a policy JSON string. */
  policy?: AccessRule[] | string;
}

export interface RotationInput {
  automatic: boolean;
  periodDays?: number;
}

export interface EncryptOptions {
  /** Bound to the ciphertext as additional authenticated data; must match on decrypt. */
  context?: Record<string, string>;
}

export interface EncryptResult {
  ciphertext: Uint8Array;
  keyId: string;
  /** The key version that sealed it, when the backend reveals it (KMS does not). */
  version?: number;
}

export interface DecryptResult {
  plaintext: Uint8Array;
  keyId: string;
  version?: number;
}

export interface DataKeyResult {
  /** The data key in clear, for the caller to use and wipe. */
  plaintext: Uint8Array;
  /** The data key sealed under the managed key; store this beside the data. */
  ciphertext: Uint8Array;
  keyId: string;
  version?: number;
}

export interface BackendCapabilities {
  /** Specs `create` accepts. */
  specs: readonly KeySpec[];
  /** Whether the backend rotates on a schedule by itself. */
  automaticRotation: boolean;
  /** Allowed destruction window, in days. */
  destructionWindowDays: { min: number; max: number };
  /** Whether `encrypt` results say which version sealed them. */
  versionedCiphertext: boolean;
}

export interface KeyBackend {
  /** `local`, `aws-kms`, `pkcs11`. */
  readonly name: string;
  readonly capabilities: BackendCapabilities;

  inventory(): Promise<ManagedKey[]>;
  /** `ref` is an id, an ARN, or an alias/label. Throws `KW_KEY_NOT_FOUND`. */
  describe(ref: string): Promise<ManagedKey>;

  create(input: CreateKeyInput, options: MutationOptions): Promise<MutationResult>;
  /** Adds a version in place; throws `KW_UNSUPPORTED` when the key cannot (see `rotateWithFallback`). */
  rotate(ref: string, options: MutationOptions): Promise<MutationResult>;
  setRotation(ref: string, rotation: RotationInput, options: MutationOptions): Promise<MutationResult>;
  disable(ref: string, options: MutationOptions): Promise<MutationResult>;
  enable(ref: string, options: MutationOptions): Promise<MutationResult>;
  scheduleDestruction(ref: string, windowDays: number, options: MutationOptions): Promise<MutationResult>;
  cancelDestruction(ref: string, options: MutationOptions): Promise<MutationResult>;
  /** Points an alias or label at another key: how rotation by replacement finishes. */
  moveAlias(alias: string, targetRef: string, options: MutationOptions): Promise<MutationResult>;
  /**
   * Destroys keys whose window has elapsed, for backends where Keywarden keeps the window
   * (local, pkcs11). Backends that destroy by themselves return an empty list.
   */
  completeDueDestructions(now?: Date): Promise<MutationResult[]>;

  encrypt(ref: string, plaintext: Uint8Array, options?: EncryptOptions): Promise<EncryptResult>;
  decrypt(ciphertext: Uint8Array, options?: EncryptOptions): Promise<DecryptResult>;
  generateDataKey(ref: string, options?: EncryptOptions & { bytes?: number }): Promise<DataKeyResult>;

  close(): Promise<void>;
}

/** Where a newly issued credential goes. Implementations store it; Keywarden never prints it. */
export interface SecretSink {
  readonly name: string;
  /** Stores the secret under `name`; returns a reference that is safe to print (a path, an ARN). */
  put(name: string, secret: Record<string, string>, meta: { reason?: string }): Promise<string>;
}

export interface CredentialRevocation {
  provider: string;
  /** The public half of the credential, for example the AWS access key id. Safe to print. */
  credentialId: string;
  owner: string;
  deactivated: boolean;
  replacementId?: string;
  /** Where the replacement was stored (from `SecretSink.put`). */
  replacementRef?: string;
  replayed: boolean;
}

/** Revokes a leaked credential at its provider and issues a replacement. */
export interface CredentialRevoker {
  readonly provider: string;
  revoke(credentialId: string, options: MutationOptions & { replace?: boolean }): Promise<CredentialRevocation>;
}
