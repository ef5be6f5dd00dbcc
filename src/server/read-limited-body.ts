/**
 * Reads a request body up to a byte cap.
 *
 * Security: a declared `content-length` over the cap is refused before a byte of the body is
 * read; a body without one (chunked) is counted while it streams and refused the moment it
 * passes the cap, so no more than `maxBytes` plus one chunk is ever held. The declared length is
 * not trusted for the count either: Node's parser never hands over more than it declares, and
 * what is read is counted regardless. (`hono/body-limit` trusts `content-length` and skips
 * counting when it is present, which is why this exists.)
 */
import { ErrorCode, KeywardenError } from '../errors.js';

/** GitHub caps webhook payloads at 25 MB. */
export const DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024;

/**
 * The body's bytes, or throws `KW_WEBHOOK_BODY_TOO_LARGE` (the HTTP edge answers 413).
 *
 * @example
 * const bytes = await readLimitedBody(c.req.raw, 25 * 1024 * 1024);
 */
export async function readLimitedBody(request: Request, maxBytes: number): Promise<Uint8Array> {
  assertDeclaredLength(request.headers, maxBytes);
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      // Stop reading without destroying the socket: the 413 must still reach the client, and
      // the server drains (bounded) or closes the connection after answering.
      reader.releaseLock();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/** Throws `KW_WEBHOOK_BODY_TOO_LARGE` when `content-length` declares more than `maxBytes`; reads nothing. */
export function assertDeclaredLength(headers: Headers, maxBytes: number): void {
  const declared = headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > maxBytes) throw tooLarge(maxBytes);
}

function tooLarge(maxBytes: number): KeywardenError {
  return new KeywardenError(
    ErrorCode.WEBHOOK_BODY_TOO_LARGE,
    `The request body is larger than ${maxBytes} bytes. GitHub never sends a webhook payload over 25 MB.`,
    { fault: 'user', details: { maxBytes } },
  );
}
