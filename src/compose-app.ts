/**
 * The App's composition root: settings from the environment → Probot (installation auth, Octokit
 * with retry and throttling), the durable job queue, the step store, the job workers, the Hono
 * server, metrics and the redacting logger. `npm start` and `keywarden app` call
 * `appSettingsFromEnv` and `composeApp`; the tests call `composeApp` with a GitHub fake's URL.
 *
 * No insecure default: without a webhook secret (or with a short one) nothing starts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger as PinoLogger } from 'pino';
import type { BackendSettings } from './backends/open-backend.js';
import { ErrorCode, KeywardenError } from './errors.js';
import { createJobHandlers, createKeywardenApp, DeliveryOutcomes } from './app/index.js';
import { closeFallbackAudit, type AppServices } from './app/services.js';
import { crashHook } from './pipeline/crash-hook.js';
import type { JobQueue, JobWorker } from './store/queue.js';
import type { KeywardenMetrics } from './server/metrics.js';
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
  logLevel: string;
}

function configError(message: string, hint?: string): KeywardenError {
  return new KeywardenError(ErrorCode.APP_CONFIG_INVALID, message, { fault: 'config', ...(hint ? { hint } : {}) });
}

/** The App's settings from the environment (`APP_ID`, `PRIVATE_KEY` or `PRIVATE_KEY_PATH`, `WEBHOOK_SECRET`, …). */
export function appSettingsFromEnv(env: NodeJS.ProcessEnv, cwd = process.cwd()): AppSettings {
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
  if (!secrets.length) throw configError('WEBHOOK_SECRET must be set: Keywarden does not accept unsigned webhooks.', 'Set it to the webhook secret in the App\'s settings.');
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
    logLevel: env.LOG_LEVEL || 'info',
  };
}

export interface ComposeAppOptions {
  env: NodeJS.ProcessEnv;
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
  const [{ Probot, ProbotOctokit }, { createAppLogger }, { createMetrics }, { createServer }, { startServer }, { openSqliteQueue }, { createWorker }, { SqliteStepStore }] = await Promise.all([
    import('probot'),
    import('./server/logger.js'),
    import('./server/metrics.js'),
    import('./server/create-server.js'),
    import('./server/start-server.js'),
    import('./store/sqlite-queue.js'),
    import('./store/queue.js'),
    import('./store/steps.js'),
  ]);
  const logger = options.logger ?? createAppLogger({ level: settings.logLevel });
  const retries = options.rateLimitRetries ?? 2;
  const Octokit = ProbotOctokit.defaults({
    throttle: {
      enabled: true,
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
  const probot = new Probot({ appId: settings.appId, privateKey: settings.privateKey, secret: settings.webhookSecrets[0]!, baseUrl: settings.apiUrl, log: logger, Octokit });

  const queue = openSqliteQueue(settings.stateDir);
  const steps = SqliteStepStore.open(path.join(settings.stateDir, 'pipeline.db'));
  const metrics = createMetrics({ queueStats: () => queue.stats() });
  const services: AppServices = {
    auth: (id) => probot.auth(id) as unknown as ReturnType<AppServices['auth']>,
    env: options.env,
    stateDir: settings.stateDir,
    backend: settings.backend,
    steps,
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
      finding: (kind) => metrics.findings.inc({ kind }),
      action: (type, outcome) => metrics.actions.inc({ type: type as never, outcome: (outcome === 'done' || outcome === 'failed' ? outcome : 'skipped') as never }),
      webhookToAction: (seconds) => metrics.webhookToActionSeconds.observe(seconds),
    },
  };
  // A push's full scan, queued by the push job behind every push's fast part (set once the worker exists).
  let wake = (): void => {};
  services.defer = async (j) => {
    await queue.enqueue({ kind: j.kind, payload: j.payload, dedupeKey: j.dedupeKey, priority: j.priority });
    wake();
  };
  const handlers = createJobHandlers(services);
  const started = new Map<string, number>();
  const worker = createWorker({
    queue,
    handlers,
    concurrency: settings.concurrency,
    ...(options.worker?.pollMs !== undefined ? { pollMs: options.worker.pollMs } : {}),
    ...(options.worker?.leaseMs !== undefined ? { leaseMs: options.worker.leaseMs } : {}),
    ...(options.worker?.backoff ? { backoff: options.worker.backoff } : {}),
    logger: {
      debug: (m, f) => logger.debug(f ?? {}, m),
      info: (m, f) => logger.info(f ?? {}, m),
      warn: (m, f) => logger.warn(f ?? {}, m),
      error: (m, f) => logger.error(f ?? {}, m),
    },
    onSettled: (job, outcome) => {
      const t0 = started.get(job.id);
      started.delete(job.id);
      metrics.jobs.inc({ kind: job.kind, outcome: outcome === 'retrying' ? 'retried' : outcome === 'lost' ? 'failed' : outcome });
      if (t0 !== undefined) metrics.jobDurationSeconds.observe({ kind: job.kind }, (Date.now() - t0) / 1000);
    },
  });
  wake = () => worker.wake();
  const outcomes = new DeliveryOutcomes();
  await probot.load(createKeywardenApp({ queue, kinds: new Set(Object.keys(handlers)), clock, onQueued: () => worker.wake() }, outcomes));

  const http = createServer({
    webhookSecrets: settings.webhookSecrets,
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
      return { queue: await check(() => queue.ping()), store: await check(async () => steps.get('readyz')) };
    },
  });

  let server: StartServerResult | undefined;
  const work = options.work !== false;
  return {
    settings,
    logger,
    queue,
    worker,
    metrics,
    services,
    http,
    start: async () => {
      server = await startServer(http, { host: settings.host, port: settings.port });
      if (work) worker.start();
      return server;
    },
    close: async (graceMs = 10_000) => {
      await server?.close();
      await Promise.race([worker.stop(), new Promise((r) => setTimeout(r, graceMs).unref())]);
      await queue.close();
      steps.close();
      closeFallbackAudit(settings.stateDir);
    },
  };
}
