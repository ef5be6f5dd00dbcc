import { describe, expect, it } from 'vitest';
import { backoffDelay, withRetry } from '../../src/backends/retry.js';
import { ErrorCode, KeywardenError } from '../../src/errors.js';

const throttled = (): KeywardenError => new KeywardenError(ErrorCode.BACKEND_THROTTLED, 'Throttled.', { retryable: true });

describe('withRetry', () => {
  it('retries typed retryable errors with growing, jittered waits, then succeeds', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 4) throw throttled();
        return 'ok';
      },
      { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.5, sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(4);
    expect(waits).toEqual([50, 100, 200]);
  });

  it('caps the backoff and applies full jitter', () => {
    expect(backoffDelay(10, { baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 })).toBe(999);
    expect(backoffDelay(3, { baseDelayMs: 100, random: () => 0 })).toBe(0);
  });

  it('does not retry permanent errors', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new KeywardenError(ErrorCode.KEY_NOT_FOUND, 'No key.');
      }, { sleep: async () => {} }),
    ).rejects.toMatchObject({ code: ErrorCode.KEY_NOT_FOUND });
    expect(calls).toBe(1);
  });

  it('does not retry foreign errors', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new Error('boom');
      }, { sleep: async () => {} }),
    ).rejects.toThrow('boom');
    expect(calls).toBe(1);
  });

  it('gives up after the last attempt with the typed error', async () => {
    let calls = 0;
    const codes: string[] = [];
    await expect(
      withRetry(
        async () => {
          calls++;
          throw throttled();
        },
        { attempts: 3, sleep: async () => {}, onRetry: (i) => codes.push(i.code) },
      ),
    ).rejects.toMatchObject({ code: ErrorCode.BACKEND_THROTTLED, retryable: true });
    expect(calls).toBe(3);
    expect(codes).toEqual([ErrorCode.BACKEND_THROTTLED, ErrorCode.BACKEND_THROTTLED]);
  });
});
