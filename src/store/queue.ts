/**
 * The durable job queue, as a port: the webhook endpoint acknowledges a GitHub delivery in a few
 * milliseconds and enqueues a job; workers (`createWorker`) claim and run jobs. SQLite
 * (`sqlite-queue.ts`) is the default implementation; a Postgres one can follow without touching
 * a handler, because handlers see only `Job` and `JobContext`.
 *
 * Semantics every implementation keeps (the SQLite tests are the reference):
 *
 * - **At least once.** A claim is a lease. A worker that is killed, or blocked for longer than the
 *   lease, loses the job and another worker runs it again after the lease expires; the re-run
 *   sees `attempts` grown and `lastError.code === KW_QUEUE_LEASE_EXPIRED`. So **handlers must be
 *   idempotent**: a second run must find what the first did (the pipeline's idempotency keys and
 *   step records) and not act twice. A job whose lease expires on its last attempt is dead, so a
 *   job that kills its worker every time cannot loop forever.
 * - **Duplicates.** The same `deliveryId` (GitHub's `X-GitHub-Delivery`) is a duplicate for the
 *   retention period (default 7 days), whatever became of its job, even once the job is pruned: a
 *   redelivery never runs twice. The same `dedupeKey` is a duplicate while a job with that key is
 *   queued, running or done (done jobs are kept for the retention period); a dead job does not
 *   block its key, so the work can be enqueued again once the cause is fixed. The dedupe check
 *   and the insert are one transaction.
 * - **Order.** Due jobs (`runAt <= now`) are claimed by `priority` (higher first), then `runAt`,
 *   then enqueue order. Two processes on one store never claim the same job.
 * - **Retries.** `fail` with `retryable` puts the job back with a delay until `maxAttempts`
 *   (default 8) claims have been made; then, or when not retryable, the job is dead (kept, with
 *   its last error, for the retention period: the dead-letter list).
 *
 * Security: a payload is small JSON (ids, shas, names, fingerprints), **never a secret**. It is
 * stored in plain text and kept for days. `enqueue` refuses a payload in which a built-in
 * detector finds a secret, and error messages are masked before they are stored.
 *
 * @example
 * const queue = openSqliteQueue(stateDir);
 * const worker = createWorker({ queue, handlers: { push: async (job, { signal }) => runPush(job.payload, signal) } });
 * worker.start();
 * // in the webhook route:
 * const { duplicate } = await queue.enqueue({ kind: 'push', payload: { installationId, repo, after }, deliveryId, dedupeKey: `push:${repo}:${after}` });
 * worker.wake();
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ErrorCode, KeywardenError } from '../errors.js';
import { maskFoundSecrets } from '../scan/mask-found.js';
import { scanText } from '../scan/scan-text.js';
import type { Logger } from '../util/logger.js';

/** Claims a job may take before it is dead. */
export const DEFAULT_MAX_ATTEMPTS = 8;
/** How long delivery ids, and done and dead jobs, are kept: 7 days. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** The largest payload `enqueue` accepts, as UTF-8 JSON: 64 KiB. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;
/** The longest delay a retry may ask for (a retry-after beyond it is cut): 24 hours. */
export const MAX_RETRY_DELAY_MS = 24 * 60 * 60_000;

export interface JobInput {
  /** The handler's name: `push`, `pull_request`, `check_run.rerequested`, … (letters, digits, `_ . : -`). */
  kind: string;
  /** Small JSON: ids, shas, names, fingerprints. Never a secret (see the module docblock). At most 64 KiB. */
  payload: Record<string, unknown>;
  /** Work that must not be queued twice, e.g. `push:owner/repo:<after-sha>`. */
  dedupeKey?: string;
  /** GitHub's `X-GitHub-Delivery`: the same id twice is a duplicate for the retention period. */
  deliveryId?: string;
  /** Not before this time. Default now. */
  runAt?: Date;
  /** Default 8. */
  maxAttempts?: number;
  /** Higher runs first. Default 0. */
  priority?: number;
  /**
   * The fairness group, e.g. `installation:123`: a claim with `groupLimit` skips a job whose group
   * already has that many jobs running (across every worker on the store), so one busy org cannot
   * starve the others or spend its GitHub rate limit all at once.
   */
  group?: string;
}

