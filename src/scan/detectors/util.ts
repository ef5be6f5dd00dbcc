/**
 * Pure helpers shared by the detectors: entropy, checksums, placeholder and example-value
 * rejection. Everything here runs on candidate secrets only (after a regex matched), so it may
 * be a little thorough, but it never does I/O.
 */
import { createHash } from 'node:crypto';
import { shannonEntropy } from '../entropy.js';

export { shannonEntropy };

// ---------------------------------------------------------------------------------------------
// CRC32 and base62: the checksum of GitHub's (and npm's) 2021 token format
// ---------------------------------------------------------------------------------------------

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, the zlib one) of a string's UTF-8 bytes, or of bytes. Unsigned. */
export function crc32(input: string | Uint8Array): number {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Base62 of a non-negative integer, left-padded with `0` to `width`.
 *
 * @example base62(61) === 'z'; base62(62, 3) === '010'
 */
export function base62(n: number, width = 0): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError('base62 takes a non-negative safe integer');
  let out = '';
  let v = n;
  do {
    out = BASE62_ALPHABET[v % 62]! + out;
    v = Math.floor(v / 62);
  } while (v > 0);
  return out.padStart(width, '0');
}

/** The 6-character checksum GitHub and npm append to a token's random part. */
export function tokenChecksum(random: string): string {
  return base62(crc32(random), 6);
}

/**
 * True when `body` (a token without its prefix: 30 random characters then 6 checksum
 * characters) carries a valid CRC32 checksum.
 */
export function hasValidTokenChecksum(body: string): boolean {
  if (body.length !== 36) return false;
  return tokenChecksum(body.slice(0, 30)) === body.slice(30);
}

// ---------------------------------------------------------------------------------------------
// Placeholders and documented example values
// ---------------------------------------------------------------------------------------------

/** Substrings that mark a value as a placeholder or a documentation example. Lower case. */
const PLACEHOLDER_WORDS = [
  'example',
  'sample',
  'placeholder',
  'changeme',
  'change_me',
  'change-me',
  'changeit',
  'your_',
  'your-',
  'yourkey',
  'yourtoken',
  'yoursecret',
  'yourpassword',
  'dummy',
  'redacted',
  'notreal',
  'not_real',
  'not-a-real',
  'fake_',
  'fakekey',
  'faketoken',
  'replace_me',
  'replaceme',
  'insert_',
  'insert-',
  'todo',
  'fixme',
  'foobar',
  'lorem',
  'ipsum',
  'secret_here',
  'token_here',
  'key_here',
  'password_here',
];

/** Whole values (lower case) that are never a real secret. */
const PLACEHOLDER_VALUES = new Set([
  'password',
  'passwd',
  'pass',
  'pwd',
  'secret',
  'token',
  'apikey',
  'api_key',
  'api-key',
  'key',
  'test',
  'testing',
  'admin',
  'root',
  'user',
  'username',
  'guest',
  'default',
  'none',
  'null',
  'nil',
  'undefined',
  'true',
  'false',
  'empty',
  'string',
  'value',
  'mypassword',
  'mysecret',
  'letmein',
  'qwerty',
  'hunter2',
  'postgres',
  'mysql',
  'redis',
  'mongo',
  'mongodb',
  'rabbitmq',
  'guest',
  'sa',
  'private',
  'xxx',
  'required',
  'optional',
]);

