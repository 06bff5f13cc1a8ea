import { isTransient } from './errors.js';
import type { RetryPolicy } from './options.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `attempt` until it succeeds, retrying transient failures (5xx, dropped connections,
 * timeouts, short bodies) with exponential backoff and jitter (half fixed, half random). discord.js is configured
 * with `retries: 0`, so this is the only retry layer for those; rate limits (429) are not
 * retried here: discord.js waits them out from the headers, so nothing ever hammers a 429.
 * Anything else (a 4xx answer, our own typed errors) is thrown at once.
 */
export async function withRetry<T>(policy: RetryPolicy, attempt: (n: number) => Promise<T>, shouldRetry: (err: unknown) => boolean = isTransient): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= policy.attempts || !shouldRetry(err)) throw err;
      const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
      await sleep(ceiling / 2 + Math.random() * (ceiling / 2));
    }
  }
}
