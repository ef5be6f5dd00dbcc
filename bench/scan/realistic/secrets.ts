/**
 * Fake credentials built from the providers' documented formats, written for this corpus alone:
 * nothing here is derived from Keywarden's detectors or their test generators, so the corpus
 * measures how the scanner generalises. Every value comes from the seeded PRNG; token prefixes are
 * assembled from pieces so that no credential-shaped literal appears in this source file.
 */
import type { Prng } from '../prng.js';

export const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const HEX = '0123456789abcdef';
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const BECH32 = 'QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L';
const DIGITS = '0123456789';

/** Joins pieces: keeps token prefixes out of this file as whole literals. */
export const j = (...parts: string[]): string => parts.join('');

export function chars(rng: Prng, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(s: string): number {
  let c = 0xffffffff;
  for (const b of Buffer.from(s, 'utf8')) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Base62 of a 32-bit number, left-padded with zeros to 6 characters (GitHub's and npm's checksum). */
export function base62Pad6(n: number): string {
  let s = '';
  let v = n;
  while (v > 0) {
    s = B62[v % 62]! + s;
    v = Math.floor(v / 62);
  }
  return s.padStart(6, '0');
}

/** `prefix` + 30 base62 characters + the base62 CRC32 of those 30 (GitHub 2021 format, npm 2021 format). */
function checksummed(rng: Prng, prefix: string): string {
  const body = chars(rng, B62, 30);
  return prefix + body + base62Pad6(crc32(body));
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');

export function uuid(rng: Prng): string {
  const h = chars(rng, HEX, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[rng.int(4)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A password people might pick: words, digits and a symbol, or a random string. */
export function password(rng: Prng): string {
  const words = ['Orchid', 'tiger', 'Maple', 'river', 'Quartz', 'falcon', 'Nimbus', 'copper', 'Violet', 'harbor'];
  if (rng.next() < 0.5) return `${rng.pick(words)}${rng.pick(words)}${chars(rng, DIGITS, 2 + rng.int(3))}${rng.pick(['!', '#', '$', '%', '&', '*', '@'])}`;
  return chars(rng, B62 + '!#%*-_', 14 + rng.int(10));
}

export const username = (rng: Prng): string => rng.pick(['deploy', 'admin', 'app', 'svc_billing', 'ci-bot', 'root', 'api_user', 'reporting', 'jenkins']);

function pemBody(rng: Prng, lead: string, bytes: number): string[] {
  const body = lead + chars(rng, B64, Math.ceil((bytes * 4) / 3) - lead.length);
  const out: string[] = [];
  for (let i = 0; i < body.length; i += 64) out.push(body.slice(i, i + 64));
  return out;
}

const pem = (label: string, body: string[]): string => [`-----BEGIN ${label}-----`, ...body, `-----END ${label}-----`].join('\n');

function jwt(rng: Prng): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(JSON.stringify({ sub: String(100000 + rng.int(900000)), name: 'svc-' + chars(rng, LOWER, 6), iat: 1700000000 + rng.int(30000000), role: 'service' }));
  return `${header}.${payload}.${chars(rng, B64URL, 43)}`;
}

export interface SecretType {
  id: string;
  /** The name the format or the provider's SDK gives this value in configuration. */
  env: string;
  /** Multi-line (a private key). */
  multiline?: boolean;
  gen(rng: Prng): string;
}

const AK = j('AK', 'IA');
const AS = j('AS', 'IA');

export const SECRET_TYPES: readonly SecretType[] = [
  { id: 'aws-access-key-id', env: 'AWS_ACCESS_KEY_ID', gen: (r) => AK + chars(r, BASE32, 16) },
  { id: 'aws-secret-access-key', env: 'AWS_SECRET_ACCESS_KEY', gen: (r) => chars(r, B64, 40) },
  { id: 'aws-session-token', env: 'AWS_SESSION_TOKEN', gen: (r) => j('IQoJb3JpZ2lu', 'X2VjE') + chars(r, B64, 380) },
  { id: 'aws-temporary-access-key-id', env: 'AWS_ACCESS_KEY_ID', gen: (r) => AS + chars(r, BASE32, 16) },
  { id: 'github-pat-classic', env: 'GITHUB_TOKEN', gen: (r) => checksummed(r, j('gh', 'p_')) },
  { id: 'github-oauth-token', env: 'GH_OAUTH_TOKEN', gen: (r) => checksummed(r, j('gh', 'o_')) },
  { id: 'github-app-installation-token', env: 'GH_APP_TOKEN', gen: (r) => checksummed(r, j('gh', 's_')) },
  { id: 'github-app-user-token', env: 'GH_USER_TOKEN', gen: (r) => checksummed(r, j('gh', 'u_')) },
  { id: 'github-pat-fine-grained', env: 'GITHUB_PAT', gen: (r) => j('github', '_pat_') + '11' + chars(r, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 20) + '_' + chars(r, B62, 59) },
  { id: 'gitlab-pat', env: 'GITLAB_TOKEN', gen: (r) => j('gl', 'pat-') + chars(r, B62 + '-_', 20) },
  { id: 'gitlab-runner-token', env: 'CI_RUNNER_TOKEN', gen: (r) => j('gl', 'rt-') + chars(r, B62 + '-_', 20) },
  { id: 'slack-bot-token', env: 'SLACK_BOT_TOKEN', gen: (r) => `${j('xo', 'xb-')}${chars(r, DIGITS, 12)}-${chars(r, DIGITS, 13)}-${chars(r, B62, 24)}` },
  { id: 'slack-user-token', env: 'SLACK_USER_TOKEN', gen: (r) => `${j('xo', 'xp-')}${chars(r, DIGITS, 12)}-${chars(r, DIGITS, 12)}-${chars(r, DIGITS, 13)}-${chars(r, HEX, 32)}` },
  { id: 'slack-webhook-url', env: 'SLACK_WEBHOOK_URL', gen: (r) => `https://hooks.${'slack'}.com/services/T${chars(r, BASE32.slice(0, 26) + DIGITS, 10)}/B${chars(r, BASE32.slice(0, 26) + DIGITS, 10)}/${chars(r, B62, 24)}` },
  { id: 'stripe-secret-key', env: 'STRIPE_SECRET_KEY', gen: (r) => j('sk', '_live_') + chars(r, B62, r.next() < 0.5 ? 24 : 99) },
  { id: 'stripe-restricted-key', env: 'STRIPE_RESTRICTED_KEY', gen: (r) => j('rk', '_live_') + chars(r, B62, r.next() < 0.5 ? 24 : 99) },
  { id: 'twilio-api-key', env: 'TWILIO_API_KEY', gen: (r) => 'SK' + chars(r, HEX, 32) },
  { id: 'twilio-auth-token', env: 'TWILIO_AUTH_TOKEN', gen: (r) => chars(r, HEX, 32) },
  { id: 'sendgrid-api-key', env: 'SENDGRID_API_KEY', gen: (r) => `${j('S', 'G.')}${chars(r, B64URL, 22)}.${chars(r, B64URL, 43)}` },
  { id: 'mailgun-api-key', env: 'MAILGUN_API_KEY', gen: (r) => j('ke', 'y-') + chars(r, HEX, 32) },
  { id: 'mailchimp-api-key', env: 'MAILCHIMP_API_KEY', gen: (r) => `${chars(r, HEX, 32)}-us${1 + r.int(20)}` },
  { id: 'openai-api-key', env: 'OPENAI_API_KEY', gen: (r) => `${j('sk', '-proj-')}${chars(r, B64URL, 74)}${j('T3Blbk', 'FJ')}${chars(r, B64URL, 74)}` },
  { id: 'anthropic-api-key', env: 'ANTHROPIC_API_KEY', gen: (r) => `${j('sk', '-ant-', 'api03-')}${chars(r, B64URL, 93)}AA` },
  { id: 'google-api-key', env: 'GOOGLE_API_KEY', gen: (r) => j('AI', 'za') + chars(r, B64URL, 35) },
  { id: 'azure-storage-connection-string', env: 'AZURE_STORAGE_CONNECTION_STRING', gen: (r) => `DefaultEndpointsProtocol=https;AccountName=st${chars(r, LOWER + DIGITS, 10)};AccountKey=${chars(r, B64, 86)}==;EndpointSuffix=core.windows.net` },
  { id: 'azure-entra-client-secret', env: 'AZURE_CLIENT_SECRET', gen: (r) => `${chars(r, B62, 3)}${chars(r, DIGITS, 1)}Q~${chars(r, B62 + '_~.-', 34)}` },
  { id: 'npm-token', env: 'NPM_TOKEN', gen: (r) => checksummed(r, j('np', 'm_')) },
  { id: 'pypi-token', env: 'PYPI_TOKEN', gen: (r) => j('py', 'pi-', 'AgEIcHlwaS5vcmc') + chars(r, B64URL, 140) },
  { id: 'dockerhub-pat', env: 'DOCKERHUB_TOKEN', gen: (r) => j('dckr', '_pat_') + chars(r, B64URL, 27) },
  { id: 'huggingface-token', env: 'HF_TOKEN', gen: (r) => j('h', 'f_') + chars(r, LOWER + LOWER.toUpperCase(), 34) },
  { id: 'shopify-access-token', env: 'SHOPIFY_ACCESS_TOKEN', gen: (r) => j('shp', 'at_') + chars(r, HEX, 32) },
  { id: 'shopify-shared-secret', env: 'SHOPIFY_API_SECRET', gen: (r) => j('shp', 'ss_') + chars(r, HEX, 32) },
  { id: 'datadog-api-key', env: 'DD_API_KEY', gen: (r) => chars(r, HEX, 32) },
  { id: 'heroku-api-key', env: 'HEROKU_API_KEY', gen: (r) => uuid(r) },
  { id: 'digitalocean-token', env: 'DIGITALOCEAN_TOKEN', gen: (r) => j('do', 'p_v1_') + chars(r, HEX, 64) },
  { id: 'cloudflare-api-token', env: 'CLOUDFLARE_API_TOKEN', gen: (r) => chars(r, B62 + '-_', 40) },
  { id: 'discord-bot-token', env: 'DISCORD_BOT_TOKEN', gen: (r) => `${b64('1' + chars(r, DIGITS, 17)).replace(/=+$/, '')}.${chars(r, B64URL, 6)}.${chars(r, B64URL, 38)}` },
  { id: 'discord-webhook-url', env: 'DISCORD_WEBHOOK_URL', gen: (r) => `https://discord.com/api/${'webhooks'}/1${chars(r, DIGITS, 18)}/${chars(r, B64URL, 68)}` },
  { id: 'telegram-bot-token', env: 'TELEGRAM_BOT_TOKEN', gen: (r) => `${1 + r.int(8)}${chars(r, DIGITS, 9)}:AA${chars(r, B64URL, 33)}` },
  { id: 'postman-api-key', env: 'POSTMAN_API_KEY', gen: (r) => `${j('PM', 'AK-')}${chars(r, HEX, 24)}-${chars(r, HEX, 34)}` },
  { id: 'newrelic-user-key', env: 'NEW_RELIC_API_KEY', gen: (r) => j('NR', 'AK-') + chars(r, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 27) },
  { id: 'linear-api-key', env: 'LINEAR_API_KEY', gen: (r) => j('lin', '_api_') + chars(r, B62, 40) },
  { id: 'grafana-service-account-token', env: 'GRAFANA_TOKEN', gen: (r) => `${j('gl', 'sa_')}${chars(r, B62, 32)}_${chars(r, HEX, 8)}` },
  { id: 'age-secret-key', env: 'SOPS_AGE_KEY', gen: (r) => j('AGE-', 'SECRET-KEY-1') + chars(r, BECH32, 58) },
  { id: 'jwt-signing-secret', env: 'JWT_SECRET', gen: (r) => (r.next() < 0.5 ? chars(r, HEX, 64) : chars(r, B64, 44)) },
  { id: 'jwt', env: 'SERVICE_JWT', gen: jwt },
  { id: 'django-secret-key', env: 'DJANGO_SECRET_KEY', gen: (r) => chars(r, LOWER + DIGITS + '!@#%^&*(-_=+)', 50) },
  { id: 'rails-secret-key-base', env: 'SECRET_KEY_BASE', gen: (r) => chars(r, HEX, 128) },
  { id: 'generic-password', env: 'DB_PASSWORD', gen: password },
  { id: 'generic-api-key', env: 'API_KEY', gen: (r) => chars(r, r.next() < 0.5 ? HEX : B62, 32 + r.int(9)) },
  { id: 'generic-client-secret', env: 'CLIENT_SECRET', gen: (r) => chars(r, B62 + '-_', 32 + r.int(16)) },
  { id: 'bearer-token', env: 'AUTH_TOKEN', gen: (r) => chars(r, B62, 40) },
  { id: 'db-uri-password', env: 'DATABASE_URL', gen: password },
  { id: 'basic-auth-url', env: 'UPSTREAM_URL', gen: password },
  { id: 'private-key-rsa', env: 'RSA_PRIVATE_KEY', multiline: true, gen: (r) => pem(j('RSA PRIVATE', ' KEY'), pemBody(r, 'MIIEpAIBAAKCAQEA', 1190)) },
  { id: 'private-key-pkcs8', env: 'PRIVATE_KEY', multiline: true, gen: (r) => pem(j('PRIVATE', ' KEY'), pemBody(r, 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ', 1217)) },
  { id: 'private-key-ec', env: 'EC_PRIVATE_KEY', multiline: true, gen: (r) => pem(j('EC PRIVATE', ' KEY'), pemBody(r, 'MHcCAQEEI', 121)) },
  { id: 'private-key-openssh', env: 'SSH_PRIVATE_KEY', multiline: true, gen: (r) => pem(j('OPENSSH PRIVATE', ' KEY'), pemBody(r, 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW', 400)) },
  { id: 'private-key-putty', env: 'PPK', multiline: true, gen: (r) => putty(r) },
  { id: 'gcp-service-account-key', env: 'GCP_SA', multiline: true, gen: (r) => pem(j('PRIVATE', ' KEY'), pemBody(r, 'MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQ', 1217)) },
  { id: 'docker-config-auth', env: 'DOCKER_AUTH', gen: password },
  { id: 'npmrc-auth', env: 'NPM_AUTH', gen: password },
  { id: 'netrc-password', env: 'NETRC', gen: password },
  { id: 'connection-string-password', env: 'CONNECTION_STRING', gen: password },
  { id: 'curl-user-password', env: 'CURL', gen: password },
];

export const TYPE_BY_ID = new Map(SECRET_TYPES.map((t) => [t.id, t]));

/** The secrets placed only in their own formats (not by the generic assignment templates). */
export const FORMAT_ONLY = new Set([
  'aws-temporary-access-key-id', 'db-uri-password', 'basic-auth-url', 'private-key-putty', 'gcp-service-account-key',
  'docker-config-auth', 'npmrc-auth', 'netrc-password', 'connection-string-password', 'curl-user-password',
]);

export function putty(rng: Prng): string {
  const pub = chars(rng, B64, 68);
  return [
    'PuTTY-User-Key-File-3: ssh-ed25519',
    'Encryption: none',
    'Comment: ed25519-key-' + chars(rng, DIGITS, 8),
    'Public-Lines: 2',
    pub.slice(0, 64),
    pub.slice(64),
    'Private-Lines: 1',
    chars(rng, B64, 44),
    'Private-MAC: ' + chars(rng, HEX, 64),
  ].join('\n');
}

export { b64, b64url, HEX, B64, B64URL, LOWER, DIGITS };
