/**
 * Cloud, infrastructure, developer-platform, CI and AI providers beyond the families in their own files.
 *
 * Two kinds of rule, each built by a small factory:
 * - `token`: a token with a distinctive prefix (`rnd_`, `dckr_pat_`, `gsk_`): high confidence, the
 *   prefix is the prefilter keyword, the random part must not be a placeholder.
 * - `anchored`: a token without a prefix (a 64-character Hetzner token): the provider's name must
 *   come at most 40 name characters before the assignment (`HCLOUD_TOKEN=`, `"hetzner_token": `),
 *   and the value must have the provider's documented shape. Medium confidence.
 *
 * Publishable keys (Clerk `pk_live_`, Supabase `sb_publishable_`, LaunchDarkly client-side IDs) are
 * public by design and have no rule here.
 */
import { createHash } from 'node:crypto';
import type { Confidence, Detector, Severity } from '../types.js';
import { classCount, decodeBase64, decodeBase64Json, isHex, isKnownExample, isPlaceholder, shannonEntropy } from './util.js';

// ---------------------------------------------------------------------------------------------
// Factories
// ---------------------------------------------------------------------------------------------

interface BaseSpec {
  readonly id: string;
  readonly type: string;
  readonly title: string;
  readonly severity: Severity;
  readonly docs: string;
  readonly confidence?: Confidence;
  /** Minimum Shannon entropy of the random part (bits per char). */
  readonly minEntropy?: number;
  /** An extra check on the whole secret (a checksum, a decoded structure). */
  readonly check?: (secret: string) => boolean;
  readonly priority?: number;
  readonly window?: { readonly before?: number; readonly after?: number };
  readonly keywordCase?: 'exact';
}

export interface TokenSpec extends BaseSpec {
  readonly keywords: readonly string[];
  readonly pattern: RegExp;
  /** Length of the fixed prefix: the rest of the secret is the random part that is checked. */
  readonly prefixLength: number;
}

/** SHA-256 (hex) of values providers publish as examples in their docs (no credential-shaped literal here). */
const DOCUMENTED_EXAMPLES = new Set<string>([
  // Dynatrace's token-format example (docs.dynatrace.com, "Token format").
  '9154e2e6fbfb1e50a3f18fe4deb606917d1438eec3788a5dbc2af765e83f29ac',
]);

/** True for a documented example (by hash, or by the words every example uses). */
export function isDocumentedExample(secret: string): boolean {
  return isKnownExample(secret) || DOCUMENTED_EXAMPLES.has(createHash('sha256').update(secret, 'utf8').digest('hex'));
}

/** The random part of a candidate is real-looking: not a placeholder, not a documented example, enough entropy. */
function plausible(secret: string, random: string, minEntropy: number): boolean {
  if (random.length === 0 || isPlaceholder(random) || isDocumentedExample(secret)) return false;
  return shannonEntropy(random) >= minEntropy;
}

/** A prefixed token (see the module doc). */
export function token(spec: TokenSpec): Detector {
  const { prefixLength, minEntropy = 3.0, check, confidence = 'high', ...rest } = spec;
  return {
    ...rest,
    confidence,
    verify: (s) => plausible(s, s.slice(prefixLength), minEntropy) && (check === undefined || check(s)),
  };
}

