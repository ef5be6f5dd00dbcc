/**
 * PKCS#11 HSMs through `graphene-pk11` (tested against SoftHSM2).
 *
 * - A managed key is a set of token objects, one per version: CKA_ID is the 8-byte key id
 *   followed by the 4-byte version, CKA_LABEL is the key's label (its alias). AES keys are
 *   secret keys; RSA and EC keys are key pairs sharing the CKA_ID.
 * - Key objects are generated on the token as sensitive and non-extractable: the material
 *   never leaves the HSM, so there is nothing of it to leak.
 * - Disable clears the usage attributes (CKA_ENCRYPT, CKA_DECRYPT, CKA_SIGN, …) of every
 *   version; enable restores them. The token then refuses the key by itself.
 * - PKCS#11 has no pending-deletion window, so Keywarden keeps it: scheduling disables the
 *   key and records the date in Keywarden's state database; `completeDueDestructions`
 *   destroys the objects once the date has passed. Creation times, tags and the schedule
 *   live in that database too (date attributes are not reliable across tokens).
 * - Version numbers are reserved in a `BEGIN IMMEDIATE` transaction before the token object
 *   is generated, so two processes rotating one key never mint the same CKA_ID; a failed
 *   generation releases its reservation.
 * - Leak matching (`matchLeak`) works on a finding's `public-key` identity: the token's public
 *   key objects (CKO_PUBLIC_KEY) that belong to Keywarden's keys are read (RSA: modulus and
 *   exponent; EC: CKA_EC_PARAMS and CKA_EC_POINT), turned into SPKI DER, hashed and compared;
 *   hashes are cached per instance (a token object's public key never changes). The private
 *   halves are non-extractable, so a match means a key pair made elsewhere and imported leaked
 *   from its origin. `revocable: 'key'`: the pipeline disables the key and rotates it. Keys
 *   cannot be created `exportable`.
 */
import { createHash, createPublicKey, randomBytes, type JsonWebKey } from 'node:crypto';
import * as graphene from 'graphene-pk11';
import { ErrorCode, KeywardenError, UnsupportedError } from '../errors.js';
import { canonicalJson } from '../store/audit.js';
import { SqliteIdempotencyStore } from '../store/idempotency.js';
import { openDatabase, type SqliteDatabase } from '../store/sqlite.js';
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
  LeakEvidence,
  ManagedKey,
  MutationOptions,
  MutationResult,
  MutationVerb,
  Operation,
  RotationInput,
} from './port.js';

export interface Pkcs11BackendOptions {
  /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
  library: string;
  /** The token label to use. */
  tokenLabel: string;
  /** The user PIN. Read it from KEYWARDEN_PKCS11_PIN; it is never logged. */
  pin: string;
  /** Keywarden's state database (destruction schedule, versions, idempotency). */
  statePath: string;
  now?: () => Date;
}

const SPECS: readonly KeySpec[] = ['AES_256', 'AES_128', 'RSA_2048', 'RSA_3072', 'RSA_4096', 'ECC_NIST_P256', 'ECC_NIST_P384', 'ECC_NIST_P521'];
const CURVES: Partial<Record<KeySpec, string>> = { ECC_NIST_P256: 'secp256r1', ECC_NIST_P384: 'secp384r1', ECC_NIST_P521: 'secp521r1' };
const CT_MAGIC = Buffer.from('KWP1');
const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;
const CKA_EC_PARAMS = 0x180;
const CKA_EC_POINT = 0x181;
/** JWK curve names and coordinate sizes of the curves whose CKA_EC_PARAMS we recognise. */
const JWK_CURVES: readonly { name: string; crv: string; size: number }[] = [
  { name: 'secp256r1', crv: 'P-256', size: 32 },
  { name: 'secp384r1', crv: 'P-384', size: 48 },
  { name: 'secp521r1', crv: 'P-521', size: 66 },
];

const b64url = (b: Buffer): string => b.toString('base64url');

/** The bytes of a DER OCTET STRING, or undefined when `buf` is not exactly one. */
function derOctets(buf: Buffer): Buffer | undefined {
  if (buf.length < 2 || buf[0] !== 0x04) return undefined;
  let len = buf[1]!;
  let at = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n < 1 || n > 2 || buf.length < 2 + n) return undefined;
    len = n === 1 ? buf[2]! : buf.readUInt16BE(2);
    at = 2 + n;
  }
  return buf.length === at + len ? buf.subarray(at) : undefined;
}

/**
 * SPKI DER of a token public key object, or undefined for a kind we cannot read. RSA: modulus and
 * exponent; EC: the named curve from CKA_EC_PARAMS and the uncompressed point from CKA_EC_POINT
 * (DER-wrapped, as PKCS#11 says, or raw, as some tokens return it).
 */
