/**
 * The embedded default backend: a SQLite keystore with envelope encryption.
 *
 * Security properties:
 * - Every key version's material is sealed with AES-256-GCM under a key-encryption key (KEK)
 *   that never touches the disk: derived with scrypt from a passphrase (salt and cost stored
 *   in the keystore) or given as 32 raw bytes through the environment. The seal's additional
 *   data binds key id and version, so a sealed blob moved to another row does not open.
 * - The KDF parameters (scrypt N, r, p, salt) are bound as additional data of the sealed KEK
 *   check value and bounded before scrypt runs: an edited cost neither opens the keystore with a
 *   wrong passphrase nor lowers (or blows up) the work silently; it is refused. A new keystore
 *   refuses a passphrase shorter than 12 characters.
 * - The database file is created with mode 0600, in WAL mode; every mutation is one
 *   `BEGIN IMMEDIATE` transaction together with its idempotency record AND its audit record.
 *   The audit log lives in this same database file (not in the state folder's audit.db), because
 *   SQLite makes a transaction across ATTACHed WAL databases atomic per file only, never as a
 *   set: a crash between the two commits would leave a key operation without its record. One
 *   file, one commit: if the audit record cannot be written, the key operation does not happen
 *   (fail closed, as Vault refuses a request no audit device could record).
 * - The log's checkpoints are signed with an Ed25519 key derived (HKDF) from the KEK, so only
 *   the holder of the passphrase can sign or verify them (see store/checkpoint.ts).
 * - Destruction is crypto-shredding: the sealed material is overwritten with zeros (with
 *   `secure_delete` on), then the WAL is checkpointed with TRUNCATE. Only when that checkpoint
 *   completes is the key reported `destroyed`; while another connection holds an old snapshot
 *   (which keeps old page images in the WAL or the file) it stays `pending-destruction`, and
 *   the next `completeDueDestructions` finishes it.
 * - No key material or plaintext appears in an error, a result or a log.
 *
 * Leak matching (`matchLeak`): each version's material gets keyed fingerprints, stored in
 * `key_fingerprints`, so a secret the scanner found can be recognised as that version without
 * the keystore holding anything that helps an attacker:
 *
 *     K_match = HKDF-SHA256(ikm = KEK, salt = "keywarden/local", info = "leak-match hmac-sha256 v1", 32 bytes)
 *     row     = HMAC-SHA256(K_match, SHA-256(UTF-8 text of one encoding of the material))
 *
 * The inner SHA-256 is exactly the digest in a finding's fingerprint (`sha256:<hex>` of the secret
 * as found), so `matchLeak` computes HMAC-SHA256(K_match, <the 32 bytes that hex spells>) and looks
 * it up: it never needs the secret. Encodings fingerprinted per version (every form `exportKey`
 * can produce, and the usual ways such a value is pasted): the export token; base64 (padded and
 * unpadded), base64url (unpadded), hex (lower and upper case) of the raw material, or, for RSA and
 * EC keys, of the PKCS#8 DER; for RSA and EC keys also the PKCS#8 PEM text as exported (with and
 * without its final newline, and with CRLF line ends). Separately, for RSA and EC keys, the
 * public key: HMAC-SHA256(K_match, SHA-256(SPKI DER)), matched against a finding's `public-key`
 * identity (so a private key found in any encoding the scanner can read is recognised too).
 * Without the KEK a fingerprint reveals nothing and cannot be tested against a guess; a keystore
 * opened with another KEK matches nothing (fails closed). Fingerprints are computed at create
 * and rotate, in the same transaction, and backfilled at open for versions made before they
 * existed. They outlive crypto-shredding (a leak of a destroyed key is still recognised).
 *
 * Export (`exportKey`): only keys created `exportable` (fixed at creation, and confirmed
 * against the key's create record in the audit log), only enabled keys and usable versions;
 * each export writes an `export` audit record (never the material) in the transaction that reads
 * it, so an export no audit record could take does not happen.
 *
 * Revocation (`revokeVersion`): a version's `revoked_at` is set, permanently; the version then
 * neither encrypts, decrypts nor exports, while its fingerprints keep recognising it.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  randomUUID,
  scryptSync,
  timingSafeEqual,
} from 'node:crypto';
import { existsSync } from 'node:fs';
import { ErrorCode, isKeywardenError, KeywardenError, UnsupportedError } from '../errors.js';
import { AuditLog, canonicalJson, type AuditEventInput, type AuditProblemReport, type AuditRecord } from '../store/audit.js';
import { createCheckpointSigner } from '../store/checkpoint.js';
import { IDEMPOTENCY_SCHEMA, runIdempotentSync } from '../store/idempotency.js';
import { openDatabase, toStoreError, type SqliteDatabase } from '../store/sqlite.js';
import { encodeKeywardenToken } from '../scan/detectors/keywarden.js';
import type {
  AccessRule,
  BackendCapabilities,
  CreateKeyInput,
  DataKeyResult,
  DecryptResult,
  EncryptOptions,
  EncryptResult,
  KeyBackend,
  KeyMatch,
  KeySpec,
  KeyState,
  KeyUsage,
  KeyVersionState,
  LeakEvidence,
  ManagedKey,
  MutationOptions,
  MutationResult,
  MutationVerb,
  RotationInput,
} from './port.js';
import { KEY_SPECS } from './port.js';

export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}

export interface LocalBackendOptions {
  /** The keystore file. Created with mode 0600 if missing. */
  path: string;
  /** Derive the KEK with scrypt from this passphrase. */
  passphrase?: string;
  /** Or give the 32-byte KEK directly. */
  kek?: Uint8Array;
  /** scrypt cost, used only when the keystore is first created. Default N=2^15, r=8, p=1. */
  scrypt?: ScryptCost;
  /** Clock, for tests of destruction windows. */
  now?: () => Date;
  /** Recorded in the audit log when a call gives no `actor`. Default `local`. */
  actor?: string;
  /** A signed audit checkpoint every this many records. Default 32. */
  checkpointEvery?: number;
}

/** Shortest passphrase a new keystore accepts, in characters. */
const MIN_PASSPHRASE_LENGTH = 12;

type KdfParams = { alg: 'direct' } | ({ alg: 'scrypt'; salt: string } & ScryptCost);
/**
 * `used`: the keystore already holds keys or audit history. A KDF record or check value missing
 * from such a keystore was deleted, never "not yet written".
 */
type MetaIO = { get: (k: string) => string | undefined; put?: (k: string, v: string) => void; used: boolean };

/** Every spec in the shared vocabulary. */
const SPECS: readonly KeySpec[] = KEY_SPECS;

