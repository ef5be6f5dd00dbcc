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
const NAMES = String.raw`(?<name>password|passwd|passphrase|pass|pwd|secret|api[_.-]?key|apikey|app(?:lication)?[_.-]?key|access[_.-]?key|auth[_.-]?key|auth|token|private[_.-]?key|credentials?)`;
/** Suffixes (two at most) that keep the name a secret's name: `DB_PASSWORD_PROD`, `secret_key_base`, `api_key_2`. */
const SUFFIX = String.raw`(?:[_.-]?(?:\d{1,2}|prod|production|dev|development|staging|stage|live|test|value|key|str|string|plain|raw|base)){0,2}`;

/**
 * name, optional closing quote/bracket, operator (`=`, `:`, `:=`, `=>`, not `==`), optional
 * quote, value, the same quote. Unquoted values must end at a delimiter, so `getPassword()`
 * and `a.b(c)` never produce a shortened match.
 */
const GENERIC_PATTERN = new RegExp(
  String.raw`${NAMES}${SUFFIX}(?![A-Za-z0-9])["'\x60]?\]?[ \t]{0,40}(?::=|\?\?=|\?=|=>|=(?!=)|:(?!:))[ \t]{0,4}(?<q>["'\x60]?)(?<secret>[^\s"'\x60\\;,(){}<>\[\]]{8,200})\k<q>(?![^\s"'\x60;,)\]}>&|])`,
  'i',
);

/**
 * `auth` as a whole name (`auth: …`, `SMTP_AUTH=…`, `"auth": "…"`): spelled with what follows
 * it, since the bare word is in `author`, `oauth`, `authentication`.
 */
const AUTH_KEYWORDS = ['auth=', 'auth:', 'auth"', "auth'", 'auth =', 'auth :'];

/**
 * Keys made to be public, which a secret-sounding name (`MAPBOX_TOKEN`, `STRIPE_PUBLISHABLE_KEY`)
 * does not make secret: Stripe publishable keys, Mapbox public tokens, PostHog project keys,
 * Supabase publishable keys.
 */
const PUBLIC_VALUE = /^(?:pk_(?:live|test)_|pk\.eyJ|phc_|sb_publishable_)/;

