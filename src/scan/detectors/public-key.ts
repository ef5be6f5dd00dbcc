/**
 * The public identity of a private key found in text: what names the key pair without its
 * secret half. `id` is `sha256:` + hex SHA-256 of the public key's SPKI DER (what X.509, KMSs and
 * `openssl pkey -pubout -outform DER | sha256sum` agree on); `sshFingerprint` is OpenSSH's
 * `SHA256:` + unpadded base64 of SHA-256 of the key's SSH wire format (what `ssh-keygen -lf`,
 * GitHub's deploy and SSH key lists show); `subtype` the algorithm (`rsa-2048`, `ec-p256`,
 * `ed25519`, …).
 *
 * Pure: `node:crypto` parses, nothing is read or written. Every parse is bounded (`MAX_INPUT`)
 * and a malformed block gives undefined, never an exception.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { CredentialIdentity } from '../types.js';
import { decodeBase64 } from './util.js';

/** Longest block parsed (characters); a private key of any common size is far smaller. */
const MAX_INPUT = 64 * 1024;
/** Keys an OpenSSH file may declare; real ones hold one. */
const MAX_OPENSSH_KEYS = 16;

/**
 * A block as written in a file, a JSON/YAML string (`\n` escapes, `\/`) or indented YAML, as
 * plain lines: escapes become line breaks, `\r` goes, each line is trimmed, blank lines dropped.
 */
