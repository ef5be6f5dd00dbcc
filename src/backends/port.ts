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
 * - Leak matching (`matchLeak`) never receives a secret, only a finding's fingerprint and
 *   public identity; backends opt in to it, to `revokeVersion` and to `getPublicKey`.
 */

export * from '../model/keys.js';
import type { CredentialIdentity } from '../model/finding.js';
import type { AccessRule, KeySpec, KeyState, KeyUsage, KeyVersionState, ManagedKey } from '../model/keys.js';

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
  | 'move-alias'
  | 'revoke-version';

/** What a mutating verb returns: small, serialisable, and free of key material. */
export interface MutationResult {
  operation: MutationVerb;
  keyId: string;
  state: KeyState;
  /** The current version after the verb. */
  version?: number;
  destructionAt?: string;
  /** `revoke-version`: the version that was revoked (`version` stays the current one). */
  revokedVersion?: number;
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
  /**
   * The key's material may be exported (as Vault transit's `exportable`): fixed at creation,
   * never changeable later. Only the local keystore supports it (`LocalBackend.exportKey`); KMS
   * and HSM backends refuse `true` with `KW_UNSUPPORTED`, their material never leaves them.
   */
  exportable?: boolean;
}

/**
 * What the scanner knows about a leaked secret, handed to `matchLeak`. Never the secret itself:
 * only what a `Finding` carries.
 */
export interface LeakEvidence {
  /** The finding's fingerprint: `sha256:` + hex SHA-256 of the secret's UTF-8 text as found. */
  fingerprint: string;
  /** The finding's public identity, when its detector gave one (`public-key`, `keywarden-key`, …). */
  identity?: CredentialIdentity;
  /** The finding's credential type (`private-key`, `keywarden-key`, …). */
  type: string;
}

/** A leaked secret recognised as (a version of) a managed key. */
export interface KeyMatch {
  keyId: string;
  /** The version whose material leaked, when the backend knows it. */
  version?: number;
  aliases: string[];
  /**
   * - `material`: the secret is an encoding of the key's material (keyed fingerprint match);
   * - `public-key`: the secret is a private key whose public half is this key's public key.
   */
  how: 'material' | 'public-key';
  /** What the backend can do about it: revoke just the version (`revokeVersion`) or only the whole key (disable, replace). */
  revocable: 'version' | 'key';
  /** The matched version's state now (a version already revoked needs nothing more). */
  versionState?: KeyVersionState;
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

  /**
   * Optional (context stage): is this leaked secret one of this backend's keys? Read-only, not
   * audited. Takes the finding's fingerprint and identity, never the secret. Undefined when
   * nothing matches, including when the backend cannot tell (it fails closed: no false match).
   * A malformed fingerprint is `KW_INVALID_ARGUMENT`.
   */
  matchLeak?(evidence: LeakEvidence): Promise<KeyMatch | undefined>;
  /**
   * Optional: revokes one version of a key (its material leaked) while the others stay usable.
   * Revoking the current version is allowed, and leaves the key without a usable current version
   * until `rotate` adds one. Idempotent like every mutation; revoking a revoked version again is
   * a no-op. Backends that can only act on the whole key (`KeyMatch.revocable: 'key'`) lack it.
   */
  revokeVersion?(ref: string, version: number, options: MutationOptions): Promise<MutationResult>;
  /**
   * Optional: the public key of an asymmetric key's current version, as SPKI DER (public, safe to
   * print). `KW_UNSUPPORTED` for a symmetric key.
   */
  getPublicKey?(ref: string): Promise<Uint8Array>;

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
  /** What the provider could not do, for people (a GitHub token cannot be re-issued by anyone but its owner). */
  note?: string;
}

export interface RevokeOptions extends MutationOptions {
  /** Issue a replacement (rotate) as well. */
  replace?: boolean;
  /**
   * The leaked secret itself, for a provider whose revocation takes it (GitHub's credential
   * revocation API): re-read from the source at act time and checked against the finding's
   * fingerprint; never stored, queued or logged. Undefined when it is not at the source any more.
   */
  secret?: () => Promise<string | undefined>;
}

/** Revokes a leaked credential at its provider and issues a replacement. */
export interface CredentialRevoker {
  readonly provider: string;
  /** Why this provider's credentials cannot be re-issued here (a GitHub token: only its owner can); absent when `replace` works. */
  readonly cannotRotate?: string;
  revoke(credentialId: string, options: RevokeOptions): Promise<CredentialRevocation>;
}
