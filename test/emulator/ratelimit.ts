import { createHash } from 'node:crypto';
import type { Clock } from './clock.js';
import type { BucketLimit, RateLimitConfig } from './options.js';

export interface RateLimitDecision {
  ok: boolean;
  /** Headers to send (X-RateLimit-*; for a 429 also Retry-After). */
  headers: Record<string, string>;
  /** Only for a 429. */
  retryAfterMs?: number;
  global?: boolean;
  scope?: 'user' | 'global' | 'shared';
}

interface Window {
  count: number;
  resetAt: number;
}

/** Formats seconds the way the headers carry them (decimal, 3 places). */
export function secs(ms: number): string {
  return (Math.max(0, ms) / 1000).toFixed(3);
}

/**
 * Per-route, per-major-parameter fixed-window buckets plus a global per-token bucket, all on the emulator clock.
 * Bucket hashes depend on the route (or its `shared` key), not on the major parameter, like Discord's.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, Window>();
  #global: Window = { count: 0, resetAt: 0 };
  #invalid: Window = { count: 0, resetAt: 0 };

  constructor(
    private readonly clock: Clock,
    readonly config: RateLimitConfig,
  ) {}

  spec(routeId: string): BucketLimit {
    return this.config.routes[routeId] ?? this.config.defaultBucket;
  }

  bucketHash(routeId: string): string {
    const spec = this.spec(routeId);
    return createHash('sha1').update(spec.shared ?? routeId).digest('hex').slice(0, 32);
  }

  retryAfterHeader(ms: number): string {
    if (this.config.retryAfterHeader === 'fractional') return secs(ms);
    return String(Math.max(1, Math.ceil(ms / 1000)));
  }

  /** Check and consume one request. `major` is the channel/guild/webhook id (or 'global'). */
  take(routeId: string, major: string, opts: { global: boolean }): RateLimitDecision {
    const now = this.clock.now();
    const g = this.config.global;
    if (opts.global && g) {
      if (now >= this.#global.resetAt) this.#global = { count: 0, resetAt: now + g.windowMs };
      if (this.#global.count >= g.limit) {
        const retryAfterMs = this.#global.resetAt - now;
        return {
          ok: false,
          global: true,
          scope: 'global',
          retryAfterMs,
          headers: { 'Retry-After': this.retryAfterHeader(retryAfterMs), 'X-RateLimit-Global': 'true', 'X-RateLimit-Scope': 'global' },
        };
      }
      this.#global.count++;
    }
    const spec = this.spec(routeId);
    const hash = this.bucketHash(routeId);
    const key = `${hash}:${major}`;
    let w = this.#buckets.get(key);
    if (!w || now >= w.resetAt) {
      w = { count: 0, resetAt: now + spec.windowMs };
      this.#buckets.set(key, w);
    }
    const resetAfterMs = w.resetAt - now;
    const base = {
      'X-RateLimit-Limit': String(spec.limit),
      'X-RateLimit-Reset': secs(w.resetAt),
      'X-RateLimit-Reset-After': secs(resetAfterMs),
      'X-RateLimit-Bucket': hash,
    };
    if (w.count >= spec.limit) {
      return {
        ok: false,
        global: false,
        scope: spec.shared ? 'shared' : 'user',
        retryAfterMs: resetAfterMs,
        headers: {
          ...base,
          'X-RateLimit-Remaining': '0',
          'Retry-After': this.retryAfterHeader(resetAfterMs),
          'X-RateLimit-Scope': spec.shared ? 'shared' : 'user',
        },
      };
    }
    w.count++;
    return { ok: true, headers: { ...base, 'X-RateLimit-Remaining': String(spec.limit - w.count) } };
  }

  /** Headers for a bucket without consuming (used on forced 429s). */
  peek(routeId: string, major: string): Record<string, string> {
    const now = this.clock.now();
    const spec = this.spec(routeId);
    const hash = this.bucketHash(routeId);
    const w = this.#buckets.get(`${hash}:${major}`);
    const resetAt = w && now < w.resetAt ? w.resetAt : now + spec.windowMs;
    return {
      'X-RateLimit-Limit': String(spec.limit),
      'X-RateLimit-Remaining': String(w && now < w.resetAt ? Math.max(0, spec.limit - w.count) : spec.limit),
      'X-RateLimit-Reset': secs(resetAt),
      'X-RateLimit-Reset-After': secs(resetAt - now),
      'X-RateLimit-Bucket': hash,
    };
  }

  /** Count a 401/403/429 answer. Returns true when the Cloudflare ban threshold is reached. */
  recordInvalid(): void {
    const cfg = this.config.invalidRequests;
    if (!cfg) return;
    const now = this.clock.now();
    if (now >= this.#invalid.resetAt) this.#invalid = { count: 0, resetAt: now + cfg.windowMs };
    this.#invalid.count++;
  }

  /** Remaining ban time in ms (0 = not banned). */
  bannedForMs(): number {
    const cfg = this.config.invalidRequests;
    if (!cfg) return 0;
    const now = this.clock.now();
    if (now >= this.#invalid.resetAt) return 0;
    return this.#invalid.count >= cfg.limit ? this.#invalid.resetAt - now : 0;
  }

  /** Set or replace a route's bucket at runtime. */
  setRoute(routeId: string, spec: BucketLimit | null): void {
    if (spec) this.config.routes[routeId] = spec;
    else delete this.config.routes[routeId];
  }

  reset(): void {
    this.#buckets.clear();
    this.#global = { count: 0, resetAt: 0 };
    this.#invalid = { count: 0, resetAt: 0 };
  }
}
