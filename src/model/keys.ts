/**
 * The key vocabulary every stage shares: specs, usages, states, normalised operations and the
 * managed key as backends describe it. The policy compiler and the backends both import it from
 * here, so the compiler never depends on a backend.
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
] as const;
/**
 * Creating, revoking and retiring grants: a grant can pass on only cryptographic operations (and
 * DescribeKey, GetPublicKey, CreateGrant, RetireGrant), never administration, so it is neither —
 * AWS's default key policy gives its key users `kms:CreateGrant` for AWS services.
 */
export const DELEGATE_OPERATIONS = ['create-grant'] as const;
export const OPERATIONS = [...USE_OPERATIONS, 'describe', ...ADMIN_OPERATIONS, ...DELEGATE_OPERATIONS, '*'] as const;
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

/**
 * - `enabled`: usable while its key is;
 * - `revoked`: this one version was revoked (its material leaked, `revokeVersion`): it can no
 *   longer encrypt, decrypt, sign, verify, MAC or be exported, whatever the key's state; the
 *   key's other versions are untouched. Permanent: there is no un-revoke;
 * - `destroyed`: its material is gone.
 */
export type KeyVersionState = 'enabled' | 'revoked' | 'destroyed';

export interface KeyVersion {
  /** 1-based, increasing. */
  version: number;
  createdAt: string;
  state: KeyVersionState;
  /**
   * The version new encryptions use. A revoked current version stays current (nothing encrypts
   * with it) until a rotation adds a new one.
   */
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
