/**
 * Catch-alls: a high-entropy value assigned to a secret-sounding name (`password`, `api_key`,
 * `client_secret`, `token`, …) in the assignment syntaxes of code, config and shells, and a
 * password inside an `https://user:password@host` URL.
 *
 * Both have a low priority: when a specific detector finds the same span, it wins.
 */
import type { Detector, MatchContext } from '../types.js';
import { isPlausibleUriPassword, uriPattern } from './database.js';
import { classCount, hasValidTokenChecksum, isHexHash, isKnownExample, isPlaceholder, isUuid, shannonEntropy } from './util.js';

/** Secret-sounding names; the value must follow one of them (plus an optional suffix) and an operator. */
const NAMES = String.raw`(?:password|passwd|passphrase|pwd|secret|api[_.-]?key|apikey|access[_.-]?key|auth[_.-]?key|token|private[_.-]?key|credentials?)`;
/** Suffixes that keep the name a secret's name: `DB_PASSWORD_PROD`, `secret_key`, `api_key_2`. */
const SUFFIX = String.raw`(?:[_.-]?(?:\d{1,2}|prod|production|dev|development|staging|stage|live|test|value|key|str|string|plain|raw))?`;

/**
 * name, optional closing quote/bracket, operator (`=`, `:`, `:=`, `=>`, not `==`), optional
 * quote, value, the same quote. Unquoted values must end at a delimiter, so `getPassword()`
 * and `a.b(c)` never produce a shortened match.
 */
const GENERIC_PATTERN = new RegExp(
  String.raw`${NAMES}${SUFFIX}(?![A-Za-z0-9])["'\x60]?\]?[ \t]{0,4}(?::=|=>|=(?!=)|:(?!:))[ \t]{0,4}(?<q>["'\x60]?)(?<secret>[^\s"'\x60\\;,(){}<>\[\]]{8,200})\k<q>(?![^\s"'\x60;,)\]}>&|])`,
  'i',
);

const HASHY_NAME = /(?:hash|sha\d*|md5|digest|checksum|commit|integrity|etag|nonce|salt|fingerprint|_id|Id)["'\x60]?\s*$/;
const SECRET_WORDS = /password|passwd|secret|token|credential|api[_-]?key|bearer|basic |undefined|null/i;
const CHECKSUM_PREFIX = /^(?:gh[pousr]|npm)_[A-Za-z0-9]{36}$/;

/** Base64 whose bytes are a counting or constant run (`AAECAwQF…` is 00 01 02 03 …): documentation filler. */
function isTrivialBase64(v: string): boolean {
  if (v.length < 16 || !/^[A-Za-z0-9+/]+={0,2}$/.test(v)) return false;
  const bytes = Buffer.from(v, 'base64');
  if (bytes.length < 8) return false;
  let steps = 0;
  for (let i = 1; i < bytes.length; i++) if (bytes[i] === bytes[i - 1]! + 1 || bytes[i] === bytes[i - 1]) steps++;
  return steps >= (bytes.length - 1) * 0.9;
}

/** Base64 of readable text that is itself a placeholder: `bm90IG15IHJlYWwgcGFzc3dvcmQ=` is "not my real password". */
export function isPlaceholderInBase64(v: string): boolean {
  if (v.length < 12 || !/^[A-Za-z0-9+/]+={0,2}$/.test(v) || v.length % 4 === 1) return false;
  const text = Buffer.from(v, 'base64').toString('latin1');
  if (!/^[\x20-\x7e]+$/.test(text)) return false;
  return isPlaceholder(text) || SECRET_WORDS.test(text) || text.split(':').some((part) => isPlaceholder(part));
}

/** Minimum bits per character for a value of this length. */
function entropyFloor(len: number): number {
  if (len < 12) return 2.8;
  if (len < 20) return 3.0;
  return 3.3;
}

/**
 * `NAME=value` with no spaces, where the name is UPPER_SNAKE (`.env`, shell), dotted
 * (`.properties`) or a `--flag`: the value is a literal even when it looks like an identifier.
 */
function isLiteralAssignment(ctx: MatchContext): boolean {
  const m = ctx.match[0];
  if (!/^[^\s=:]*=[^\s=]/.test(m.slice(0, m.indexOf('=') + 2))) return false;
  const head = ctx.text.slice(Math.max(0, ctx.match.index - 64), ctx.match.index);
  const name = (/[A-Za-z0-9_.-]*$/.exec(head)?.[0] ?? '') + m.slice(0, m.indexOf('='));
  return /^--?[a-z]/i.test(name) || /^[A-Z0-9_]+$/.test(name) || /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)+$/i.test(name);
}

/** Mixed case that flips too often for camelCase words: `SsZJSMOlSz`, not `someSecretValue`. */
function looksRandom(v: string): boolean {
  const letters = v.replace(/[^A-Za-z]/g, '');
  let flips = 0;
  for (let i = 1; i < letters.length; i++) {
    const a = letters.charCodeAt(i - 1) < 97;
    const b = letters.charCodeAt(i) < 97;
    if (a !== b) flips++;
  }
  const upper = letters.replace(/[^A-Z]/g, '').length;
  return letters.length >= 10 && flips >= letters.length / 3 && upper >= 3 && upper <= letters.length - 3;
}

/**
 * True when the rest of the line from `from` is blank or a `#` / `//` comment. Reads only up to
 * the first character that is not a space, never to the end of a long line.
 */
function restOfLineIsBlankOrComment(text: string, from: number): boolean {
  let i = from;
  while (i < text.length && text[i] !== '\n' && /\s/.test(text[i]!)) i++;
  if (i >= text.length || text[i] === '\n') return true;
  return text[i] === '#' || text.startsWith('//', i);
}

