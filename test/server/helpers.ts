/**
 * Test helpers for the HTTP edge: a server with a capturing (masking) logger, fresh metrics and
 * a recording `onDelivery`, and GitHub-style signing.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createServer, type ServerDeps } from '../../src/server/create-server.js';
import { createAppLogger } from '../../src/server/logger.js';
import { createMetrics, type KeywardenMetrics } from '../../src/server/metrics.js';
import type { Delivery, DeliveryResult } from '../../src/server/routes/webhooks.js';

export function newSecret(): string {
  return randomBytes(24).toString('hex');
}

export function sign(body: string | Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** A logger whose every (already masked) line lands in `lines`. */
export function captureLogger(level = 'debug'): { logger: ReturnType<typeof createAppLogger>; lines: string[] } {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createAppLogger({ level, destination }), lines };
}

export interface TestServer {
  app: ReturnType<typeof createServer>;
  secrets: string[];
  deliveries: Delivery[];
  lines: string[];
  metrics: KeywardenMetrics;
}

export function makeServer(overrides: Partial<ServerDeps> = {}, result: DeliveryResult = { outcome: 'queued' }): TestServer {
  const secrets = overrides.webhookSecrets ?? [newSecret(), newSecret()];
  const deliveries: Delivery[] = [];
  const { logger, lines } = captureLogger();
  const metrics = overrides.metrics ?? createMetrics({ defaultMetrics: false });
  const app = createServer({
    webhookSecrets: secrets,
    onDelivery: async (d) => {
      deliveries.push(d);
      return result;
    },
    readiness: async () => ({ store: { ok: true }, queue: { ok: true } }),
    metrics,
    logger,
    ...overrides,
  });
  return { app, secrets, deliveries, lines, metrics };
}

export function deliveryHeaders(
  body: string | Uint8Array,
  secret: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    'x-hub-signature-256': sign(body, secret),
    ...extra,
  };
}