function normaliseBlock(block: string): string[] {
  return block
    .replace(/\\r\\n|\\n|\\r/g, '\n')
    .replace(/\\\//g, '/')
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

/** The base64 body between the armour lines, without headers (`Proc-Type:`, `Comment:`). */
function armouredBody(lines: readonly string[]): string {
  return lines.filter((l) => !l.startsWith('-----') && !/^[A-Za-z-]+:/.test(l)).join('');
}

function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

/** OpenSSH's fingerprint of a wire-format public key blob. */
function sshFingerprintOf(blob: Uint8Array): string {
  return `SHA256:${sha256(blob).toString('base64').replace(/=+$/, '')}`;
}

// ---------------------------------------------------------------------------------------------
// SSH wire format (RFC 4251 §5, RFC 5656 §3.1, RFC 8709 §4)
// ---------------------------------------------------------------------------------------------

function sshString(data: Uint8Array | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** An unsigned big-endian integer as an SSH mpint: minimal, with a 0 byte if the top bit is set. */
function sshMpint(unsigned: Uint8Array): Buffer {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  const v = Buffer.from(unsigned.subarray(i));
  return sshString(v.length > 0 && v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

/** A bounds-checked reader over SSH wire data; every read past the end gives undefined. */
class WireReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}
  get done(): boolean {
    return this.pos === this.buf.length;
  }
  u32(): number | undefined {
    if (this.pos + 4 > this.buf.length) return undefined;
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(max = this.buf.length): Buffer | undefined {
    const n = this.u32();
    if (n === undefined || n > max || this.pos + n > this.buf.length) return undefined;
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  text(max: number): string | undefined {
    const b = this.bytes(max);
    return b === undefined ? undefined : b.toString('latin1');
  }
}

const CURVES: Record<string, { ssh: string; jwk: string; size: number; subtype: string }> = {
  prime256v1: { ssh: 'nistp256', jwk: 'P-256', size: 32, subtype: 'ec-p256' },
  secp384r1: { ssh: 'nistp384', jwk: 'P-384', size: 48, subtype: 'ec-p384' },
  secp521r1: { ssh: 'nistp521', jwk: 'P-521', size: 66, subtype: 'ec-p521' },
};
const CURVE_BY_SSH = new Map(Object.values(CURVES).map((c) => [c.ssh, c]));

function b64url(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

function fromB64url(s: string | undefined): Buffer | undefined {
  return typeof s === 'string' && /^[A-Za-z0-9_-]*$/.test(s) ? Buffer.from(s, 'base64url') : undefined;
}

/** The SSH wire blob of a public key, where SSH has a format for it (RSA, NIST P curves, Ed25519). */
function sshBlobOf(pub: KeyObject): Buffer | undefined {
  const type = pub.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec' && type !== 'ed25519') return undefined;
  const jwk: JsonWebKey = pub.export({ format: 'jwk' });
  if (type === 'rsa') {
    const n = fromB64url(jwk.n);
    const e = fromB64url(jwk.e);
    return n && e ? Buffer.concat([sshString('ssh-rsa'), sshMpint(e), sshMpint(n)]) : undefined;
  }
  if (type === 'ed25519') {
    const x = fromB64url(jwk.x);
    return x?.length === 32 ? Buffer.concat([sshString('ssh-ed25519'), sshString(x)]) : undefined;
  }
  const curve = CURVES[pub.asymmetricKeyDetails?.namedCurve ?? ''];
  const x = fromB64url(jwk.x);
  const y = fromB64url(jwk.y);
  if (!curve || !x || !y || x.length > curve.size || y.length > curve.size) return undefined;
  const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(curve.size - x.length), x, Buffer.alloc(curve.size - y.length), y]);
  return Buffer.concat([sshString(`ecdsa-sha2-${curve.ssh}`), sshString(curve.ssh), sshString(point)]);
}

function subtypeOf(key: KeyObject): string | undefined {
  const d = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
    case 'rsa-pss':
    case 'dsa':
      return d.modulusLength ? `${key.asymmetricKeyType}-${d.modulusLength}` : key.asymmetricKeyType;
    case 'ec': {
      const curve = d.namedCurve ?? 'unknown';
      return CURVES[curve]?.subtype ?? `ec-${curve.replace(/[^A-Za-z0-9]/g, '').toLowerCase().slice(0, 32)}`;
    }
    case undefined:
      return undefined;
    default:
      return key.asymmetricKeyType;
  }
}

const CHALLENGE = Buffer.from('keywarden: proof that the private key matches its public key');

/**
 * True when `priv` signs a fixed challenge that `pub` verifies: the private part of the file is the
 * one the public key belongs to (a random scalar next to someone's real public point fails).
 */
function proves(priv: KeyObject, pub: KeyObject): boolean {
  try {
    const t = priv.asymmetricKeyType;
    const digest = t === 'ed25519' || t === 'ed448' ? null : 'sha256';
    return verify(digest, CHALLENGE, pub, sign(digest, CHALLENGE, priv));
  } catch {
    return false;
  }
}

/** The identity of a public key (or of the public half of a private key, `proven` when it signs). */
function publicKeyIdentity(key: KeyObject): CredentialIdentity | undefined {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const proven = key.type === 'private' && proves(key, pub);
  if (pub.type !== 'public') return undefined;
  const spki = pub.export({ type: 'spki', format: 'der' });
  const subtype = subtypeOf(pub);
  let blob: Buffer | undefined;
  try {
    blob = sshBlobOf(pub);
  } catch {
    blob = undefined;
  }
  return {
    kind: 'public-key',
    id: `sha256:${sha256(spki).toString('hex')}`,
    ...(subtype ? { subtype } : {}),
    ...(blob ? { sshFingerprint: sshFingerprintOf(blob) } : {}),
    ...(proven ? { proven: true } : {}),
  };
}

/**
 * The identity of an SSH wire-format public key blob (from an OpenSSH or PuTTY private key
 * file). RSA, ECDSA on NIST curves and Ed25519 become a key object, so they get the SPKI `id`
 * too; DSA and FIDO (`sk-`) keys get the SSH fingerprint only.
 */
export function sshBlobIdentity(blob: Buffer): CredentialIdentity | undefined {
  const r = new WireReader(blob);
  const type = r.text(64);
  if (type === undefined) return undefined;
  let jwk: JsonWebKey | undefined;
  if (type === 'ssh-rsa') {
    const e = r.bytes(64);
    const n = r.bytes(2048);
    if (!e || !n || !r.done) return undefined;
    const strip = (b: Buffer): Buffer => b.subarray(b.findIndex((x) => x !== 0) >>> 0);
    jwk = { kty: 'RSA', n: b64url(strip(n)), e: b64url(strip(e)) };
  } else if (type.startsWith('ecdsa-sha2-')) {
    const curve = CURVE_BY_SSH.get(type.slice('ecdsa-sha2-'.length));
    const name = r.text(32);
    const q = r.bytes(1 + 2 * 66);
    if (!curve || name !== curve.ssh || !q || !r.done || q.length !== 1 + 2 * curve.size || q[0] !== 4) return undefined;
    jwk = { kty: 'EC', crv: curve.jwk, x: b64url(q.subarray(1, 1 + curve.size)), y: b64url(q.subarray(1 + curve.size)) };
  } else if (type === 'ssh-ed25519') {
    const x = r.bytes(32);
    if (!x || x.length !== 32 || !r.done) return undefined;
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64url(x) };
  } else if (type === 'ssh-dss') {
    const p = r.bytes(2048);
    if (!p || !r.bytes(2048) || !r.bytes(2048) || !r.bytes(2048) || !r.done) return undefined;
    const bytes = p.length - (p[0] === 0 ? 1 : 0);
    return { kind: 'public-key', subtype: `dsa-${bytes * 8}`, sshFingerprint: sshFingerprintOf(blob) };
  } else if (type === 'sk-ssh-ed25519@openssh.com' || type === 'sk-ecdsa-sha2-nistp256@openssh.com') {
    return { kind: 'public-key', subtype: type.startsWith('sk-ssh-ed25519') ? 'sk-ed25519' : 'sk-ec-p256', sshFingerprint: sshFingerprintOf(blob) };
  } else {
    return undefined;
  }
  return publicKeyIdentity(createPublicKey({ key: jwk, format: 'jwk' }));
}

// ---------------------------------------------------------------------------------------------
// The private key formats
// ---------------------------------------------------------------------------------------------

function guarded(block: string, parse: (block: string) => CredentialIdentity | undefined): CredentialIdentity | undefined {
  if (block.length > MAX_INPUT) return undefined;
  try {
    return parse(block);
  } catch {
    return undefined;
  }
}

/** An unencrypted PEM private key: PKCS#1 (`RSA`), SEC1 (`EC`), `DSA`, PKCS#8 (RSA, EC, Ed25519, …). */
export function pemPrivateKeyIdentity(block: string): CredentialIdentity | undefined {
  return guarded(block, (b) => {
    const lines = normaliseBlock(b);
    const label = /^-----BEGIN ((?:RSA |EC |DSA )?PRIVATE KEY)-----$/.exec(lines[0] ?? '')?.[1];
    if (!label || lines.some((l) => /^Proc-Type:/i.test(l))) return undefined;
    const body = armouredBody(lines);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
    const pem = `-----BEGIN ${label}-----\n${body.replace(/.{1,64}/g, '$&\n')}-----END ${label}-----\n`;
    return publicKeyIdentity(createPrivateKey({ key: pem, format: 'pem' }));
  });
}

const OPENSSH_MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

/**
 * An OpenSSH private key (`openssh-key-v1`): the public key sits unencrypted in the header
 * (magic, cipher, KDF, KDF options, key count, then the public key blobs), so a key encrypted
 * with a passphrase is identified too. The first key names the file.
 */
export function opensshPrivateKeyIdentity(block: string): CredentialIdentity | undefined {
  return guarded(block, (b) => {
    const bytes = decodeBase64(armouredBody(normaliseBlock(b)));
    if (!bytes || bytes.length < OPENSSH_MAGIC.length || !bytes.subarray(0, OPENSSH_MAGIC.length).equals(OPENSSH_MAGIC)) return undefined;
    const r = new WireReader(bytes.subarray(OPENSSH_MAGIC.length));
    if (r.text(64) === undefined || r.text(64) === undefined || r.bytes(1024) === undefined) return undefined;
    const nkeys = r.u32();
    if (nkeys === undefined || nkeys < 1 || nkeys > MAX_OPENSSH_KEYS) return undefined;
    const blob = r.bytes(4096);
    return blob ? sshBlobIdentity(blob) : undefined;
  });
}

/**
 * A PuTTY private key (PPK v2 or v3): the `Public-Lines` are the base64 of the public key's
 * SSH wire format, never encrypted, and must be of the algorithm the first line names.
 */
export function puttyPrivateKeyIdentity(block: string): CredentialIdentity | undefined {
  return guarded(block, (b) => {
    const lines = normaliseBlock(b);
    const algorithm = /^PuTTY-User-Key-File-[23]: (\S{1,64})$/.exec(lines[0] ?? '')?.[1];
    const at = lines.findIndex((l) => /^Public-Lines: \d{1,3}$/.test(l));
    if (!algorithm || at < 0) return undefined;
    const count = Number(lines[at]!.slice('Public-Lines: '.length));
    const body = lines.slice(at + 1, at + 1 + count);
    if (count < 1 || body.length !== count || body.some((l) => !/^[A-Za-z0-9+/]+={0,2}$/.test(l))) return undefined;
    const blob = decodeBase64(body.join(''));
    if (!blob || new WireReader(blob).text(64) !== algorithm) return undefined;
    return sshBlobIdentity(blob);
  });
}
