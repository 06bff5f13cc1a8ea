/**
 * A tiny bounded window of in-flight promises: `push` waits while the window is full, so
 * memory stays bounded however large the input is. Errors surface at the next push or drain.
 */
export class Window {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = undefined;
  private failed = false;

  constructor(private readonly limit: number) {}

  async push(task: () => Promise<void>): Promise<void> {
    this.throwIfFailed();
    while (this.inFlight.size >= this.limit) {
      await Promise.race(this.inFlight);
      this.throwIfFailed();
    }
    const promise: Promise<void> = task()
      .catch((err: unknown) => {
        if (!this.failed) {
          this.failed = true;
          this.failure = err;
        }
      })
      .finally(() => this.inFlight.delete(promise));
    this.inFlight.add(promise);
  }

  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.race(this.inFlight);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failed) throw this.failure;
  }
}

/** Runs `fn` over items with at most `limit` at once, preserving nothing but completion. */
export async function forEachLimited<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const window = new Window(limit);
  for (const item of items) await window.push(() => fn(item));
  await window.drain();
}
