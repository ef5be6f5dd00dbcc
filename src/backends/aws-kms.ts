/**
 * AWS KMS through `@aws-sdk/client-kms`.
 *
 * - Rotation in place is `RotateKeyOnDemand` (symmetric keys with AWS-generated material
 *   only); versions are the key's creation plus `ListKeyRotations`. Asymmetric and HMAC keys
 *   throw `KW_UNSUPPORTED`, and `rotateWithFallback` replaces them and moves the alias with
 *   `UpdateAlias`.
 * - Automatic rotation is `EnableKeyRotation` with `RotationPeriodInDays`.
 * - Destruction is `ScheduleKeyDeletion` (7–30 days); KMS itself destroys the key.
 * - The access policy is `GetKeyPolicy` plus `ListGrants`, normalised.
 * - The SDK's own retries are off (`maxAttempts: 1`): errors are translated to typed errors
 *   and retried by `withRetry`, so one policy governs backoff everywhere.
 * - Idempotency is kept by Keywarden (`IdempotencyStore`), since these KMS verbs take no token.
 * - Leak matching (`matchLeak`) works on a finding's `public-key` identity only: each asymmetric
 *   key's public key (`GetPublicKey`, SPKI DER) is hashed and compared, cached per instance
 *   (a KMS key's key pair never changes). KMS private keys never leave KMS, so a match means
 *   *imported* key material (`Origin: EXTERNAL`) leaked from wherever it was made, or that a
 *   copy was kept outside; symmetric and HMAC material cannot be recognised (never exported, no
 *   public half). A match is `revocable: 'key'`: KMS keys have no per-version revocation, so the
 *   pipeline disables the key and replaces it. Disabled and pending-deletion keys refuse
 *   `GetPublicKey` and are not matched. Keys cannot be created `exportable`.
 */
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  GetPublicKeyCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeyRotationsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  UpdateAliasCommand,
  type AliasListEntry,
  type GrantListEntry,
  type KeyMetadata,
  type KeySpec as AwsKeySpec,
  type KeyUsageType,
  type RotationsListEntry,
} from '@aws-sdk/client-kms';
import { createHash } from 'node:crypto';
import { ErrorCode, KeywardenError, UnsupportedError } from '../errors.js';
import { SqliteIdempotencyStore, type IdempotencyStore } from '../store/idempotency.js';
import { openDatabase } from '../store/sqlite.js';
import { translateAwsError } from './aws-errors.js';
import { normaliseKmsGrants, normaliseKmsPolicy } from './aws-policy.js';
import { KeyedMutex } from './keyed-mutex.js';
import type {
  BackendCapabilities,
  CreateKeyInput,
  DataKeyResult,
  DecryptResult,
  EncryptOptions,
  EncryptResult,
  KeyBackend,
  KeyMatch,
  KeySpec,
  KeyState,
  KeyUsage,
  LeakEvidence,
  ManagedKey,
  MutationOptions,
  MutationResult,
  MutationVerb,
  RotationInput,
} from './port.js';
import { isKeySpec, KEY_SPECS } from './port.js';
import { withRetry, type RetryOptions } from './retry.js';

export interface AwsKmsBackendOptions {
  region: string;
  /** For moto or a VPC endpoint. */
  endpoint?: string;
  /** Omit to use the SDK's default chain (env, profile, role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Where idempotency records live; default in memory (good for one process only). */
  idempotency?: IdempotencyStore;
  retry?: RetryOptions;
  /** A prebuilt client (tests, custom middleware). */
  client?: KMSClient;
}

/** Every spec in the shared vocabulary. */
const SPECS: readonly KeySpec[] = KEY_SPECS;

function toAwsSpec(spec: KeySpec): AwsKeySpec {
  return (spec === 'AES_256' ? 'SYMMETRIC_DEFAULT' : spec) as AwsKeySpec;
}

