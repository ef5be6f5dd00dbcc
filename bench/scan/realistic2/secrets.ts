/**
 * Credential makers for the second realistic corpus. Every format here was taken from the issuing
 * provider's own documentation (the URL sits next to each maker), never from a scanner's rules or
 * from this project's detectors or fixtures. Where a provider documents only a prefix, the body's
 * length and alphabet follow the provider's published examples.
 *
 * Prefixes are assembled from pieces (`cat('gh', 'p_')`) so that no credential-shaped literal
 * appears in this source: scanners run over the repository must find nothing here.
 */
import { createHash } from 'node:crypto';
import type { Prng } from '../prng.js';

export const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const LOWER = 'abcdefghijklmnopqrstuvwxyz';
export const DIGITS = '0123456789';
export const HEX = '0123456789abcdef';
export const ALNUM = UPPER + LOWER + DIGITS;
/** GitHub's and npm's base62 alphabet, digits first. */
export const B62 = DIGITS + UPPER + LOWER;
export const B64 = ALNUM + '+/';
export const B64URL = ALNUM + '-_';
const B32 = UPPER + '234567';

/** Joins pieces: how every prefix in this file is written. */
export const cat = (...parts: string[]): string => parts.join('');

export function chars(rng: Prng, alphabet: string, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
}

export function bytes(rng: Prng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

export const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');
export const b64url = (s: string | Buffer): string => Buffer.from(s).toString('base64url');
export const sha256hex = (s: string): string => createHash('sha256').update(s).digest('hex');

export function uuid(rng: Prng): string {
  const h = chars(rng, HEX, 32).split('');
  h[12] = '4';
  h[16] = '89ab'[rng.int(4)]!;
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

const CRC_TABLE = (() => {
  const t: number[] = [];
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t.push(c >>> 0);
  }
  return t;
})();

export function crc32(s: string): number {
  let c = 0xffffffff;
  for (const byte of Buffer.from(s, 'utf8')) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function base62(n: number, width: number): string {
  let s = '';
  while (n > 0) {
    s = B62[n % 62] + s;
    n = Math.floor(n / 62);
  }
  return s.padStart(width, '0');
}

/**
 * GitHub's 2021 token format: a prefix, 30 random base62 characters, and the CRC32 of those 30
 * characters in 6 base62 digits. https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
 * npm adopted the same shape: https://github.blog/changelog/2021-09-23-npm-has-a-new-access-token-format/
 */
export function checksummed(rng: Prng, prefix: string): string {
  const body = chars(rng, B62, 30);
  return prefix + body + base62(crc32(body), 6);
}

/** The same shape with a checksum that does not match: a near-miss. */
export function badChecksum(rng: Prng, prefix: string): string {
  const body = chars(rng, B62, 30);
  return prefix + body + base62((crc32(body) + 1 + rng.int(1000)) >>> 0, 6);
}

// Bech32 (BIP-173), used by age identities. https://github.com/C2SP/C2SP/blob/main/age.md
const BECH = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
function polymod(values: number[]): number {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= gen[i]!;
  }
  return chk >>> 0;
}
export function bech32(hrp: string, data: Buffer): string {
  const five: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of data) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      five.push((acc >>> bits) & 31);
    }
  }
  if (bits > 0) five.push((acc << (5 - bits)) & 31);
  const expand = [...hrp].map((c) => c.charCodeAt(0) >>> 5).concat([0], [...hrp].map((c) => c.charCodeAt(0) & 31));
  const mod = polymod([...expand, ...five, 0, 0, 0, 0, 0, 0]) ^ 1;
  const check = [0, 1, 2, 3, 4, 5].map((i) => (mod >>> (5 * (5 - i))) & 31);
  return hrp + '1' + [...five, ...check].map((d) => BECH[d]).join('');
}

// ---------------------------------------------------------------------------------------------
// Passwords and people: what humans actually choose.

const WORDS = ['summer', 'falcon', 'orange', 'winter', 'monkey', 'dragon', 'sunshine', 'harbor', 'violet', 'maple', 'copper', 'tiger', 'rocket', 'blue', 'coffee', 'pepper', 'eagle', 'river', 'granite', 'lemon', 'panda', 'thunder', 'velvet', 'spruce', 'nebula', 'cobalt', 'sparrow', 'juniper', 'walrus', 'pickle'];
const SYMBOLS = ['!', '@', '#', '$', '%', '&', '*', '?', '.', '_', '-'];
const NAMES = ['alice', 'bob', 'priya', 'chen', 'mateo', 'olga', 'sam', 'noor', 'kwame', 'ines', 'deploy', 'svc_etl', 'airflow', 'dbt_runner', 'grafana', 'app_rw', 'reporting', 'ci-bot'];

const cap = (w: string): string => w[0]!.toUpperCase() + w.slice(1);

/** A password a person would pick: words, digits, a symbol, sometimes leetspeak. */
export function password(rng: Prng): string {
  const w1 = cap(rng.pick(WORDS));
  const w2 = rng.next() < 0.6 ? cap(rng.pick(WORDS)) : rng.pick(WORDS);
  const d = String(rng.int(rng.next() < 0.5 ? 100 : 10000)).padStart(2, '0');
  const sym = rng.pick(SYMBOLS);
  let p: string;
  switch (rng.int(5)) {
    case 0: p = `${w1}${w2}${d}${sym}`; break;
    case 1: p = `${w1}${sym}${w2}${d}`; break;
    case 2: p = `${w1}${d}${sym}${w2}`; break;
    case 3: p = `${w1}-${w2}-${rng.pick(WORDS)}-${d}`; break;
    default: p = `${w1}${w2}${sym}${d}${rng.pick(SYMBOLS)}`;
  }
  if (rng.next() < 0.3) p = p.replace(/o/, '0').replace(/a/, '@').replace(/e/, '3');
  return p;
}