const DEFAULT_SCRYPT: ScryptCost = { N: 2 ** 15, r: 8, p: 1 };
// Bounds checked before scrypt runs: an edited cost must not exhaust memory or time, nor pass for a weak one.
const SCRYPT_BOUNDS = { minN: 2 ** 12, maxN: 2 ** 20, maxR: 32, maxP: 16, maxMem: 1024 * 1024 * 1024 };
const KEK_CHECK = Buffer.from('keywarden-local-kek-check-v1');
const CHECK_V2 = 'v2:';
const CT_MAGIC = Buffer.from('KWL1');

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY,
  spec TEXT NOT NULL,
  usage TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('enabled', 'disabled', 'pending-destruction', 'destroyed')),
  created_at TEXT NOT NULL,
  last_rotated_at TEXT,
  rotation_automatic INTEGER NOT NULL DEFAULT 0,
  rotation_period_days INTEGER,
  destruction_at TEXT,
  description TEXT,
  tags TEXT NOT NULL DEFAULT '{}',
  access TEXT NOT NULL DEFAULT '[]',
  current_version INTEGER NOT NULL,
  exportable INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS key_versions (
  key_id TEXT NOT NULL REFERENCES keys (id),
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('enabled', 'destroyed')),
  sealed BLOB,
  revoked_at TEXT,
  PRIMARY KEY (key_id, version)
);
CREATE TABLE IF NOT EXISTS aliases (alias TEXT PRIMARY KEY, key_id TEXT NOT NULL REFERENCES keys (id));
-- Keys whose material is overwritten but whose old page images may still sit in the WAL.
CREATE TABLE IF NOT EXISTS shred_pending (key_id TEXT PRIMARY KEY REFERENCES keys (id), shredded_at TEXT NOT NULL);
-- Keyed fingerprints of each version's material (see the module docblock): never the material or its plain hash.
CREATE TABLE IF NOT EXISTS key_fingerprints (
  key_id TEXT NOT NULL REFERENCES keys (id),
  version INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('material', 'public-key')),
  encoding TEXT NOT NULL,
  digest BLOB NOT NULL,
  PRIMARY KEY (key_id, version, kind, encoding)
);
CREATE INDEX IF NOT EXISTS key_fingerprints_digest ON key_fingerprints (digest);
`;

/** Columns later versions added to tables an older keystore already has: added at open. */
const ADDED_COLUMNS: readonly { table: string; column: string; ddl: string }[] = [
  { table: 'keys', column: 'exportable', ddl: 'ALTER TABLE keys ADD COLUMN exportable INTEGER NOT NULL DEFAULT 0' },
  { table: 'key_versions', column: 'revoked_at', ddl: 'ALTER TABLE key_versions ADD COLUMN revoked_at TEXT' },
];

const hasColumn = (db: SqliteDatabase, table: string, column: string): boolean =>
  (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as { name: string }[]).some((c) => c.name === column);

interface KeyRow {
  id: string;
  spec: KeySpec;
  usage: KeyUsage;
  state: KeyState;
  created_at: string;
  last_rotated_at: string | null;
  rotation_automatic: number;
  rotation_period_days: number | null;
  destruction_at: string | null;
  description: string | null;
  tags: string;
  access: string;
  current_version: number;
  exportable: number;
}

interface VersionRow {
  version: number;
  created_at: string;
  state: 'enabled' | 'destroyed';
  sealed: Buffer | null;
  revoked_at: string | null;
}

/** What `exportKey` can write: the token (any spec), base64 or hex of the material, PEM (RSA and EC keys). */
export type ExportFormat = 'token' | 'base64' | 'hex' | 'pem';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['token', 'base64', 'hex', 'pem'];

export interface ExportKeyRequest {
  /** Default: the current version. */
  version?: number;
  format: ExportFormat;
}

export interface ExportedKey {
  keyId: string;
  version: number;
  spec: KeySpec;
  format: ExportFormat;
  /**
   * The key material, encoded: a secret. For AES/HMAC keys base64/hex are of the raw key, for
   * RSA/EC keys of the PKCS#8 DER; `pem` is PKCS#8 PEM.
   */
  material: string;
}

/** `KW_KEY_STATE`: the key was not created exportable, so its material never leaves the keystore. */
export class KeyNotExportableError extends KeywardenError {
  override readonly name = 'KeyNotExportableError';
  constructor(keyId: string) {
    super(ErrorCode.KEY_STATE, `Key ${keyId} was not created exportable, so its material cannot be exported.`, {
      fault: 'user',
      details: { backend: 'local', keyId, verb: 'export', exportable: false },
      hint: 'Exportability is fixed at creation: create a new key with --exportable and move the alias to it.',
    });
  }
}

/** `KW_KEY_STATE`: the version was revoked (its material leaked); nothing uses it any more. */
export class KeyVersionRevokedError extends KeywardenError {
  override readonly name = 'KeyVersionRevokedError';
  constructor(keyId: string, version: number, verb: string) {
    super(ErrorCode.KEY_STATE, `Version ${version} of key ${keyId} is revoked, so it cannot ${verb}.`, {
      fault: 'user',
      details: { backend: 'local', keyId, version, verb, versionState: 'revoked' },
      hint: 'Rotate the key to add a usable version; data sealed by the revoked version must be restored from elsewhere.',
    });
  }
}

/** `destroyed` wins over `revoked`: a revoked version that was then shredded has no material left. */
const versionState = (v: Pick<VersionRow, 'state' | 'revoked_at'>): KeyVersionState => (v.state === 'destroyed' ? 'destroyed' : v.revoked_at !== null ? 'revoked' : 'enabled');

const isAsymmetric = (spec: KeySpec): boolean => spec.startsWith('RSA_') || spec.startsWith('ECC_');

// ---- leak-matching fingerprints ---------------------------------------------------------------

/** K_match: HKDF from the KEK, with its own salt and label (the checkpoint key uses others). */
function deriveMatchKey(kek: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', kek, 'keywarden/local', 'leak-match hmac-sha256 v1', 32));
}

const keyed = (matchKey: Buffer, sha256: Buffer): Buffer => createHmac('sha256', matchKey).update(sha256).digest();
const sha256 = (data: string | Buffer): Buffer => createHash('sha256').update(data).digest();

interface FingerprintRow {
  kind: 'material' | 'public-key';
  encoding: string;
  digest: Buffer;
}

/** The PKCS#8 PEM text `exportKey` writes for an RSA or EC key. */
function pkcs8Pem(der: Buffer): string {
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString();
}

function spkiOf(der: Buffer): Buffer {
  return createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'der', type: 'spki' });
}

/** Every encoding fingerprinted for one version (see the module docblock), keyed. */
function fingerprintsOf(matchKey: Buffer, keyId: string, version: number, spec: KeySpec, material: Buffer): FingerprintRow[] {
  const texts: [string, string][] = [['token', encodeKeywardenToken({ keyId, version, spec, material })]];
  const b64 = material.toString('base64');
  const hex = material.toString('hex');
  texts.push(['base64', b64], ['base64-unpadded', b64.replace(/=+$/, '')], ['base64url', material.toString('base64url')], ['hex', hex], ['hex-upper', hex.toUpperCase()]);
  const out: FingerprintRow[] = [];
  if (isAsymmetric(spec)) {
    const pem = pkcs8Pem(material);
    const trimmed = pem.trimEnd();
    texts.push(['pem', pem], ['pem-trimmed', trimmed], ['pem-crlf', trimmed.replace(/\n/g, '\r\n')]);
    out.push({ kind: 'public-key', encoding: 'spki', digest: keyed(matchKey, sha256(spkiOf(material))) });
  }
  for (const [encoding, text] of texts) out.push({ kind: 'material', encoding, digest: keyed(matchKey, sha256(text)) });
  return out;
}

const FINGERPRINT = /^sha256:([0-9a-f]{64})$/;

function defaultUsage(spec: KeySpec): KeyUsage {
  if (spec.startsWith('AES_')) return 'encrypt-decrypt';
  if (spec.startsWith('HMAC_')) return 'generate-verify-mac';
  return 'sign-verify';
}

/** Fresh key material for a spec, as bytes (raw for symmetric, PKCS#8 DER for asymmetric). */
function generateMaterial(spec: KeySpec): Buffer {
  switch (spec) {
    case 'AES_256':
      return randomBytes(32);
    case 'AES_128':
      return randomBytes(16);
    case 'HMAC_256':
      return randomBytes(32);
    case 'HMAC_384':
      return randomBytes(48);
    case 'HMAC_512':
      return randomBytes(64);
    case 'RSA_2048':
    case 'RSA_3072':
    case 'RSA_4096':
      return generateKeyPairSync('rsa', { modulusLength: Number(spec.slice(4)) }).privateKey.export({ format: 'der', type: 'pkcs8' });
    case 'ECC_NIST_P256':
    case 'ECC_NIST_P384':
    case 'ECC_NIST_P521':
    case 'ECC_SECG_P256K1': {
      const namedCurve = { ECC_NIST_P256: 'prime256v1', ECC_NIST_P384: 'secp384r1', ECC_NIST_P521: 'secp521r1', ECC_SECG_P256K1: 'secp256k1' }[spec];
      return generateKeyPairSync('ec', { namedCurve }).privateKey.export({ format: 'der', type: 'pkcs8' });
    }
  }
}

function seal(kek: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', kek, iv);
  c.setAAD(aad);
  const ct = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([Buffer.from([1]), iv, c.getAuthTag(), ct]);
}

function unseal(kek: Buffer, sealed: Buffer, aad: Buffer): Buffer | undefined {
  if (sealed.length < 29 || sealed[0] !== 1) return undefined;
  try {
    const d = createDecipheriv('aes-256-gcm', kek, sealed.subarray(1, 13));
    d.setAAD(aad);
    d.setAuthTag(sealed.subarray(13, 29));
    return Buffer.concat([d.update(sealed.subarray(29)), d.final()]);
  } catch {
    return undefined;
  }
}

const versionAad = (keyId: string, version: number): Buffer => Buffer.from(`kw-local-version:${keyId}:${version}`);

function keyNotFound(ref: string): KeywardenError {
  return new KeywardenError(ErrorCode.KEY_NOT_FOUND, `No key "${ref}" in the local keystore. Run "keywarden keys list" to see the keys.`, {
    fault: 'user',
    details: { backend: 'local', ref },
  });
}

function stateError(key: string, state: KeyState, verb: string, hint?: string): KeywardenError {
  return new KeywardenError(ErrorCode.KEY_STATE, `Key ${key} is ${state}, so it cannot ${verb}.`, {
    fault: 'user',
    details: { backend: 'local', keyId: key, state, verb },
    ...(hint ? { hint } : {}),
  });
}

/** Reads the KEK settings from the environment: KEYWARDEN_LOCAL_KEK (base64, 32 bytes) or KEYWARDEN_LOCAL_PASSPHRASE. */
export function readLocalKekFromEnv(env: NodeJS.ProcessEnv): Pick<LocalBackendOptions, 'kek' | 'passphrase'> {
  const kek = env.KEYWARDEN_LOCAL_KEK;
  if (kek) {
    const bytes = Buffer.from(kek, 'base64');
    if (bytes.length !== 32) {
      throw new KeywardenError(ErrorCode.CONFIG_INVALID, 'KEYWARDEN_LOCAL_KEK must be 32 bytes, base64-encoded (for example: openssl rand -base64 32).', {
        fault: 'config',
      });
    }
    return { kek: bytes };
  }
  const passphrase = env.KEYWARDEN_LOCAL_PASSPHRASE;
  return passphrase ? { passphrase } : {};
}

type AuditDetails = Record<string, string | number | boolean | null>;

function assertSecretGiven(options: Pick<LocalBackendOptions, 'kek' | 'passphrase'>): void {
  if (!options.kek && !options.passphrase) {
    throw new KeywardenError(ErrorCode.KEYSTORE_LOCKED, 'The local keystore is locked. Set KEYWARDEN_LOCAL_PASSPHRASE, or KEYWARDEN_LOCAL_KEK to a base64 32-byte key.', {
      fault: 'config',
    });
  }
  if (options.kek && options.kek.length !== 32) {
    throw new KeywardenError(ErrorCode.CONFIG_INVALID, 'The local keystore KEK must be exactly 32 bytes.', { fault: 'config' });
  }
}

const isPow2 = (n: number): boolean => Number.isSafeInteger(n) && n > 1 && (n & (n - 1)) === 0;

/** Problems with a scrypt cost, empty when it is within bounds. */
function scryptProblems(c: ScryptCost): string[] {
  const out: string[] = [];
  if (!isPow2(c.N) || c.N < SCRYPT_BOUNDS.minN || c.N > SCRYPT_BOUNDS.maxN) out.push(`N must be a power of two from 2^12 to 2^20`);
  if (!Number.isInteger(c.r) || c.r < 1 || c.r > SCRYPT_BOUNDS.maxR) out.push(`r must be 1 to ${SCRYPT_BOUNDS.maxR}`);
  if (!Number.isInteger(c.p) || c.p < 1 || c.p > SCRYPT_BOUNDS.maxP) out.push(`p must be 1 to ${SCRYPT_BOUNDS.maxP}`);
  if (out.length === 0 && 128 * c.N * c.r > SCRYPT_BOUNDS.maxMem) out.push('N × r needs more than 1 GiB of memory');
  return out;
}

/** Parses the stored KDF record; anything unexpected is tampering, refused before scrypt runs. */
function parseKdf(text: string): KdfParams {
  const tampered = (why: string): KeywardenError =>
    new KeywardenError(ErrorCode.KEYSTORE_TAMPERED, `The keystore's key-derivation settings are invalid (${why}): the file was altered or is damaged.`, {
      fault: 'backend',
      hint: 'Restore the keystore from a backup; do not lower its settings by hand.',
    });
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw tampered('not JSON');
  }
  const o = (v && typeof v === 'object' ? v : {}) as Record<string, unknown>;
  if (o.alg === 'direct' && Object.keys(o).length === 1) return { alg: 'direct' };
  if (o.alg !== 'scrypt' || typeof o.salt !== 'string' || Buffer.from(o.salt, 'base64').length < 16) throw tampered('unknown algorithm or salt');
  const cost = { N: Number(o.N), r: Number(o.r), p: Number(o.p) };
  const problems = scryptProblems(cost);
  if (problems.length) throw tampered(problems.join('; '));
  return { alg: 'scrypt', salt: o.salt, ...cost };
}

