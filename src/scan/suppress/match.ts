/**
 * Applies peers' rules to Keywarden findings. Pure: the caller hands in the secret and its line
 * (re-read from the source, checked against the fingerprint) when a rule needs them; they are
 * used in memory and never kept, returned or logged.
 *
 * Rules that need only what a finding carries (file, line, commit, fingerprint) decide at once;
 * the rest (detect-secrets' SHA-1, ggshield occurrence hashes, Gitleaks regexes and stopwords)
 * ask for content through `needsContent`, so the caller reads a source only for findings no
 * cheap rule already decided.
 *
 * @example
 * const m = createPeerMatcher(parseGitleaksIgnore(text).rules);
 * const by = m.match(finding) ?? (m.needsContent(finding) ? m.match(finding, { secret, line }) : undefined);
 */
import { createHash } from 'node:crypto';
import type { Finding } from '../types.js';
import { detectSecretsCandidates } from './detect-secrets.js';
import { peerPatternFound } from './patterns.js';
import { relateRule } from './rule-map.js';
import type { AllowlistRule, HashRule, LocationRule, PeerOrigin, PeerRule } from './types.js';

/** What a content rule looks at; both in memory only. */
export interface PeerContent {
  secret?: string;
  /** The line the finding starts on. */
  line?: string;
}

export interface PeerMatcherOptions {
  /** Providers of Keywarden's detectors (`providerOf` of each id), for mapping peers' rule ids. */
  providers?: ReadonlySet<string>;
}

export interface PeerMatcher {
  readonly size: number;
  /** The first rule that suppresses the finding (with the content, when given), as its origin. */
  match(f: Finding, content?: PeerContent): PeerOrigin | undefined;
  /** Every rule that suppresses the finding (for `baseline import`'s accounting). */
  matchAll(f: Finding, content?: PeerContent): { rule: PeerRule; origin: PeerOrigin }[];
  /** True when no rule decides without content and some rule could with it. */
  needsContent(f: Finding): boolean;
}

/**
 * ggshield hashes an occurrence as SHA-256 of `match,type` per match, sorted by type; for a
 * single-match secret that is `secret,type`. These are the single-match types tried.
 */
const GG_MATCH_TYPES = ['apikey', 'password', 'client_secret', 'secret', 'secret_key', 'token', 'access_token', 'private_key', 'key', 'connection_uri'];

type Verdict = boolean | 'needs';

export function createPeerMatcher(rules: readonly PeerRule[], options: PeerMatcherOptions = {}): PeerMatcher {
  const byFile = new Map<string, (LocationRule | HashRule)[]>();
  const general: PeerRule[] = [];
  for (const r of rules) {
    if (r.kind === 'location' || r.kind === 'hash') {
      const k = normPath(r.file);
      (byFile.get(k) ?? byFile.set(k, []).get(k)!).push(r);
    } else general.push(r);
  }
  const candidatesOf = (f: Finding): Iterable<PeerRule> => [...(byFile.get(normPath(f.file)) ?? []), ...general];

  const judge = (r: PeerRule, f: Finding, c: PeerContent | undefined, memo: Memo): Verdict => {
    switch (r.kind) {
      case 'location': {
        if (r.line !== f.startLine) return false;
        if (r.commit && !commitMatches(r.commit, f.commit)) return false;
        return relateRule(r.peerRule, f, options.providers) !== 'other';
      }
      case 'path':
        return r.test(f.file);
      case 'match': {
        if (r.sha256.has(f.fingerprint.replace(/^sha256:/, ''))) return true;
        if (!r.occurrence) return false;
        if (c?.secret === undefined) return 'needs';
        return memo.ggHashes(c.secret).some((h) => r.sha256.has(h));
      }
      case 'hash':
        if (c?.secret === undefined) return 'needs';
        return memo.sha1s(c.secret).includes(r.sha1);
      case 'content': {
        const text = r.target === 'secret' ? c?.secret : c?.line;
        if (text === undefined) return 'needs';
        return peerPatternFound(r.pattern, text);
      }
      case 'allowlist':
        return judgeAllowlist(r, f, c, options.providers);
    }
  };

  const run = (f: Finding, c: PeerContent | undefined, all: boolean): { verdicts: { rule: PeerRule; origin: PeerOrigin }[]; needs: boolean } => {
    const memo = new Memo();
    const verdicts: { rule: PeerRule; origin: PeerOrigin }[] = [];
    let needs = false;
    for (const r of candidatesOf(f)) {
      const v = judge(r, f, c, memo);
      if (v === 'needs') needs = true;
      else if (v) {
        const which = r.kind === 'path' ? r.which?.(f.file) : undefined;
        verdicts.push({ rule: r, origin: which ? { ...r.origin, ...which } : r.origin });
        if (!all) break;
      }
    }
    return { verdicts, needs };
  };

  return {
    size: rules.length,
    match: (f, c) => run(f, c, false).verdicts[0]?.origin,
    matchAll: (f, c) => run(f, c, true).verdicts,
    needsContent: (f) => {
      const r = run(f, undefined, false);
      return r.verdicts.length === 0 && r.needs;
    },
  };
}

