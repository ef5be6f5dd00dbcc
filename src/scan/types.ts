/**
 * The words of the detect stage. A `Detector` describes one kind of secret; a `Finding` is one
 * detected secret at one place. A finding never carries the raw secret: only its SHA-256
 * fingerprint and a redacted preview leave the code that matched it.
 */

import type { Confidence, CredentialIdentity, Finding, Severity } from '../model/finding.js';
export type { Confidence, CredentialIdentity, Finding, Severity } from '../model/finding.js';
export { SEVERITIES } from '../model/finding.js';

/**
 * A pattern compiled by a linear-time engine (custom detectors from a policy: RE2 semantics, so
 * no input can make it backtrack). Behaves like a global `RegExp`: `exec` starts at `lastIndex`
 * and moves it past the match; the engine uses it as given, never recompiles it.
 */
export interface LinearPattern {
  readonly source: string;
  readonly flags: string;
  lastIndex: number;
  exec(text: string): RegExpExecArray | null;
}

/** What the engine hands a detector's `verify` hook for one regex match. */
export interface MatchContext {
  /** The whole regex match. */
  match: RegExpExecArray;
  /** The text the regex ran over (a window of the file, never the whole file). */
  text: string;
  /** Index of the secret in `text`. */
  index: number;
}

export interface Detector {
  /** Stable id, kebab-case: `aws-access-key-id`, `github-pat-fine-grained`. */
  readonly id: string;
  /** The credential type the policy's `on-leak` rules match on: `aws-access-key`, `github-token`, `private-key`, … */
  readonly type: string;
  /** One line for people: "AWS access key ID". */
  readonly title: string;
  readonly severity: Severity;
  readonly confidence: Confidence;
  /**
   * ASCII literals for the keyword prefilter, matched in any case (but see `keywordCase`; lower
   * case by convention). The regex runs only in a window around
   * an occurrence of one of them, so each must occur in (or right before) every real secret.
   * Must not be empty.
   */
  readonly keywords: readonly string[];
  /**
   * `'exact'`: the keywords are written as the secret spells them (`EAA`, `SG.`, `Default:`) and
   * open a window only when the text has them so. For a case-sensitive pattern that holds each
   * keyword literally: a keyword in another case could never start a match. Default: any case.
   */
  readonly keywordCase?: 'exact';
  /**
   * The pattern. Compiled with the `g` flag by the engine (other flags kept). The secret is the
   * named group `secret` if present, else group 1 if present, else the whole match.
   */
  readonly pattern: RegExp | LinearPattern;
  /**
   * How far around a keyword hit the pattern may look, in bytes. Defaults: 256 before, 512 after,
   * never past the line the keyword is on unless `multiline` is set.
   */
  readonly window?: { readonly before?: number; readonly after?: number };
  /** The secret may span lines (PEM blocks, JSON documents). */
  readonly multiline?: boolean;
  /** Minimum Shannon entropy (bits per char) of the secret. */
  readonly minEntropy?: number;
  /**
   * Extra check on a candidate (checksums, placeholders, known example values).
   * Return false to drop the match. Must be pure and fast.
   */
  readonly verify?: (secret: string, ctx: MatchContext) => boolean;
  /**
   * The credential's public identity (an access key ID, a public-key fingerprint, a token kind),
   * derived from the secret and its match. Runs where the secret is, in the scan worker; must be
   * pure, and must return only what is safe to print. Undefined when there is none.
   */
  readonly identify?: (secret: string, ctx: MatchContext) => CredentialIdentity | undefined;
  /**
   * Detectors with lower priority lose when two findings overlap (a generic rule loses to a
   * specific one). Default 10; generic rules use 0.
   */
  readonly priority?: number;
  /** Where to read more about this credential and how to revoke it. */
  readonly docs?: string;
}

/** A detector defined in configuration (a policy's `secrets.detectors` or `--rule`): data only. */
export interface CustomDetectorSpec {
  id: string;
  pattern: string;
  flags?: string;
  type?: string;
  title?: string;
  severity?: Severity;
  confidence?: Confidence;
  keywords?: string[];
  minEntropy?: number;
}

/**
 * Why a file or blob was not scanned. Counted in the summary, never silent.
 * - `binary`: kept for compatibility; no source reports it any more (every binary, media files
 *   included, is scanned for printable runs, and archives are unpacked within the size budget);
 * - `too-large`: over `maxFileSize` (or archive members cut at the budget, with a warning);
 * - `special`: a FIFO, socket or device, never opened;
 * - `submodule`: a submodule or an embedded repository (scanned with `recurseSubmodules`);
 * - `outside-root`: a listed path whose directory resolves outside the scan root (through a
 *   symlinked directory), never opened;
 * - `ignored-path`: matched a pattern of `ignorePaths` (`--ignore-path`, a policy's `secrets:`);
 * - `gitignored`: excluded by the tree's `.gitignore` files, inside a git work tree (what git would
 *   not commit), or anywhere with `gitignore: true`; scanned with `gitignore: false`.
 */
export type SkipReason = 'binary' | 'too-large' | 'unreadable' | 'ignored-path' | 'special' | 'submodule' | 'outside-root' | 'gitignored';

export interface Skipped {
  file: string;
  reason: SkipReason;
  /** For `unreadable`: the error code, never file content. */
  detail?: string;
}

/** A non-fatal problem met during a scan; the scan went on. */
export interface ScanWarning {
  code: string;
  message: string;
  file?: string;
}

/**
 * How often a history scan met one secret at one path: `count` findings (every version of the file
 * that holds it, each place in it; what `allOccurrences` lists one by one) in `commits` commits.
 */
export interface Occurrences {
  count: number;
  commits: number;
}

/**
 * A finding of a history scan: one per secret and path (and archive member), at the earliest
 * commit that brought it there, with the `occurrences` it stands for.
 */
export type HistoryFinding = Finding & { occurrences?: Occurrences };

export interface ScanSummary {
  files: number;
  bytes: number;
  findings: number;
  suppressed: number;
  /**
   * Of `suppressed`, how many by what: `inline` (allow comments), `baseline` (Keywarden's), and each
   * peer file kind (`gitleaksignore`, `gitleaks-allowlist`, `detect-secrets`,
   * `detect-secrets-unaudited`, `secretlintignore`, `gitguardian`). Absent when nothing was.
   */
  suppressedBy?: Record<string, number>;
  skipped: number;
  skippedBy: Partial<Record<SkipReason, number>>;
  /** Commits looked at (git scans). */
  commits?: number;
  /** History scans, one finding per secret and path: the findings before grouping (see `Occurrences`). */
  occurrences?: number;
  durationMs: number;
}

export interface ScanResult {
  findings: Finding[];
  skipped: Skipped[];
  warnings: ScanWarning[];
  summary: ScanSummary;
}
