/**
 * The push job: scan what the push added, and respond as the policy says.
 *
 * 1. The policy from the default branch (cached), and at the same time
 * 2. the pre-check: GitHub's compare of `before...after` (a new branch: the default branch
 *    `...after`), its added lines scanned. Clean and complete → done: one REST call.
 * 3. Anything found, or the compare could not vouch for every line (truncated, a file without a
 *    patch): the range is fetched into the git copy and the pipeline runs there — decide, revoke
 *    and rotate (backend, AWS IAM, GitHub's revocation API, deploy keys), patch.
 * 4. On GitHub: the remediation PR (deduplicated), the tracking issue when the policy asks, and a
 *    `keywarden` check run on the pushed commit saying what was found and done.
 *
 * A failed step whose error is retryable (the backend is down, GitHub 5xx) fails the job after
 * the check says so, and the queue retries it: the pipeline's step ids make the retry finish what
 * is left without doing anything twice.
 */
import { scheduleDrift } from './run-drift.js';
import { ErrorCode, KeywardenError } from '../errors.js';
import type { PipelineReport } from '../pipeline/types.js';
import type { PushJob } from './jobs.js';
import { brokenPolicyCheck, checkOutput, issueMarker, trackingIssue, type PresentContext } from './present.js';
import { upsertRemediationPr, type RemediationOutcome } from './remediation-pr.js';
import { forgetPolicy, RepoWork, type AppServices } from './services.js';
import type { RepoPolicy } from './repo-policy.js';
import type { GitRemote } from '../scm/github-git.js';

export interface PushOutcome {
  kind: 'clean' | 'responded' | 'policy-broken' | 'skipped' | 'deferred';
  report?: PipelineReport;
  pr?: RemediationOutcome;
  issue?: number;
  checkRunId?: number;
  preCheck?: { findings: number; complete: boolean; incomplete?: string };
}

/** Codes that mean "try again later" when a step failed with them. */
const RETRY_CODES = new Set<string>([ErrorCode.BACKEND_UNAVAILABLE, ErrorCode.BACKEND_THROTTLED, ErrorCode.GITHUB_FAILED, ErrorCode.GITHUB_THROTTLED, ErrorCode.STORE_FAILED]);

export async function runPush(s: AppServices, job: PushJob, attempt = 1): Promise<PushOutcome> {
  if (job.touchesPolicy) forgetPolicy(s, job.repoId, job.repo === '.github' ? { installationId: job.installationId, owner: job.owner } : undefined);
  const w = await RepoWork.open(s, job, attempt);
  const branch = job.ref.startsWith('refs/heads/') ? job.ref.slice('refs/heads/'.length) : undefined;
  const base = job.created || /^0+$/.test(job.before) ? job.defaultBranch : job.before;
  const compares = !(job.created && branch === job.defaultBranch);
  // The compare is asked for while the policy is read: two round trips to GitHub at once, not one after the other.
  const compared = compares ? w.gh.compare(base, job.after) : undefined;
  compared?.catch(() => undefined);
  const policy = await w.policy();
  if (policy.error) {
    const checkRunId = await w.writeCheck(`push:${job.after}`, { headSha: job.after, status: 'completed', conclusion: 'failure', output: brokenPolicyCheck(policy.error, policy.from.file ?? '.github/keywarden.yml') });
    return { kind: 'policy-broken', checkRunId };
  }
  // The default branch's drift comparison, when the policy asks for one (one job per slot).
  if (branch === job.defaultBranch && policy.ast?.drift) await scheduleDrift(s, job, policy.ast, s.clock().getTime());

  let pre: Awaited<ReturnType<RepoWork['preCheck']>> | undefined;
  if (compares) {
    try {
      pre = await w.preCheck(policy, base, job.after, compared);
    } catch (e) {
      // A compare GitHub cannot make (a force-push whose `before` is gone) is no reason to skip the scan.
      if (!(e instanceof KeywardenError) || e.code !== ErrorCode.GITHUB_DENIED) throw e;
    }
    if (pre && pre.complete && pre.findings.length === 0) return { kind: 'clean', preCheck: { findings: 0, complete: true } };
  }
  const preCheck = pre ? { findings: pre.findings.length, complete: pre.complete, ...(pre.incomplete ? { incomplete: pre.incomplete } : {}) } : undefined;
  s.logger.info({ repo: w.fullName, after: job.after, preCheck }, 'push needs a full scan');
  if (pre?.findings.length) await revokeFirst(s, w, pre, { policy, ...(branch ? { branch } : {}), sha: job.after, receivedAt: job.receivedAt });

  // The full scan is its own job, behind every push's fast part: twenty leaking pushes at once are
  // all revoked before the first repository is fetched.
  if (s.defer) {
    await s.defer({ kind: 'push_scan', payload: { ...job, ...(preCheck ? { preCheck } : {}) }, dedupeKey: `pushscan:${job.repoId}:${job.ref}:${job.after}`, priority: -1 });
    return { kind: 'deferred', ...(preCheck ? { preCheck } : {}) };
  }
  return runPushScan(s, { ...job, ...(preCheck ? { preCheck } : {}) }, w, policy);
}

