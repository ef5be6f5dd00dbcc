/**
 * Private keys: PEM (PKCS#1 RSA, SEC1 EC, DSA, PKCS#8), encrypted PEM (PKCS#8 and legacy
 * `Proc-Type: 4,ENCRYPTED`), OpenSSH, PuTTY PPK and OpenPGP secret-key blocks, the base64 of a
 * whole PEM file (`LS0tLS1CRUdJTi…`, as Kubernetes secrets and CI variables hold them), and
 * keystore files (PKCS#12, JKS: `read-file.ts` recognises them by magic bytes and hands the
 * engine a one-line marker, so detector selection, allows and baselines apply as to any finding).
 *
 * Blocks may sit in a file, a template string, a YAML block scalar (indented), inside a JSON,
 * YAML, ENV or Terraform string with `\n` (or `\r\n`) escapes and `\/`, with CRLF line ends,
 * or split across concatenated string literals (`"…\n" + "…"`, Python's implicit concatenation,
 * a notebook's array of lines). One finding per key however it is wrapped: the body's characters
 * never include `-`, so a match never runs past the block's END line.
 *
 * The secret is the whole block, BEGIN line to END line. Bodies are checked so that `...`,
 * `<your key>` and other placeholders between real-looking armour lines do not fire.
 *
 * Identity: the public half of the key pair (`public-key.ts`): its SPKI SHA-256 and SSH
 * fingerprint, read from the key (PEM), or from the public key an OpenSSH or PuTTY file keeps in
 * the clear (so an OpenSSH key encrypted with a passphrase is identified too). An encrypted PEM
 * key hides its public half: its identity only says `encrypted`. OpenPGP blocks get none.
 */
import type { Detector } from '../types.js';
import { opensshPrivateKeyIdentity, pemPrivateKeyIdentity, puttyPrivateKeyIdentity } from './public-key.js';
import { decodeBase64, shannonEntropy } from './util.js';

const DOCS = 'https://www.rfc-editor.org/rfc/rfc7468';

/** A line break in a file, or an escaped one inside a string (`\n`, `\r\n`). */
const NL = String.raw`(?:\r?\n|(?:\\r)?\\n)`;
/** What may follow a BEGIN line: a line break, or the quote closing a string literal. */
const AFTER_BEGIN = String.raw`(?:${NL}|["'\x60])`;
/**
 * Base64 body characters, whitespace, the backslashes of `\n` escapes, and what joins string
 * literals (quotes, `+`, `,`, `.`). Never `-`, so a body cannot run over an armour line.
 */
const BODY = String.raw`[A-Za-z0-9+/=\s\\"'\x60,.]`;

/**
 * A block as plain lines, however it was written: escapes (`\n`, `\r\n`, `\/`) undone, the
 * quotes and operators joining string literals (`"…" + "…"`, `"…",\n "…"`) removed, each line
 * trimmed (a YAML block scalar indents them), blank lines dropped.
 */
