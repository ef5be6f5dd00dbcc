/**
 * Translates AWS SDK errors into `KeywardenError`s at the adapter edge.
 *
 * The AWS message is kept only as `cause` (it can quote ARNs and request ids, and we do not
 * let foreign text into our messages). Throttling, 5xx and network failures are retryable;
 * everything else is permanent.
 */
import { ErrorCode, KeywardenError, UnsupportedError, type ErrorCode as Code } from '../errors.js';

interface AwsLikeError {
  name?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']);

export interface AwsErrorContext {
  backend: string;
  verb: string;
  ref?: string;
}

export function translateAwsError(e: unknown, ctx: AwsErrorContext): KeywardenError {
  if (e instanceof KeywardenError) return e;
  const err = (e ?? {}) as AwsLikeError;
  const name = err.name ?? '';
  const status = err.$metadata?.httpStatusCode;
  const details = { backend: ctx.backend, verb: ctx.verb, ...(ctx.ref ? { ref: ctx.ref } : {}), awsError: name };
  const make = (code: Code, message: string, extra: { retryable?: boolean; fault?: 'user' | 'config' | 'backend' | 'internal'; hint?: string } = {}): KeywardenError =>
    new KeywardenError(code, message, { cause: e, details, fault: extra.fault ?? 'backend', retryable: extra.retryable ?? false, ...(extra.hint ? { hint: extra.hint } : {}) });

  switch (name) {
    case 'NotFoundException':
    case 'NoSuchEntityException':
      return make(ErrorCode.KEY_NOT_FOUND, `${ctx.ref ? `"${ctx.ref}"` : 'The key'} was not found in ${ctx.backend}.`, { fault: 'user' });
    case 'DisabledException':
    case 'KMSInvalidStateException':
    case 'InvalidStateException':
      return make(ErrorCode.KEY_STATE, `${ctx.ref ?? 'The key'} is not in a state that allows ${ctx.verb}.`, { fault: 'user' });
    case 'AlreadyExistsException':
    case 'EntityAlreadyExistsException':
      return make(ErrorCode.ALIAS_IN_USE, `${ctx.ref ?? 'That name'} is already in use in ${ctx.backend}.`, { fault: 'user' });
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
    case 'InvalidKeyUsageException':
      return make(ErrorCode.DECRYPT_FAILED, 'The ciphertext did not decrypt: wrong key, wrong encryption context, or altered data.', { fault: 'user' });
    case 'AccessDeniedException':
    case 'AccessDenied':
    case 'UnrecognizedClientException':
    case 'InvalidClientTokenId':
    case 'SignatureDoesNotMatch':
      return make(ErrorCode.BACKEND_DENIED, `${ctx.backend} denied ${ctx.verb}. Check the credentials and the key policy.`, { fault: 'backend' });
    case 'UnsupportedOperationException':
      return new UnsupportedError(ctx.backend, ctx.verb);
    case 'ValidationException':
    case 'InvalidArnException':
    case 'InvalidAliasNameException':
    case 'MalformedPolicyDocumentException':
    case 'InvalidInput':
    case 'ValidationError':
      return make(ErrorCode.INVALID_ARGUMENT, `${ctx.backend} rejected the arguments of ${ctx.verb}.`, { fault: 'user' });
    case 'ThrottlingException':
    case 'Throttling':
    case 'TooManyRequestsException':
    case 'RequestLimitExceeded':
      return make(ErrorCode.BACKEND_THROTTLED, `${ctx.backend} throttled ${ctx.verb}; it will be retried.`, { retryable: true });
    case 'LimitExceededException':
      return make(ErrorCode.BACKEND_FAILED, `${ctx.backend} refused ${ctx.verb}: a service quota was reached.`, {
        hint: 'KMS allows at most 10 on-demand rotations per key; IAM allows 2 access keys per user.',
      });
    case 'KMSInternalException':
    case 'DependencyTimeoutException':
    case 'ServiceUnavailable':
    case 'ServiceFailure':
      return make(ErrorCode.BACKEND_UNAVAILABLE, `${ctx.backend} failed transiently during ${ctx.verb}; it will be retried.`, { retryable: true });
  }
  const sysCode = err.code ?? (e as { cause?: { code?: string } })?.cause?.code;
  if ((sysCode && NETWORK_CODES.has(sysCode)) || name === 'TimeoutError' || (status !== undefined && status >= 500) || err.$retryable) {
    return make(
      err.$retryable?.throttling || status === 429 ? ErrorCode.BACKEND_THROTTLED : ErrorCode.BACKEND_UNAVAILABLE,
      `${ctx.backend} could not be reached or failed during ${ctx.verb}; it will be retried.`,
      { retryable: true },
    );
  }
  return make(ErrorCode.BACKEND_FAILED, `${ctx.backend} failed during ${ctx.verb}${name ? ` (${name})` : ''}.`);
}
