/**
 * The App's composition root: settings from the environment → Probot (installation auth, Octokit
 * with retry and throttling), the durable job queue, the step store, the job workers, the Hono
 * server, metrics and the redacting logger. `npm start` and `keywarden app` call
 * `appSettingsFromEnv` and `composeApp`; the tests call `composeApp` with a GitHub fake's URL.
 *
 * No insecure default: without a webhook secret (or with a short one) nothing starts.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { Logger as PinoLogger } from 'pino';
import type { BackendSettings } from './backends/open-backend.js';
import { ErrorCode, KeywardenError } from './errors.js';
import { createJobHandlers, createKeywardenApp, DeliveryOutcomes, installationGroup } from './app/index.js';
import { closeFallbackAudit, type AppServices } from './app/services.js';
import { crashHook } from './pipeline/crash-hook.js';
import type { JobHandler, JobQueue, JobWorker } from './store/queue.js';
import type { KeywardenMetrics, MetricActionOutcome, MetricActionType, MetricJobOutcome } from './server/metrics.js';
import type { StartServerResult } from './server/start-server.js';

export interface AppSettings {
  appId: string;
  privateKey: string;
  /** `[current, previous?]`. */
  webhookSecrets: string[];
  /** The REST API: `https://api.github.com` (default) or a GHES `https://host/api/v3`. */
  apiUrl: string;
  /** Where repositories are cloned from; default from `apiUrl` (`https://github.com`, or the GHES host). */
  gitUrl: string;
  /** Where people look, for links. */
  webUrl: string;
  host: string;
  port: number;
  stateDir: string;
  backend: BackendSettings;
  /** Jobs run at once in this process. */
  concurrency: number;
  /**
   * Of those, full scans (a push's git range, a repository's first scan) at once; default the
   * number of cores, at least 2. The fast part of a push (the compare, the revocation) waits on
   * GitHub, not the CPU, and keeps the rest.
   */
  scanConcurrency?: number;
  /**
   * Jobs of one installation running at once over every worker on the store
   * (`KEYWARDEN_APP_INSTALLATION_CONCURRENCY`, default 8): one busy org cannot take every worker.
   */
  installationConcurrency?: number;
  logLevel: string;
  /** `KEYWARDEN_DATABASE_URL`: the queue, step and idempotency records in PostgreSQL; absent, SQLite in `stateDir`. */
  databaseUrl?: string;
  /** `KEYWARDEN_DATABASE_POOL`: connections per process on PostgreSQL (default 10). */
  databasePool?: number;
}

function configError(message: string, hint?: string): KeywardenError {
  return new KeywardenError(ErrorCode.APP_CONFIG_INVALID, message, { fault: 'config', ...(hint ? { hint } : {}) });
}

