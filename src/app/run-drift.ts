/**
 * Drift on the default branch, on the schedule the policy sets (`drift: { every: 24h }`): the keys
 * the default branch declares (src/inspect) compared with the live inventory of the configured
 * backend (src/inspect/drift.ts), reported as a `keywarden/drift` check run on the branch's tip
 * with an annotation at each declaration that disagrees (both values in it).
 *
 * Scheduling is durable and needs no clock process: a push to the default branch or the first
 * scan of a repository queues the current slot's drift job (`drift:<repo>:<slot>`, slot =
 * floor(now / every)), and each drift job queues the next slot's, due at its start. The queue's
 * dedupe key makes a slot run once however many pushes ask for it; a policy without `drift:` ends
 * the chain.
 */
import { compose } from '../compose.js';
import { inspectFiles, type KeyFact, type KeyRefFact } from '../inspect/index.js';
import { compareDrift, type Drift } from '../inspect/drift.js';
import { CONFIG_FILE, MAX_CONFIG_BYTES, MAX_CONFIG_FILES } from '../pipeline/check-config.js';
import type { PolicyAst } from '../policy/dsl/ast.js';
import type { Annotation, CheckRunOutput } from '../scm/github.js';
import { fetchInto, fetchedBranch } from '../scm/github-git.js';
import { readTreeFiles } from '../scm/local-git.js';
import type { DriftJob, RepoJob } from './jobs.js';
import { code, MAX_ANNOTATIONS, oneLine } from './present.js';
import { RepoWork, type AppServices } from './services.js';

export const DRIFT_CHECK = 'keywarden/drift';

export interface DriftOutcome {
  kind: 'checked' | 'skipped';
  conclusion?: 'success' | 'failure' | 'neutral';
  drift?: number;
  checkRunId?: number;
}

/** Queues the drift job of the slot `now` falls in (a no-op when the policy asks for none, or the slot's job exists). */
export async function scheduleDrift(s: AppServices, job: RepoJob, ast: PolicyAst | undefined, now: number, next = false): Promise<void> {
  const every = ast?.drift?.everyMs;
  if (!every || !s.defer) return;
  const slot = Math.floor(now / every) + (next ? 1 : 0);
  const payload: DriftJob = { installationId: job.installationId, repoId: job.repoId, owner: job.owner, repo: job.repo, private: job.private, defaultBranch: job.defaultBranch, receivedAt: now, slot };
  await s.defer({ kind: 'drift', payload: { ...payload }, dedupeKey: `drift:${job.repoId}:${every}:${slot}`, priority: -20, ...(next ? { runAt: new Date(slot * every) } : {}) });
}

export async function runDrift(s: AppServices, job: DriftJob): Promise<DriftOutcome> {
  const w = await RepoWork.open(s, job);
  const policy = await w.policy({ fresh: true });
  if (policy.error || !policy.ast?.drift) return { kind: 'skipped' };
  const ast = policy.ast;
  const outcome = await w.withMirror(async (dir, remote) => {
    await fetchInto(dir, remote, { branches: [job.defaultBranch] });
    const tip = await fetchedBranch(dir, job.defaultBranch);
    if (!tip) return { kind: 'skipped' as const };
    const tree = await readTreeFiles(dir, tip, { select: (p) => CONFIG_FILE.test(p), maxBytes: MAX_CONFIG_BYTES, maxFiles: MAX_CONFIG_FILES });
    const facts = inspectFiles(tree.files, { maxBytes: MAX_CONFIG_BYTES }).facts.filter((f): f is KeyFact | KeyRefFact => f.kind === 'key' || f.kind === 'key-ref');
    // The operator's backend, resolved as the pipeline's is (the repository's policy names none here).
    const c = compose({ cwd: dir, env: s.env, actor: `app:${w.fullName}`, policyFile: false, backend: s.backend, stateDir: s.stateDir, clock: s.clock });
    let result;
    let name: string;
    try {
      const opened = await c.backend();
      name = opened.backend.name;
      result = compareDrift(facts, await opened.backend.inventory(), name);
    } finally {
      await c.close();
    }
    const out = driftOutput(result.drift, { compared: result.compared, unmatched: result.unmatched, backend: name, branch: job.defaultBranch });
    const checkRunId = await w.writeCheck(`drift:${job.slot}`, { name: DRIFT_CHECK, headSha: tip, status: 'completed', conclusion: out.conclusion, output: out.output });
    return { kind: 'checked' as const, conclusion: out.conclusion, drift: result.drift.length, checkRunId };
  });
  await scheduleDrift(s, job, ast, s.clock().getTime(), true);
  return outcome;
}

/** The drift check's words: an annotation per disagreement, both values in it. Repository text is flattened and code-spanned. */
export function driftOutput(drift: readonly Drift[], ctx: { compared: number; unmatched: number; backend: string; branch: string }): { conclusion: 'success' | 'failure' | 'neutral'; output: CheckRunOutput } {
  const annotations: Annotation[] = drift.slice(0, MAX_ANNOTATIONS).map((d) => ({
    path: d.file,
    start_line: d.line,
    end_line: d.line,
    annotation_level: 'failure',
    title: oneLine(`Drift: ${d.kind} (${d.key})`, 200),
    message: oneLine(`${d.message} Declared: ${d.declared}; live: ${d.live}.`, 1000),
  }));
  const none = ctx.compared === 0;
  const summary = [
    drift.length
      ? `**${drift.length} difference${drift.length === 1 ? '' : 's'}** between the keys ${code(ctx.branch, 100)} declares and the live keys in ${code(ctx.backend, 40)} (${ctx.compared} key${ctx.compared === 1 ? '' : 's'} compared).`
      : none
        ? `No declared key could be compared with ${code(ctx.backend, 40)}${ctx.unmatched ? ` (${ctx.unmatched} declared AWS key${ctx.unmatched === 1 ? '' : 's'}: an alias is needed to match a key, and the backend must be aws-kms)` : ''}.`
        : `The ${ctx.compared} key${ctx.compared === 1 ? '' : 's'} ${code(ctx.branch, 100)} declares match the live keys in ${code(ctx.backend, 40)}.`,
    '',
    ...drift.slice(0, 50).map((d) => `- ${code(d.key, 100)} in ${code(d.file)} line ${d.line}: ${d.kind} — declared ${code(d.declared, 80)}, live ${code(d.live, 80)}`),
    ...(drift.length > 50 ? [`- … and ${drift.length - 50} more`] : []),
    ...(ctx.unmatched && !none ? ['', `${ctx.unmatched} declared key${ctx.unmatched === 1 ? ' has' : 's have'} no alias to match by and ${ctx.unmatched === 1 ? 'was' : 'were'} not compared.`] : []),
  ].join('\n');
  return {
    conclusion: drift.length ? 'failure' : none ? 'neutral' : 'success',
    output: { title: drift.length ? `${drift.length} key${drift.length === 1 ? '' : 's'} drifted` : none ? 'Nothing to compare' : 'No drift', summary, annotations },
  };
}
