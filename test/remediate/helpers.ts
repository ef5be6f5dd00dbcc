/**
 * Helpers for the remediation tests: fake secrets made at run time (no credential-shaped literal
 * in the test source), and sites computed the way the scanner reports them.
 */
import { randomBytes } from 'node:crypto';
import { fingerprintSecret, redactSecret } from '../../src/scan/redact.js';
import { lineColumnOf } from '../../src/util/line-column.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';
import type { PatchSite, Replacement } from '../../src/remediate/index.js';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random alphanumeric fake secret with a recognisable prefix. */
export function fakeSecret(prefix = 'kwfake_', n = 32): string {
  const bytes = randomBytes(n);
  let s = prefix;
  for (const b of bytes) s += ALNUM[b % ALNUM.length]!;
  return s;
}

/** A fake PEM private key block (random body), from the shared generators. */
export function fakePem(seed: string): string {
  const rng = createRng(seed);
  for (;;) {
    const { secret } = secretGenerators['private-key-pem']!(rng);
    if (secret.startsWith('-----BEGIN')) return secret;
  }
}

/** A fake service-account JSON document and its `private_key` string (with `\n` escapes). */
export function fakeServiceAccount(seed: string): { json: string; secret: string } {
  const { line, secret } = secretGenerators['gcp-service-account']!(createRng(seed));
  return { json: line, secret };
}

export interface SiteOptions {
  type?: string;
  /** Which occurrence of the secret (0-based). */
  nth?: number;
  replaceWith?: Replacement;
}

/** The site of the `nth` occurrence of `secret` in `text`, as a finding would give it. */
export function siteOf(text: string, secret: string, options: SiteOptions = {}): PatchSite {
  let i = -1;
  for (let k = 0; k <= (options.nth ?? 0); k++) {
    i = text.indexOf(secret, i + 1);
    if (i === -1) throw new Error('secret not in text');
  }
  const a = lineColumnOf(text, i);
  const b = lineColumnOf(text, i + secret.length);
  return {
    startLine: a.line,
    startColumn: a.column,
    endLine: b.line,
    endColumn: b.column,
    fingerprint: fingerprintSecret(secret),
    type: options.type ?? 'generic-secret',
    ruleId: 'test-rule',
    redacted: redactSecret(secret),
    ...(options.replaceWith ? { replaceWith: options.replaceWith } : {}),
  };
}

/** Replaces `__NAME__` markers with values. */
export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/__([A-Z0-9_]+?)__/g, (m, name: string) => values[name] ?? m);
}