/** The App's settings from the environment (`APP_ID`, `PRIVATE_KEY` or `PRIVATE_KEY_PATH`, `WEBHOOK_SECRET`, …). */
export function appSettingsFromEnv(env: NodeJS.ProcessEnv, cwd = process.cwd(), options: { role?: AppRole } = {}): AppSettings {
  const appId = env.APP_ID?.trim();
  if (!appId || !/^\d+$/.test(appId)) throw configError('APP_ID must be set to the GitHub App id (a number).', 'It is on the App\'s settings page.');
  let privateKey = env.PRIVATE_KEY?.replace(/\\n/g, '\n');
  if (!privateKey && env.PRIVATE_KEY_PATH) {
    try {
      privateKey = readFileSync(path.resolve(cwd, env.PRIVATE_KEY_PATH), 'utf8');
    } catch {
      throw configError(`PRIVATE_KEY_PATH names a file that cannot be read (${env.PRIVATE_KEY_PATH}).`);
    }
  }
  if (!privateKey || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey)) {
    throw configError('PRIVATE_KEY (the PEM text) or PRIVATE_KEY_PATH (its file) must give the App\'s private key.', 'Generate one on the App\'s settings page.');
  }
  const secrets = [env.WEBHOOK_SECRET, env.WEBHOOK_SECRET_PREVIOUS].filter((s): s is string => typeof s === 'string' && s.length > 0);
  // A worker takes no webhook: it needs no secret (and is given none it could leak).
  if (!secrets.length && options.role !== 'worker') throw configError('WEBHOOK_SECRET must be set: Keywarden does not accept unsigned webhooks.', 'Set it to the webhook secret in the App\'s settings.');
  const apiUrl = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const web = apiUrl === 'https://api.github.com' ? 'https://github.com' : apiUrl.replace(/\/api\/v3$/, '');
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw configError('PORT must be a port number.');
  return {
    appId,
    privateKey,
    webhookSecrets: secrets,
    apiUrl,
    gitUrl: (env.KEYWARDEN_GIT_URL || web).replace(/\/+$/, ''),
    webUrl: (env.KEYWARDEN_WEB_URL || web).replace(/\/+$/, ''),
    host: env.HOST || '0.0.0.0',
    port,
    stateDir: path.resolve(cwd, env.KEYWARDEN_STATE_DIR || '.keywarden'),
    backend: {},
    concurrency: Math.max(1, Number(env.KEYWARDEN_APP_CONCURRENCY ?? 16) || 16),
    ...(env.KEYWARDEN_APP_SCAN_CONCURRENCY ? { scanConcurrency: Math.max(1, Number(env.KEYWARDEN_APP_SCAN_CONCURRENCY) || 1) } : {}),
    ...(env.KEYWARDEN_APP_INSTALLATION_CONCURRENCY ? { installationConcurrency: Math.max(1, Number(env.KEYWARDEN_APP_INSTALLATION_CONCURRENCY) || 1) } : {}),
    logLevel: env.LOG_LEVEL || 'info',
    ...databaseSettings(env),
  };
}

function databaseSettings(env: NodeJS.ProcessEnv): Pick<AppSettings, 'databaseUrl' | 'databasePool'> {
  const url = env.KEYWARDEN_DATABASE_URL?.trim();
  if (!url) return {};
  if (!/^postgres(ql)?:\/\/[^\s]+$/i.test(url)) throw configError('KEYWARDEN_DATABASE_URL must be a postgres:// URL.', 'For example postgres://keywarden@db.internal:5432/keywarden; leave it unset to keep SQLite in the state folder.');
  const pool = env.KEYWARDEN_DATABASE_POOL ? Number(env.KEYWARDEN_DATABASE_POOL) : undefined;
  if (pool !== undefined && (!Number.isInteger(pool) || pool < 1 || pool > 200)) throw configError('KEYWARDEN_DATABASE_POOL must be a whole number from 1 to 200.');
  return { databaseUrl: url, ...(pool !== undefined ? { databasePool: pool } : {}) };
}

/**
 * Which part of the App this composition runs. `all`: intake and jobs on one event loop (the
 * tests' default). `serve`: intake only (webhooks, health, readiness, metrics); the jobs run
 * elsewhere — a jobs thread (`startApp`) or `keywarden worker` processes on the same store.
 * `worker`: the jobs only, no server.
 */
export type AppRole = 'all' | 'serve' | 'worker';

/** The metrics the job side records (a `KeywardenMetrics` is one; a jobs thread forwards them). */
export interface JobMetrics {
  findings: { inc(labels: { kind: string }): void };
  actions: { inc(labels: { type: MetricActionType; outcome: MetricActionOutcome }): void };
  jobs: { inc(labels: { kind: string; outcome: MetricJobOutcome }): void };
  jobDurationSeconds: { observe(labels: { kind: string }, seconds: number): void };
  webhookToActionSeconds: { observe(seconds: number): void };
}

export interface ComposeAppOptions {
  env: NodeJS.ProcessEnv;
  /** Default `all`. */
  role?: AppRole;
  /** `serve`: called once a delivery is queued (a jobs thread's wake). */
  onQueued?: () => void;
  /** `worker`: where the job side's metrics go (default: this composition's own registry). */
  jobMetrics?: JobMetrics;
  logger?: PinoLogger;
  clock?: () => Date;
  /** Worker settings (tests make them quick). */
  worker?: { pollMs?: number; leaseMs?: number; backoff?: (attempt: number) => number };
  /** Octokit throttling: how many times a rate-limited request is retried (default 2). */
  rateLimitRetries?: number;
  /** GitHub's compare caps, when a test server has lower ones. */
  compareLimits?: { files: number; commits: number };
  /** Start the worker (default true). */
  work?: boolean;
}

