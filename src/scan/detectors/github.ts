/**
 * GitHub tokens. The 2021 formats (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`) end in a 6-character
 * base62 CRC32 of the 30 random characters before it, which we check: a lookalike with a wrong
 * checksum is not a token GitHub issued.
 *
 * Identity: the token kind (from its prefix). GitHub's revocation API takes the token itself, so
 * there is no public ID to carry; the kind tells the act stage which API and owner to go to.
 */
import type { CredentialIdentity, Detector } from '../types.js';
import { hasValidTokenChecksum, isPlaceholder } from './util.js';

const DOCS = 'https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats';

const SUBTYPES: ReadonlyArray<readonly [shape: RegExp, subtype: string]> = [
  [/^ghp_[A-Za-z0-9]{36}$/, 'classic-pat'],
  [/^gho_[A-Za-z0-9]{36}$/, 'oauth'],
  [/^ghu_[A-Za-z0-9]{36}$/, 'user-to-server'],
  [/^ghs_[A-Za-z0-9]{36}$/, 'server-to-server'],
  [/^ghr_[A-Za-z0-9]{36}$/, 'refresh'],
  [/^github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}$/, 'fine-grained-pat'],
];

/**
 * `{ kind: 'github-token', subtype }` for a token in one of GitHub's prefixed formats; undefined
 * for others (a legacy 40-hex token, whose kind cannot be told).
 */
function githubTokenIdentity(token: string): CredentialIdentity | undefined {
  for (const [shape, subtype] of SUBTYPES) if (shape.test(token)) return { kind: 'github-token', subtype };
  return undefined;
}

function checksummed(prefix: 'ghp' | 'gho' | 'ghu' | 'ghs' | 'ghr', id: string, title: string): Detector {
  return {
    id,
    type: 'github-token',
    title,
    severity: 'critical',
    confidence: 'high',
    keywords: [`${prefix}_`],
    pattern: new RegExp(`(?<![A-Za-z0-9_])(${prefix}_[A-Za-z0-9]{36})(?![A-Za-z0-9_])`),
    verify: (s) => hasValidTokenChecksum(s.slice(4)),
    identify: githubTokenIdentity,
    docs: DOCS,
  };
}

const githubPatClassic = checksummed('ghp', 'github-pat-classic', 'GitHub personal access token (classic)');
const githubOauthToken = checksummed('gho', 'github-oauth-token', 'GitHub OAuth access token');
const githubUserToServerToken = checksummed('ghu', 'github-user-to-server-token', 'GitHub App user access token');
const githubServerToServerToken = checksummed('ghs', 'github-server-to-server-token', 'GitHub App installation access token');
const githubRefreshToken = checksummed('ghr', 'github-refresh-token', 'GitHub App refresh token');

const githubPatFineGrained: Detector = {
  id: 'github-pat-fine-grained',
  type: 'github-token',
  title: 'GitHub fine-grained personal access token',
  severity: 'critical',
  confidence: 'high',
  keywords: ['github_pat_'],
  // github_pat_ + 22-character id + `_` + 59 characters.
  pattern: /(?<![A-Za-z0-9_])(github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?![A-Za-z0-9_])/,
  verify: (s) => !isPlaceholder(s.slice(11)),
  identify: githubTokenIdentity,
  docs: DOCS,
};

export const githubOauthBasicUrl: Detector = {
  id: 'github-oauth-basic-url',
  type: 'github-token',
  title: 'GitHub token in an x-oauth-basic URL',
  severity: 'critical',
  confidence: 'high',
  keywords: ['x-oauth-basic'],
  // `https://<token>:x-oauth-basic@github.com/…` (old npm dependency URLs); the token is the user part.
  pattern: /https?:\/\/([A-Za-z0-9_]{20,100}):x-oauth-basic@github\.com\//,
  verify: (s) => !isPlaceholder(s) && (!/^gh[pousr]_/.test(s) || hasValidTokenChecksum(s.slice(4))),
  identify: githubTokenIdentity,
  docs: 'https://github.blog/2012-09-21-easier-builds-and-deployments-using-git-over-https-and-oauth/',
};

export const githubDetectors: readonly Detector[] = [
  githubPatClassic,
  githubOauthToken,
  githubUserToServerToken,
  githubServerToServerToken,
  githubRefreshToken,
  githubPatFineGrained,
  githubOauthBasicUrl,
];