const HASHY_NAME = /(?:hash|sha\d*|md5|digest|checksum|commit|integrity|etag|nonce|salt|fingerprint|_id|Id)["'\x60]?\s*$/;
const SECRET_WORDS = /password|passwd|secret|token|credential|api[_-]?key|bearer|basic |undefined|null/i;
const CHECKSUM_PREFIX = /^(?:gh[pousr]|npm)_[A-Za-z0-9]{36}$/;
/**
 * Prefixes whose provider rules are exact (length, alphabet, checksum): a value that starts with
 * one and that the provider rule did not report is a near-miss (one character short, a wrong
 * checksum), not a generic secret. A valid one is the provider rule's, which outranks this one.
 */
const PROVIDER_PREFIX = /^(?:gh[pousr]_|github_pat_|glpat-|xox[abposr]-|xapp-|[sr]k_(?:live|test)_|AKIA[A-Z0-9]|ASIA[A-Z0-9]|npm_|pypi-|sk-ant-|sk-proj-|hf_|SG\.|dop_v1_|shp(?:at|ss|ca)_|glsa_|kwk_)/;

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

/**
 * How a value was written: `quoted` (a string literal), `literal` (an unquoted value that is
 * text by the syntax: `.env`, `.properties`, `--flag=`, YAML scalars, XML text) or `bare` (an
 * unquoted value in code, where an identifier is a variable).
 */
export type ValueMode = 'quoted' | 'literal' | 'bare';

/**
 * Value-only checks shared by every generic rule. Rejected: placeholders and documented
 * examples, references (`$VAR`, `${VAR}`, `%VAR%`, `process.env.X`, `os.getenv(…)`), template
 * syntax, hashes (hex digests, SRI `sha512-…`, bcrypt/crypt `$2b$…`: a stored hash is not the
 * plain secret), UUIDs (ids far more often than keys), URLs (credentialed ones are the URI
 * rules'), e-mail addresses, file paths, identifiers and words, dates, numbers, and values below
 * an entropy floor that rises with length.
 */
export function isPlausibleSecretValue(v: string, mode: ValueMode, options: { hexOk?: boolean } = {}): boolean {
  if (isPlaceholder(v) || isKnownExample(v)) return false;
  if (CHECKSUM_PREFIX.test(v) && !hasValidTokenChecksum(v.slice(v.indexOf('_') + 1))) return false;
  if (PROVIDER_PREFIX.test(v)) return false;
  if (isUuid(v) || PUBLIC_VALUE.test(v)) return false;
  // Hex is a digest's shape, unless the name says secret (Rails `secret_key_base`, a hex API key).
  if (isHexHash(v) && !(options.hexOk && v.length >= 32)) return false;
  if (/^[a-z][a-z0-9+.-]{1,20}:\/\//i.test(v) || /^data:/i.test(v)) return false;
  if (/^[^@\s]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}$/.test(v)) return false;
  if (/^(?:\.{1,2}\/|~\/|\/|[A-Za-z]:[\\/])/.test(v)) return false;
  if (/\.(?:json|ya?ml|pem|key|crt|cer|p12|pfx|txt|env|js|ts|py|rb|sh|conf|cfg|ini|xml|properties|toml|jks)$/i.test(v)) return false;
  // References and syntax: $VAR, %VAR%, @Value, #{...}, ?Label, !Tag.
  if (/^[$%@#&*?!=:.|+-]/.test(v)) return false;
  if (isTrivialBase64(v) || isPlaceholderInBase64(v)) return false;
  // Member access and dotted config keys: `config.secret`, `app.auth.token`, `process.env.X`.
  // (In `.env`/YAML/INI text a dotted value is the value itself: `Summer.velvet38`.)
  if (mode !== 'literal' && v.includes('.') && v.split('.').every((seg) => /^[A-Za-z_$][A-Za-z_$-]*\d{0,2}$/.test(seg)) && !looksRandom(v)) return false;
  // Unsigned or truncated JWTs (signed ones are the JWT rule's).
  if (/^eyJ[\w-]+\.[\w-]*\.?[\w-]*$/.test(v)) return false;
  // Identifiers (`someSecret`, `tokenValue2`) and key names (`reset-password-token`). In
  // `.env`, `.properties` and `--flag=` syntax an unquoted value is a literal, not a variable.
  const ident = /^[A-Za-z_$][A-Za-z_$]*\d{0,3}$/.test(v);
  if (ident && mode === 'bare' && !looksRandom(v)) return false;
  if (ident && mode === 'quoted' && (/^[a-z]+\d{0,3}$/.test(v) || (/[a-z][A-Z]|_|-/.test(v) && !looksRandom(v)))) return false;
  if (/^[A-Za-z]+(?:[_.\-/][A-Za-z]+)+$/.test(v)) return false;
  if (SECRET_WORDS.test(v)) return false;
  if (/^\d+$/.test(v) || /^\d{1,4}[-/.:]\d{1,2}[-/.:]\d{1,4}/.test(v)) return false;
  if (classCount(v) < 2) return false;
  if (!/[0-9]/.test(v) && !/[^A-Za-z0-9]/.test(v) && v.length < 16) return false;
  if (/\.\w+$/.test(v) && !/\d/.test(v.slice(v.lastIndexOf('.')))) {
    // `foo.bar`-shaped values ending in a word: module names, hostnames.
    if (/^[\w-]+(?:\.[\w-]+)+$/.test(v)) return false;
  }
  if (v.includes('/') && shannonEntropy(v) < 4.0) return false;
  return shannonEntropy(v) >= entropyFloor(v.length);
}

/** Words that make a key name a secret's name (compared after splitting the name into words). */
const SECRET_NAME_WORDS = new Set(['password', 'passwd', 'passphrase', 'pwd', 'pass', 'secret', 'token', 'apikey', 'credential', 'credentials', 'auth', 'privatekey', 'accesskey', 'authkey', 'secretkey']);
/** Two-word names: `api_key`, `access-key`, `PrivateKey`. */
const SECRET_NAME_PAIRS = new Set(['api key', 'app key', 'application key', 'access key', 'private key', 'auth key', 'secret key', 'client secret', 'auth token', 'api token', 'access token']);
/** Trailing words that keep a name a secret's name: `DB_PASSWORD_PROD`, `secret_key_base`. */
const NAME_SUFFIX_WORDS = new Set(['prod', 'production', 'dev', 'development', 'staging', 'stage', 'live', 'test', 'value', 'key', 'str', 'string', 'plain', 'raw', 'base']);

/**
 * True when a whole key name (`DB_PASS`, `stripeSecret`, `client-secret`, `x-api-key`,
 * `mail.smtp.password`, `SmtpPassword`) names a secret: its last word (after version and
 * environment suffixes) is a secret word, or its last two are `api key`, `access key`, ….
 * `password_hint`, `token_type`, `secretName`, `passport`, `compass` are not.
 */
export function isSecretName(name: string): boolean {
  if (name.length === 0 || name.length > 80) return false;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w !== '');
  while (words.length > 1 && (NAME_SUFFIX_WORDS.has(words.at(-1)!) || /^\d{1,2}$/.test(words.at(-1)!))) {
    const last = words.at(-1)!;
    // `api_key`, `secret_key`: `key` is the name's own word when the one before makes a pair.
    if (last === 'key' && SECRET_NAME_PAIRS.has(`${words.at(-2)!} key`)) break;
    words.pop();
  }
  const last = words.at(-1);
  if (last === undefined) return false;
  if (SECRET_NAME_WORDS.has(last) && last !== 'key') return true;
  // `PGPASSWORD`, `DBPASS` (one upper-case word ending in a secret word).
  if (/^[a-z0-9]{1,12}(?:password|passwd)$/.test(last)) return true;
  return words.length >= 2 && SECRET_NAME_PAIRS.has(`${words.at(-2)!} ${last}`);
}

/**
 * A secret's name that hex does not make a digest: `JWT_SECRET`, `secret_key_base`, `api_key`,
 * `AUTH_TOKEN`; not when a word of it says digest (`token_hash`, `password_sha256`, `checksum`).
 */
function isStrongSecretName(name: string): boolean {
  return isSecretName(name) && !/hash|sha\d*|md5|digest|checksum|fingerprint|commit|nonce|salt|etag|integrity/i.test(name);
}

/**
 * `NAME=value` with no spaces, where the name is UPPER_SNAKE (`.env`, shell), dotted
 * (`.properties`) or a `--flag`: the value is a literal even when it looks like an identifier.
 */
function nameBefore(ctx: MatchContext): string {
  const m = ctx.match[0];
  const head = ctx.text.slice(Math.max(0, ctx.match.index - 64), ctx.match.index);
  const op = /["'\x60\]]?[ \t]{0,40}(?::=|\?=|=>|=|:)/.exec(m);
  return (/[A-Za-z0-9_.-]*$/.exec(head)?.[0] ?? '') + m.slice(0, op ? op.index : m.length);
}

function isPlausibleGenericSecret(value: string, ctx: MatchContext): boolean {
  const quoted = (ctx.match.groups?.q ?? '') !== '';
  const v = value;
  // Short name parts (`pass`, `pwd`, `auth`) count only as a whole word of the name:
  // `DB_PASS`, `dbPass`, not `compass`, `bypass`, `oauth`, `author`.
  const part = (ctx.match.groups?.name ?? '').toLowerCase();
  if ((part === 'pass' || part === 'pwd' || part === 'auth') && !isSecretName(nameBefore(ctx))) return false;
  // A YAML or INI value that is a whole line's end is text, like `.env`.
  const literal = isLiteralAssignment(ctx);
  if (!quoted && !literal) {
    // Unquoted in code (`x = y;`, `name: Type | undefined`) is an expression. Unquoted YAML, INI
    // and `--flag value` lines end after the value (or a comment).
    // An INI host line (`web1 ansible_host=… ansible_password=… ansible_user=…`) holds more
    // `key=value` pairs after the value: those are literals too.
    if (!restOfLineIsBlankOrComment(ctx.text, ctx.index + v.length) && !/^[ \t]+[A-Za-z_][\w.-]{0,63}=/.test(ctx.text.slice(ctx.index + v.length, ctx.index + v.length + 80))) return false;
  }
  // A query parameter (`?token=…`): short ones are badge and cache-busting tokens.
  if (/[?&]$/.test(ctx.text.slice(Math.max(0, ctx.match.index - 1), ctx.match.index)) && v.length < 16) return false;
  const before = ctx.text.slice(Math.max(0, ctx.match.index - 40), ctx.match.index);
  if (HASHY_NAME.test(before)) return false;
  // A name that is a secret's name as a whole (`JWT_SECRET`, `secret_key_base`) may hold hex.
  // Unquoted and alone to the end of its line (YAML, INI): text, not an expression, unless it
  // reads as a dotted member access in code (`cfg.db.password`) — a `.js`/`.py` line has quotes.
  const endsLine = !quoted && !literal && restOfLineIsBlankOrComment(ctx.text, ctx.index + v.length) && /:[ \t]*$/.test(ctx.text.slice(Math.max(0, ctx.index - 8), ctx.index));
  const mode: ValueMode = quoted ? 'quoted' : literal || endsLine ? 'literal' : 'bare';
  return isPlausibleSecretValue(v, mode, { hexOk: isStrongSecretName(nameBefore(ctx)) });
}

const OWASP_SECRETS = 'https://cheatsheetseries.owasp.org/cheatsheets/Secrets_Management_Cheat_Sheet.html';

const genericSecret: Detector = {
  id: 'generic-secret',
  type: 'generic-secret',
  title: 'Secret assigned to a secret-sounding name',
  severity: 'medium',
  confidence: 'low',
  keywords: [
    'pass',
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
    'app_key',
    'appkey',
    'application_key',
    ...AUTH_KEYWORDS,
    'token',
    'private_key',
    'privatekey',
    'private-key',
    'credential',
  ],
  pattern: GENERIC_PATTERN,
  verify: isPlausibleGenericSecret,
  priority: 0,
  docs: OWASP_SECRETS,
};

/** Account names that are real logins, though a placeholder check would take them for defaults. */
const REAL_ACCOUNTS = new Set(['root', 'admin', 'administrator', 'postgres', 'deploy', 'git', 'ubuntu', 'ec2-user', 'sa', 'oauth2', 'x-access-token', 'jenkins', 'ci']);

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
  docs: OWASP_SECRETS,
  verify: (s, ctx) => {
    const user = ctx.match.groups?.user ?? '';
    // `username:password@`, `<user>:…@` are templates; `root`, `admin` are real accounts.
    if (isPlaceholder(user) && user.length > 2 && !REAL_ACCOUNTS.has(user.toLowerCase())) return false;
    if (s === 'x-oauth-basic') return false;
    return isPlausibleUriPassword(s, ctx);
  },
};

/** The name parts every generic rule's name holds (the prefilter's keywords). */
const NAME_KEYWORDS = ['pass', 'pwd', 'secret', 'token', 'api_key', 'apikey', 'api-key', 'access_key', 'accesskey', 'access-key', 'auth_key', 'authkey', 'auth-key', 'app_key', 'appkey', 'credential', 'private_key', 'privatekey'];

/** A literal that some syntax around it made a value: quoted, or XML text. */
function plausibleNamed(name: string, value: string, mode: ValueMode): boolean {
  return isSecretName(name) && isPlausibleSecretValue(value, mode, { hexOk: isStrongSecretName(name) });
}

/**
 * XML: a key/value attribute pair (`<add key="ApiKey" value="…"/>` in web.config,
 * `<property name="password" value="…"/>` in Spring and Ant) and an element's text
 * (`<password>…</password>` in Maven's settings.xml, `<string name="api_key">…</string>` in
 * Android resources, `<entry key="db.password">…</entry>`). The name is checked as a whole.
 */
const genericSecretXml: Detector = {
  id: 'generic-secret-xml',
  type: 'generic-secret',
  title: 'Secret in an XML attribute or element with a secret-sounding name',
  severity: 'medium',
  confidence: 'low',
  keywords: NAME_KEYWORDS,
  pattern:
    /<(?<tag>[A-Za-z][\w.:-]{0,63})(?<attrs>[ \t][^<>\n]{0,300}?)?(?:[ \t](?<attr>value|password|secret)[ \t]{0,3}=[ \t]{0,3}(?<q>["'])|>)(?<secret>[^"'<>\s]{6,200})(?:\k<q>[^<>\n]{0,100}\/?>|<\/\k<tag>>)/,
  window: { before: 320, after: 640 },
  priority: 1,
  docs: OWASP_SECRETS,
  verify: (s, ctx) => {
    const g = ctx.match.groups ?? {};
    const attrs = g.attrs ?? '';
    const named = /(?:^|\s)(?:key|name)[ \t]{0,3}=[ \t]{0,3}["']([\w.:-]{1,64})["']/.exec(attrs)?.[1];
    if (g.q !== undefined) {
      if (ctx.match[0].endsWith(`</${g.tag ?? ''}>`)) return false;
      // `<add key="…" value="…"/>`: the key names it; `<user password="…"/>`: the attribute does.
      const name = g.attr === 'value' ? (named ?? '') : (g.attr ?? '');
      return plausibleNamed(name, s, 'quoted');
    }
    return plausibleNamed(named ?? g.tag ?? '', s, 'literal');
  },
};

/**
 * Kubernetes and Compose-style environment pairs over two lines:
 * `- name: DB_PASSWORD` then `value: "…"` (a `valueFrom:` reference never matches).
 */
const genericSecretNameValue: Detector = {
  id: 'generic-secret-name-value',
  type: 'generic-secret',
  title: 'Secret in a name/value environment pair (Kubernetes env)',
  severity: 'medium',
  confidence: 'low',
  keywords: NAME_KEYWORDS,
  pattern:
    /-[ \t]{1,4}name:[ \t]{0,4}["']?(?<name>[A-Za-z0-9_.-]{1,64})["']?[ \t]{0,8}\r?\n[ \t]{0,40}value:[ \t]{0,4}(?<q>["']?)(?<secret>[^\s"'#]{6,2048})\k<q>(?=[ \t]{0,40}(?:#|\r?\n|$))/,
  multiline: true,
  window: { before: 80, after: 2400 },
  priority: 1,
  docs: OWASP_SECRETS,
  verify: (s, ctx) => plausibleNamed(ctx.match.groups?.name ?? '', s, (ctx.match.groups?.q ?? '') === '' ? 'literal' : 'quoted'),
};

/**
 * Secrets passed to a setter or as the value of a name/value call: `setPassword("…")`,
 * `props.put("mail.smtp.password", "…")`, `define('DB_PASSWORD', '…')`,
 * `setHeader('X-Auth-Token', '…')`. Assertions (`assertEquals(…)`, `expect(…)`) are not.
 */
const genericSecretCall: Detector = {
  id: 'generic-secret-call',
  type: 'generic-secret',
  title: 'Secret passed to a setter or a name/value call',
  severity: 'medium',
  confidence: 'low',
  keywords: NAME_KEYWORDS,
  pattern:
    /(?:\bset_?(?<setter>[A-Za-z_]{2,40})\([ \t]{0,4}|(?<q1>["'])(?<name>[A-Za-z0-9_.:-]{1,64})\k<q1>[ \t]{0,4},[ \t]{0,4})(?<q>["'])(?<secret>[^"'\\\s]{6,200})\k<q>[ \t]{0,4}\)/,
  priority: 1,
  docs: OWASP_SECRETS,
  verify: (s, ctx) => {
    const g = ctx.match.groups ?? {};
    const before = ctx.text.slice(Math.max(0, ctx.match.index - 40), ctx.match.index);
    if (/(?:assert\w{0,20}|expect|equals?|toBe|should\w{0,10})\([ \t]{0,4}$/i.test(before)) return false;
    return plausibleNamed(g.setter ?? g.name ?? '', s, 'quoted');
  },
};

/**
 * Space-separated forms: Dockerfile `ENV NAME value` / `ARG`, and command-line flags
 * `--password value`, `--token value`, `--api-key value`, `--client-secret value`.
 */
const genericSecretKeywordValue: Detector = {
  id: 'generic-secret-keyword-value',
  type: 'generic-secret',
  title: 'Secret in a Dockerfile ENV line or a command-line flag',
  severity: 'medium',
  confidence: 'low',
  keywords: NAME_KEYWORDS,
  pattern:
    /(?<![^\s;'"(])(?:(?:ENV|ARG)[ \t]{1,8}(?<name>[A-Za-z_][A-Za-z0-9_]{0,63})|--(?<flag>password|passwd|pass|token|secret|api-key|apikey|access-key|auth-token|client-secret|secret-key))[ \t]{1,8}(?<q>["']?)(?<secret>[^\s"'\\;|&]{6,200})\k<q>(?=\s|$)/,
  priority: 1,
  docs: OWASP_SECRETS,
  verify: (s, ctx) => {
    const g = ctx.match.groups ?? {};
    const mode: ValueMode = (g.q ?? '') === '' ? 'literal' : 'quoted';
    if (g.flag !== undefined) return isPlausibleSecretValue(s, mode);
    return plausibleNamed(g.name ?? '', s, mode);
  },
};

/**
 * A default value under a block whose name is a secret's: a Terraform `variable "db_password" {
 * … default = "…" }` and a CloudFormation parameter `DBPassword:` with `Default: …` (`NoEcho`
 * hides it in the console, not in the template). The name is checked as a whole.
 */
const genericSecretDefault: Detector = {
  id: 'generic-secret-default',
  type: 'generic-secret',
  title: 'Secret as the default of a Terraform variable or CloudFormation parameter',
  severity: 'medium',
  confidence: 'medium',
  // Not `default` alone (every `export default` would open a window): the Terraform block's
  // start, or CloudFormation's `Default:` with the parameter's name in the window before it.
  keywords: ['variable "', 'Default:'],
  // HCL's `variable` and CloudFormation's `Default` are spelled so; a JavaScript `default:` is not one.
  keywordCase: 'exact',
  pattern:
    /(?:variable[ \t]{1,4}"(?<tf>[A-Za-z0-9_-]{1,64})"[ \t]{0,4}\{[^}]{0,400}?\bdefault[ \t]{0,8}=[ \t]{0,4}"?|(?<cfn>[A-Za-z0-9]{1,64}):[ \t]{0,8}\r?\n(?:[ \t]{2,40}(?:Type|Description|NoEcho|MinLength|MaxLength|AllowedPattern|ConstraintDescription):[^\n]{0,200}\r?\n){0,8}[ \t]{2,40}Default:[ \t]{0,4}["']?)(?<secret>[^\s"'#]{6,200})["']?(?=[ \t]{0,40}(?:#|\/\/|\r?\n|$))/,
  multiline: true,
  window: { before: 1200, after: 720 },
  priority: 1,
  docs: OWASP_SECRETS,
  verify: (s, ctx) => {
    const g = ctx.match.groups ?? {};
    return plausibleNamed(g.tf ?? g.cfn ?? '', s, 'literal');
  },
};

/**
 * A Terraform state file's `random_password` (and `random_string` marked sensitive) result: the
 * generated password in clear, as every state file holds it.
 */
const terraformStateSecret: Detector = {
  id: 'terraform-state-secret',
  type: 'terraform-state-secret',
  title: 'Generated password in a Terraform state file (random_password)',
  severity: 'high',
  confidence: 'high',
  keywords: ['random_password'],
  pattern: /"type":[ \t]{0,4}"random_password"[\s\S]{0,2000}?"result":[ \t]{0,4}"(?<secret>(?:[^"\\\n]|\\.){4,400})"/,
  multiline: true,
  window: { before: 16, after: 2600 },
  verify: (s) => !isPlaceholder(s),
  docs: 'https://developer.hashicorp.com/terraform/language/state/sensitive-data',
};

/**
 * Name/value pairs written as data: a Postman collection's or environment's
 * `{ "key": "secretKey", "value": "…" }`, and an Apple property list's
 * `<key>PAYPAL_CLIENT_SECRET</key> <string>…</string>`. The name is checked as a whole.
 */
const genericSecretKeyedValue: Detector = {
  id: 'generic-secret-keyed-value',
  type: 'generic-secret',
  title: 'Secret in a key/value record (Postman variables, property lists)',
  severity: 'medium',
  confidence: 'low',
  keywords: ['"key"', '<key>'],
  pattern:
    /(?:"key"[ \t]{0,4}:[ \t]{0,4}"(?<name>[A-Za-z0-9_.:-]{1,64})"[ \t]{0,4},[ \t]{0,4}"value"[ \t]{0,4}:[ \t]{0,4}"|<key>(?<pname>[A-Za-z0-9_.:-]{1,64})<\/key>[ \t\r\n]{0,80}<string>)(?<secret>[^"<>\\\s]{6,1000})(?="|<\/string>)/,
  multiline: true,
  window: { before: 16, after: 1200 },
  priority: 1,
  docs: OWASP_SECRETS,
  verify: (s, ctx) => plausibleNamed(ctx.match.groups?.name ?? ctx.match.groups?.pname ?? '', s, 'quoted'),
};

export const genericDetectors: readonly Detector[] = [
  genericSecretKeyedValue,
  genericSecret,
  genericSecretXml,
  genericSecretNameValue,
  genericSecretCall,
  genericSecretKeywordValue,
  genericSecretDefault,
  terraformStateSecret,
  basicAuthUrl,
];