export const username = (rng: Prng): string => rng.pick(NAMES);

// ---------------------------------------------------------------------------------------------
// Key material. The DER headers are the real ones for each structure; the rest is random bytes,
// so the blocks look like keys to any reader without being usable keys.

function pemBody(der: Buffer, width = 64): string[] {
  const s = der.toString('base64');
  const out: string[] = [];
  for (let i = 0; i < s.length; i += width) out.push(s.slice(i, i + width));
  return out;
}

const dash5 = '-----';
export const pemLine = (kind: string, begin: boolean): string => `${dash5}${begin ? 'BEGIN' : 'END'} ${kind}${dash5}`;
const wrap = (kind: string, body: string[]): string => [pemLine(kind, true), ...body, pemLine(kind, false)].join('\n');

/** PKCS#1 RSA (RFC 8017 A.1.2) in PEM (RFC 7468 §2). https://www.rfc-editor.org/rfc/rfc7468 */
export function rsaPem(rng: Prng): string {
  const der = Buffer.concat([Buffer.from('308204a40201000282010100', 'hex'), bytes(rng, 1180)]);
  return wrap(cat('RSA PRI', 'VATE KEY'), pemBody(der));
}

/** SEC1 EC private key, P-256 (RFC 5915). https://www.rfc-editor.org/rfc/rfc5915 */
export function ecPem(rng: Prng): string {
  const der = Buffer.concat([Buffer.from('307702010104', 'hex'), Buffer.from([0x20]), bytes(rng, 32), Buffer.from('a00a06082a8648ce3d030107a144034200', 'hex'), Buffer.from([0x04]), bytes(rng, 64)]);
  return wrap(cat('EC PRI', 'VATE KEY'), pemBody(der));
}

/** PKCS#8 unencrypted (RFC 5208 / RFC 7468 §10), RSA or EC (App Store Connect .p8 keys are EC PKCS#8). */
export function pkcs8Pem(rng: Prng, ec = false): string {
  const der = ec
    ? Buffer.concat([Buffer.from('308193020100301306072a8648ce3d020106082a8648ce3d030107047930770201010420', 'hex'), bytes(rng, 32), Buffer.from('a14403420004', 'hex'), bytes(rng, 64)])
    : Buffer.concat([Buffer.from('308204be020100300d06092a864886f70d0101010500048204a8308204a40201000282010100', 'hex'), bytes(rng, 1180)]);
  return wrap(cat('PRI', 'VATE KEY'), pemBody(der));
}

/** PKCS#8 encrypted with PBES2 (RFC 7468 §11). */
export function encryptedPkcs8Pem(rng: Prng): string {
  const der = Buffer.concat([Buffer.from('3082052c305606092a864886f70d01050d3049', 'hex'), bytes(rng, 1280)]);
  return wrap(cat('ENCRYPTED PRI', 'VATE KEY'), pemBody(der));
}

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const sshString = (s: string | Buffer): Buffer => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)]);

/** OpenSSH private key format, ed25519. https://github.com/openssh/openssh-portable/blob/master/PROTOCOL.key */
export function opensshPem(rng: Prng): string {
  const pub = Buffer.concat([sshString('ssh-ed25519'), sshString(bytes(rng, 32))]);
  const check = bytes(rng, 4);
  const priv = Buffer.concat([check, check, sshString('ssh-ed25519'), sshString(bytes(rng, 32)), sshString(bytes(rng, 64)), sshString(`${rng.pick(NAMES)}@laptop`), Buffer.from([1, 2, 3, 4, 5])]);
  const der = Buffer.concat([Buffer.from('openssh-key-v1\0'), sshString('none'), sshString('none'), sshString(''), u32(1), sshString(pub), sshString(priv)]);
  return wrap(cat('OPENSSH PRI', 'VATE KEY'), pemBody(der, 70));
}

/** PuTTY .ppk version 3. https://the.earth.li/~sgtatham/putty/0.78/htmldoc/AppendixC.html */
export function puttyKey(rng: Prng): string {
  const pub = pemBody(Buffer.concat([sshString('ssh-ed25519'), sshString(bytes(rng, 32))]), 64);
  const priv = pemBody(sshString(bytes(rng, 32)), 64);
  return [
    cat('PuTTY-User-Key-File-3', ': ssh-ed25519'),
    'Encryption: none',
    `Comment: ed25519-key-2023${String(rng.int(9000) + 1000)}`,
    `Public-Lines: ${pub.length}`,
    ...pub,
    `Private-Lines: ${priv.length}`,
    ...priv,
    `Private-MAC: ${chars(rng, HEX, 64)}`,
  ].join('\n');
}

function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const b of data) {
    crc ^= b << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** OpenPGP armored secret key (RFC 4880 §6.2, with its CRC-24). https://www.rfc-editor.org/rfc/rfc4880#section-6.2 */
export function pgpKey(rng: Prng): string {
  const data = Buffer.concat([Buffer.from('9503980463', 'hex'), bytes(rng, 900)]);
  const c = crc24(data);
  return [cat('-----BEGIN PGP PRI', 'VATE KEY BLOCK-----'), '', ...pemBody(data, 64), '=' + Buffer.from([c >> 16, (c >> 8) & 255, c & 255]).toString('base64'), cat('-----END PGP PRI', 'VATE KEY BLOCK-----')].join('\n');
}

/** A public key or certificate: hard negatives. */
export function publicPem(rng: Prng, cert = false): string {
  const der = cert
    ? Buffer.concat([Buffer.from('308203', 'hex'), bytes(rng, 700)])
    : Buffer.concat([Buffer.from('30820122300d06092a864886f70d01010105000382010f003082010a0282010100', 'hex'), bytes(rng, 256), Buffer.from('0203010001', 'hex')]);
  return wrap(cert ? 'CERTIFICATE' : 'PUBLIC KEY', pemBody(der));
}

export function sshPublicKey(rng: Prng): string {
  return `ssh-ed25519 ${b64(Buffer.concat([sshString('ssh-ed25519'), sshString(bytes(rng, 32))]))} ${rng.pick(NAMES)}@workstation`;
}

/** A signed-looking JWT (RFC 7519): header.payload.signature, base64url. */
export function jwt(rng: Prng, claims: Record<string, unknown> = {}): string {
  const header = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: chars(rng, HEX, 16) }));
  const payload = b64url(JSON.stringify({ sub: uuid(rng), iss: 'https://auth.tidepool.io/', aud: 'api', iat: 1700000000 + rng.int(3e7), exp: 1740000000 + rng.int(3e7), ...claims }));
  return `${header}.${payload}.${chars(rng, B64URL, 342)}`;
}

