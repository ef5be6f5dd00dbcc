import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { deliveryHeaders, makeServer, newSecret, sign } from './helpers.js';

const PATH = '/api/github/webhooks';
const body = JSON.stringify({ ref: 'refs/heads/main', after: 'abc', repository: { full_name: 'acme/api' } });

async function post(app: ReturnType<typeof makeServer>['app'], payload: string, headers: Record<string, string>) {
  const res = await app.request(PATH, { method: 'POST', body: payload, headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('POST /api/github/webhooks: signature', () => {
  it('accepts a delivery signed with the current secret and hands id, name and payload on', async () => {
    const s = makeServer();
    const res = await post(s.app, body, deliveryHeaders(body, s.secrets[0]!));
    expect(res).toEqual({ status: 202, json: { ok: true, outcome: 'queued' } });
    expect(s.deliveries).toHaveLength(1);
    expect(s.deliveries[0]).toMatchObject({ id: '72d3162e-cc78-11e3-81ab-4c9367dc0958', name: 'push', payload: JSON.parse(body) });
    expect(typeof s.deliveries[0]!.receivedAt).toBe('number');
  });

  it('accepts a delivery signed with the previous secret (rotation)', async () => {
    const s = makeServer();
    expect((await post(s.app, body, deliveryHeaders(body, s.secrets[1]!))).status).toBe(202);
  });

  const bad: Array<[string, (secret: string) => string]> = [
    ['an unknown secret', () => sign(body, newSecret())],
    ['the signature of a different body', (secret) => sign(`${body} `, secret)],
    ['sha1=', (secret) => sign(body, secret).replace('sha256=', 'sha1=')],
    ['hex of the wrong length', (secret) => sign(body, secret).slice(0, -2)],
    ['hex that is too long', (secret) => `${sign(body, secret)}00`],
    ['no prefix', (secret) => sign(body, secret).slice('sha256='.length)],
    ['non-hex digits', () => `sha256=${'zz'.repeat(32)}`],
  ];
  for (const [what, signature] of bad) {
    it(`answers 401 to ${what}, and onDelivery is not called`, async () => {
      const s = makeServer();
      const res = await post(s.app, body, deliveryHeaders(body, s.secrets[0]!, { 'x-hub-signature-256': signature(s.secrets[0]!) }));
      expect(res.status).toBe(401);
      expect(res.json).toEqual({ error: { code: ErrorCode.WEBHOOK_SIGNATURE_MISMATCH, message: expect.any(String) } });
      expect(s.deliveries).toHaveLength(0);
    });
  }

  it('verifies the raw bytes: the same JSON re-serialized does not verify', async () => {
    const s = makeServer();
    const pretty = JSON.stringify(JSON.parse(body), null, 2);
    const res = await post(s.app, pretty, deliveryHeaders(body, s.secrets[0]!));
    expect(res.status).toBe(401);
  });
});

describe('POST /api/github/webhooks: headers and payload', () => {
  const cases: Array<[string, Record<string, string | undefined>, string]> = [
    ['a missing signature', { 'x-hub-signature-256': undefined }, 'x-hub-signature-256 is missing'],
    ['a missing event', { 'x-github-event': undefined }, 'x-github-event is missing'],
    ['a missing delivery id', { 'x-github-delivery': undefined }, 'x-github-delivery is missing'],
    ['an event that is not a token', { 'x-github-event': 'push;rm' }, 'x-github-event is not an event name'],
    ['an upper-case event', { 'x-github-event': 'Push' }, 'x-github-event is not an event name'],
    ['an overlong event', { 'x-github-event': 'a'.repeat(65) }, 'x-github-event is not an event name'],
    ['a delivery id with a slash', { 'x-github-delivery': '../etc' }, 'x-github-delivery is not a delivery id'],
    ['an overlong delivery id', { 'x-github-delivery': 'a'.repeat(129) }, 'x-github-delivery is not a delivery id'],
  ];
  for (const [what, change, problem] of cases) {
    it(`answers 400 to ${what}`, async () => {
      const s = makeServer();
      const headers = deliveryHeaders(body, s.secrets[0]!);
      for (const [k, v] of Object.entries(change)) {
        if (v === undefined) delete headers[k];
        else headers[k] = v;
      }
      const res = await post(s.app, body, headers);
      expect(res.status).toBe(400);
      const error = res.json.error as { code: string; message: string };
      expect(error.code).toBe(ErrorCode.WEBHOOK_HEADERS_INVALID);
      expect(error.message).toContain(problem);
      expect(s.deliveries).toHaveLength(0);
    });
  }

  it('reports every header problem at once', async () => {
    const s = makeServer();
    const res = await post(s.app, body, { 'content-type': 'application/json' });
    expect((res.json.error as { message: string }).message).toMatch(/event is missing.*delivery is missing.*256 is missing/);
  });

  it('answers 400 to a signed body that is not JSON, without echoing it', async () => {
    const s = makeServer();
    const notJson = 'payload=%7B%22zen%22%3A1%7D-marker-xyz';
    const res = await post(s.app, notJson, deliveryHeaders(notJson, s.secrets[0]!));
    expect(res.status).toBe(400);
    expect((res.json.error as { code: string }).code).toBe(ErrorCode.WEBHOOK_PAYLOAD_INVALID);
    expect(JSON.stringify(res.json)).not.toContain('marker-xyz');
    expect(s.deliveries).toHaveLength(0);
  });

  it('answers 400 to a signed body that is not UTF-8', async () => {
    const s = makeServer();
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    const res = await s.app.request(PATH, { method: 'POST', body: bytes, headers: deliveryHeaders(bytes, s.secrets[0]!) });
    expect(res.status).toBe(400);
  });
});

describe('POST /api/github/webhooks: outcomes', () => {
  it('answers a duplicate (a replayed delivery id) with 202 and passes the same id each time', async () => {
    const seen = new Set<string>();
    const s = makeServer({
      onDelivery: async (d) => {
        const outcome = seen.has(d.id) ? 'duplicate' : 'queued';
        seen.add(d.id);
        return { outcome };
      },
    });
    const headers = deliveryHeaders(body, s.secrets[0]!);
    expect((await post(s.app, body, headers)).json).toEqual({ ok: true, outcome: 'queued' });
    expect(await post(s.app, body, headers)).toEqual({ status: 202, json: { ok: true, outcome: 'duplicate' } });
  });

  it('answers 202 ignored when onDelivery ignores the event', async () => {
    const s = makeServer({}, { outcome: 'ignored' });
    expect((await post(s.app, body, deliveryHeaders(body, s.secrets[0]!))).json).toEqual({ ok: true, outcome: 'ignored' });
  });

  it('answers 503 when onDelivery throws, and logs the delivery id but not the body', async () => {
    const s = makeServer({
      onDelivery: async () => {
        throw new Error('queue is down');
      },
    });
    const marked = JSON.stringify({ zen: 'body-marker-q7' });
    const res = await post(s.app, marked, deliveryHeaders(marked, s.secrets[0]!));
    expect(res.status).toBe(503);
    expect(res.json).toEqual({ error: { code: ErrorCode.WEBHOOK_DELIVERY_FAILED, message: expect.any(String) } });
    const log = s.lines.join('');
    expect(log).toContain('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(log).toContain('queue is down');
    expect(log).not.toContain('body-marker-q7');
    expect(JSON.stringify(res.json)).not.toContain('queue is down');
  });

  it('counts deliveries by event and outcome; an unverified delivery is not labelled by its claimed event', async () => {
    const s = makeServer();
    await post(s.app, body, deliveryHeaders(body, s.secrets[0]!));
    await post(s.app, body, deliveryHeaders(body, s.secrets[0]!, { 'x-github-event': 'pull_request' }));
    await post(s.app, body, deliveryHeaders(body, newSecret(), { 'x-github-event': 'made_up_event' }));
    await post(s.app, body, { 'x-github-event': 'push' });
    const text = await (await s.app.request('/metrics')).text();
    expect(text).toContain('keywarden_webhook_deliveries_total{event="push",outcome="queued"} 1');
    expect(text).toContain('keywarden_webhook_deliveries_total{event="pull_request",outcome="queued"} 1');
    expect(text).toContain('keywarden_webhook_deliveries_total{event="unverified",outcome="rejected_signature"} 1');
    expect(text).toContain('keywarden_webhook_deliveries_total{event="unverified",outcome="rejected_headers"} 1');
    expect(text).not.toContain('made_up_event');
    expect(text).toContain('keywarden_webhook_ack_seconds_count 2');
  });

  it('serves a custom webhook path', async () => {
    const s = makeServer({ webhookPath: '/hooks' });
    const res = await s.app.request('/hooks', { method: 'POST', body, headers: deliveryHeaders(body, s.secrets[0]!) });
    expect(res.status).toBe(202);
    expect((await s.app.request(PATH, { method: 'POST', body })).status).toBe(404);
  });
});
