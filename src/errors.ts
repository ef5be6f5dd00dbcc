/**
 * One error base class for the whole project, with stable codes.
 *
 * Callers branch on `code`, never on message text. `fault` says whose problem it is
 * (the AWS SDK's `$fault` model), `retryable` says whether trying again can help.
 * Messages never contain a secret: they say what happened, what to do, and where to read more.
 */

export const ErrorCode = {
  // usage and input
  USAGE: 'KW_USAGE',
  PATH_NOT_FOUND: 'KW_PATH_NOT_FOUND',
  FILE_UNREADABLE: 'KW_FILE_UNREADABLE',
  BAD_REVISION_RANGE: 'KW_BAD_REVISION_RANGE',
  NOT_A_GIT_REPO: 'KW_NOT_A_GIT_REPO',
  GIT_FAILED: 'KW_GIT_FAILED',
  BASELINE_INVALID: 'KW_BASELINE_INVALID',
  CONFIG_INVALID: 'KW_CONFIG_INVALID',
  DETECTOR_INVALID: 'KW_DETECTOR_INVALID',
  // policy
  POLICY_PARSE: 'KW_POLICY_PARSE',
  POLICY_INVALID: 'KW_POLICY_INVALID',
  POLICY_COMPILE: 'KW_POLICY_COMPILE',
  POLICY_BUILD: 'KW_POLICY_BUILD',
  POLICY_EVAL: 'KW_POLICY_EVAL',
  POLICY_TOO_LARGE: 'KW_POLICY_TOO_LARGE',
  POLICY_BUILTIN: 'KW_POLICY_BUILTIN',
  POLICY_EXTENDS: 'KW_POLICY_EXTENDS',
  POLICY_TEST_FAILED: 'KW_POLICY_TEST_FAILED',
  OPA_NOT_FOUND: 'KW_OPA_NOT_FOUND',
  // backends
  KEY_NOT_FOUND: 'KW_KEY_NOT_FOUND',
  KEY_STATE: 'KW_KEY_STATE',
  UNSUPPORTED: 'KW_UNSUPPORTED',
  BACKEND_UNAVAILABLE: 'KW_BACKEND_UNAVAILABLE',
  BACKEND_THROTTLED: 'KW_BACKEND_THROTTLED',
  BACKEND_DENIED: 'KW_BACKEND_DENIED',
  BACKEND_FAILED: 'KW_BACKEND_FAILED',
  IDEMPOTENCY_CONFLICT: 'KW_IDEMPOTENCY_CONFLICT',
  KEYSTORE_LOCKED: 'KW_KEYSTORE_LOCKED',
  DECRYPT_FAILED: 'KW_DECRYPT_FAILED',
  INVALID_ARGUMENT: 'KW_INVALID_ARGUMENT',
  ALIAS_IN_USE: 'KW_ALIAS_IN_USE',
  CREDENTIAL_NOT_FOUND: 'KW_CREDENTIAL_NOT_FOUND',
  SECRET_SINK_FAILED: 'KW_SECRET_SINK_FAILED',
  // store and audit
  STORE_FAILED: 'KW_STORE_FAILED',
  AUDIT_BROKEN: 'KW_AUDIT_BROKEN',
  // anything else
  INTERNAL: 'KW_INTERNAL',
  // audit integrity and keystore hardening (appended)
  AUDIT_WRITE_FAILED: 'KW_AUDIT_WRITE_FAILED',
  CHECKPOINT_INVALID: 'KW_CHECKPOINT_INVALID',
  PASSPHRASE_TOO_SHORT: 'KW_PASSPHRASE_TOO_SHORT',
  KEYSTORE_TAMPERED: 'KW_KEYSTORE_TAMPERED',
  // policy sources and inputs (appended)
  PATH_REFUSED: 'KW_PATH_REFUSED',
  INPUT_TOO_LARGE: 'KW_INPUT_TOO_LARGE',
  INPUT_TOO_DEEP: 'KW_INPUT_TOO_DEEP',
  // remediation patches (appended)
  PATCH_STALE: 'KW_PATCH_STALE',
  PATCH_UNPARSEABLE: 'KW_PATCH_UNPARSEABLE',
  PATCH_UNSUPPORTED: 'KW_PATCH_UNSUPPORTED',
  // git hooks and push protection (appended)
  HOOK_UNKNOWN: 'KW_HOOK_UNKNOWN',
  HOOK_PATH_REFUSED: 'KW_HOOK_PATH_REFUSED',
  HOOK_NOT_SHELL: 'KW_HOOK_NOT_SHELL',
  HOOK_BLOCK_EDITED: 'KW_HOOK_BLOCK_EDITED',
  HOOK_CONFIG_INVALID: 'KW_HOOK_CONFIG_INVALID',
  HOOK_INPUT_INVALID: 'KW_HOOK_INPUT_INVALID',
  BYPASS_REASON_INVALID: 'KW_BYPASS_REASON_INVALID',
  BYPASS_NOT_RECORDED: 'KW_BYPASS_NOT_RECORDED',
  SECRET_NOT_AT_SOURCE: 'KW_SECRET_NOT_AT_SOURCE',
  CREDENTIAL_NOT_LIVE: 'KW_CREDENTIAL_NOT_LIVE',
  // the GitHub App (appended)
  GITHUB_FAILED: 'KW_GITHUB_FAILED',
  GITHUB_THROTTLED: 'KW_GITHUB_THROTTLED',
  GITHUB_DENIED: 'KW_GITHUB_DENIED',
  APP_CONFIG_INVALID: 'KW_APP_CONFIG_INVALID',
  // the durable job queue (appended)
  QUEUE_INPUT_INVALID: 'KW_QUEUE_INPUT_INVALID',
  QUEUE_LEASE_LOST: 'KW_QUEUE_LEASE_LOST',
  QUEUE_LEASE_EXPIRED: 'KW_QUEUE_LEASE_EXPIRED',
  QUEUE_CLOSED: 'KW_QUEUE_CLOSED',
  // the App's HTTP edge (appended)
  WEBHOOK_SECRET_MISSING: 'KW_WEBHOOK_SECRET_MISSING',
  WEBHOOK_HEADERS_INVALID: 'KW_WEBHOOK_HEADERS_INVALID',
  WEBHOOK_SIGNATURE_MISMATCH: 'KW_WEBHOOK_SIGNATURE_MISMATCH',
  WEBHOOK_BODY_TOO_LARGE: 'KW_WEBHOOK_BODY_TOO_LARGE',
  WEBHOOK_PAYLOAD_INVALID: 'KW_WEBHOOK_PAYLOAD_INVALID',
  WEBHOOK_DELIVERY_FAILED: 'KW_WEBHOOK_DELIVERY_FAILED',
  ROUTE_NOT_FOUND: 'KW_ROUTE_NOT_FOUND',
  // peers' suppression files (appended)
  PEER_FILE_INVALID: 'KW_PEER_FILE_INVALID',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export type Fault = 'user' | 'config' | 'backend' | 'internal';

/** A place in a file, 1-based line and column. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
}

export interface KeywardenErrorOptions {
  fault?: Fault;
  retryable?: boolean;
  cause?: unknown;
  location?: SourceLocation;
  hint?: string;
  /** Extra machine-readable details. Never a secret. */
  details?: Record<string, unknown>;
}

