/** Listens with @hono/node-server: loopback and a free port unless told otherwise. */
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { AddressInfo } from 'node:net';

export interface StartServerOptions {
  /** Default 127.0.0.1: exposing the App is a deliberate choice (`0.0.0.0`). */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
}

export interface StartServerResult {
  url: string;
  port: number;
  /** Stops accepting, closes idle connections and waits for the open requests to finish. */
  close(): Promise<void>;
}

/**
 * @example
 * const server = await startServer(createServer(deps), { port: 3000 });
 * // … later
 * await server.close();
 */
export async function startServer(app: Hono, options: StartServerOptions = {}): Promise<StartServerResult> {
  const host = options.host ?? '127.0.0.1';
  type Listening = { server: ReturnType<typeof serve>; address: AddressInfo };
  const { server, address } = await new Promise<Listening>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: options.port ?? 0 }, (info) => {
      s.off('error', reject);
      resolve({ server: s, address: info });
    });
    s.once('error', reject);
  });
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shown}:${address.port}`,
    port: address.port,
    // Idempotent: a second call waits for the first.
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        if ('closeIdleConnections' in server) server.closeIdleConnections();
      })),
  };
}
