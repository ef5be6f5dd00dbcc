/**
 * GitHub secret scanning as a source: a `secret_scanning_alert` (created, reopened, publicly
 * leaked; push-protection bypasses arrive as created alerts) is taken as a finding and runs the
 * same pipeline as a push. The alert names where the secret is (path, lines, commit); Keywarden
 * fetches that commit and scans it with its own detectors, so the finding carries Keywarden's
 * fingerprint and identity and the secret is re-read from the source at act time — the alert's
 * own `secret` field is never read. When the credential is dead (every revoke step for a finding
 * at the alert's location done), the alert is resolved as `revoked` with a comment; otherwise it
 * stays open with the reason in the log.
 */
import { githubError } from '../scm/github.js';
import { fetchInto, hasCommit } from '../scm/github-git.js';
import type { SecretAlertJob } from './jobs.js';
import { oneLine } from './present.js';
import { presentContext, respondAndAct, type PushOutcome } from './run-push.js';
import { RepoWork, type AppServices } from './services.js';

export interface SecretAlertOutcome {
  kind: 'resolved' | 'open' | 'skipped';
  detail?: string;
  push?: PushOutcome;
}

interface AlertLocation {
  path: string;
  startLine: number;
  endLine: number;
  commit: string;
}

export async function runSecretAlert(s: AppServices, job: SecretAlertJob): Promise<SecretAlertOutcome> {
  const w = await RepoWork.open(s, job);
  const ref = { owner: job.owner, repo: job.repo, alert_number: job.alertNumber };
  let state: string;
  let locations: AlertLocation[];
  try {
    const alert = await w.octokit.request('GET /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}', ref);
    state = alert.data.state ?? 'open';
    const locs = await w.octokit.request('GET /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}/locations', { ...ref, per_page: 20 });
    locations = locs.data.flatMap((l) => {
      const d = l.details as { path?: string; start_line?: number; end_line?: number; commit_sha?: string } | undefined;
      return l.type === 'commit' && d?.path && d.commit_sha && d.start_line ? [{ path: d.path, startLine: d.start_line, endLine: d.end_line ?? d.start_line, commit: d.commit_sha }] : [];
    });
  } catch (e) {
    throw githubError(e, 'read the secret scanning alert');
  }
  if (state !== 'open') return { kind: 'skipped', detail: `the alert is ${state}` };
  const at = locations[0];
  if (!at) return { kind: 'open', detail: 'the alert has no location in a commit' };
  const policy = await w.policy();
  if (policy.error) return { kind: 'open', detail: 'the policy is broken' };
  const ctx = presentContext(s, w, policy, `${at.path} (secret scanning alert #${job.alertNumber})`);

  return w.withMirror(async (dir, remote) => {
    await fetchInto(dir, remote, { branches: [job.defaultBranch], commits: locations.map((l) => l.commit) });
    if (!(await hasCommit(dir, at.commit))) return { kind: 'open' as const, detail: 'the alert\'s commit could not be fetched' };
    // The commit that holds the secret, alone: its added lines include the alert's location.
    const push = await respondAndAct(s, w, { dir, remote }, { range: at.commit, policy, ctx, sha: at.commit, receivedAt: job.receivedAt });
    const here = (push.report?.findings ?? []).filter((f) => f.finding.file === at.path && f.finding.startLine <= at.endLine && f.finding.endLine >= at.startLine);
    const fps = new Set(here.map((f) => f.finding.fingerprint));
    const revokes = (push.report?.steps ?? []).filter((st) => st.step.kind === 'revoke' && st.step.fingerprints.some((fp) => fps.has(fp)));
    if (!here.length) return { kind: 'open' as const, detail: 'Keywarden\'s detectors do not recognise the secret at the alert\'s location', push };
    if (!revokes.length || revokes.some((r) => r.status !== 'done')) return { kind: 'open' as const, detail: 'the credential could not be revoked automatically', push };
    try {
      await w.octokit.request('PATCH /repos/{owner}/{repo}/secret-scanning/alerts/{alert_number}', {
        ...ref,
        state: 'resolved',
        resolution: 'revoked',
        resolution_comment: oneLine(`Revoked by Keywarden: ${revokes.map((r) => r.detail).join('; ')}`, 270),
      });
    } catch (e) {
      throw githubError(e, 'resolve the secret scanning alert');
    }
    return { kind: 'resolved' as const, push };
  });
}