/** The full scan of a push in the git copy, and the response: the pipeline, then GitHub's side. */
export async function runPushScan(s: AppServices, job: PushJob & { preCheck?: PushOutcome['preCheck'] }, opened?: RepoWork, knownPolicy?: RepoPolicy, attempt = 1): Promise<PushOutcome> {
  const w = opened ?? (await RepoWork.open(s, job, attempt));
  const branch = job.ref.startsWith('refs/heads/') ? job.ref.slice('refs/heads/'.length) : undefined;
  const policy = knownPolicy ?? (await w.policy());
  const ctx = presentContext(s, w, policy, branch ?? job.ref);
  if (policy.error) {
    const checkRunId = await w.writeCheck(`push:${job.after}`, { headSha: job.after, status: 'completed', conclusion: 'failure', output: brokenPolicyCheck(policy.error, policy.from.file ?? '.github/keywarden.yml') });
    return { kind: 'policy-broken', checkRunId };
  }
  const preCheck = job.preCheck;
  return w.withMirror(async (dir, remote) => {
    const range = await w.fetchRange(dir, remote, { ...(branch ? { branch } : {}), before: job.before, after: job.after });
    const r = await respondAndAct(s, w, { dir, remote }, { range, policy, ctx, ...(branch ? { branch } : {}), sha: job.after, receivedAt: job.receivedAt });
    return { ...r, ...(preCheck ? { preCheck } : {}) };
  });
}

/**
 * The pipeline over `range` of the git copy, for real (revoke, rotate, patch), then GitHub's side:
 * the remediation PR against `branch`, the tracking issue when the policy asks, the check run on
 * `sha`. Throws a retryable error after the check when a step failed for a reason that can pass.
 */
export async function respondAndAct(
  s: AppServices,
  w: RepoWork,
  git: { dir: string; remote: GitRemote },
  input: { range: string; policy: RepoPolicy; ctx: PresentContext; branch?: string; sha: string; receivedAt: number; checkRunId?: number; pullRequest?: number; patchBase?: string },
): Promise<PushOutcome> {
  const { dir, remote } = git;
  const { policy, ctx, branch } = input;
  const report = await w.respond(dir, { range: input.range, policy, dryRun: false, ...(input.patchBase ? { patchBase: input.patchBase } : {}), trigger: { kind: input.pullRequest ? 'pull_request' : 'push', ...(branch ? { branch } : {}), sha: input.sha, ...(input.pullRequest ? { pullRequest: input.pullRequest } : {}) } });
  for (const f of report.findings) s.metrics?.finding(f.finding.type);
  for (const st of report.steps) {
    s.metrics?.action(st.step.kind, st.status);
    if (st.status === 'done' && st.step.kind === 'revoke' && !st.replayed) s.metrics?.webhookToAction((s.clock().getTime() - input.receivedAt) / 1000);
  }
  if (!report.findings.length) return { kind: 'clean', report };

  // The remediation PR, from the patch step's branch and commit (also when an earlier run made them).
  let pr: RemediationOutcome | undefined;
  const patch = report.steps.find((x) => x.step.kind === 'patch' && x.status === 'done');
  const patchBranch = typeof patch?.facts?.branch === 'string' ? patch.facts.branch : undefined;
  const patchCommit = typeof patch?.facts?.commit === 'string' ? patch.facts.commit : undefined;
  if (branch && patchBranch && patchCommit) {
    pr = await upsertRemediationPr(w.gh, { dir, remote }, { report, branch: patchBranch, commit: patchCommit, base: branch, ctx });
    s.metrics?.action('pull_request', pr.kind === 'ignored' ? 'skipped' : 'done');
    if (pr.kind === 'ignored') s.logger.info({ repo: w.fullName, pr: pr.pr.number }, 'remediation PR was closed without merging: the team chose to ignore it; not reopened');
  }

  // The tracking issue, when the policy asks for one.
  let issue: number | undefined;
  if (report.decision.actions.some((a) => a.type === 'open-issue')) {
    const key = patchBranch ?? `leak-${report.findings[0]!.finding.fingerprint.slice(7, 19)}`;
    const existing = await w.gh.findIssue(issueMarker(key), 'all');
    const prRef = pr ? { number: pr.pr.number, url: pr.pr.htmlUrl } : undefined;
    const t = trackingIssue(report, ctx, prRef, key);
    if (existing) {
      issue = existing.number;
      if (existing.state === 'open') await w.gh.updateIssue(existing.number, { body: t.body });
    } else issue = await w.gh.openIssue(t);
    s.metrics?.action('issue', 'done');
  }

  const failedRetryable = report.steps.filter((x) => x.status === 'failed' && x.code && RETRY_CODES.has(x.code));
  const extra = failedRetryable.length ? [`⏳ ${failedRetryable.length} step${failedRetryable.length === 1 ? '' : 's'} failed for a reason that can pass (${[...new Set(failedRetryable.map((x) => x.code))].join(', ')}); Keywarden retries.`] : [];
  // The key backend could not be opened, so a key of it may have gone unmatched: said, and retried.
  const backendDown = report.warnings.find((x) => x.code === ErrorCode.BACKEND_UNAVAILABLE);
  if (backendDown) extra.push(`⏳ The key backend is unavailable, so leaked keys of it could not be matched or revoked yet: ${backendDown.message} Keywarden retries.`);
  if (pr && pr.kind !== 'ignored') extra.push(`The fix: #${pr.pr.number}.`);
  if (pr?.kind === 'ignored') extra.push(`The fix #${pr.pr.number} was closed without merging; Keywarden leaves it closed.`);
  const out = checkOutput(report, ctx, extra);
  const checkRunId = await w.writeCheck(input.pullRequest ? `pr:${input.pullRequest}:${input.sha}` : `push:${input.sha}`, { ...(input.checkRunId !== undefined ? { id: input.checkRunId } : {}), headSha: input.sha, status: 'completed', conclusion: out.conclusion, output: out.output, ...checkActions(report) });
  s.metrics?.action('check_run', 'done');

  if (backendDown && !failedRetryable.length) {
    throw new KeywardenError(ErrorCode.BACKEND_UNAVAILABLE, 'The key backend is unavailable; the push is scanned again later.', { fault: 'backend', retryable: true });
  }
  if (failedRetryable.length) {
    throw new KeywardenError(failedRetryable[0]!.code as ErrorCode, `${failedRetryable.length} response step(s) failed and will be retried: ${failedRetryable[0]!.detail}`, { fault: 'backend', retryable: true });
  }
  return { kind: 'responded', report, ...(pr ? { pr } : {}), ...(issue !== undefined ? { issue } : {}), checkRunId };
}

