/**
 * Revokes a leaked AWS access key through IAM and issues its replacement.
 *
 * Steps: find the owning user (`GetAccessKeyLastUsed`), deactivate the leaked key
 * (`UpdateAccessKey` → Inactive; deactivation, not deletion, so an operator can still
 * investigate), create a new key for the same user, and hand it to the `SecretSink`. If the
 * sink fails, the new key is deleted again so no unstored credential is left behind. The
 * secret access key of the replacement never appears in a result, an error or a log.
 */
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { ErrorCode, KeywardenError } from '../errors.js';
import { SqliteIdempotencyStore, type IdempotencyStore } from '../store/idempotency.js';
import { openDatabase } from '../store/sqlite.js';
import { translateAwsError } from './aws-errors.js';
import type { CredentialRevocation, CredentialRevoker, RevokeOptions, SecretSink } from './port.js';
import { withRetry, type RetryOptions } from './retry.js';

export interface AwsIamRevokerOptions {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  sink: SecretSink;
  idempotency?: IdempotencyStore;
  retry?: RetryOptions;
  client?: IAMClient;
}

const ACCESS_KEY_ID = /^(AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|APKA|AIPA|ABIA|ACCA)[A-Z0-9]{12,124}$/;

export class AwsIamAccessKeyRevoker implements CredentialRevoker {
  readonly provider = 'aws-iam';
  private readonly client: IAMClient;
  private readonly idem: IdempotencyStore;

  constructor(private readonly options: AwsIamRevokerOptions) {
    this.client =
      options.client ??
      new IAMClient({
        region: options.region ?? 'us-east-1',
        maxAttempts: 1,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
    this.idem = options.idempotency ?? new SqliteIdempotencyStore(openDatabase(':memory:'));
  }

  private call<T>(verb: string, ref: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(async () => {
      try {
        return await fn();
      } catch (e) {
        const k = translateAwsError(e, { backend: 'aws-iam', verb, ref });
        if (k.code === ErrorCode.KEY_NOT_FOUND) {
          throw new KeywardenError(ErrorCode.CREDENTIAL_NOT_FOUND, `AWS IAM has no access key ${ref} (already deleted, or another account).`, {
            fault: 'user',
            cause: e,
            details: { provider: 'aws-iam', credentialId: ref },
          });
        }
        throw k;
      }
    }, this.options.retry);
  }

  /**
   * @example
   * const r = await revoker.revoke('AKIA…', { idempotencyKey: `finding:${fingerprint}`, replace: true });
   * // r.replacementRef is where the sink stored the new key; print that, never the key.
   */
  async revoke(accessKeyId: string, options: RevokeOptions): Promise<CredentialRevocation> {
    if (!ACCESS_KEY_ID.test(accessKeyId)) {
      throw new KeywardenError(ErrorCode.INVALID_ARGUMENT, 'That is not an AWS access key id (it should start with AKIA or ASIA).', { fault: 'user' });
    }
    const replace = options.replace ?? true;
    return this.idem.run({ scope: 'aws-iam', key: options.idempotencyKey, verb: replace ? 'revoke-replace' : 'revoke', target: accessKeyId }, async () => {
      const used = await this.call('find owner', accessKeyId, () => this.client.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId })));
      const user = used.UserName;
      if (!user) {
        throw new KeywardenError(ErrorCode.CREDENTIAL_NOT_FOUND, `Access key ${accessKeyId} has no owning IAM user (a root or federated key); revoke it in the console.`, {
          fault: 'user',
        });
      }
      await this.call('deactivate', accessKeyId, () => this.client.send(new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: accessKeyId, Status: 'Inactive' })));
      const result: CredentialRevocation = { provider: this.provider, credentialId: accessKeyId, owner: user, deactivated: true, replayed: false };
      if (!replace) return result;

      const existing = await this.call('list keys', user, () => this.client.send(new ListAccessKeysCommand({ UserName: user })));
      if ((existing.AccessKeyMetadata ?? []).length >= 2) {
        throw new KeywardenError(
          ErrorCode.BACKEND_FAILED,
          `IAM user ${user} already has two access keys; the leaked one is deactivated, but no replacement was created.`,
          { fault: 'backend', hint: 'Delete the unused access key of that user, then run the revoke again with the same idempotency key.', details: { user } },
        );
      }
      const created = await this.call('create key', user, () => this.client.send(new CreateAccessKeyCommand({ UserName: user })));
      const newId = created.AccessKey?.AccessKeyId;
      const newSecret = created.AccessKey?.SecretAccessKey;
      if (!newId || !newSecret) throw new KeywardenError(ErrorCode.BACKEND_FAILED, 'IAM created an access key but returned no secret.', { fault: 'backend' });
      let ref: string;
      try {
        ref = await this.options.sink.put(`aws-iam-${user}`, { accessKeyId: newId, secretAccessKey: newSecret }, options.reason ? { reason: options.reason } : {});
      } catch (e) {
        // Do not leave a live credential that nobody stored.
        await this.call('delete key', newId, () => this.client.send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: newId }))).catch(() => undefined);
        throw new KeywardenError(ErrorCode.SECRET_SINK_FAILED, `The replacement key for ${user} could not be stored in the ${this.options.sink.name} sink, so it was deleted again.`, {
          fault: 'config',
          cause: e instanceof KeywardenError ? e : undefined,
          details: { user },
        });
      }
      return { ...result, replacementId: newId, replacementRef: ref };
    });
  }

  async close(): Promise<void> {
    if (!this.options.client) this.client.destroy();
  }
}
