/**
 * The context stage for findings: what each leaked secret is, as far as revocation goes. By its
 * public identity first (an AWS access key ID → the IAM revoker; a GitHub token → GitHub), then
 * by asking the backend whether the secret is one of its keys (`matchLeak`: key material by a
 * keyed fingerprint, a private key by its public key). A finding that matches nothing is still
 * reported, judged and patched; its target says why it cannot be revoked automatically.
 */
import type { KeyBackend } from '../backends/port.js';
import type { Finding } from '../model/finding.js';
import { fingerprintSecret } from '../scan/redact.js';
import type { Target } from './types.js';

export interface MatchDeps {
  /** The backend, when one is configured and needed; undefined when it could not be opened. */
  backend?: KeyBackend;
  /** Why there is no backend (it is locked, unreachable): said in each unmatched target. */
  backendUnavailable?: string;
  /**
   * Further matchers asked before the backend, in order (the App's: a leaked SSH private key
   * against the deploy keys of the installation's repositories). Each gets the finding, never the
   * secret, and answers with a target or undefined.
   */
  matchers?: ReadonlyArray<CredentialMatcher>;
}

export type CredentialMatcher = (f: Finding) => Promise<Exclude<Target, { kind: 'none' }> | undefined>;

export async function matchFindings(findings: readonly Finding[], deps: MatchDeps): Promise<Map<string, Target>> {
  // AWS access key IDs that come with their secret key somewhere in the findings.
  const withSecret = new Set(findings.filter((f) => f.identity?.kind === 'aws-access-key' && f.identity.id && !isIdOnly(f)).map((f) => f.identity!.id!));
  const out = new Map<string, Target>();
  for (const f of findings) {
    if (out.has(f.fingerprint)) continue;
    if (isIdOnly(f) && !withSecret.has(f.identity!.id!)) {
      // An ID is public (it is in logs, CloudTrail, error messages): acting on one alone would let
      // anyone who knows it push it and have the key disabled.
      out.set(f.fingerprint, { kind: 'none', why: 'an AWS access key ID alone, without its secret key, is not a leaked credential (and acting on it would let anyone who knows the ID disable the key)' });
      continue;
    }
    out.set(f.fingerprint, await matchOne(f, deps));
  }
  return out;
}

/** The finding is the public ID itself (the `aws-access-key-id` detector), not a secret. */
export function isIdOnly(f: Finding): boolean {
  return f.identity?.kind === 'aws-access-key' && f.identity.id !== undefined && fingerprintSecret(f.identity.id) === f.fingerprint;
}

async function matchOne(f: Finding, deps: MatchDeps): Promise<Target> {
  const id = f.identity;
  if (id?.kind === 'aws-access-key') {
    if (id.id) return { kind: 'credential', provider: 'aws-iam', credentialId: id.id };
    return { kind: 'none', why: 'an AWS secret key without its access key ID nearby; find the key in IAM and deactivate it' };
  }
  if (id?.kind === 'github-token') return { kind: 'credential', provider: 'github', secretFingerprint: f.fingerprint, ...(id.subtype ? { subtype: id.subtype } : {}) };
  for (const matcher of deps.matchers ?? []) {
    const t = await matcher(f);
    if (t) return t;
  }
  // A public key is public: only one its private part proved (it signed a challenge) may be matched
  // by public key. Key material is matched by its keyed fingerprint, which no decoy can produce.
  const usable = id && (id.kind !== 'public-key' || id.proven === true) ? id : undefined;
  if (deps.backend?.matchLeak) {
    const m = await deps.backend.matchLeak({ fingerprint: f.fingerprint, type: f.type, ...(usable ? { identity: usable } : {}) });
    if (m) {
      return {
        kind: 'managed-key',
        backend: deps.backend.name,
        keyId: m.keyId,
        ...(m.version !== undefined ? { version: m.version } : {}),
        aliases: m.aliases,
        revocable: m.revocable,
        how: m.how,
      };
    }
  }
  if (!deps.backend && deps.backendUnavailable && (id?.kind === 'keywarden-key' || id?.kind === 'public-key')) {
    return { kind: 'none', why: `the key backend is not available (${deps.backendUnavailable})` };
  }
  if (id?.kind === 'keywarden-key') return { kind: 'none', why: `no key ${id.id ?? ''} with this material in the ${deps.backend?.name ?? 'configured'} keystore` };
  if (id?.kind === 'public-key' && id.proven !== true && id.subtype !== 'encrypted') {
    return { kind: 'none', why: "the file's public key is not proven by its private part (an OpenSSH or PuTTY header, or a private part that does not match): not acted on, since anyone can copy a public key" };
  }
  if (id?.kind === 'public-key') {
    return { kind: 'none', why: id.id ? `no managed key in the ${deps.backend?.name ?? 'configured'} backend has this public key (${id.id.slice(0, 19)}…)` : 'an encrypted private key: its public key is unknown' };
  }
  return { kind: 'none', why: `no revoker knows ${f.type} credentials; rotate it at its provider` };
}