function fromAwsSpec(spec: string | undefined): { spec: KeySpec | 'OTHER'; vendorSpec?: string } {
  if (!spec || spec === 'SYMMETRIC_DEFAULT') return { spec: 'AES_256' };
  return isKeySpec(spec) ? { spec } : { spec: 'OTHER', vendorSpec: spec };
}

function toAwsUsage(usage: KeyUsage): KeyUsageType {
  return ({ 'encrypt-decrypt': 'ENCRYPT_DECRYPT', 'sign-verify': 'SIGN_VERIFY', 'generate-verify-mac': 'GENERATE_VERIFY_MAC', 'key-agreement': 'KEY_AGREEMENT' } as const)[usage];
}

function fromAwsUsage(u: string | undefined): KeyUsage {
  switch (u) {
    case 'SIGN_VERIFY':
      return 'sign-verify';
    case 'GENERATE_VERIFY_MAC':
      return 'generate-verify-mac';
    case 'KEY_AGREEMENT':
      return 'key-agreement';
    default:
      return 'encrypt-decrypt';
  }
}

function fromAwsState(s: string | undefined): KeyState {
  switch (s) {
    case 'Enabled':
    case 'Creating':
    case 'Updating':
      return 'enabled';
    case 'PendingDeletion':
    case 'PendingReplicaDeletion':
      return 'pending-destruction';
    default:
      return 'disabled';
  }
}

const FINGERPRINT = /^sha256:[0-9a-f]{64}$/;

/** Key specs with a public half: everything but symmetric and HMAC keys. */
function hasPublicKey(spec: string | undefined): boolean {
  return spec !== undefined && spec !== 'SYMMETRIC_DEFAULT' && !spec.startsWith('HMAC_');
}

function defaultUsage(spec: KeySpec): KeyUsage {
  if (spec === 'AES_256' || spec === 'AES_128') return 'encrypt-decrypt';
  if (spec.startsWith('HMAC_')) return 'generate-verify-mac';
  return 'sign-verify';
}

/**
 * @example
 * const kms = new AwsKmsBackend({ region: 'eu-west-1' });
 * await rotateWithFallback(kms, 'alias/payments-signing', { idempotencyKey: `job-${jobId}` });
 */
export class AwsKmsBackend implements KeyBackend {
  readonly name = 'aws-kms';
  readonly capabilities: BackendCapabilities = {
    specs: SPECS,
    automaticRotation: true,
    destructionWindowDays: { min: 7, max: 30 },
    versionedCiphertext: false,
  };
  private readonly client: KMSClient;
  private readonly idem: IdempotencyStore;
  private readonly scope: string;
  private readonly locks = new KeyedMutex();
  private readonly ownsIdem: { close(): void } | undefined;
  /** Key id -> `sha256:` of its public key's SPKI DER, or null for keys without one (never refetched). */
  private readonly spkiHashes = new Map<string, string | null>();

