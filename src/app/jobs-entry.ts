/**
 * The App's job side on its own: the `worker` role of `composeApp`, started by `startApp` as a
 * child process (the default) or a worker thread. Intake (the webhook answer, health, metrics)
 * stays in the parent, so no job's work — scanning, policy evaluation, and above all starting
 * git children, each a fork of the whole process that stalls every thread of it — delays the
 * acknowledgement of a delivery. Both sides share the durable queue (SQLite WAL); the parent wakes
 * this side when it queues a job, and this side sends its metrics back.
 *
 * A child process exits as soon as its parent is gone (the IPC channel closes): its leased jobs
 * return to the queue when the leases expire, and the next start takes them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { composeApp, type AppSettings, type JobMetrics } from '../compose-app.js';
import { createAppLogger } from '../server/logger.js';

/** What `startApp` gives the job side (structured-clone data only). */
export interface JobsData {
  settings: AppSettings;
  env: NodeJS.ProcessEnv;
  /** Where log lines go: the process's stdout (default) or stderr. */
  logTo?: 'stdout' | 'stderr';
  logLevel?: string;
  worker?: { pollMs?: number; leaseMs?: number; backoffMs?: number };
}

/** Messages between the two sides. */
export type ToJobs = { type: 'init'; data: JobsData } | { type: 'wake' } | { type: 'stop'; graceMs: number };
export type FromJobs =
  | { type: 'ready' }
  | { type: 'stopped' }
  | { type: 'failed'; message: string }
  | { type: 'metric'; name: 'findings' | 'actions' | 'jobs'; labels: Record<string, string> }
  | { type: 'metric'; name: 'jobDurationSeconds'; labels: Record<string, string>; value: number }
  | { type: 'metric'; name: 'webhookToActionSeconds'; value: number };

interface Channel {
  post(m: FromJobs): void;
  onMessage(fn: (m: ToJobs) => void): void;
  close(): void;
}

async function run(channel: Channel, data: JobsData): Promise<void> {
  const { post } = channel;
  const jobMetrics: JobMetrics = {
    findings: { inc: (labels) => post({ type: 'metric', name: 'findings', labels }) },
    actions: { inc: (labels) => post({ type: 'metric', name: 'actions', labels }) },
    jobs: { inc: (labels) => post({ type: 'metric', name: 'jobs', labels }) },
    jobDurationSeconds: { observe: (labels, value) => post({ type: 'metric', name: 'jobDurationSeconds', labels, value }) },
    webhookToActionSeconds: { observe: (value) => post({ type: 'metric', name: 'webhookToActionSeconds', value }) },
  };
  // Straight to the file descriptor (synchronous writes work from any thread or process).
  const logger = createAppLogger({ level: data.logLevel ?? data.settings.logLevel, destination: pino.destination(data.logTo === 'stderr' ? 2 : 1) });
  const backoffMs = data.worker?.backoffMs;
  const app = await composeApp(data.settings, {
    env: data.env,
    role: 'worker',
    logger,
    jobMetrics,
    worker: {
      ...(data.worker?.pollMs !== undefined ? { pollMs: data.worker.pollMs } : {}),
      ...(data.worker?.leaseMs !== undefined ? { leaseMs: data.worker.leaseMs } : {}),
      ...(backoffMs !== undefined ? { backoff: () => backoffMs } : {}),
    },
  });
  await app.start();
  channel.onMessage((m) => {
    if (m.type === 'wake') app.worker.wake();
    else if (m.type === 'stop') {
      void app.close(m.graceMs).finally(() => {
        post({ type: 'stopped' });
        channel.close();
      });
    }
  });
  post({ type: 'ready' });
}

if (parentPort) {
  const port = parentPort;
  await run({ post: (m) => port.postMessage(m), onMessage: (fn) => port.on('message', fn), close: () => port.close() }, workerData as JobsData);
} else if (process.send) {
  const send = process.send.bind(process);
  const channel: Channel = {
    post: (m) => void send(m),
    onMessage: (fn) => process.on('message', (m: ToJobs) => fn(m)),
    close: () => process.exit(0),
  };
  // The parent gone (killed, crashed): stop at once, as it did.
  process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  process.once('message', (m: ToJobs) => {
    if (m.type !== 'init') return;
    run(channel, m.data).catch((e: unknown) => {
      send({ type: 'failed', message: e instanceof Error ? e.message : String(e) } satisfies FromJobs);
      process.exitCode = 1;
      setTimeout(() => process.exit(1), 100).unref();
    });
  });
  // SIGTERM/SIGINT go to the whole process group: the parent decides when this side stops.
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
}
