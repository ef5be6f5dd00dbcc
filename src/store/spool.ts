/**
 * The intake's safety net for a database that is away (a restart, a failover): GitHub does not
 * redeliver on its own, so a delivery that was verified but could not be queued would be lost.
 * `SpoolingQueue` wraps the PostgreSQL queue: when `enqueue` fails because the store cannot be
 * reached (a retryable `KW_STORE_FAILED`), the job input is appended to a local spool file and
 * fsynced **before** `enqueue` resolves (so before the webhook's 2xx), and replayed into the queue
 * once the database answers again. Replay is idempotent: a spooled delivery that did reach the
 * queue after all (or was redelivered meanwhile) is a duplicate by its delivery id.
 *
 * - One spool file per process (`<dir>/<host>-<pid>-<random>.jsonl`, mode 0600 in a 0700 folder).
 *   A replay first renames the file it replays (`….replaying`), atomically, so a replica that
 *   crashed with a spool left behind is replayed by whichever process on the same state folder
 *   gets to it first, and never by two.
 * - A line that does not parse (a torn write at a crash) is counted and dropped, not retried.
 * - What is spooled is a job input that `assertJobInput` accepted: ids, shas, names — never a
 *   secret.
 *
 * @example
 * const queue = new SpoolingQueue(pgQueue, { dir: path.join(stateDir, 'spool'), logger });
 * // /readyz stays ready while the database is away, as long as the spool is writable.
 */
import { randomUUID } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { ErrorCode, isKeywardenError, KeywardenError } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { assertJobInput, type ClaimOptions, type EnqueueResult, type FailResult, type Job, type JobFailure, type JobInput, type JobQueue, type JobRecord, type PruneResult, type QueueStats } from './queue.js';
import { ensureStateDir } from './state-dir.js';

export interface SpoolStats {
  /** Deliveries written to the spool since start. */
  spooled: number;
  /** Spooled inputs put into the queue since start (duplicates included). */
  replayed: number;
  /** Lines that could not be read back (a torn write), dropped. */
  dropped: number;
  /** Inputs waiting in this process's spool now. */
  pending: number;
}

export interface SpoolingQueueOptions {
  dir: string;
  logger?: Logger;
  /** How often a replay is tried while something is spooled. Default 1 s. */
  replayEveryMs?: number;
}

interface Spooled {
  v: 1;
  input: Omit<JobInput, 'runAt'> & { runAt?: string };
}

const isStoreDown = (e: unknown): boolean => isKeywardenError(e) && e.code === ErrorCode.STORE_FAILED && e.retryable;

