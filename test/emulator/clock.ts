/**
 * The emulator's controllable clock. It follows real time plus an offset, so rate-limit windows still
 * elapse on their own, and `advance()` jumps ahead (e.g. 25 h to expire signed CDN URLs) without waiting.
 * Snowflakes, timestamps, URL signatures, URL expiry, nonce windows and rate-limit windows all read it.
 */
export class Clock {
  #offsetMs: number;

  constructor(startAtMs?: number) {
    this.#offsetMs = startAtMs === undefined ? 0 : startAtMs - Date.now();
  }

  /** Current emulator time in epoch milliseconds. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Move the emulator clock forward (or backward with a negative value) by `ms`. */
  advance(ms: number): void {
    this.#offsetMs += ms;
  }

  /** Set the emulator time to an absolute epoch-ms value (it then keeps running from there). */
  set(epochMs: number): void {
    this.#offsetMs = epochMs - Date.now();
  }

  /** How far the emulator clock is ahead of real time. */
  get offsetMs(): number {
    return this.#offsetMs;
  }
}
