/**
 * SaaS and infrastructure APIs: Shopify, Datadog, Heroku, DigitalOcean, Atlassian, HashiCorp
 * Vault, 1Password, Linear, age.
 */
import type { Detector } from '../types.js';
import { classCount, decodeBase64Json, isPlaceholder, shannonEntropy } from './util.js';

/** `name … = value` glue used by keyword-anchored rules: optional quote, an operator, optional quote. */
const ASSIGN = String.raw`["'\x60]?\s{0,4}(?::=|=>|=|:)\s{0,4}["'\x60]?`;

const shopifyAccessToken: Detector = {
  id: 'shopify-access-token',
  type: 'shopify-token',
  title: 'Shopify access token (admin, custom app, private app)',
  severity: 'critical',
  confidence: 'high',
  keywords: ['shpat_', 'shpca_', 'shppa_'],
  pattern: /(?<![A-Za-z0-9_])((?:shpat|shpca|shppa)_[A-Fa-f0-9]{32})(?![A-Za-z0-9_])/,
  verify: (s) => !isPlaceholder(s.slice(6)),
  docs: 'https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens',
};

const shopifySharedSecret: Detector = {
  id: 'shopify-shared-secret',
  type: 'shopify-token',
  title: 'Shopify app shared secret',
  severity: 'high',
  confidence: 'high',
  keywords: ['shpss_'],
  pattern: /(?<![A-Za-z0-9_])(shpss_[A-Fa-f0-9]{32})(?![A-Za-z0-9_])/,
  verify: (s) => !isPlaceholder(s.slice(6)),
  docs: 'https://shopify.dev/docs/apps/build/authentication-authorization',
};

const DATADOG_KEYWORDS = ['datadog', 'dd_api', 'dd-api', 'dd.api', 'ddapi', 'dd_app', 'dd-app', 'dd.app', 'ddapp', 'dd_key', 'dd_client'];

const datadogApiKey: Detector = {
  id: 'datadog-api-key',
  type: 'datadog-key',
  title: 'Datadog API key',
  severity: 'high',
  confidence: 'medium',
  keywords: DATADOG_KEYWORDS,
  pattern: new RegExp(
    String.raw`(?:datadog[\w.-]{0,20}?|(?<![a-z0-9])dd[_.-]?(?:client[_.-]?)?)(?:api[_.-]?)?key${ASSIGN}([0-9a-f]{32})(?![A-Za-z0-9_])`,
    'i',
  ),
  verify: (s) => /^[0-9a-f]{32}$/.test(s) && !isPlaceholder(s) && shannonEntropy(s) >= 2.8,
  docs: 'https://docs.datadoghq.com/account_management/api-app-keys/',
};

const datadogAppKey: Detector = {
  id: 'datadog-app-key',
  type: 'datadog-key',
  title: 'Datadog application key',
  severity: 'high',
  confidence: 'medium',
  keywords: DATADOG_KEYWORDS,
  pattern: new RegExp(String.raw`(?:datadog[\w.-]{0,20}?|(?<![a-z0-9])dd[_.-]?)app(?:lication)?[_.-]?key${ASSIGN}([0-9a-f]{40})(?![A-Za-z0-9_])`, 'i'),
  verify: (s) => /^[0-9a-f]{40}$/.test(s) && !isPlaceholder(s) && shannonEntropy(s) >= 2.8,
  docs: 'https://docs.datadoghq.com/account_management/api-app-keys/',
};

const herokuApiKey: Detector = {
  id: 'heroku-api-key',
  type: 'heroku-api-key',
  title: 'Heroku API key',
  severity: 'critical',
  confidence: 'high',
  keywords: ['hrku-'],
  pattern: /(?<![A-Za-z0-9_-])(HRKU-AA[A-Za-z0-9_-]{58})(?![A-Za-z0-9_-])/,
  verify: (s) => !isPlaceholder(s.slice(7)),
  docs: 'https://devcenter.heroku.com/articles/authentication',
};