function metaDeleted(what: string): KeywardenError {
  return new KeywardenError(
    ErrorCode.KEYSTORE_TAMPERED,
    `The keystore holds keys or audit records but no ${what}: it was deleted from the file, which is tampering. Nothing was checked or changed.`,
    { fault: 'backend', hint: 'Restore the keystore from a backup, then run "keywarden audit verify --checkpoint" with your latest export.' },
  );
}

const exists = (db: SqliteDatabase, table: string): boolean =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;

/** Tables whose rows only a keystore with a KDF record can have written. */
const USED_TABLES = ['keys', 'key_versions', 'aliases', 'shred_pending', 'key_fingerprints', 'idempotency', 'audit_log', 'audit_head', 'audit_checkpoint', 'audit_meta'];

/** True when the keystore holds anything besides its meta rows: keys, versions, aliases or audit history. */
function keystoreUsed(db: SqliteDatabase): boolean {
  return USED_TABLES.some((t) => exists(db, t) && db.prepare(`SELECT 1 FROM "${t}" LIMIT 1`).get() !== undefined);
}

interface ExpectedKey {
  seq: number;
  /** version -> seq of the record that made it */
  versions: Map<number, number>;
  state: string;
  stateSeq: number;
  destroyedSeq: number;
  destructionAt: string | null;
  rotation: { automatic: number; periodDays: number | null; seq: number };
  /** Whether the create record made it exportable. */
  exportable: boolean;
  /** version -> seq of the record that revoked it */
  revoked: Map<number, number>;
}

/**
 * Cross-checks the keystore's own tables against its (verified) audit log: every key, version,
 * state and alias must be what the records leave it at, and everything the records made must
 * still be there. A cut log (records gone, state kept) or a keystore edited by hand fails here.
 * Assumes the log was there from the keystore's creation, as it is for every keystore this
 * version creates. Exportability and version revocations are checked too: a key made exportable
 * by hand, or a revocation undone by hand (a leaked version brought back), fails here.
 */
function keystoreStateProblem(db: SqliteDatabase, records: readonly AuditRecord[]): AuditProblemReport | undefined {
  const keys = new Map<string, ExpectedKey>();
  const aliases = new Map<string, { keyId: string; seq: number }>();
  for (const r of records) {
    if (r.backend !== 'local' || !r.keyId || (r.outcome !== 'succeeded' && r.outcome !== 'pending')) continue;
    const d = r.details;
    if (r.operation === 'create') {
      if (!keys.has(r.keyId)) {
        keys.set(r.keyId, {
          seq: r.seq,
          versions: new Map([[1, r.seq]]),
          state: 'enabled',
          stateSeq: r.seq,
          destroyedSeq: 0,
          destructionAt: null,
          rotation: { automatic: 0, periodDays: null, seq: r.seq },
          exportable: d.exportable === true,
          revoked: new Map(),
        });
      }
      if (typeof d.alias === 'string') aliases.set(d.alias, { keyId: r.keyId, seq: r.seq });
      continue;
    }
    const k = keys.get(r.keyId);
    // An export changes nothing in the keystore.
    if (!k || r.operation === 'export') continue;
    if (r.operation === 'rotate' && typeof d.version === 'number') k.versions.set(d.version, r.seq);
    if (r.operation === 'revoke-version' && typeof d.revokedVersion === 'number' && !k.revoked.has(d.revokedVersion)) k.revoked.set(d.revokedVersion, r.seq);
    if (typeof d.state === 'string') {
      k.state = d.state;
      k.stateSeq = r.seq;
    }
    // Every verb but destroy reports the key's destruction date (or none) after it.
    if (r.operation !== 'destroy') k.destructionAt = typeof d.destructionAt === 'string' ? d.destructionAt : null;
    if (r.operation === 'set-rotation') {
      const period = typeof d.periodDays === 'number' ? d.periodDays : null;
      k.rotation = d.automatic === true ? { automatic: 1, periodDays: period ?? 365, seq: r.seq } : { automatic: 0, periodDays: period, seq: r.seq };
    }
    if (r.operation === 'destroy') {
      if (!k.destroyedSeq) k.destroyedSeq = r.seq;
      for (const [a, v] of aliases) if (v.keyId === r.keyId) aliases.delete(a);
    }
    if (r.operation === 'move-alias' && typeof d.alias === 'string') aliases.set(d.alias, { keyId: r.keyId, seq: r.seq });
  }
  const rows = <T>(table: string, sql: string): T[] => (exists(db, table) ? (db.prepare(sql).all() as T[]) : []);
  // A keystore from before these columns, read without migrating it (audit verify is read-only), has none.
  const exportable = exists(db, 'keys') && hasColumn(db, 'keys', 'exportable') ? 'exportable' : '0 AS exportable';
  const revokedAt = exists(db, 'key_versions') && hasColumn(db, 'key_versions', 'revoked_at') ? 'revoked_at' : 'NULL AS revoked_at';
  const keyRows = rows<{
    id: string;
    state: string;
    current_version: number;
    destruction_at: string | null;
    rotation_automatic: number;
    rotation_period_days: number | null;
    exportable: number;
  }>('keys', `SELECT id, state, current_version, destruction_at, rotation_automatic, rotation_period_days, ${exportable} FROM keys ORDER BY id`);
  const versionRows = rows<{ key_id: string; version: number; state: string; revoked_at: string | null }>(
    'key_versions',
    `SELECT key_id, version, state, ${revokedAt} FROM key_versions ORDER BY key_id, version`,
  );
  const aliasRows = rows<{ alias: string; key_id: string }>('aliases', 'SELECT alias, key_id FROM aliases ORDER BY alias');
  const next = records.length + 1;
  const unrecorded = (message: string): AuditProblemReport => ({ seq: next, problem: 'unrecorded', message: `${message}: the audit records of it were cut, or the keystore was edited by hand.` });
  const mismatch = (seq: number, message: string): AuditProblemReport => ({ seq, problem: 'state-mismatch', message: `${message}: the keystore was edited by hand.` });

  const haveKeys = new Map(keyRows.map((k) => [k.id, k]));
  for (const k of keyRows) {
    const e = keys.get(k.id);
    if (!e) return unrecorded(`Key ${k.id} is in the keystore, but no audit record created it`);
    if (k.state !== e.state) return unrecorded(`Key ${k.id} is ${k.state}, but its last audit record (${e.stateSeq}) leaves it ${e.state}`);
    const top = Math.max(...e.versions.keys());
    if (k.current_version !== top) return unrecorded(`Key ${k.id} is at version ${k.current_version}, but its audit records end at version ${top}`);
    if (k.destruction_at !== e.destructionAt) {
      return unrecorded(`Key ${k.id} is due for destruction at ${k.destruction_at ?? 'no date'}, but its audit records say ${e.destructionAt ?? 'no date'}`);
    }
    if (k.rotation_automatic !== e.rotation.automatic || k.rotation_period_days !== e.rotation.periodDays) {
      return unrecorded(`Key ${k.id}'s rotation settings differ from what its last set-rotation record (${e.rotation.seq}) left`);
    }
    if ((k.exportable === 1) !== e.exportable) {
      return mismatch(e.seq, `Record ${e.seq} created key ${k.id} ${e.exportable ? 'exportable' : 'not exportable'}, but the keystore says otherwise`);
    }
  }
  const haveVersions = new Set<string>();
  for (const v of versionRows) {
    haveVersions.add(`${v.key_id}\0${v.version}`);
    const e = keys.get(v.key_id);
    if (!e) return unrecorded(`Key ${v.key_id} has version ${v.version} in the keystore, but no audit record created the key`);
    if (!e.versions.has(v.version)) return unrecorded(`Version ${v.version} of key ${v.key_id} is in the keystore, but no audit record made it`);
    if (v.state === 'destroyed' && !e.destroyedSeq) return unrecorded(`Version ${v.version} of key ${v.key_id} is destroyed, but no audit record destroyed it`);
    if (v.state !== 'destroyed' && e.destroyedSeq) return mismatch(e.destroyedSeq, `Record ${e.destroyedSeq} destroyed key ${v.key_id}, but its version ${v.version} is not destroyed`);
    const revokedSeq = e.revoked.get(v.version);
    if (v.revoked_at !== null && revokedSeq === undefined) return unrecorded(`Version ${v.version} of key ${v.key_id} is revoked, but no audit record revoked it`);
    if (v.revoked_at === null && revokedSeq !== undefined) {
      return mismatch(revokedSeq, `Record ${revokedSeq} revoked version ${v.version} of key ${v.key_id}, but the keystore's version is not revoked`);
    }
  }
  for (const a of aliasRows) {
    const e = aliases.get(a.alias);
    if (!e || e.keyId !== a.key_id) return unrecorded(`The alias ${a.alias} names key ${a.key_id}, but no audit record gave it that key`);
  }
  for (const [id, e] of keys) {
    if (!haveKeys.has(id)) return mismatch(e.seq, `Record ${e.seq} created key ${id}, but the keystore has no such key`);
    for (const [version, seq] of e.versions) {
      if (!haveVersions.has(`${id}\0${version}`)) return mismatch(seq, `Record ${seq} made version ${version} of key ${id}, but the keystore has no such version`);
    }
  }
  const haveAliases = new Map(aliasRows.map((a) => [a.alias, a.key_id]));
  for (const [alias, e] of aliases) {
    if (haveAliases.get(alias) !== e.keyId) return mismatch(e.seq, `Record ${e.seq} pointed the alias ${alias} at key ${e.keyId}, but the keystore's alias does not`);
  }
  return undefined;
}