  constructor(private readonly options: AwsKmsBackendOptions) {
    this.client =
      options.client ??
      new KMSClient({
        region: options.region,
        maxAttempts: 1,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
    if (options.idempotency) {
      this.idem = options.idempotency;
    } else {
      const db = openDatabase(':memory:');
      this.idem = new SqliteIdempotencyStore(db);
      this.ownsIdem = db;
    }
    this.scope = `aws-kms:${options.region}:${options.endpoint ?? 'aws'}`;
  }

  /** One SDK call: typed errors, retried with backoff and jitter when retryable. */
  private call<T>(verb: string, ref: string | undefined, fn: () => Promise<T>): Promise<T> {
    return withRetry(async () => {
      try {
        return await fn();
      } catch (e) {
        throw translateAwsError(e, { backend: this.name, verb, ...(ref ? { ref } : {}) });
      }
    }, this.options.retry);
  }

  private mutate(verb: MutationVerb, target: string, options: MutationOptions, fn: () => Promise<Omit<MutationResult, 'replayed' | 'operation'>>): Promise<MutationResult> {
    return this.idem.run({ scope: this.scope, key: options.idempotencyKey, verb, target }, async () => ({ ...(await fn()), operation: verb, replayed: false }));
  }

  private async metadata(ref: string): Promise<KeyMetadata> {
    const out = await this.call('describe', ref, () => this.client.send(new DescribeKeyCommand({ KeyId: ref })));
    if (!out.KeyMetadata?.KeyId) throw new KeywardenError(ErrorCode.BACKEND_FAILED, `aws-kms returned no metadata for ${ref}.`, { fault: 'backend' });
    return out.KeyMetadata;
  }

  private async rotations(keyId: string): Promise<RotationsListEntry[]> {
    const all: RotationsListEntry[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call('list rotations', keyId, () => this.client.send(new ListKeyRotationsCommand({ KeyId: keyId, ...(marker ? { Marker: marker } : {}) })));
      all.push(...(out.Rotations ?? []));
      marker = out.Truncated ? out.NextMarker : undefined;
    } while (marker);
    return all.sort((a, b) => (a.RotationDate?.getTime() ?? 0) - (b.RotationDate?.getTime() ?? 0));
  }

  private async aliasesOf(keyId: string): Promise<AliasListEntry[]> {
    const all: AliasListEntry[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call('list aliases', keyId, () => this.client.send(new ListAliasesCommand({ KeyId: keyId, ...(marker ? { Marker: marker } : {}) })));
      all.push(...(out.Aliases ?? []));
      marker = out.Truncated ? out.NextMarker : undefined;
    } while (marker);
    return all;
  }

  private async aliasTarget(alias: string): Promise<string | undefined> {
    let marker: string | undefined;
    do {
      const out = await this.call('list aliases', alias, () => this.client.send(new ListAliasesCommand({ ...(marker ? { Marker: marker } : {}) })));
      const hit = out.Aliases?.find((a) => a.AliasName === alias);
      if (hit) return hit.TargetKeyId;
      marker = out.Truncated ? out.NextMarker : undefined;
    } while (marker);
    return undefined;
  }

  private rotatesInPlace(md: KeyMetadata): boolean {
    return (md.KeySpec ?? 'SYMMETRIC_DEFAULT') === 'SYMMETRIC_DEFAULT' && (md.Origin ?? 'AWS_KMS') === 'AWS_KMS';
  }

  private async toManaged(md: KeyMetadata): Promise<ManagedKey> {
    const keyId = md.KeyId!;
    const inPlace = this.rotatesInPlace(md);
    const [aliases, rotations, status, tags, policy, grants] = await Promise.all([
      this.aliasesOf(keyId),
      inPlace ? this.rotations(keyId) : Promise.resolve([]),
      inPlace
        ? this.call('get rotation status', keyId, () => this.client.send(new GetKeyRotationStatusCommand({ KeyId: keyId }))).catch((e: unknown) => {
            if (e instanceof KeywardenError && (e.code === ErrorCode.UNSUPPORTED || e.code === ErrorCode.KEY_STATE)) return undefined;
            throw e;
          })
        : Promise.resolve(undefined),
      this.call('list tags', keyId, () => this.client.send(new ListResourceTagsCommand({ KeyId: keyId }))),
      this.call('get key policy', keyId, () => this.client.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))),
      this.call('list grants', keyId, () => this.client.send(new ListGrantsCommand({ KeyId: keyId }))),
    ]);
    const created = md.CreationDate ?? new Date(0);
    const versions = [
      { version: 1, createdAt: created.toISOString(), state: 'enabled' as const, current: rotations.length === 0 },
      ...rotations.map((r, i) => ({
        version: i + 2,
        createdAt: (r.RotationDate ?? created).toISOString(),
        state: 'enabled' as const,
        current: i === rotations.length - 1,
      })),
    ];
    const last = rotations.at(-1)?.RotationDate;
    const state = fromAwsState(md.KeyState);
    return {
      backend: this.name,
      id: keyId,
      ...(md.Arn ? { arn: md.Arn } : {}),
      aliases: aliases.map((a) => a.AliasName!).filter(Boolean).sort(),
      ...(md.Description ? { description: md.Description } : {}),
      ...fromAwsSpec(md.KeySpec),
      usage: fromAwsUsage(md.KeyUsage),
      state,
      createdAt: created.toISOString(),
      ...(last ? { lastRotatedAt: last.toISOString() } : {}),
      rotation: {
        automatic: status?.KeyRotationEnabled === true,
        ...(status?.RotationPeriodInDays !== undefined ? { periodDays: status.RotationPeriodInDays } : {}),
        inPlace,
      },
      versions,
      currentVersion: versions.length,
      ...(state === 'pending-destruction' && md.DeletionDate ? { destructionAt: md.DeletionDate.toISOString() } : {}),
      tags: Object.fromEntries((tags.Tags ?? []).map((t) => [t.TagKey ?? '', t.TagValue ?? ''])),
      access: [...normaliseKmsPolicy(policy.Policy), ...normaliseKmsGrants((grants.Grants ?? []) as GrantListEntry[])],
    };
  }