/** The job kinds the App handles (what intake queues; the rest is acknowledged and ignored). */
export const APP_JOB_KINDS = ['push', 'push_scan', 'pull_request', 'check_action', 'comment', 'secret_alert', 'repo_scan', 'drift'] as const;

export interface ComposedApp {
  settings: AppSettings;
  logger: PinoLogger;
  queue: JobQueue;
  worker: JobWorker;
  metrics: KeywardenMetrics;
  services: AppServices;
  /** The Hono app (for `app.request()` in tests). */
  http: import('hono').Hono;
  /** Listens on `settings.host:settings.port` and starts the worker. */
  start(): Promise<StartServerResult>;
  /** Stops the server and the worker (running jobs finish, up to `graceMs`), closes the stores. */
  close(graceMs?: number): Promise<void>;
}

export async function composeApp(settings: AppSettings, options: ComposeAppOptions): Promise<ComposedApp> {
  const clock = options.clock ?? (() => new Date());
  const [{ default: Bottleneck }, { Probot, ProbotOctokit }, { createAppLogger }, { createMetrics }, { createServer }, { startServer }, { openAppStores }, { createWorker }] = await Promise.all([
    import('bottleneck'),
    import('probot'),
    import('./server/logger.js'),
    import('./server/metrics.js'),
    import('./server/create-server.js'),
    import('./server/start-server.js'),
    import('./store/app-stores.js'),
    import('./store/queue.js'),
  ]);
  const logger = options.logger ?? createAppLogger({ level: settings.logLevel });
  const retries = options.rateLimitRetries ?? 2;
  const Octokit = ProbotOctokit.defaults({
    throttle: {
      enabled: true,
      // Requests at once per installation (Probot keys the limiter by installation id). The
      // plugin's own default is 10, which queues a burst of leaking pushes' compares and policy
      // reads behind each other; GitHub's secondary limit is 100 concurrent requests.
      global: new Bottleneck.Group({ id: 'keywarden-global', maxConcurrent: 32, timeout: 120_000 }),
      onRateLimit: (after: number, o: { method: string; url: string }, _k: unknown, retryCount: number) => {
        logger.warn({ method: o.method, url: o.url, after }, 'GitHub rate limit');
        return retryCount < retries && after <= 60;
      },
      onSecondaryRateLimit: (after: number, o: { method: string; url: string }, _k: unknown, retryCount: number) => {
        logger.warn({ method: o.method, url: o.url, after }, 'GitHub secondary rate limit');
        return retryCount < retries && after <= 120;
      },
    },
  });
  const role = options.role ?? 'all';
  // A worker verifies no webhook: without a configured secret it gets a random one it never uses.
  const webhookSecrets = settings.webhookSecrets.length ? settings.webhookSecrets : role === 'worker' ? [randomBytes(32).toString('hex')] : settings.webhookSecrets;
  const probot = new Probot({ appId: settings.appId, privateKey: settings.privateKey, secret: webhookSecrets[0]!, baseUrl: settings.apiUrl, log: logger, Octokit });

  const jobsHere = role !== 'serve';
  const serveHere = role !== 'worker';
  const storeLogger = {
    debug: (m: string, f?: object) => logger.debug(f ?? {}, m),
    info: (m: string, f?: object) => logger.info(f ?? {}, m),
    warn: (m: string, f?: object) => logger.warn(f ?? {}, m),
    error: (m: string, f?: object) => logger.error(f ?? {}, m),
  };
  const auditSigner = settings.databaseUrl ? (await import('./backends/open-backend.js')).readAuditSignerFromEnv(options.env) : undefined;
  const stores = await openAppStores({
    stateDir: settings.stateDir,
    logger: storeLogger,
    ...(auditSigner ? { auditSigner } : {}),
    ...(settings.databaseUrl ? { databaseUrl: settings.databaseUrl } : {}),
    ...(settings.databasePool ? { poolSize: settings.databasePool } : {}),
  });
  const { queue, steps } = stores;
  const spool = (queue as Partial<{ spoolStats(): { spooled: number; replayed: number; dropped: number; pending: number } }>).spoolStats?.bind(queue);
  const metrics = createMetrics({ queueStats: () => queue.stats(), ...(spool ? { spoolStats: spool } : {}), ...(serveHere ? {} : { defaultMetrics: false }) });
  const jm: JobMetrics = options.jobMetrics ?? metrics;
  const services: AppServices = {
    auth: (id) => probot.auth(id) as unknown as ReturnType<AppServices['auth']>,
    env: options.env,
    stateDir: settings.stateDir,
    backend: settings.backend,
    steps,
    ...(stores.idempotency ? { idempotency: stores.idempotency } : {}),
    ...(stores.audit ? { audit: stores.audit } : {}),
    gitBase: settings.gitUrl,
    webBase: settings.webUrl,
    logger,
    clock,
    ...crashHook(options.env),
    ...(options.compareLimits ? { compareLimits: options.compareLimits } : {}),
    // github.com takes revocations unauthenticated only; GHES (…/api/v3) authenticated.
    revokeTokens: async (credentials, octokit) => {
      if (/\/api\/v3$/.test(settings.apiUrl)) {
        await octokit.request('POST /credentials/revoke', { credentials });
        return;
      }
      const { request } = await import('@octokit/request');
      await request('POST /credentials/revoke', { baseUrl: settings.apiUrl, credentials, headers: { 'user-agent': 'keywarden', 'x-github-api-version': '2022-11-28' } });
    },
    metrics: {
      finding: (kind) => jm.findings.inc({ kind }),
      action: (type, outcome) => jm.actions.inc({ type: type as MetricActionType, outcome: outcome === 'done' || outcome === 'failed' ? outcome : 'skipped' }),
      webhookToAction: (seconds) => jm.webhookToActionSeconds.observe(seconds),
    },
  };
  // A push's full scan, queued by the push job behind every push's fast part (set once the worker exists).
  let wake = (): void => {};
  services.defer = async (j) => {
    await queue.enqueue({ kind: j.kind, payload: j.payload, dedupeKey: j.dedupeKey, priority: j.priority, ...installationGroup(j.payload), ...(j.runAt ? { runAt: j.runAt } : {}) });
    wake();
  };
  const handlers = yieldingScans(createJobHandlers(services));
  const started = new Map<string, number>();
  const worker: JobWorker = jobsHere
    ? createWorker({
        queue,
        handlers,
        concurrency: settings.concurrency,
        kindConcurrency: scanLimits(settings),
        groupLimit: settings.installationConcurrency ?? DEFAULT_INSTALLATION_CONCURRENCY,
        ...(options.worker?.pollMs !== undefined ? { pollMs: options.worker.pollMs } : {}),
        ...(options.worker?.leaseMs !== undefined ? { leaseMs: options.worker.leaseMs } : {}),
        ...(options.worker?.backoff ? { backoff: options.worker.backoff } : {}),
        logger: storeLogger,
        onSettled: (job, outcome) => {
          const t0 = started.get(job.id);
          started.delete(job.id);
          jm.jobs.inc({ kind: job.kind, outcome: outcome === 'retrying' ? 'retried' : outcome === 'lost' ? 'failed' : outcome });
          if (t0 !== undefined) jm.jobDurationSeconds.observe({ kind: job.kind }, (Date.now() - t0) / 1000);
        },
      })
    : elsewhereWorker(queue, options.onQueued);
  wake = () => worker.wake();
  // Workers here wake when another process (a `serve` replica) enqueues, where the store can tell.
  const unsubscribe = jobsHere && queue.subscribe ? await queue.subscribe(() => worker.wake()) : undefined;
  const outcomes = new DeliveryOutcomes();
  await probot.load(createKeywardenApp({ queue, kinds: new Set<string>(APP_JOB_KINDS), clock, onQueued: () => worker.wake() }, outcomes));

  const http = createServer({
    webhookSecrets,
    metrics,
    logger,
    onDelivery: async (d) => {
      await probot.receive({ id: d.id, name: d.name as never, payload: d.payload as never });
      return { outcome: outcomes.take(d.id) };
    },
    readiness: async () => {
      const check = async (fn: () => Promise<unknown>): Promise<{ ok: boolean; detail?: string }> => {
        try {
          await fn();
          return { ok: true };
        } catch (e) {
          return { ok: false, detail: e instanceof KeywardenError ? e.code : 'unreachable' };
        }
      };
      const store = await check(async () => steps.get('readyz'));
      // On PostgreSQL the intake takes deliveries while the database is away (the spool): still ready.
      const spooling = !store.ok && stores.engine === 'postgres' && serveHere;
      return { queue: await check(() => queue.ping()), store: spooling ? { ok: true, detail: 'unreachable; deliveries are spooled to disk' } : store };
    },
  });

  let server: StartServerResult | undefined;
  const work = options.work !== false && jobsHere;
  return {
    settings,
    logger,
    queue,
    worker,
    metrics,
    services,
    http,
    start: async () => {
      if (serveHere) server = await startServer(http, { host: settings.host, port: settings.port });
      if (work) worker.start();
      return server ?? { url: '', port: 0, close: async () => undefined };
    },
    close: async (graceMs = 10_000) => {
      await server?.close();
      await Promise.race([worker.stop(), new Promise((r) => setTimeout(r, graceMs).unref())]);
      await unsubscribe?.();
      await stores.close();
      closeFallbackAudit(settings.stateDir);
    },
  };
}

