/**
 * AWS credentials: access key IDs, secret access keys named as such, and a secret key written
 * right after an access key ID (the pair, whatever the names around it).
 *
 * Identity: the access key ID, which AWS treats as public and its IAM API takes to deactivate a
 * key. A secret key found alone gets the ID written next to it, when that is unambiguous.
 */
import type { CredentialIdentity, Detector, MatchContext } from '../types.js';
import { token } from './cloud.js';
import { classCount, decodeBase64, isHex, isKnownExample, isPlaceholder, shannonEntropy } from './util.js';

const DOCS = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html';

/** A 40-character secret access key: base64 alphabet, mixed classes, not a hex digest. */
export function isPlausibleAwsSecret(secret: string): boolean {
  if (secret.length !== 40) return false;
  if (isHex(secret) || isPlaceholder(secret) || isKnownExample(secret)) return false;
  if (classCount(secret) < 3) return false;
  return shannonEntropy(secret) >= 4.0;
}

const ACCESS_KEY_ID = /^(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}$/;
const ACCESS_KEY_ID_IN_TEXT = /(?<![A-Za-z0-9/+])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9/+=])/g;
/** Lines before (and after) a lone secret key that may hold its access key ID. */
const NEIGHBOUR_LINES = 2;

/** The identity of an access key ID (one the detectors' `verify` already accepted: only its shape is checked). */
function accessKeyIdentity(id: string): CredentialIdentity | undefined {
  return ACCESS_KEY_ID.test(id) ? { kind: 'aws-access-key', id } : undefined;
}

/** An ID in the text around a match, which no `verify` has seen: not a documented example or placeholder. */
function plausibleAccessKeyId(id: string): boolean {
  return !isKnownExample(id) && !isPlaceholder(id.slice(4));
}

/**
 * The access key ID written next to a lone secret key: on its line or the `NEIGHBOUR_LINES` lines
 * around it, the nearest before if any, else after. Several different IDs on the chosen side
 * (two profiles, two pairs) make it ambiguous: none then, rather than a guess that could revoke
 * the wrong key.
 */
function nearbyAccessKeyId(ctx: MatchContext, secretLength: number): CredentialIdentity | undefined {
  const { text, index } = ctx;
  let lo = index;
  for (let k = 0; k <= NEIGHBOUR_LINES && lo > 0; k++) lo = text.lastIndexOf('\n', lo - 1);
  lo = lo < 0 ? 0 : lo;
  let hi = index + secretLength - 1;
  for (let k = 0; k <= NEIGHBOUR_LINES && hi !== -1 && hi < text.length; k++) hi = text.indexOf('\n', hi + 1);
  hi = hi === -1 ? text.length : Math.min(hi, text.length);
  const before = new Set<string>();
  const after = new Set<string>();
  ACCESS_KEY_ID_IN_TEXT.lastIndex = lo;
  const region = text.slice(0, hi);
  let m: RegExpExecArray | null;
  while ((m = ACCESS_KEY_ID_IN_TEXT.exec(region)) !== null) {
    if (!plausibleAccessKeyId(m[0])) continue;
    if (m.index + m[0].length <= index) before.add(m[0]);
    else if (m.index >= index + secretLength) after.add(m[0]);
  }
  const side = before.size > 0 ? before : after;
  return side.size === 1 ? accessKeyIdentity([...side][0]!) : undefined;
}

