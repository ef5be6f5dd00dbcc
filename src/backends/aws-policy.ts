/**
 * Normalises a KMS key policy and its grants to principals × operations. Pure.
 *
 * Wildcard actions (`kms:*`, `kms:Get*`) are expanded against the known KMS actions, and the
 * literal vendor actions are kept beside the result so a policy can still forbid `kms:*`.
 * `NotAction` and `NotPrincipal` are read conservatively: as everything except, which we
 * report as `*` with `conditional: true`.
 */
import type { AccessRule, Operation } from './port.js';
import { kmsActionToOperations } from '../model/kms-actions.js';

export { kmsActionToOperations };

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