function publicKeySpki(o: graphene.SessionObject): Buffer | undefined {
  const type = o.getAttribute('keyType') as number;
  let jwk: JsonWebKey;
  if (type === graphene.KeyType.RSA) {
    const a = o.getAttribute({ modulus: null, publicExponent: null }) as { modulus: Buffer; publicExponent: Buffer };
    const strip = (b: Buffer): Buffer => {
      let i = 0;
      while (i < b.length - 1 && b[i] === 0) i++;
      return b.subarray(i);
    };
    jwk = { kty: 'RSA', n: b64url(strip(a.modulus)), e: b64url(strip(a.publicExponent)) };
  } else if (type === graphene.KeyType.EC) {
    // By number: CKA_EC_PARAMS has two names in graphene (paramsEC, paramsECDSA), and a read by name answers with the other one.
    const a = { paramsEC: o.getAttribute(CKA_EC_PARAMS) as Buffer, pointEC: o.getAttribute(CKA_EC_POINT) as Buffer };
    const curve = JWK_CURVES.find((c) => graphene.NamedCurve.getByName(c.name).value.equals(a.paramsEC));
    if (!curve) return undefined;
    const raw = a.pointEC.length === 1 + 2 * curve.size && a.pointEC[0] === 0x04 ? a.pointEC : derOctets(a.pointEC);
    if (!raw || raw.length !== 1 + 2 * curve.size || raw[0] !== 0x04) return undefined;
    jwk = { kty: 'EC', crv: curve.crv, x: b64url(raw.subarray(1, 1 + curve.size)), y: b64url(raw.subarray(1 + curve.size)) };
  } else {
    return undefined;
  }
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ format: 'der', type: 'spki' });
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS pkcs11_keys (
  token TEXT NOT NULL,
  key_id TEXT NOT NULL,
  spec TEXT NOT NULL,
  usage TEXT NOT NULL,
  label TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('enabled', 'disabled', 'pending-destruction', 'destroyed')),
  created_at TEXT NOT NULL,
  last_rotated_at TEXT,
  destruction_at TEXT,
  description TEXT,
  tags TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (token, key_id)
);
CREATE TABLE IF NOT EXISTS pkcs11_versions (
  token TEXT NOT NULL,
  key_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('reserved', 'enabled', 'destroyed')),
  PRIMARY KEY (token, key_id, version)
);
`;

interface KeyRow {
  key_id: string;
  spec: KeySpec;
  usage: KeyUsage;
  label: string;
  state: KeyState;
  created_at: string;
  last_rotated_at: string | null;
  destruction_at: string | null;
  description: string | null;
  tags: string;
}

interface VersionRow {
  version: number;
  created_at: string;
  state: 'reserved' | 'enabled' | 'destroyed';
}

/** One PKCS#11 module per library path per process: C_Initialize/C_Finalize are process-wide. */
const modules = new Map<string, { mod: graphene.Module; refs: number }>();

function acquireModule(lib: string): graphene.Module {
  let entry = modules.get(lib);
  if (!entry) {
    const mod = graphene.Module.load(lib, 'keywarden');
    mod.initialize();
    entry = { mod, refs: 0 };
    modules.set(lib, entry);
  }
  entry.refs++;
  return entry.mod;
}

/** Per token serial: a hash of the PIN this process logged in with. */
const logins = new Map<string, string>();

function releaseModule(lib: string): void {
  const entry = modules.get(lib);
  if (!entry) return;
  if (--entry.refs === 0) {
    modules.delete(lib);
    logins.clear();
    entry.mod.finalize();
  }
}

function ckr(e: unknown): string {
  return /CKR_[A-Z_]+/.exec(e instanceof Error ? e.message : '')?.[0] ?? 'unknown';
}

/** Translates a token error at the edge; the library's text stays in `cause`. */
function translate(e: unknown, verb: string, keyId?: string): KeywardenError {
  if (e instanceof KeywardenError) return e;
  const code = ckr(e);
  const details = { backend: 'pkcs11', verb, ckr: code, ...(keyId ? { keyId } : {}) };
  switch (code) {
    case 'CKR_KEY_FUNCTION_NOT_PERMITTED':
    case 'CKR_KEY_TYPE_INCONSISTENT':
      return new KeywardenError(ErrorCode.KEY_STATE, `The token refused to ${verb} with key ${keyId ?? ''}: the key is disabled or not meant for it.`, { fault: 'user', cause: e, details });
    case 'CKR_ENCRYPTED_DATA_INVALID':
    case 'CKR_ENCRYPTED_DATA_LEN_RANGE':
    case 'CKR_DATA_INVALID':
    case 'CKR_GENERAL_ERROR':
      if (verb === 'decrypt') return new KeywardenError(ErrorCode.DECRYPT_FAILED, 'The ciphertext did not decrypt: wrong key, wrong context, or altered data.', { fault: 'user', cause: e, details });
      break;
    case 'CKR_PIN_INCORRECT':
    case 'CKR_PIN_LOCKED':
    case 'CKR_USER_NOT_LOGGED_IN':
      return new KeywardenError(ErrorCode.BACKEND_DENIED, 'The token refused the PIN. Check KEYWARDEN_PKCS11_PIN.', { fault: 'config', cause: e, details });
    case 'CKR_DEVICE_ERROR':
    case 'CKR_DEVICE_REMOVED':
    case 'CKR_TOKEN_NOT_PRESENT':
    case 'CKR_SESSION_HANDLE_INVALID':
    case 'CKR_SESSION_CLOSED':
      return new KeywardenError(ErrorCode.BACKEND_UNAVAILABLE, `The token was unavailable during ${verb}; it will be retried.`, { retryable: true, cause: e, details });
    case 'CKR_MECHANISM_INVALID':
    case 'CKR_FUNCTION_NOT_SUPPORTED':
      return new UnsupportedError('pkcs11', verb);
  }
  return new KeywardenError(ErrorCode.BACKEND_FAILED, `The token failed during ${verb} (${code}).`, { fault: 'backend', cause: e, details });
}

function defaultUsage(spec: KeySpec): KeyUsage {
  return spec.startsWith('AES_') ? 'encrypt-decrypt' : 'sign-verify';
}

const SECRET_USAGE = ['encrypt', 'decrypt', 'sign', 'verify', 'wrap', 'unwrap', 'derive'] as const;
const PRIVATE_USAGE = ['decrypt', 'sign', 'signRecover', 'unwrap', 'derive'] as const;
const PUBLIC_USAGE = ['encrypt', 'verify', 'verifyRecover', 'wrap', 'derive'] as const;

/**
 * Every usage attribute of each object class, set explicitly: tokens default unset ones to
 * true (SoftHSM does), which would leave, say, an RSA signing key able to decrypt, and
 * leave that ability on after a disable.
 */
function usageAttrs(spec: KeySpec, usage: KeyUsage, on: boolean): { secret: graphene.ITemplate; priv: graphene.ITemplate; pub: graphene.ITemplate } {
  const allow = spec.startsWith('AES_')
    ? new Set(['encrypt', 'decrypt', 'wrap', 'unwrap'])
    : spec.startsWith('RSA_') && usage === 'encrypt-decrypt'
      ? new Set(['decrypt', 'unwrap', 'encrypt', 'wrap'])
      : new Set(['sign', 'verify']);
  const tpl = (names: readonly string[]): graphene.ITemplate => Object.fromEntries(names.map((n) => [n, on && allow.has(n)]));
  return { secret: tpl(SECRET_USAGE), priv: tpl(PRIVATE_USAGE), pub: tpl(PUBLIC_USAGE) };
}

function opsFor(spec: KeySpec, usage: KeyUsage, enabled: boolean): Operation[] {
  const admin: Operation[] = ['describe', 'rotate', 'disable', 'enable', 'schedule-destruction', 'cancel-destruction', 'manage-aliases'];
  if (!enabled) return admin;
  if (spec.startsWith('AES_')) return ['encrypt', 'decrypt', 'generate-data-key', ...admin];
  if (usage === 'encrypt-decrypt') return ['encrypt', 'decrypt', ...admin];
  return ['sign', 'verify', ...admin];
}


/**
 * @example
 * const hsm = Pkcs11Backend.open({ library: '/usr/lib/softhsm/libsofthsm2.so', tokenLabel: 'prod', pin, statePath: '.keywarden/state.db' });
 * await hsm.rotate('payments-signing', { idempotencyKey: 'job-42' });
 */
export class Pkcs11Backend implements KeyBackend {
  readonly name = 'pkcs11';
  readonly capabilities: BackendCapabilities = {
    specs: SPECS,
    automaticRotation: false,
    destructionWindowDays: { min: 1, max: 365 },
    versionedCiphertext: true,
  };
  private readonly idem: SqliteIdempotencyStore;
  private readonly now: () => Date;
  private closed = false;
  /** CKA_ID (hex) of a public key object -> `sha256:` of its SPKI DER, or null when unreadable. */
  private readonly spkiHashes = new Map<string, string | null>();

  private constructor(
    private readonly options: Pkcs11BackendOptions,
    private readonly session: graphene.Session,
    private readonly db: SqliteDatabase,
    private readonly token: string,
  ) {
    this.idem = new SqliteIdempotencyStore(db);
    this.now = options.now ?? (() => new Date());
  }

  static open(options: Pkcs11BackendOptions): Pkcs11Backend {
    if (!options.pin) throw new KeywardenError(ErrorCode.CONFIG_INVALID, 'No PKCS#11 PIN. Set KEYWARDEN_PKCS11_PIN.', { fault: 'config' });
    let mod: graphene.Module;
    try {
      mod = acquireModule(options.library);
    } catch (e) {
      throw new KeywardenError(ErrorCode.BACKEND_UNAVAILABLE, `Could not load the PKCS#11 module ${options.library}.`, { fault: 'config', cause: e });
    }
    let session: graphene.Session | undefined;
    try {
      const slots = mod.getSlots(true);
      let slot: graphene.Slot | undefined;
      let serial = '';
      for (let i = 0; i < slots.length; i++) {
        const s = slots.items(i);
        const t = s.getToken();
        if (t.label.trim() === options.tokenLabel) {
          slot = s;
          serial = t.serialNumber.trim();
          break;
        }
      }
      if (!slot) throw new KeywardenError(ErrorCode.CONFIG_INVALID, `No PKCS#11 token labelled "${options.tokenLabel}".`, { fault: 'config' });
      session = slot.open(graphene.SessionFlag.SERIAL_SESSION | graphene.SessionFlag.RW_SESSION);
      // The login belongs to the whole process, not the session: a second backend on the same
      // token finds it logged in already, and must still prove it holds the same PIN.
      const pinHash = createHash('sha256').update(`${serial}\u0000${options.pin}`).digest('hex');
      const known = logins.get(serial);
      try {
        session.login(options.pin, graphene.UserType.USER);
        logins.set(serial, pinHash);
      } catch (e) {
        if (ckr(e) !== 'CKR_USER_ALREADY_LOGGED_IN') throw e;
        if (known !== undefined && known !== pinHash) {
          throw new KeywardenError(ErrorCode.BACKEND_DENIED, 'The token refused the PIN. Check KEYWARDEN_PKCS11_PIN.', { fault: 'config' });
        }
      }
      const db = openDatabase(options.statePath);
      db.exec(SCHEMA);
      return new Pkcs11Backend(options, session, db, `${options.tokenLabel}:${serial}`);
    } catch (e) {
      try {
        session?.close();
      } catch {
        // already failing
      }
      releaseModule(options.library);
      throw translate(e, 'open the token');
    }
  }

  // ---- token objects --------------------------------------------------------------------

  private static objectId(keyId: string, version: number): Buffer {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(version);
    return Buffer.concat([Buffer.from(keyId, 'hex'), v]);
  }

  private objects(keyId: string, version?: number): graphene.SessionObject[] {
    const out: graphene.SessionObject[] = [];
    const prefix = Buffer.from(keyId, 'hex');
    for (const cls of [graphene.ObjectClass.SECRET_KEY, graphene.ObjectClass.PRIVATE_KEY, graphene.ObjectClass.PUBLIC_KEY]) {
      const tpl: graphene.ITemplate = { class: cls, ...(version !== undefined ? { id: Pkcs11Backend.objectId(keyId, version) } : {}) };
      const found = this.session.find(tpl);
      for (let i = 0; i < found.length; i++) {
        const o = found.items(i);
        const id = o.getAttribute('id') as Buffer;
        if (id.length === 12 && id.subarray(0, 8).equals(prefix)) out.push(o);
      }
    }
    return out;
  }

  private generate(row: Pick<KeyRow, 'key_id' | 'spec' | 'usage' | 'label'>, version: number, enabled: boolean): void {
    const id = Pkcs11Backend.objectId(row.key_id, version);
    const u = usageAttrs(row.spec, row.usage, enabled);
    const common = { token: true, label: row.label, id, modifiable: true };
    if (row.spec.startsWith('AES_')) {
      this.session.generateKey(graphene.KeyGenMechanism.AES, {
        ...common,
        keyType: graphene.KeyType.AES,
        valueLen: row.spec === 'AES_128' ? 16 : 32,
        private: true,
        sensitive: true,
        extractable: false,
        ...u.secret,
      });
    } else if (row.spec.startsWith('RSA_')) {
      this.session.generateKeyPair(
        graphene.KeyGenMechanism.RSA,
        { ...common, keyType: graphene.KeyType.RSA, modulusBits: Number(row.spec.slice(4)), publicExponent: Buffer.from([1, 0, 1]), ...u.pub },
        { ...common, keyType: graphene.KeyType.RSA, private: true, sensitive: true, extractable: false, ...u.priv },
      );
    } else {
      this.session.generateKeyPair(
        graphene.KeyGenMechanism.EC,
        { ...common, keyType: graphene.KeyType.EC, paramsEC: graphene.NamedCurve.getByName(CURVES[row.spec]!).value, ...u.pub },
        { ...common, keyType: graphene.KeyType.EC, private: true, sensitive: true, extractable: false, ...u.priv },
      );
    }
  }

  private setUsage(row: KeyRow, on: boolean): void {
    const u = usageAttrs(row.spec, row.usage, on);
    for (const o of this.objects(row.key_id)) {
      o.setAttribute(o.class === graphene.ObjectClass.SECRET_KEY ? u.secret : o.class === graphene.ObjectClass.PRIVATE_KEY ? u.priv : u.pub);
    }
  }

  // ---- state ----------------------------------------------------------------------------

  private row(ref: string): KeyRow | undefined {
    const byId = /^[0-9a-f]{16}$/.test(ref)
      ? (this.db.prepare('SELECT * FROM pkcs11_keys WHERE token = ? AND key_id = ?').get(this.token, ref) as KeyRow | undefined)
      : undefined;
    if (byId) return byId;
    return this.db.prepare("SELECT * FROM pkcs11_keys WHERE token = ? AND label = ? AND state != 'destroyed'").get(this.token, ref) as KeyRow | undefined;
  }

  private mustRow(ref: string): KeyRow {
    const r = this.row(ref);
    if (!r) {
      throw new KeywardenError(ErrorCode.KEY_NOT_FOUND, `No key "${ref}" on token ${this.options.tokenLabel}.`, { fault: 'user', details: { backend: this.name, ref } });
    }
    return r;
  }

  private versions(keyId: string): VersionRow[] {
    return this.db.prepare("SELECT version, created_at, state FROM pkcs11_versions WHERE token = ? AND key_id = ? AND state != 'reserved' ORDER BY version").all(this.token, keyId) as VersionRow[];
  }

  private current(keyId: string): number {
    return (this.db.prepare("SELECT max(version) AS v FROM pkcs11_versions WHERE token = ? AND key_id = ? AND state != 'reserved'").get(this.token, keyId) as { v: number | null }).v ?? 0;
  }

  private defaultLabel(keyId: string): string {
    return `kw-${keyId}`;
  }

  /**
   * Enabled or disabled is read from the token (the usage attributes are the truth: someone
   * may have changed them outside Keywarden); pending and destroyed are Keywarden's own states.
   */
  private liveState(row: KeyRow, current: number): KeyState {
    if (row.state !== 'enabled' && row.state !== 'disabled') return row.state;
    const objs = this.objects(row.key_id, current);
    if (objs.length === 0) return row.state;
    const usable = objs.some((o) => {
      const names = o.class === graphene.ObjectClass.SECRET_KEY ? SECRET_USAGE : o.class === graphene.ObjectClass.PRIVATE_KEY ? PRIVATE_USAGE : PUBLIC_USAGE;
      const a = o.getAttribute(Object.fromEntries(names.map((n) => [n, null]))) as Record<string, unknown>;
      return Object.values(a).some((v) => v === true);
    });
    return usable ? 'enabled' : 'disabled';
  }

  private toManaged(row: KeyRow): ManagedKey {
    const versions = this.versions(row.key_id);
    const current = versions.at(-1)?.version ?? 0;
    const state = this.liveState(row, current);
    const enabled = state === 'enabled';
    const access: AccessRule[] = [
      {
        principal: `pkcs11:token/${this.options.tokenLabel}:user`,
        effect: 'allow',
        operations: opsFor(row.spec, row.usage, enabled),
        actions: ['CKU_USER'],
        source: 'token',
        conditional: false,
      },
    ];
    return {
      backend: this.name,
      id: row.key_id,
      aliases: row.label === this.defaultLabel(row.key_id) ? [] : [row.label],
      ...(row.description ? { description: row.description } : {}),
      spec: row.spec,
      usage: row.usage,
      state,
      createdAt: row.created_at,
      ...(row.last_rotated_at ? { lastRotatedAt: row.last_rotated_at } : {}),
      rotation: { automatic: false, inPlace: true },
      versions: versions.map((v) => ({ version: v.version, createdAt: v.created_at, state: v.state === 'destroyed' ? 'destroyed' : 'enabled', current: v.version === current })),
      currentVersion: current,
      ...(row.destruction_at ? { destructionAt: row.destruction_at } : {}),
      tags: JSON.parse(row.tags) as Record<string, string>,
      access,
    };
  }

  async inventory(): Promise<ManagedKey[]> {
    this.assertOpen();
    const rows = this.db.prepare('SELECT * FROM pkcs11_keys WHERE token = ? ORDER BY created_at, key_id').all(this.token) as KeyRow[];
    return rows.map((r) => this.toManaged(r));
  }

  async describe(ref: string): Promise<ManagedKey> {
    this.assertOpen();
    return this.toManaged(this.mustRow(ref));
  }

  // ---- mutating -------------------------------------------------------------------------

  private mutate(verb: MutationVerb, target: string, options: MutationOptions, fn: () => Omit<MutationResult, 'replayed' | 'operation'>): Promise<MutationResult> {
    this.assertOpen();
    return this.idem.run({ scope: `pkcs11:${this.token}`, key: options.idempotencyKey, verb, target }, async () => {
      try {
        return { ...fn(), operation: verb, replayed: false };
      } catch (e) {
        throw translate(e, verb);
      }
    });
  }

  private result(keyId: string): Omit<MutationResult, 'replayed' | 'operation'> {
    const row = this.mustRow(keyId);
    return { keyId, state: row.state, version: this.current(keyId), ...(row.destruction_at ? { destructionAt: row.destruction_at } : {}) };
  }

  private stateError(row: KeyRow, verb: string, hint?: string): KeywardenError {
    return new KeywardenError(ErrorCode.KEY_STATE, `Key ${row.key_id} is ${row.state}, so it cannot ${verb}.`, {
      fault: 'user',
      details: { backend: this.name, keyId: row.key_id, state: row.state, verb },
      ...(hint ? { hint } : {}),
    });
  }

  private assertLabelFree(label: string): void {
    if (!label || label.length > 128) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A label must be 1 to 128 characters.', { fault: 'user' });
    const used = this.db.prepare("SELECT key_id FROM pkcs11_keys WHERE token = ? AND label = ? AND state != 'destroyed'").get(this.token, label) as { key_id: string } | undefined;
    if (used) throw new KeywardenError(ErrorCode.ALIAS_IN_USE, `The label "${label}" already names key ${used.key_id}.`, { fault: 'user', details: { alias: label, keyId: used.key_id } });
  }

  async create(input: CreateKeyInput, options: MutationOptions): Promise<MutationResult> {
    if (!SPECS.includes(input.spec)) throw new UnsupportedError(this.name, `create ${input.spec} keys`, 'PKCS#11 keys here are AES, RSA or EC (NIST curves).');
    const usage = input.usage ?? defaultUsage(input.spec);
    if (input.spec.startsWith('AES_') ? usage !== 'encrypt-decrypt' : input.spec.startsWith('ECC_') ? usage !== 'sign-verify' : usage !== 'sign-verify' && usage !== 'encrypt-decrypt') {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, `A ${input.spec} key cannot be used for ${usage}.`, { fault: 'user' });
    }
    if (input.policy !== undefined) throw new UnsupportedError(this.name, 'take a per-key access policy', 'Token access is governed by its PINs.');
    if (input.exportable) throw new UnsupportedError(this.name, 'create exportable keys', 'Keys are generated non-extractable on the token; use the local keystore for exportable keys.');
    return this.mutate('create', input.alias ?? '(no alias)', options, () => {
      if (input.alias !== undefined) this.assertLabelFree(input.alias);
      const keyId = randomBytes(8).toString('hex');
      const label = input.alias ?? this.defaultLabel(keyId);
      const now = this.now().toISOString();
      const row = { key_id: keyId, spec: input.spec, usage, label };
      this.db.transaction(() => {
        this.db
          .prepare("INSERT INTO pkcs11_keys (token, key_id, spec, usage, label, state, created_at, description, tags) VALUES (?, ?, ?, ?, ?, 'enabled', ?, ?, ?)")
          .run(this.token, keyId, input.spec, usage, label, now, input.description ?? null, JSON.stringify(input.tags ?? {}));
        this.db.prepare("INSERT INTO pkcs11_versions (token, key_id, version, created_at, state) VALUES (?, ?, 1, ?, 'enabled')").run(this.token, keyId, now);
        // The token object is made inside the transaction: if generation fails, the rows roll back.
        this.generate(row, 1, true);
      }).immediate();
      return { keyId, state: 'enabled', version: 1 };
    });
  }

  async rotate(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.mutate('rotate', ref, options, () => {
      const row = this.mustRow(ref);
      if (row.state !== 'enabled') throw this.stateError(row, 'rotate', row.state === 'disabled' ? 'Enable it first.' : undefined);
      const now = this.now().toISOString();
      // Reserve the next version under the write lock, so no two processes mint the same CKA_ID.
      const version = this.db
        .transaction((): number => {
          const max = (this.db.prepare('SELECT max(version) AS v FROM pkcs11_versions WHERE token = ? AND key_id = ?').get(this.token, row.key_id) as { v: number | null }).v ?? 0;
          this.db.prepare("INSERT INTO pkcs11_versions (token, key_id, version, created_at, state) VALUES (?, ?, ?, ?, 'reserved')").run(this.token, row.key_id, max + 1, now);
          return max + 1;
        })
        .immediate();
      try {
        this.generate(row, version, true);
      } catch (e) {
        this.db.prepare("DELETE FROM pkcs11_versions WHERE token = ? AND key_id = ? AND version = ? AND state = 'reserved'").run(this.token, row.key_id, version);
        throw e;
      }
      this.db.transaction(() => {
        this.db.prepare("UPDATE pkcs11_versions SET state = 'enabled' WHERE token = ? AND key_id = ? AND version = ?").run(this.token, row.key_id, version);
        this.db.prepare('UPDATE pkcs11_keys SET last_rotated_at = ? WHERE token = ? AND key_id = ?').run(now, this.token, row.key_id);
      })();
      return { keyId: row.key_id, state: 'enabled', version };
    });
  }

  async setRotation(ref: string, rotation: RotationInput, options: MutationOptions): Promise<MutationResult> {
    if (rotation.automatic) {
      throw new UnsupportedError(this.name, 'rotate keys automatically', 'Schedule "keywarden keys rotate" instead; PKCS#11 tokens have no rotation timer.');
    }
    return this.mutate('set-rotation', ref, options, () => this.result(this.mustRow(ref).key_id));
  }

  async disable(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.mutate('disable', ref, options, () => {
      const row = this.mustRow(ref);
      if (row.state === 'pending-destruction' || row.state === 'destroyed') throw this.stateError(row, 'be disabled');
      this.setUsage(row, false);
      this.db.prepare("UPDATE pkcs11_keys SET state = 'disabled' WHERE token = ? AND key_id = ?").run(this.token, row.key_id);
      return this.result(row.key_id);
    });
  }

  async enable(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.mutate('enable', ref, options, () => {
      const row = this.mustRow(ref);
      if (row.state === 'pending-destruction') throw this.stateError(row, 'be enabled', 'Cancel the destruction first.');
      if (row.state === 'destroyed') throw this.stateError(row, 'be enabled');
      this.setUsage(row, true);
      this.db.prepare("UPDATE pkcs11_keys SET state = 'enabled' WHERE token = ? AND key_id = ?").run(this.token, row.key_id);
      return this.result(row.key_id);
    });
  }

  async scheduleDestruction(ref: string, windowDays: number, options: MutationOptions): Promise<MutationResult> {
    const { min, max } = this.capabilities.destructionWindowDays;
    if (!Number.isInteger(windowDays) || windowDays < min || windowDays > max) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, `The destruction window must be a whole number of days from ${min} to ${max}.`, { fault: 'user', details: { windowDays, min, max } });
    }
    return this.mutate('schedule-destruction', ref, options, () => {
      const row = this.mustRow(ref);
      if (row.state === 'destroyed') throw this.stateError(row, 'be scheduled for destruction');
      if (row.state !== 'pending-destruction') {
        // Unusable at once; destroyed when the window ends.
        this.setUsage(row, false);
        const at = new Date(this.now().getTime() + windowDays * 86_400_000).toISOString();
        this.db.prepare("UPDATE pkcs11_keys SET state = 'pending-destruction', destruction_at = ? WHERE token = ? AND key_id = ?").run(at, this.token, row.key_id);
      }
      return this.result(row.key_id);
    });
  }

  async cancelDestruction(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.mutate('cancel-destruction', ref, options, () => {
      const row = this.mustRow(ref);
      if (row.state === 'destroyed') throw this.stateError(row, 'be restored', 'Its token objects were destroyed.');
      if (row.state === 'pending-destruction') {
        this.db.prepare("UPDATE pkcs11_keys SET state = 'disabled', destruction_at = NULL WHERE token = ? AND key_id = ?").run(this.token, row.key_id);
      }
      return this.result(row.key_id);
    });
  }

  async moveAlias(alias: string, targetRef: string, options: MutationOptions): Promise<MutationResult> {
    return this.mutate('move-alias', `${alias}->${targetRef}`, options, () => {
      const row = this.mustRow(targetRef);
      if (row.state === 'destroyed' || row.state === 'pending-destruction') throw this.stateError(row, 'take a label');
      const holder = this.db.prepare("SELECT * FROM pkcs11_keys WHERE token = ? AND label = ? AND state != 'destroyed'").get(this.token, alias) as KeyRow | undefined;
      if (holder && holder.key_id !== row.key_id) {
        for (const o of this.objects(holder.key_id)) o.setAttribute({ label: this.defaultLabel(holder.key_id) });
        this.db.prepare('UPDATE pkcs11_keys SET label = ? WHERE token = ? AND key_id = ?').run(this.defaultLabel(holder.key_id), this.token, holder.key_id);
      }
      for (const o of this.objects(row.key_id)) o.setAttribute({ label: alias });
      this.db.prepare('UPDATE pkcs11_keys SET label = ? WHERE token = ? AND key_id = ?').run(alias, this.token, row.key_id);
      return this.result(row.key_id);
    });
  }

  async completeDueDestructions(now: Date = this.now()): Promise<MutationResult[]> {
    this.assertOpen();
    const due = this.db.prepare("SELECT key_id FROM pkcs11_keys WHERE token = ? AND state = 'pending-destruction' AND destruction_at <= ?").all(this.token, now.toISOString()) as {
      key_id: string;
    }[];
    const out: MutationResult[] = [];
    for (const { key_id } of due) {
      out.push(
        await this.mutate('destroy', key_id, { idempotencyKey: `destroy:${key_id}` }, () => {
          for (const o of this.objects(key_id)) o.destroy();
          this.db.transaction(() => {
            this.db.prepare("UPDATE pkcs11_versions SET state = 'destroyed' WHERE token = ? AND key_id = ?").run(this.token, key_id);
            this.db.prepare("UPDATE pkcs11_keys SET state = 'destroyed', label = ? WHERE token = ? AND key_id = ?").run(this.defaultLabel(key_id), this.token, key_id);
          })();
          return { keyId: key_id, state: 'destroyed' };
        }),
      );
    }
    return out;
  }

  // ---- leaks -------------------------------------------------------------------------------

  /** The public key objects of Keywarden's keys on this token: CKA_ID, key id, version. */
  private publicObjects(): { o: graphene.SessionObject; idHex: string; keyId: string; version: number }[] {
    const known = new Set(
      (this.db.prepare("SELECT key_id FROM pkcs11_keys WHERE token = ? AND state != 'destroyed'").all(this.token) as { key_id: string }[]).map((r) => r.key_id),
    );
    const out: { o: graphene.SessionObject; idHex: string; keyId: string; version: number }[] = [];
    const found = this.session.find({ class: graphene.ObjectClass.PUBLIC_KEY });
    for (let i = 0; i < found.length; i++) {
      const o = found.items(i);
      const id = o.getAttribute('id') as Buffer;
      if (id.length !== 12) continue;
      const keyId = id.subarray(0, 8).toString('hex');
      if (known.has(keyId)) out.push({ o, idHex: id.toString('hex'), keyId, version: id.readUInt32BE(8) });
    }
    return out;
  }

  /** Matches a private key found by the scanner (its `public-key` identity) against the token's key pairs. */
  async matchLeak(evidence: LeakEvidence): Promise<KeyMatch | undefined> {
    this.assertOpen();
    if (!FINGERPRINT.test(evidence.fingerprint)) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A leak fingerprint is "sha256:" and 64 lower-case hex digits.', { fault: 'user' });
    }
    const want = evidence.identity?.kind === 'public-key' ? evidence.identity.id : undefined;
    if (!want || !FINGERPRINT.test(want)) return undefined;
    try {
      for (const p of this.publicObjects()) {
        let hash = this.spkiHashes.get(p.idHex);
        if (hash === undefined) {
          const spki = publicKeySpki(p.o);
          hash = spki ? `sha256:${createHash('sha256').update(spki).digest('hex')}` : null;
          this.spkiHashes.set(p.idHex, hash);
        }
        if (hash !== want) continue;
        const row = this.mustRow(p.keyId);
        return {
          keyId: p.keyId,
          version: p.version,
          aliases: row.label === this.defaultLabel(p.keyId) ? [] : [row.label],
          how: 'public-key',
          revocable: 'key',
        };
      }
    } catch (e) {
      throw translate(e, 'match a leak');
    }
    return undefined;
  }

  /** SPKI DER of an RSA or EC key's current version, read from its public key object. */
  async getPublicKey(ref: string): Promise<Uint8Array> {
    this.assertOpen();
    const row = this.mustRow(ref);
    if (row.spec.startsWith('AES_')) throw new UnsupportedError(this.name, `give a public key for a ${row.spec} key`, 'Only RSA and EC keys have one.');
    const version = this.current(row.key_id);
    try {
      const pub = this.objects(row.key_id, version).find((o) => o.class === graphene.ObjectClass.PUBLIC_KEY);
      const spki = pub ? publicKeySpki(pub) : undefined;
      if (!spki) throw new KeywardenError(ErrorCode.KEY_STATE, `Version ${version} of key ${row.key_id} has no readable public key on the token.`, { fault: 'backend', details: { backend: this.name, keyId: row.key_id, version } });
      return spki;
    } catch (e) {
      throw translate(e, 'read a public key', row.key_id);
    }
  }

  // ---- envelope encryption --------------------------------------------------------------

  private secretKey(row: KeyRow, version: number, verb: string): graphene.SecretKey {
    const found = this.objects(row.key_id, version).find((o) => o.class === graphene.ObjectClass.SECRET_KEY);
    if (!found) {
      throw new KeywardenError(ErrorCode.DECRYPT_FAILED, `Version ${version} of key ${row.key_id} is not on the token (destroyed or unknown).`, {
        fault: 'user',
        details: { backend: this.name, keyId: row.key_id, version, verb },
      });
    }
    return found.toType<graphene.SecretKey>();
  }

  private usable(ref: string, verb: string): KeyRow {
    const row = this.mustRow(ref);
    if (row.state !== 'enabled') throw this.stateError(row, verb, row.state === 'disabled' ? 'Enable the key to use it.' : undefined);
    if (!row.spec.startsWith('AES_')) throw new UnsupportedError(this.name, `${verb} with a ${row.spec} key`, 'Use an AES key for envelope encryption.');
    return row;
  }

  private header(keyId: string, version: number): Buffer {
    const v = Buffer.alloc(4);
    v.writeUInt32BE(version);
    return Buffer.concat([CT_MAGIC, Buffer.from(keyId, 'hex'), v]);
  }

  async encrypt(ref: string, plaintext: Uint8Array, options: EncryptOptions = {}): Promise<EncryptResult> {
    this.assertOpen();
    const row = this.usable(ref, 'encrypt');
    const version = this.current(row.key_id);
    const key = this.secretKey(row, version, 'encrypt');
    const header = this.header(row.key_id, version);
    const iv = randomBytes(12);
    const aad = Buffer.concat([header, Buffer.from(canonicalJson(options.context ?? {}))]);
    try {
      const cipher = this.session.createCipher({ name: 'AES_GCM', params: new graphene.AesGcmParams(iv, aad, 128) }, key);
      const ct = cipher.once(Buffer.from(plaintext), Buffer.alloc(plaintext.length + 16));
      return { ciphertext: Buffer.concat([header, iv, ct]), keyId: row.key_id, version };
    } catch (e) {
      throw translate(e, 'encrypt', row.key_id);
    }
  }

  async decrypt(ciphertext: Uint8Array, options: EncryptOptions = {}): Promise<DecryptResult> {
    this.assertOpen();
    const buf = Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength);
    if (buf.length < 16 + 12 + 16 || !buf.subarray(0, 4).equals(CT_MAGIC)) {
      throw new KeywardenError(ErrorCode.DECRYPT_FAILED, 'The ciphertext is not a PKCS#11 backend ciphertext or was altered.', { fault: 'user' });
    }
    const keyId = buf.subarray(4, 12).toString('hex');
    const version = buf.readUInt32BE(12);
    const row = this.usable(keyId, 'decrypt');
    const key = this.secretKey(row, version, 'decrypt');
    const aad = Buffer.concat([buf.subarray(0, 16), Buffer.from(canonicalJson(options.context ?? {}))]);
    try {
      const d = this.session.createDecipher({ name: 'AES_GCM', params: new graphene.AesGcmParams(buf.subarray(16, 28), aad, 128) }, key);
      const plaintext = d.once(buf.subarray(28), Buffer.alloc(buf.length));
      return { plaintext, keyId, version };
    } catch (e) {
      throw translate(e, 'decrypt', keyId);
    }
  }

  async generateDataKey(ref: string, options: EncryptOptions & { bytes?: number } = {}): Promise<DataKeyResult> {
    const bytes = options.bytes ?? 32;
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > 1024) throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A data key is 1 to 1024 bytes.', { fault: 'user' });
    const plaintext = randomBytes(bytes);
    const sealed = await this.encrypt(ref, plaintext, options);
    return { plaintext, ciphertext: sealed.ciphertext, keyId: sealed.keyId, ...(sealed.version !== undefined ? { version: sealed.version } : {}) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // No C_Logout: the login is shared by every session of this process; closing the last one ends it.
    this.session.close();
    this.db.close();
    releaseModule(this.options.library);
  }

  private assertOpen(): void {
    if (this.closed) throw new KeywardenError(ErrorCode.BACKEND_UNAVAILABLE, 'The PKCS#11 session is closed.', { fault: 'internal' });
  }
}
