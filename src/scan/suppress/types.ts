/**
 * The words of peer suppressions: what other scanners' ignore files (Gitleaks, detect-secrets,
 * secretlint, ggshield) say, parsed into rules the matcher applies to Keywarden's findings.
 *
 * A rule never holds a raw secret: ggshield's `ignored_matches` may name the secret itself, and
 * the parser keeps only its SHA-256 (a finding's fingerprint), never the text.
 */
import type { RE2JS } from 're2js';
import type { ScanWarning } from '../types.js';

/** The peer tools whose files Keywarden reads (`--from` of `keywarden baseline import`). */
export const PEER_TOOLS = ['gitleaks', 'detect-secrets', 'secretlint', 'gitguardian'] as const;
export type PeerTool = (typeof PEER_TOOLS)[number];

/**
 * What a suppression is counted under in `summary.suppressedBy`: the peer file kind (detect-secrets'
 * unaudited entries apart from audited ones). Keywarden's own are `inline` and `baseline`.
 */
export const PEER_SOURCES = ['gitleaksignore', 'gitleaks-allowlist', 'detect-secrets', 'detect-secrets-unaudited', 'secretlintignore', 'gitguardian'] as const;
export type PeerSource = (typeof PEER_SOURCES)[number];

/** Where a rule comes from: the peer file, and a line or entry in it (never the secret). */
export interface PeerOrigin {
  tool: PeerTool;
  source: PeerSource;
  /** The peer file, relative to the scan root: `.gitleaksignore`. */
  file: string;
  /** 1-based line in the peer file, where the format lets us know it. */
  line?: number;
  /** What the entry is, for people: `fingerprint src/a.ts:generic-api-key:3`, `[[allowlists]] #2 paths`. */
  entry: string;
}

/** A `.gitleaksignore` fingerprint: `commit:file:rule-id:line` or `file:rule-id:line`. */
export interface LocationRule {
  kind: 'location';
  origin: PeerOrigin;
  file: string;
  line: number;
  /** Full or abbreviated (Gitleaks 8.26+ writes 7 characters), lower case. */
  commit?: string;
  /** The peer's rule id, mapped loosely to ours. */
  peerRule: string;
}

/** A Gitleaks allowlist (`[allowlist]`, `[[allowlists]]`, `[[rules.allowlists]]`). */
export interface AllowlistRule {
  kind: 'allowlist';
  origin: PeerOrigin;
  condition: 'or' | 'and';
  commits: string[];
  paths: RE2JS[];
  regexTarget: 'secret' | 'match' | 'line';
  regexes: RE2JS[];
  /** Lower case; matched as substrings of the secret. */
  stopwords: string[];
  /** Only for a finding of this peer rule (a rule's own allowlist, or `targetRules`). */
  peerRules?: string[];
}

/** detect-secrets' `.secrets.baseline` result: SHA-1 of the secret, per file. */
export interface HashRule {
  kind: 'hash';
  origin: PeerOrigin;
  file: string;
  /** Lower-case hex SHA-1 of the secret as detect-secrets saw it. */
  sha1: string;
  /** detect-secrets' type ("Secret Keyword", "AWS Access Key"), informational. */
  peerType: string;
  /** Audited `is_secret: false`; else unaudited (accepted as the baseline accepts it, counted apart). */
  audited: boolean;
}

/** A path pattern: `.secretlintignore` (gitignore rules), ggshield `ignored_paths`, detect-secrets file filters. */
export interface PathRule {
  kind: 'path';
  origin: PeerOrigin;
  test: (file: string) => boolean;
  /** The line and entry that decided, where the rule stands for a whole file of patterns. */
  which?: (file: string) => Pick<PeerOrigin, 'line' | 'entry'> | undefined;
}

/** ggshield `ignored_matches`: the SHA-256 of the occurrence, or the secret itself (kept as its SHA-256). */
export interface MatchRule {
  kind: 'match';
  origin: PeerOrigin;
  /** Lower-case hex: SHA-256 of the raw value as written, and the value itself when it is 64 hex digits. */
  sha256: Set<string>;
  /** The value is 64 hex digits: it may be ggshield's occurrence hash, which needs the secret to check. */
  occurrence: boolean;
  /** The Keywarden fingerprint the entry names (`sha256:` + the value's SHA-256, or the value when it is 64 hex digits). */
  fingerprint: string;
}

/** detect-secrets' `exclude.lines` / `should_exclude_line` and `should_exclude_secret` filters. */
export interface ContentRule {
  kind: 'content';
  origin: PeerOrigin;
  target: 'line' | 'secret';
  pattern: RE2JS;
}

export type PeerRule = LocationRule | AllowlistRule | HashRule | PathRule | MatchRule | ContentRule;

/** A warning about a peer file (malformed, unsupported, refused); the scan goes on without that part. */
export interface PeerWarning extends ScanWarning {
  code: 'KW_PEER_IGNORE_INVALID' | 'KW_PEER_IGNORE_UNSUPPORTED' | 'KW_PEER_IGNORE_UNREADABLE' | 'KW_PEER_IGNORE_UNCHECKED';
  file: string;
  line?: number;
  column?: number;
}

/** Every peer file's rules, warnings and non-suppressions together: what a scan applies. */
export interface PeerSuppressions {
  /** The peer files read (relative to the scan root), in `PEER_FILES` order. */
  files: string[];
  rules: PeerRule[];
  warnings: PeerWarning[];
  notSuppressions: ParsedPeerFile['notSuppressions'];
}

export interface ParsedPeerFile {
  rules: PeerRule[];
  warnings: PeerWarning[];
  /** Entries that are deliberately not suppressions (detect-secrets `is_secret: true`), for the import report. */
  notSuppressions: { origin: PeerOrigin; why: string }[];
}
