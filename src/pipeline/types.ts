/**
 * The pipeline's words: the event an entry point hands in, what a finding was matched to (the
 * target a step acts on), the planned steps, and the report that comes back. Nothing here holds
 * a secret: targets carry public ids, steps carry fingerprints.
 */
import type { ActionType, Decision, DecisionLocation } from '../model/decision.js';
import type { Finding } from '../model/finding.js';

/** What a finding is, as far as revocation goes. */
export type Target =
  | {
      kind: 'managed-key';
      backend: string;
      keyId: string;
      /** The leaked version, when the backend can revoke one version. */
      version?: number;
      aliases: string[];
      /** `version`: revoke that version (the key lives on); `key`: disable the whole key. */
      revocable: 'version' | 'key';
      how: 'material' | 'public-key';
    }
  | {
      kind: 'credential';
      /** The revoker's provider: `aws-iam`, `github`. */
      provider: string;
      /** The credential's public id (an AWS access key ID); absent when the provider needs the token itself. */
      credentialId?: string;
      /** For a credential without a public id (a GitHub token): its finding's fingerprint, which tells two tokens apart. */
      secretFingerprint?: string;
      subtype?: string;
    }
  | { kind: 'none'; why: string };

export type StepKind = 'revoke' | 'rotate' | 'patch';

/** One thing the act stage does. `id` is its idempotency key: the same finding, step and target give the same id. */
export interface Step {
  id: string;
  kind: StepKind;
  /** The findings (fingerprints) this step answers. */
  fingerprints: string[];
  /** For revoke and rotate; absent for the patch. */
  target?: Exclude<Target, { kind: 'none' }>;
  /** The policy rule that demanded it and where that rule is written. */
  rule: string;
  policy: DecisionLocation;
  /** One line for people, no secret: "revoke version 1 of local key lk-… (alias app-signing)". */
  title: string;
}

/** A demanded action that no step carries out here, and why. */
export interface NotDone {
  fingerprint: string;
  action: ActionType;
  rule: string;
  policy: DecisionLocation;
  reason: string;
}

export interface Plan {
  steps: Step[];
  notDone: NotDone[];
}

export type StepStatus = 'done' | 'failed' | 'skipped' | 'planned';

export interface StepResult {
  step: Step;
  status: StepStatus;
  /** The step had already been done by an earlier run (or the backend replayed it). */
  replayed?: boolean;
  /** For failures: the stable `KW_…` code. */
  code?: string;
  /** What happened, for people; never a secret. */
  detail: string;
  /** Public facts the step produced: a new version, a replacement key id, a branch and commit. */
  facts?: Record<string, string | number | boolean>;
}

/** One finding as the report shows it. */
export interface FindingReport {
  finding: Finding;
  target: Target;
  actions: ActionType[];
}

export interface PatchReport {
  branch: string;
  commit: string;
  base: string;
  files: Array<{ path: string; action: 'edit' | 'remove' | 'add'; method?: string }>;
  envVars: string[];
  notes: string[];
}

export interface PipelineReport {
  /** The event's source, as shown: the range, `--staged`, or the tree. */
  source: string;
  findings: FindingReport[];
  decision: Decision;
  steps: StepResult[];
  notDone: NotDone[];
  patch?: PatchReport;
  warnings: Array<{ code: string; message: string; file?: string }>;
  dryRun: boolean;
  summary: { findings: number; files: number; skipped: number; durationMs: number };
}
