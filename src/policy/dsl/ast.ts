/**
 * The key-policy AST. Both the YAML parser and the `definePolicy` builder produce it; the Rego
 * compiler consumes it. Every node that can produce a violation carries the `Loc` it came from,
 * so a decision can point back at the policy line that caused it.
 */
import type { CustomDetectorSpec, Severity } from '../../scan/types.js';

/** Where a piece of a policy was written: file, 1-based line and column, and its JSON pointer. */
export interface Loc {
  file: string;
  line: number;
  column: number;
  /** JSON pointer into the policy document, e.g. `/keys/0/rotation/max-age`. */
  path: string;
}

export { ACTIONS, type ActionType } from '../../model/decision.js';
export { BACKEND_KINDS, type BackendKind } from '../../model/backend-kinds.js';
import type { ActionType } from '../../model/decision.js';
import type { BackendKind } from '../../model/backend-kinds.js';

export const REFERENCE_SOURCES = ['env', 'kms', 'secret-manager', 'vault', 'file'] as const;
export type ReferenceSource = (typeof REFERENCE_SOURCES)[number];

export const VISIBILITIES = ['public', 'private', 'internal'] as const;
export type Visibility = (typeof VISIBILITIES)[number];

export type CompareOp = '>=' | '<=' | '>' | '<' | '==';

/** A duration such as `90d`, kept with its text for messages. */
export interface Duration {
  text: string;
  days: number;
  loc: Loc;
}

/** One comparison such as `>= 14d`. A bound is all of its comparisons together. */
export interface Comparison {
  op: CompareOp;
  days: number;
  text: string;
}

export interface Bound {
  comparisons: Comparison[];
  /** The bound as written, e.g. `>= 7d, <= 30d`. */
  text: string;
  loc: Loc;
}

export interface Located<T> {
  value: T;
  loc: Loc;
}

export const KEY_FAMILIES = ['symmetric', 'asymmetric', 'hmac'] as const;
export type KeyFamilyName = (typeof KEY_FAMILIES)[number];

export interface KeySelector {
  backend?: string;
  id?: string;
  alias?: string;
  label?: string;
  tags?: Record<string, string>;
  /** Keys of these families (by spec); a key whose spec is unknown is in none. */
  family?: KeyFamilyName[];
  /** Glob on the backend key spec. */
  spec?: string;
  /** Glob on the resource type a key is declared by in the repository (live keys have none). */
  resource?: string;
  /** Glob on the file a key is declared in (live keys have none). */
  path?: string;
  loc: Loc;
}

export interface SpecRule {
  allow?: Located<string[]>;
  deny?: Located<string[]>;
  /** Minimum size per key family (`RSA`, `ECC`, `HMAC`, `AES`). */
  minSize?: Located<Record<string, number>>;
  loc: Loc;
}

export type RotationMode = 'required' | 'optional' | 'forbidden';

export interface RotationRule {
  maxAge?: Duration;
  automatic?: Located<RotationMode>;
  period?: Bound;
  loc: Loc;
}

export type AccessForbid = 'wildcard-principal' | (string & {});

export interface AccessRule {
  admins?: Located<string[]>;
  users?: Located<string[]>;
  forbid?: Located<string[]>;
  separateDuties?: Located<boolean>;
  /** Principals (globs) the forbid and separate-duties rules skip: the account root. */
  exempt?: Located<string[]>;
  loc: Loc;
}

export interface DestroyRule {
  pendingWindow?: Bound;
  loc: Loc;
}

export interface KeyRule {
  name: string;
  description?: string;
  match: KeySelector;
  severity: Severity;
  /** Actions to take for every violation of this key class. */
  do: ActionType[];
  spec?: SpecRule;
  rotation?: RotationRule;
  access?: AccessRule;
  destroy?: DestroyRule;
  loc: Loc;
}

/** A detector in the policy: a named preset, or a custom one (data only, never code). */
export type DetectorRef =
  | { kind: 'preset'; name: string; loc: Loc }
  | ({ kind: 'custom'; loc: Loc } & Omit<CustomDetectorSpec, 'confidence'>);

export interface LeakCondition {
  type?: string[];
  branch?: string[];
  path?: string[];
  visibility?: Visibility[];
}

export interface LeakRule {
  when: LeakCondition;
  do: ActionType[];
  severity: Severity;
  message?: string;
  loc: Loc;
}

export interface SecretsPolicy {
  detectors: DetectorRef[];
  ignorePaths: string[];
  onLeak: LeakRule[];
  loc?: Loc;
}

export interface StoragePolicy {
  forbidFiles: Located<string>[];
  requireReference?: Located<ReferenceSource[]>;
  severity: Severity;
  loc: Loc;
}

export interface PolicyException {
  fingerprint?: string;
  key?: string;
  rule?: string;
  path?: string;
  reason: string;
  owner: string;
  /** `YYYY-MM-DD`; the exception applies before the end of that day (UTC). */
  expires: string;
  /** Epoch milliseconds of the end of the expiry day, UTC. */
  expiresMs: number;
  loc: Loc;
}

/** `drift:` — how often the App compares the default branch's declared keys with the live KMS. */
export interface DriftPolicy {
  every: Located<string>;
  /** The interval in milliseconds. */
  everyMs: number;
  loc: Loc;
}

export interface PolicyAst {
  version: 1;
  /** Rego package suffix: `package keywarden.<name>`. */
  name: string;
  file: string;
  extends: Located<string>[];
  backend?: { kind: BackendKind; region?: string; loc: Loc };
  keys: KeyRule[];
  secrets: SecretsPolicy;
  storage?: StoragePolicy;
  drift?: DriftPolicy;
  exceptions: PolicyException[];
  loc: Loc;
}