export class SpoolingQueue implements JobQueue {
  readonly name: string;
  private readonly file: string;
  private readonly counts = { spooled: 0, replayed: 0, dropped: 0, pending: 0 };
  private timer: NodeJS.Timeout | undefined;
  private replaying: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly inner: JobQueue,
    private readonly options: SpoolingQueueOptions,
  ) {
    this.name = inner.name;
    ensureStateDir(options.dir);
    this.file = path.join(options.dir, `${hostname().replace(/[^A-Za-z0-9.-]/g, '_')}-${process.pid}-${randomUUID().slice(0, 8)}.jsonl`);
    // Spools left by a process that died: replay them once the store answers.
    if (this.spoolFiles().length) this.schedule();
  }

  spoolStats(): SpoolStats {
    return { ...this.counts };
  }

  private spoolFiles(): string[] {
    try {
      return readdirSync(this.options.dir)
        .filter((n) => n.endsWith('.jsonl'))
        .map((n) => path.join(this.options.dir, n));
    } catch {
      return [];
    }
  }

  private append(input: JobInput): void {
    const { runAt, ...rest } = input;
    const line: Spooled = { v: 1, input: { ...rest, ...(runAt ? { runAt: runAt.toISOString() } : {}) } };
    const fd = openSync(this.file, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(line)}\n`);
      // On disk before the webhook is answered.
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    this.counts.spooled++;
    this.counts.pending++;
  }

  async enqueue(input: JobInput): Promise<EnqueueResult> {
    try {
      return await this.inner.enqueue(input);
    } catch (e) {
      if (!isStoreDown(e) || this.closed) throw e;
      // Validated as the queue would (it may have failed before it looked): nothing secret is spooled.
      assertJobInput(input);
      try {
        this.append(input);
      } catch (w) {
        throw new KeywardenError(ErrorCode.STORE_FAILED, 'The database is unreachable and the delivery could not be spooled to disk either.', { fault: 'backend', retryable: true, cause: w });
      }
      this.options.logger?.warn('database unreachable: delivery spooled to disk', { kind: input.kind, spool: path.basename(this.file), pending: this.counts.pending });
      this.schedule();
      return { id: `spooled:${randomUUID()}`, duplicate: false };
    }
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.replay();
    }, this.options.replayEveryMs ?? 1000);
    this.timer.unref();
  }

  /** Puts every spooled input into the queue; what cannot be put yet stays for the next try. */
  replay(): Promise<void> {
    this.replaying ??= this.replayAll().finally(() => {
      this.replaying = undefined;
    });
    return this.replaying;
  }

  private async replayAll(): Promise<void> {
    try {
      await this.inner.ping();
    } catch {
      this.schedule();
      return;
    }
    for (const file of this.spoolFiles()) {
      const claimed = `${file.slice(0, -'.jsonl'.length)}.${process.pid}.replaying`;
      try {
        renameSync(file, claimed);
      } catch {
        continue; // another process took it, or it is gone
      }
      const lines = readFileSync(claimed, 'utf8').split('\n').filter(Boolean);
      const own = file === this.file;
      let i = 0;
      try {
        for (; i < lines.length; i++) {
          let entry: Spooled;
          try {
            entry = JSON.parse(lines[i]!) as Spooled;
            if (entry.v !== 1 || typeof entry.input?.kind !== 'string') throw new Error('not a spool entry');
          } catch {
            this.counts.dropped++;
            continue;
          }
          const { runAt, ...rest } = entry.input;
          await this.inner.enqueue({ ...rest, ...(runAt ? { runAt: new Date(runAt) } : {}) });
          this.counts.replayed++;
          if (own) this.counts.pending = Math.max(0, this.counts.pending - 1);
        }
        rmSync(claimed, { force: true });
      } catch (e) {
        // The store went away again: keep what is left, under a spool name, for the next try.
        const rest = lines.slice(i);
        const back = path.join(this.options.dir, `${path.basename(claimed, '.replaying')}-rest-${randomUUID().slice(0, 8)}.jsonl`);
        const fd = openSync(back, 'a', 0o600);
        try {
          writeSync(fd, rest.map((l) => `${l}\n`).join(''));
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        rmSync(claimed, { force: true });
        this.options.logger?.warn('spool replay interrupted; will retry', { left: rest.length, error: isKeywardenError(e) ? e.code : 'unknown' });
        this.schedule();
        return;
      }
    }
    // Replays of files claimed by a process that then died are picked up here too.
    for (const n of readdirSync(this.options.dir).filter((f) => f.endsWith('.replaying'))) {
      const pid = Number(/\.(\d+)\.replaying$/.exec(n)?.[1]);
      if (!Number.isInteger(pid) || pid === process.pid || alive(pid)) continue;
      try {
        renameSync(path.join(this.options.dir, n), path.join(this.options.dir, `${n.slice(0, -'.replaying'.length)}-orphan.jsonl`));
        this.schedule();
      } catch {
        // taken by someone else
      }
    }
    if (this.counts.replayed > 0) this.options.logger?.info('spooled deliveries replayed into the queue', { replayed: this.counts.replayed, dropped: this.counts.dropped });
  }

  /** The queue's own wake-ups (LISTEN/NOTIFY); a queue without them never calls `fn`. */
  async subscribe(fn: () => void): Promise<() => Promise<void>> {
    return this.inner.subscribe ? this.inner.subscribe(fn) : async () => {};
  }

  // Everything else is the queue's own.
  claim(options: ClaimOptions): Promise<Job | undefined> {
    return this.inner.claim(options);
  }
  heartbeat(jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
    return this.inner.heartbeat(jobId, workerId, leaseMs);
  }
  complete(jobId: string, workerId: string): Promise<void> {
    return this.inner.complete(jobId, workerId);
  }
  fail(jobId: string, workerId: string, failure: JobFailure): Promise<FailResult> {
    return this.inner.fail(jobId, workerId, failure);
  }
  get(jobId: string): Promise<JobRecord | undefined> {
    return this.inner.get(jobId);
  }
  listDead(limit?: number): Promise<JobRecord[]> {
    return this.inner.listDead(limit);
  }
  stats(): Promise<QueueStats> {
    return this.inner.stats();
  }
  prune(): Promise<PruneResult> {
    return this.inner.prune();
  }
  /** Ready while the database answers, and also while it does not but deliveries can be spooled. */
  async ping(): Promise<void> {
    try {
      await this.inner.ping();
    } catch (e) {
      if (!isStoreDown(e)) throw e;
      ensureStateDir(this.options.dir);
    }
  }
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.replaying?.catch(() => undefined);
    await this.inner.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
