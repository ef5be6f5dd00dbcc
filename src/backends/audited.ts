/**
 * Wraps any `KeyBackend` so every mutating verb lands in the audit log, failing closed.
 *
 * Two ways, chosen by where the log lives:
 * - The local keystore keeps its log in its own database and appends each record inside the
 *   mutation's transaction (local.ts). Wrapped around that same log, this class only passes
 *   the default actor through: the record is already atomic with the operation.
 * - Any other backend (aws-kms, pkcs11, or a keystore logging to another file) cannot share a
 *   transaction with the log. So an `intent` record is appended before the call (if that
 *   append fails, the call is never made), and an outcome record naming the intent
 *   (details.intentSeq) after it. A process killed in between leaves an intent with no
 *   outcome; `reconcile()` (run when the CLI opens a backend) looks at the key through the
 *   backend and records what it observed (`succeeded`, `not-applied`, or `unknown` when the
 *   backend cannot tell), and `audit verify` reports intents that are still open.
 *
 * Reads and envelope operations are not recorded: they are not key-management operations and
 * would flood the chain. `matchLeak` and `getPublicKey` are reads and pass through; the
 * optional `revokeVersion` is a mutation like the others. The optional verbs exist on the wrapper
 * only when the inner backend has them, so a caller can still test for them.
 *
 * Security: the record takes ids, states, versions, the idempotency key and the caller's
 * reason. Error messages are not recorded, only codes, so foreign text cannot leak in.
 */
import { hostname } from 'node:os';
import { ErrorCode, isKeywardenError, KeywardenError } from '../errors.js';
import type { AuditEventInput, AuditOutcome, AuditRecord, AuditWriter } from '../store/audit.js';
import type {
  CreateKeyInput,
  CredentialRevocation,
  CredentialRevoker,
  DataKeyResult,
  DecryptResult,
  EncryptOptions,
  EncryptResult,
  KeyBackend,
  KeyMatch,
  KeyState,
  LeakEvidence,
  ManagedKey,
  MutationOptions,
  MutationResult,
  MutationVerb,
  RevokeOptions,
  RotationInput,
} from './port.js';

export interface AuditedBackendOptions {
  /** Used when a call gives no `actor`. */
  actor: string;
  now?: () => Date;
  /** An intent from another host is presumed abandoned after this long. Default 10 minutes. */
  intentLeaseMs?: number;
}

type Details = Record<string, string | number | boolean | null>;

/** One reconciled intent: what the backend showed. */
export interface ReconciledIntent {
  intentSeq: number;
  operation: string;
  keyId: string | null;
  outcome: AuditOutcome;
}

// Intents this process is still waiting on, by log and seq: never reconciled from under a live call.
const inflight = new Set<string>();
// Clocks differ (KMS timestamps come from AWS, some with one-second precision).
const CLOCK_SKEW_MS = 2000;

function auditWriteFailed(e: unknown, what: string, done: boolean): KeywardenError {
  const message = done
    ? `The ${what} was done, but its outcome could not be recorded; it will be reconciled when the backend is next opened.`
    : `The audit record could not be written, so the ${what} was not attempted.`;
  return new KeywardenError(ErrorCode.AUDIT_WRITE_FAILED, message, {
    fault: 'backend',
    retryable: isKeywardenError(e) && e.retryable,
    cause: e,
    hint: 'Check that the audit log is writable, then run "keywarden audit verify".',
  });
}

