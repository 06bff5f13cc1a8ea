import type { Clock } from './clock.js';
import { DISCORD_EPOCH } from './constants.js';

/** Discord snowflakes from the emulator clock: strictly increasing strings. */
export class SnowflakeGenerator {
  #lastMs = 0n;
  #increment = 0n;

  constructor(
    private readonly clock: Clock,
    private readonly workerId = 1n,
    private readonly processId = 0n,
  ) {}

  next(): string {
    let ms = BigInt(Math.floor(this.clock.now()));
    if (ms < this.#lastMs) ms = this.#lastMs; // never go backwards, even if the clock is moved back
    if (ms === this.#lastMs) {
      this.#increment += 1n;
      if (this.#increment > 0xfffn) {
        ms += 1n;
        this.#increment = 0n;
      }
    } else {
      this.#increment = 0n;
    }
    this.#lastMs = ms;
    const id = ((ms - DISCORD_EPOCH) << 22n) | (this.workerId << 17n) | (this.processId << 12n) | this.#increment;
    return id.toString();
  }
}

export function snowflakeTimestamp(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && /^\d{1,20}$/.test(value);
}

/** Discord-style ISO timestamp, e.g. 2024-01-01T00:00:00.123000+00:00 */
export function isoTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '000+00:00');
}
