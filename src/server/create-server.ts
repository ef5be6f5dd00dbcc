/**
 * The App's HTTP edge as a Hono app: the webhook endpoint, health, readiness and metrics. It
 * does not listen (see `startServer`), so tests drive it with `app.request()`.
 *
 * Security: refuses to build without a usable webhook secret; every error is presented once, in
 * `onError`, as `{ error: { code, message } }` with no stack and no body echo.
 */
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { ErrorCode, KeywardenError } from '../errors.js';
import { createErrorHandler, notFound } from './error-handler.js';
import type { KeywardenMetrics } from './metrics.js';
import { DEFAULT_MAX_BODY_BYTES } from './read-limited-body.js';
import { createHealthRoute, type ReadinessChecks } from './routes/health.js';
import { createMetricsRoute } from './routes/metrics.js';
import { createWebhookRoute, type Delivery, type DeliveryResult } from './routes/webhooks.js';
import { assertWebhookSecrets } from './verify-signature.js';

export const DEFAULT_WEBHOOK_PATH = '/api/github/webhooks';

export interface ServerDeps {
  /** `[current, previous?]`: both verify during a webhook-secret rotation. */
  webhookSecrets: string[];
  /** Queues the delivery durably; reports `duplicate` for a delivery id it has seen. */
  onDelivery(delivery: Delivery): Promise<DeliveryResult>;
  readiness(): Promise<ReadinessChecks>;
  metrics: KeywardenMetrics;
  logger: Logger;
  /** Default 25 MiB, GitHub's payload cap. */
  maxBodyBytes?: number;
  /** Default `/api/github/webhooks`. */
  webhookPath?: string;
  /** Default 2000 ms. */
  readinessTimeoutMs?: number;
}

/**
 * @example
 * const app = createServer({ webhookSecrets: [secret], onDelivery, readiness, metrics, logger });
 * const res = await app.request('/healthz');
 */
export function createServer(deps: ServerDeps): Hono {
  assertWebhookSecrets(deps.webhookSecrets);
  const maxBodyBytes = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const path = deps.webhookPath ?? DEFAULT_WEBHOOK_PATH;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw configError('maxBodyBytes must be a positive integer.');
  }
  if (!/^\/[A-Za-z0-9/_-]*$/.test(path)) throw configError('webhookPath must be a path like /api/github/webhooks.');

  const app = new Hono();
  app.onError(createErrorHandler(deps.logger));
  app.notFound(notFound);
  app.route('/', createHealthRoute({
    readiness: deps.readiness,
    logger: deps.logger,
    ...(deps.readinessTimeoutMs === undefined ? {} : { readinessTimeoutMs: deps.readinessTimeoutMs }),
  }));
  app.route('/', createMetricsRoute(deps.metrics));
  app.route('/', createWebhookRoute({
    path,
    secrets: [...deps.webhookSecrets],
    maxBodyBytes,
    onDelivery: deps.onDelivery,
    metrics: deps.metrics,
    logger: deps.logger,
  }));
  return app;
}

function configError(message: string): KeywardenError {
  return new KeywardenError(ErrorCode.CONFIG_INVALID, message, { fault: 'config' });
}