/**
 * scrypt is the keystore's brute-force cost, and every open pays it (about 100 ms of CPU at the
 * default cost, on the event loop). A process that opens the same keystore again and again — the
 * App runs a pipeline per job — derives each (passphrase, salt, cost) once: the result is held
 * for the life of the process, as an unsealed Vault holds its master key, under a lookup key that
 * is an HMAC with a per-process random key (no digest of the passphrase a memory dump could test
 * guesses against). The check value is verified on every open all the same, and callers get a copy
 * (they zero theirs). At most a few entries: one per keystore a process opens.
 */
const kekMemoKey = randomBytes(32);
const kekMemo = new Map<string, Buffer>();
function deriveKek(passphrase: string, params: Extract<KdfParams, { alg: 'scrypt' }>): Buffer {
  const id = createHmac('sha256', kekMemoKey).update(canonicalJson(params)).update('\0').update(passphrase).digest('base64');
  const hit = kekMemo.get(id);
  if (hit) return Buffer.from(hit);
  const kek = scryptSync(passphrase, Buffer.from(params.salt, 'base64'), 32, {
    N: params.N,
    r: params.r,
    p: params.p,
    maxmem: 2 * 128 * params.N * params.r + 128 * params.r * params.p,
  });
  if (kekMemo.size >= 8) {
    const oldest = kekMemo.keys().next().value as string;
    kekMemo.get(oldest)!.fill(0);
    kekMemo.delete(oldest);
  }
  kekMemo.set(id, Buffer.from(kek));
  return kek;
}

/** The additional data of the v2 check value: the exact KDF parameters, so none can change unnoticed. */
const checkAad = (params: KdfParams): Buffer => Buffer.from(`kek-check-v2:${canonicalJson(params)}`);

/**
 * Derives or takes the KEK and proves it against the stored check value. On a new keystore
 * (`put` given and no record yet) writes the KDF record and the check value. A v1 check value
 * (bound to nothing) is upgraded to v2 on the first writable open.
 */
function unlock(meta: MetaIO, options: LocalBackendOptions): Buffer {
  let kdfText = meta.get('kdf');
  if (kdfText === undefined) {
    if (!meta.put || meta.used) throw metaDeleted('key-derivation record');
    if (options.kek) kdfText = JSON.stringify({ alg: 'direct' });
    else {
      if ([...options.passphrase!].length < MIN_PASSPHRASE_LENGTH) {
        throw new KeywardenError(
          ErrorCode.PASSPHRASE_TOO_SHORT,
          `A new keystore needs a passphrase of at least ${MIN_PASSPHRASE_LENGTH} characters; the one in KEYWARDEN_LOCAL_PASSPHRASE is shorter.`,
          { fault: 'config', hint: 'Use a long random passphrase (for example: openssl rand -base64 24), or KEYWARDEN_LOCAL_KEK.' },
        );
      }
      const cost = options.scrypt ?? DEFAULT_SCRYPT;
      const problems = scryptProblems(cost);
      if (problems.length) throw new KeywardenError(ErrorCode.CONFIG_INVALID, `The scrypt cost is out of bounds: ${problems.join('; ')}.`, { fault: 'config' });
      kdfText = JSON.stringify({ alg: 'scrypt', salt: randomBytes(16).toString('base64'), ...cost });
    }
    meta.put('kdf', kdfText);
  }
  const params = parseKdf(kdfText);
  let kek: Buffer;
  if (params.alg === 'direct') {
    if (!options.kek) throw new KeywardenError(ErrorCode.KEYSTORE_LOCKED, 'This keystore was created with a raw KEK; set KEYWARDEN_LOCAL_KEK.', { fault: 'config' });
    kek = Buffer.from(options.kek);
  } else {
    if (!options.passphrase) {
      throw new KeywardenError(ErrorCode.KEYSTORE_LOCKED, 'This keystore is sealed with a passphrase; set KEYWARDEN_LOCAL_PASSPHRASE.', { fault: 'config' });
    }
    kek = deriveKek(options.passphrase, params);
  }
  const check = meta.get('kek_check');
  if (check === undefined) {
    if (!meta.put || meta.used) {
      kek.fill(0);
      throw metaDeleted('KEK check value');
    }
    meta.put('kek_check', CHECK_V2 + seal(kek, KEK_CHECK, checkAad(params)).toString('base64'));
    return kek;
  }
  const v2 = check.startsWith(CHECK_V2);
  const opened = v2
    ? unseal(kek, Buffer.from(check.slice(CHECK_V2.length), 'base64'), checkAad(params))
    : unseal(kek, Buffer.from(check, 'base64'), Buffer.from('kek-check'));
  if (!opened || opened.length !== KEK_CHECK.length || !timingSafeEqual(opened, KEK_CHECK)) {
    kek.fill(0);
    throw new KeywardenError(ErrorCode.KEYSTORE_LOCKED, 'The passphrase or KEK does not open this keystore (or its key-derivation settings were altered).', {
      fault: 'config',
      hint: 'Check KEYWARDEN_LOCAL_PASSPHRASE / KEYWARDEN_LOCAL_KEK.',
    });
  }
  if (!v2 && meta.put) meta.put('kek_check', CHECK_V2 + seal(kek, KEK_CHECK, checkAad(params)).toString('base64'));
  return kek;
}

/**
 * Computes the leak-matching fingerprints of every version that has material but none yet: the
 * versions of a keystore made before fingerprints existed. A version whose material does not open
 * is left alone (and fails loudly where it is used, as before).
 */
function backfillFingerprints(db: SqliteDatabase, kek: Buffer): void {
  const missing = db
    .prepare(
      `SELECT v.key_id, v.version, v.sealed, k.spec FROM key_versions v JOIN keys k ON k.id = v.key_id
       WHERE v.sealed IS NOT NULL AND v.state != 'destroyed'
         AND NOT EXISTS (SELECT 1 FROM key_fingerprints f WHERE f.key_id = v.key_id AND f.version = v.version)`,
    )
    .all() as { key_id: string; version: number; sealed: Buffer; spec: KeySpec }[];
  if (missing.length === 0) return;
  const matchKey = deriveMatchKey(kek);
  try {
    for (const v of missing) {
      const material = unseal(kek, v.sealed, versionAad(v.key_id, v.version));
      if (!material) continue;
      try {
        insertFingerprints(db, v.key_id, v.version, fingerprintsOf(matchKey, v.key_id, v.version, v.spec, material));
      } finally {
        material.fill(0);
      }
    }
  } finally {
    matchKey.fill(0);
  }
}

