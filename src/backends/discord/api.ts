import { REST, RESTEvents, type RawFile } from '@discordjs/rest';
import type { APIAttachment, APIChannel, APIGuild, APIMessage, APIUser } from 'discord-api-types/v10';
import { backendError } from './errors.js';
import type { ResolvedDiscordOptions } from './options.js';
import { withRetry } from './retry.js';

export type { APIAttachment, APIChannel, APIGuild, APIMessage, APIUser };

type RouteLike = `/${string}`;

export interface CallOptions {
  body?: unknown;
  files?: RawFile[];
  query?: URLSearchParams;
  /** Says what failed, in the error message. */
  what: string;
  /** Calls that must not be repeated blindly (none today: creates carry a nonce). */
  noRetry?: boolean;
}

/**
 * The Discord REST API through discord.js's `REST` (its per-route buckets, `Retry-After`
 * handling and global limit), with our retry layer for transient failures on top and
 * failures turned into typed errors. discord.js retries 5xx at once and only 3 times, so it
 * is configured with `retries: 0` and every retry with backoff happens here.
 */
export class DiscordApi {
  readonly rest: REST;
  private botUser: Promise<APIUser> | null = null;
  /** Last seen bucket state per `METHOD path` (from X-RateLimit-* headers). */
  private readonly buckets = new Map<string, { remaining: number; resetAt: number }>();

  constructor(private readonly options: ResolvedDiscordOptions) {
    this.rest = new REST({
      ...(options.apiBase ? { api: options.apiBase } : {}),
      ...(options.cdnBase ? { cdn: options.cdnBase } : {}),
      version: '10',
      retries: 0,
      timeout: options.requestTimeoutMs,
    }).setToken(options.token);
    // discord.js paces requests itself; we only read the same headers to decide which thread
    // should take the next message (one whose bucket still has room).
    this.rest.on(RESTEvents.Response, (request, response) => {
      const remaining = Number(response.headers.get('x-ratelimit-remaining'));
      const resetAfter = Number(response.headers.get('x-ratelimit-reset-after'));
      if (!Number.isFinite(remaining) || !Number.isFinite(resetAfter) || response.headers.get('x-ratelimit-remaining') === null) return;
      this.buckets.set(`${String(request.method).toUpperCase()} ${request.path}`, { remaining, resetAt: Date.now() + resetAfter * 1000 });
    });
  }

  /** When a route's bucket has room again: now, or the time its window resets. */
  readyAt(method: string, route: RouteLike): number {
    const b = this.buckets.get(`${method.toUpperCase()} ${route}`);
    if (!b || b.remaining > 0) return 0;
    return b.resetAt;
  }

  get<T>(route: RouteLike, o: CallOptions): Promise<T> {
    return this.call<T>('get', route, o);
  }

  post<T>(route: RouteLike, o: CallOptions): Promise<T> {
    return this.call<T>('post', route, o);
  }

  patch<T>(route: RouteLike, o: CallOptions): Promise<T> {
    return this.call<T>('patch', route, o);
  }

  put<T>(route: RouteLike, o: CallOptions): Promise<T> {
    return this.call<T>('put', route, o);
  }

  delete<T>(route: RouteLike, o: CallOptions): Promise<T> {
    return this.call<T>('delete', route, o);
  }

  /** Like the verbs above but throws discord.js's own error (callers inspect codes). */
  async raw<T>(method: 'get' | 'post' | 'patch' | 'put' | 'delete', route: RouteLike, o: Omit<CallOptions, 'what'>): Promise<T> {
    const request = { body: o.body, files: o.files, query: o.query };
    if (o.noRetry) return (await this.rest[method](route, request)) as T;
    return withRetry(this.options.retry, async () => (await this.rest[method](route, request)) as T);
  }

  private async call<T>(method: 'get' | 'post' | 'patch' | 'put' | 'delete', route: RouteLike, o: CallOptions): Promise<T> {
    try {
      return await this.raw<T>(method, route, o);
    } catch (err) {
      throw backendError(err, o.what);
    }
  }

  /** The bot's own user (cards and keyrings by anyone else are ignored). */
  me(): Promise<APIUser> {
    this.botUser ??= this.get<APIUser>('/users/@me', { what: 'reading the bot user' }).catch((err) => {
      this.botUser = null;
      throw err;
    });
    return this.botUser;
  }

  close(): void {
    this.rest.clearHashSweeper();
    this.rest.clearHandlerSweeper();
  }
}