export interface AnchoredSpec extends BaseSpec {
  /** Lower-case provider words; one must come right before the value's name. They are the keywords. */
  readonly words: readonly string[];
  /** Regex source of the value (case-insensitive in the pattern: `shape` checks case). */
  readonly value: string;
  /** The value's exact shape, case-sensitive, anchored. */
  readonly shape: RegExp;
  /** Characters that may not follow the value. */
  readonly tail?: string;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A keyword-anchored rule: `<provider word><up to 40 name chars><quote?><sep><quote?><value>`.
 * The gap is bounded and the separators are literal, so the pattern runs in linear time.
 */
export function anchored(spec: AnchoredSpec): Detector {
  const { words, value, shape, tail = 'A-Za-z0-9_', minEntropy = 3.0, check, confidence = 'medium', ...rest } = spec;
  const names = words.map(escapeRe).join('|');
  const pattern = new RegExp(
    `(?:${names})[\\w.-]{0,40}?["'\`\\]]{0,2}\\s{0,4}(?::=|=>|=|:|,|\\s)\\s{0,4}["'\`]?(${value})(?![${tail}])`,
    'i',
  );
  return {
    ...rest,
    confidence,
    keywords: words,
    pattern,
    verify: (s) =>
      shape.test(s) && plausible(s, s, minEntropy) && !(isHex(s) && /^\d+$/.test(s)) && (check === undefined || check(s)),
  };
}

const UUID_SRC = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Mixed case and digits: what a random alphanumeric token of 20+ characters nearly always has. */
const mixed = (s: string): boolean => classCount(s) >= 3 || (classCount(s) >= 2 && /[0-9]/.test(s));

// ---------------------------------------------------------------------------------------------
// Cloud and infrastructure
// ---------------------------------------------------------------------------------------------

const alibabaAccessKeyId = token({
  id: 'alibaba-access-key-id',
  type: 'alibaba-access-key',
  title: 'Alibaba Cloud AccessKey ID',
  severity: 'high',
  keywords: ['ltai'],
  pattern: /(?<![A-Za-z0-9])(LTAI[A-Za-z0-9]{12,20})(?![A-Za-z0-9])/,
  prefixLength: 4,
  check: mixed,
  docs: 'https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair',
});

const alibabaAccessKeySecret = anchored({
  id: 'alibaba-access-key-secret',
  type: 'alibaba-access-key',
  title: 'Alibaba Cloud AccessKey secret',
  severity: 'critical',
  words: ['alibaba', 'aliyun', 'alicloud', 'accesskeysecret', 'access_key_secret'],
  value: '[a-z0-9]{30}',
  shape: /^[A-Za-z0-9]{30}$/,
  check: mixed,
  docs: 'https://www.alibabacloud.com/help/en/ram/user-guide/create-an-accesskey-pair',
});

const tencentSecretId = token({
  id: 'tencent-cloud-secret-id',
  type: 'tencent-cloud-key',
  title: 'Tencent Cloud SecretId',
  severity: 'high',
  keywords: ['akid'],
  pattern: /(?<![A-Za-z0-9])(AKID[A-Za-z0-9]{32})(?![A-Za-z0-9])/,
  prefixLength: 4,
  check: mixed,
  docs: 'https://www.tencentcloud.com/document/product/598/32675',
});

const tencentSecretKey = anchored({
  id: 'tencent-cloud-secret-key',
  type: 'tencent-cloud-key',
  title: 'Tencent Cloud SecretKey',
  severity: 'critical',
  words: ['tencent', 'tencentcloud', 'qcloud'],
  value: '[a-z0-9]{32}',
  shape: /^[A-Za-z0-9]{32}$/,
  check: mixed,
  docs: 'https://www.tencentcloud.com/document/product/598/32675',
});

const ibmCloudApiKey = anchored({
  id: 'ibm-cloud-api-key',
  type: 'ibm-cloud-api-key',
  title: 'IBM Cloud API key',
  severity: 'critical',
  words: ['ibm_cloud', 'ibmcloud', 'ibm-cloud', 'ibm_api', 'ibm_iam', 'ic_api_key', 'bluemix'],
  value: '[a-z0-9_-]{44}',
  tail: 'A-Za-z0-9_-',
  shape: /^[A-Za-z0-9_-]{44}$/,
  check: mixed,
  docs: 'https://cloud.ibm.com/docs/account?topic=account-userapikey',
});

const oracleAuthToken = anchored({
  id: 'oracle-cloud-auth-token',
  type: 'oracle-cloud-auth-token',
  title: 'Oracle Cloud Infrastructure auth token',
  severity: 'high',
  confidence: 'low',
  words: ['oci_auth_token', 'oci-auth-token', 'ociauthtoken', 'oracle_auth_token', 'oci_cli_auth_token'],
  // 20 characters from letters, digits and a few symbols.
  value: '[a-z0-9+_#:;()<>.{}\\[\\]-]{20}',
  tail: 'A-Za-z0-9+_#:;()<>.{}\\[\\]-',
  shape: /^[A-Za-z0-9+_#:;()<>.{}[\]-]{20}$/,
  minEntropy: 3.6,
  check: (s) => classCount(s) >= 3,
  docs: 'https://docs.oracle.com/iaas/Content/Registry/Tasks/registrygettingauthtoken.htm',
});

const cloudflareApiToken = anchored({
  id: 'cloudflare-api-token',
  type: 'cloudflare-api-token',
  title: 'Cloudflare API token',
  severity: 'high',
  words: ['cloudflare', 'cf_api_token', 'cf_token', 'cf-api-token'],
  value: '[a-z0-9_-]{40}',
  tail: 'A-Za-z0-9_-',
  shape: /^[A-Za-z0-9_-]{40}$/,
  check: (s) => !isHex(s) && mixed(s),
  docs: 'https://developers.cloudflare.com/fundamentals/api/get-started/create-token/',
});

const cloudflareGlobalApiKey = anchored({
  id: 'cloudflare-global-api-key',
  type: 'cloudflare-global-api-key',
  title: 'Cloudflare global API key',
  severity: 'critical',
  words: ['cloudflare', 'cf_api_key', 'cf_key', 'x-auth-key'],
  value: '[a-f0-9]{37}',
  shape: /^[a-f0-9]{37}$/,
  docs: 'https://developers.cloudflare.com/fundamentals/api/get-started/keys/',
});

const cloudflareOriginCaKey = token({
  id: 'cloudflare-origin-ca-key',
  type: 'cloudflare-origin-ca-key',
  title: 'Cloudflare Origin CA key',
  severity: 'high',
  keywords: ['v1.0-'],
  pattern: /(?<![A-Za-z0-9_.-])(v1\.0-[a-f0-9]{24}-[a-f0-9]{146})(?![A-Za-z0-9_-])/,
  prefixLength: 5,
  docs: 'https://developers.cloudflare.com/fundamentals/api/get-started/ca-keys/',
});

const cloudflareTunnelToken = token({
  id: 'cloudflare-tunnel-token',
  type: 'cloudflare-tunnel-token',
  title: 'Cloudflare Tunnel token',
  severity: 'high',
  // base64 of `{"a":"<account tag>","t":"<tunnel id>","s":"<secret>"}`.
  keywords: ['eyjhijoi'],
  pattern: /(?<![A-Za-z0-9+/])(eyJhIjoi[A-Za-z0-9+/]{100,400}={0,2})(?![A-Za-z0-9+/=])/,
  prefixLength: 8,
  minEntropy: 4.0,
  check: (s) => {
    const o = decodeBase64Json(s);
    return typeof o?.['a'] === 'string' && typeof o['t'] === 'string' && typeof o['s'] === 'string';
  },
  docs: 'https://developers.cloudflare.com/cloudflare-one/connections/connect-networks/configure-tunnels/remote-tunnel-permissions/',
});

const linodeToken = anchored({
  id: 'linode-token',
  type: 'linode-token',
  title: 'Linode (Akamai Cloud) personal access token',
  severity: 'high',
  words: ['linode'],
  value: '[a-f0-9]{64}',
  shape: /^[a-f0-9]{64}$/,
  docs: 'https://techdocs.akamai.com/linode-api/reference/get-started#personal-access-tokens',
});

const vultrApiKey = anchored({
  id: 'vultr-api-key',
  type: 'vultr-api-key',
  title: 'Vultr API key',
  severity: 'high',
  words: ['vultr'],
  value: '[a-z0-9]{36}',
  shape: /^[A-Z0-9]{36}$/,
  check: mixed,
  docs: 'https://docs.vultr.com/platform/other/api/manage-api-access',
});

const hetznerCloudToken = anchored({
  id: 'hetzner-cloud-token',
  type: 'hetzner-cloud-token',
  title: 'Hetzner Cloud API token',
  severity: 'high',
  words: ['hetzner', 'hcloud'],
  value: '[a-z0-9]{64}',
  shape: /^[A-Za-z0-9]{64}$/,
  check: (s) => !isHex(s) && mixed(s),
  docs: 'https://docs.hetzner.com/cloud/api/getting-started/generating-api-token/',
});

const scalewaySecretKey = anchored({
  id: 'scaleway-secret-key',
  type: 'scaleway-key',
  title: 'Scaleway API secret key',
  severity: 'critical',
  words: ['scw_secret', 'scwsecret', 'scaleway'],
  value: UUID_SRC,
  tail: 'A-Za-z0-9_-',
  shape: UUID_SHAPE,
  docs: 'https://www.scaleway.com/en/docs/iam/how-to/create-api-keys/',
});

const fastlyApiToken = anchored({
  id: 'fastly-api-token',
  type: 'fastly-api-token',
  title: 'Fastly API token',
  severity: 'high',
  words: ['fastly'],
  value: '[a-z0-9_-]{32}',
  tail: 'A-Za-z0-9_-',
  shape: /^[A-Za-z0-9_-]{32}$/,
  check: (s) => !isHex(s) && mixed(s),
  docs: 'https://docs.fastly.com/en/guides/using-api-tokens',
});

const akamaiEdgegrid = token({
  id: 'akamai-edgegrid-client-token',
  type: 'akamai-edgegrid-credential',
  title: 'Akamai EdgeGrid client token',
  severity: 'high',
  keywords: ['akab-'],
  pattern: /(?<![A-Za-z0-9_-])(akab-[a-z0-9]{16}-[a-z0-9]{16})(?![A-Za-z0-9_-])/,
  prefixLength: 5,
  docs: 'https://techdocs.akamai.com/developer/docs/set-up-authentication-credentials',
});

const exoscaleApiKey = token({
  id: 'exoscale-api-key',
  type: 'exoscale-api-key',
  title: 'Exoscale API key',
  severity: 'high',
  keywords: ['EXO'],
  keywordCase: 'exact',
  pattern: /(?<![A-Za-z0-9_-])(EXO[a-f0-9]{24})(?![A-Za-z0-9_-])/,
  prefixLength: 3,
  docs: 'https://community.exoscale.com/documentation/iam/api-keys/',
});

const yandexCloudApiKey = token({
  id: 'yandex-cloud-api-key',
  type: 'yandex-cloud-key',
  title: 'Yandex Cloud API key',
  severity: 'high',
  keywords: ['aqvn'],
  pattern: /(?<![A-Za-z0-9_-])(AQVN[A-Za-z0-9_-]{35,38})(?![A-Za-z0-9_-])/,
  prefixLength: 4,
  check: (s) => mixed(s.slice(4)),
  docs: 'https://yandex.cloud/en/docs/iam/concepts/authorization/api-key',
});

const tailscaleKey = token({
  id: 'tailscale-key',
  type: 'tailscale-key',
  title: 'Tailscale auth key or API access token',
  severity: 'high',
  keywords: ['tskey-'],
  pattern: /(?<![A-Za-z0-9_-])(tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{10,20}-[A-Za-z0-9]{30,40})(?![A-Za-z0-9_-])/,
  prefixLength: 6,
  docs: 'https://tailscale.com/kb/1085/auth-keys',
});

const dockerSwarmJoinToken = token({
  id: 'docker-swarm-join-token',
  type: 'docker-swarm-join-token',
  title: 'Docker Swarm join token',
  severity: 'high',
  keywords: ['swmtkn-1-'],
  pattern: /(?<![A-Za-z0-9_-])(SWMTKN-1-[a-z0-9]{50}-[a-z0-9]{25})(?![A-Za-z0-9_-])/,
  prefixLength: 9,
  docs: 'https://docs.docker.com/engine/swarm/swarm-mode/#view-the-join-command-or-update-a-swarm-join-token',
});

const ngrokToken = anchored({
  id: 'ngrok-token',
  type: 'ngrok-token',
  title: 'ngrok authtoken or API key',
  severity: 'high',
  words: ['ngrok'],
  value: '[0-9a-z]{25,27}_[0-9a-z]{20,22}',
  shape: /^[0-9A-Za-z]{25,27}_[0-9A-Za-z]{20,22}$/,
  check: mixed,
  docs: 'https://ngrok.com/docs/agent/#authtokens',
});

const consulToken = anchored({
  id: 'consul-acl-token',
  type: 'consul-acl-token',
  title: 'HashiCorp Consul ACL token',
  severity: 'high',
  words: ['consul_http_token', 'consul_token', 'consulhttptoken', 'consul_acl', 'consul-token'],
  value: UUID_SRC,
  tail: 'A-Za-z0-9_-',
  shape: UUID_SHAPE,
  docs: 'https://developer.hashicorp.com/consul/docs/security/acl/tokens',
});

const nomadToken = anchored({
  id: 'nomad-acl-token',
  type: 'nomad-acl-token',
  title: 'HashiCorp Nomad ACL token',
  severity: 'high',
  words: ['nomad_token', 'nomadtoken', 'nomad-token', 'nomad_acl'],
  value: UUID_SRC,
  tail: 'A-Za-z0-9_-',
  shape: UUID_SHAPE,
  docs: 'https://developer.hashicorp.com/nomad/docs/concepts/acl',
});

const backblazeAppKey = anchored({
  id: 'backblaze-application-key',
  type: 'backblaze-b2-key',
  title: 'Backblaze B2 application key',
  severity: 'critical',
  words: ['backblaze', 'b2_application_key', 'b2_app_key', 'b2applicationkey', 'b2_key'],
  value: 'K[0-9a-z+/]{30}',
  tail: 'A-Za-z0-9+/_-',
  shape: /^K[0-9A-Za-z+/]{30}$/,
  check: (s) => mixed(s.slice(1)),
  docs: 'https://www.backblaze.com/docs/cloud-storage-application-keys',
});

const digitaloceanSpacesKey = anchored({
  id: 'digitalocean-spaces-secret',
  type: 'digitalocean-spaces-key',
  title: 'DigitalOcean Spaces secret key',
  severity: 'critical',
  words: ['spaces_secret', 'spacessecret', 'spaces-secret', 'do_spaces_secret', 'digitalocean_spaces'],
  value: '[a-z0-9+/]{43}',
  tail: 'A-Za-z0-9+/=',
  shape: /^[A-Za-z0-9+/]{43}$/,
  minEntropy: 4.0,
  check: mixed,
  docs: 'https://docs.digitalocean.com/products/spaces/how-to/manage-access/',
});

const ovhApplicationSecret = anchored({
  id: 'ovh-application-secret',
  type: 'ovh-api-key',
  title: 'OVHcloud API application secret or consumer key',
  severity: 'high',
  words: ['ovh_application_secret', 'ovh_consumer_key', 'ovhapplicationsecret', 'ovh_app_secret', 'ovh-application-secret'],
  value: '[a-z0-9]{32}',
  shape: /^[A-Za-z0-9]{32}$/,
  check: mixed,
  docs: 'https://help.ovhcloud.com/csm/en-api-getting-started-ovhcloud-api',
});

// ---------------------------------------------------------------------------------------------
// Developer platforms and hosting
// ---------------------------------------------------------------------------------------------

const netlifyToken = token({
  id: 'netlify-token',
  type: 'netlify-token',
  title: 'Netlify personal access token',
  severity: 'high',
  keywords: ['nfp_'],
  pattern: /(?<![A-Za-z0-9_])(nfp_[A-Za-z0-9]{36}[A-Za-z0-9]{0,4})(?![A-Za-z0-9_])/,
  prefixLength: 4,
  check: (s) => mixed(s.slice(4)),
  docs: 'https://docs.netlify.com/api/get-started/#authentication',
});

const netlifyTokenLegacy = anchored({
  id: 'netlify-token-legacy',
  type: 'netlify-token',
  title: 'Netlify access token (unprefixed)',
  severity: 'high',
  words: ['netlify'],
  value: '[a-z0-9_-]{43}',
  tail: 'A-Za-z0-9_-',
  shape: /^[A-Za-z0-9_-]{43}$/,
  check: mixed,
  docs: 'https://docs.netlify.com/api/get-started/#authentication',
});

const vercelToken = token({
  id: 'vercel-token',
  type: 'vercel-token',
  title: 'Vercel access token, integration token or API key',
  severity: 'high',
  keywords: ['vcp_', 'vci_', 'vca_', 'vcr_', 'vck_'],
  pattern: /(?<![A-Za-z0-9_])(vc[pciark]_[A-Za-z0-9]{24,64})(?![A-Za-z0-9_])/,
  prefixLength: 4,
  check: (s) => mixed(s.slice(4)),
  docs: 'https://vercel.com/changelog/new-token-formats-and-secret-scanning',
});

const vercelTokenLegacy = anchored({
  id: 'vercel-token-legacy',
  type: 'vercel-token',
  title: 'Vercel access token (unprefixed)',
  severity: 'high',
  words: ['vercel'],
  value: '[a-z0-9]{24}',
  shape: /^[A-Za-z0-9]{24}$/,
  check: (s) => classCount(s) >= 3,
  docs: 'https://vercel.com/docs/rest-api#creating-an-access-token',
});

const renderApiKey = token({
  id: 'render-api-key',
  type: 'render-api-key',
  title: 'Render API key',
  severity: 'high',
  keywords: ['rnd_'],
  pattern: /(?<![A-Za-z0-9_])(rnd_[A-Za-z0-9]{32})(?![A-Za-z0-9_])/,
  prefixLength: 4,
  check: (s) => mixed(s.slice(4)),
  docs: 'https://render.com/docs/api#1-create-an-api-key',
});

const flyioToken = token({
  id: 'flyio-token',
  type: 'flyio-token',
  title: 'Fly.io access token',
  severity: 'high',
  keywords: ['fo1_', 'flyv1 fm'],
  // `fo1_…` personal tokens; `FlyV1 fm2_…` macaroon tokens (comma-separated discharge parts).
  pattern: /(?<![A-Za-z0-9_])(fo1_[A-Za-z0-9_-]{43}|FlyV1 fm[12][ar]?_[A-Za-z0-9+/=_,-]{100,3000})(?![A-Za-z0-9_+/=,-])/,
  prefixLength: 4,
  minEntropy: 3.5,
  window: { before: 64, after: 3200 },
  docs: 'https://fly.io/docs/security/tokens/',
});

const railwayToken = anchored({
  id: 'railway-token',
  type: 'railway-token',
  title: 'Railway API or project token',
  severity: 'high',
  words: ['railway'],
  value: UUID_SRC,
  tail: 'A-Za-z0-9_-',
  shape: UUID_SHAPE,
  docs: 'https://docs.railway.com/guides/public-api#creating-a-token',
});

const denoDeployToken = token({
  id: 'deno-deploy-token',
  type: 'deno-deploy-token',
  title: 'Deno Deploy access token',
  severity: 'high',
  keywords: ['ddp_', 'ddo_'],
  pattern: /(?<![A-Za-z0-9_])(dd[po]_[A-Za-z0-9]{36})(?![A-Za-z0-9_])/,
  prefixLength: 4,
  check: (s) => mixed(s.slice(4)),
  docs: 'https://docs.deno.com/deploy/manual/api/',
});

const supabaseAccessToken = token({
  id: 'supabase-access-token',
  type: 'supabase-access-token',
  title: 'Supabase personal access token',
  severity: 'critical',
  keywords: ['sbp_'],
  pattern: /(?<![A-Za-z0-9_])(sbp_(?:oauth_)?[a-f0-9]{40})(?![A-Za-z0-9_])/,
  prefixLength: 4,
  docs: 'https://supabase.com/docs/reference/api/introduction#authentication',
});

const supabaseSecretKey = token({
  id: 'supabase-secret-key',
  type: 'supabase-secret-key',
  title: 'Supabase secret API key',
  severity: 'critical',
  keywords: ['sb_secret_'],
  pattern: /(?<![A-Za-z0-9_])(sb_secret_[A-Za-z0-9_-]{31,40})(?![A-Za-z0-9_-])/,
  prefixLength: 10,
  docs: 'https://supabase.com/docs/guides/api/api-keys',
});

/** A JWT whose payload says `"role": "service_role"` (Supabase's legacy service key). */
function isServiceRoleJwt(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 3) return false;
  const header = decodeBase64Json(parts[0]!);
  const payload = decodeBase64Json(parts[1]!);
  return typeof header?.['alg'] === 'string' && payload?.['role'] === 'service_role';
}

const supabaseServiceRoleKey: Detector = {
  id: 'supabase-service-role-key',
  type: 'supabase-service-role-key',
  title: 'Supabase service_role key (JWT)',
  severity: 'critical',
  confidence: 'high',
  // The key's name (`SUPABASE_SERVICE_ROLE_KEY`) precedes it; a bare JWT is the JWT rule's.
  keywords: ['service_role', 'supabase'],
  pattern: /(?<![A-Za-z0-9_.-])(eyJ[A-Za-z0-9_-]{12,200}\.eyJ[A-Za-z0-9_-]{40,1000}\.[A-Za-z0-9_-]{20,400})(?![A-Za-z0-9_.=-])/,
  window: { before: 16, after: 1800 },
  verify: (s) => isServiceRoleJwt(s),
  // Beats the generic JWT rule on the same span.
  priority: 20,
  docs: 'https://supabase.com/docs/guides/api/api-keys',
};

const planetscaleToken = token({
  id: 'planetscale-token',
  type: 'planetscale-token',
  title: 'PlanetScale service token or OAuth token',
  severity: 'high',
  keywords: ['pscale_tkn_', 'pscale_oauth_'],
  pattern: /(?<![A-Za-z0-9_])(pscale_(?:tkn|oauth)_[A-Za-z0-9_.-]{32,64})(?![A-Za-z0-9_.-])/,
  prefixLength: 11,
  docs: 'https://planetscale.com/docs/concepts/service-tokens',
});

const planetscalePassword = token({
  id: 'planetscale-password',
  type: 'planetscale-password',
  title: 'PlanetScale database password',
  severity: 'critical',
  keywords: ['pscale_pw_'],
  pattern: /(?<![A-Za-z0-9_])(pscale_pw_[A-Za-z0-9_.-]{32,64})(?![A-Za-z0-9_.-])/,
  prefixLength: 10,
  docs: 'https://planetscale.com/docs/concepts/connection-strings',
});

const neonApiKey = token({
  id: 'neon-api-key',
  type: 'neon-api-key',
  title: 'Neon API key',
  severity: 'high',
  keywords: ['napi_'],
  keywordCase: 'exact',
  pattern: /(?<![A-Za-z0-9_])(napi_[a-z0-9]{64})(?![A-Za-z0-9_])/,
  prefixLength: 5,
  docs: 'https://neon.tech/docs/manage/api-keys',
});

const mongodbAtlasKey = anchored({
  id: 'mongodb-atlas-private-key',
  type: 'mongodb-atlas-api-key',
  title: 'MongoDB Atlas API private key',
  severity: 'critical',
  words: ['atlas_private', 'atlasprivate', 'atlas-private', 'mongodb_atlas', 'mongodbatlas', 'mcli_private'],
  value: UUID_SRC,
  tail: 'A-Za-z0-9_-',
  shape: UUID_SHAPE,
  docs: 'https://www.mongodb.com/docs/atlas/configure-api-access/',
});

const mongodbAtlasServiceAccount = token({
  id: 'mongodb-atlas-service-account-secret',
  type: 'mongodb-atlas-api-key',
  title: 'MongoDB Atlas service account secret',
  severity: 'critical',
  keywords: ['mdb_sa_sk_'],
  pattern: /(?<![A-Za-z0-9_])(mdb_sa_sk_[A-Za-z0-9_-]{40,64})(?![A-Za-z0-9_-])/,
  prefixLength: 10,
  docs: 'https://www.mongodb.com/docs/atlas/api/service-accounts-overview/',
});

const confluentApiSecret = anchored({
  id: 'confluent-api-secret',
  type: 'confluent-api-key',
  title: 'Confluent Cloud API secret',
  severity: 'critical',
  words: ['confluent', 'kafka_api_secret', 'sasl_password', 'ccloud'],
  value: '[a-z0-9+/]{64}',
  tail: 'A-Za-z0-9+/=',
  shape: /^[A-Za-z0-9+/]{64}$/,
  minEntropy: 4.2,
  check: (s) => !isHex(s) && mixed(s),
  docs: 'https://docs.confluent.io/cloud/current/security/authenticate/workload-identities/service-accounts/api-keys/overview.html',
});

const snowflakePat = anchored({
  id: 'snowflake-password',
  type: 'snowflake-credential',
  title: 'Snowflake account password or programmatic access token',
  severity: 'critical',
  confidence: 'low',
  words: ['snowflake_password', 'snowflakepassword', 'snowflake-password', 'snowflake_token', 'snowsql_pwd', 'snowflake_pat'],
  value: '[^\\s"\'`]{8,120}',
  tail: '^\\s"\'`',
  shape: /^[^\s"'`]{8,120}$/,
  minEntropy: 3.0,
  check: (s) => classCount(s) >= 3 && !s.startsWith('$'),
  docs: 'https://docs.snowflake.com/en/user-guide/programmatic-access-tokens',
});

const octopusDeployApiKey = anchored({
  id: 'octopus-deploy-api-key',
  type: 'octopus-deploy-api-key',
  title: 'Octopus Deploy API key',
  severity: 'high',
  confidence: 'high',
  words: ['octopus'],
  value: 'API-[a-z0-9]{26,32}',
  tail: 'A-Za-z0-9',
  shape: /^API-[A-Z0-9]{26,32}$/,
  docs: 'https://octopus.com/docs/octopus-rest-api/how-to-create-an-api-key',
});

const harnessToken = token({
  id: 'harness-token',
  type: 'harness-token',
  title: 'Harness personal access or service account token',
  severity: 'high',
  keywords: ['pat.', 'sat.'],
  pattern: /(?<![A-Za-z0-9_.])((?:pat|sat)\.[A-Za-z0-9_-]{22}\.[a-f0-9]{24}\.[A-Za-z0-9]{20})(?![A-Za-z0-9_.-])/,
  prefixLength: 4,
  docs: 'https://developer.harness.io/docs/platform/automation/api/add-and-manage-api-keys/',
});

const infracostApiKey = token({
  id: 'infracost-api-key',
  type: 'infracost-api-key',
  title: 'Infracost API key',
  severity: 'medium',
  keywords: ['ico-'],
  pattern: /(?<![A-Za-z0-9_-])(ico-[A-Za-z0-9]{32})(?![A-Za-z0-9_-])/,
  prefixLength: 4,
  check: (s) => mixed(s.slice(4)),
  docs: 'https://www.infracost.io/docs/features/environment_variables/',
});

const prefectApiKey = token({
  id: 'prefect-api-key',
  type: 'prefect-api-key',
  title: 'Prefect Cloud API key',
  severity: 'high',
  keywords: ['pnu_', 'pnb_'],
  pattern: /(?<![A-Za-z0-9_])(pn[ub]_[A-Za-z0-9]{36})(?![A-Za-z0-9_])/,
  prefixLength: 4,
  check: (s) => mixed(s.slice(4)),
  docs: 'https://docs.prefect.io/v3/manage/cloud/manage-users/api-keys',
});

const readmeApiKey = token({
  id: 'readme-api-key',
  type: 'readme-api-key',
  title: 'ReadMe API key',
  severity: 'medium',
  keywords: ['rdme_'],
  pattern: /(?<![A-Za-z0-9_])(rdme_[a-z0-9]{70})(?![A-Za-z0-9_])/,
  prefixLength: 5,
  docs: 'https://docs.readme.com/main/reference/intro-to-the-readme-api#authentication',
});

const oryApiKey = token({
  id: 'ory-api-key',
  type: 'ory-api-key',
  title: 'Ory Network API key or personal access token',
  severity: 'high',
  keywords: ['ory_pat_', 'ory_apikey_', 'ory_wak_'],
  pattern: /(?<![A-Za-z0-9_])(ory_(?:pat|apikey|wak)_[A-Za-z0-9]{32,64})(?![A-Za-z0-9_])/,
  prefixLength: 8,
  check: (s) => mixed(s.slice(s.indexOf('_', 4) + 1)),
  docs: 'https://www.ory.sh/docs/concepts/personal-access-token',
});

// ---------------------------------------------------------------------------------------------
// Code quality, CI and source hosting
// ---------------------------------------------------------------------------------------------

const snykToken = anchored({
  id: 'snyk-token',
  type: 'snyk-token',
  title: 'Snyk API token',
  severity: 'high',
  words: ['snyk'],
  value: UUID_SRC,
  tail: 'A-Za-z0-9_-',
  shape: UUID_SHAPE,
  docs: 'https://docs.snyk.io/snyk-api/authentication-for-api',
});

const sonarToken = token({
  id: 'sonar-token',
  type: 'sonar-token',
  title: 'SonarQube / SonarCloud user, project or global analysis token',
  severity: 'high',
  keywords: ['squ_', 'sqp_', 'sqa_'],
  pattern: /(?<![A-Za-z0-9_])(sq[upa]_[a-f0-9]{40})(?![A-Za-z0-9_])/,
  prefixLength: 4,
  docs: 'https://docs.sonarsource.com/sonarqube-server/latest/user-guide/managing-tokens/',
});

const sonarTokenLegacy = anchored({
  id: 'sonar-token-legacy',
  type: 'sonar-token',
  title: 'SonarQube / SonarCloud token (unprefixed)',
  severity: 'high',
  words: ['sonar'],
  value: '[a-f0-9]{40}',
  shape: /^[a-f0-9]{40}$/,
  docs: 'https://docs.sonarsource.com/sonarqube-server/latest/user-guide/managing-tokens/',
});

const sentryOrgToken = token({
  id: 'sentry-org-token',
  type: 'sentry-token',
  title: 'Sentry organization auth token',
  severity: 'high',
  keywords: ['sntrys_'],
  // `sntrys_` + base64 of a JSON object with `iat`, `url`, `org` + `_` + a 43-character secret.
  pattern: /(?<![A-Za-z0-9_])(sntrys_eyJ[A-Za-z0-9+/=]{40,400}_[A-Za-z0-9+/]{43})(?![A-Za-z0-9_+/=])/,
  prefixLength: 7,
  minEntropy: 4.0,
  check: (s) => {
    const body = s.slice(7, s.lastIndexOf('_'));
    const o = decodeBase64Json(body);
    return o !== undefined && 'org' in o;
  },
  docs: 'https://docs.sentry.io/account/auth-tokens/#organization-tokens',
});

const sentryDsn: Detector = {
  id: 'sentry-dsn',
  type: 'sentry-dsn',
  title: 'Sentry DSN (client key)',
  severity: 'low',
  confidence: 'high',
  keywords: ['sentry.io'],
  // The public key is the user part; a legacy DSN also carries a secret key after a colon.
  pattern: /https?:\/\/([a-f0-9]{32}(?::[a-f0-9]{32})?)@o?\d{0,12}\.?ingest(?:\.[a-z]{2})?\.sentry\.io\/\d{1,12}/,
  verify: (s) => !isPlaceholder(s) && shannonEntropy(s) >= 3.0,
  docs: 'https://docs.sentry.io/concepts/key-terms/dsn-explainer/',
};

const circleciToken = token({
  id: 'circleci-personal-token',
  type: 'circleci-token',
  title: 'CircleCI personal API token',
  severity: 'high',
  keywords: ['ccipat_'],
  pattern: /(?<![A-Za-z0-9_])(CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})(?![A-Za-z0-9_])/,
  prefixLength: 7,
  docs: 'https://circleci.com/docs/managing-api-tokens/',
});

const circleciTokenLegacy = anchored({
  id: 'circleci-token-legacy',
  type: 'circleci-token',
  title: 'CircleCI API token (unprefixed)',
  severity: 'high',
  words: ['circleci', 'circle_token', 'circle-token', 'circletoken'],
  value: '[a-f0-9]{40}',
  shape: /^[a-f0-9]{40}$/,
  docs: 'https://circleci.com/docs/managing-api-tokens/',
});

const travisToken = anchored({
  id: 'travis-ci-token',
  type: 'travis-ci-token',
  title: 'Travis CI API token',
  severity: 'high',
  words: ['travis'],
  value: '[a-z0-9_-]{22}',
  tail: 'A-Za-z0-9_-',
  shape: /^[A-Za-z0-9_-]{22}$/,
  check: mixed,
  docs: 'https://docs.travis-ci.com/user/triggering-builds/',
});

const buildkiteToken = token({
  id: 'buildkite-token',
  type: 'buildkite-token',
  title: 'Buildkite API access token or agent token',
  severity: 'high',
  keywords: ['bkua_', 'bkaa_', 'bkaj_', 'bkct_'],
  pattern: /(?<![A-Za-z0-9_])(bk(?:ua|aa|aj|ct)_[A-Za-z0-9]{40,80})(?![A-Za-z0-9_])/,
  prefixLength: 5,
  docs: 'https://buildkite.com/docs/platform/security/tokens',
});

const codecovToken = anchored({
  id: 'codecov-token',
  type: 'codecov-token',
  title: 'Codecov upload or API token',
  severity: 'medium',
  words: ['codecov'],
  value: UUID_SRC,
  tail: 'A-Za-z0-9_-',
  shape: UUID_SHAPE,
  docs: 'https://docs.codecov.com/docs/codecov-tokens',
});

const bitbucketAppPassword = token({
  id: 'bitbucket-app-password',
  type: 'bitbucket-token',
  title: 'Bitbucket app password',
  severity: 'high',
  keywords: ['atbb'],
  pattern: /(?<![A-Za-z0-9_])(ATBB[A-Za-z0-9_=.-]{28,32}[A-F0-9]{8})(?![A-Za-z0-9_=.-])/,
  prefixLength: 4,
  check: (s) => mixed(s.slice(4)),
  docs: 'https://support.atlassian.com/bitbucket-cloud/docs/app-passwords/',
});

const jfrogReferenceToken = token({
  id: 'jfrog-token',
  type: 'jfrog-token',
  title: 'JFrog Artifactory access token, reference token or API key',
  severity: 'high',
  // Reference tokens start with base64 of `reftkn:01:`; legacy API keys with `AKCp`.
  keywords: ['cmvmdgtu', 'akcp'],
  pattern: /(?<![A-Za-z0-9_])(cmVmdGtuOjAxOj[A-Za-z0-9]{50}|AKCp[A-Za-z0-9]{69})(?![A-Za-z0-9_])/,
  prefixLength: 4,
  minEntropy: 3.5,
  docs: 'https://jfrog.com/help/r/jfrog-platform-administration-documentation/access-tokens',
});

const dockerHubToken = token({
  id: 'docker-hub-token',
  type: 'docker-hub-token',
  title: 'Docker Hub personal or organization access token',
  severity: 'high',
  keywords: ['dckr_pat_', 'dckr_oat_'],
  pattern: /(?<![A-Za-z0-9_])(dckr_(?:pat|oat)_[A-Za-z0-9_-]{27,32})(?![A-Za-z0-9_-])/,
  prefixLength: 9,
  docs: 'https://docs.docker.com/security/for-developers/access-tokens/',
});

const nugetApiKey = token({
  id: 'nuget-api-key',
  type: 'nuget-api-key',
  title: 'NuGet.org API key',
  severity: 'high',
  keywords: ['oy2'],
  pattern: /(?<![A-Za-z0-9_])(oy2[a-z0-9]{43})(?![A-Za-z0-9_])/,
  prefixLength: 3,
  docs: 'https://learn.microsoft.com/nuget/nuget-org/scoped-api-keys',
});

const cratesIoToken = token({
  id: 'crates-io-token',
  type: 'crates-io-token',
  title: 'crates.io API token',
  severity: 'high',
  keywords: ['cio'],
  keywordCase: 'exact',
  pattern: /(?<![A-Za-z0-9_])(cio[A-Za-z0-9]{32})(?![A-Za-z0-9_])/,
  prefixLength: 3,
  minEntropy: 3.6,
  check: (s) => classCount(s.slice(3)) >= 3,
  docs: 'https://doc.rust-lang.org/cargo/reference/registry-authentication.html',
});

const sourcegraphToken = token({
  id: 'sourcegraph-token',
  type: 'sourcegraph-token',
  title: 'Sourcegraph access token',
  severity: 'high',
  keywords: ['sgp_'],
  pattern: /(?<![A-Za-z0-9_])(sgp_(?:[a-f0-9]{16}_)?[a-f0-9]{40})(?![A-Za-z0-9_])/,
  prefixLength: 4,
  docs: 'https://sourcegraph.com/docs/cli/how-tos/creating_an_access_token',
});

const teamcityToken = token({
  id: 'teamcity-token',
  type: 'teamcity-token',
  title: 'JetBrains TeamCity access token',
  severity: 'high',
  // base64 of `{"typ": "TCV2"}`.
  keywords: ['eyj0exaioiaivenwmij9'],
  pattern: /(?<![A-Za-z0-9_.-])(eyJ0eXAiOiAiVENWMiJ9\.[A-Za-z0-9_-]{36}\.[A-Za-z0-9_-]{48})(?![A-Za-z0-9_.-])/,
  prefixLength: 21,
  minEntropy: 3.5,
  priority: 20,
  docs: 'https://www.jetbrains.com/help/teamcity/configuring-your-user-profile.html#Managing+Access+Tokens',
});

const jenkinsApiToken = anchored({
  id: 'jenkins-api-token',
  type: 'jenkins-api-token',
  title: 'Jenkins API token',
  severity: 'high',
  words: ['jenkins'],
  value: '11[a-f0-9]{32}',
  shape: /^11[a-f0-9]{32}$/,
  docs: 'https://www.jenkins.io/doc/book/using/remote-access-api/',
});

const giteaToken = anchored({
  id: 'gitea-token',
  type: 'gitea-token',
  title: 'Gitea / Forgejo access token',
  severity: 'high',
  words: ['gitea', 'forgejo'],
  value: '[a-f0-9]{40}',
  shape: /^[a-f0-9]{40}$/,
  docs: 'https://docs.gitea.com/development/api-usage#generating-and-listing-api-tokens',
});

const droneToken = anchored({
  id: 'drone-ci-token',
  type: 'drone-ci-token',
  title: 'Drone CI access token',
  severity: 'high',
  words: ['drone_token', 'dronetoken', 'drone-token'],
  value: '[a-z0-9]{32}',
  shape: /^[A-Za-z0-9]{32}$/,
  check: mixed,
  docs: 'https://docs.drone.io/cli/setup/',
});

// ---------------------------------------------------------------------------------------------
// Observability and incident response
// ---------------------------------------------------------------------------------------------

const newRelicInsightsKey = token({
  id: 'new-relic-insights-key',
  type: 'new-relic-insights-key',
  title: 'New Relic Insights insert or query key',
  severity: 'high',
  keywords: ['nrii-', 'nriq-'],
  pattern: /(?<![A-Za-z0-9_-])(NRI[IQ]-[A-Za-z0-9_-]{32})(?![A-Za-z0-9_-])/,
  prefixLength: 5,
  docs: 'https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/',
});

const newRelicAdminKey = token({
  id: 'new-relic-admin-key',
  type: 'new-relic-admin-key',
  title: 'New Relic REST API (admin) key',
  severity: 'high',
  keywords: ['nraa-'],
  pattern: /(?<![A-Za-z0-9_-])(NRAA-[a-f0-9]{27})(?![A-Za-z0-9_-])/,
  prefixLength: 5,
  docs: 'https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/',
});

const newRelicLicenseKey = token({
  id: 'new-relic-license-key',
  type: 'new-relic-license-key',
  title: 'New Relic ingest license key',
  severity: 'high',
  keywords: ['nral'],
  pattern: /(?<![A-Za-z0-9_-])([a-f0-9]{36}NRAL)(?![A-Za-z0-9_-])/,
  prefixLength: 0,
  docs: 'https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys/#license-key',
});

const dynatraceToken = token({
  id: 'dynatrace-token',
  type: 'dynatrace-token',
  title: 'Dynatrace API, PaaS or platform token',
  severity: 'high',
  keywords: ['dt0'],
  // prefix `dt0` + type letter + two digits, a 24-character public part, a 64-character secret part.
  pattern: /(?<![A-Za-z0-9_.])(dt0[a-z]\d{2}\.[A-Z2-7]{24}\.[A-Z2-7]{64})(?![A-Za-z0-9_.])/,
  prefixLength: 32,
  docs: 'https://docs.dynatrace.com/docs/dynatrace-api/basics/dynatrace-api-authentication',
});

const honeycombKey = token({
  id: 'honeycomb-ingest-key',
  type: 'honeycomb-api-key',
  title: 'Honeycomb ingest key',
  severity: 'high',
  keywords: ['hcaik_', 'hcxik_'],
  pattern: /(?<![A-Za-z0-9_])(hc[ax]ik_[a-z0-9]{58})(?![A-Za-z0-9_])/,
  prefixLength: 6,
  docs: 'https://docs.honeycomb.io/configure/environments/manage-api-keys/',
});

const honeycombConfigKey = anchored({
  id: 'honeycomb-api-key',
  type: 'honeycomb-api-key',
  title: 'Honeycomb configuration or classic API key',
  severity: 'high',
  words: ['honeycomb', 'x-honeycomb-team'],
  value: '[a-z0-9]{22}|[a-f0-9]{32}',
  shape: /^(?:[A-Za-z0-9]{22}|[a-f0-9]{32})$/,
  check: mixed,
  docs: 'https://docs.honeycomb.io/configure/environments/manage-api-keys/',
});

const splunkHecToken = anchored({
  id: 'splunk-hec-token',
  type: 'splunk-hec-token',
  title: 'Splunk HTTP Event Collector token',
  severity: 'high',
  words: ['splunk'],
  value: UUID_SRC,
  tail: 'A-Za-z0-9_-',
  shape: /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/,
  docs: 'https://docs.splunk.com/Documentation/Splunk/latest/Data/UsetheHTTPEventCollector',
});

const elasticApiKey = anchored({
  id: 'elastic-api-key',
  type: 'elastic-api-key',
  title: 'Elasticsearch / Elastic Cloud API key',
  severity: 'high',
  words: ['elastic', 'es_api_key', 'elasticsearch'],
  // Encoded form: base64 of `<id>:<key>` (20 + 1 + 22 characters, or longer).
  value: '[a-z0-9+/]{56,100}={0,2}|essu_[a-z0-9+/]{40,120}={0,2}',
  tail: 'A-Za-z0-9+/=',
  shape: /^(?:essu_)?[A-Za-z0-9+/]{40,100}={0,2}$/,
  minEntropy: 4.0,
  check: (s) => {
    if (s.startsWith('essu_')) return true;
    const decoded = decodeBase64(s)?.toString('latin1') ?? '';
    return /^[A-Za-z0-9_-]{16,40}:[A-Za-z0-9_-]{16,60}$/.test(decoded);
  },
  docs: 'https://www.elastic.co/guide/en/elasticsearch/reference/current/security-api-create-api-key.html',
});

const pagerdutyKey = anchored({
  id: 'pagerduty-api-key',
  type: 'pagerduty-api-key',
  title: 'PagerDuty REST API key',
  severity: 'high',
  words: ['pagerduty', 'pager_duty'],
  value: 'u\\+[a-z0-9_+-]{18}|[a-z0-9_+-]{20}',
  tail: 'A-Za-z0-9_+-',
  shape: /^(?:u\+[A-Za-z0-9_+-]{18}|[A-Za-z0-9_+-]{20})$/,
  check: mixed,
  docs: 'https://support.pagerduty.com/main/docs/api-access-keys',
});

const opsgenieKey = anchored({
  id: 'opsgenie-api-key',
  type: 'opsgenie-api-key',
  title: 'Opsgenie API key',
  severity: 'high',
  words: ['opsgenie', 'genie_key', 'geniekey'],
  value: UUID_SRC,
  tail: 'A-Za-z0-9_-',
  shape: UUID_SHAPE,
  docs: 'https://support.atlassian.com/opsgenie/docs/api-key-management/',
});

const rollbarToken = anchored({
  id: 'rollbar-access-token',
  type: 'rollbar-access-token',
  title: 'Rollbar access token',
  severity: 'medium',
  words: ['rollbar'],
  value: '[a-f0-9]{32}',
  shape: /^[a-f0-9]{32}$/,
  docs: 'https://docs.rollbar.com/docs/access-tokens',
});

const bugsnagKey = anchored({
  id: 'bugsnag-api-key',
  type: 'bugsnag-api-key',
  title: 'Bugsnag API or auth token',
  severity: 'medium',
  words: ['bugsnag'],
  value: '[a-f0-9]{32}|[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}',
  tail: 'A-Za-z0-9_-',
  shape: /^(?:[a-f0-9]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
  docs: 'https://docs.bugsnag.com/api/data-access/#authentication',
});

const launchdarklyKey = anchored({
  id: 'launchdarkly-key',
  type: 'launchdarkly-key',
  title: 'LaunchDarkly API access token or server-side SDK key',
  severity: 'high',
  confidence: 'high',
  words: ['launchdarkly', 'launch_darkly', 'ld_sdk_key', 'ld_api_key', 'ld_access_token'],
  value: `(?:api|sdk)-${UUID_SRC}`,
  tail: 'A-Za-z0-9_-',
  shape: /^(?:api|sdk)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
  docs: 'https://docs.launchdarkly.com/home/account/api',
});

// ---------------------------------------------------------------------------------------------
// Identity providers
// ---------------------------------------------------------------------------------------------

const oktaApiToken = anchored({
  id: 'okta-api-token',
  type: 'okta-api-token',
  title: 'Okta API token',
  severity: 'critical',
  words: ['okta'],
  value: '00[a-z0-9_-]{40}',
  tail: 'A-Za-z0-9_-',
  shape: /^00[A-Za-z0-9_-]{40}$/,
  check: (s) => mixed(s.slice(2)),
  docs: 'https://developer.okta.com/docs/guides/create-an-api-token/main/',
});

const auth0ClientSecret = anchored({
  id: 'auth0-client-secret',
  type: 'auth0-client-secret',
  title: 'Auth0 client secret',
  severity: 'critical',
  words: ['auth0'],
  value: '[a-z0-9_-]{64}',
  tail: 'A-Za-z0-9_-',
  shape: /^[A-Za-z0-9_-]{64}$/,
  minEntropy: 4.2,
  check: (s) => !isHex(s) && mixed(s),
  docs: 'https://auth0.com/docs/get-started/applications/rotate-client-secret',
});

const clerkSecretKey = anchored({
  id: 'clerk-secret-key',
  type: 'clerk-secret-key',
  title: 'Clerk secret key',
  severity: 'critical',
  confidence: 'high',
  // Stripe uses the same `sk_live_` prefix: the Clerk name must come first, and this rule wins the span.
  words: ['clerk'],
  value: 'sk_(?:live|test)_[a-z0-9]{40,50}',
  shape: /^sk_(?:live|test)_[A-Za-z0-9]{40,50}$/,
  check: (s) => mixed(s.slice(8)),
  priority: 15,
  docs: 'https://clerk.com/docs/deployments/clerk-environment-variables',
});

const keycloakClientSecret = anchored({
  id: 'keycloak-client-secret',
  type: 'keycloak-client-secret',
  title: 'Keycloak client secret',
  severity: 'high',
  words: ['keycloak'],
  value: '[a-z0-9]{32}',
  shape: /^[A-Za-z0-9]{32}$/,
  check: (s) => classCount(s) >= 3,
  docs: 'https://www.keycloak.org/docs/latest/server_admin/#_client-credentials',
});

// ---------------------------------------------------------------------------------------------
// Firebase
// ---------------------------------------------------------------------------------------------

const firebaseFcmServerKey = token({
  id: 'firebase-fcm-server-key',
  type: 'firebase-cloud-messaging-key',
  title: 'Firebase Cloud Messaging legacy server key',
  severity: 'high',
  keywords: [':apa91b'],
  pattern: /(?<![A-Za-z0-9_-])(AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134})(?![A-Za-z0-9_-])/,
  prefixLength: 18,
  docs: 'https://firebase.google.com/docs/cloud-messaging/auth-server',
});

// ---------------------------------------------------------------------------------------------
// AI providers
// ---------------------------------------------------------------------------------------------

const perplexityApiKey = token({
  id: 'perplexity-api-key',
  type: 'perplexity-api-key',
  title: 'Perplexity API key',
  severity: 'high',
  keywords: ['pplx-'],
  pattern: /(?<![A-Za-z0-9_-])(pplx-[A-Za-z0-9]{48})(?![A-Za-z0-9_-])/,
  prefixLength: 5,
  docs: 'https://docs.perplexity.ai/guides/getting-started',
});

const groqApiKey = token({
  id: 'groq-api-key',
  type: 'groq-api-key',
  title: 'Groq API key',
  severity: 'high',
  keywords: ['gsk_'],
  pattern: /(?<![A-Za-z0-9_])(gsk_[A-Za-z0-9]{52})(?![A-Za-z0-9_])/,
  prefixLength: 4,
  docs: 'https://console.groq.com/docs/api-keys',
});

const xaiApiKey = token({
  id: 'xai-api-key',
  type: 'xai-api-key',
  title: 'xAI API key',
  severity: 'high',
  keywords: ['xai-'],
  pattern: /(?<![A-Za-z0-9_-])(xai-[A-Za-z0-9]{80})(?![A-Za-z0-9_-])/,
  prefixLength: 4,
  docs: 'https://docs.x.ai/docs/overview',
});

const replicateApiToken = token({
  id: 'replicate-api-token',
  type: 'replicate-api-token',
  title: 'Replicate API token',
  severity: 'high',
  keywords: ['r8_'],
  pattern: /(?<![A-Za-z0-9_])(r8_[A-Za-z0-9]{37})(?![A-Za-z0-9_])/,
  prefixLength: 3,
  check: (s) => mixed(s.slice(3)),
  docs: 'https://replicate.com/docs/topics/security/api-tokens',
});

const openrouterApiKey = token({
  id: 'openrouter-api-key',
  type: 'openrouter-api-key',
  title: 'OpenRouter API key',
  severity: 'high',
  keywords: ['sk-or-v1-'],
  pattern: /(?<![A-Za-z0-9_-])(sk-or-v1-[a-f0-9]{64})(?![A-Za-z0-9_-])/,
  prefixLength: 9,
  docs: 'https://openrouter.ai/docs/api-reference/authentication',
});

const pineconeApiKey = token({
  id: 'pinecone-api-key',
  type: 'pinecone-api-key',
  title: 'Pinecone API key',
  severity: 'high',
  keywords: ['pcsk_'],
  pattern: /(?<![A-Za-z0-9_])(pcsk_[A-Za-z0-9]{5,6}_[A-Za-z0-9]{60,70})(?![A-Za-z0-9_])/,
  prefixLength: 5,
  docs: 'https://docs.pinecone.io/guides/projects/manage-api-keys',
});

const langsmithApiKey = token({
  id: 'langsmith-api-key',
  type: 'langsmith-api-key',
  title: 'LangSmith API key',
  severity: 'high',
  keywords: ['lsv2_pt_', 'lsv2_sk_'],
  pattern: /(?<![A-Za-z0-9_])(lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})(?![A-Za-z0-9_])/,
  prefixLength: 8,
  docs: 'https://docs.smith.langchain.com/administration/how_to_guides/organization_management/create_account_api_key',
});