/** Template and lookup syntaxes: the value is a reference to a secret, not the secret. */
const REFERENCE_PATTERNS: readonly RegExp[] = [
  /\$\{[^}]{0,80}\}/, // ${VAR} ${{ secrets.X }}
  /\{\{[^}]{0,80}\}\}/, // {{ var }}
  /\{%[^%]{0,80}%\}/, // {% var %}
  /^<[^<>]{1,60}>$/, // <token>
  /^\[[^[\]]{1,60}\]$/, // [token]
  /^\{[A-Za-z_][\w.-]{0,60}\}$/, // {token}
  /^%[A-Za-z_][\w]{0,60}%$/, // %TOKEN%
  /^\$[A-Za-z_][\w]{0,60}$/, // $TOKEN
  /^\$\([^)]{1,80}\)$/, // $(cmd)
  /process\.env\b/,
  /import\.meta\.env\b/,
  /\bos\.environ\b/,
  /\bos\.getenv\b/,
  /\bgetenv\s*\(/i,
  /\bENV\[/,
  /\bSystem\.getenv\b/,
  /^env\(/i,
  /^secrets?\./i, // secrets.FOO in actions/config
  /^vault:/i,
  /^arn:aws:secretsmanager:/i,
];

/**
 * True when a candidate value is a placeholder, a reference to a secret held elsewhere, or an
 * obviously made-up value: `xxxx`, `0000`, `your_api_key`, `<token>`, `${VAR}`, `{{ var }}`,
 * `process.env.X`, `changeme`, anything containing `example`, a run of one character, an
 * ascending run of the alphabet or digits.
 *
 * @example isPlaceholder('sk_live_xxxxxxxxxxxxxxxxxxxx') === true
 */
export function isPlaceholder(value: string): boolean {
  const v = value.trim();
  if (v.length === 0) return true;
  const lower = v.toLowerCase();
  if (PLACEHOLDER_VALUES.has(lower)) return true;
  for (const w of PLACEHOLDER_WORDS) if (lower.includes(w)) return true;
  for (const re of REFERENCE_PATTERNS) if (re.test(v)) return true;
  // Masked or elided: xxxx, XXXX, ****, ...., ____, ----, 00000
  if (/x{4,}|\*{3,}|\.{3,}|…|_{4,}|-{5,}|#{4,}|0{5,}/i.test(v)) return true;
  // A long run of one character (aaaaaa, 111111).
  if (/(.)\1{5,}/.test(v)) return true;
  // Only one or two distinct characters over a long value.
  if (v.length >= 8 && new Set(v).size <= 2) return true;
  if (hasSequentialRun(lower, 6)) return true;
  return false;
}

/** True if `s` contains `n` or more consecutive ascending (or descending) letters or digits. */
export function hasSequentialRun(s: string, n: number): boolean {
  let up = 1;
  let down = 1;
  for (let i = 1; i < s.length; i++) {
    const a = s.charCodeAt(i - 1);
    const b = s.charCodeAt(i);
    const alnum = isAlnum(a) && isAlnum(b);
    up = alnum && b === a + 1 ? up + 1 : 1;
    down = alnum && b === a - 1 ? down + 1 : 1;
    if (up >= n || down >= n) return true;
  }
  return false;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/**
 * SHA-256 (hex) of documented, public example credentials that appear in vendors' docs and in
 * countless READMEs and test suites. Stored as hashes so this file holds no credential-shaped
 * literal. AWS's documented pair is also caught by `isPlaceholder` (it contains `EXAMPLE`).
 */
const KNOWN_EXAMPLE_SHA256 = new Set([
  // AWS access key ID from the IAM docs.
  sha256Hex(['AKIA', 'IOSFODNN7', 'EXAMPLE'].join('')),
  // AWS secret access key from the IAM docs.
  sha256Hex(['wJalrXUtnFEMI', 'K7MDENG', 'bPxRfiCYEXAMPLEKEY'].join('/')),
  // Stripe's public test-mode key from its API reference.
  '2cafc0970149a84f3b9e62eaf169f36f59907a3b3e31f7b82e68c69cd27f7326',
  // The Azurite / Azure Storage Emulator account key, published in Microsoft's docs.
  '0011cc25eb4320717494d2703e8cba85743e71b500283c21c8b88147992f9059',
]);

function sha256Hex(s: string): string {
  return createHash('sha256').update(s, 'utf8').digest('hex');
}

/** True for a documented, public example credential (AWS's `…EXAMPLE` pair, Stripe's docs key). */
export function isKnownExample(value: string): boolean {
  if (/example/i.test(value)) return true;
  return KNOWN_EXAMPLE_SHA256.has(sha256Hex(value));
}

// ---------------------------------------------------------------------------------------------
// Shapes that are not secrets
// ---------------------------------------------------------------------------------------------

const HEX_HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{56}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGRITY = /^(?:sha(?:1|256|384|512)|md5)[-:]/i;

/** MD5, SHA-1, SHA-2 digests in hex, and SRI `sha512-…` integrity strings. */
export function isHexHash(value: string): boolean {
  return HEX_HASH.test(value) || INTEGRITY.test(value);
}

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** Only hex digits (any length). */
export function isHex(value: string): boolean {
  return /^[0-9a-f]+$/i.test(value);
}

/** Character classes present: lower, upper, digit, other. */
function charClasses(value: string): { lower: boolean; upper: boolean; digit: boolean; other: boolean } {
  return {
    lower: /[a-z]/.test(value),
    upper: /[A-Z]/.test(value),
    digit: /[0-9]/.test(value),
    other: /[^A-Za-z0-9]/.test(value),
  };
}

/** Number of character classes (0–4) present. */
export function classCount(value: string): number {
  const c = charClasses(value);
  return Number(c.lower) + Number(c.upper) + Number(c.digit) + Number(c.other);
}

/** Decodes base64 or base64url (padding optional). Returns undefined for invalid input. */
export function decodeBase64(value: string): Buffer | undefined {
  const s = value.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(s) || s.length % 4 === 1) return undefined;
  return Buffer.from(s, 'base64');
}

/** Parses base64url-encoded JSON; undefined when it is not a JSON object. */
export function decodeBase64Json(value: string): Record<string, unknown> | undefined {
  const buf = decodeBase64(value);
  if (!buf) return undefined;
  try {
    const parsed: unknown = JSON.parse(buf.toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