function insertFingerprints(db: SqliteDatabase, keyId: string, version: number, rows: readonly FingerprintRow[]): void {
  const insert = db.prepare('INSERT INTO key_fingerprints (key_id, version, kind, encoding, digest) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING');
  for (const r of rows) insert.run(keyId, version, r.kind, r.encoding, r.digest);
}

/**
 * @example
 * const backend = LocalBackend.open({ path: '.keywarden/keystore.db', passphrase: process.env.KEYWARDEN_LOCAL_PASSPHRASE });
 * const { keyId } = await backend.create({ spec: 'AES_256', alias: 'alias/app' }, { idempotencyKey: 'setup-1' });
 */
export class LocalBackend implements KeyBackend {
  readonly name = 'local';
  readonly capabilities: BackendCapabilities = {
    specs: SPECS,
    automaticRotation: true,
    destructionWindowDays: { min: 1, max: 365 },
    versionedCiphertext: true,
  };
  private readonly now: () => Date;
  private readonly actor: string;
  private closed = false;
  /** The keystore's own audit log, in the same database file: see the module docblock. */
  readonly auditLog: AuditLog;
  /** K_match (see the module docblock); wiped at close. */
  private readonly matchKey: Buffer;

  private constructor(
    private readonly db: SqliteDatabase,
    private readonly kek: Buffer,
    options: LocalBackendOptions,
  ) {
    this.matchKey = deriveMatchKey(kek);
    this.now = options.now ?? (() => new Date());
    this.actor = options.actor ?? 'local';
    this.auditLog = new AuditLog(db, false, {
      signer: createCheckpointSigner(kek),
      guardHead: true,
      stateCheck: (records) => keystoreStateProblem(db, records),
      ...(options.checkpointEvery !== undefined ? { checkpointEvery: options.checkpointEvery } : {}),
    });
  }

  static open(options: LocalBackendOptions): LocalBackend {
    assertSecretGiven(options);
    const db = openDatabase(options.path);
    try {
      db.exec(SCHEMA);
      db.exec(IDEMPOTENCY_SCHEMA);
      const kek = db
        .transaction((): Buffer => {
          const get = (k: string): string | undefined => (db.prepare('SELECT v FROM meta WHERE k = ?').get(k) as { v: string } | undefined)?.v;
          const put = (k: string, v: string): void => void db.prepare('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v').run(k, v);
          const key = unlock({ get, put, used: keystoreUsed(db) }, options);
          try {
            // Migrations of a keystore made by an older version, under the same write lock.
            for (const c of ADDED_COLUMNS) if (!hasColumn(db, c.table, c.column)) db.exec(c.ddl);
            backfillFingerprints(db, key);
          } catch (e) {
            key.fill(0);
            throw e;
          }
          return key;
        })
        .immediate();
      return new LocalBackend(db, kek, options);
    } catch (e) {
      db.close();
      throw e;
    }
  }

  /**
   * Opens only the keystore's audit log, for `audit verify` (read-only: nothing is created, a
   * deleted keystore stays deleted) and `audit checkpoint`. The checkpoint key is derived from
   * the KEK, so this needs the passphrase too. Returns `undefined` when the file does not exist,
   * or holds nothing at all (no KDF record, no keys, no audit history: never used, or emptied).
   * A keystore with keys or audit history but no KDF record or check value was tampered with
   * (`KW_KEYSTORE_TAMPERED`): it never opens as an unsigned log.
   */
  static openAuditLog(options: Omit<LocalBackendOptions, 'scrypt' | 'now'> & { readonly: boolean }): AuditLog | undefined {
    if (!existsSync(options.path)) return undefined;
    assertSecretGiven(options);
    const db = openDatabase(options.path, options.readonly ? { readonly: true } : {});
    try {
      const hasMeta = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get() !== undefined;
      const get = (k: string): string | undefined =>
        hasMeta ? (db.prepare('SELECT v FROM meta WHERE k = ?').get(k) as { v: string } | undefined)?.v : undefined;
      const used = keystoreUsed(db);
      if (get('kdf') === undefined && get('kek_check') === undefined && !used) {
        db.close();
        return undefined;
      }
      const kek = unlock({ get, used }, options);
      const signer = createCheckpointSigner(kek);
      kek.fill(0);
      return new AuditLog(db, true, {
        signer,
        guardHead: true,
        stateCheck: (records) => keystoreStateProblem(db, records),
        readonly: options.readonly,
        ...(options.checkpointEvery ? { checkpointEvery: options.checkpointEvery } : {}),
      });
    } catch (e) {
      db.close();
      throw e;
    }
  }

  // ---- reading ------------------------------------------------------------------------

  private row(ref: string): KeyRow | undefined {
    const byId = this.db.prepare('SELECT * FROM keys WHERE id = ?').get(ref) as KeyRow | undefined;
    if (byId) return byId;
    return this.db.prepare('SELECT keys.* FROM keys JOIN aliases ON aliases.key_id = keys.id WHERE aliases.alias = ?').get(ref) as KeyRow | undefined;
  }

  private mustRow(ref: string): KeyRow {
    const row = this.row(ref);
    if (!row) throw keyNotFound(ref);
    return row;
  }

  private toManaged(row: KeyRow): ManagedKey {
    const aliases = (this.db.prepare('SELECT alias FROM aliases WHERE key_id = ? ORDER BY alias').all(row.id) as { alias: string }[]).map((a) => a.alias);
    const versions = (this.db.prepare('SELECT version, created_at, state, revoked_at FROM key_versions WHERE key_id = ? ORDER BY version').all(row.id) as VersionRow[]).map((v) => ({
      version: v.version,
      createdAt: v.created_at,
      state: versionState(v),
      current: v.version === row.current_version,
    }));
    return {
      backend: this.name,
      id: row.id,
      aliases,
      ...(row.description ? { description: row.description } : {}),
      spec: row.spec,
      usage: row.usage,
      state: row.state,
      createdAt: row.created_at,
      ...(row.last_rotated_at ? { lastRotatedAt: row.last_rotated_at } : {}),
      rotation: {
        automatic: row.rotation_automatic === 1,
        ...(row.rotation_period_days !== null ? { periodDays: row.rotation_period_days } : {}),
        inPlace: true,
      },
      versions,
      currentVersion: row.current_version,
      ...(row.destruction_at ? { destructionAt: row.destruction_at } : {}),
      tags: JSON.parse(row.tags) as Record<string, string>,
      access: JSON.parse(row.access) as AccessRule[],
    };
  }

  async inventory(): Promise<ManagedKey[]> {
    this.assertOpen();
    const rows = this.db.prepare('SELECT * FROM keys ORDER BY created_at, id').all() as KeyRow[];
    return rows.map((r) => this.toManaged(r));
  }

  async describe(ref: string): Promise<ManagedKey> {
    this.assertOpen();
    return this.toManaged(this.mustRow(ref));
  }

  // ---- mutating -----------------------------------------------------------------------

  /**
   * Runs one mutation, its idempotency record and its audit record in one transaction. The
   * audit append joins the transaction as a savepoint; if it throws, everything rolls back.
   */
  private mutate(
    verb: MutationVerb,
    target: string,
    options: MutationOptions,
    fn: () => Omit<MutationResult, 'replayed' | 'operation'>,
    audit: { details?: AuditDetails; outcome?: 'pending' } = {},
  ): MutationResult {
    this.assertOpen();
    try {
      return this.db
        .transaction((): MutationResult => {
          const r = runIdempotentSync(this.db, { scope: 'local', key: options.idempotencyKey, verb, target }, () => ({ ...fn(), operation: verb, replayed: false }));
          this.appendAudit({
            ...this.auditBase(verb, options),
            keyId: r.keyId,
            outcome: r.replayed ? 'replayed' : (audit.outcome ?? 'succeeded'),
            details: {
              ...audit.details,
              idempotencyKey: options.idempotencyKey,
              state: r.state,
              ...(r.version !== undefined ? { version: r.version } : {}),
              ...(r.destructionAt ? { destructionAt: r.destructionAt } : {}),
            },
          });
          return r;
        })
        .immediate();
    } catch (e) {
      throw toStoreError(e, verb);
    }
  }

  private auditBase(verb: string, options: Partial<MutationOptions>): Pick<AuditEventInput, 'actor' | 'backend' | 'operation' | 'time' | 'reason'> {
    return {
      actor: options.actor ?? this.actor,
      backend: this.name,
      operation: verb,
      time: this.now(),
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
    };
  }

  private appendAudit(input: AuditEventInput): void {
    try {
      this.auditLog.append(input);
    } catch (e) {
      // A tampered log is refused as such: appending (and signing) on top would vouch for it.
      if (isKeywardenError(e) && e.code === ErrorCode.AUDIT_BROKEN) throw e;
      throw new KeywardenError(ErrorCode.AUDIT_WRITE_FAILED, `The audit record could not be written, so the ${input.operation} was not done.`, {
        fault: 'backend',
        retryable: isKeywardenError(e) && e.retryable,
        cause: e,
        hint: 'Check that the keystore file is writable and run "keywarden audit verify".',
      });
    }
  }

