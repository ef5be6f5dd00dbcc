/**
 * Is a leaked AWS key pair live? `sts:GetCallerIdentity` signed with the pair itself — the call
 * every AWS principal may make, which changes nothing — before Keywarden deactivates the key.
 *
 * Why: an access key ID is public (logs, CloudTrail, error messages). Without this check anyone
 * who knows one could push it with a made-up secret and have the real key deactivated. A pair
 * that AWS rejects (`InvalidClientTokenId`: no such key; `SignatureDoesNotMatch`: not its
 * secret) is not a leaked credential and is not revoked. The secret comes from the source at act
 * time (`pipeline/secret-at.ts`), is used for this one request, and goes nowhere else.
 */
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { translateAwsError } from './aws-errors.js';
import { withRetry, type RetryOptions } from './retry.js';

export type AwsPairCheck = { live: true; account?: string; arn?: string } | { live: false; why: string };

const NOT_LIVE: Record<string, string> = {
  InvalidClientTokenId: 'AWS knows no access key with this ID',
  SignatureDoesNotMatch: 'the secret key found with it is not its secret',
  IncompleteSignature: 'the secret key found with it is not its secret',
};

export async function checkAwsKeyPair(
  pair: { accessKeyId: string; secretAccessKey: string },
  where: { region?: string; endpoint?: string; retry?: RetryOptions },
): Promise<AwsPairCheck> {
  const client = new STSClient({
    region: where.region ?? 'us-east-1',
    maxAttempts: 1,
    ...(where.endpoint ? { endpoint: where.endpoint } : {}),
    credentials: { accessKeyId: pair.accessKeyId, secretAccessKey: pair.secretAccessKey },
  });
  try {
    return await withRetry(async () => {
      try {
        const r = await client.send(new GetCallerIdentityCommand({}));
        return { live: true, ...(r.Account ? { account: r.Account } : {}), ...(r.Arn ? { arn: r.Arn } : {}) } as const;
      } catch (e) {
        const name = (e as { name?: string } | null)?.name ?? '';
        if (name in NOT_LIVE) return { live: false, why: NOT_LIVE[name]! } as const;
        // Anything else (unreachable, throttled) says nothing about the pair: retried, then the step fails.
        throw translateAwsError(e, { backend: 'aws-sts', verb: 'check a leaked key pair' });
      }
    }, where.retry);
  } finally {
    client.destroy();
  }
}
