/**
 * Key material exported by Keywarden's own local keystore (`keywarden keys export`), and the
 * token format it is exported in. The keystore writes tokens with `encodeKeywardenToken`; the
 * scanner recognises them with the `keywarden-local-key` detector below. Both live here, in the
 * pure core, so the two can never disagree about the format.
 *
 * Token format, version 1 (like GitHub's 2021 tokens: a prefix to grep for, a checksum to verify):
 *
 * ```
 * kwk_ <base64url(payload), unpadded> <checksum: 6 base62 characters>
 *
 * payload (bytes):
 *   0        u8      format version, 1
 *   1        u8      key id length L, 1..64
 *   2        L       key id, ASCII [A-Za-z0-9._-] (the local keystore's `lk-<uuid>`)
 *   2+L      u32be   key version, >= 1
 *   6+L      u8      key spec code (SPEC_CODES below; 0 is never used)
 *   7+L      u16be   material length M
 *   9+L      M       material: raw bytes for AES/HMAC specs, PKCS#8 DER for RSA/ECC specs
 *   nothing after it
 *
 * checksum = base62(CRC-32(ASCII of "kwk_" + base64url part)), left-padded with 0 to 6 characters
 * ```
 *
 * A candidate is a token only if the checksum matches AND the payload parses exactly (known
 * version, id charset, spec code, material length right for the spec, nothing left over): a random
 * `kwk_…` string passes with odds well below 1 in 2^32.
 *
 * The key id and version in a token are a *claim*: anyone can write a token that names a key. The
 * identity the detector reports is that claim; the keystore confirms a leak by its keyed
 * fingerprint of the material (`LocalBackend.matchLeak`) before anything is revoked.
 *
 * Security: `identify` returns the key id, version and spec only, never the material; a parsed
 * token's material is a fresh buffer the caller must wipe.
 */
import type { CredentialIdentity } from '../../model/finding.js';
import type { Detector } from '../types.js';
import { base62, crc32, decodeBase64 } from './util.js';

const KEYWARDEN_TOKEN_PREFIX = 'kwk_';
const FORMAT_VERSION = 1;
const CHECKSUM_LENGTH = 6;
/** Longest base64url part: an RSA-4096 PKCS#8 key (~2.4 KB) with room to spare. */
const MAX_BODY = 4200;
const MIN_BODY = 40;

/**
 * Spec codes of the token, fixed forever (a code's meaning never changes; new specs get new codes).
 * Deliberately not derived from the order of `KEY_SPECS`.
 */
const SPEC_CODES: Readonly<Record<string, number>> = Object.freeze({
  AES_256: 1,
  AES_128: 2,
  HMAC_256: 3,
  HMAC_384: 4,
  HMAC_512: 5,
  RSA_2048: 6,
  RSA_3072: 7,
  RSA_4096: 8,
  ECC_NIST_P256: 9,
  ECC_NIST_P384: 10,
  ECC_NIST_P521: 11,
  ECC_SECG_P256K1: 12,
});
const SPEC_BY_CODE = new Map(Object.entries(SPEC_CODES).map(([spec, code]) => [code, spec] as const));
/** Exact material lengths of the symmetric specs; asymmetric ones are PKCS#8 DER. */
const RAW_LENGTH: Readonly<Record<string, number>> = { AES_256: 32, AES_128: 16, HMAC_256: 32, HMAC_384: 48, HMAC_512: 64 };
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface KeywardenTokenParts {
  keyId: string;
  version: number;
  /** A `KeySpec` name, e.g. `AES_256`. */
  spec: string;
  /** Raw key bytes (AES, HMAC) or PKCS#8 DER (RSA, ECC). The caller wipes it. */
  material: Uint8Array;
}

function checksum(head: string): string {
  return base62(crc32(head), CHECKSUM_LENGTH);
}

/** Writes a token. Throws a RangeError on parts the format cannot carry (a programming error). */
export function encodeKeywardenToken(parts: KeywardenTokenParts): string {
  const code = SPEC_CODES[parts.spec];
  const id = new TextEncoder().encode(parts.keyId);
  if (!KEY_ID.test(parts.keyId)) throw new RangeError('a token key id is 1 to 64 characters of [A-Za-z0-9._-]');
  if (code === undefined) throw new RangeError('unknown key spec for a token');
  if (!Number.isSafeInteger(parts.version) || parts.version < 1 || parts.version > 0xffffffff) throw new RangeError('a token version is 1 to 2^32-1');
  if (!materialFits(parts.spec, parts.material)) throw new RangeError('the material does not fit the spec');
  const payload = new Uint8Array(9 + id.length + parts.material.length);
  const view = new DataView(payload.buffer);
  payload[0] = FORMAT_VERSION;
  payload[1] = id.length;
  payload.set(id, 2);
  view.setUint32(2 + id.length, parts.version);
  payload[6 + id.length] = code;
  view.setUint16(7 + id.length, parts.material.length);
  payload.set(parts.material, 9 + id.length);
  const body = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64url');
  payload.fill(0);
  const head = `${KEYWARDEN_TOKEN_PREFIX}${body}`;
  return `${head}${checksum(head)}`;
}

