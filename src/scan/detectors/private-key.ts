/**
 * Private keys: PEM (PKCS#1 RSA, SEC1 EC, DSA, PKCS#8), encrypted PEM (PKCS#8 and legacy
 * `Proc-Type: 4,ENCRYPTED`), OpenSSH, PuTTY PPK and OpenPGP secret-key blocks. Blocks may sit
 * in a file, in a template string, or inside a JSON/ENV string with `\n` escapes.
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

/** A line break in a file, or an escaped one inside a string. */
const NL = String.raw`(?:\r?\n|\\r?\\n)`;
/** Base64 body characters, whitespace, and the backslashes of `\n` escapes. */
const BODY = String.raw`[A-Za-z0-9+/=\s\\]`;

/** The base64 of a PEM body with whitespace and `\n` escapes removed. */
function pemBase64(block: string): string {
  // Lines may be indented (a YAML block scalar): the END line too.
  const lines = block.replace(/\\r|\\n/g, '\n').split(/\r?\n/).map((l) => l.trim());
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
    String.raw`(?<secret>-----BEGIN (?<label>(?:RSA |EC |DSA )?)PRIVATE KEY-----${NL}${BODY}{60,16000}-----END \k<label>PRIVATE KEY-----)`,
  ),
  multiline: true,
  verify: (s) => plausibleDerBody(s, 100),
  identify: (s) => pemPrivateKeyIdentity(s),
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
    String.raw`(?<secret>-----BEGIN ENCRYPTED PRIVATE KEY-----${NL}${BODY}{60,16000}-----END ENCRYPTED PRIVATE KEY-----` +
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
  pattern: new RegExp(String.raw`(?<secret>-----BEGIN OPENSSH PRIVATE KEY-----${NL}${BODY}{60,16000}-----END OPENSSH PRIVATE KEY-----)`),
  multiline: true,
  verify: (s) => {
    const b64 = pemBase64(s);
    if (b64.length < 100) return false;
    const bytes = decodeBase64(b64);
    return bytes !== undefined && bytes.subarray(0, OPENSSH_MAGIC.length).toString('latin1') === OPENSSH_MAGIC;
  },
  identify: (s) => opensshPrivateKeyIdentity(s),
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
    /(?<secret>PuTTY-User-Key-File-[23]: [A-Za-z0-9@.-]{3,64}\r?\nEncryption: [A-Za-z0-9-]{1,32}\r?\n(?:(?!PuTTY-User-Key-File-)[^\0]){20,16000}?Private-MAC: [0-9a-fA-F]{40,64})/,
  multiline: true,
  verify: (s) => /\nPrivate-Lines: \d+\r?\n[A-Za-z0-9+/=]{16,}/.test(s),
  identify: (s) => puttyPrivateKeyIdentity(s),
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
    const body = s
      .replace(/\\r|\\n/g, '\n')
      .split(/\r?\n/)
      .filter((l) => /^[A-Za-z0-9+/]{40,}={0,2}$/.test(l.trim()))
      .join('');
    return body.length >= 200 && shannonEntropy(body) >= 4.5;
  },
  docs: 'https://www.rfc-editor.org/rfc/rfc4880#section-6.2',
};

export const privateKeyDetectors: readonly Detector[] = [privateKeyPem, privateKeyPemEncrypted, privateKeyOpenssh, privateKeyPutty, privateKeyPgp];
