import type { IncomingMessage } from 'node:http';
import type { ParsedBody } from './body.js';
import type { EmulatorContext } from './context.js';

export type BodyKind = 'none' | 'json' | 'message';

export interface RouteRequest {
  ctx: EmulatorContext;
  params: Record<string, string>;
  query: URLSearchParams;
  body: ParsedBody;
  req: IncomingMessage;
  routeId: string;
  /** The authenticated user (the bot) for routes with bot auth. */
  userId: string;
}

export interface RouteResult {
  status: number;
  body?: unknown;
}

export interface RouteDef {
  method: string;
  /** e.g. `/channels/:channel_id/messages/:message_id` */
  pattern: string;
  auth: 'bot' | 'none';
  body: BodyKind;
  /** Rate-limit major parameter: a param name, `webhook` (id/token), or null (`global`). */
  major: string | null;
  /** Counts against the global 50/s limit (interaction callbacks don't). */
  globalLimit: boolean;
  handler(r: RouteRequest): RouteResult | Promise<RouteResult>;
}

export interface CompiledRoute extends RouteDef {
  id: string;
  segments: string[];
}

export type RouteMatchResult =
  | { kind: 'ok'; route: CompiledRoute; params: Record<string, string> }
  | { kind: 'method'; routeId: string }
  | { kind: 'none' };

export function route(
  method: string,
  pattern: string,
  handler: RouteDef['handler'],
  opts: Partial<Pick<RouteDef, 'auth' | 'body' | 'major' | 'globalLimit'>> = {},
): RouteDef {
  const major = opts.major !== undefined ? opts.major : pattern.startsWith('/channels/:channel_id') ? 'channel_id' : pattern.startsWith('/guilds/:guild_id') ? 'guild_id' : pattern.startsWith('/webhooks/') ? 'webhook' : null;
  return {
    method,
    pattern,
    handler,
    auth: opts.auth ?? 'bot',
    body: opts.body ?? (method === 'GET' || method === 'DELETE' ? 'none' : 'json'),
    major,
    globalLimit: opts.globalLimit ?? true,
  };
}

export class Router {
  readonly routes: CompiledRoute[] = [];

  add(...defs: RouteDef[]): this {
    for (const d of defs) this.routes.push({ ...d, id: `${d.method} ${d.pattern}`, segments: d.pattern.split('/').filter(Boolean) });
    return this;
  }

  match(method: string, segments: string[]): RouteMatchResult {
    let methodMismatch: string | null = null;
    for (const r of this.routes) {
      if (r.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < segments.length; i++) {
        const want = r.segments[i]!;
        const got = segments[i]!;
        if (want.startsWith(':')) params[want.slice(1)] = got;
        else if (want !== got) {
          ok = false;
          break;
        }
      }
      if (!ok) continue;
      if (r.method === method || (method === 'HEAD' && r.method === 'GET')) return { kind: 'ok', route: r, params };
      methodMismatch ??= `${method} ${r.pattern}`;
    }
    return methodMismatch ? { kind: 'method', routeId: methodMismatch } : { kind: 'none' };
  }

  /** Rate-limit major value for a matched route. */
  static majorValue(r: CompiledRoute, params: Record<string, string>): string {
    if (r.major === 'webhook') return `${params['webhook_id'] ?? params['application_id'] ?? ''}/${params['token'] ?? ''}`;
    if (r.major) return params[r.major] ?? 'global';
    return 'global';
  }
}