  /** Every key id of the account and region, all pages. */
  private async listKeyIds(): Promise<string[]> {
    const ids: string[] = [];
    let marker: string | undefined;
    do {
      const out = await this.call('list keys', undefined, () => this.client.send(new ListKeysCommand({ ...(marker ? { Marker: marker } : {}) })));
      ids.push(...(out.Keys ?? []).map((k) => k.KeyId!).filter(Boolean));
      marker = out.Truncated ? out.NextMarker : undefined;
    } while (marker);
    return ids;
  }

  async inventory(): Promise<ManagedKey[]> {
    const ids = await this.listKeyIds();
    const out: ManagedKey[] = [];
    // A few at a time: KMS rate limits are per account, and inventory is not urgent.
    for (let i = 0; i < ids.length; i += 4) {
      const batch = await Promise.all(ids.slice(i, i + 4).map((id) => this.metadata(id)));
      // AWS-managed keys cannot be rotated, disabled or deleted by anyone: not Keywarden's to manage.
      for (const md of batch) if (md.KeyManager !== 'AWS') out.push(await this.toManaged(md));
    }
    return out;
  }

  async describe(ref: string): Promise<ManagedKey> {
    return this.toManaged(await this.metadata(ref));
  }

  private async result(keyId: string): Promise<Omit<MutationResult, 'replayed' | 'operation'>> {
    const md = await this.metadata(keyId);
    const state = fromAwsState(md.KeyState);
    const version = this.rotatesInPlace(md) ? 1 + (await this.rotations(keyId)).length : 1;
    return {
      keyId,
      state,
      version,
      ...(state === 'pending-destruction' && md.DeletionDate ? { destructionAt: md.DeletionDate.toISOString() } : {}),
    };
  }

