/**
 * `POST <webhookPath>`: GitHub's deliveries.
 *
 * Order: declared length (413 before a byte is read) → headers (400) → the body, counted while it
 * streams (413) → signature over the raw bytes (401) → JSON.parse (400) → `onDelivery`. Nothing
 * is parsed or handed on before the signature verifies. A duplicate is answered 202 like a new
 * delivery (GitHub redelivers and must see success); a failing `onDelivery` is answered 503 so
 * GitHub may redeliver. The body never reaches a log line or an answer.
 */
import { Hono } from 'hono';
import type { Logger } from 'pino';
import { ErrorCode, KeywardenError, isKeywardenError } from '../../errors.js';
import type { DeliveryOutcome, KeywardenMetrics } from '../metrics.js';
import { assertDeclaredLength, readLimitedBody } from '../read-limited-body.js';
import { verifySignature } from '../verify-signature.js';

export interface Delivery {
  /** `x-github-delivery`: the same on every redelivery, so it is the idempotency key. */
  id: string;
  /** `x-github-event`. */
  name: string;
  payload: unknown;
  /** When the request arrived (ms since the epoch), for `keywarden_webhook_to_action_seconds`. */
  receivedAt: number;
}

export type DeliveryResult = { outcome: 'queued' | 'duplicate' | 'ignored' };

export interface WebhookRouteOptions {
  path: string;
  secrets: readonly string[];
  maxBodyBytes: number;
  onDelivery(delivery: Delivery): Promise<DeliveryResult>;
  metrics: KeywardenMetrics;
  logger: Logger;
}

const EVENT = /^[a-z_]{1,64}$/;
const DELIVERY_ID = /^[A-Za-z0-9-]{1,128}$/;
const OUTCOMES = new Set(['queued', 'duplicate', 'ignored']);

/**
 * @example
 * const route = createWebhookRoute({ path: '/api/github/webhooks', secrets, maxBodyBytes, onDelivery, metrics, logger });
 * app.route('/', route);
 */
export function createWebhookRoute(options: WebhookRouteOptions): Hono {
  const { metrics, logger } = options;
  const route = new Hono();
  route.post(options.path, async (c) => {
    const receivedAt = Date.now();
    const started = performance.now();
    // Until the signature verifies, the event header is the sender's word: keep it out of labels.
    let event = 'unverified';
    const count = (outcome: DeliveryOutcome): void => metrics.webhookDeliveries.inc({ event, outcome });
    const ack = (): void => metrics.webhookAckSeconds.observe((performance.now() - started) / 1000);
    try {
      assertDeclaredLength(c.req.raw.headers, options.maxBodyBytes);
      const headers = readDeliveryHeaders(c.req.raw.headers);
      const body = await readLimitedBody(c.req.raw, options.maxBodyBytes);
      if (!verifySignature(body, headers.signature, options.secrets)) throw signatureMismatch();
      event = headers.name;
      const payload = parsePayload(body);
      const result = await deliver(options, { id: headers.id, name: headers.name, payload, receivedAt }, logger);
      count(result.outcome);
      ack();
      logger.info({ deliveryId: headers.id, event, outcome: result.outcome }, 'webhook delivery accepted');
      return c.json({ ok: true, outcome: result.outcome }, 202);
    } catch (error) {
      count(outcomeOf(error));
      if (event !== 'unverified') ack();
      throw error;
    }
  });
  return route;
}

interface DeliveryHeaders {
  id: string;
  name: string;
  signature: string;
}

/** The three headers, or throws with every problem at once. */
function readDeliveryHeaders(headers: Headers): DeliveryHeaders {
  const name = headers.get('x-github-event') ?? '';
  const id = headers.get('x-github-delivery') ?? '';
  const signature = headers.get('x-hub-signature-256') ?? '';
  const problems: string[] = [];
  if (!name) problems.push('x-github-event is missing');
  else if (!EVENT.test(name)) problems.push('x-github-event is not an event name');
  if (!id) problems.push('x-github-delivery is missing');
  else if (!DELIVERY_ID.test(id)) problems.push('x-github-delivery is not a delivery id');
  if (!signature) problems.push('x-hub-signature-256 is missing');
  if (problems.length) {
    const message = `Not a GitHub webhook delivery: ${problems.join('; ')}.`;
    throw new KeywardenError(ErrorCode.WEBHOOK_HEADERS_INVALID, message, { fault: 'user', details: { problems } });
  }
  return { id, name, signature };
}

async function deliver(options: WebhookRouteOptions, delivery: Delivery, logger: Logger): Promise<DeliveryResult> {
  let result: DeliveryResult;
  try {
    result = await options.onDelivery(delivery);
  } catch (cause) {
    // The payload stays out of the log line; the cause's text passes the logger's masking.
    logger.error({ deliveryId: delivery.id, event: delivery.name, err: cause }, 'webhook delivery could not be queued');
    throw new KeywardenError(
      ErrorCode.WEBHOOK_DELIVERY_FAILED,
      'The delivery could not be queued. GitHub may redeliver it; see the App log for the cause.',
      { fault: 'backend', retryable: true },
    );
  }
  if (!OUTCOMES.has(result?.outcome)) {
    throw new KeywardenError(ErrorCode.INTERNAL, 'onDelivery returned an unknown outcome.', { fault: 'internal' });
  }
  return result;
}

function parsePayload(body: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new KeywardenError(
      ErrorCode.WEBHOOK_PAYLOAD_INVALID,
      "The webhook payload is not JSON. Set the webhook's content type to application/json in the App's settings.",
      { fault: 'user' },
    );
  }
}

function outcomeOf(error: unknown): DeliveryOutcome {
  if (!isKeywardenError(error)) return 'error';
  switch (error.code) {
    case ErrorCode.WEBHOOK_BODY_TOO_LARGE:
      return 'rejected_size';
    case ErrorCode.WEBHOOK_HEADERS_INVALID:
      return 'rejected_headers';
    case ErrorCode.WEBHOOK_SIGNATURE_MISMATCH:
      return 'rejected_signature';
    default:
      return 'error';
  }
}

function signatureMismatch(): KeywardenError {
  return new KeywardenError(
    ErrorCode.WEBHOOK_SIGNATURE_MISMATCH,
    "Webhook signature did not match. Set WEBHOOK_SECRET to the webhook secret in the GitHub App's settings.",
    { fault: 'user' },
  );
}
