/**
 * The body cap over real HTTP on loopback: a declared length over the cap is refused before the
 * body is sent, a chunked body is cut while it streams, and a `content-length` that lies never
 * gets more bytes past the parser than it declares.
 */
import http from 'node:http';
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type StartServerResult } from '../../src/server/start-server.js';
import { deliveryHeaders, makeServer, type TestServer } from './helpers.js';

const PATH = '/api/github/webhooks';
const CAP = 4096;
let running: StartServerResult[] = [];

afterEach(async () => {
  await Promise.all(running.map((s) => s.close()));
  running = [];
});

async function listen(s: TestServer): Promise<StartServerResult> {
  const server = await startServer(s.app);
  running.push(server);
  return server;
}

/** Sends headers, then `chunks` one by one (chunked unless a content-length is given); resolves on the response. */
type Answer = { status: number; body: string; written: number };

function send(port: number, headers: Record<string, string>, chunks: Buffer[]): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // A fresh connection each time: one left mid-body must not carry the next request.
    const req = http.request({ host: '127.0.0.1', port, path: PATH, method: 'POST', headers, agent: false });
    req.on('response', (res) => {
      let text = '';
      const writtenAtAnswer = written;
      const done = (): void => {
        resolve({ status: res.statusCode ?? 0, body: text, written: writtenAtAnswer });
        req.destroy();
      };
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', done);
      res.on('error', done);
    });
    // Once the server has answered it may close the socket under a writer still sending.
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    req.flushHeaders();
    let written = 0;
    const next = (i: number): void => {
      written = i;
      // No chunks with a declared length: leave the request open, the answer must not need a body.
      if (i === chunks.length) return void (chunks.length ? req.end() : undefined);
      if (req.destroyed) return;
      req.write(chunks[i]!, () => setTimeout(() => next(i + 1), 2));
    };
    next(0);
  });
}

function jsonBody(bytes: number): string {
  const filler = 'x'.repeat(Math.max(0, bytes - 14));
  return JSON.stringify({ filler });
}

function split(text: string, size: number): Buffer[] {
  const buf = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += size) out.push(buf.subarray(i, i + size));
  return out;
}

describe('body limit over real HTTP', () => {
  it('answers 413 to a declared content-length over the cap before the body is sent', async () => {
    const s = makeServer({ maxBodyBytes: CAP });
    const { port } = await listen(s);
    const body = jsonBody(CAP + 10);
    // No chunk is written: the answer must come from the headers alone.
    const res = await send(port, { ...deliveryHeaders(body, s.secrets[0]!), 'content-length': String(body.length) }, []);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toEqual({ error: { code: 'KW_WEBHOOK_BODY_TOO_LARGE', message: expect.any(String) } });
    expect(s.deliveries).toHaveLength(0);
  });

  it('uses GitHub\'s 25 MiB cap by default', async () => {
    const s = makeServer();
    const { port } = await listen(s);
    const headers = { ...deliveryHeaders('{}', s.secrets[0]!), 'content-length': String(25 * 1024 * 1024 + 1) };
    expect((await send(port, headers, [])).status).toBe(413);
    const ok = jsonBody(1000);
    const okHeaders = { ...deliveryHeaders(ok, s.secrets[0]!), 'content-length': String(ok.length) };
    expect((await send(port, okHeaders, [Buffer.from(ok)])).status).toBe(202);
    expect(s.deliveries).toHaveLength(1);
  });

  it('cuts a chunked body (no content-length) at the cap with 413, signed or not', async () => {
    const s = makeServer({ maxBodyBytes: CAP });
    const { port } = await listen(s);
    const body = jsonBody(CAP * 4);
    const chunks = split(body, 512);
    const res = await send(port, { ...deliveryHeaders(body, s.secrets[0]!), 'transfer-encoding': 'chunked' }, chunks);
    expect(res.status).toBe(413);
    // Answered while the client was still sending, not after the whole body arrived.
    expect(res.written).toBeLessThan(chunks.length);
    expect(s.deliveries).toHaveLength(0);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toContain('keywarden_webhook_deliveries_total{event="unverified",outcome="rejected_size"} 1');
  });

  it('accepts a chunked body under the cap', async () => {
    const s = makeServer({ maxBodyBytes: CAP });
    const { port } = await listen(s);
    const body = jsonBody(CAP - 100);
    const res = await send(port, { ...deliveryHeaders(body, s.secrets[0]!), 'transfer-encoding': 'chunked' }, split(body, 700));
    expect(res.status).toBe(202);
    expect(s.deliveries[0]!.payload).toEqual(JSON.parse(body));
  });

  it('cuts a streamed fetch body at the cap', async () => {
    const s = makeServer({ maxBodyBytes: CAP });
    const { url } = await listen(s);
    const body = jsonBody(CAP * 3);
    const chunks = split(body, 1024);
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    const res = await fetch(`${url}${PATH}`, {
      method: 'POST',
      body: stream,
      headers: deliveryHeaders(body, s.secrets[0]!),
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(s.deliveries).toHaveLength(0);
  });

  it('a content-length smaller than the body: only the declared bytes are the body, so the signature fails', async () => {
    const s = makeServer({ maxBodyBytes: CAP });
    const { port } = await listen(s);
    // The bytes past the declared 100 are a second request: the parser must see them as one.
    const first = jsonBody(100);
    const second = 'GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n';
    const sent = first + second;
    const lying = { ...deliveryHeaders(sent, s.secrets[0]!), 'content-length': String(first.length), host: 'localhost' };
    const head = Object.entries(lying)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n');
    const answer = await rawExchange(port, `POST ${PATH} HTTP/1.1\r\n${head}\r\n\r\n${sent}`, false);
    const statuses = answer.match(/HTTP\/1\.1 \d{3}/g);
    expect(statuses).toEqual(['HTTP/1.1 401', 'HTTP/1.1 200']);
    expect(s.deliveries).toHaveLength(0);
  });

  it('a content-length larger than the body: the truncated request is never delivered', async () => {
    const s = makeServer({ maxBodyBytes: CAP });
    const { port, url } = await listen(s);
    const body = jsonBody(200);
    const head = Object.entries({ ...deliveryHeaders(body, s.secrets[0]!), 'content-length': '2000', host: 'localhost' })
      .map(([k, v]) => `${k}: ${v}`)
      .join('\r\n');
    await rawExchange(port, `POST ${PATH} HTTP/1.1\r\n${head}\r\n\r\n${body}`);
    expect(s.deliveries).toHaveLength(0);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });
});

/** Writes `request` on a raw socket (then half-closes if `end`) and returns what comes back before the socket closes. */
function rawExchange(port: number, request: string, end = true): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('error', () => resolve(text));
    socket.on('close', () => resolve(text));
    if (end) socket.end(request);
    else socket.write(request);
  });
}
