/**
 * `planResponse`: from a decision, the findings and what each finding was matched to, the steps
 * to carry out — pure, no I/O, unit-tested on its own (as changesets keeps
 * `assembleReleasePlan` apart from reading).
 *
 * Rules:
 * - Order: every revoke (stop the bleeding), then every rotate, then the one patch.
 * - One credential, one step: a secret found in 30 files, or two encodings of one key version,
 *   is revoked once. Steps are keyed by (step kind, target); the patch covers every site.
 * - Step ids are idempotency keys derived from (finding fingerprint, step, target), so the same
 *   leak planned again — a retried job, a run resumed after a crash — gets the same ids and the
 *   backends replay instead of acting twice.
 * - What the policy demands but nothing here can do (no revoker for the provider, nothing matched,
 *   an action only the App performs) is listed in `notDone` with the reason, never dropped.
 */
import { createHash } from 'node:crypto';
import type { ActionType, Decision, DecisionAction } from '../model/decision.js';
import type { Finding } from '../model/finding.js';
import type { NotDone, Plan, Step, Target } from './types.js';

export interface PlanOptions {
  /** Providers with a revoker in this run (`aws-iam`; `github` in the App). */
  revokers: ReadonlySet<string>;
  /** Providers whose revoker cannot re-issue a credential, and why: their `rotate` is not done, said so. */
  cannotRotate?: ReadonlyMap<string, string>;
  /** The patch can be made here: `true`, or why not ("not a git repository", "staged changes are not committed yet"). */
  canPatch: true | string;
  /** The commit the patch would be made on; part of the patch step's id. */
  patchBase?: string;
}

/** Actions only the GitHub App performs; locally they are reported, not done. */
const APP_ONLY: ReadonlySet<ActionType> = new Set(['open-issue', 'notify']);

export function stepId(kind: string, fingerprint: string, target: string): string {
  return `kw1-${createHash('sha256').update(`${kind}\0${fingerprint}\0${target}`).digest('hex').slice(0, 40)}`;
}

/** A stable key for a target: what makes two findings the same credential. */
export function targetKey(t: Exclude<Target, { kind: 'none' }>): string {
  if (t.kind === 'managed-key') return `key:${t.backend}:${t.keyId}${t.revocable === 'version' && t.version !== undefined ? `:v${t.version}` : ''}`;
  return `cred:${t.provider}:${t.credentialId ?? t.secretFingerprint ?? t.subtype ?? '?'}`;
}

function describeTarget(t: Exclude<Target, { kind: 'none' }>): string {
  if (t.kind === 'managed-key') {
    const alias = t.aliases[0] ? ` (${t.aliases[0]})` : '';
    return `${t.backend} key ${t.keyId}${alias}`;
  }
  return t.credentialId ? `${t.provider} credential ${t.credentialId}` : `${t.provider} ${t.subtype ?? 'credential'}`;
}

const SEVERITY_RANK = { critical: 5, high: 4, medium: 3, low: 2, info: 1 } as const;

/** The demanded actions per finding fingerprint, each with the most severe rule that demands it. */
export function actionsByFinding(decision: Decision): Map<string, Map<ActionType, DecisionAction>> {
  const out = new Map<string, Map<ActionType, DecisionAction>>();
  for (const a of decision.actions) {
    const fp = a.subject.kind === 'finding' ? a.subject.fingerprint : undefined;
    if (!fp) continue;
    let m = out.get(fp);
    if (!m) out.set(fp, (m = new Map()));
    const prev = m.get(a.type);
    if (!prev || SEVERITY_RANK[a.severity] > SEVERITY_RANK[prev.severity]) m.set(a.type, a);
  }
  return out;
}

export function planResponse(decision: Decision, findings: readonly Finding[], targets: ReadonlyMap<string, Target>, options: PlanOptions): Plan {
  const byFinding = actionsByFinding(decision);
  const revokes = new Map<string, Step>();
  const rotates = new Map<string, Step>();
  const patchFps: string[] = [];
  let patchRule: DecisionAction | undefined;
  const notDone: NotDone[] = [];
  const seen = new Set<string>();
  // Sorted by fingerprint: the plan (and so every id) does not depend on the order of the scan.
  const unique = [...findings].filter((f) => !seen.has(f.fingerprint) && seen.add(f.fingerprint)).sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));

  for (const f of unique) {
    const actions = byFinding.get(f.fingerprint);
    if (!actions) continue;
    const target = targets.get(f.fingerprint) ?? { kind: 'none', why: 'not matched' };
    const skip = (type: ActionType, a: DecisionAction, reason: string): void => {
      notDone.push({ fingerprint: f.fingerprint, action: type, rule: a.rule, policy: a.policy, reason });
    };
    for (const [type, a] of actions) {
      if (type === 'revoke' || type === 'rotate') {
        if (target.kind === 'none') {
          skip(type, a, `not revocable automatically: ${target.why}`);
          continue;
        }
        if (target.kind === 'credential' && !options.revokers.has(target.provider)) {
          skip(type, a, target.provider === 'github'
            ? 'not revocable automatically here: GitHub tokens are revoked through GitHub (the Keywarden App does it); revoke it at github.com/settings/tokens'
            : `not revocable automatically here: no ${target.provider} revoker is configured`);
          continue;
        }
        const noRotation = target.kind === 'credential' && type === 'rotate' ? options.cannotRotate?.get(target.provider) : undefined;
        if (noRotation) {
          skip(type, a, `not rotatable automatically: ${noRotation}`);
          continue;
        }
        const key = targetKey(target);
        const into = type === 'revoke' ? revokes : rotates;
        const existing = into.get(key);
        if (existing) {
          existing.fingerprints.push(f.fingerprint);
          continue;
        }
        into.set(key, {
          id: stepId(type, f.fingerprint, key),
          kind: type,
          fingerprints: [f.fingerprint],
          target,
          rule: a.rule,
          policy: a.policy,
          title: type === 'revoke' ? revokeTitle(target) : `rotate ${describeTarget(target)}`,
        });
      } else if (type === 'open-pr') {
        if (options.canPatch !== true) {
          skip(type, a, `no patch: ${options.canPatch}`);
          continue;
        }
        patchFps.push(f.fingerprint);
        if (!patchRule || SEVERITY_RANK[a.severity] > SEVERITY_RANK[patchRule.severity]) patchRule = a;
      } else if (APP_ONLY.has(type)) {
        skip(type, a, `${type} is done by the Keywarden App on GitHub`);
      }
      // fail-check: the exit code (or the App's check run) carries it; no step.
    }
  }

  const steps = [...revokes.values(), ...rotates.values()];
  if (patchRule && patchFps.length) {
    steps.push({
      id: stepId('patch', patchFps.join(','), options.patchBase ?? ''),
      kind: 'patch',
      fingerprints: patchFps,
      rule: patchRule.rule,
      policy: patchRule.policy,
      title: `remove ${patchFps.length} secret${patchFps.length === 1 ? '' : 's'} from the code on a new branch`,
    });
  }
  return { steps, notDone };
}

function revokeTitle(t: Exclude<Target, { kind: 'none' }>): string {
  if (t.kind === 'managed-key') {
    return t.revocable === 'version' && t.version !== undefined ? `revoke version ${t.version} of ${describeTarget(t)}` : `disable ${describeTarget(t)}`;
  }
  return `deactivate ${describeTarget(t)}`;
}