const herokuApiKeyLegacy: Detector = {
  id: 'heroku-api-key-legacy',
  type: 'heroku-api-key',
  title: 'Heroku API key (legacy UUID)',
  severity: 'critical',
  confidence: 'medium',
  keywords: ['heroku'],
  pattern: new RegExp(
    String.raw`heroku[\w.-]{0,24}?(?:key|token|secret|password|auth)[\w.-]{0,8}${ASSIGN}([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?![A-Za-z0-9_-])`,
    'i',
  ),
  verify: (s) => !isPlaceholder(s.replace(/-/g, '')),
  docs: 'https://devcenter.heroku.com/articles/authentication',
};

const digitaloceanToken: Detector = {
  id: 'digitalocean-token',
  type: 'digitalocean-token',
  title: 'DigitalOcean token (personal access, OAuth or refresh)',
  severity: 'critical',
  confidence: 'high',
  keywords: ['dop_v1_', 'doo_v1_', 'dor_v1_'],
  pattern: /(?<![A-Za-z0-9_])(do[opr]_v1_[a-f0-9]{64})(?![A-Za-z0-9_])/,
  verify: (s) => !isPlaceholder(s.slice(7)),
  docs: 'https://docs.digitalocean.com/reference/api/create-personal-access-token/',
};

const atlassianApiToken: Detector = {
  id: 'atlassian-api-token',
  type: 'atlassian-token',
  title: 'Atlassian API token',
  severity: 'high',
  confidence: 'high',
  keywords: ['atatt3', 'atctt3'],
  pattern: /(?<![A-Za-z0-9_-])(AT[AC]TT3[A-Za-z0-9_=-]{150,250})(?![A-Za-z0-9_=-])/,
  verify: (s) => !isPlaceholder(s.slice(6)) && shannonEntropy(s) >= 4.5,
  docs: 'https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/',
};

const atlassianApiTokenLegacy: Detector = {
  id: 'atlassian-api-token-legacy',
  type: 'atlassian-token',
  title: 'Atlassian API token (legacy, 24 characters)',
  severity: 'high',
  confidence: 'medium',
  keywords: ['jira', 'confluence', 'atlassian'],
  pattern: new RegExp(
    String.raw`(?:jira|confluence|atlassian)[\w.-]{0,24}?(?:token|key|secret|password|passwd|pwd)[\w.-]{0,8}${ASSIGN}([A-Za-z0-9]{24})(?![A-Za-z0-9_-])`,
    'i',
  ),
  verify: (s) => !isPlaceholder(s) && classCount(s) >= 3 && shannonEntropy(s) >= 3.3,
  docs: 'https://support.atlassian.com/atlassian-account/docs/manage-api-tokens-for-your-atlassian-account/',
};

const vaultToken: Detector = {
  id: 'vault-token',
  type: 'vault-token',
  title: 'HashiCorp Vault service or recovery token',
  severity: 'critical',
  confidence: 'high',
  keywords: ['hvs.', 'hvr.'],
  pattern: /(?<![A-Za-z0-9_.-])(hv[sr]\.[A-Za-z0-9_-]{24,300})(?![A-Za-z0-9_.-])/,
  verify: (s) => {
    const body = s.slice(4);
    return !isPlaceholder(body) && classCount(body) >= 3 && shannonEntropy(body) >= 3.3;
  },
  docs: 'https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes',
};

const vaultBatchToken: Detector = {
  id: 'vault-batch-token',
  type: 'vault-token',
  title: 'HashiCorp Vault batch token',
  severity: 'high',
  confidence: 'high',
  keywords: ['hvb.'],
  pattern: /(?<![A-Za-z0-9_.-])(hvb\.[A-Za-z0-9_-]{100,400})(?![A-Za-z0-9_.-])/,
  verify: (s) => !isPlaceholder(s.slice(4)) && shannonEntropy(s) >= 4.0,
  docs: 'https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes',
};