const nvidiaApiKey = token({
  id: 'nvidia-api-key',
  type: 'nvidia-api-key',
  title: 'NVIDIA NGC / API Catalog key',
  severity: 'high',
  keywords: ['nvapi-'],
  pattern: /(?<![A-Za-z0-9_-])(nvapi-[A-Za-z0-9_-]{64})(?![A-Za-z0-9_-])/,
  prefixLength: 6,
  docs: 'https://docs.nvidia.com/ngc/gpu-cloud/ngc-user-guide/index.html#generating-api-key',
});

const cerebrasApiKey = token({
  id: 'cerebras-api-key',
  type: 'cerebras-api-key',
  title: 'Cerebras Inference API key',
  severity: 'high',
  keywords: ['csk-'],
  pattern: /(?<![A-Za-z0-9_-])(csk-[a-z0-9]{48})(?![A-Za-z0-9_-])/,
  prefixLength: 4,
  docs: 'https://inference-docs.cerebras.ai/quickstart',
});

const togetherApiKey = token({
  id: 'together-api-key',
  type: 'together-api-key',
  title: 'Together AI API key',
  severity: 'high',
  keywords: ['tgp_v1_'],
  pattern: /(?<![A-Za-z0-9_])(tgp_v1_[A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/,
  prefixLength: 7,
  docs: 'https://docs.together.ai/reference/authentication-1',
});

const togetherApiKeyLegacy = anchored({
  id: 'together-api-key-legacy',
  type: 'together-api-key',
  title: 'Together AI API key (unprefixed)',
  severity: 'high',
  words: ['together'],
  value: '[a-f0-9]{64}',
  shape: /^[a-f0-9]{64}$/,
  docs: 'https://docs.together.ai/reference/authentication-1',
});

const cohereApiKey = anchored({
  id: 'cohere-api-key',
  type: 'cohere-api-key',
  title: 'Cohere API key',
  severity: 'high',
  words: ['cohere', 'co_api_key'],
  value: '[a-z0-9]{40}',
  shape: /^[A-Za-z0-9]{40}$/,
  check: (s) => classCount(s) >= 3,
  docs: 'https://docs.cohere.com/docs/rate-limits',
});

const mistralApiKey = anchored({
  id: 'mistral-api-key',
  type: 'mistral-api-key',
  title: 'Mistral AI API key',
  severity: 'high',
  words: ['mistral'],
  value: '[a-z0-9]{32}',
  shape: /^[A-Za-z0-9]{32}$/,
  check: (s) => classCount(s) >= 3,
  docs: 'https://docs.mistral.ai/getting-started/quickstart/',
});

const deepseekApiKey = anchored({
  id: 'deepseek-api-key',
  type: 'deepseek-api-key',
  title: 'DeepSeek API key',
  severity: 'high',
  confidence: 'high',
  words: ['deepseek'],
  value: 'sk-[a-f0-9]{32}',
  tail: 'A-Za-z0-9_-',
  shape: /^sk-[a-f0-9]{32}$/,
  docs: 'https://api-docs.deepseek.com/',
});

const stabilityApiKey = anchored({
  id: 'stability-api-key',
  type: 'stability-api-key',
  title: 'Stability AI API key',
  severity: 'high',
  confidence: 'high',
  words: ['stability', 'stable_diffusion', 'dreamstudio'],
  value: 'sk-[a-z0-9]{48}',
  tail: 'A-Za-z0-9_-',
  shape: /^sk-[A-Za-z0-9]{48}$/,
  check: (s) => mixed(s.slice(3)),
  docs: 'https://platform.stability.ai/docs/getting-started/authentication',
});

const elevenlabsApiKey = anchored({
  id: 'elevenlabs-api-key',
  type: 'elevenlabs-api-key',
  title: 'ElevenLabs API key',
  severity: 'high',
  words: ['elevenlabs', 'eleven_labs', 'xi-api-key', 'xi_api_key'],
  value: '(?:sk_)?[a-f0-9]{32,48}',
  shape: /^(?:sk_[a-f0-9]{48}|[a-f0-9]{32})$/,
  docs: 'https://elevenlabs.io/docs/api-reference/authentication',
});

const assemblyaiApiKey = anchored({
  id: 'assemblyai-api-key',
  type: 'assemblyai-api-key',
  title: 'AssemblyAI API key',
  severity: 'high',
  words: ['assemblyai', 'assembly_ai'],
  value: '[a-f0-9]{32}',
  shape: /^[a-f0-9]{32}$/,
  docs: 'https://www.assemblyai.com/docs/api-reference/overview#authorization',
});

const deepgramApiKey = anchored({
  id: 'deepgram-api-key',
  type: 'deepgram-api-key',
  title: 'Deepgram API key',
  severity: 'high',
  words: ['deepgram'],
  value: '[a-f0-9]{40}',
  shape: /^[a-f0-9]{40}$/,
  docs: 'https://developers.deepgram.com/docs/create-additional-api-keys',
});

const wandbApiKey = anchored({
  id: 'wandb-api-key',
  type: 'wandb-api-key',
  title: 'Weights & Biases API key',
  severity: 'high',
  words: ['wandb'],
  value: '[a-f0-9]{40}',
  shape: /^[a-f0-9]{40}$/,
  docs: 'https://docs.wandb.ai/guides/track/environment-variables/',
});

const voyageApiKey = anchored({
  id: 'voyage-api-key',
  type: 'voyage-api-key',
  title: 'Voyage AI API key',
  severity: 'high',
  confidence: 'high',
  words: ['voyage'],
  value: 'pa-[a-z0-9_-]{43}',
  tail: 'A-Za-z0-9_-',
  shape: /^pa-[A-Za-z0-9_-]{43}$/,
  check: (s) => mixed(s.slice(3)),
  docs: 'https://docs.voyageai.com/docs/api-key-and-installation',
});

const fireworksApiKey = anchored({
  id: 'fireworks-api-key',
  type: 'fireworks-api-key',
  title: 'Fireworks AI API key',
  severity: 'high',
  words: ['fireworks'],
  value: 'fw_[a-z0-9]{24}|[a-z0-9]{48}',
  shape: /^(?:fw_[A-Za-z0-9]{24}|[A-Za-z0-9]{48})$/,
  check: (s) => mixed(s.replace(/^fw_/, '')),
  docs: 'https://docs.fireworks.ai/api-reference/introduction',
});

export const cloudDetectors: readonly Detector[] = [
  alibabaAccessKeyId,
  alibabaAccessKeySecret,
  tencentSecretId,
  tencentSecretKey,
  ibmCloudApiKey,
  oracleAuthToken,
  cloudflareApiToken,
  cloudflareGlobalApiKey,
  cloudflareOriginCaKey,
  cloudflareTunnelToken,
  linodeToken,
  vultrApiKey,
  hetznerCloudToken,
  scalewaySecretKey,
  fastlyApiToken,
  akamaiEdgegrid,
  exoscaleApiKey,
  yandexCloudApiKey,
  tailscaleKey,
  dockerSwarmJoinToken,
  ngrokToken,
  consulToken,
  nomadToken,
  backblazeAppKey,
  digitaloceanSpacesKey,
  ovhApplicationSecret,
  netlifyToken,
  netlifyTokenLegacy,
  vercelToken,
  vercelTokenLegacy,
  renderApiKey,
  flyioToken,
  railwayToken,
  denoDeployToken,
  supabaseAccessToken,
  supabaseSecretKey,
  supabaseServiceRoleKey,
  planetscaleToken,
  planetscalePassword,
  neonApiKey,
  mongodbAtlasKey,
  mongodbAtlasServiceAccount,
  confluentApiSecret,
  snowflakePat,
  octopusDeployApiKey,
  harnessToken,
  infracostApiKey,
  prefectApiKey,
  readmeApiKey,
  oryApiKey,
  snykToken,
  sonarToken,
  sonarTokenLegacy,
  sentryOrgToken,
  sentryDsn,
  circleciToken,
  circleciTokenLegacy,
  travisToken,
  buildkiteToken,
  codecovToken,
  bitbucketAppPassword,
  jfrogReferenceToken,
  dockerHubToken,
  nugetApiKey,
  cratesIoToken,
  sourcegraphToken,
  teamcityToken,
  jenkinsApiToken,
  giteaToken,
  droneToken,
  newRelicInsightsKey,
  newRelicAdminKey,
  newRelicLicenseKey,
  dynatraceToken,
  honeycombKey,
  honeycombConfigKey,
  splunkHecToken,
  elasticApiKey,
  pagerdutyKey,
  opsgenieKey,
  rollbarToken,
  bugsnagKey,
  launchdarklyKey,
  oktaApiToken,
  auth0ClientSecret,
  clerkSecretKey,
  keycloakClientSecret,
  firebaseFcmServerKey,
  perplexityApiKey,
  groqApiKey,
  xaiApiKey,
  replicateApiToken,
  openrouterApiKey,
  pineconeApiKey,
  langsmithApiKey,
  nvidiaApiKey,
  cerebrasApiKey,
  togetherApiKey,
  togetherApiKeyLegacy,
  cohereApiKey,
  mistralApiKey,
  deepseekApiKey,
  stabilityApiKey,
  elevenlabsApiKey,
  assemblyaiApiKey,
  deepgramApiKey,
  wandbApiKey,
  voyageApiKey,
  fireworksApiKey,
];
