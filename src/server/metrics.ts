/**
 * The App's Prometheus metrics, all named `keywarden_…`, on one registry.
 *
 * Labels are low-cardinality by construction: outcomes and action types are closed unions, a
 * finding's kind is its built-in detector type or `custom` (a repository's own detector must not
 * mint series), and the webhook route labels a delivery whose signature did not verify as
 * `unverified` (the event header of an unsigned request is the sender's to choose).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { StepKind } from '../pipeline/types.js';
import { builtinTypes } from '../scan/detectors/index.js';

export const DELIVERY_OUTCOMES = [
  'queued',
  'duplicate',
  'ignored',
  'rejected_signature',
  'rejected_size',
  'rejected_headers',
  'error',
] as const;
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number];

/** The pipeline's steps plus what the App does on GitHub. */
export type MetricActionType = StepKind | 'pull_request' | 'check_run' | 'issue' | 'notify';
export type MetricActionOutcome = 'done' | 'failed' | 'skipped';
export type MetricJobOutcome = 'done' | 'failed' | 'retried' | 'dead';

/** What the queue reports on each scrape. */
export interface QueueStats {
  queued: number;
  oldestQueuedAgeMs: number;
  running: number;
  dead: number;
}

export interface CreateMetricsOptions {
  /** Default: a new registry (so tests and several apps in one process do not collide). */
  registry?: Registry;
  /** Read on every scrape for the queue gauges. Without it the gauges have no samples. */
  queueStats?: () => Promise<QueueStats>;
  /** Register prom-client's process metrics under `keywarden_`. Default true. */
  defaultMetrics?: boolean;
  /** The intake's spool (PostgreSQL away): read on every scrape. */
  spoolStats?: () => { spooled: number; replayed: number; dropped: number; pending: number };
}

interface LabelledCounter<L> {
  inc(labels: L, value?: number): void;
}
interface LabelledHistogram<L> {
  observe(labels: L, seconds: number): void;
}
interface PlainHistogram {
  observe(seconds: number): void;
}

export interface KeywardenMetrics {
  registry: Registry;
  webhookDeliveries: LabelledCounter<{ event: string; outcome: DeliveryOutcome }>;
  /** Request received → answer sent, for deliveries whose signature verified. */
  webhookAckSeconds: PlainHistogram;
  /** `kind` is normalised: a type the built-in catalogue does not know counts as `custom`. */
  findings: LabelledCounter<{ kind: string }>;
  actions: LabelledCounter<{ type: MetricActionType; outcome: MetricActionOutcome }>;
  jobs: LabelledCounter<{ kind: string; outcome: MetricJobOutcome }>;
  jobDurationSeconds: LabelledHistogram<{ kind: string }>;
  /** Delivery received → credential disabled: the number that says how long a leak stays live. */
  webhookToActionSeconds: PlainHistogram;
}

const ACK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const LEAK_BUCKETS = [0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600];

/**
 * @example
 * const metrics = createMetrics({ queueStats: () => queue.stats() });
 * metrics.findings.inc({ kind: finding.type });
 * const text = await metrics.registry.metrics();
 */
export function createMetrics(options: CreateMetricsOptions = {}): KeywardenMetrics {
  const registry = options.registry ?? new Registry();
  const registers = [registry];
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'keywarden_' });

  const knownKinds = new Set(builtinTypes());
  const findings = new Counter({
    name: 'keywarden_findings_total',
    help: 'Secrets found, by credential kind.',
    labelNames: ['kind'] as const,
    registers,
  });
  const queueStats = options.queueStats;
  // One read of the queue per scrape, shared by both gauges (a scrape collects all metrics at once).
  let pending: Promise<QueueStats | undefined> | undefined;
  const readQueue = (): Promise<QueueStats | undefined> => {
    pending ??= (queueStats ? queueStats().catch(() => undefined) : Promise.resolve(undefined)).finally(() => {
      pending = undefined;
    });
    return pending;
  };
  new Gauge({
    name: 'keywarden_queue_depth',
    help: 'Jobs in the queue, by state (NaN when the queue could not be read).',
    labelNames: ['state'] as const,
    registers,
    async collect() {
      if (!queueStats) return;
      const s = await readQueue();
      this.set({ state: 'queued' }, s ? s.queued : NaN);
      this.set({ state: 'running' }, s ? s.running : NaN);
      this.set({ state: 'dead' }, s ? s.dead : NaN);
    },
  });
  if (options.spoolStats) {
    const spool = options.spoolStats;
    new Gauge({
      name: 'keywarden_spool_deliveries',
      help: 'Deliveries spooled to disk while the database was away, by what became of them since start (pending: waiting now).',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const s = spool();
        this.set({ state: 'spooled' }, s.spooled);
        this.set({ state: 'replayed' }, s.replayed);
        this.set({ state: 'dropped' }, s.dropped);
        this.set({ state: 'pending' }, s.pending);
      },
    });
  }
  new Gauge({
    name: 'keywarden_queue_oldest_age_seconds',
    help: 'Age of the oldest queued job (NaN when the queue could not be read).',
    registers,
    async collect() {
      if (!queueStats) return;
      const s = await readQueue();
      this.set(s ? s.oldestQueuedAgeMs / 1000 : NaN);
    },
  });

  return {
    registry,
    webhookDeliveries: new Counter({
      name: 'keywarden_webhook_deliveries_total',
      help: 'Webhook deliveries, by event and outcome.',
      labelNames: ['event', 'outcome'] as const,
      registers,
    }),
    webhookAckSeconds: new Histogram({
      name: 'keywarden_webhook_ack_seconds',
      help: 'Time from a verified delivery arriving to its answer.',
      buckets: ACK_BUCKETS,
      registers,
    }),
    findings: {
      inc: (labels, value) => findings.inc({ kind: knownKinds.has(labels.kind) ? labels.kind : 'custom' }, value),
    },
    actions: new Counter({
      name: 'keywarden_actions_total',
      help: 'Remediation actions, by type and outcome.',
      labelNames: ['type', 'outcome'] as const,
      registers,
    }),
    jobs: new Counter({
      name: 'keywarden_jobs_total',
      help: 'Queued jobs finished, by kind and outcome.',
      labelNames: ['kind', 'outcome'] as const,
      registers,
    }),
    jobDurationSeconds: new Histogram({
      name: 'keywarden_job_duration_seconds',
      help: 'Job run time, by kind.',
      labelNames: ['kind'] as const,
      buckets: JOB_BUCKETS,
      registers,
    }),
    webhookToActionSeconds: new Histogram({
      name: 'keywarden_webhook_to_action_seconds',
      help: 'Time from a webhook delivery arriving to the leaked credential being disabled.',
      buckets: LEAK_BUCKETS,
      registers,
    }),
  };
}
