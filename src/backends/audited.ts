/**
 * Wraps any `KeyBackend` so every mutating verb and its outcome appends one audit record
 * (succeeded, replayed or failed with its error code). Reads and envelope operations are
 * not recorded: they are not key-management operations and would flood the chain.
 *
 * Security: the record takes ids, states, versions, the idempotency key and the caller's
 * reason. Error messages are not recorded, only codes, so foreign text cannot leak in.
 */
import { isKeywardenError } from '../errors.js';
import type { AuditLog } from '../store/audit.js';
import type {
  CreateKeyInput,
  CredentialRevocation,
  CredentialRevoker,
  DataKeyResult,
  DecryptResult,
  EncryptOptions,
  EncryptResult,
  KeyBackend,
  ManagedKey,
  MutationOptions,
  MutationResult,
  MutationVerb,
  RotationInput,
} from './port.js';

export interface AuditedBackendOptions {
  /** Used when a call gives no `actor`. */
  actor: string;
  now?: () => Date;
}

export class AuditedBackend implements KeyBackend {
  readonly name: string;
  readonly capabilities: KeyBackend['capabilities'];

  constructor(
    readonly inner: KeyBackend,
    private readonly audit: AuditLog,
    private readonly options: AuditedBackendOptions,
  ) {
    this.name = inner.name;
    this.capabilities = inner.capabilities;
  }

  private async record(
    verb: MutationVerb,
    target: string | null,
    options: MutationOptions,
    details: Record<string, string | number | boolean | null>,
    run: () => Promise<MutationResult>,
  ): Promise<MutationResult> {
    const base = {
      actor: options.actor ?? this.options.actor,
      backend: this.name,
      operation: verb,
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(this.options.now ? { time: this.options.now() } : {}),
    };
    try {
      const r = await run();
      this.audit.append({
        ...base,
        keyId: r.keyId,
        outcome: r.replayed ? 'replayed' : 'succeeded',
        details: {
          ...details,
          idempotencyKey: options.idempotencyKey,
          state: r.state,
          ...(r.version !== undefined ? { version: r.version } : {}),
          ...(r.destructionAt ? { destructionAt: r.destructionAt } : {}),
        },
      });
      return r;
    } catch (e) {
      this.audit.append({
        ...base,
        keyId: target,
        outcome: 'failed',
        errorCode: isKeywardenError(e) ? e.code : 'KW_INTERNAL',
        details: { ...details, idempotencyKey: options.idempotencyKey },
      });
      throw e;
    }
  }

  inventory(): Promise<ManagedKey[]> {
    return this.inner.inventory();
  }
  describe(ref: string): Promise<ManagedKey> {
    return this.inner.describe(ref);
  }
  create(input: CreateKeyInput, options: MutationOptions): Promise<MutationResult> {
    return this.record('create', null, options, { spec: input.spec, alias: input.alias ?? null }, () => this.inner.create(input, options));
  }
  rotate(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.record('rotate', ref, options, {}, () => this.inner.rotate(ref, options));
  }
  setRotation(ref: string, rotation: RotationInput, options: MutationOptions): Promise<MutationResult> {
    return this.record('set-rotation', ref, options, { automatic: rotation.automatic, periodDays: rotation.periodDays ?? null }, () =>
      this.inner.setRotation(ref, rotation, options),
    );
  }
  disable(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.record('disable', ref, options, {}, () => this.inner.disable(ref, options));
  }
  enable(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.record('enable', ref, options, {}, () => this.inner.enable(ref, options));
  }
  scheduleDestruction(ref: string, windowDays: number, options: MutationOptions): Promise<MutationResult> {
    return this.record('schedule-destruction', ref, options, { windowDays }, () => this.inner.scheduleDestruction(ref, windowDays, options));
  }
  cancelDestruction(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.record('cancel-destruction', ref, options, {}, () => this.inner.cancelDestruction(ref, options));
  }
  moveAlias(alias: string, targetRef: string, options: MutationOptions): Promise<MutationResult> {
    return this.record('move-alias', targetRef, options, { alias }, () => this.inner.moveAlias(alias, targetRef, options));
  }
  async completeDueDestructions(now?: Date): Promise<MutationResult[]> {
    const results = await this.inner.completeDueDestructions(now);
    for (const r of results) {
      this.audit.append({
        actor: this.options.actor,
        backend: this.name,
        keyId: r.keyId,
        operation: 'destroy',
        outcome: r.replayed ? 'replayed' : 'succeeded',
        details: { state: r.state },
        ...(this.options.now ? { time: this.options.now() } : {}),
      });
    }
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

  constructor(
    readonly inner: CredentialRevoker,
    private readonly audit: AuditLog,
    private readonly options: AuditedBackendOptions,
  ) {
    this.provider = inner.provider;
  }

  async revoke(credentialId: string, options: MutationOptions & { replace?: boolean }): Promise<CredentialRevocation> {
    const base = {
      actor: options.actor ?? this.options.actor,
      backend: this.provider,
      keyId: credentialId,
      operation: options.replace === false ? 'revoke-credential' : 'revoke-and-replace-credential',
      ...(options.reason !== undefined ? { reason: options.reason } : {}),
      ...(this.options.now ? { time: this.options.now() } : {}),
    };
    try {
      const r = await this.inner.revoke(credentialId, options);
      this.audit.append({
        ...base,
        outcome: r.replayed ? 'replayed' : 'succeeded',
        details: {
          idempotencyKey: options.idempotencyKey,
          owner: r.owner,
          deactivated: r.deactivated,
          replacementId: r.replacementId ?? null,
          replacementRef: r.replacementRef ?? null,
        },
      });
      return r;
    } catch (e) {
      this.audit.append({ ...base, outcome: 'failed', errorCode: isKeywardenError(e) ? e.code : 'KW_INTERNAL', details: { idempotencyKey: options.idempotencyKey } });
      throw e;
    }
  }
}