export function cleanKeyBlock(block: string): string {
  return block
    .replace(/\\r\\n|\\n|\\r/g, '\n')
    .replace(/\\\//g, '/')
    .replace(/["'\x60][ \t\r\n]{0,200}[+,.]?[ \t\r\n]{0,200}["'\x60]/g, '\n')
    .replace(/\r/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .join('\n');
}

/** The base64 of a PEM body with whitespace and `\n` escapes removed. */
function pemBase64(block: string): string {
  const lines = cleanKeyBlock(block).split('\n');
  // Drop armour lines and RFC 1421 headers (`Proc-Type:`, `DEK-Info:`).
  return lines
    .filter((l) => !l.startsWith('-----') && !/^[A-Za-z-]+:/.test(l))
    .join('')
    .replace(/\s+/g, '');
}

function plausibleDerBody(block: string, minLength: number): boolean {
  const b64 = pemBase64(block);
  if (!/^[A-Za-z0-9+/]+=*$/.test(b64)) return false;
  // DER starts with a SEQUENCE (0x30), which is `M` in base64.
  if (!b64.startsWith('M')) return false;
  // Ed25519 PKCS#8 keys are only 64 characters; everything else is longer.
  if (b64.length < (b64.startsWith('MC4CAQAw') ? 60 : minLength)) return false;
  return shannonEntropy(b64) >= 4.5;
}

const privateKeyPem: Detector = {
  id: 'private-key-pem',
  type: 'private-key',
  title: 'Private key (PEM: RSA, EC, DSA or PKCS#8)',
  severity: 'critical',
  confidence: 'high',
  keywords: ['private key-----'],
  pattern: new RegExp(
    String.raw`(?<secret>-----BEGIN (?<label>(?:RSA |EC |DSA )?)PRIVATE KEY-----${AFTER_BEGIN}${BODY}{60,16000}-----END \k<label>PRIVATE KEY-----)`,
  ),
  multiline: true,
  verify: (s) => plausibleDerBody(s, 100),
  identify: (s) => pemPrivateKeyIdentity(cleanKeyBlock(s)),
  docs: DOCS,
};

const privateKeyPemEncrypted: Detector = {
  id: 'private-key-pem-encrypted',
  type: 'private-key',
  title: 'Encrypted private key (PEM)',
  severity: 'high',
  confidence: 'high',
  keywords: ['private key-----'],
  pattern: new RegExp(
    String.raw`(?<secret>-----BEGIN ENCRYPTED PRIVATE KEY-----${AFTER_BEGIN}${BODY}{60,16000}-----END ENCRYPTED PRIVATE KEY-----` +
      String.raw`|-----BEGIN (?<label>RSA |EC |DSA )PRIVATE KEY-----${NL}Proc-Type: 4,ENCRYPTED${NL}DEK-Info: [A-Za-z0-9-]{3,40},[0-9A-Fa-f]{16,64}${NL}{1,2}${BODY}{60,16000}-----END \k<label>PRIVATE KEY-----)`,
  ),
  multiline: true,
  verify: (s) => {
    const b64 = pemBase64(s);
    return /^[A-Za-z0-9+/]+=*$/.test(b64) && b64.length >= 100 && shannonEntropy(b64) >= 4.5;
  },
  // No public key without the passphrase.
  identify: () => ({ kind: 'public-key', subtype: 'encrypted' }),
  docs: DOCS,
};

const OPENSSH_MAGIC = 'openssh-key-v1\0';

const privateKeyOpenssh: Detector = {
  id: 'private-key-openssh',
  type: 'private-key',
  title: 'OpenSSH private key',
  severity: 'critical',
  confidence: 'high',
  keywords: ['openssh private key'],
  pattern: new RegExp(String.raw`(?<secret>-----BEGIN OPENSSH PRIVATE KEY-----${AFTER_BEGIN}${BODY}{60,16000}-----END OPENSSH PRIVATE KEY-----)`),
  multiline: true,
  verify: (s) => {
    const b64 = pemBase64(s);
    if (b64.length < 100) return false;
    const bytes = decodeBase64(b64);
    return bytes !== undefined && bytes.subarray(0, OPENSSH_MAGIC.length).toString('latin1') === OPENSSH_MAGIC;
  },
  identify: (s) => opensshPrivateKeyIdentity(cleanKeyBlock(s)),
  docs: 'https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.key',
};

const privateKeyPutty: Detector = {
  id: 'private-key-putty',
  type: 'private-key',
  title: 'PuTTY private key (PPK)',
  severity: 'critical',
  confidence: 'high',
  keywords: ['putty-user-key-file-'],
  // The body may not run into another key's header: without that, each of a run of headers
  // with no MAC would make the lazy body scan 16,000 characters (quadratic in practice).
  pattern:
    new RegExp(
      String.raw`(?<secret>PuTTY-User-Key-File-[23]: [A-Za-z0-9@.-]{3,64}${NL}Encryption: [A-Za-z0-9-]{1,32}${NL}(?:(?!PuTTY-User-Key-File-)[^\0]){20,16000}?Private-MAC: [0-9a-fA-F]{40,64})`,
    ),
  multiline: true,
  verify: (s) => /\nPrivate-Lines: \d+\n[A-Za-z0-9+/=]{16,}/.test(cleanKeyBlock(s)),
  identify: (s) => puttyPrivateKeyIdentity(cleanKeyBlock(s)),
  docs: 'https://the.earth.li/~sgtatham/putty/0.78/htmldoc/AppendixC.html',
};

const privateKeyPgp: Detector = {
  id: 'private-key-pgp',
  type: 'private-key',
  title: 'OpenPGP private key block',
  severity: 'critical',
  confidence: 'high',
  keywords: ['pgp private key block'],
  // The body may not run into another BEGIN line, or a run of BEGIN lines with no END would
  // make each one scan 60,000 characters.
  pattern: /(?<secret>-----BEGIN PGP PRIVATE KEY BLOCK-----(?:(?!-----BEGIN PGP PRIVATE KEY BLOCK-----)[^\0]){100,60000}?-----END PGP PRIVATE KEY BLOCK-----)/,
  multiline: true,
  window: { before: 64, after: 65536 },
  verify: (s) => {
    const body = cleanKeyBlock(s)
      .split('\n')
      .filter((l) => /^[A-Za-z0-9+/]{40,}={0,2}$/.test(l.trim()))
      .join('');
    return body.length >= 200 && shannonEntropy(body) >= 4.5;
  },
  docs: 'https://www.rfc-editor.org/rfc/rfc4880#section-6.2',
};

/** The armoured private-key detectors, which also judge what a base64 PEM decodes to. */
const ARMOURED = [privateKeyPem, privateKeyPemEncrypted, privateKeyOpenssh, privateKeyPutty, privateKeyPgp] as const;

/** Decoded text of a base64 PEM, and the first armoured detector that accepts a block in it. */
function decodedKey(secret: string): { detector: Detector; block: string } | undefined {
  const bytes = decodeBase64(secret.replace(/\s+/g, ''));
  if (!bytes || bytes.length > 48 * 1024) return undefined;
  const text = bytes.toString('latin1');
  for (const d of ARMOURED) {
    const re = new RegExp((d.pattern as RegExp).source, 'g');
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const block = m.groups?.secret ?? m[0];
      if (!d.verify || d.verify(block, { match: m, text, index: m.index })) return { detector: d, block };
    }
  }
  return undefined;
}

const privateKeyPemBase64: Detector = {
  id: 'private-key-pem-base64',
  type: 'private-key',
  title: 'Private key (base64 of a PEM or OpenSSH file)',
  severity: 'critical',
  confidence: 'high',
  // The base64 of `-----BEGIN` at the start of the encoded text.
  keywords: ['ls0tls1crudjti'],
  // One line (a Kubernetes `data:` value, a CI variable), or wrapped as `base64` wraps (64 or 76).
  pattern:
    /(?<![A-Za-z0-9+/])(?<secret>LS0tLS1CRUdJTi(?:[A-Za-z0-9+/]{200,30000}={0,2}|[A-Za-z0-9+/]{50,62}(?:\r?\n[A-Za-z0-9+/]{64,76}(?=\r?\n)){1,500}\r?\n[A-Za-z0-9+/]{1,76}={0,2}(?=[\s"',;]|$)))/,
  multiline: true,
  window: { before: 64, after: 40 * 1024 },
  verify: (s) => decodedKey(s) !== undefined,
  identify: (s) => {
    const k = decodedKey(s);
    return k?.detector.identify ? k.detector.identify(k.block, { match: [k.block] as unknown as RegExpExecArray, text: k.block, index: 0 }) : undefined;
  },
  docs: DOCS,
};

/** The kinds of keystore `read-file.ts` recognises; the marker it scans names one. */
export const KEYSTORE_KINDS = ['pkcs12', 'jks', 'jceks', 'bks'] as const;
export type KeystoreKind = (typeof KEYSTORE_KINDS)[number];

/**
 * The one-line marker `read-file.ts` scans for a keystore file (a PKCS#12 `.p12`/`.pfx`, a Java
 * `.jks`/`.keystore`): its kind and the SHA-256 of its bytes, so the finding's fingerprint names
 * that keystore. Only the catalogue's `private-key-keystore` detector reads it.
 */
export function keystoreMarker(kind: KeystoreKind, sha256Hex: string): string {
  return `keywarden-keystore:${kind}:sha256:${sha256Hex}`;
}

const privateKeyKeystore: Detector = {
  id: 'private-key-keystore',
  type: 'private-key',
  title: 'Keystore file (PKCS#12, JKS) holding private keys',
  severity: 'high',
  confidence: 'medium',
  keywords: ['keywarden-keystore:'],
  pattern: new RegExp(String.raw`(?<secret>keywarden-keystore:(?:${KEYSTORE_KINDS.join('|')}):sha256:[0-9a-f]{64})(?![0-9a-f])`),
  docs: 'https://www.rfc-editor.org/rfc/rfc7292',
};

export const privateKeyDetectors: readonly Detector[] = [...ARMOURED, privateKeyPemBase64, privateKeyKeystore];