function materialFits(spec: string, material: Uint8Array): boolean {
  const raw = RAW_LENGTH[spec];
  if (raw !== undefined) return material.length === raw;
  // PKCS#8 DER: a SEQUENCE, between a P-256 key (~67 bytes) and an RSA-4096 key (~2.4 KB).
  return material.length >= 64 && material.length <= 3000 && material[0] === 0x30;
}

/** True when the last six characters are the checksum of everything before them. */
function hasValidKeywardenChecksum(token: string): boolean {
  if (!token.startsWith(KEYWARDEN_TOKEN_PREFIX) || token.length < KEYWARDEN_TOKEN_PREFIX.length + MIN_BODY + CHECKSUM_LENGTH) return false;
  const head = token.slice(0, -CHECKSUM_LENGTH);
  return checksum(head) === token.slice(-CHECKSUM_LENGTH);
}

/** Parses a token; undefined unless the checksum matches and the payload is exactly well-formed. */
export function parseKeywardenToken(token: string): KeywardenTokenParts | undefined {
  if (token.length > KEYWARDEN_TOKEN_PREFIX.length + MAX_BODY + CHECKSUM_LENGTH || !hasValidKeywardenChecksum(token)) return undefined;
  const body = token.slice(KEYWARDEN_TOKEN_PREFIX.length, -CHECKSUM_LENGTH);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return undefined;
  const bytes = decodeBase64(body);
  if (!bytes || bytes.toString('base64url') !== body) return undefined;
  try {
    if (bytes.length < 9 || bytes[0] !== FORMAT_VERSION) return undefined;
    const idLength = bytes[1]!;
    if (idLength < 1 || idLength > 64 || bytes.length < 9 + idLength) return undefined;
    const keyId = bytes.subarray(2, 2 + idLength).toString('latin1');
    if (!KEY_ID.test(keyId)) return undefined;
    const version = bytes.readUInt32BE(2 + idLength);
    const spec = SPEC_BY_CODE.get(bytes[6 + idLength]!);
    const length = bytes.readUInt16BE(7 + idLength);
    if (version < 1 || spec === undefined || bytes.length !== 9 + idLength + length) return undefined;
    const material = new Uint8Array(bytes.subarray(9 + idLength));
    if (!materialFits(spec, material)) {
      material.fill(0);
      return undefined;
    }
    return { keyId, version, spec, material };
  } finally {
    bytes.fill(0);
  }
}

/** The public parts of a token (`<key id>:<version>`, spec); never the material. */
function keywardenTokenIdentity(token: string): CredentialIdentity | undefined {
  const parts = parseKeywardenToken(token);
  if (!parts) return undefined;
  parts.material.fill(0);
  return { kind: 'keywarden-key', id: `${parts.keyId}:${parts.version}`, subtype: parts.spec };
}

export const keywardenLocalKey: Detector = {
  id: 'keywarden-local-key',
  type: 'keywarden-key',
  title: 'Keywarden local keystore key (exported token)',
  severity: 'critical',
  confidence: 'high',
  keywords: [KEYWARDEN_TOKEN_PREFIX],
  pattern: new RegExp(`(?<![A-Za-z0-9_-])(${KEYWARDEN_TOKEN_PREFIX}[A-Za-z0-9_-]{${MIN_BODY + CHECKSUM_LENGTH},${MAX_BODY + CHECKSUM_LENGTH}})(?![A-Za-z0-9_-])`),
  // An RSA-4096 token is ~3.2 KB on one line: look that far past the prefix.
  window: { before: 16, after: KEYWARDEN_TOKEN_PREFIX.length + MAX_BODY + CHECKSUM_LENGTH + 16 },
  verify: (s) => {
    const parts = parseKeywardenToken(s);
    parts?.material.fill(0);
    return parts !== undefined;
  },
  identify: (s) => keywardenTokenIdentity(s),
};

export const keywardenDetectors: readonly Detector[] = [keywardenLocalKey];