/** Jobs of one installation at once, over every worker (`AppSettings.installationConcurrency`). */
export const DEFAULT_INSTALLATION_CONCURRENCY = 8;

/** The jobs that stand between a leak and its revocation, or a person and an answer. */
const FAST_KINDS = new Set(['push', 'pull_request', 'check_action', 'comment', 'secret_alert']);
const SCAN_KINDS = new Set(['push_scan', 'repo_scan', 'drift']);
/** The longest a full scan waits for the fast jobs to finish. */
const YIELD_MAX_MS = 5_000;

/**
 * Full scans yield to the fast jobs: a scan waits, before it starts, until no fast job runs in this
 * worker (at most `YIELD_MAX_MS`). Each git a scan spawns blocks the jobs thread for the fork of a
 * large process (~10–20 ms), so scans started beside a burst of leaking pushes delay every
 * revocation of the burst; started after it, they delay none.
 */
function yieldingScans(handlers: Record<string, JobHandler>): Record<string, JobHandler> {
  let fast = 0;
  const out: Record<string, JobHandler> = {};
  for (const [kind, h] of Object.entries(handlers)) {
    if (FAST_KINDS.has(kind))
      out[kind] = async (job, ctx) => {
        fast++;
        try {
          return await h(job, ctx);
        } finally {
          fast--;
        }
      };
    else if (SCAN_KINDS.has(kind))
      out[kind] = async (job, ctx) => {
        const until = Date.now() + YIELD_MAX_MS;
        while (fast > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
        return h(job, ctx);
      };
    else out[kind] = h;
  }
  return out;
}

function scanLimits(settings: AppSettings): Record<string, number> {
  const n = Math.max(1, Math.floor(settings.scanConcurrency ?? Math.max(2, availableParallelism())));
  return { push_scan: n, repo_scan: n, drift: n };
}

/**
 * The `serve` role's stand-in for a worker: the jobs run elsewhere (a jobs thread, `keywarden
 * worker` processes). `wake` tells them (`onQueued`); `idle` waits until the shared queue has
 * nothing queued or running.
 */
function elsewhereWorker(queue: JobQueue, onQueued?: () => void): JobWorker {
  return {
    id: 'elsewhere',
    start() {},
    async stop() {},
    async idle() {
      for (;;) {
        const st = await queue.stats();
        if (st.queued === 0 && st.running === 0) return;
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    wake: () => onQueued?.(),
  };
}

export interface StartAppOptions {
  env: NodeJS.ProcessEnv;
  /**
   * Where the jobs run. `thread` (default, what `npm start` runs): a worker thread of their own,
   * so no job's CPU work delays a webhook's answer on this event loop. `process`: a child process
   * (measured slower on 2 cores: three processes share them). `inline`: one event loop.
   */
  jobs?: 'process' | 'thread' | 'inline';
  logger?: PinoLogger;
  /** Where the job side writes its log lines (default stdout). */
  logTo?: 'stdout' | 'stderr';
  worker?: { pollMs?: number; leaseMs?: number; backoffMs?: number };
}

export interface StartedApp {
  url: string;
  logger: PinoLogger;
  metrics: KeywardenMetrics;
  queue: JobQueue;
  /** Stops taking deliveries, lets running jobs finish (up to `graceMs`), closes the stores. */
  close(graceMs?: number): Promise<void>;
}

const WAKE_QUIET_MS = 4;
const WAKE_MAX_MS = 25;

type FromJobs = import('./app/jobs-entry.js').FromJobs;
type ToJobs = import('./app/jobs-entry.js').ToJobs;

/** The job side as the parent sees it: a child process or a worker thread. */
interface JobsSide {
  post(m: ToJobs): void;
  onMessage(fn: (m: FromJobs) => void): void;
  onExit(fn: (code: number | null) => void): void;
  kill(): Promise<void>;
}

async function launchJobsSide(kind: 'process' | 'thread', data: import('./app/jobs-entry.js').JobsData): Promise<JobsSide> {
  const here = import.meta.url;
  if (kind === 'thread') {
    const [{ Worker }, { threadEntry }] = await Promise.all([import('node:worker_threads'), import('./util/thread-entry.js')]);
    const t = new Worker(threadEntry(here, './app/jobs-entry'), { workerData: data });
    return {
      post: (m) => t.postMessage(m),
      onMessage: (fn) => t.on('message', fn),
      onExit: (fn) => {
        t.on('exit', fn);
        t.on('error', () => undefined);
      },
      kill: async () => void (await t.terminate()),
    };
  }
  const [{ fork }, { fileURLToPath, pathToFileURL }, { createRequire }] = await Promise.all([import('node:child_process'), import('node:url'), import('node:module')]);
  const ts = here.endsWith('.ts');
  // Under a TypeScript runner the entry is `.ts`, loaded through tsx's hooks.
  const execArgv = ts ? ['--import', pathToFileURL(createRequire(here).resolve('tsx/esm')).href] : [];
  const child = fork(fileURLToPath(new URL(`./app/jobs-entry.${ts ? 'ts' : 'js'}`, here)), [], {
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
    env: { ...process.env, KEYWARDEN_APP_JOB_CHILD: '1' },
  });
  // The settings (a private key among them) go over the IPC channel, never the command line or the environment.
  child.send({ type: 'init', data } satisfies ToJobs);
  return {
    post: (m) => {
      if (child.connected) child.send(m);
    },
    onMessage: (fn) => child.on('message', (m) => fn(m as FromJobs)),
    onExit: (fn) => {
      child.on('exit', (code) => fn(code));
      child.on('error', () => undefined);
    },
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

/**
 * The App as `keywarden app` and `npm start` run it: listening, with its jobs running. A job
 * side that dies is logged and started again after a second; its leased jobs return to the queue
 * when their leases expire, so nothing is lost.
 */
export async function startApp(settings: AppSettings, options: StartAppOptions): Promise<StartedApp> {
  const workerOpts = options.worker;
  const jobs = options.jobs ?? 'thread';
  if (jobs === 'inline') {
    const app = await composeApp(settings, {
      env: options.env,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(workerOpts
        ? { worker: { ...(workerOpts.pollMs !== undefined ? { pollMs: workerOpts.pollMs } : {}), ...(workerOpts.leaseMs !== undefined ? { leaseMs: workerOpts.leaseMs } : {}), ...(workerOpts.backoffMs !== undefined ? { backoff: () => workerOpts.backoffMs! } : {}) } }
        : {}),
    });
    const server = await app.start();
    return { url: server.url, logger: app.logger, metrics: app.metrics, queue: app.queue, close: (g) => app.close(g) };
  }
  let side: JobsSide | undefined;
  // The job side is woken once a burst of deliveries has been answered (a few ms without a new
  // one, 25 ms at most): twenty pushes at once are all acknowledged before their jobs take the CPU.
  let wakeTimer: NodeJS.Timeout | undefined;
  let burstStart = 0;
  const wakeSoon = (): void => {
    const now = Date.now();
    if (wakeTimer) clearTimeout(wakeTimer);
    else burstStart = now;
    wakeTimer = setTimeout(() => {
      wakeTimer = undefined;
      side?.post({ type: 'wake' });
    }, Math.max(0, Math.min(WAKE_QUIET_MS, burstStart + WAKE_MAX_MS - now)));
  };
  const serve = await composeApp(settings, { env: options.env, role: 'serve', ...(options.logger ? { logger: options.logger } : {}), onQueued: wakeSoon });
  const { metrics, logger } = serve;
  const data: import('./app/jobs-entry.js').JobsData = {
    settings,
    env: options.env,
    ...(options.logTo ? { logTo: options.logTo } : {}),
    logLevel: options.logger?.level ?? settings.logLevel,
    ...(workerOpts ? { worker: workerOpts } : {}),
  };
  let stopping = false;
  let stopped: (() => void) | undefined;
  const launch = async (): Promise<void> => {
    const j = await launchJobsSide(jobs, data);
    side = j;
    await new Promise<void>((resolve, reject) => {
      let ready = false;
      j.onMessage((m) => {
        if (m.type === 'ready') {
          ready = true;
          resolve();
        } else if (m.type === 'failed') {
          logger.error({ error: m.message.slice(0, 500) }, 'the job side failed to start');
        } else if (m.type === 'stopped') stopped?.();
        else if (m.type === 'metric') applyJobMetric(metrics, m);
      });
      j.onExit((code) => {
        if (side === j) side = undefined;
        stopped?.();
        if (!ready) return reject(new KeywardenError(ErrorCode.APP_CONFIG_INVALID, `The App's job side exited (${code}) before it was ready.`, { fault: 'config' }));
        if (stopping) return;
        logger.error({ exitCode: code }, 'the job side stopped; starting it again in 1 s');
        setTimeout(() => {
          if (!stopping) launch().catch(() => undefined);
        }, 1000).unref();
      });
    });
  };
  try {
    await launch();
  } catch (e) {
    await side?.kill();
    await serve.close(0);
    throw e;
  }
  const server = await serve.start();
  return {
    url: server.url,
    logger,
    metrics,
    queue: serve.queue,
    close: async (graceMs = 10_000) => {
      stopping = true;
      if (wakeTimer) clearTimeout(wakeTimer);
      // No new deliveries first; then the running jobs finish; then the stores close.
      await server.close();
      const j = side;
      if (j) {
        const done = new Promise<void>((r) => (stopped = r));
        j.post({ type: 'stop', graceMs });
        await Promise.race([done, new Promise((r) => setTimeout(r, graceMs + 2000).unref())]);
        await j.kill();
      }
      await serve.close(0);
    },
  };
}

function applyJobMetric(m: KeywardenMetrics, msg: Extract<FromJobs, { type: 'metric' }>): void {
  switch (msg.name) {
    case 'findings':
      return m.findings.inc(msg.labels as { kind: string });
    case 'actions':
      return m.actions.inc(msg.labels as { type: MetricActionType; outcome: MetricActionOutcome });
    case 'jobs':
      return m.jobs.inc(msg.labels as { kind: string; outcome: MetricJobOutcome });
    case 'jobDurationSeconds':
      return m.jobDurationSeconds.observe(msg.labels as { kind: string }, msg.value);
    case 'webhookToActionSeconds':
      return m.webhookToActionSeconds.observe(msg.value);
  }
}