  async create(input: CreateKeyInput, options: MutationOptions): Promise<MutationResult> {
    if (!SPECS.includes(input.spec)) throw new UnsupportedError(this.name, `create ${input.spec} keys`);
    if (Array.isArray(input.policy)) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'aws-kms takes the key policy as a JSON policy document.', { fault: 'user' });
    }
    if (input.exportable) throw new UnsupportedError(this.name, 'create exportable keys', 'KMS key material never leaves KMS; use the local keystore for exportable keys.');
    const alias = input.alias;
    if (alias !== undefined && !/^alias\/[a-zA-Z0-9/_-]+$/.test(alias)) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, `"${alias}" is not a KMS alias: it must start with alias/ and use letters, digits, / _ -.`, { fault: 'user' });
    }
    return this.mutate('create', alias ?? '(no alias)', options, async () => {
      if (alias !== undefined) {
        const used = await this.aliasTarget(alias);
        if (used) throw new KeywardenError(ErrorCode.ALIAS_IN_USE, `The alias "${alias}" already names key ${used}.`, { fault: 'user', details: { alias, keyId: used } });
      }
      const tags = Object.entries(input.tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
      const created = await this.call('create', alias, () =>
        this.client.send(
          new CreateKeyCommand({
            KeySpec: toAwsSpec(input.spec),
            KeyUsage: toAwsUsage(input.usage ?? defaultUsage(input.spec)),
            ...(input.description ? { Description: input.description } : {}),
            ...(tags.length ? { Tags: tags } : {}),
            ...(typeof input.policy === 'string' ? { Policy: input.policy } : {}),
          }),
        ),
      );
      const keyId = created.KeyMetadata!.KeyId!;
      if (alias !== undefined) {
        try {
          await this.call('create alias', alias, () => this.client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId })));
        } catch (e) {
          // Leave nothing half-done: a key without its alias is scheduled for deletion at once.
          await this.call('schedule deletion', keyId, () => this.client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }))).catch(() => undefined);
          throw e;
        }
      }
      return { keyId, state: 'enabled', version: 1 };
    });
  }

  async rotate(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.mutate('rotate', ref, options, async () => {
      const md = await this.metadata(ref);
      const keyId = md.KeyId!;
      if (!this.rotatesInPlace(md)) {
        throw new UnsupportedError(
          this.name,
          `rotate a ${md.KeySpec ?? 'non-symmetric'} key${md.Origin && md.Origin !== 'AWS_KMS' ? ` with ${md.Origin} material` : ''} in place`,
          'Rotate by replacement: create a new key and move the alias (rotateWithFallback does this).',
        );
      }
      const state = fromAwsState(md.KeyState);
      if (state !== 'enabled') {
        throw new KeywardenError(ErrorCode.KEY_STATE, `Key ${keyId} is ${state}, so it cannot rotate.`, { fault: 'user', details: { backend: this.name, keyId, state, verb: 'rotate' } });
      }
      // Serialise rotations of one key in this process, so each caller learns its own version.
      return this.locks.run(keyId, async () => {
        await this.call('rotate', keyId, () => this.client.send(new RotateKeyOnDemandCommand({ KeyId: keyId })));
        const version = 1 + (await this.rotations(keyId)).length;
        return { keyId, state: 'enabled' as const, version };
      });
    });
  }

  async setRotation(ref: string, rotation: RotationInput, options: MutationOptions): Promise<MutationResult> {
    if (rotation.periodDays !== undefined && (!Number.isInteger(rotation.periodDays) || rotation.periodDays < 90 || rotation.periodDays > 2560)) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'KMS rotation periods are 90 to 2560 days.', { fault: 'user' });
    }
    return this.mutate('set-rotation', ref, options, async () => {
      const md = await this.metadata(ref);
      const keyId = md.KeyId!;
      if (!this.rotatesInPlace(md)) throw new UnsupportedError(this.name, `rotate a ${md.KeySpec ?? ''} key automatically`, 'Rotate it by replacement on a schedule instead.');
      if (rotation.automatic) {
        await this.call('enable rotation', keyId, () =>
          this.client.send(new EnableKeyRotationCommand({ KeyId: keyId, ...(rotation.periodDays ? { RotationPeriodInDays: rotation.periodDays } : {}) })),
        );
      } else {
        await this.call('disable rotation', keyId, () => this.client.send(new DisableKeyRotationCommand({ KeyId: keyId })));
      }
      return this.result(keyId);
    });
  }

  private stateError(keyId: string, state: KeyState, verb: string, hint?: string): KeywardenError {
    return new KeywardenError(ErrorCode.KEY_STATE, `Key ${keyId} is ${state}, so it cannot ${verb}.`, {
      fault: 'user',
      details: { backend: this.name, keyId, state, verb },
      ...(hint ? { hint } : {}),
    });
  }

  async disable(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.mutate('disable', ref, options, async () => {
      const md = await this.metadata(ref);
      const state = fromAwsState(md.KeyState);
      if (state === 'pending-destruction') throw this.stateError(md.KeyId!, state, 'be disabled');
      if (state !== 'disabled') await this.call('disable', md.KeyId, () => this.client.send(new DisableKeyCommand({ KeyId: md.KeyId! })));
      return this.result(md.KeyId!);
    });
  }

  async enable(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.mutate('enable', ref, options, async () => {
      const md = await this.metadata(ref);
      const state = fromAwsState(md.KeyState);
      if (state === 'pending-destruction') throw this.stateError(md.KeyId!, state, 'be enabled', 'Cancel the destruction first.');
      if (state !== 'enabled') await this.call('enable', md.KeyId, () => this.client.send(new EnableKeyCommand({ KeyId: md.KeyId! })));
      return this.result(md.KeyId!);
    });
  }

  async scheduleDestruction(ref: string, windowDays: number, options: MutationOptions): Promise<MutationResult> {
    if (!Number.isInteger(windowDays) || windowDays < 7 || windowDays > 30) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'KMS deletion windows are 7 to 30 days.', { fault: 'user', details: { windowDays, min: 7, max: 30 } });
    }
    return this.mutate('schedule-destruction', ref, options, async () => {
      const md = await this.metadata(ref);
      if (fromAwsState(md.KeyState) !== 'pending-destruction') {
        await this.call('schedule deletion', md.KeyId, () => this.client.send(new ScheduleKeyDeletionCommand({ KeyId: md.KeyId!, PendingWindowInDays: windowDays })));
      }
      return this.result(md.KeyId!);
    });
  }

  async cancelDestruction(ref: string, options: MutationOptions): Promise<MutationResult> {
    return this.mutate('cancel-destruction', ref, options, async () => {
      const md = await this.metadata(ref);
      if (fromAwsState(md.KeyState) === 'pending-destruction') {
        await this.call('cancel deletion', md.KeyId, () => this.client.send(new CancelKeyDeletionCommand({ KeyId: md.KeyId! })));
      }
      return this.result(md.KeyId!);
    });
  }

  async moveAlias(alias: string, targetRef: string, options: MutationOptions): Promise<MutationResult> {
    return this.mutate('move-alias', `${alias}->${targetRef}`, options, async () => {
      const md = await this.metadata(targetRef);
      const keyId = md.KeyId!;
      const current = await this.aliasTarget(alias);
      if (current === undefined) {
        await this.call('create alias', alias, () => this.client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId })));
      } else if (current !== keyId) {
        await this.call('update alias', alias, () => this.client.send(new UpdateAliasCommand({ AliasName: alias, TargetKeyId: keyId })));
      }
      return this.result(keyId);
    });
  }

  /** SPKI DER of an asymmetric key's public key. */
  async getPublicKey(ref: string): Promise<Uint8Array> {
    const md = await this.metadata(ref);
    if (!hasPublicKey(md.KeySpec)) throw new UnsupportedError(this.name, `give a public key for a ${md.KeySpec ?? 'symmetric'} key`, 'Only asymmetric keys have one.');
    const out = await this.call('get public key', md.KeyId, () => this.client.send(new GetPublicKeyCommand({ KeyId: md.KeyId! })));
    if (!out.PublicKey) throw new KeywardenError(ErrorCode.BACKEND_FAILED, `aws-kms returned no public key for ${md.KeyId}.`, { fault: 'backend' });
    return out.PublicKey;
  }

  /** `sha256:` of a key's public key, from the cache or KMS; null when it has none; undefined when KMS refuses it now (disabled, pending deletion). */
  private async spkiHash(keyId: string): Promise<string | null | undefined> {
    if (this.spkiHashes.has(keyId)) return this.spkiHashes.get(keyId);
    const md = await this.metadata(keyId);
    // AWS-managed keys are not Keywarden's (see inventory); keys without a public half never match.
    if (md.KeyManager === 'AWS' || !hasPublicKey(md.KeySpec)) {
      this.spkiHashes.set(keyId, null);
      return null;
    }
    if (fromAwsState(md.KeyState) !== 'enabled') return undefined;
    try {
      const out = await this.call('get public key', keyId, () => this.client.send(new GetPublicKeyCommand({ KeyId: keyId })));
      if (!out.PublicKey) return undefined;
      const hash = `sha256:${createHash('sha256').update(out.PublicKey).digest('hex')}`;
      this.spkiHashes.set(keyId, hash);
      return hash;
    } catch (e) {
      if (e instanceof KeywardenError && (e.code === ErrorCode.KEY_STATE || e.code === ErrorCode.KEY_NOT_FOUND || e.code === ErrorCode.UNSUPPORTED)) return undefined;
      throw e;
    }
  }

  /**
   * Matches a private key found by the scanner (its `public-key` identity) against every
   * asymmetric key of the account and region. See the module docblock for what a match means.
   */
  async matchLeak(evidence: LeakEvidence): Promise<KeyMatch | undefined> {
    if (!FINGERPRINT.test(evidence.fingerprint)) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'A leak fingerprint is "sha256:" and 64 lower-case hex digits.', { fault: 'user' });
    }
    const want = evidence.identity?.kind === 'public-key' ? evidence.identity.id : undefined;
    if (!want || !FINGERPRINT.test(want)) return undefined;
    const ids = await this.listKeyIds();
    // Cached keys first (no calls), then the rest a few at a time.
    for (const id of ids) {
      if (this.spkiHashes.get(id) === want) return this.keyMatch(id);
    }
    const rest = ids.filter((id) => !this.spkiHashes.has(id));
    for (let i = 0; i < rest.length; i += 4) {
      const batch = rest.slice(i, i + 4);
      const hashes = await Promise.all(batch.map((id) => this.spkiHash(id)));
      const hit = batch.find((_, j) => hashes[j] === want);
      if (hit) return this.keyMatch(hit);
    }
    return undefined;
  }

  private async keyMatch(keyId: string): Promise<KeyMatch> {
    const aliases = (await this.aliasesOf(keyId)).map((a) => a.AliasName!).filter(Boolean).sort();
    return { keyId, aliases, how: 'public-key', revocable: 'key' };
  }

  /** KMS destroys keys itself when the window ends. */
  async completeDueDestructions(): Promise<MutationResult[]> {
    return [];
  }

  async encrypt(ref: string, plaintext: Uint8Array, options: EncryptOptions = {}): Promise<EncryptResult> {
    const out = await this.call('encrypt', ref, () =>
      this.client.send(new EncryptCommand({ KeyId: ref, Plaintext: plaintext, ...(options.context ? { EncryptionContext: options.context } : {}) })),
    );
    return { ciphertext: out.CiphertextBlob!, keyId: keyIdOf(out.KeyId) };
  }

  async decrypt(ciphertext: Uint8Array, options: EncryptOptions = {}): Promise<DecryptResult> {
    const out = await this.call('decrypt', undefined, () =>
      this.client.send(new DecryptCommand({ CiphertextBlob: ciphertext, ...(options.context ? { EncryptionContext: options.context } : {}) })),
    );
    return { plaintext: out.Plaintext!, keyId: keyIdOf(out.KeyId) };
  }

  async generateDataKey(ref: string, options: EncryptOptions & { bytes?: number } = {}): Promise<DataKeyResult> {
    const out = await this.call('generate data key', ref, () =>
      this.client.send(
        new GenerateDataKeyCommand({ KeyId: ref, NumberOfBytes: options.bytes ?? 32, ...(options.context ? { EncryptionContext: options.context } : {}) }),
      ),
    );
    return { plaintext: out.Plaintext!, ciphertext: out.CiphertextBlob!, keyId: keyIdOf(out.KeyId) };
  }

  async close(): Promise<void> {
    if (!this.options.client) this.client.destroy();
    this.ownsIdem?.close();
  }
}

/** KMS returns key ARNs from Encrypt/Decrypt; callers compare ids. */
function keyIdOf(arnOrId: string | undefined): string {
  if (!arnOrId) return '';
  const i = arnOrId.indexOf(':key/');
  return i >= 0 ? arnOrId.slice(i + 5) : arnOrId;
}