/** Why the last attempt failed: a stable code (a `KW_…` code for Keywarden errors) and a masked message. */
export interface JobError {
  code: string;
  message: string;
}

export interface Job {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  /** Claims so far, this one included. */
  attempts: number;
  maxAttempts: number;
  priority: number;
  enqueuedAt: Date;
  runAt: Date;
  deliveryId?: string;
  dedupeKey?: string;
  /** Set on a retry: why the previous attempt failed (`KW_QUEUE_LEASE_EXPIRED` when its worker died). */
  lastError?: JobError;
  /** The fairness group it was enqueued with. */
  group?: string;
}

export type JobState = 'queued' | 'running' | 'done' | 'dead';

/** A job as `get` reads it, for operators and tests. */
export interface JobRecord extends Job {
  state: JobState;
  /** The worker holding the lease, while running. */
  leaseOwner?: string;
  leaseExpiresAt?: Date;
  finishedAt?: Date;
}

export type DuplicateBy = 'delivery' | 'dedupe-key';

export interface EnqueueResult {
  /** The new job, or on a duplicate the job it duplicates (which may have been pruned since). */
  id: string;
  duplicate: boolean;
  by?: DuplicateBy;
}

export interface ClaimOptions {
  workerId: string;
  leaseMs: number;
  /** Only these kinds (a worker claims only what it has handlers for). Default all. */
  kinds?: readonly string[];
  /**
   * At most this many running jobs per `group`, counted over the whole store. Two claims racing
   * may each see room for the last slot, so the bound can be passed by the number of claimers at
   * that instant — a fairness limit, not a lock. Default: no limit.
   */
  groupLimit?: number;
}

export interface JobFailure extends JobError {
  retryable: boolean;
  /** The wait before the next attempt. The worker passes its backoff or the error's retry-after; absent: `defaultBackoff`. */
  retryInMs?: number;
}

export type FailResult = { state: 'retrying'; runAt: Date } | { state: 'dead' };

export interface QueueStats {
  /** Jobs waiting, due or scheduled for a retry. */
  queued: number;
  /** Queued jobs whose `runAt` has come. */
  due: number;
  /** Leased jobs, including ones whose lease expired but which no worker has taken back yet. */
  running: number;
  dead: number;
  /** How long the longest-waiting due job has waited since its `runAt`; 0 when none is due. */
  oldestQueuedAgeMs: number;
}

export interface PruneResult {
  jobs: number;
  deliveries: number;
}

/**
 * The port. Every method is async and fails with a `KeywardenError`: `KW_QUEUE_INPUT_INVALID`
 * for an input `enqueue` refuses, `KW_QUEUE_LEASE_LOST` when `complete`/`fail` come from a
 * worker that no longer holds the job, `KW_QUEUE_CLOSED` after `close`, `KW_STORE_FAILED` when
 * the store fails (retryable when it was only busy).
 */
export interface JobQueue {
  readonly name: string;
  /** Atomic: the duplicate checks and the insert are one transaction. */
  enqueue(input: JobInput): Promise<EnqueueResult>;
  /** Leases the next due job to `workerId` for `leaseMs` and counts the attempt; undefined when none is due. */
  claim(options: ClaimOptions): Promise<Job | undefined>;
  /** Extends the lease; false when the worker no longer holds the job (stop working on it). */
  heartbeat(jobId: string, workerId: string, leaseMs: number): Promise<boolean>;
  complete(jobId: string, workerId: string): Promise<void>;
  fail(jobId: string, workerId: string, failure: JobFailure): Promise<FailResult>;
  get(jobId: string): Promise<JobRecord | undefined>;
  /** The dead-letter list: dead jobs with their last error, newest first (at most `limit`, default 100). */
  listDead(limit?: number): Promise<JobRecord[]>;
  /** Depth and age, for /metrics. */
  stats(): Promise<QueueStats>;
  /** Deletes delivery ids, done and dead jobs older than the retention period (also done now and then by `enqueue`). */
  prune(): Promise<PruneResult>;
  /** Resolves when the store answers, for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * Calls `fn` soon after any process enqueues a job (PostgreSQL: LISTEN/NOTIFY), so a worker in
   * another process wakes without waiting for its next poll. Absent where the store cannot tell
   * (SQLite: the worker in the same process is woken directly, others poll). Resolves to an
   * unsubscribe. Best effort: a lost notification costs one poll interval, nothing more.
   */
  subscribe?(fn: () => void): Promise<() => Promise<void>>;
}

