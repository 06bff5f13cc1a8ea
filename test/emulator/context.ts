import type { Clock } from './clock.js';
import type { Faults } from './faults.js';
import type { ResolvedOptions } from './options.js';
import type { RateLimiter } from './ratelimit.js';
import type { UrlSigner } from './signing.js';
import type { SnowflakeGenerator } from './snowflake.js';
import type { EmulatorState } from './state.js';
import type { Stats } from './stats.js';

/** A gateway dispatch, filtered per session by intents. */
export interface DispatchEvent {
  t: string;
  d: unknown;
  /** Intent bit the session must have identified with, or null (always delivered). */
  intent: number | null;
  /** A direct-message event: Discord sends those to shard 0 only, whatever the guild's shard. */
  dm?: boolean;
  /**
   * For message payloads: who wrote it and whom it mentions. Sessions without the MESSAGE_CONTENT intent get
   * `blanked` instead of `d`, unless the bot wrote the message or is mentioned in it.
   */
  content?: { authorId: string; mentionIds: readonly string[]; blanked: unknown };
}

export interface Dispatcher {
  dispatch(event: DispatchEvent): void;
}

/** Everything the handlers share. */
export interface EmulatorContext {
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly ids: SnowflakeGenerator;
  readonly state: EmulatorState;
  readonly stats: Stats;
  readonly signer: UrlSigner;
  readonly faults: Faults;
  readonly limiter: RateLimiter;
  dispatcher: Dispatcher;
  /** http://host:port (set once listening). */
  baseUrl: string;
  /** ws://host:port/gateway */
  gatewayUrl: string;
  log(line: string): void;
}
