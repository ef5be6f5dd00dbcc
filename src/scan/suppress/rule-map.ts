/**
 * How a peer's rule id relates to a Keywarden finding, loosely: the same id or credential type,
 * or the same provider (the first word, with a few aliases: Gitleaks' `gcp-api-key` is our
 * `google-api-key`'s provider). A generic peer rule (`generic-api-key`) could be any of ours.
 */
import type { Finding } from '../types.js';

export type RuleRelation = 'same' | 'other' | 'unknown';

const ALIASES: Record<string, string> = { gcp: 'google', gh: 'github', pkcs12: 'private', pkcs8: 'private', rsa: 'private', ssh: 'private', openssh: 'private', hashicorp: 'vault' };
const GENERIC = new Set(['generic', 'password', 'secret', 'api', 'apikey', 'high', 'entropy', 'base64', 'hex', 'keyword', 'credential', 'credentials', 'token', 'key']);

/** The provider word of a rule id: `aws-access-token` → `aws`. */
export function providerOf(id: string): string {
  const first = /[a-z0-9]+/.exec(id.toLowerCase())?.[0] ?? '';
  return ALIASES[first] ?? first;
}

/**
 * @param providers the providers of Keywarden's detectors: a peer rule of one of them that is not
 *   the finding's is `other`; a provider Keywarden does not know is `unknown`.
 */
export function relateRule(peerRule: string, f: Pick<Finding, 'ruleId' | 'type'>, providers?: ReadonlySet<string>): RuleRelation {
  const id = peerRule.toLowerCase();
  if (id === f.ruleId || id === f.type) return 'same';
  const p = providerOf(id);
  if (!p || GENERIC.has(p)) return 'unknown';
  if (p === providerOf(f.ruleId) || p === providerOf(f.type)) return 'same';
  return providers?.has(p) ? 'other' : 'unknown';
}