// ---------------------------------------------------------------------------------------------
// Input checks, shared by every implementation
// ---------------------------------------------------------------------------------------------

const KIND = /^[A-Za-z0-9_.:-]{1,100}$/;
const MAX_DEPTH = 32;
const MAX_PROBLEMS = 20;

function jsonProblems(value: unknown, path: string, depth: number, ancestors: Set<object>, out: string[]): void {
  if (out.length >= MAX_PROBLEMS) return;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) out.push(`${path} is ${value}, which JSON cannot hold.`);
    return;
  }
  if (typeof value !== 'object') {
    out.push(`${path} is ${value === undefined ? 'undefined' : `a ${typeof value}`}, which JSON cannot hold.`);
    return;
  }
  if (depth > MAX_DEPTH) {
    out.push(`${path} is nested deeper than ${MAX_DEPTH} levels.`);
    return;
  }
  if (ancestors.has(value)) {
    out.push(`${path} refers back to itself.`);
    return;
  }
  ancestors.add(value);
  if (Array.isArray(value)) {
    value.forEach((v, i) => jsonProblems(v, `${path}[${i}]`, depth + 1, ancestors, out));
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      out.push(`${path} is a ${typeof name === 'string' && name ? name : 'class instance'}, not a plain object; pass its JSON form (a Date as toISOString()).`);
    } else {
      for (const [k, v] of Object.entries(value)) jsonProblems(v, `${path}.${k}`, depth + 1, ancestors, out);
    }
  }
  ancestors.delete(value);
}

function textProblem(name: string, value: unknown, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) return `${name} must be a string of 1 to ${max} characters.`;
  return undefined;
}

function intProblem(name: string, value: unknown, min: number, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) return `${name} must be a whole number from ${min} to ${max}.`;
  return undefined;
}

/**
 * Checks a job input and returns its payload as JSON; throws `KW_QUEUE_INPUT_INVALID` listing
 * every problem (in `details.problems`). Implementations call it before they open a transaction.
 * The message names paths and detector ids, never a payload value.
 *
 * @example
 * const payloadJson = assertJobInput({ kind: 'push', payload: { after: sha } });
 */
export function assertJobInput(input: JobInput, options: { maxPayloadBytes?: number } = {}): string {
  const max = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const problems: string[] = [];
  if (typeof input.kind !== 'string' || !KIND.test(input.kind)) problems.push('kind must be 1 to 100 letters, digits or _ . : -.');
  for (const p of [
    textProblem('dedupeKey', input.dedupeKey, 500),
    textProblem('deliveryId', input.deliveryId, 200),
    textProblem('group', input.group, 200),
    intProblem('maxAttempts', input.maxAttempts, 1, 100),
    intProblem('priority', input.priority, -1_000_000, 1_000_000),
  ]) {
    if (p) problems.push(p);
  }
  if (input.runAt !== undefined && !(input.runAt instanceof Date && Number.isFinite(input.runAt.getTime()))) problems.push('runAt must be a valid Date.');
  let json = '';
  const payload = input.payload as unknown;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    problems.push('payload must be a plain JSON object.');
  } else {
    const before = problems.length;
    jsonProblems(payload, 'payload', 0, new Set(), problems);
    if (problems.length === before) {
      json = JSON.stringify(payload);
      const bytes = Buffer.byteLength(json, 'utf8');
      if (bytes > max) {
        problems.push(`payload is ${bytes} bytes of JSON; the limit is ${max}. Enqueue ids and shas, and let the handler fetch the rest.`);
      } else {
        const found = [...new Set(scanText(json, { inlineAllow: false }).map((f) => f.ruleId))];
        if (found.length) problems.push(`payload holds what looks like a secret (${found.join(', ')}); enqueue an id or fingerprint the handler can look up instead.`);
      }
    }
  }
  if (problems.length) {
    throw new KeywardenError(ErrorCode.QUEUE_INPUT_INVALID, `The job was not enqueued: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`, {
      fault: 'internal',
      details: { problems, ...(typeof input.kind === 'string' && KIND.test(input.kind) ? { kind: input.kind } : {}) },
    });
  }
  return json;
}