/** Appends or throws AUDIT_WRITE_FAILED. */
async function append(audit: AuditWriter, input: AuditEventInput, done: boolean): Promise<AuditRecord> {
  try {
    return await audit.append(input);
  } catch (e) {
    throw auditWriteFailed(e, input.operation, done);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const STATE_AFTER: Partial<Record<string, KeyState>> = {
  disable: 'disabled',
  enable: 'enabled',
  'schedule-destruction': 'pending-destruction',
  'cancel-destruction': 'disabled',
};

export class AuditedBackend implements KeyBackend {
  readonly name: string;
  readonly capabilities: KeyBackend['capabilities'];
  /** True when the inner backend writes its records in its own transactions, into this log. */
  readonly atomic: boolean;
  readonly matchLeak?: (evidence: LeakEvidence) => Promise<KeyMatch | undefined>;
  readonly revokeVersion?: (ref: string, version: number, options: MutationOptions) => Promise<MutationResult>;
  readonly getPublicKey?: (ref: string) => Promise<Uint8Array>;

  constructor(
    readonly inner: KeyBackend,
    private readonly audit: AuditWriter,
    private readonly options: AuditedBackendOptions,
  ) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
    this.atomic = (inner as Partial<{ auditLog: AuditWriter }>).auditLog === audit;
    if (inner.matchLeak) this.matchLeak = (evidence) => inner.matchLeak!(evidence);
    if (inner.getPublicKey) this.getPublicKey = (ref) => inner.getPublicKey!(ref);
    if (inner.revokeVersion) {
      this.revokeVersion = (ref, version, options) =>
        this.record('revoke-version', ref, options, { revokedVersion: version }, (o) => inner.revokeVersion!(ref, version, o));
    }
  }

  private withActor(options: MutationOptions): MutationOptions {
    return { ...options, actor: options.actor ?? this.options.actor };
  }

  private async record(
    verb: MutationVerb,
    target: string | null,
    options: MutationOptions,
    details: Details,
    run: (o: MutationOptions) => Promise<MutationResult>,
  ): Promise<MutationResult> {
    if (this.atomic) return run(this.withActor(options));
    const base = {
      actor: options.actor ?? this.options.actor,
      backend: this.name,
      operation: verb,
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
    };
    const time = (): { time?: Date } => (this.options.now ? { time: this.options.now() } : {});
    const intent = await append(
      this.audit,
      {
        ...base,
        ...time(),
        keyId: target,
        outcome: 'intent',
        details: { ...details, idempotencyKey: options.idempotencyKey, pid: process.pid, host: hostname() },
      },
      false,
    );
    const mark = `${await this.audit.logId()}:${intent.seq}`;
    inflight.add(mark);
    try {
      let r: MutationResult;
      try {
        r = await run(options);
      } catch (e) {
        await append(
          this.audit,
          {
            ...base,
            ...time(),
            keyId: target,
            outcome: 'failed',
            errorCode: isKeywardenError(e) ? e.code : ErrorCode.INTERNAL,
            details: { ...details, idempotencyKey: options.idempotencyKey, intentSeq: intent.seq },
          },
          false,
        );
        throw e;
      }
      await append(
        this.audit,
        {
          ...base,
          ...time(),
          keyId: r.keyId,
          outcome: r.replayed ? 'replayed' : 'succeeded',
          details: {
            ...details,
            idempotencyKey: options.idempotencyKey,
            intentSeq: intent.seq,
            state: r.state,
            ...(r.version !== undefined ? { version: r.version } : {}),
            ...(r.destructionAt ? { destructionAt: r.destructionAt } : {}),
            ...(r.revokedVersion !== undefined ? { revokedVersion: r.revokedVersion } : {}),
          },
        },
        true,
      );
      return r;
    } finally {
      inflight.delete(mark);
    }
  }

  /**
   * Settles every intent whose process is gone: looks at the key through the backend and
   * appends what it saw. An intent of a live process (this one or another on this host) is left
   * alone, as is one from another host younger than the lease. When the backend cannot be
   * reached the intent stays open, and `audit verify` keeps reporting it.
   */
  async reconcile(): Promise<ReconciledIntent[]> {
    if (this.atomic) return [];
    const out: ReconciledIntent[] = [];
    const logId = await this.audit.logId();
    const lease = this.options.intentLeaseMs ?? 10 * 60_000;
    for (const intent of await this.audit.openIntents()) {
      if (inflight.has(`${logId}:${intent.seq}`)) continue;
      const { host, pid } = intent.details;
      if (host === hostname()) {
        if (typeof pid === 'number' && processAlive(pid)) continue;
      } else if (Date.now() - Date.parse(intent.time) < lease) continue;
      let seen: { outcome: AuditOutcome; keyId: string | null; details: Details } | undefined;
      try {
        seen = await this.observe(intent);
      } catch (e) {
        if (isKeywardenError(e) && e.code === ErrorCode.KEY_NOT_FOUND) seen = { outcome: 'unknown', keyId: intent.keyId, details: { observed: 'not-found' } };
        else continue;
      }
      await append(
        this.audit,
        {
          actor: 'keywarden:reconcile',
          backend: intent.backend,
          keyId: seen.keyId,
          operation: intent.operation,
          outcome: seen.outcome,
          ...(intent.reason !== null ? { reason: intent.reason } : {}),
          ...(this.options.now ? { time: this.options.now() } : {}),
          details: { ...seen.details, idempotencyKey: intent.details.idempotencyKey ?? null, intentSeq: intent.seq, reconciled: true },
        },
        true,
      );
      out.push({ intentSeq: intent.seq, operation: intent.operation, keyId: seen.keyId, outcome: seen.outcome });
    }
    return out;
  }

  /** What the backend shows about an intent's key, judged against what the log already claims. */
  private async observe(intent: AuditRecord): Promise<{ outcome: AuditOutcome; keyId: string | null; details: Details }> {
    const since = Date.parse(intent.time) - CLOCK_SKEW_MS;
    const settled = (r: AuditRecord): boolean => r.outcome === 'succeeded' || r.outcome === 'replayed';
    if (intent.operation === 'rotate' && intent.keyId) {
      const key = await this.inner.describe(intent.keyId);
      const claimed = new Set((await this.audit.list({ keyId: key.id, operation: 'rotate' })).filter(settled).map((r) => r.details.version));
      const fresh = key.versions.filter((v) => v.version > 1 && Date.parse(v.createdAt) >= since && !claimed.has(v.version));
      const details = { state: key.state, observedVersion: key.currentVersion };
      if (fresh.length) return { outcome: 'succeeded', keyId: key.id, details: { ...details, version: fresh[0]!.version } };
      return { outcome: 'not-applied', keyId: key.id, details };
    }
    if (intent.operation === 'create') {
      const claimed = new Set((await this.audit.list({ operation: 'create' })).filter(settled).map((r) => r.keyId));
      const fresh = (await this.inner.inventory()).filter((k) => Date.parse(k.createdAt) >= since && !claimed.has(k.id));
      const alias = intent.details.alias;
      const named = fresh.filter((k) => typeof alias === 'string' && k.aliases.includes(alias));
      const pick = named.length === 1 ? named : fresh;
      if (pick.length === 1) return { outcome: 'succeeded', keyId: pick[0]!.id, details: { state: pick[0]!.state, version: pick[0]!.currentVersion } };
      return { outcome: pick.length === 0 ? 'not-applied' : 'unknown', keyId: null, details: { candidates: pick.length } };
    }
    if (!intent.keyId) return { outcome: 'unknown', keyId: null, details: {} };
    const key = await this.inner.describe(intent.keyId);
    const details = { state: key.state, observedVersion: key.currentVersion };
    // A later settled record about the key means its state since then proves nothing about this one.
    const later = (await this.audit.list({ keyId: key.id, afterSeq: intent.seq })).some(settled);
    if (later) return { outcome: 'unknown', keyId: key.id, details };
    let applied: boolean | undefined;
    if (STATE_AFTER[intent.operation]) applied = key.state === STATE_AFTER[intent.operation];
    else if (intent.operation === 'set-rotation') applied = key.rotation.automatic === intent.details.automatic;
    else if (intent.operation === 'move-alias' && typeof intent.details.alias === 'string') applied = key.aliases.includes(intent.details.alias);
    else if (intent.operation === 'revoke-version' && typeof intent.details.revokedVersion === 'number') {
      const v = key.versions.find((x) => x.version === intent.details.revokedVersion);
      // A destroyed version no longer says whether it was revoked first.
      if (v && v.state !== 'destroyed') applied = v.state === 'revoked';
    }
    if (applied === undefined) return { outcome: 'unknown', keyId: key.id, details };
    return { outcome: applied ? 'succeeded' : 'not-applied', keyId: key.id, details };
  }

  inventory(): Promise<ManagedKey[]> {
    return this.inner.inventory();
  }
  describe(ref: string): Promise<ManagedKey> {
    return this.inner.describe(ref);
  }
  create(input: CreateKeyInput, options: MutationOptions): Promise<MutationResult> {
    const details = { spec: input.spec, alias: input.alias ?? null, ...(input.exportable ? { exportable: true } : {}) };
    return this.record('create', null, options, details, (o) => this.inner.create(input, o));
  }
  rotate(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.record('rotate', ref, options, {}, (o) => this.inner.rotate(ref, o));
  }
  setRotation(ref: string, rotation: RotationInput, options: MutationOptions): Promise<MutationResult> {
    return this.record('set-rotation', ref, options, { automatic: rotation.automatic, periodDays: rotation.periodDays ?? null }, (o) =>
      this.inner.setRotation(ref, rotation, o),
    );
  }
  disable(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.record('disable', ref, options, {}, (o) => this.inner.disable(ref, o));
  }
  enable(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.record('enable', ref, options, {}, (o) => this.inner.enable(ref, o));
  }
  scheduleDestruction(ref: string, windowDays: number, options: MutationOptions): Promise<MutationResult> {
    return this.record('schedule-destruction', ref, options, { windowDays }, (o) => this.inner.scheduleDestruction(ref, windowDays, o));
  }
  cancelDestruction(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.record('cancel-destruction', ref, options, {}, (o) => this.inner.cancelDestruction(ref, o));
  }
  moveAlias(alias: string, targetRef: string, options: MutationOptions): Promise<MutationResult> {
    return this.record('move-alias', targetRef, options, { alias }, (o) => this.inner.moveAlias(alias, targetRef, o));
  }
  async completeDueDestructions(now?: Date): Promise<MutationResult[]> {
    if (this.atomic) return this.inner.completeDueDestructions(now);
    const base = { actor: this.options.actor, backend: this.name, ...(this.options.now ? { time: this.options.now() } : {}) };
    const intent = await append(
      this.audit,
      { ...base, operation: 'complete-due-destructions', outcome: 'intent', details: { pid: process.pid, host: hostname() } },
      false,
    );
    let results: MutationResult[];
    try {
      results = await this.inner.completeDueDestructions(now);
    } catch (e) {
      const errorCode = isKeywardenError(e) ? e.code : ErrorCode.INTERNAL;
      await append(this.audit, { ...base, operation: 'complete-due-destructions', outcome: 'failed', errorCode, details: { intentSeq: intent.seq } }, false);
      throw e;
    }
    for (const r of results) {
      await append(
        this.audit,
        {
          ...base,
          keyId: r.keyId,
          operation: 'destroy',
          outcome: r.replayed ? 'replayed' : r.state === 'destroyed' ? 'succeeded' : 'pending',
          details: { state: r.state },
        },
        true,
      );
    }
    const done = results.filter((r) => r.state === 'destroyed').length;
    await append(this.audit, { ...base, operation: 'complete-due-destructions', outcome: 'succeeded', details: { intentSeq: intent.seq, destroyed: done } }, true);
    return results;
  }
  encrypt(ref: string, plaintext: Uint8Array, options?: EncryptOptions): Promise<EncryptResult> {
    return this.inner.encrypt(ref, plaintext, options);
  }
  decrypt(ciphertext: Uint8Array, options?: EncryptOptions): Promise<DecryptResult> {
    return this.inner.decrypt(ciphertext, options);
  }
  generateDataKey(ref: string, options?: EncryptOptions & { bytes?: number }): Promise<DataKeyResult> {
    return this.inner.generateDataKey(ref, options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Wraps a `CredentialRevoker` so each revocation and its outcome lands in the audit log. */
export class AuditedRevoker implements CredentialRevoker {
  readonly provider: string;
  readonly cannotRotate?: string;

  constructor(
    readonly inner: CredentialRevoker,
    private readonly audit: AuditWriter,
    private readonly options: AuditedBackendOptions,
  ) {
    this.provider = inner.provider;
    if (inner.cannotRotate !== undefined) this.cannotRotate = inner.cannotRotate;
  }

  async revoke(credentialId: string, options: RevokeOptions): Promise<CredentialRevocation> {
    const base = {
      actor: options.actor ?? this.options.actor,
      backend: this.provider,
      keyId: credentialId,
      operation: options.replace === false ? 'revoke-credential' : 'revoke-and-replace-credential',
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(this.options.now ? { time: this.options.now() } : {}),
    };
    const intent = await append(
      this.audit,
      { ...base, outcome: 'intent', details: { idempotencyKey: options.idempotencyKey, pid: process.pid, host: hostname() } },
      false,
    );
    let r: CredentialRevocation;
    try {
      r = await this.inner.revoke(credentialId, options);
    } catch (e) {
      const errorCode = isKeywardenError(e) ? e.code : ErrorCode.INTERNAL;
      await append(this.audit, { ...base, outcome: 'failed', errorCode, details: { idempotencyKey: options.idempotencyKey, intentSeq: intent.seq } }, false);
      throw e;
    }
    await append(
      this.audit,
      {
        ...base,
        outcome: r.replayed ? 'replayed' : 'succeeded',
        details: {
          idempotencyKey: options.idempotencyKey,
          intentSeq: intent.seq,
          owner: r.owner,
          deactivated: r.deactivated,
          replacementId: r.replacementId ?? null,
          replacementRef: r.replacementRef ?? null,
        },
      },
      true,
    );
    return r;
  }
}
