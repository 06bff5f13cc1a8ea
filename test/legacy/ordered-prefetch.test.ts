import { describe, expect, it } from 'vitest';
import { OrderedPrefetcher } from '../../src/legacy/ordered-prefetch.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OrderedPrefetcher (key derivation ahead of the writer)', () => {
  it('runs at most `window` jobs at once and yields results strictly in item order', async () => {
    let running = 0;
    let peak = 0;
    const delays = [30, 5, 20, 1, 10, 2];
    const prefetcher = new OrderedPrefetcher(delays, async (ms) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(ms);
      running--;
      return ms * 10;
    }, 2);
    const out: number[] = [];
    for (let i = 0; i < delays.length; i++) out.push((await prefetcher.take()).result);
    await prefetcher.close();
    expect(out).toEqual(delays.map((ms) => ms * 10));
    expect(peak).toBe(2);
  });

  it('delivers a failure only when the consumer reaches that item', async () => {
    const prefetcher = new OrderedPrefetcher([1, 2, 3], async (n) => {
      if (n === 2) throw new Error('boom');
      return n;
    });
    expect((await prefetcher.take()).result).toBe(1);
    await expect(prefetcher.take()).rejects.toThrow('boom');
    await prefetcher.close();
  });

  it('close() waits for jobs in flight and starts no new ones', async () => {
    const started: number[] = [];
    let finished = 0;
    const prefetcher = new OrderedPrefetcher([1, 2, 3, 4], async (n) => {
      started.push(n);
      await sleep(10);
      finished++;
      return n;
    }, 2);
    await prefetcher.close();
    expect(started).toEqual([1, 2]);
    expect(finished).toBe(2);
  });
});