/** Gitleaks' allowlist check: OR allows when any check holds, AND when every non-empty one does. */
function judgeAllowlist(r: AllowlistRule, f: Finding, c: PeerContent | undefined, providers?: ReadonlySet<string>): Verdict {
  if (r.peerRules && !r.peerRules.some((id) => relateRule(id, f, providers) === 'same')) return false;
  const commit = r.commits.length ? r.commits.some((x) => commitMatches(x, f.commit)) : undefined;
  const path = r.paths.length ? r.paths.some((re) => peerPatternFound(re, f.file)) : undefined;
  const target = r.regexTarget === 'secret' ? c?.secret : c?.line; // `match` is judged on the line
  const regex = (): boolean | undefined => (r.regexes.length ? (target === undefined ? undefined : r.regexes.some((re) => peerPatternFound(re, target))) : undefined);
  const stop = (): boolean | undefined => {
    if (!r.stopwords.length) return undefined;
    if (c?.secret === undefined) return undefined;
    const s = c.secret.toLowerCase();
    return r.stopwords.some((w) => s.includes(w));
  };
  const needsContent = r.regexes.length > 0 || r.stopwords.length > 0;
  if (r.condition === 'or') {
    if (commit || path) return true;
    if (!needsContent) return false;
    const rx = regex();
    const sw = stop();
    if (rx || sw) return true;
    return (r.regexes.length && rx === undefined) || (r.stopwords.length && sw === undefined) ? 'needs' : false;
  }
  if (commit === false || path === false) return false;
  if (!needsContent) return true;
  const rx = regex();
  const sw = stop();
  if (rx === false || sw === false) return false;
  return (r.regexes.length && rx === undefined) || (r.stopwords.length && sw === undefined) ? 'needs' : true;
}

/** A full or abbreviated (≥ 7 hex digits) commit id against a finding's. */
function commitMatches(rule: string, commit: string | undefined): boolean {
  if (!commit) return false;
  const c = commit.toLowerCase();
  return c === rule || (rule.length >= 7 && c.startsWith(rule));
}

function normPath(p: string): string {
  return p.replace(/\\/g, '/').replace(/^\.\//, '');
}

/** Hashes of one finding's secret, computed once however many rules ask. */
class Memo {
  private sha1?: string[];
  private gg?: string[];
  sha1s(secret: string): string[] {
    return (this.sha1 ??= detectSecretsCandidates(secret).map((s) => createHash('sha1').update(s, 'utf8').digest('hex')));
  }
  ggHashes(secret: string): string[] {
    return (this.gg ??= GG_MATCH_TYPES.map((t) => createHash('sha256').update(`${secret},${t}`, 'utf8').digest('hex')));
  }
}