  /**
   * Runs a public verb and records its failure (the failed attempt rolled back with its own
   * record). If the audit log cannot take even that, the caller hears AUDIT_WRITE_FAILED.
   */
  private async recorded(verb: MutationVerb, target: string, options: MutationOptions, details: AuditDetails, run: () => Promise<MutationResult> | MutationResult): Promise<MutationResult> {
    try {
      return await run();
    } catch (e) {
      if (isKeywardenError(e) && (e.code === ErrorCode.AUDIT_WRITE_FAILED || e.code === ErrorCode.AUDIT_BROKEN)) throw e;
      this.appendAudit({
        ...this.auditBase(verb, options),
        keyId: target,
        outcome: 'failed',
        errorCode: isKeywardenError(e) ? e.code : ErrorCode.INTERNAL,
        details: { ...details, idempotencyKey: options.idempotencyKey },
      });
      throw e;
    }
  }

  private result(row: KeyRow): Omit<MutationResult, 'replayed' | 'operation'> {
    const fresh = this.mustRow(row.id);
    return {
      keyId: fresh.id,
      state: fresh.state,
      version: fresh.current_version,
      ...(fresh.destruction_at ? { destructionAt: fresh.destruction_at } : {}),
    };
  }

  async create(input: CreateKeyInput, options: MutationOptions): Promise<MutationResult> {
    if (!SPECS.includes(input.spec)) throw new UnsupportedError(this.name, `create ${String(input.spec)} keys`);
    const usage = input.usage ?? defaultUsage(input.spec);
    if (usage !== defaultUsage(input.spec) && !(usage === 'encrypt-decrypt' && input.spec.startsWith('RSA_'))) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, `A ${input.spec} key cannot be used for ${usage}.`, { fault: 'user' });
    }
    if (typeof input.policy === 'string') {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'The local keystore takes an access policy as a list of rules, not a policy document.', { fault: 'user' });
    }
    // Generated outside the transaction: RSA generation is slow and must not hold the write lock.
    const policy = input.policy;
    const material = generateMaterial(input.spec);
    if (input.exportable !== undefined && typeof input.exportable !== 'boolean') {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'exportable is true or false.', { fault: 'user' });
    }
    const exportable = input.exportable === true;
    // `exportable` only when true, so the records of ordinary keys keep their shape.
    const details = { spec: input.spec, alias: input.alias ?? null, ...(exportable ? { exportable: true } : {}) };
    try {
      return await this.recorded('create', input.alias ?? '(no alias)', options, details, () => this.mutate('create', input.alias ?? '(no alias)', options, () => {
        if (input.alias !== undefined) this.assertAliasFree(input.alias);
        const id = `lk-${randomUUID()}`;
        const now = this.now().toISOString();
        const access: AccessRule[] = policy ?? [
          { principal: 'local:keystore-holder', effect: 'allow', operations: ['*'], actions: ['*'], source: 'keystore', conditional: false },
        ];
        this.db
          .prepare('INSERT INTO keys (id, spec, usage, state, created_at, description, tags, access, current_version, exportable) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?)')
          .run(id, input.spec, usage, 'enabled', now, input.description ?? null, JSON.stringify(input.tags ?? {}), JSON.stringify(access), exportable ? 1 : 0);
        this.insertVersion(id, input.spec, 1, now, material);
        if (input.alias !== undefined) this.db.prepare('INSERT INTO aliases (alias, key_id) VALUES (?, ?)').run(input.alias, id);
        return { keyId: id, state: 'enabled', version: 1 };
      }, { details }));
    } finally {
      material.fill(0);
    }
  }

  private assertAliasFree(alias: string): void {
    if (!alias || /\s/.test(alias)) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'An alias must be non-empty and have no spaces.', { fault: 'user' });
    const used = this.db.prepare('SELECT key_id FROM aliases WHERE alias = ?').get(alias) as { key_id: string } | undefined;
    if (used) {
      throw new KeywardenError(ErrorCode.ALIAS_IN_USE, `The alias "${alias}" already names key ${used.key_id}. Use "keys rotate" or move the alias instead.`, {
        fault: 'user',
        details: { alias, keyId: used.key_id },
      });
    }
  }

  /** Seals a new version's material and stores its leak-matching fingerprints, in the caller's transaction. */
  private insertVersion(keyId: string, spec: KeySpec, version: number, createdAt: string, material: Buffer): void {
    this.db
      .prepare("INSERT INTO key_versions (key_id, version, created_at, state, sealed) VALUES (?, ?, ?, 'enabled', ?)")
      .run(keyId, version, createdAt, seal(this.kek, material, versionAad(keyId, version)));
    insertFingerprints(this.db, keyId, version, fingerprintsOf(this.matchKey, keyId, version, spec, material));
  }

  async rotate(ref: string, options: MutationOptions): Promise<MutationResult> {
    this.assertOpen();
    return this.recorded('rotate', ref, options, {}, () => this.rotateRecorded(ref, options));
  }

  private rotateRecorded(ref: string, options: MutationOptions): MutationResult {
    const spec = this.mustRow(ref).spec;
    const material = generateMaterial(spec);
    try {
      return this.mutate('rotate', ref, options, () => {
        // Read again inside the transaction: another process may have rotated meanwhile.
        const row = this.mustRow(ref);
        if (row.state !== 'enabled') throw stateError(row.id, row.state, 'rotate', row.state === 'disabled' ? 'Enable it first.' : undefined);
        const version = row.current_version + 1;
        const now = this.now().toISOString();
        this.insertVersion(row.id, row.spec, version, now, material);
        this.db.prepare('UPDATE keys SET current_version = ?, last_rotated_at = ? WHERE id = ?').run(version, now, row.id);
        return { keyId: row.id, state: row.state, version };
      });
    } finally {
      material.fill(0);
    }
  }

  async setRotation(ref: string, rotation: RotationInput, options: MutationOptions): Promise<MutationResult> {
    if (rotation.periodDays !== undefined && (!Number.isInteger(rotation.periodDays) || rotation.periodDays < 1 || rotation.periodDays > 3650)) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'The rotation period must be a whole number of days from 1 to 3650.', { fault: 'user' });
    }
    const details = { automatic: rotation.automatic, periodDays: rotation.periodDays ?? null };
    return this.recorded('set-rotation', ref, options, details, () => this.mutate('set-rotation', ref, options, () => {
      const row = this.mustRow(ref);
      if (row.state === 'destroyed' || row.state === 'pending-destruction') throw stateError(row.id, row.state, 'change its rotation');
      this.db
        .prepare('UPDATE keys SET rotation_automatic = ?, rotation_period_days = ? WHERE id = ?')
        .run(rotation.automatic ? 1 : 0, rotation.automatic ? (rotation.periodDays ?? 365) : (rotation.periodDays ?? null), row.id);
      return this.result(row);
    }, { details }));
  }

  async disable(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.recorded('disable', ref, options, {}, () => this.mutate('disable', ref, options, () => {
      const row = this.mustRow(ref);
      if (row.state === 'pending-destruction' || row.state === 'destroyed') throw stateError(row.id, row.state, 'be disabled');
      this.db.prepare("UPDATE keys SET state = 'disabled' WHERE id = ?").run(row.id);
      return this.result(row);
    }));
  }

  async enable(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.recorded('enable', ref, options, {}, () => this.mutate('enable', ref, options, () => {
      const row = this.mustRow(ref);
      if (row.state === 'pending-destruction') throw stateError(row.id, row.state, 'be enabled', 'Cancel the destruction first.');
      if (row.state === 'destroyed') throw stateError(row.id, row.state, 'be enabled');
      this.db.prepare("UPDATE keys SET state = 'enabled' WHERE id = ?").run(row.id);
      return this.result(row);
    }));
  }

  async scheduleDestruction(ref: string, windowDays: number, options: MutationOptions): Promise<MutationResult> {
    const details = { windowDays };
    return this.recorded('schedule-destruction', ref, options, details, () => {
      const { min, max } = this.capabilities.destructionWindowDays;
      if (!Number.isInteger(windowDays) || windowDays < min || windowDays > max) {
        throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, `The destruction window must be a whole number of days from ${min} to ${max}.`, {
          fault: 'user',
          details: { windowDays, min, max },
        });
      }
      return this.mutate('schedule-destruction', ref, options, () => {
      const row = this.mustRow(ref);
      if (row.state === 'destroyed') throw stateError(row.id, row.state, 'be scheduled for destruction');
      if (row.state !== 'pending-destruction') {
        const at = new Date(this.now().getTime() + windowDays * 86_400_000).toISOString();
        this.db.prepare("UPDATE keys SET state = 'pending-destruction', destruction_at = ? WHERE id = ?").run(at, row.id);
      }
      return this.result(row);
      }, { details });
    });
  }

  async cancelDestruction(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.recorded('cancel-destruction', ref, options, {}, () => this.mutate('cancel-destruction', ref, options, () => {
      const row = this.mustRow(ref);
      if (row.state === 'destroyed') throw stateError(row.id, row.state, 'be restored', 'Its material was shredded; nothing can bring it back.');
      if (this.db.prepare('SELECT 1 FROM shred_pending WHERE key_id = ?').get(row.id)) {
        throw stateError(row.id, row.state, 'be restored', 'Its material was already shredded; only the clean-up of old copies is pending.');
      }
      // Like KMS: a key whose destruction is cancelled comes back disabled, never straight to use.
      if (row.state === 'pending-destruction') this.db.prepare("UPDATE keys SET state = 'disabled', destruction_at = NULL WHERE id = ?").run(row.id);
      return this.result(row);
    }));
  }

  async moveAlias(alias: string, targetRef: string, options: MutationOptions): Promise<MutationResult> {
    const details = { alias };
    return this.recorded('move-alias', targetRef, options, details, () => this.mutate('move-alias', `${alias}->${targetRef}`, options, () => {
      const row = this.mustRow(targetRef);
      if (row.state === 'destroyed' || row.state === 'pending-destruction') throw stateError(row.id, row.state, 'take an alias');
      this.db.prepare('INSERT INTO aliases (alias, key_id) VALUES (?, ?) ON CONFLICT (alias) DO UPDATE SET key_id = excluded.key_id').run(alias, row.id);
      return this.result(row);
    }, { details }));
  }

  /**
   * Destroys the keys whose window has ended, in two steps. First, in one transaction with its
   * audit record (outcome `pending`): overwrite the sealed material with zeros, then NULL, and
   * drop the aliases. Then fold the WAL into the file and truncate it: only if that completes
   * can no old page image of the material remain, and only then is the key `destroyed` (second
   * transaction, outcome `succeeded`). A reader holding an old snapshot blocks the fold; the key
   * then stays `pending-destruction` and a later call finishes it.
   */
  async completeDueDestructions(now: Date = this.now()): Promise<MutationResult[]> {
    this.assertOpen();
    const due = this.db
      .prepare("SELECT id FROM keys WHERE state = 'pending-destruction' AND destruction_at <= ? AND id NOT IN (SELECT key_id FROM shred_pending)")
      .all(now.toISOString()) as { id: string }[];
    const options = (id: string, step: string): MutationOptions => ({ idempotencyKey: `${step}:${id}`, actor: this.actor });
    for (const { id } of due) {
      this.mutate(
        'destroy',
        id,
        options(id, 'shred'),
        () => {
          this.db.prepare("UPDATE key_versions SET sealed = zeroblob(length(sealed)), state = 'destroyed' WHERE key_id = ?").run(id);
          this.db.prepare('UPDATE key_versions SET sealed = NULL WHERE key_id = ?').run(id);
          this.db.prepare('DELETE FROM aliases WHERE key_id = ?').run(id);
          this.db.prepare('INSERT INTO shred_pending (key_id, shredded_at) VALUES (?, ?) ON CONFLICT (key_id) DO NOTHING').run(id, now.toISOString());
          return { keyId: id, state: 'pending-destruction' };
        },
        { outcome: 'pending', details: { step: 'material-overwritten' } },
      );
    }
    const pending = (this.db.prepare('SELECT key_id FROM shred_pending ORDER BY key_id').all() as { key_id: string }[]).map((r) => r.key_id);
    if (pending.length === 0) return [];
    if (!this.foldWal()) {
      return pending.map((keyId) => ({ operation: 'destroy', keyId, state: 'pending-destruction', replayed: false }));
    }
    const out = pending.map((id) =>
      this.mutate('destroy', id, options(id, 'destroy'), () => {
        this.db.prepare("UPDATE keys SET state = 'destroyed' WHERE id = ?").run(id);
        this.db.prepare('DELETE FROM shred_pending WHERE key_id = ?').run(id);
        return { keyId: id, state: 'destroyed' };
      }),
    );
    // Leave the WAL empty too; what it now holds is only state and audit pages, so this may fail.
    this.foldWal();
    return out;
  }

  /**
   * Checkpoints the WAL into the database file and truncates it. True only when every frame
   * was folded and the WAL is empty; false when another connection's snapshot still needs old
   * frames. The busy timeout is cut short for it: a reader does not leave by being waited for.
   */
  private foldWal(): boolean {
    const saved = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma('busy_timeout = 100');
    try {
      const [r] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
      return r !== undefined && r.busy === 0 && r.log === 0;
    } catch (e) {
      throw toStoreError(e, 'fold the WAL into the keystore');
    } finally {
      this.db.pragma(`busy_timeout = ${saved}`);
    }
  }

  /** Rotates every enabled key whose automatic rotation is due. Keywarden's scheduler calls this. */
  async rotateDue(now: Date = this.now()): Promise<MutationResult[]> {
    const rows = this.db.prepare("SELECT * FROM keys WHERE state = 'enabled' AND rotation_automatic = 1").all() as KeyRow[];
    const out: MutationResult[] = [];
    for (const row of rows) {
      const last = Date.parse(row.last_rotated_at ?? row.created_at);
      if (now.getTime() - last >= (row.rotation_period_days ?? 365) * 86_400_000) {
        out.push(await this.rotate(row.id, { idempotencyKey: `auto-rotate:${row.id}:v${row.current_version}` }));
      }
    }
    return out;
  }

  // ---- leaks: match, revoke, export -------------------------------------------------------

  /**
   * Recognises a leaked secret as a version of one of this keystore's keys, from the finding's
   * fingerprint (keyed lookup of the SHA-256 digest it carries, see the module docblock) or, for
   * a private key, its `public-key` identity. A `keywarden-key` identity (the key id a token
   * claims) is never trusted by itself: only the material fingerprint confirms a token.
   */
  async matchLeak(evidence: LeakEvidence): Promise<KeyMatch | undefined> {
    this.assertOpen();
    const digest = FINGERPRINT.exec(evidence.fingerprint)?.[1];
    if (!digest) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A leak fingerprint is "sha256:" and 64 lower-case hex digits.', { fault: 'user' });
    const find = (kind: FingerprintRow['kind'], sha: Buffer): { key_id: string; version: number } | undefined =>
      this.db.prepare('SELECT key_id, version FROM key_fingerprints WHERE kind = ? AND digest = ? ORDER BY key_id, version LIMIT 1').get(kind, keyed(this.matchKey, sha)) as
        | { key_id: string; version: number }
        | undefined;
    let how: KeyMatch['how'] = 'material';
    let hit = find('material', Buffer.from(digest, 'hex'));
    const spki = evidence.identity?.kind === 'public-key' ? FINGERPRINT.exec(evidence.identity.id ?? '')?.[1] : undefined;
    if (!hit && spki) {
      hit = find('public-key', Buffer.from(spki, 'hex'));
      how = 'public-key';
    }
    if (!hit) return undefined;
    const row = this.row(hit.key_id);
    if (!row) return undefined;
    const v = this.db.prepare('SELECT state, revoked_at FROM key_versions WHERE key_id = ? AND version = ?').get(row.id, hit.version) as
      | Pick<VersionRow, 'state' | 'revoked_at'>
      | undefined;
    const aliases = (this.db.prepare('SELECT alias FROM aliases WHERE key_id = ? ORDER BY alias').all(row.id) as { alias: string }[]).map((a) => a.alias);
    return { keyId: row.id, version: hit.version, aliases, how, revocable: 'version', ...(v ? { versionState: versionState(v) } : {}) };
  }

  /**
   * Revokes one version (its material leaked): from then on it neither encrypts, decrypts nor
   * exports. Revoking the current version is allowed (stop the bleeding first): the key then has
   * no usable current version until `rotate` adds one. Works on enabled, disabled and
   * pending-destruction keys; a destroyed key or version has nothing left to revoke. Idempotent,
   * and recorded in the same transaction; revoking a revoked version again changes nothing.
   */
  async revokeVersion(ref: string, version: number, options: MutationOptions): Promise<MutationResult> {
    this.assertOpen();
    if (!Number.isSafeInteger(version) || version < 1) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A key version is a whole number from 1.', { fault: 'user', details: { version } });
    }
    const details = { revokedVersion: version };
    return this.recorded('revoke-version', ref, options, details, () =>
      this.mutate(
        'revoke-version',
        `${ref}#${version}`,
        options,
        () => {
          const row = this.mustRow(ref);
          if (row.state === 'destroyed') throw stateError(row.id, row.state, 'have a version revoked', 'Its material was shredded: nothing is left to revoke.');
          const v = this.db.prepare('SELECT state, revoked_at FROM key_versions WHERE key_id = ? AND version = ?').get(row.id, version) as
            | Pick<VersionRow, 'state' | 'revoked_at'>
            | undefined;
          if (!v) {
            throw new KeywardenError(ErrorCode.KEY_NOT_FOUND, `Key ${row.id} has no version ${version}.`, { fault: 'user', details: { backend: 'local', keyId: row.id, version } });
          }
          if (v.state === 'destroyed') throw stateError(row.id, row.state, `have version ${version} revoked`, 'That version was shredded already.');
          if (v.revoked_at === null) {
            this.db.prepare('UPDATE key_versions SET revoked_at = ? WHERE key_id = ? AND version = ?').run(this.now().toISOString(), row.id, version);
          }
          return { ...this.result(row), revokedVersion: version };
        },
        { details },
      ),
    );
  }

  /**
   * Exports a version's material (a secret: the caller prints it once and forgets it). Only for
   * keys created `exportable`, in the `enabled` state, and versions neither revoked nor
   * destroyed; otherwise a typed `KW_KEY_STATE` (`KeyNotExportableError`,
   * `KeyVersionRevokedError`). Writes an `export` audit record (key, version, format; never the
   * material) in the transaction that reads the material: no record, no export. A refused
   * export is recorded as failed.
   *
   * @example
   * const { material } = await backend.exportKey('alias/app', { format: 'token' }, { actor: 'cli:alice' });
   */
  async exportKey(ref: string, request: ExportKeyRequest, options: Pick<MutationOptions, 'actor' | 'reason'> = {}): Promise<ExportedKey> {
    this.assertOpen();
    const format = request.format;
    const details = { format: String(format), version: request.version ?? null };
    try {
      if (!EXPORT_FORMATS.includes(format)) {
        throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, `Unknown export format "${String(format)}"; use ${EXPORT_FORMATS.join(', ')}.`, { fault: 'user' });
      }
      if (request.version !== undefined && (!Number.isSafeInteger(request.version) || request.version < 1)) {
        throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A key version is a whole number from 1.', { fault: 'user' });
      }
      return this.db
        .transaction((): ExportedKey => {
          const row = this.mustRow(ref);
          if (row.exportable !== 1 || !this.createdExportable(row.id)) throw new KeyNotExportableError(row.id);
          if (row.state !== 'enabled') throw stateError(row.id, row.state, 'be exported', row.state === 'disabled' ? 'Enable it first.' : undefined);
          if (format === 'pem' && !isAsymmetric(row.spec)) {
            throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, `A ${row.spec} key has no PEM form; export it as token, base64 or hex.`, { fault: 'user' });
          }
          const version = request.version ?? row.current_version;
          const material = this.material(row.id, version, 'be exported');
          try {
            const text =
              format === 'token'
                ? encodeKeywardenToken({ keyId: row.id, version, spec: row.spec, material })
                : format === 'base64'
                  ? material.toString('base64')
                  : format === 'hex'
                    ? material.toString('hex')
                    : pkcs8Pem(material);
            this.appendAudit({ ...this.auditBase('export', options), keyId: row.id, outcome: 'succeeded', details: { format, version } });
            return { keyId: row.id, version, spec: row.spec, format, material: text };
          } finally {
            material.fill(0);
          }
        })
        .immediate();
    } catch (e) {
      if (isKeywardenError(e) && (e.code === ErrorCode.AUDIT_WRITE_FAILED || e.code === ErrorCode.AUDIT_BROKEN)) throw e;
      this.appendAudit({
        ...this.auditBase('export', options),
        keyId: this.row(ref)?.id ?? ref,
        outcome: 'failed',
        errorCode: isKeywardenError(e) ? e.code : ErrorCode.INTERNAL,
        details,
      });
      throw toStoreError(e, 'export');
    }
  }

  /** The key's create record in the (hash-chained) log says exportable: a flag set by hand in the table is not enough. */
  private createdExportable(keyId: string): boolean {
    return this.auditLog.list({ keyId, operation: 'create' }).some((r) => r.outcome === 'succeeded' && r.details.exportable === true);
  }

  /** SPKI DER of an RSA or EC key's current version (public; works for a revoked version too). */
  async getPublicKey(ref: string): Promise<Uint8Array> {
    this.assertOpen();
    const row = this.mustRow(ref);
    if (!isAsymmetric(row.spec)) throw new UnsupportedError(this.name, `give a public key for a ${row.spec} key`, 'Only RSA and EC keys have one.');
    const material = this.material(row.id, row.current_version, 'give its public key', true);
    try {
      return spkiOf(material);
    } finally {
      material.fill(0);
    }
  }

  // ---- envelope encryption --------------------------------------------------------------

  /** A version's material, for `verb`; refuses a revoked version unless `allowRevoked` (public-key derivation). */
  private material(keyId: string, version: number, verb = 'use', allowRevoked = false): Buffer {
    const v = this.db.prepare('SELECT version, created_at, state, sealed, revoked_at FROM key_versions WHERE key_id = ? AND version = ?').get(keyId, version) as
      | VersionRow
      | undefined;
    if (v && v.state !== 'destroyed' && v.revoked_at !== null && !allowRevoked) throw new KeyVersionRevokedError(keyId, version, verb);
    if (!v || v.state === 'destroyed' || !v.sealed) {
      throw new KeywardenError(ErrorCode.DECRYPT_FAILED, `Version ${version} of key ${keyId} is not available (destroyed or unknown).`, {
        fault: 'user',
        details: { backend: 'local', keyId, version },
      });
    }
    const m = unseal(this.kek, v.sealed, versionAad(keyId, version));
    if (!m) throw new KeywardenError(ErrorCode.DECRYPT_FAILED, `The sealed material of key ${keyId} version ${version} did not open; the keystore may be corrupt.`, { fault: 'backend' });
    return m;
  }

  private usable(ref: string, verb: string): KeyRow {
    const row = this.mustRow(ref);
    if (row.state !== 'enabled') throw stateError(row.id, row.state, verb, row.state === 'disabled' ? 'Enable the key to use it.' : undefined);
    if (row.usage !== 'encrypt-decrypt' || !row.spec.startsWith('AES_')) {
      throw new UnsupportedError(this.name, `${verb} with a ${row.spec} key`, 'Use an AES_256 key for envelope encryption.');
    }
    return row;
  }

  private header(keyId: string, version: number): Buffer {
    const id = Buffer.from(keyId, 'utf8');
    const v = Buffer.alloc(4);
    v.writeUInt32BE(version);
    return Buffer.concat([CT_MAGIC, Buffer.from([id.length]), id, v]);
  }

  async encrypt(ref: string, plaintext: Uint8Array, options: EncryptOptions = {}): Promise<EncryptResult> {
    this.assertOpen();
    const row = this.usable(ref, 'encrypt');
    const dek = this.material(row.id, row.current_version, 'encrypt');
    try {
      const header = this.header(row.id, row.current_version);
      const iv = randomBytes(12);
      const c = createCipheriv(row.spec === 'AES_128' ? 'aes-128-gcm' : 'aes-256-gcm', dek, iv);
      c.setAAD(Buffer.concat([header, Buffer.from(canonicalJson(options.context ?? {}))]));
      const ct = Buffer.concat([c.update(plaintext), c.final()]);
      return { ciphertext: Buffer.concat([header, iv, c.getAuthTag(), ct]), keyId: row.id, version: row.current_version };
    } finally {
      dek.fill(0);
    }
  }

  async decrypt(ciphertext: Uint8Array, options: EncryptOptions = {}): Promise<DecryptResult> {
    this.assertOpen();
    const buf = Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength);
    const bad = (): KeywardenError => new KeywardenError(ErrorCode.DECRYPT_FAILED, 'The ciphertext is not a local-keystore ciphertext or was altered.', { fault: 'user' });
    if (buf.length < 4 + 1 + 4 + 28 || !buf.subarray(0, 4).equals(CT_MAGIC)) throw bad();
    const idLen = buf[4]!;
    const headerLen = 5 + idLen + 4;
    if (buf.length < headerLen + 28) throw bad();
    const keyId = buf.subarray(5, 5 + idLen).toString('utf8');
    const version = buf.readUInt32BE(5 + idLen);
    const row = this.row(keyId);
    if (!row) throw keyNotFound(keyId);
    this.usable(row.id, 'decrypt');
    const dek = this.material(row.id, version, 'decrypt');
    try {
      const d = createDecipheriv(row.spec === 'AES_128' ? 'aes-128-gcm' : 'aes-256-gcm', dek, buf.subarray(headerLen, headerLen + 12));
      d.setAAD(Buffer.concat([buf.subarray(0, headerLen), Buffer.from(canonicalJson(options.context ?? {}))]));
      d.setAuthTag(buf.subarray(headerLen + 12, headerLen + 28));
      const plaintext = Buffer.concat([d.update(buf.subarray(headerLen + 28)), d.final()]);
      return { plaintext, keyId: row.id, version };
    } catch (e) {
      if (e instanceof KeywardenError) throw e;
      throw bad();
    } finally {
      dek.fill(0);
    }
  }

  async generateDataKey(ref: string, options: EncryptOptions & { bytes?: number } = {}): Promise<DataKeyResult> {
    const bytes = options.bytes ?? 32;
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > 1024) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A data key is 1 to 1024 bytes.', { fault: 'user' });
    }
    const plaintext = randomBytes(bytes);
    const sealed = await this.encrypt(ref, plaintext, options);
    return { plaintext, ciphertext: sealed.ciphertext, keyId: sealed.keyId, ...(sealed.version !== undefined ? { version: sealed.version } : {}) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // Every invocation ends on a signed head, so an export right after covers all of it.
      this.auditLog.checkpointIfMoved(this.now());
    } finally {
      this.kek.fill(0);
      this.matchKey.fill(0);
      this.db.close();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new KeywardenError(ErrorCode.KEYSTORE_LOCKED, 'The local keystore is closed.', { fault: 'internal' });
  }
}