const vaultTokenLegacy: Detector = {
  id: 'vault-token-legacy',
  type: 'vault-token',
  title: 'HashiCorp Vault token (legacy s./b. format)',
  severity: 'critical',
  confidence: 'medium',
  keywords: ['vault'],
  pattern: new RegExp(String.raw`vault[\w.-]{0,20}?(?:token|key|secret)[\w.-]{0,8}${ASSIGN}([sb]\.[A-Za-z0-9]{24})(?![A-Za-z0-9_.-])`, 'i'),
  verify: (s) => {
    const body = s.slice(2);
    return !isPlaceholder(body) && classCount(body) >= 3 && shannonEntropy(body) >= 3.3;
  },
  docs: 'https://developer.hashicorp.com/vault/docs/concepts/tokens',
};

const onepasswordServiceAccountToken: Detector = {
  id: 'onepassword-service-account-token',
  type: 'onepassword-token',
  title: '1Password service account token',
  severity: 'critical',
  confidence: 'high',
  keywords: ['ops_ey'],
  // `ops_` + base64 of a JSON object (so it starts `ey` and ends `fQ`).
  // The body is taken whole (a lookahead capture is atomic): the lookbehind lets a start follow
  // `=` or `-`, so in a long run of body characters every `ops_ey` would otherwise backtrack
  // through 4,000 of them. Same matches: a shorter body is never followed by a non-body character.
  pattern: /(?<![A-Za-z0-9_])(ops_ey(?=([A-Za-z0-9+/=_-]{100,4000}))\2)(?![A-Za-z0-9+/=_-])/,
  // Tokens run to ~1 KB: look far enough after the keyword to see the whole token.
  window: { before: 16, after: 4200 },
  verify: (s) => decodeBase64Json(s.slice(4)) !== undefined,
  docs: 'https://developer.1password.com/docs/service-accounts/',
};

const onepasswordSecretKey: Detector = {
  id: 'onepassword-secret-key',
  type: 'onepassword-token',
  title: '1Password account Secret Key',
  severity: 'critical',
  confidence: 'high',
  keywords: ['a3-'],
  pattern: /(?<![A-Za-z0-9-])(A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})(?![A-Za-z0-9-])/,
  verify: (s) => !isPlaceholder(s.slice(3).replace(/-/g, '')) && classCount(s.slice(3).replace(/-/g, '')) >= 2,
  docs: 'https://support.1password.com/secret-key-security/',
};

const linearApiKey: Detector = {
  id: 'linear-api-key',
  type: 'linear-api-key',
  title: 'Linear API key',
  severity: 'high',
  confidence: 'high',
  keywords: ['lin_api_'],
  pattern: /(?<![A-Za-z0-9_])(lin_api_[A-Za-z0-9]{40})(?![A-Za-z0-9_])/,
  verify: (s) => !isPlaceholder(s.slice(8)),
  docs: 'https://linear.app/developers/graphql#personal-api-keys',
};

const ageSecretKey: Detector = {
  id: 'age-secret-key',
  type: 'age-secret-key',
  title: 'age encryption secret key',
  severity: 'critical',
  confidence: 'high',
  keywords: ['age-secret-key-1'],
  pattern: /(?<![A-Za-z0-9-])(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})(?![A-Za-z0-9])/,
  verify: (s) => !isPlaceholder(s.slice(16)),
  docs: 'https://age-encryption.org/v1',
};

export const saasDetectors: readonly Detector[] = [
  shopifyAccessToken,
  shopifySharedSecret,
  datadogApiKey,
  datadogAppKey,
  herokuApiKey,
  herokuApiKeyLegacy,
  digitaloceanToken,
  atlassianApiToken,
  atlassianApiTokenLegacy,
  vaultToken,
  vaultBatchToken,
  vaultTokenLegacy,
  onepasswordServiceAccountToken,
  onepasswordSecretKey,
  linearApiKey,
  ageSecretKey,
];
