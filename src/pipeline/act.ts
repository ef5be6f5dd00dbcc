/**
 * The act stage: carries out a plan's steps in order (revoke → rotate → patch), each written to
 * the step store before and after it runs. A step that fails is recorded with its code and the
 * others still run: a failed rotation never hides a done revocation. Each backend call carries
 * the step's id as its idempotency key, so a re-run — after a crash between revoke and rotate,
 * say — replays what was done and finishes the rest, never acting twice.
 */
import { rotateWithFallback } from '../backends/rotate-with-fallback.js';
import type { CredentialRevoker, KeyBackend, MutationOptions } from '../backends/port.js';
import { ErrorCode, isKeywardenError } from '../errors.js';
import type { StepStore } from '../store/steps.js';
import { targetKey } from './plan.js';
import type { Plan, Step, StepResult } from './types.js';

export interface ActDeps {
  /** The configured backend (audited); opened only when a step needs it. */
  backend: () => Promise<KeyBackend>;
  revokers: ReadonlyMap<string, CredentialRevoker>;
  steps: StepStore;
  clock: () => Date;
  actor: string;
  /** Makes the remediation patch; `done` so far lets it say what was revoked and rotated. */
  patch: (step: Step, done: readonly StepResult[]) => Promise<Omit<StepResult, 'step'>>;
  /**
   * Checks, before the first step on a provider credential, that the leaked secret is live (an AWS
   * pair against STS): a decoy — a known public ID with a made-up secret — is not revoked.
   */
  verifyCredential?: (step: Step) => Promise<{ ok: true } | { ok: false; why: string }>;
  /** The leaked secret of a credential step, re-read from the source (for revokers that take the secret). */
  secretOf?: (step: Step) => Promise<string | undefined>;
  /** Called as each step finishes (progress output). */
  onStep?: (r: StepResult) => void;
}

export async function actOnPlan(plan: Plan, deps: ActDeps, options: { dryRun?: boolean } = {}): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const step of plan.steps) {
    if (options.dryRun) {
      results.push({ step, status: 'planned', detail: step.title });
      continue;
    }
    const before = await deps.steps.get(step.id);
    if (before?.status === 'done') {
      const r: StepResult = { step, status: 'done', replayed: true, detail: `${before.detail ?? step.title} (done by an earlier run)`, facts: before.facts };
      results.push(r);
      deps.onStep?.(r);
      continue;
    }
    await deps.steps.start(step, deps.clock());
    let r: StepResult;
    try {
      r = { step, ...(await runStep(step, deps, results)) };
    } catch (e) {
      r = {
        step,
        status: 'failed',
        code: isKeywardenError(e) ? e.code : 'KW_INTERNAL',
        // KeywardenError messages never hold a secret; a foreign error's text is not shown.
        detail: isKeywardenError(e) ? e.message : `internal error (${e instanceof Error ? e.name : typeof e})`,
      };
    }
    await deps.steps.finish(r, deps.clock());
    results.push(r);
    deps.onStep?.(r);
  }
  return results;
}

async function runStep(step: Step, deps: ActDeps, done: readonly StepResult[]): Promise<Omit<StepResult, 'step'>> {
  const mutation: MutationOptions = { idempotencyKey: step.id, actor: deps.actor, reason: `finding:${step.fingerprints[0]} rule:${step.rule}` };
  if (step.kind === 'patch') return deps.patch(step, done);
  const t = step.target!;
  if (t.kind === 'credential' && deps.verifyCredential) {
    // Once per credential: an earlier step on it that was done (now or by an earlier run) was checked then.
    const key = targetKey(t);
    const checkedBefore = done.some((d) => d.status === 'done' && d.step.target !== undefined && targetKey(d.step.target) === key);
    const refused = done.find((d) => d.status === 'skipped' && d.code === ErrorCode.CREDENTIAL_NOT_LIVE && d.step.target !== undefined && targetKey(d.step.target) === key);
    if (refused) return { status: 'skipped', code: ErrorCode.CREDENTIAL_NOT_LIVE, detail: refused.detail };
    if (!checkedBefore) {
      const v = await deps.verifyCredential(step);
      if (!v.ok) return { status: 'skipped', code: ErrorCode.CREDENTIAL_NOT_LIVE, detail: `not revoked: ${v.why} (a decoy, or a key already deleted)` };
    }
  }
  if (t.kind === 'credential') {
    const revoker = deps.revokers.get(t.provider)!;
    const secretOf = deps.secretOf;
    const r = await revoker.revoke(t.credentialId ?? t.secretFingerprint ?? '', { ...mutation, replace: step.kind === 'rotate', ...(secretOf ? { secret: () => secretOf(step) } : {}) });
    const note = r.note ? ` (${r.note})` : '';
    if (step.kind === 'revoke' || !r.replacementId) {
      return { status: 'done', replayed: r.replayed, detail: `${t.provider} credential ${r.credentialId} of ${r.owner}: deactivated${note}`, facts: { credentialId: r.credentialId, owner: r.owner } };
    }
    return {
      status: 'done',
      replayed: r.replayed,
      detail: `${t.provider} credential ${r.credentialId} of ${r.owner}: replaced by ${r.replacementId}${r.replacementRef ? `, stored in ${r.replacementRef}` : ''}${note}`,
      facts: { credentialId: r.credentialId, owner: r.owner, ...(r.replacementId ? { replacementId: r.replacementId } : {}), ...(r.replacementRef ? { replacementRef: r.replacementRef } : {}) },
    };
  }
  if (t.kind !== 'managed-key') throw new Error('unreachable');
  const backend = await deps.backend();
  const alias = t.aliases[0] ? ` (${t.aliases[0]})` : '';
  if (step.kind === 'revoke') {
    if (t.revocable === 'version' && t.version !== undefined && backend.revokeVersion) {
      const r = await backend.revokeVersion(t.keyId, t.version, mutation);
      return { status: 'done', replayed: r.replayed, detail: `${t.backend} key ${t.keyId}${alias} version ${t.version}: revoked`, facts: { keyId: t.keyId, version: t.version } };
    }
    const r = await backend.disable(t.keyId, mutation);
    return { status: 'done', replayed: r.replayed, detail: `${t.backend} key ${t.keyId}${alias}: disabled`, facts: { keyId: t.keyId, state: r.state } };
  }
  // A key that can only be revoked whole is disabled by then: its replacement carries the aliases on.
  const r = await rotateWithFallback(backend, t.keyId, { ...mutation, ...(t.revocable === 'key' ? { replace: true } : {}) });
  if (r.mode === 'in-place') {
    return { status: 'done', replayed: r.replayed, detail: `${t.backend} key ${t.keyId}${alias}: rotated in place, version ${r.version ?? '?'} is current`, facts: { keyId: r.keyId, ...(r.version !== undefined ? { version: r.version } : {}), mode: 'in-place' } };
  }
  return {
    status: 'done',
    replayed: r.replayed,
    detail: `${t.backend} key ${r.oldKeyId}${alias}: replaced by ${r.newKeyId}${r.movedAliases.length ? `, ${r.movedAliases.join(', ')} moved to it` : ''} (the backend cannot rotate it in place)`,
    facts: { keyId: r.oldKeyId, newKeyId: r.newKeyId, mode: 'replacement', movedAliases: r.movedAliases.join(',') },
  };
}
