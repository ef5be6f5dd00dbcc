import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ErrorCode, KeywardenError } from '../../src/errors.js';
import { createServer } from '../../src/server/create-server.js';
import { createMetrics } from '../../src/server/metrics.js';
import { startServer } from '../../src/server/start-server.js';
import { captureLogger, makeServer, newSecret } from './helpers.js';
import { createRng, secretGenerators } from '../fixtures/secrets/generators.js';

describe('health, readiness, metrics', () => {
  it('GET /healthz answers 200 { ok: true }', async () => {
    const res = await makeServer().app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('GET /readyz answers 200 when every check is ok', async () => {
    const res = await makeServer().app.request('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, checks: { store: { ok: true }, queue: { ok: true } } });
  });

  it('GET /readyz answers 503 with the per-check detail, first line only and masked', async () => {
    const token = secretGenerators['github-pat-classic']!(createRng('readyz')).secret;
    const s = makeServer({
      readiness: async () => ({
        store: { ok: true },
        queue: { ok: false, detail: `connect ECONNREFUSED 127.0.0.1:5432 token=${token}\n    at Socket.connect (node:net:1)` },
      }),
    });
    const res = await s.app.request('/readyz');
    expect(res.status).toBe(503);
    const json = (await res.json()) as { ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> };
    expect(json.ok).toBe(false);
    expect(json.checks.store).toEqual({ ok: true });
    expect(json.checks.queue!.ok).toBe(false);
    expect(json.checks.queue!.detail).toMatch(/^connect ECONNREFUSED/);
    expect(json.checks.queue!.detail).not.toContain('Socket.connect');
    expect(JSON.stringify(json)).not.toContain(token);
  });

  it('GET /readyz answers 503 when the checks throw or hang', async () => {
    const throwing = makeServer({ readiness: async () => Promise.reject(new Error('boom')) });
    const res = await throwing.app.request('/readyz');
    expect(res.status).toBe(503);
    expect(JSON.stringify(await res.json())).not.toContain('boom');
    const hanging = makeServer({ readiness: () => new Promise(() => {}), readinessTimeoutMs: 50 });
    expect((await hanging.app.request('/readyz')).status).toBe(503);
  });

  it('GET /metrics serves Prometheus text with every keywarden_ metric and the process metrics', async () => {
    const metrics = createMetrics({
      queueStats: async () => ({ queued: 3, oldestQueuedAgeMs: 1500, running: 1, dead: 2 }),
    });
    metrics.findings.inc({ kind: 'github-token' });
    metrics.findings.inc({ kind: 'a-repos-own-detector' });
    metrics.actions.inc({ type: 'revoke', outcome: 'done' });
    metrics.jobs.inc({ kind: 'push', outcome: 'done' });
    metrics.jobDurationSeconds.observe({ kind: 'push' }, 0.3);
    metrics.webhookToActionSeconds.observe(4);
    const res = await makeServer({ metrics }).app.request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(new Registry().contentType);
    const text = await res.text();
    for (const line of [
      'keywarden_findings_total{kind="github-token"} 1',
      'keywarden_findings_total{kind="custom"} 1',
      'keywarden_actions_total{type="revoke",outcome="done"} 1',
      'keywarden_jobs_total{kind="push",outcome="done"} 1',
      'keywarden_job_duration_seconds_count{kind="push"} 1',
      'keywarden_webhook_to_action_seconds_count 1',
      'keywarden_queue_depth{state="queued"} 3',
      'keywarden_queue_depth{state="running"} 1',
      'keywarden_queue_depth{state="dead"} 2',
      'keywarden_queue_oldest_age_seconds 1.5',
      'keywarden_webhook_ack_seconds_bucket{le="0.001"} 0',
    ]) {
      expect(text).toContain(line);
    }
    expect(text).toContain('keywarden_process_cpu_user_seconds_total');
    expect(text).not.toContain('a-repos-own-detector');
    const names = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!);
    expect(names.filter((n) => !n.startsWith('keywarden_'))).toEqual([]);
  });

  it('reads the queue once per scrape and shows NaN when it cannot be read', async () => {
    let reads = 0;
    const metrics = createMetrics({
      defaultMetrics: false,
      queueStats: async () => {
        reads++;
        if (reads > 1) throw new Error('queue unreachable');
        return { queued: 0, oldestQueuedAgeMs: 0, running: 0, dead: 0 };
      },
    });
    await metrics.registry.metrics();
    expect(reads).toBe(1);
    const text = await metrics.registry.metrics();
    // prom-client prints NaN as `Nan`; Prometheus parses either spelling.
    expect(text).toMatch(/^keywarden_queue_depth\{state="queued"\} NaN$/im);
    expect(text).toMatch(/^keywarden_queue_oldest_age_seconds NaN$/im);
  });
});

describe('errors and unknown routes', () => {
  it('answers 404 JSON for an unknown route and for GET on the webhook path', async () => {
    const { app } = makeServer();
    for (const [method, path] of [['GET', '/nope'], ['GET', '/api/github/webhooks']] as const) {
      const res = await app.request(path, { method });
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: { code: ErrorCode.ROUTE_NOT_FOUND, message: expect.any(String) } });
    }
  });

  const byFault: Array<[KeywardenError, number]> = [
    [new KeywardenError(ErrorCode.USAGE, 'bad input', { fault: 'user' }), 400],
    [new KeywardenError(ErrorCode.CONFIG_INVALID, 'bad config', { fault: 'config' }), 500],
    [new KeywardenError(ErrorCode.BACKEND_UNAVAILABLE, 'kms down', { fault: 'backend' }), 503],
    [new KeywardenError(ErrorCode.INTERNAL, 'bug', { fault: 'internal' }), 500],
  ];
  for (const [error, status] of byFault) {
    it(`presents a ${error.fault} KeywardenError as ${status} { code, message }`, async () => {
      const { app } = makeServer();
      app.get('/throw', () => {
        throw error;
      });
      const res = await app.request('/throw');
      expect(res.status).toBe(status);
      expect(await res.json()).toEqual({ error: { code: error.code, message: error.message } });
    });
  }

  it('presents anything else as a generic 500 and masks secrets in messages; no stack in the answer', async () => {
    const token = secretGenerators['github-pat-classic']!(createRng('onError')).secret;
    const { app, lines } = makeServer();
    app.get('/foreign', () => {
      throw new TypeError(`cannot read ${token}`);
    });
    app.get('/ours', () => {
      throw new KeywardenError(ErrorCode.USAGE, `bad token ${token}`, { fault: 'user' });
    });
    const foreign = await app.request('/foreign');
    expect(foreign.status).toBe(500);
    expect(await foreign.json()).toEqual({ error: { code: 'KW_INTERNAL', message: 'Internal error' } });
    const ours = await (await app.request('/ours')).text();
    expect(ours).not.toContain(token);
    expect(ours).not.toContain(' at ');
    expect(lines.join('')).toContain('cannot read');
    expect(lines.join('')).not.toContain(token);
  });

  it('refuses to build without a usable webhook secret', () => {
    const { logger } = captureLogger();
    const deps = {
      onDelivery: async () => ({ outcome: 'queued' as const }),
      readiness: async () => ({}),
      metrics: createMetrics({ defaultMetrics: false }),
      logger,
    };
    for (const webhookSecrets of [[], [''], ['   '], ['short'], [newSecret(), '']]) {
      expect(() => createServer({ ...deps, webhookSecrets })).toThrow(
        expect.objectContaining({ code: ErrorCode.WEBHOOK_SECRET_MISSING, fault: 'config' }),
      );
    }
    expect(() => createServer({ ...deps, webhookSecrets: [newSecret()], maxBodyBytes: 0 })).toThrow(
      expect.objectContaining({ code: ErrorCode.CONFIG_INVALID }),
    );
  });
});

describe('startServer', () => {
  it('listens on 127.0.0.1 and a free port by default, and closes', async () => {
    const server = await startServer(makeServer().app);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    await server.close();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const first = await startServer(makeServer().app);
    await expect(startServer(makeServer().app, { port: first.port })).rejects.toThrow(/EADDRINUSE/);
    await first.close();
  });
});