const MAX_MESSAGE = 1000;

/** A failure as it may be stored: message masked (a detected secret becomes its preview) and cut to 1000 characters. */
export function sanitizeJobError<T extends JobError>(error: T): T {
  const message = maskFoundSecrets(String(error.message));
  return { ...error, code: String(error.code).slice(0, 100), message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}…` : message };
}

/** The retry delay an implementation applies: the failure's own, clamped, else `defaultBackoff(attempts)`. */
export function retryDelayMs(failure: JobFailure, attempts: number): number {
  const asked = failure.retryInMs;
  const ms = typeof asked === 'number' && Number.isFinite(asked) ? asked : defaultBackoff(attempts);
  return Math.min(MAX_RETRY_DELAY_MS, Math.max(0, Math.round(ms)));
}

// ---------------------------------------------------------------------------------------------
// Backoff
// ---------------------------------------------------------------------------------------------

export interface BackoffOptions {
  /** Default 1 s. */
  baseMs?: number;
  /** Default 5 min. */
  capMs?: number;
  /** Default Math.random. */
  random?: () => number;
}

/**
 * Exponential backoff with full jitter: after attempt n, wait a random time in
 * [0, min(cap, base · 2^(n-1))). Full jitter spreads the retries of jobs that failed together
 * (a GitHub outage) instead of sending them back in waves.
 *
 * @example
 * const backoff = exponentialBackoff({ baseMs: 500 });
 * backoff(3); // somewhere in [0, 2000)
 */
export function exponentialBackoff(options: BackoffOptions = {}): (attempt: number) => number {
  const base = options.baseMs ?? 1000;
  const cap = options.capMs ?? 5 * 60_000;
  const random = options.random ?? Math.random;
  return (attempt) => Math.floor(random() * Math.min(cap, base * 2 ** Math.min(Math.max(attempt, 1) - 1, 30)));
}

export const defaultBackoff = exponentialBackoff();

/**
 * The wait an error asks for: `details.retryAfterMs` of a `KeywardenError` (an adapter sets it from
 * GitHub's `retry-after` or `x-ratelimit-reset`). Undefined when absent.
 */
export function retryAfterOf(error: unknown): number | undefined {
  if (!(error instanceof KeywardenError)) return undefined;
  const ms = error.details?.retryAfterMs;
  return typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

// ---------------------------------------------------------------------------------------------
// The worker
// ---------------------------------------------------------------------------------------------

export interface JobContext {
  /** Aborted when the lease is lost (another worker may be running the job): stop, do not act. */
  signal: AbortSignal;
  /** Renews the lease now (the worker also does every leaseMs/3); throws `KW_QUEUE_LEASE_LOST` when lost. */
  heartbeat(): Promise<void>;
}

export type JobHandler = (job: Job, ctx: JobContext) => Promise<void>;

/** `lost`: the lease was lost, or the outcome could not be recorded; the job runs again elsewhere. */
export type JobOutcome = 'done' | 'retrying' | 'dead' | 'lost';

export interface JobWorkerOptions {
  queue: JobQueue;
  /** One handler per job kind; the worker claims only these kinds. */
  handlers: Readonly<Record<string, JobHandler>>;
  /** Default `<host>:<pid>:<random>`. */
  workerId?: string;
  /** Jobs run at once. Default 1. */
  concurrency?: number;
  /**
   * At most this many jobs of a kind at once, within `concurrency` (default: no limit of its
   * own). The App keeps its full scans to a few, so twenty of them cannot take the CPU from the
   * fast part of the next leaking push.
   */
  kindConcurrency?: Readonly<Record<string, number>>;
  /** At most this many running jobs of one `group` (an installation) over the whole store (`ClaimOptions.groupLimit`). */
  groupLimit?: number;
  /** Default 30 s; the lease is renewed every leaseMs/3. */
  leaseMs?: number;
  /** How often to look for due jobs when idle. Default 1 s; `wake()` skips the wait. */
  pollMs?: number;
  /** Delay after a failed attempt (1-based). Default `defaultBackoff`; a larger retry-after wins. */
  backoff?: (attempt: number) => number;
  /**
   * Attempts allowed for an error that is not a `KeywardenError` (it was not translated at an
   * adapter's edge, so whether a retry helps is unknown: a reset connection, or a bug). Default 3,
   * never more than the job's `maxAttempts`.
   */
  unknownErrorMaxAttempts?: number;
  logger?: Logger;
  onSettled?: (job: Job, outcome: JobOutcome, error?: unknown) => void;
}

export interface JobWorker {
  readonly id: string;
  start(): void;
  /** Graceful: stops claiming and resolves once the running jobs have settled. */
  stop(): Promise<void>;
  /** Resolves when this worker runs nothing and its last look found no due job of its kinds (for tests). */
  idle(): Promise<void>;
  /** Look for a due job now instead of after the poll wait (call it after `enqueue`). */
  wake(): void;
}

const noop = (): void => undefined;
const silent: Logger = { debug: noop, info: noop, warn: noop, error: noop };

function leaseLost(job: Job): KeywardenError {
  return new KeywardenError(ErrorCode.QUEUE_LEASE_LOST, `The lease on job ${job.id} (${job.kind}) was lost; another worker may run it. Stop without acting.`, {
    fault: 'backend',
    details: { jobId: job.id, kind: job.kind },
  });
}

/**
 * Runs jobs from any `JobQueue`. A handler's error decides the outcome: a `KeywardenError` with
 * `retryable` is retried (after `max(backoff(attempt), retryAfterOf(error))`) until the job's
 * `maxAttempts`; one without is dead at once; any other error is retried up to
 * `unknownErrorMaxAttempts` and recorded as `KW_INTERNAL`. While a handler runs, its lease is
 * renewed every leaseMs/3, so a long job is not taken over.
 *
 * @example
 * const worker = createWorker({ queue, handlers: { push: handlePush }, concurrency: 2, logger });
 * worker.start();
 * process.once('SIGTERM', () => void worker.stop().then(() => queue.close()));
 */
export function createWorker(options: JobWorkerOptions): JobWorker {
  const { queue, handlers } = options;
  const id = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? 1));
  const leaseMs = Math.max(30, Math.floor(options.leaseMs ?? 30_000));
  const pollMs = Math.max(1, options.pollMs ?? 1000);
  const backoff = options.backoff ?? defaultBackoff;
  const unknownMax = Math.max(1, options.unknownErrorMaxAttempts ?? 3);
  const log = options.logger ?? silent;
  const kinds = Object.keys(handlers);
  const kindLimit = options.kindConcurrency ?? {};
  const runningByKind = new Map<string, number>();
  const claimable = (): string[] => kinds.filter((k) => (runningByKind.get(k) ?? 0) < Math.max(1, kindLimit[k] ?? Infinity));

  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let loop: Promise<void> | undefined;
  let woken = false;
  let wakeSleep: (() => void) | undefined;
  let idleWaiters: (() => void)[] = [];
  const running = new Set<Promise<void>>();

  const wake = (): void => {
    woken = true;
    wakeSleep?.();
  };

  const sleep = (): Promise<void> =>
    new Promise((resolve) => {
      if (woken || state !== 'running') return resolve();
      const timer = setTimeout(done, pollMs);
      function done(): void {
        clearTimeout(timer);
        wakeSleep = undefined;
        resolve();
      }
      wakeSleep = done;
    });

  const settle = (job: Job, outcome: JobOutcome, error?: unknown): void => {
    try {
      options.onSettled?.(job, outcome, error);
    } catch (e) {
      log.error('job onSettled callback threw', { jobId: job.id, error: e instanceof Error ? e.message : String(e) });
    }
  };

  const toFailure = (job: Job, e: unknown): JobFailure => {
    if (e instanceof KeywardenError) {
      const retryInMs = Math.max(backoff(job.attempts), retryAfterOf(e) ?? 0);
      return sanitizeJobError({ code: e.code, message: e.message, retryable: e.retryable, retryInMs });
    }
    const message = e instanceof Error ? `${e.name}: ${e.message}` : `A non-error was thrown: ${String(e)}`;
    return sanitizeJobError({ code: ErrorCode.INTERNAL, message, retryable: job.attempts < unknownMax, retryInMs: backoff(job.attempts) });
  };

  async function run(job: Job): Promise<void> {
    const fields = { jobId: job.id, kind: job.kind, attempt: job.attempts, workerId: id };
    const controller = new AbortController();
    let lost = false;
    const markLost = (): void => {
      if (lost) return;
      lost = true;
      controller.abort(leaseLost(job));
    };
    const renew = async (): Promise<void> => {
      if (lost) throw leaseLost(job);
      if (!(await queue.heartbeat(job.id, id, leaseMs))) {
        markLost();
        throw leaseLost(job);
      }
    };
    let timer: NodeJS.Timeout | undefined;
    let finished = false;
    const schedule = (): void => {
      timer = setTimeout(() => {
        renew()
          .catch((e: unknown) => {
            // A busy store is not a lost lease: keep the job and try again at the next beat.
            if (!lost) log.warn('job heartbeat failed', { ...fields, error: e instanceof Error ? e.message : String(e) });
          })
          .finally(() => {
            if (!finished && !lost) schedule();
          });
      }, Math.max(10, Math.floor(leaseMs / 3)));
    };
    schedule();

    let error: unknown;
    let ok = false;
    try {
      const handler = handlers[job.kind];
      if (!handler) throw new KeywardenError(ErrorCode.INTERNAL, `No handler for job kind "${job.kind}".`, { fault: 'internal' });
      log.debug('job started', fields);
      await handler(job, { signal: controller.signal, heartbeat: renew });
      ok = true;
    } catch (e) {
      error = e;
    } finally {
      finished = true;
      clearTimeout(timer);
    }

    if (lost) {
      log.warn('job lease lost; not recording its outcome', fields);
      return settle(job, 'lost', error ?? leaseLost(job));
    }
    try {
      if (ok) {
        await queue.complete(job.id, id);
        log.info('job done', fields);
        return settle(job, 'done');
      }
      const failure = toFailure(job, error);
      const result = await queue.fail(job.id, id, failure);
      const out = { ...fields, code: failure.code, error: failure.message };
      if (result.state === 'retrying') {
        log.warn('job failed; retrying', { ...out, runAt: result.runAt.toISOString() });
      } else {
        log.error('job failed; dead', out);
      }
      return settle(job, result.state, error);
    } catch (e) {
      // Could not record the outcome (lease lost meanwhile, or the store failed): the lease will
      // expire and the job runs again, which handlers are written to survive.
      log.error('job outcome not recorded', { ...fields, error: e instanceof Error ? e.message : String(e) });
      return settle(job, 'lost', e);
    }
  }

  async function pump(): Promise<void> {
    while (state === 'running') {
      woken = false;
      const watching = idleWaiters;
      idleWaiters = [];
      let empty = false;
      while (state === 'running' && running.size < concurrency) {
        const open = claimable();
        if (!open.length) break;
        let job: Job | undefined;
        try {
          job = await queue.claim({ workerId: id, leaseMs, kinds: open, ...(options.groupLimit ? { groupLimit: options.groupLimit } : {}) });
        } catch (e) {
          log.error('job claim failed', { workerId: id, error: e instanceof Error ? e.message : String(e) });
          break;
        }
        if (!job) {
          // Nothing due of the kinds asked for. Idle only if that was every kind: a kind left out
          // for being at its limit may have a job due, and its running job may end meanwhile.
          empty = open.length === kinds.length;
          if (!empty && running.size === 0) continue;
          break;
        }
        const kind = job.kind;
        runningByKind.set(kind, (runningByKind.get(kind) ?? 0) + 1);
        const p = run(job).finally(() => {
          running.delete(p);
          runningByKind.set(kind, (runningByKind.get(kind) ?? 1) - 1);
          wake();
        });
        running.add(p);
      }
      if (empty && running.size === 0) {
        for (const w of watching) w();
      } else {
        idleWaiters.push(...watching);
      }
      await sleep();
    }
  }

  return {
    id,
    start() {
      if (state !== 'new') return;
      state = 'running';
      loop = pump();
    },
    async stop() {
      if (state === 'new') state = 'stopped';
      if (state === 'stopped') return;
      state = 'stopping';
      wake();
      await loop;
      while (running.size) await Promise.allSettled([...running]);
      state = 'stopped';
      for (const w of idleWaiters.splice(0)) w();
    },
    idle() {
      if (state !== 'running') return Promise.resolve();
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        wake();
      });
    },
    wake,
  };
}
