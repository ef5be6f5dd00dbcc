/**
 * The Probot app: every verified delivery goes through Probot (`probot.receive`), whose one
 * handler turns it into jobs (`jobFromEvent`: ids and shas, never the payload) and queues them
 * durably; the webhook is answered as soon as the queue has them. Workers run the jobs with the
 * handlers below, each a thin entry point over the pipeline.
 *
 * Deduplication: a delivery id is queued once (GitHub's redeliveries and replays do nothing); a
 * job's dedupe key (a push: repository, ref and after-sha) is queued once whichever delivery
 * brought it.
 */
import type { ApplicationFunction, Probot } from 'probot';
import type { EnqueueResult, Job, JobHandler, JobQueue } from '../store/queue.js';
import { jobFromEvent, type CheckActionJob, type CommentJob, type DriftJob, type JobKind, type PullRequestJob, type PushJob, type RepoScanJob, type SecretAlertJob } from './jobs.js';
import { runCheckAction } from './run-check-action.js';
import { runComment } from './run-comment.js';
import { runDrift } from './run-drift.js';
import { runPullRequest } from './run-pull-request.js';
import { runPush, runPushScan } from './run-push.js';
import { runRepoScan } from './run-repo-scan.js';
import { runSecretAlert } from './run-secret-alert.js';
import type { AppServices } from './services.js';

export type DeliveryOutcome = 'queued' | 'duplicate' | 'ignored';

export interface KeywardenAppOptions {
  queue: JobQueue;
  /** Kinds a worker handles; deliveries asking for others are acknowledged and ignored. */
  kinds: ReadonlySet<string>;
  clock?: () => Date;
  /** Called after a delivery was queued (the worker's `wake`). */
  onQueued?: () => void;
  /** First scans of newly added repositories are spaced this far apart (ms; default 2 s): 1,800 an hour at most. */
  repoScanSpacingMs?: number;
}

/** What each delivery became, read by the webhook route once `probot.receive` resolved. */
export class DeliveryOutcomes {
  private readonly map = new Map<string, DeliveryOutcome>();
  set(id: string, o: DeliveryOutcome): void {
    this.map.set(id, o);
  }
  take(id: string): DeliveryOutcome {
    const o = this.map.get(id) ?? 'ignored';
    this.map.delete(id);
    return o;
  }
}

export function createKeywardenApp(options: KeywardenAppOptions, outcomes: DeliveryOutcomes): ApplicationFunction {
  return (app: Probot) => {
    app.onAny(async (context) => {
      const receivedAt = (options.clock?.() ?? new Date()).getTime();
      const jobs = jobFromEvent(context.name, context.payload, receivedAt).filter((j) => options.kinds.has(j.kind));
      if (!jobs.length) {
        outcomes.set(context.id, 'ignored');
        return;
      }
      const results: EnqueueResult[] = [];
      for (const [i, j] of jobs.entries()) {
        results.push(
          await options.queue.enqueue({
            kind: j.kind,
            payload: j.payload,
            dedupeKey: j.dedupeKey,
            // One delivery can bring many jobs (an installation's repositories): each its own id.
            deliveryId: i === 0 ? context.id : `${context.id}:${i}`,
            ...(j.priority !== undefined ? { priority: j.priority } : {}),
            ...installationGroup(j.payload),
            ...(j.kind === 'repo_scan' ? { runAt: new Date(receivedAt + i * (options.repoScanSpacingMs ?? 2000)) } : {}),
          }),
        );
      }
      const queued = results.some((r) => !r.duplicate);
      outcomes.set(context.id, queued ? 'queued' : 'duplicate');
      if (queued) options.onQueued?.();
    });
  };
}

/** The fairness group of an App job: its installation (one busy org cannot starve the others). */
export function installationGroup(payload: Record<string, unknown>): { group?: string } {
  const id = payload.installationId;
  return typeof id === 'number' && Number.isSafeInteger(id) ? { group: `installation:${id}` } : {};
}

/** The job handlers, one per kind: each reads its job and runs its entry point. */
export function createJobHandlers(s: AppServices, report?: (kind: JobKind, job: Job, outcome: unknown) => void): Record<string, JobHandler> {
  const wrap =
    <T>(kind: JobKind, run: (s: AppServices, payload: T, attempt: number) => Promise<unknown>): JobHandler =>
    async (job) => {
      const outcome = await run(s, job.payload as T, job.attempts);
      report?.(kind, job, outcome);
    };
  return {
    push: wrap<PushJob>('push', runPush),
    push_scan: wrap<PushJob>('push_scan', (s2, job, attempt) => runPushScan(s2, job, undefined, undefined, attempt)),
    pull_request: wrap<PullRequestJob>('pull_request', runPullRequest),
    check_action: wrap<CheckActionJob>('check_action', runCheckAction),
    comment: wrap<CommentJob>('comment', runComment),
    secret_alert: wrap<SecretAlertJob>('secret_alert', runSecretAlert),
    repo_scan: wrap<RepoScanJob>('repo_scan', runRepoScan),
    drift: wrap<DriftJob>('drift', runDrift),
  };
}
