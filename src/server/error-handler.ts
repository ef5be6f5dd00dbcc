/**
 * The one place that turns an error into an HTTP answer: `{ error: { code, message } }`.
 *
 * Security: never a stack, a cause or a request body in the answer; the message of a
 * KeywardenError passes `maskFoundSecrets`, and any other error becomes a generic 500 whose
 * details go only to the (masking) log.
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from 'pino';
import { ErrorCode, isKeywardenError, type Fault, type KeywardenError } from '../errors.js';
import { maskFoundSecrets } from '../scan/mask-found.js';

const BY_FAULT: Record<Fault, ContentfulStatusCode> = { user: 400, config: 500, backend: 503, internal: 500 };

/** Codes whose HTTP meaning is more precise than their fault's. */
const BY_CODE: Partial<Record<ErrorCode, ContentfulStatusCode>> = {
  [ErrorCode.WEBHOOK_SIGNATURE_MISMATCH]: 401,
  [ErrorCode.WEBHOOK_BODY_TOO_LARGE]: 413,
  [ErrorCode.ROUTE_NOT_FOUND]: 404,
};

/** The HTTP status for an error. */
export function statusFor(error: unknown): ContentfulStatusCode {
  if (!isKeywardenError(error)) return 500;
  return BY_CODE[error.code] ?? BY_FAULT[error.fault];
}

/** The JSON body and status for an error, masked. */
export function errorResponse(c: Context, error: unknown): Response {
  const status = statusFor(error);
  const body = isKeywardenError(error)
    ? { code: error.code, message: maskFoundSecrets(error.message) }
    : { code: ErrorCode.INTERNAL, message: 'Internal error' };
  return c.json({ error: body }, status);
}

/**
 * @example
 * app.onError(createErrorHandler(logger));
 */
export function createErrorHandler(logger: Logger): ErrorHandler {
  return (error, c) => {
    const status = statusFor(error);
    const where = { method: c.req.method, path: c.req.path, status };
    if (status >= 500) logger.error({ ...where, err: error }, 'request failed');
    else logger.info({ ...where, code: (error as KeywardenError).code }, 'request refused');
    return errorResponse(c, error);
  };
}

export const notFound: NotFoundHandler = (c) =>
  c.json({ error: { code: ErrorCode.ROUTE_NOT_FOUND, message: 'No such route.' } }, 404);
