/**
 * Runs an async job for each item ahead of the consumer, with at most `concurrency` jobs running
 * at once, and hands the results back strictly in item order. Used for key derivation: PBKDF2
 * dominates seed restores (600 000 iterations per chunk), so deriving the next keys while the
 * current chunk is decrypted and written keeps both cores busy, and output stays in order.
 *
 * A job's failure is delivered when the consumer reaches that item, never earlier, so the
 * files before it are completed as if the failure had not happened yet.
 */
export class OrderedPrefetcher<I, O> {
  private started = 0;
  private running = 0;
  private readonly queue: Array<{ item: I; result: Promise<O> }> = [];
  private closed = false;
  /** Results waiting for the consumer are bounded too: each may hold a ~10 MB chunk. */
  private readonly maxQueued: number;

  constructor(
    private readonly items: readonly I[],
    private readonly job: (item: I) => Promise<O>,
    private readonly concurrency = 2,
  ) {
    this.maxQueued = concurrency + 1;
    this.fill();
  }

  /** The next item in order, with its (awaited) result. */
  async take(): Promise<{ item: I; result: O }> {
    const head = this.queue.shift();
    if (head === undefined) throw new Error('OrderedPrefetcher: no more items (internal ordering bug)');
    this.fill();
    return { item: head.item, result: await head.result };
  }

  /** Stops starting jobs and waits for the ones not yet taken, so nothing runs after the caller returns. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.queue.splice(0).map((entry) => entry.result));
  }

  private fill(): void {
    while (!this.closed && this.started < this.items.length && this.running < this.concurrency && this.queue.length < this.maxQueued) {
      const item = this.items[this.started++] as I;
      this.running++;
      const result = this.job(item).finally(() => {
        this.running--;
        this.fill();
      });
      // Observed later by take() or close(); this only stops an early rejection from being
      // reported as unhandled while it waits its turn.
      result.catch(() => undefined);
      this.queue.push({ item, result });
    }
  }
}
