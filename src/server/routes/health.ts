/**
 * `GET /healthz` (the process is up) and `GET /readyz` (every dependency answered ok).
 *
 * Security: a check's detail is cut to its first line and 200 characters and masked, so a stack
 * or a connection string with a password never reaches the answer. A check that does not answer
 * within the timeout counts as failed rather than hanging the probe.
 */
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { maskFoundSecrets } from '../../scan/mask-found.js';

export type ReadinessChecks = Record<string, { ok: boolean; detail?: string }>;

export interface HealthRouteOptions {
  readiness(): Promise<ReadinessChecks>;
  logger: Logger;
  /** Default 2000 ms. */
  readinessTimeoutMs?: number;
}

/**
 * @example
 * app.route('/', createHealthRoute({ readiness: async () => ({ store: { ok: true } }), logger }));
 */
export function createHealthRoute(options: HealthRouteOptions): Hono {
  const route = new Hono();
  const timeoutMs = options.readinessTimeoutMs ?? 2000;
  route.get('/healthz', (c) => c.json({ ok: true }));
  route.get('/readyz', async (c) => {
    const checks = await readChecks(options, timeoutMs);
    const ok = Object.values(checks).every((check) => check.ok);
    return c.json({ ok, checks }, ok ? 200 : 503);
  });
  return route;
}

async function readChecks(options: HealthRouteOptions, timeoutMs: number): Promise<ReadinessChecks> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`readiness checks did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const raw = await Promise.race([options.readiness(), timeout]);
    const out: ReadinessChecks = {};
    for (const [name, check] of Object.entries(raw)) {
      out[name] = { ok: check.ok === true, ...(check.detail ? { detail: cleanDetail(check.detail) } : {}) };
    }
    return out;
  } catch (error) {
    options.logger.warn({ err: error }, 'readiness checks failed');
    return { readiness: { ok: false, detail: 'The readiness checks failed or timed out; see the App log.' } };
  } finally {
    clearTimeout(timer);
  }
}

function cleanDetail(detail: string): string {
  const line = String(detail).split('\n', 1)[0]!;
  return maskFoundSecrets(line.length > 200 ? `${line.slice(0, 200)}…` : line);
}