const awsAccessKeyId: Detector = {
  id: 'aws-access-key-id',
  type: 'aws-access-key',
  title: 'AWS access key ID',
  severity: 'high',
  confidence: 'high',
  keywords: ['akia', 'asia', 'abia', 'acca'],
  // IDs are base32 (A–Z, 2–7) after a four-letter prefix; user keys AKIA, STS ASIA, ABIA/ACCA.
  pattern: /(?<![A-Za-z0-9/+])((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?![A-Za-z0-9/+=])/,
  verify: (s) => !isKnownExample(s) && !isPlaceholder(s.slice(4)),
  // The ID is the secret here, and it is public.
  identify: (s) => accessKeyIdentity(s),
  docs: DOCS,
};

const awsSecretAccessKey: Detector = {
  id: 'aws-secret-access-key',
  type: 'aws-access-key',
  title: 'AWS secret access key',
  severity: 'critical',
  confidence: 'high',
  keywords: ['secret_access', 'secretaccess', 'secret-access', 'aws_secret', 'awssecret', 'aws-secret', 'secret_key', 'secretkey'],
  // `AWS_SECRET_ACCESS_KEY=…`, `aws_secret_key: "…"`, `secretAccessKey: '…'`, `"SecretAccessKey": "…"`.
  pattern:
    /(?:aws)?[_.-]?secret[_.-]?(?:access)?[_.-]?key(?:[_.-]?id)?["'`]?\s{0,4}(?::=|=>|=|:)\s{0,4}["'`]?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/i,
  verify: (s) => isPlausibleAwsSecret(s),
  identify: (s, ctx) => nearbyAccessKeyId(ctx, s.length),
  docs: DOCS,
};

const awsCredentialPair: Detector = {
  id: 'aws-credential-pair',
  type: 'aws-access-key',
  title: 'AWS secret access key next to its access key ID',
  severity: 'critical',
  confidence: 'medium',
  keywords: ['akia', 'asia', 'abia', 'acca'],
  // The secret comes within ~160 characters (a few lines) after the ID: constructor arguments,
  // credentials files with custom names, CSV exports of IAM keys.
  pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?![A-Za-z0-9])[^A-Za-z0-9/+]{1,40}?(?:[\w.-]{1,40}[^A-Za-z0-9/+]{1,20}?)?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/,
  multiline: true,
  window: { before: 64, after: 512 },
  verify: (s, ctx) => isPlausibleAwsSecret(s) && !isKnownExample(ctx.match[0].slice(0, 20)),
  // The match starts with the ID (the secret group is the secret key).
  identify: (_s, ctx) => accessKeyIdentity(ctx.match[0].slice(0, 20)),
  docs: DOCS,
};

const awsSessionToken: Detector = {
  id: 'aws-session-token',
  type: 'aws-session-token',
  title: 'AWS temporary session token (STS)',
  severity: 'high',
  confidence: 'high',
  keywords: ['session_token', 'sessiontoken', 'session-token', 'security_token', 'securitytoken'],
  // `aws_session_token = …`, `AWS_SESSION_TOKEN=…`, `"SessionToken": "…"`: a long base64 value
  // (STS tokens are a few hundred to a few thousand characters).
  pattern:
    /(?:aws)?[_.-]?(?:session|security)[_.-]?token["'`]?\s{0,4}(?::=|=>|=|:)\s{0,4}["'`]?([A-Za-z0-9/+]{100,4000}={0,2})(?![A-Za-z0-9/+=])/i,
  window: { before: 64, after: 4200 },
  verify: (s) => !isPlaceholder(s) && !isKnownExample(s) && classCount(s) >= 3 && shannonEntropy(s) >= 4.5,
  docs: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_use-resources.html',
};

const awsBedrockApiKey = token({
  id: 'aws-bedrock-api-key',
  type: 'aws-bedrock-api-key',
  title: 'Amazon Bedrock long-term API key',
  severity: 'critical',
  keywords: ['absk'],
  // `ABSK` + base64 of `BedrockAPIKey-<id>-at-<account>:<secret>`.
  pattern: /(?<![A-Za-z0-9+/])(ABSK[A-Za-z0-9+/]{80,300}={0,2})(?![A-Za-z0-9+/=])/,
  prefixLength: 4,
  minEntropy: 4.0,
  check: (s) => decodeBase64(s.slice(4))?.toString('latin1').startsWith('BedrockAPIKey-') === true,
  docs: 'https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html',
});

const awsBedrockShortTermKey = token({
  id: 'aws-bedrock-short-term-key',
  type: 'aws-bedrock-api-key',
  title: 'Amazon Bedrock short-term API key',
  severity: 'high',
  keywords: ['bedrock-api-key-'],
  // `bedrock-api-key-` + base64 of a presigned `bedrock.amazonaws.com/?Action=CallWithBearerToken&…` URL.
  pattern: /(?<![A-Za-z0-9_-])(bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/]{200,4000}={0,2})(?![A-Za-z0-9+/=])/,
  prefixLength: 16,
  minEntropy: 4.0,
  window: { before: 16, after: 4200 },
  docs: 'https://docs.aws.amazon.com/bedrock/latest/userguide/api-keys.html',
});

export const awsDetectors: readonly Detector[] = [awsAccessKeyId, awsSecretAccessKey, awsCredentialPair, awsSessionToken, awsBedrockApiKey, awsBedrockShortTermKey];
