import { KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { translateAwsError } from '../../src/backends/aws-errors.js';
import { AwsKmsBackend } from '../../src/backends/aws-kms.js';
import { kmsActionToOperations } from '../../src/backends/aws-policy.js';
import { ErrorCode } from '../../src/errors.js';

function awsError(name: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name}: arn:aws:kms:eu-west-1:111122223333:key/abc secret-ish text`), { name, $metadata: {}, ...extra });
}
const ctx = { backend: 'aws-kms', verb: 'encrypt', ref: 'alias/x' };

describe('translateAwsError', () => {
  it.each([
    ['NotFoundException', ErrorCode.KEY_NOT_FOUND, false],
    ['DisabledException', ErrorCode.KEY_STATE, false],
    ['KMSInvalidStateException', ErrorCode.KEY_STATE, false],
    ['AlreadyExistsException', ErrorCode.ALIAS_IN_USE, false],
    ['InvalidCiphertextException', ErrorCode.DECRYPT_FAILED, false],
    ['AccessDeniedException', ErrorCode.BACKEND_DENIED, false],
    ['UnsupportedOperationException', ErrorCode.UNSUPPORTED, false],
    ['ValidationException', ErrorCode.INVALID_ARGUMENT, false],
    ['ThrottlingException', ErrorCode.BACKEND_THROTTLED, true],
    ['KMSInternalException', ErrorCode.BACKEND_UNAVAILABLE, true],
    ['DependencyTimeoutException', ErrorCode.BACKEND_UNAVAILABLE, true],
    ['LimitExceededException', ErrorCode.BACKEND_FAILED, false],
  ])('%s → %s (retryable %s)', (name, code, retryable) => {
    const e = translateAwsError(awsError(name), ctx);
    expect(e).toMatchObject({ code, retryable });
    expect(e.message).not.toContain('secret-ish');
  });

  it('treats network failures and 5xx as retryable, other unknowns as permanent', () => {
    expect(translateAwsError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), ctx)).toMatchObject({ code: ErrorCode.BACKEND_UNAVAILABLE, retryable: true });
    expect(translateAwsError(awsError('Weird', { $metadata: { httpStatusCode: 503 } }), ctx)).toMatchObject({ retryable: true });
    expect(translateAwsError(awsError('Weird', { $metadata: { httpStatusCode: 400 } }), ctx)).toMatchObject({ code: ErrorCode.BACKEND_FAILED, retryable: false });
  });
});

describe('AwsKmsBackend retries', () => {
  it('retries throttling with backoff and gives a typed error when it persists', async () => {
    let calls = 0;
    const client = { send: async () => { calls++; throw awsError('ThrottlingException'); }, destroy: () => {} } as unknown as KMSClient;
    const waits: number[] = [];
    const b = new AwsKmsBackend({ region: 'eu-west-1', client, retry: { attempts: 4, baseDelayMs: 100, random: () => 1 - 1e-9, sleep: async (ms) => void waits.push(ms) } });
    await expect(b.describe('alias/x')).rejects.toMatchObject({ code: ErrorCode.BACKEND_THROTTLED, retryable: true });
    expect(calls).toBe(4);
    expect(waits).toEqual([99, 199, 399]);
  });

  it('does not retry a permanent error', async () => {
    let calls = 0;
    const client = { send: async () => { calls++; throw awsError('AccessDeniedException'); }, destroy: () => {} } as unknown as KMSClient;
    const b = new AwsKmsBackend({ region: 'eu-west-1', client, retry: { sleep: async () => {} } });
    await expect(b.describe('alias/x')).rejects.toMatchObject({ code: ErrorCode.BACKEND_DENIED });
    expect(calls).toBe(1);
  });
});

describe('kmsActionToOperations', () => {
  it('expands wildcards against known actions', () => {
    expect(kmsActionToOperations('kms:*')).toEqual(['*']);
    expect(kmsActionToOperations('kms:Decrypt')).toEqual(['decrypt']);
    expect(kmsActionToOperations('kms:ReEncrypt*').sort()).toEqual(['decrypt', 'encrypt']);
    expect(kmsActionToOperations('kms:Get*')).toEqual(['describe']);
    expect(kmsActionToOperations('s3:GetObject')).toEqual([]);
  });
});