/**
 * What leaked is revoked from the compare's findings before the git copy is fetched (fetching and
 * the full scan take seconds; a token is usable all that time). Whatever goes wrong here is left
 * to the full run that follows, which replays what was done by the same step ids.
 */
async function revokeFirst(s: AppServices, w: RepoWork, pre: Parameters<RepoWork['revokeFirst']>[0], input: { policy: RepoPolicy; branch?: string; sha: string; receivedAt: number }): Promise<void> {
  try {
    const report = await w.revokeFirst(pre, { policy: input.policy, trigger: { kind: 'push', ...(input.branch ? { branch: input.branch } : {}), sha: input.sha } });
    if (!report) return;
    for (const st of report.steps) {
      if (st.status === 'done' && !st.replayed) s.metrics?.webhookToAction((s.clock().getTime() - input.receivedAt) / 1000);
    }
    const done = report.steps.filter((x) => x.status === 'done').length;
    if (report.steps.length) s.logger.info({ repo: w.fullName, after: input.sha, revoked: done, failed: report.steps.length - done }, 'revoked from the compare before the full scan');
  } catch (e) {
    s.logger.warn({ repo: w.fullName, after: input.sha, code: e instanceof KeywardenError ? e.code : 'KW_INTERNAL' }, 'the revocation before the full scan failed; the full run does it');
  }
}

export function presentContext(s: AppServices, w: RepoWork, policy: RepoPolicy, where: string): PresentContext {
  return {
    policy: { webBase: s.webBase, ...(policy.from.file ? { file: policy.from.file } : {}), ...(policy.from.ref ? { ref: policy.from.ref } : {}), ...(policy.from.fullName ? { fullName: policy.from.fullName } : {}) },
    where,
  };
}

/** The check run's buttons: offered while something the policy demands was not done. */
export function checkActions(report: PipelineReport): { actions?: Array<{ label: string; description: string; identifier: string }> } {
  if (!report.findings.length) return {};
  return {
    actions: [
      { label: 'Revoke & rotate now', description: 'Revoke and rotate the leaked keys', identifier: 'revoke-rotate' },
      { label: 'Mark as test key', description: 'Add an expiring test-key exception', identifier: 'mark-test-key' },
    ],
  };
}
