import { createHash } from 'node:crypto';

/** `sha256:` + hex SHA-256 of the secret's UTF-8 bytes. The only stable identity a secret gets. */
export function fingerprintSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/**
 * A preview that is enough to recognise a secret and never enough to use it: at most four
 * characters from each end for long values, fewer for short ones, and only a length for very
 * short ones. Line breaks inside (PEM blocks) are shown as `⏎`-free first/last characters.
 */
export function redactSecret(secret: string): string {
  // A key block: its header names the kind of key and is not secret; the body is.
  const pem = /^-----BEGIN ([A-Z0-9 ]{1,40})-----/.exec(secret) ?? /^(PuTTY-User-Key-File-\d)/.exec(secret);
  if (pem) return `${pem[1]}…`;
  const s = secret.replace(/\s+/g, ' ').trim();
  const n = s.length;
  if (n >= 20) return `${s.slice(0, 4)}…${s.slice(-4)}`;
  if (n >= 12) return `${s.slice(0, 2)}…${s.slice(-2)}`;
  return `…(${n} chars)`;
}

/**
 * Replaces every occurrence of the given secrets in a text with their redacted preview.
 * For the edges that must print text that might contain a secret (logs, PR bodies).
 */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    out = out.split(secret).join(redactSecret(secret));
  }
  return out;
}
