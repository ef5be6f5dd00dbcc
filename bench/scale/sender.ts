/**
 * GitHub's side of the deliveries: a thread of its own that POSTs them on a schedule and times each
 * answer (from just before the request to its last byte). The GitHub fake runs on the bench's main
 * thread; its work (git, the OpenAPI validation) must neither delay a send nor count as the App's
 * time to acknowledge. Same timing as bench/app's delivery thread, plus pacing: each delivery
 * carries its offset from a common start.
 */
import { Worker } from 'node:worker_threads';

export interface ScheduledDelivery {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Milliseconds after the burst's start. */
  offsetMs: number;
}

export interface SentDelivery {
  /** The HTTP status (0: the request failed). */
  status: number;
  /** Webhook acknowledgement: request start → last byte of the answer. */
  ms: number;
  /** Epoch ms just before the request (compared with the fake's arrival times). */
  sentAt: number;
}

export interface DeliverySender {
  /** Sends every delivery at `start + offsetMs` (epoch ms); resolves with one result per delivery, in order. */
  burst(deliveries: readonly ScheduledDelivery[], start: number): Promise<SentDelivery[]>;
  close(): Promise<void>;
}

const CODE = `
  const { parentPort } = require('node:worker_threads');
  const send = async (n, d) => {
    const sentAt = Date.now();
    const t0 = performance.now();
    try {
      const r = await fetch(d.url, { method: 'POST', headers: d.headers, body: d.body });
      await r.arrayBuffer();
      parentPort.postMessage({ type: 'sent', n, status: r.status, ms: performance.now() - t0, sentAt });
    } catch {
      parentPort.postMessage({ type: 'sent', n, status: 0, ms: performance.now() - t0, sentAt });
    }
  };
  parentPort.on('message', (m) => {
    // One timer per delivery, each armed against the common start: a late one does not shift the rest.
    m.deliveries.forEach((d, i) => setTimeout(() => void send(m.base + i, d), Math.max(0, m.start + d.offsetMs - Date.now())));
  });`;

export function createDeliverySender(): DeliverySender {
  const w = new Worker(CODE, { eval: true });
  const waiting = new Map<number, (r: SentDelivery) => void>();
  let next = 0;
  w.on('message', (m: { n: number; status: number; ms: number; sentAt: number }) => {
    waiting.get(m.n)?.({ status: m.status, ms: m.ms, sentAt: m.sentAt });
    waiting.delete(m.n);
  });
  return {
    async burst(deliveries, start) {
      const base = next;
      next += deliveries.length;
      const results = deliveries.map((_, i) => new Promise<SentDelivery>((resolve) => waiting.set(base + i, resolve)));
      w.postMessage({ base, start, deliveries });
      return Promise.all(results);
    },
    close: async () => void (await w.terminate()),
  };
}
