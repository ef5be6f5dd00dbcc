/**
 * The words of the remediation patch: a site (where a finding says a secret is), the input of one
 * file, and what the patcher did. A site carries a finding's location and fingerprint, never the
 * secret: the patcher reads the secret out of the file text it is given, and only after the text
 * at the site hashes to the site's fingerprint.
 */

/** What a secret becomes. */
export type Replacement =
  /** A reference to an environment variable whose name the patcher derives. The default. */
  | { kind: 'env' }
  /** A literal that is safe to commit: a new key id, an alias, an ARN. Written escaped for its place. */
  | { kind: 'value'; value: string };

/** One place to patch: a finding's location (1-based lines; columns in UTF-16 code units of the line, end exclusive). */
export interface PatchSite {
  startLine: number;
  startColumn: number;
  endLine: number;
  endColumn: number;
  /** `sha256:` + hex SHA-256 of the secret's UTF-8 (`fingerprintSecret`). */
  fingerprint: string;
  /** The finding's credential type (`aws-access-key`, `github-token`, …): the fallback for the variable's name. */
  type: string;
  ruleId: string;
  /** The finding's redacted preview. Written into a comment when the secret sits in one. */
  redacted: string;
  /** What the secret becomes. Default: an environment variable reference. */
  replaceWith?: Replacement;
}

export interface PatchFileInput {
  /** Repository-relative, forward slashes. Decides the kind of file (and the `.gitignore` line). */
  path: string;
  /** The file's full text. It holds the secret; it stays in this process. */
  text: string;
  sites: PatchSite[];
  /**
   * Environment variable names already in use in the repository (from `.env.example`, from files
   * patched before this one): a new name never repeats one of them (`_2`, `_3` are appended).
   */
  takenEnvNames?: ReadonlySet<string>;
  /**
   * Names already chosen for fingerprints in other files: the same secret gets the same name in
   * every file. Wins over `takenEnvNames` (that name is taken by this very secret).
   */
  knownEnvNames?: ReadonlyMap<string, string>;
}

export type SiteOutcomeKind = 'replaced' | 'removed' | 'stale' | 'unsupported';

export interface SiteOutcome {
  fingerprint: string;
  /** The site's start line, in the text that was given. */
  line: number;
  outcome: SiteOutcomeKind;
  /** For `stale` and `unsupported`: an `ErrorCode` (`KW_PATCH_STALE`, `KW_PATCH_UNSUPPORTED`). */
  code?: string;
  /** One line for people. Never the secret. */
  detail?: string;
}

/** An environment variable the patched file now reads. */
export interface EnvVarRef {
  name: string;
  fingerprint: string;
  /** 1-based line of the reference in the patched text. */
  line: number;
}

export type PatchFileResult =
  | {
      action: 'edit';
      text: string;
      /** `ts-morph` when the edit was placed with the TypeScript syntax tree; `text` otherwise (JSON and YAML edits are text edits placed with their parsers). */
      method: 'ts-morph' | 'text';
      envVars: EnvVarRef[];
      sites: SiteOutcome[];
      /** For people, in the pull request: how the file now gets its secret. Notes that start with a code (`KW_PATCH_UNPARSEABLE: …`) are warnings. */
      notes: string[];
    }
  | {
      action: 'remove';
      reason: string;
      /** The line to add to `.gitignore`: the file's path anchored at the repository root, escaped. */
      gitignore: string;
      sites: SiteOutcome[];
    }
  | { action: 'none'; code: string; reason: string; sites: SiteOutcome[] };

/** One finding in the remediation write-up. Every field is already safe to publish. */
export interface RemediationFinding {
  /** The redacted preview (`AKIA…Z7QX`). Never the secret. */
  redacted: string;
  type: string;
  file: string;
  line: number;
  /** Full or short form; shown shortened to 12 hex digits. */
  fingerprint: string;
  /**
   * What was revoked or rotated, one item each, as the pipeline words it: "AWS access key AKIA… of
   * IAM user ci-bot: deactivated", "local key app-signing version 1: revoked; version 2 is current".
   */
  actions: string[];
  /** The policy rule that demanded it. */
  rule?: { id: string; file: string; line: number };
  /** What happened to the file at this finding, when the pipeline patched it. */
  patch?: SiteOutcomeKind;
}

export interface RemediationSummary {
  findings: RemediationFinding[];
  /** Files edited by the patch (repository-relative). */
  filesChanged: string[];
  /** Files deleted from the repository and ignored. */
  filesRemoved?: string[];
  /** Environment variable names the code now reads (and `.env.example` lists). */
  envAdded: string[];
  /** Notes from the patches, for people. */
  notes?: string[];
  /** The file the history-rewrite instructions tell the team to create; default `../keywarden-replacements.txt`. */
  replacementsFile?: string;
}
