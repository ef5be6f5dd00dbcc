/** `GET /metrics`: the registry in Prometheus text format. */
import { Hono } from 'hono';
import type { KeywardenMetrics } from '../metrics.js';

/**
 * @example
 * app.route('/', createMetricsRoute(metrics));
 */
export function createMetricsRoute(metrics: KeywardenMetrics): Hono {
  const route = new Hono();
  route.get('/metrics', async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { 'content-type': metrics.registry.contentType });
  });
  return route;
}