// ---------------------------------------------------------------------------------------------
// The credential types. `env` is the variable name people give it; `doc` is where the format
// is documented.

export interface SecretType {
  id: string;
  env: string;
  doc: string;
  make(rng: Prng): string;
}

const T = (id: string, env: string, doc: string, make: (rng: Prng) => string): SecretType => ({ id, env, doc, make });

const digits = (rng: Prng, n: number): string => String(1 + rng.int(9)) + chars(rng, DIGITS, n - 1);

export const SECRET_TYPES: SecretType[] = [
  // AWS: access key IDs are 20 characters, AKIA (long-term) or ASIA (STS); secrets are 40.
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
  T('aws-access-key-id', 'AWS_ACCESS_KEY_ID', 'https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html', (r) => cat('AK', 'IA') + chars(r, B32, 16)),
  T('aws-secret-access-key', 'AWS_SECRET_ACCESS_KEY', 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html', (r) => chars(r, B64, 40)),
  // STS session tokens: https://docs.aws.amazon.com/STS/latest/APIReference/API_Credentials.html
  T('aws-session-token', 'AWS_SESSION_TOKEN', 'https://docs.aws.amazon.com/STS/latest/APIReference/API_Credentials.html', (r) => cat('IQoJb3JpZ2luX2Vj') + chars(r, B64, 340) + '=='),
  // GCP API keys: "AIza" + 35. https://cloud.google.com/docs/authentication/api-keys
  T('gcp-api-key', 'GOOGLE_API_KEY', 'https://cloud.google.com/docs/authentication/api-keys', (r) => cat('AI', 'za') + chars(r, B64URL, 35)),
  // Google OAuth client secrets: GOCSPX- prefix. https://developers.google.com/identity/protocols/oauth2
  T('google-oauth-client-secret', 'GOOGLE_CLIENT_SECRET', 'https://support.google.com/cloud/answer/15549257', (r) => cat('GOC', 'SPX-') + chars(r, B64URL, 28)),
  // Azure storage account key: 64 bytes base64 (88 chars). https://learn.microsoft.com/azure/storage/common/storage-configure-connection-string
  T('azure-storage-key', 'AZURE_STORAGE_KEY', 'https://learn.microsoft.com/azure/storage/common/storage-account-keys-manage', (r) => b64(bytes(r, 64))),
  // Entra ID client secrets: "xxx8Q~" + 34 (40). https://learn.microsoft.com/purview/sit-defn-azure-ad-client-secret
  T('azure-entra-client-secret', 'AZURE_CLIENT_SECRET', 'https://learn.microsoft.com/purview/sit-defn-azure-ad-client-secret', (r) => chars(r, ALNUM, 3) + chars(r, DIGITS, 1) + 'Q~' + chars(r, ALNUM + '_.~-', 34)),
  // Azure SAS: the sig= parameter is the secret. https://learn.microsoft.com/rest/api/storageservices/create-service-sas
  T('azure-sas-token', 'AZURE_SAS_TOKEN', 'https://learn.microsoft.com/rest/api/storageservices/create-service-sas', (r) => `sv=2022-11-02&ss=bfqt&srt=sco&sp=rwdlacupiytfx&se=2026-0${1 + r.int(9)}-1${r.int(9)}T18:0${r.int(9)}:00Z&st=2024-03-0${1 + r.int(9)}T10:00:00Z&spr=https&sig=${encodeURIComponent(b64(bytes(r, 32)))}`),
  // Azure DevOps PATs (52 base32 characters, lowercase). https://learn.microsoft.com/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate
  T('azure-devops-pat', 'AZURE_DEVOPS_PAT', 'https://learn.microsoft.com/azure/devops/organizations/accounts/use-personal-access-tokens-to-authenticate', (r) => chars(r, LOWER.slice(0, 26) + '234567', 52)),
  // GitHub (checksummed; see `checksummed`). https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available/
  T('github-pat', 'GITHUB_TOKEN', 'https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/', (r) => checksummed(r, cat('gh', 'p_'))),
  T('github-oauth-token', 'GH_OAUTH_TOKEN', 'https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/', (r) => checksummed(r, cat('gh', 'o_'))),
  T('github-user-to-server-token', 'GITHUB_APP_USER_TOKEN', 'https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/', (r) => checksummed(r, cat('gh', 'u_'))),
  T('github-server-to-server-token', 'GITHUB_INSTALLATION_TOKEN', 'https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/', (r) => checksummed(r, cat('gh', 's_'))),
  T('github-refresh-token', 'GITHUB_REFRESH_TOKEN', 'https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/', (r) => checksummed(r, cat('gh', 'r_'))),
  // Fine-grained PATs: github_pat_ + 22 + _ + 59. https://github.blog/security/application-security/introducing-fine-grained-personal-access-tokens-for-github/
  T('github-fine-grained-pat', 'GH_PAT', 'https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/managing-your-personal-access-tokens', (r) => cat('github', '_pat_') + chars(r, ALNUM, 22) + '_' + chars(r, ALNUM, 59)),
  // GitLab prefixes. https://docs.gitlab.com/ee/security/token_overview.html#token-prefixes
  T('gitlab-pat', 'GITLAB_TOKEN', 'https://docs.gitlab.com/ee/security/tokens/#token-prefixes', (r) => cat('gl', 'pat-') + chars(r, B64URL, 20)),
  T('gitlab-pipeline-trigger-token', 'GITLAB_TRIGGER_TOKEN', 'https://docs.gitlab.com/ee/security/tokens/#token-prefixes', (r) => cat('gl', 'ptt-') + chars(r, HEX, 40)),
  T('gitlab-runner-token', 'CI_RUNNER_TOKEN', 'https://docs.gitlab.com/ee/security/tokens/#token-prefixes', (r) => cat('gl', 'rt-') + chars(r, B64URL, 20)),
  T('gitlab-deploy-token', 'GITLAB_DEPLOY_TOKEN', 'https://gitlab.com/gitlab-org/gitlab/-/merge_requests/138438', (r) => cat('gl', 'dt-') + chars(r, B64URL, 20)),
  // Slack. https://api.slack.com/authentication/token-types
  T('slack-bot-token', 'SLACK_BOT_TOKEN', 'https://api.slack.com/authentication/token-types', (r) => cat('xo', 'xb-') + digits(r, 12) + '-' + digits(r, 13) + '-' + chars(r, ALNUM, 24)),
  T('slack-user-token', 'SLACK_USER_TOKEN', 'https://api.slack.com/authentication/token-types', (r) => cat('xo', 'xp-') + digits(r, 12) + '-' + digits(r, 12) + '-' + digits(r, 13) + '-' + chars(r, HEX, 32)),
  T('slack-app-token', 'SLACK_APP_TOKEN', 'https://api.slack.com/authentication/token-types', (r) => cat('xa', 'pp-1-A') + chars(r, UPPER + DIGITS, 10) + '-' + digits(r, 13) + '-' + chars(r, HEX, 64)),
  // Incoming webhooks. https://api.slack.com/messaging/webhooks
  T('slack-webhook-url', 'SLACK_WEBHOOK_URL', 'https://api.slack.com/messaging/webhooks', (r) => cat('https://hooks.', 'slack.com/services/T') + chars(r, UPPER + DIGITS, 10) + '/B' + chars(r, UPPER + DIGITS, 10) + '/' + chars(r, ALNUM, 24)),
  // Stripe. https://docs.stripe.com/keys
  T('stripe-secret-key', 'STRIPE_SECRET_KEY', 'https://docs.stripe.com/keys', (r) => cat('sk', '_live_') + chars(r, ALNUM, 99)),
  T('stripe-restricted-key', 'STRIPE_RESTRICTED_KEY', 'https://docs.stripe.com/keys#limit-access', (r) => cat('rk', '_live_') + chars(r, ALNUM, 99)),
  T('stripe-webhook-secret', 'STRIPE_WEBHOOK_SECRET', 'https://docs.stripe.com/webhooks#verify-official-libraries', (r) => cat('wh', 'sec_') + chars(r, ALNUM, 32)),
  // Twilio: auth token is 32 hex next to an AC... SID; API keys are SK + 32 hex. https://www.twilio.com/docs/iam/api-keys
  T('twilio-auth-token', 'TWILIO_AUTH_TOKEN', 'https://www.twilio.com/docs/iam/credentials/api', (r) => chars(r, HEX, 32)),
  T('twilio-api-key', 'TWILIO_API_KEY', 'https://www.twilio.com/docs/iam/api-keys', (r) => 'SK' + chars(r, HEX, 32)),
  // SendGrid: SG.<22>.<43>. https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys
  T('sendgrid-api-key', 'SENDGRID_API_KEY', 'https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys', (r) => cat('S', 'G.') + chars(r, B64URL, 22) + '.' + chars(r, B64URL, 43)),
  // Mailgun private API key ("key-" + 32 hex). https://documentation.mailgun.com/docs/mailgun/user-manual/get-started/#primary-account-api-key
  T('mailgun-api-key', 'MAILGUN_API_KEY', 'https://documentation.mailgun.com/docs/mailgun/api-reference/authentication/', (r) => cat('ke', 'y-') + chars(r, HEX, 32)),
  // Mailchimp: 32 hex + "-us" + datacenter. https://mailchimp.com/developer/marketing/guides/quick-start/#generate-your-api-key
  T('mailchimp-api-key', 'MAILCHIMP_API_KEY', 'https://mailchimp.com/developer/marketing/guides/quick-start/', (r) => chars(r, HEX, 32) + '-us' + String(1 + r.int(21))),
  // OpenAI project keys. https://platform.openai.com/docs/api-reference/authentication
  T('openai-api-key', 'OPENAI_API_KEY', 'https://platform.openai.com/docs/api-reference/authentication', (r) => cat('sk', '-proj-') + chars(r, B64URL, 74) + cat('T3Blbk', 'FJ') + chars(r, B64URL, 74)),
  // Anthropic: sk-ant-api03- + base64url body (~108 total). https://docs.anthropic.com/en/api/getting-started
  T('anthropic-api-key', 'ANTHROPIC_API_KEY', 'https://docs.anthropic.com/en/api/overview#authentication', (r) => cat('sk', '-ant-', 'api03-') + chars(r, B64URL, 93) + 'AA'),
  // Hugging Face user access tokens: hf_ + 34 letters. https://huggingface.co/docs/hub/security-tokens
  T('huggingface-token', 'HF_TOKEN', 'https://huggingface.co/docs/hub/security-tokens', (r) => cat('h', 'f_') + chars(r, UPPER + LOWER, 34)),
  // Perplexity: pplx- prefix. https://docs.perplexity.ai/guides/getting-started
  T('perplexity-api-key', 'PERPLEXITY_API_KEY', 'https://docs.perplexity.ai/guides/getting-started', (r) => cat('ppl', 'x-') + chars(r, ALNUM, 48)),
  // Replicate: r8_ prefix. https://replicate.com/docs/topics/security/api-tokens
  T('replicate-api-token', 'REPLICATE_API_TOKEN', 'https://replicate.com/docs/reference/http#authentication', (r) => cat('r', '8_') + chars(r, ALNUM, 37)),
  // npm (checksummed like GitHub). https://github.blog/changelog/2021-09-23-npm-has-a-new-access-token-format/
  T('npm-access-token', 'NPM_TOKEN', 'https://docs.npmjs.com/about-access-tokens', (r) => checksummed(r, cat('np', 'm_'))),
  // PyPI API tokens are macaroons: "pypi-" then a base64 body that starts with the location caveat (pypi.org). https://pypi.org/help/#apitoken
  T('pypi-api-token', 'PYPI_API_TOKEN', 'https://pypi.org/help/#apitoken', (r) => cat('pyp', 'i-', 'AgEIcHlwaS5vcmc') + 'CJ' + chars(r, B64URL, 160)),
  // RubyGems: rubygems_ + 48 hex. https://guides.rubygems.org/api-key-scopes/
  T('rubygems-api-key', 'GEM_HOST_API_KEY', 'https://guides.rubygems.org/api-key-scopes/', (r) => cat('ruby', 'gems_') + chars(r, HEX, 48)),
  // crates.io: cio + 32. https://doc.rust-lang.org/cargo/reference/config.html#registrytoken
  T('crates-io-token', 'CARGO_REGISTRY_TOKEN', 'https://crates.io/settings/tokens', (r) => cat('ci', 'o') + chars(r, ALNUM, 32)),
  // NuGet API keys: oy2 + 43 lowercase alnum. https://learn.microsoft.com/nuget/nuget-org/scoped-api-keys
  T('nuget-api-key', 'NUGET_API_KEY', 'https://learn.microsoft.com/nuget/nuget-org/scoped-api-keys', (r) => cat('oy', '2') + chars(r, LOWER + DIGITS, 43)),
  // Docker Hub PATs: dckr_pat_. https://docs.docker.com/security/for-developers/access-tokens/
  T('dockerhub-pat', 'DOCKERHUB_TOKEN', 'https://docs.docker.com/security/for-developers/access-tokens/', (r) => cat('dckr', '_pat_') + chars(r, B64URL, 27)),
  // Square: EAAA access tokens, sq0csp- application secrets. https://developer.squareup.com/docs/build-basics/access-tokens
  T('square-access-token', 'SQUARE_ACCESS_TOKEN', 'https://developer.squareup.com/docs/build-basics/access-tokens', (r) => cat('EA', 'AA') + chars(r, B64URL, 60)),
  T('square-oauth-secret', 'SQUARE_APPLICATION_SECRET', 'https://developer.squareup.com/docs/oauth-api/overview', (r) => cat('sq0', 'csp-') + chars(r, B64URL, 43)),
  // Braintree/PayPal access tokens. https://developer.paypal.com/braintree/docs/guides/extend/oauth/access-tokens
  T('braintree-access-token', 'BRAINTREE_ACCESS_TOKEN', 'https://developer.paypal.com/braintree/docs/guides/extend/oauth/access-tokens', (r) => cat('access_token', '$production$') + chars(r, LOWER + DIGITS, 16) + '$' + chars(r, HEX, 32)),
  // PayPal REST client secret (80 chars, starts E). https://developer.paypal.com/api/rest/
  T('paypal-client-secret', 'PAYPAL_CLIENT_SECRET', 'https://developer.paypal.com/api/rest/authentication/', (r) => 'E' + chars(r, B64URL, 79)),
  // Shopify. https://shopify.dev/changelog/length-of-the-shopify-access-token-is-increasing
  T('shopify-access-token', 'SHOPIFY_ACCESS_TOKEN', 'https://shopify.dev/changelog/length-of-the-shopify-access-token-is-increasing', (r) => cat('shp', 'at_') + chars(r, HEX, 32)),
  T('shopify-custom-app-token', 'SHOPIFY_ADMIN_TOKEN', 'https://shopify.dev/changelog/length-of-the-shopify-access-token-is-increasing', (r) => cat('shp', 'ca_') + chars(r, HEX, 32)),
  T('shopify-shared-secret', 'SHOPIFY_API_SECRET', 'https://shopify.dev/changelog/length-of-the-shopify-access-token-is-increasing', (r) => cat('shp', 'ss_') + chars(r, HEX, 32)),
  // Notion internal integration secrets: ntn_ (since 2024). https://developers.notion.com/docs/authorization
  T('notion-integration-token', 'NOTION_TOKEN', 'https://developers.notion.com/docs/authorization', (r) => cat('nt', 'n_') + digits(r, 11) + chars(r, ALNUM, 35)),
  // Airtable PATs: pat<14>.<64 hex>. https://airtable.com/developers/web/guides/personal-access-tokens
  T('airtable-pat', 'AIRTABLE_API_KEY', 'https://airtable.com/developers/web/guides/personal-access-tokens', (r) => cat('pa', 't') + chars(r, ALNUM, 14) + '.' + chars(r, HEX, 64)),
  // Linear: lin_api_. https://developers.linear.app/docs/graphql/working-with-the-graphql-api#personal-api-keys
  T('linear-api-key', 'LINEAR_API_KEY', 'https://linear.app/developers/graphql#personal-api-keys', (r) => cat('lin', '_api_') + chars(r, ALNUM, 40)),
  // Postman: PMAK-<24 hex>-<34 hex>. https://learning.postman.com/docs/developer/postman-api/authentication/
  T('postman-api-key', 'POSTMAN_API_KEY', 'https://learning.postman.com/docs/developer/postman-api/authentication/', (r) => cat('PM', 'AK-') + chars(r, HEX, 24) + '-' + chars(r, HEX, 34)),
  // Datadog: API key 32 hex, application key 40 hex. https://docs.datadoghq.com/account_management/api-app-keys/
  T('datadog-api-key', 'DD_API_KEY', 'https://docs.datadoghq.com/account_management/api-app-keys/', (r) => chars(r, HEX, 32)),
  T('datadog-app-key', 'DD_APP_KEY', 'https://docs.datadoghq.com/account_management/api-app-keys/', (r) => chars(r, HEX, 40)),
  // New Relic: user keys NRAK-, license keys 40 chars ending NRAL. https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/
  T('newrelic-user-api-key', 'NEW_RELIC_API_KEY', 'https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/', (r) => cat('NR', 'AK-') + chars(r, UPPER + DIGITS, 27)),
  T('newrelic-license-key', 'NEW_RELIC_LICENSE_KEY', 'https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/', (r) => chars(r, HEX, 36) + cat('NR', 'AL')),
  // Sentry: org tokens sntrys_, user tokens sntryu_. https://docs.sentry.io/account/auth-tokens/
  T('sentry-org-token', 'SENTRY_AUTH_TOKEN', 'https://docs.sentry.io/account/auth-tokens/', (r) => cat('sntr', 'ys_') + b64(JSON.stringify({ iat: 1700000000 + r.int(3e7), url: 'https://sentry.io', region_url: 'https://us.sentry.io', org: 'tidepool' })).replace(/=+$/, '') + '_' + chars(r, B64URL, 43)),
  T('sentry-user-token', 'SENTRY_TOKEN', 'https://docs.sentry.io/account/auth-tokens/', (r) => cat('sntr', 'yu_') + chars(r, HEX, 64)),
  // PagerDuty REST API keys (20 chars; user tokens start u+). https://support.pagerduty.com/main/docs/api-access-keys
  T('pagerduty-api-key', 'PAGERDUTY_TOKEN', 'https://support.pagerduty.com/main/docs/api-access-keys', (r) => 'u+' + chars(r, ALNUM + '_-', 18)),
  // Doppler: dp.st.<config>.<40>, dp.pt.<43>. https://docs.doppler.com/docs/service-tokens
  T('doppler-service-token', 'DOPPLER_TOKEN', 'https://docs.doppler.com/docs/service-tokens', (r) => cat('dp', '.st.') + r.pick(['prd', 'stg', 'dev']) + '.' + chars(r, ALNUM, 40)),
  T('doppler-personal-token', 'DOPPLER_PERSONAL_TOKEN', 'https://docs.doppler.com/reference/api#authentication', (r) => cat('dp', '.pt.') + chars(r, ALNUM, 43)),
  // Vault: hvs. service tokens, hvb. batch tokens. https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes
  T('vault-service-token', 'VAULT_TOKEN', 'https://developer.hashicorp.com/vault/docs/concepts/tokens', (r) => cat('hv', 's.CAESI') + chars(r, B64URL, 86)),
  T('vault-batch-token', 'VAULT_BATCH_TOKEN', 'https://developer.hashicorp.com/vault/docs/concepts/tokens', (r) => cat('hv', 'b.AAAAAQ') + chars(r, B64URL, 130)),
  // Pulumi: pul- + 40 hex. https://www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/
  T('pulumi-access-token', 'PULUMI_ACCESS_TOKEN', 'https://www.pulumi.com/docs/pulumi-cloud/access-management/access-tokens/', (r) => cat('pu', 'l-') + chars(r, HEX, 40)),
  // Terraform Cloud: <14>.atlasv1.<67>. https://developer.hashicorp.com/terraform/cloud-docs/api-docs/team-tokens
  T('terraform-cloud-token', 'TFE_TOKEN', 'https://developer.hashicorp.com/terraform/cloud-docs/api-docs/team-tokens', (r) => chars(r, ALNUM, 14) + cat('.atlas', 'v1.') + chars(r, ALNUM, 67)),
  // Databricks PATs: dapi + 32 hex. https://docs.databricks.com/en/dev-tools/auth/pat.html
  T('databricks-token', 'DATABRICKS_TOKEN', 'https://docs.databricks.com/en/dev-tools/auth/pat.html', (r) => cat('dap', 'i') + chars(r, HEX, 32)),
  // Atlassian API tokens (variable length, ATATT prefix). https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/
  T('atlassian-api-token', 'JIRA_API_TOKEN', 'https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/', (r) => cat('ATA', 'TT3xFfGF0') + chars(r, B64URL, 170) + '=' + chars(r, HEX.toUpperCase(), 8)),
  // Asana PATs: 1/<16 digits>:<32 hex> (v1) or 2/<16>/<16>:<32 hex>. https://developers.asana.com/docs/personal-access-token
  T('asana-pat', 'ASANA_PAT', 'https://developers.asana.com/docs/personal-access-token', (r) => `2/${digits(r, 16)}/${digits(r, 16)}:${chars(r, HEX, 32)}`),
  // Algolia admin key: 32 hex. https://www.algolia.com/doc/guides/security/api-keys/
  T('algolia-admin-key', 'ALGOLIA_ADMIN_KEY', 'https://www.algolia.com/doc/guides/security/api-keys/', (r) => chars(r, HEX, 32)),
  // Contentful CMA tokens: CFPAT-. https://www.contentful.com/developers/docs/references/authentication/
  T('contentful-management-token', 'CONTENTFUL_MANAGEMENT_TOKEN', 'https://www.contentful.com/developers/docs/references/authentication/', (r) => cat('CFP', 'AT-') + chars(r, B64URL, 43)),
  // Figma PATs: figd_. https://www.figma.com/developers/api#access-tokens
  T('figma-pat', 'FIGMA_TOKEN', 'https://www.figma.com/developers/api#access-tokens', (r) => cat('fig', 'd_') + chars(r, B64URL, 40)),
  // Dropbox short-lived access tokens: sl. https://developers.dropbox.com/oauth-guide
  T('dropbox-access-token', 'DROPBOX_ACCESS_TOKEN', 'https://developers.dropbox.com/oauth-guide', (r) => cat('s', 'l.B') + chars(r, B64URL, 135)),
  // Mapbox secret tokens: sk.<base64url json>.<22>. https://docs.mapbox.com/help/dive-deeper/access-tokens/
  T('mapbox-secret-token', 'MAPBOX_SECRET_TOKEN', 'https://docs.mapbox.com/help/dive-deeper/access-tokens/', (r) => cat('s', 'k.') + b64url(JSON.stringify({ u: r.pick(NAMES), a: chars(r, LOWER + DIGITS, 25) })) + '.' + chars(r, B64URL, 22)),
  // Telegram bot tokens: <bot id>:<35>. https://core.telegram.org/bots/api#authorizing-your-bot
  T('telegram-bot-token', 'TELEGRAM_BOT_TOKEN', 'https://core.telegram.org/bots/api#authorizing-your-bot', (r) => `${digits(r, 10)}:AA${chars(r, B64URL, 33)}`),
  // Discord bot tokens: base64(user id).<6>.<38>; webhooks /api/webhooks/<id>/<68>. https://discord.com/developers/docs/reference#authentication
  T('discord-bot-token', 'DISCORD_BOT_TOKEN', 'https://discord.com/developers/docs/reference#authentication', (r) => `${b64(digits(r, 19)).replace(/=+$/, '')}.${chars(r, B64URL, 6)}.${chars(r, B64URL, 38)}`),
  T('discord-webhook-url', 'DISCORD_WEBHOOK_URL', 'https://discord.com/developers/docs/resources/webhook', (r) => cat('https://discord.com/api/', 'webhooks/') + digits(r, 19) + '/' + chars(r, B64URL, 68)),
  // Heroku: HRKU- API keys. https://devcenter.heroku.com/articles/authentication
  T('heroku-api-key', 'HEROKU_API_KEY', 'https://devcenter.heroku.com/articles/authentication', (r) => cat('HR', 'KU-', 'AA') + chars(r, B64URL, 58)),
  // DigitalOcean. https://docs.digitalocean.com/notes/2022/api-token-format
  T('digitalocean-pat', 'DIGITALOCEAN_TOKEN', 'https://docs.digitalocean.com/notes/2022/api-token-format', (r) => cat('do', 'p_v1_') + chars(r, HEX, 64)),
  T('digitalocean-oauth-token', 'DO_OAUTH_TOKEN', 'https://docs.digitalocean.com/notes/2022/api-token-format', (r) => cat('do', 'o_v1_') + chars(r, HEX, 64)),
  // Cloudflare API tokens (40) and Origin CA keys (v1.0-). https://developers.cloudflare.com/fundamentals/api/get-started/create-token/
  T('cloudflare-api-token', 'CLOUDFLARE_API_TOKEN', 'https://developers.cloudflare.com/fundamentals/api/get-started/create-token/', (r) => chars(r, B64URL, 40)),
  T('cloudflare-origin-ca-key', 'CF_ORIGIN_CA_KEY', 'https://developers.cloudflare.com/fundamentals/api/get-started/ca-keys/', (r) => cat('v1', '.0-') + chars(r, HEX, 24) + '-' + chars(r, HEX, 146)),
  // Fastly API tokens (32). https://docs.fastly.com/en/guides/using-api-tokens
  T('fastly-api-token', 'FASTLY_API_TOKEN', 'https://www.fastly.com/documentation/reference/api/auth-tokens/', (r) => chars(r, B64URL, 32)),
  // Netlify PATs: nfp_. https://docs.netlify.com/api/get-started/#authentication
  T('netlify-pat', 'NETLIFY_AUTH_TOKEN', 'https://docs.netlify.com/api/get-started/#authentication', (r) => cat('nf', 'p_') + chars(r, ALNUM, 36)),
  // Vercel access tokens (24, keyword-anchored). https://vercel.com/docs/rest-api#creating-an-access-token
  T('vercel-token', 'VERCEL_TOKEN', 'https://vercel.com/docs/rest-api/reference/welcome#creating-an-access-token', (r) => chars(r, ALNUM, 24)),
  // Supabase management PAT sbp_ and secret keys sb_secret_. https://supabase.com/docs/guides/api/api-keys
  T('supabase-access-token', 'SUPABASE_ACCESS_TOKEN', 'https://supabase.com/docs/reference/api/introduction', (r) => cat('sb', 'p_') + chars(r, HEX, 40)),
  T('supabase-secret-key', 'SUPABASE_SECRET_KEY', 'https://supabase.com/docs/guides/api/api-keys', (r) => cat('sb_', 'secret_') + chars(r, B64URL, 31)),
  // PlanetScale: pscale_pw_ passwords, pscale_tkn_ service tokens. https://planetscale.com/docs/concepts/service-tokens
  T('planetscale-password', 'PLANETSCALE_DB_PASSWORD', 'https://planetscale.com/docs/concepts/connection-strings', (r) => cat('psc', 'ale_pw_') + chars(r, B64URL, 43)),
  T('planetscale-token', 'PLANETSCALE_SERVICE_TOKEN', 'https://planetscale.com/docs/concepts/service-tokens', (r) => cat('psc', 'ale_tkn_') + chars(r, B64URL, 43)),
  // Grafana service account tokens: glsa_<32>_<8 hex>. https://grafana.com/docs/grafana/latest/administration/service-accounts/
  T('grafana-service-account-token', 'GRAFANA_TOKEN', 'https://grafana.com/docs/grafana/latest/administration/service-accounts/', (r) => cat('gl', 'sa_') + chars(r, ALNUM, 32) + '_' + chars(r, HEX, 8)),
  // Grafana Cloud access policy tokens: glc_ + base64 JSON. https://grafana.com/docs/grafana-cloud/account-management/authentication-and-permissions/access-policies/
  T('grafana-cloud-token', 'GRAFANA_CLOUD_TOKEN', 'https://grafana.com/docs/grafana-cloud/account-management/authentication-and-permissions/access-policies/', (r) => cat('gl', 'c_') + b64(JSON.stringify({ o: digits(r, 6), n: `stack-${digits(r, 6)}-write`, k: chars(r, ALNUM, 24), m: { r: 'prod-us-east-0' } }))),
  // age identities: bech32 "AGE-SECRET-KEY-1..." (uppercase). https://age-encryption.org/v1
  T('age-secret-key', 'SOPS_AGE_KEY', 'https://github.com/C2SP/C2SP/blob/main/age.md#the-x25519-recipient-type', (r) => bech32(cat('age-secret', '-key-'), bytes(r, 32)).toUpperCase()),
  // Okta API tokens: 00 + 40. https://developer.okta.com/docs/guides/create-an-api-token/main/
  T('okta-api-token', 'OKTA_API_TOKEN', 'https://developer.okta.com/docs/guides/create-an-api-token/main/', (r) => '00' + chars(r, B64URL, 40)),
  // 1Password service account tokens: ops_ + base64url JSON. https://developer.1password.com/docs/service-accounts/
  T('onepassword-service-token', 'OP_SERVICE_ACCOUNT_TOKEN', 'https://developer.1password.com/docs/service-accounts/use-with-1password-cli/', (r) => cat('op', 's_') + b64url(JSON.stringify({ signInAddress: 'tidepool.1password.com', userAuth: { method: 'SRPg-4096', alg: 'PBES2g-HS256', iterations: 650000, salt: chars(r, B64URL, 22) }, email: `${chars(r, LOWER, 12)}@1passwordserviceaccounts.com`, srpX: chars(r, HEX, 64), muk: { alg: 'A256GCM', ext: true, k: chars(r, B64URL, 43), key_ops: ['encrypt', 'decrypt'], kty: 'oct', kid: 'mp' }, secretKey: `A3-${chars(r, UPPER + DIGITS, 6)}-${chars(r, UPPER + DIGITS, 6)}`, deviceUuid: chars(r, LOWER + DIGITS, 26) }))),
  // Tailscale auth keys: tskey-auth-<id>-<secret>. https://tailscale.com/kb/1085/auth-keys
  T('tailscale-auth-key', 'TS_AUTHKEY', 'https://tailscale.com/kb/1085/auth-keys', (r) => cat('tsk', 'ey-auth-') + chars(r, ALNUM, 12) + 'CNTRL-' + chars(r, ALNUM, 33)),
  // LaunchDarkly server SDK keys: sdk-<uuid>. https://launchdarkly.com/docs/sdk/concepts/client-side-server-side#keys
  T('launchdarkly-sdk-key', 'LAUNCHDARKLY_SDK_KEY', 'https://launchdarkly.com/docs/home/account/environment/keys', (r) => 'sdk-' + uuid(r)),
  // PostHog personal API keys: phx_. https://posthog.com/docs/api#private-endpoint-authentication
  T('posthog-personal-key', 'POSTHOG_PERSONAL_API_KEY', 'https://posthog.com/docs/api', (r) => cat('ph', 'x_') + chars(r, ALNUM, 43)),
  // CircleCI personal tokens: CCIPAT_. https://circleci.com/docs/managing-api-tokens/
  T('circleci-token', 'CIRCLECI_TOKEN', 'https://circleci.com/docs/managing-api-tokens/', (r) => cat('CCI', 'PAT_') + chars(r, ALNUM, 22) + '_' + chars(r, HEX, 40)),
  // Jenkins API tokens: 11 + 32 hex (34). https://www.jenkins.io/doc/book/system-administration/authenticating-scripted-clients/
  T('jenkins-api-token', 'JENKINS_API_TOKEN', 'https://www.jenkins.io/doc/book/system-administration/authenticating-scripted-clients/', (r) => '11' + chars(r, HEX, 32)),
  // Snyk API tokens (UUID). https://docs.snyk.io/snyk-api/authentication-for-api
  T('snyk-token', 'SNYK_TOKEN', 'https://docs.snyk.io/snyk-api/authentication-for-api', (r) => uuid(r)),
  // Firebase Cloud Messaging legacy server keys: AAAA<7>:APA91b<134>. https://firebase.google.com/docs/cloud-messaging/auth-server
  T('fcm-server-key', 'FCM_SERVER_KEY', 'https://firebase.google.com/docs/cloud-messaging/auth-server', (r) => cat('AA', 'AA') + chars(r, B64URL, 7) + ':' + cat('APA', '91b') + chars(r, B64URL, 134)),
  // Generic credentials people hand around.
  T('generic-password', 'DB_PASSWORD', 'https://owasp.org/www-community/vulnerabilities/Use_of_hard-coded_password', password),
  T('generic-secret', 'SECRET_KEY', 'https://docs.djangoproject.com/en/5.0/ref/settings/#secret-key', (r) => chars(r, ALNUM + '!@#%^&*(-_=+)', 50)),
  T('laravel-app-key', 'APP_KEY', 'https://laravel.com/docs/11.x/encryption#configuration', (r) => 'base64:' + b64(bytes(r, 32))),
  T('jwt-bearer-token', 'ACCESS_TOKEN', 'https://www.rfc-editor.org/rfc/rfc6750', (r) => jwt(r)),
];

export const TYPE_BY_ID = new Map(SECRET_TYPES.map((t) => [t.id, t]));

export function typeOf(id: string): SecretType {
  const t = TYPE_BY_ID.get(id);
  if (!t) throw new Error(`unknown secret type ${id}`);
  return t;
}
