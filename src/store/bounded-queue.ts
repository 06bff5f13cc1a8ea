/**
 * An async queue bounded by a byte budget: the producer waits while the consumer is more than
 * `capacity` bytes behind, so a read-ahead pipeline never holds more than that in memory.
 */
export class BoundedQueue<T> implements AsyncIterable<T> {
  private readonly items: Array<{ item: T; bytes: number }> = [];
  private buffered = 0;
  private closed = false;
  private failure: { error: unknown } | null = null;
  private wakeConsumer: (() => void) | null = null;
  private wakeProducer: (() => void) | null = null;

  constructor(private readonly capacity: number) {}

  async push(item: T, bytes: number): Promise<void> {
    while (this.buffered > 0 && this.buffered + bytes > this.capacity && !this.failure) {
      await new Promise<void>((resolve) => (this.wakeProducer = resolve));
    }
    if (this.failure) throw this.failure.error;
    this.items.push({ item, bytes });
    this.buffered += bytes;
    this.wake('consumer');
  }

  close(): void {
    this.closed = true;
    this.wake('consumer');
  }

  /** Fails the queue: the consumer sees `error` at its next pull, the producer at its next push. */
  fail(error: unknown): void {
    if (!this.failure) this.failure = { error };
    this.wake('consumer');
    this.wake('producer');
  }

  private wake(who: 'consumer' | 'producer'): void {
    const fn = who === 'consumer' ? this.wakeConsumer : this.wakeProducer;
    if (who === 'consumer') this.wakeConsumer = null;
    else this.wakeProducer = null;
    fn?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      const next = this.items.shift();
      if (next) {
        this.buffered -= next.bytes;
        this.wake('producer');
        yield next.item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }
}
