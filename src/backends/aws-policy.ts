/**
 * Normalises a KMS key policy and its grants to principals × operations. Pure.
 *
 * Wildcard actions (`kms:*`, `kms:Get*`) are expanded against the known KMS actions, and the
 * literal vendor actions are kept beside the result so a policy can still forbid `kms:*`.
 * `NotAction` and `NotPrincipal` are read conservatively: as everything except, which we
 * report as `*` with `conditional: true`.
 */
import type { AccessRule, Operation } from './port.js';

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

function toList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string');
  return [];
}

function principals(p: unknown): string[] {
  if (p === '*') return ['*'];
  if (p && typeof p === 'object') {
    const out: string[] = [];
    for (const [kind, v] of Object.entries(p as Record<string, unknown>)) {
      for (const id of toList(v)) out.push(kind === 'AWS' ? id : `${kind}:${id}`);
    }
    return out;
  }
  return [];
}

interface Statement {
  Sid?: string;
  Effect?: string;
  Principal?: unknown;
  NotPrincipal?: unknown;
  Action?: unknown;
  NotAction?: unknown;
  Condition?: unknown;
}

/** Normalises a key policy document (JSON text). An unreadable policy yields no rules. */
export function normaliseKmsPolicy(policyJson: string | undefined): AccessRule[] {
  if (!policyJson) return [];
  let doc: { Statement?: Statement | Statement[] };
  try {
    doc = JSON.parse(policyJson) as typeof doc;
  } catch {
    return [];
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  const rules: AccessRule[] = [];
  for (const s of statements) {
    const effect = s.Effect === 'Deny' ? 'deny' : 'allow';
    const notAction = s.NotAction !== undefined;
    const actions = notAction ? toList(s.NotAction).map((a) => `not:${a}`) : toList(s.Action);
    const operations = notAction ? (['*'] as Operation[]) : [...new Set(actions.flatMap(kmsActionToOperations))];
    const who = s.NotPrincipal !== undefined ? ['*'] : principals(s.Principal);
    const conditional = s.Condition !== undefined && Object.keys(s.Condition as object).length > 0;
    for (const principal of who) {
      if (operations.length === 0) continue;
      rules.push({
        principal,
        effect,
        operations,
        actions,
        source: 'key-policy',
        conditional: conditional || notAction || s.NotPrincipal !== undefined,
        ...(s.Sid ? { ref: s.Sid } : {}),
      });
    }
  }
  return rules;
}

export interface KmsGrantLike {
  GrantId?: string | undefined;
  GranteePrincipal?: string | undefined;
  RetiringPrincipal?: string | undefined;
  Operations?: string[] | undefined;
  Constraints?: object | undefined;
}

export function normaliseKmsGrants(grants: KmsGrantLike[]): AccessRule[] {
  return grants
    .filter((g) => g.GranteePrincipal)
    .map((g) => {
      const actions = (g.Operations ?? []).map((o) => `kms:${o}`);
      return {
        principal: g.GranteePrincipal!,
        effect: 'allow' as const,
        operations: [...new Set(actions.flatMap(kmsActionToOperations))],
        actions,
        source: 'grant' as const,
        conditional: g.Constraints !== undefined && Object.keys(g.Constraints).length > 0,
        ...(g.GrantId ? { ref: g.GrantId } : {}),
      };
    })
    .filter((r) => r.operations.length > 0);
}