export class KeywardenError extends Error {
  override readonly name: string = 'KeywardenError';
  readonly code: ErrorCode;
  readonly fault: Fault;
  readonly retryable: boolean;
  readonly location: SourceLocation | undefined;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: KeywardenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.fault = options.fault ?? defaultFault(code);
    this.retryable = options.retryable ?? false;
    this.location = options.location;
    this.hint = options.hint;
    this.details = options.details;
  }

  /** A JSON shape for machine output; no stack, no cause (a cause may carry foreign text). */
  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      fault: this.fault,
      retryable: this.retryable,
      ...(this.location ? { location: this.location } : {}),
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** Thrown when a backend cannot do a verb; callers catch it by code and fall back. */
export class UnsupportedError extends KeywardenError {
  override readonly name = 'UnsupportedError';
  constructor(backend: string, verb: string, hint?: string) {
    super(ErrorCode.UNSUPPORTED, `The ${backend} backend cannot ${verb}.`, {
      fault: 'backend',
      ...(hint ? { hint } : {}),
      details: { backend, verb },
    });
  }
}

function defaultFault(code: ErrorCode): Fault {
  switch (code) {
    case ErrorCode.INTERNAL:
      return 'internal';
    case ErrorCode.CONFIG_INVALID:
    case ErrorCode.POLICY_PARSE:
    case ErrorCode.POLICY_INVALID:
    case ErrorCode.POLICY_COMPILE:
    case ErrorCode.BASELINE_INVALID:
    case ErrorCode.PEER_FILE_INVALID:
    case ErrorCode.DETECTOR_INVALID:
    case ErrorCode.OPA_NOT_FOUND:
      return 'config';
    case ErrorCode.BACKEND_UNAVAILABLE:
    case ErrorCode.BACKEND_THROTTLED:
    case ErrorCode.BACKEND_DENIED:
    case ErrorCode.BACKEND_FAILED:
    case ErrorCode.KEYSTORE_LOCKED:
      return 'backend';
    default:
      return 'user';
  }
}

export function isKeywardenError(e: unknown): e is KeywardenError {
  return e instanceof KeywardenError;
}

