/** Google: API keys, OAuth client secrets, and service-account key files (JSON). */
import type { Detector } from '../types.js';
import { isPlaceholder } from './util.js';

const googleApiKey: Detector = {
  id: 'google-api-key',
  type: 'google-api-key',
  title: 'Google API key',
  severity: 'high',
  confidence: 'high',
  keywords: ['aiza'],
  pattern: /(?<![A-Za-z0-9_-])(AIza[A-Za-z0-9_-]{35})(?![A-Za-z0-9_-])/,
  verify: (s) => !isPlaceholder(s.slice(4)),
  docs: 'https://cloud.google.com/docs/authentication/api-keys',
};

const SERVICE_ACCOUNT_TYPE = /"type"\s*:\s*"service_account"/;

const gcpServiceAccount: Detector = {
  id: 'gcp-service-account',
  type: 'gcp-service-account',
  title: 'Google Cloud service-account key (JSON)',
  severity: 'critical',
  confidence: 'high',
  keywords: ['service_account'],
  // The secret is the `private_key` string of a JSON document whose `type` is
  // `service_account`. The type field may come before or after the key (sorted keys), so the
  // pattern finds the key and `verify` looks for the type around it.
  // Bounded spaces (not `\s*`): the engine derives from the pattern how far a match can reach.
  pattern: /"private_key"\s{0,64}:\s{0,64}"(-----BEGIN (?:RSA )?PRIVATE KEY-----(?:\\r)?\\n[A-Za-z0-9+/=\\]{100,8000}?-----END (?:RSA )?PRIVATE KEY-----(?:\\r)?(?:\\n)?)"/,
  multiline: true,
  window: { before: 8192, after: 8192 },
  // Outranks the PEM detector, which finds the same key inside the JSON string.
  priority: 20,
  verify: (_s, ctx) => SERVICE_ACCOUNT_TYPE.test(ctx.text.slice(Math.max(0, ctx.index - 6000), ctx.index + 10000)),
  docs: 'https://cloud.google.com/iam/docs/keys-create-delete',
};

const googleOauthClientSecret: Detector = {
  id: 'google-oauth-client-secret',
  type: 'google-oauth-client-secret',
  title: 'Google OAuth client secret',
  severity: 'high',
  confidence: 'high',
  keywords: ['gocspx-'],
  pattern: /(?<![A-Za-z0-9_-])(GOCSPX-[A-Za-z0-9_-]{28})(?![A-Za-z0-9_-])/,
  verify: (s) => !isPlaceholder(s.slice(7)),
  docs: 'https://developers.google.com/identity/protocols/oauth2',
};

export const googleDetectors: readonly Detector[] = [googleApiKey, gcpServiceAccount, googleOauthClientSecret];
