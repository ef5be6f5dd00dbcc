/**
 * GitHub's webhook signature: `x-hub-signature-256: sha256=<hex HMAC-SHA256 of the raw body>`.
 *
 * Security: the HMAC is computed over the bytes as received, before any parsing, and compared
 * with `timingSafeEqual` on the decoded 32-byte digests. Every configured secret is tried (the
 * current one and, during rotation, the previous one) without stopping early, so the time taken
 * does not say which secret matched. A malformed header is a mismatch, never an exception.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ErrorCode, KeywardenError } from '../errors.js';

/** Shorter secrets are refused at start: a webhook secret must not be guessable. */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

const SIGNATURE = /^sha256=([0-9a-fA-F]{64})$/;

/**
 * True when `header` is a valid signature of `body` under one of `secrets`.
 *
 * @example
 * verifySignature(rawBody, req.headers.get('x-hub-signature-256') ?? '', [current, previous]);
 */
export function verifySignature(body: Uint8Array, header: string, secrets: readonly string[]): boolean {
  const match = SIGNATURE.exec(header);
  if (!match) return false;
  const given = Buffer.from(match[1]!, 'hex');
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    // Both are 32 bytes here. No early return: every secret costs the same, whichever matched.
    ok = timingSafeEqual(expected, given) || ok;
  }
  return ok;
}

/**
 * Throws `KW_WEBHOOK_SECRET_MISSING` (fault config) unless there is at least one secret and every
 * one is at least {@link MIN_WEBHOOK_SECRET_LENGTH} characters with no surrounding whitespace.
 * Reports every problem at once; never prints a secret.
 *
 * @example
 * assertWebhookSecrets([process.env.WEBHOOK_SECRET ?? '']);
 */
export function assertWebhookSecrets(secrets: readonly string[]): void {
  const problems: string[] = [];
  if (secrets.length === 0) problems.push('no webhook secret is configured');
  secrets.forEach((secret, i) => {
    const which = i === 0 ? 'the current webhook secret' : `webhook secret #${i + 1} (previous)`;
    if (typeof secret !== 'string' || secret.trim() === '') problems.push(`${which} is blank`);
    else if (secret.trim() !== secret) problems.push(`${which} has leading or trailing whitespace`);
    else if (secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
      problems.push(`${which} is shorter than ${MIN_WEBHOOK_SECRET_LENGTH} characters`);
    }
  });
  if (problems.length === 0) return;
  throw new KeywardenError(
    ErrorCode.WEBHOOK_SECRET_MISSING,
    `Refusing to start: ${problems.join('; ')}. ` +
      "Set WEBHOOK_SECRET to the webhook secret in the GitHub App's settings " +
      `(a random string of at least ${MIN_WEBHOOK_SECRET_LENGTH} characters).`,
    { fault: 'config', details: { problems } },
  );
}
