/**
 * KMS actions as the normalised operations every backend reports (`kms:Decrypt` → `decrypt`,
 * `kms:*` and `*` → `*`), case-insensitively as IAM compares them, wildcards expanded against the
 * known actions. Pure: the AWS backend reads live key policies with it, `src/inspect` the ones a
 * repository declares.
 */
import type { Operation } from './keys.js';

const ACTIONS: Record<string, Operation[]> = {
  'kms:Encrypt': ['encrypt'],
  'kms:Decrypt': ['decrypt'],
  'kms:ReEncryptFrom': ['decrypt'],
  'kms:ReEncryptTo': ['encrypt'],
  'kms:GenerateDataKey': ['generate-data-key'],
  'kms:GenerateDataKeyWithoutPlaintext': ['generate-data-key'],
  'kms:GenerateDataKeyPair': ['generate-data-key'],
  'kms:GenerateDataKeyPairWithoutPlaintext': ['generate-data-key'],
  'kms:Sign': ['sign'],
  'kms:Verify': ['verify'],
  'kms:GenerateMac': ['mac'],
  'kms:VerifyMac': ['mac'],
  'kms:DescribeKey': ['describe'],
  'kms:GetKeyPolicy': ['describe'],
  'kms:GetKeyRotationStatus': ['describe'],
  'kms:GetPublicKey': ['describe'],
  'kms:ListGrants': ['describe'],
  'kms:ListKeyPolicies': ['describe'],
  'kms:ListKeyRotations': ['describe'],
  'kms:ListResourceTags': ['describe'],
  'kms:RotateKeyOnDemand': ['rotate'],
  'kms:EnableKeyRotation': ['rotate'],
  'kms:DisableKeyRotation': ['rotate'],
  'kms:DisableKey': ['disable'],
  'kms:EnableKey': ['enable'],
  'kms:ScheduleKeyDeletion': ['schedule-destruction'],
  'kms:CancelKeyDeletion': ['cancel-destruction'],
  'kms:PutKeyPolicy': ['manage-access'],
  'kms:CreateAlias': ['manage-aliases'],
  'kms:UpdateAlias': ['manage-aliases'],
  'kms:DeleteAlias': ['manage-aliases'],
  'kms:TagResource': ['tag'],
  'kms:UntagResource': ['tag'],
  'kms:UpdateKeyDescription': ['tag'],
  'kms:CreateGrant': ['create-grant'],
  'kms:RevokeGrant': ['create-grant'],
  'kms:RetireGrant': ['create-grant'],
  'kms:ImportKeyMaterial': ['rotate'],
  'kms:DeleteImportedKeyMaterial': ['schedule-destruction'],
};

const lower = new Map(Object.entries(ACTIONS).map(([k, v]) => [k.toLowerCase(), v]));

/** Maps one vendor action (possibly with `*` or `?`) to normalised operations. */
export function kmsActionToOperations(action: string): Operation[] {
  const a = action.trim().toLowerCase();
  if (a === '*' || a === 'kms:*') return ['*'];
  if (!a.includes('*') && !a.includes('?')) return lower.get(a) ?? [];
  const re = new RegExp(`^${a.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  const ops = new Set<Operation>();
  for (const [k, v] of lower) if (re.test(k)) for (const op of v) ops.add(op);
  return [...ops];
}

/** The operations of every known KMS action but those `notActions` names (an Allow with `NotAction`). */
export function kmsOperationsExcept(notActions: readonly string[]): Operation[] {
  const excluded = new Set(notActions.flatMap((a) => matching(a)));
  const ops = new Set<Operation>();
  for (const [k, v] of lower) if (!excluded.has(k)) for (const op of v) ops.add(op);
  return [...ops];
}

function matching(action: string): string[] {
  const a = action.trim().toLowerCase();
  if (a === '*' || a === 'kms:*') return [...lower.keys()];
  const re = new RegExp(`^${a.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return [...lower.keys()].filter((k) => re.test(k));
}
