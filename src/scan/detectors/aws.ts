/**
 * AWS credentials: access key IDs, secret access keys named as such, and a secret key written
 * right after an access key ID (the pair, whatever the names around it).
 */
import type { Detector } from '../types.js';
import { classCount, isHex, isKnownExample, isPlaceholder, shannonEntropy } from './util.js';

const DOCS = 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_access-keys.html';

/** A 40-character secret access key: base64 alphabet, mixed classes, not a hex digest. */
export function isPlausibleAwsSecret(secret: string): boolean {
  if (secret.length !== 40) return false;
  if (isHex(secret) || isPlaceholder(secret) || isKnownExample(secret)) return false;
  if (classCount(secret) < 3) return false;
  return shannonEntropy(secret) >= 4.0;
}

export const awsAccessKeyId: Detector = {
  id: 'aws-access-key-id',
  type: 'aws-access-key',
  title: 'AWS access key ID',
  severity: 'high',
  confidence: 'high',
  keywords: ['akia', 'asia', 'abia', 'acca'],
  // IDs are base32 (A–Z, 2–7) after a four-letter prefix; user keys AKIA, STS ASIA, ABIA/ACCA.
  pattern: /(?<![A-Za-z0-9/+])((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?![A-Za-z0-9/+=])/,
  verify: (s) => !isKnownExample(s) && !isPlaceholder(s.slice(4)),
  docs: DOCS,
};

export const awsSecretAccessKey: Detector = {
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
  docs: DOCS,
};

export const awsCredentialPair: Detector = {
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
  docs: DOCS,
};

export const awsDetectors: readonly Detector[] = [awsAccessKeyId, awsSecretAccessKey, awsCredentialPair];
