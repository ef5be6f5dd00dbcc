/**
 * Retry with exponential backoff and full jitter, for typed retryable errors only.
 *
 * Only a `KeywardenError` with `retryable: true` (throttling, a backend that is briefly
 * unavailable) is tried again; anything else is thrown at once, so a permanent failure
 * such as a missing key or a denied call is never repeated.
 */
import { isKeywardenError } from '../errors.js';

export interface RetryOptions {
  /** Total attempts, including the first. Default 5. */
  attempts?: number;
  /** First backoff ceiling in ms. Default 100. */
  baseDelayMs?: number;
  /** Largest backoff ceiling in ms. Default 5000. */
  maxDelayMs?: number;
  /** Uniform [0, 1). Injected by tests. */
  random?: () => number;
  /** Injected by tests and benchmarks. */
  sleep?: (ms: number) => Promise<void>;
  /** Called before each wait; never given the error message, only its code. */
  onRetry?: (info: { attempt: number; delayMs: number; code: string }) => void;
}

/** The wait before retry number `attempt` (1-based): uniform in [0, min(max, base·2^(attempt-1))]. */
export function backoffDelay(attempt: number, options: Pick<RetryOptions, 'baseDelayMs' | 'maxDelayMs' | 'random'> = {}): number {
  const base = options.baseDelayMs ?? 100;
  const max = options.maxDelayMs ?? 5000;
  const ceiling = Math.min(max, base * 2 ** (attempt - 1));
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

const defaultSleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs `fn`, retrying typed retryable errors.
 *
 * @example
 * const key = await withRetry(() => backend.describe('alias/payments'), { attempts: 3 });
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 5);
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!isKeywardenError(e) || !e.retryable || attempt >= attempts) throw e;
      const delayMs = backoffDelay(attempt, options);
      options.onRetry?.({ attempt, delayMs, code: e.code });
      await sleep(delayMs);
    }
  }
}