function isPlausibleGenericSecret(value: string, ctx: MatchContext): boolean {
  const quoted = (ctx.match.groups?.q ?? '') !== '';
  const v = value;
  if (isPlaceholder(v) || isKnownExample(v)) return false;
  if (CHECKSUM_PREFIX.test(v) && !hasValidTokenChecksum(v.slice(v.indexOf('_') + 1))) return false;
  if (isHexHash(v) || isUuid(v)) return false;
  // URLs (credentialed ones belong to the URI rules), e-mail addresses, file paths.
  if (/^[a-z][a-z0-9+.-]{1,20}:\/\//i.test(v) || /^data:/i.test(v)) return false;
  if (/^[^@\s]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}$/.test(v)) return false;
  if (/^(?:\.{1,2}\/|~\/|\/|[A-Za-z]:[\\/])/.test(v)) return false;
  if (/\.(?:json|ya?ml|pem|key|crt|cer|p12|pfx|txt|env|js|ts|py|rb|sh|conf|cfg|ini|xml|properties|toml|jks)$/i.test(v)) return false;
  // References and syntax: $VAR, %VAR%, @Value, #{...}, ?Label, !Tag.
  if (/^[$%@#&*?!=:.|+-]/.test(v)) return false;
  if (!quoted && !isLiteralAssignment(ctx)) {
    // Unquoted in code (`x = y;`, `name: Type | undefined`) is an expression. Unquoted YAML, INI
    // and `--flag value` lines end after the value (or a comment).
    if (!restOfLineIsBlankOrComment(ctx.text, ctx.index + v.length)) return false;
  }
  // A query parameter (`?token=…`): short ones are badge and cache-busting tokens.
  if (/[?&]$/.test(ctx.text.slice(Math.max(0, ctx.match.index - 1), ctx.match.index)) && v.length < 16) return false;
  if (isTrivialBase64(v) || isPlaceholderInBase64(v)) return false;
  // Member access and dotted config keys: `config.secret`, `app.auth.token`, `process.env.X`.
  if (v.includes('.') && v.split('.').every((seg) => /^[A-Za-z_$][A-Za-z_$-]*\d{0,2}$/.test(seg))) return false;
  // Unsigned or truncated JWTs (signed ones are the JWT rule's).
  if (/^eyJ[\w-]+\.[\w-]*\.?[\w-]*$/.test(v)) return false;
  // Identifiers (`someSecret`, `tokenValue2`) and key names (`reset-password-token`). In
  // `.env`, `.properties` and `--flag=` syntax an unquoted value is a literal, not a variable.
  if (/^[A-Za-z_$][A-Za-z_$]*\d{0,3}$/.test(v) && !(quoted || isLiteralAssignment(ctx)) && !looksRandom(v)) return false;
  if (/^[A-Za-z_$][A-Za-z_$]*\d{0,3}$/.test(v) && quoted && (/^[a-z]+\d{0,3}$/.test(v) || (/[a-z][A-Z]|_|-/.test(v) && !looksRandom(v)))) return false;
  if (/^[A-Za-z]+(?:[_.\-/][A-Za-z]+)+$/.test(v)) return false;
  if (SECRET_WORDS.test(v)) return false;
  if (/^\d+$/.test(v) || /^\d{1,4}[-/.:]\d{1,2}[-/.:]\d{1,4}/.test(v)) return false;
  if (classCount(v) < 2) return false;
  if (!/[0-9]/.test(v) && !/[^A-Za-z0-9]/.test(v) && v.length < 16) return false;
  const before = ctx.text.slice(Math.max(0, ctx.match.index - 40), ctx.match.index);
  if (HASHY_NAME.test(before)) return false;
  if (/\.\w+$/.test(v) && !/\d/.test(v.slice(v.lastIndexOf('.')))) {
    // `foo.bar`-shaped values ending in a word: module names, hostnames.
    if (/^[\w-]+(?:\.[\w-]+)+$/.test(v)) return false;
  }
  if (v.includes('/') && shannonEntropy(v) < 4.0) return false;
  return shannonEntropy(v) >= entropyFloor(v.length);
}

const genericSecret: Detector = {
  id: 'generic-secret',
  type: 'generic-secret',
  title: 'Secret assigned to a secret-sounding name',
  severity: 'medium',
  confidence: 'low',
  keywords: [
    'password',
    'passwd',
    'passphrase',
    'pwd',
    'secret',
    'api_key',
    'apikey',
    'api-key',
    'api.key',
    'access_key',
    'accesskey',
    'access-key',
    'auth_key',
    'authkey',
    'token',
    'private_key',
    'privatekey',
    'private-key',
    'credential',
  ],
  pattern: GENERIC_PATTERN,
  verify: isPlausibleGenericSecret,
  priority: 0,
};

const basicAuthUrl: Detector = {
  id: 'basic-auth-url',
  type: 'basic-auth',
  title: 'Password in a URL (user:password@host)',
  severity: 'high',
  confidence: 'medium',
  keywords: ['://'],
  // Database schemes have their own rules; this one takes web, VCS, mail and directory URLs.
  // The scheme and user are a lookbehind so the match starts at the password's `:` (see database.ts).
  pattern: uriPattern('(?:https?|ftps?|sftp|ssh|git\\+https?|git\\+ssh|svn|smb|ldaps?|smtps?|imaps?|pop3s?|wss?|nntp|sip)'),
  window: { before: 24, after: 600 },
  priority: 5,
  verify: (s, ctx) => {
    const user = ctx.match.groups?.user ?? '';
    if (isPlaceholder(user) && user.length > 2) return false;
    if (s === 'x-oauth-basic') return false;
    return isPlausibleUriPassword(s, ctx);
  },
};

export const genericDetectors: readonly Detector[] = [genericSecret, basicAuthUrl];
