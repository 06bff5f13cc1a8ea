import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ParsedBody, readBody } from './body.js';
import { MiB } from './constants.js';
import type { EmulatorContext } from './context.js';
import { ApiError, Errors } from './errors.js';
import type { RestFault } from './faults.js';
import { secs } from './ratelimit.js';
import { type RouteResult, Router } from './router.js';
import { Stats } from './stats.js';

const CLOUDFLARE_5XX = (status: number): string =>
  `<html>\r\n<head><title>${status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>${status} Bad Gateway</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`;

/** Attachment limit for the guild's current boost tier. */
export function attachmentLimit(ctx: EmulatorContext): number {
  return ctx.options.limits.attachmentBytesByTier[ctx.state.guild.premiumTier];
}

/** Request body limit: the configured one, raised so that one file at the tier's limit still fits. */
export function requestLimit(ctx: EmulatorContext): number {
  return Math.max(ctx.options.limits.maxRequestBytes, attachmentLimit(ctx) + MiB);
}

function send(
  ctx: EmulatorContext,
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
  drop?: RestFault,
): void {
  ctx.stats.responsesByStatus.set(status, (ctx.stats.responsesByStatus.get(status) ?? 0) + 1);
  const payload = status === 204 || body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
  const h: Record<string, string | number> = { ...headers, 'Content-Length': payload.length, Via: '1.1 google', 'X-Emulator': 'dos' };
  if (payload.length > 0) h['Content-Type'] = 'application/json';
  if (drop) {
    ctx.stats.droppedConnections++;
    const cut = Math.min(drop.afterBytes ?? Math.floor(payload.length / 2), Math.max(0, payload.length - 1));
    if (payload.length === 0) {
      res.socket?.destroy();
      return;
    }
    res.writeHead(status, h);
    res.write(payload.subarray(0, cut), () => res.socket?.destroy());
    return;
  }
  res.writeHead(status, h);
  res.end(payload);
}

function rateLimitedBody(retryAfterMs: number, global: boolean): Record<string, unknown> {
  return { message: 'You are being rate limited.', retry_after: Number(secs(retryAfterMs)), global };
}

/** Handles everything under `/api`. `rest` is the path after `/api`. */
export async function handleApi(ctx: EmulatorContext, router: Router, req: IncomingMessage, res: ServerResponse, rest: string, query: URLSearchParams): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const vm = /^\/v(\d+)(\/.*)?$/.exec(rest);
  const path = vm ? (vm[2] ?? '/') : rest;
  let segments: string[];
  try {
    segments = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  } catch {
    send(ctx, res, 400, { message: '400: Bad Request', code: 0 }, {});
    return;
  }
  const m = router.match(method, segments);
  const routeId = m.kind === 'ok' ? m.route.id : m.kind === 'method' ? m.routeId : `${method} ${path}`;
  Stats.bump(ctx.stats.requestsByRoute, routeId);
  ctx.log(`REST ${method} ${path}`);

  const forced = ctx.faults.takeRest(['5xx', '429'], method, m.kind === 'ok' ? routeId : null, path);
  if (forced?.kind === '5xx') {
    ctx.stats.served5xx++;
    ctx.stats.responsesByStatus.set(forced.status, (ctx.stats.responsesByStatus.get(forced.status) ?? 0) + 1);
    const html = CLOUDFLARE_5XX(forced.status);
    res.writeHead(forced.status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(html) });
    res.end(html);
    return;
  }
  if (forced?.kind === '429') {
    ctx.stats.served429.forced++;
    ctx.stats.invalidRequests++;
    ctx.limiter.recordInvalid();
    const headers: Record<string, string> = forced.global
      ? { 'X-RateLimit-Global': 'true', 'X-RateLimit-Scope': 'global' }
      : {
          ...(m.kind === 'ok' ? ctx.limiter.peek(m.route.id, Router.majorValue(m.route, m.params)) : {}),
          'X-RateLimit-Remaining': '0',
          'X-RateLimit-Reset-After': secs(forced.retryAfterMs),
          'X-RateLimit-Reset': secs(ctx.clock.now() + forced.retryAfterMs),
          'X-RateLimit-Scope': 'user',
        };
    headers['Retry-After'] = ctx.limiter.retryAfterHeader(forced.retryAfterMs);
    send(ctx, res, 429, rateLimitedBody(forced.retryAfterMs, forced.global), headers);
    return;
  }

  if (m.kind === 'none') return send(ctx, res, 404, Errors.notFound().toJSON(), {});
  if (m.kind === 'method') return send(ctx, res, 405, Errors.methodNotAllowed().toJSON(), {});
  const r = m.route;

  if (r.auth === 'bot') {
    const auth = req.headers['authorization'];
    if (auth !== `Bot ${ctx.state.token}`) {
      ctx.stats.invalidRequests++;
      ctx.limiter.recordInvalid();
      return send(ctx, res, 401, Errors.unauthorized().toJSON(), {});
    }
  }

  const banned = ctx.limiter.bannedForMs();
  if (banned > 0) {
    ctx.stats.served429.banned++;
    ctx.stats.invalidRequests++;
    const html = '<!DOCTYPE html><html><head><title>Access denied | discord.com used Cloudflare to restrict access</title></head><body>error code: 1015</body></html>';
    ctx.stats.responsesByStatus.set(429, (ctx.stats.responsesByStatus.get(429) ?? 0) + 1);
    res.writeHead(429, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(html), 'Retry-After': String(Math.ceil(banned / 1000)) });
    res.end(html);
    return;
  }

  const major = Router.majorValue(r, m.params);
  const decision = ctx.limiter.take(r.id, major, { global: r.globalLimit });
  if (!decision.ok) {
    if (decision.global) ctx.stats.served429.global++;
    else ctx.stats.served429.bucket++;
    ctx.stats.invalidRequests++;
    ctx.limiter.recordInvalid();
    return send(ctx, res, 429, rateLimitedBody(decision.retryAfterMs ?? 0, decision.global ?? false), decision.headers);
  }
  const rlHeaders = decision.headers;

  let result: RouteResult;
  try {
    let body: ParsedBody = { json: undefined, files: [], multipart: false, bytes: 0 };
    if (r.body !== 'none' && method !== 'GET' && method !== 'HEAD') {
      body = await readBody(req, { maxRequestBytes: requestLimit(ctx), maxFileBytes: attachmentLimit(ctx) });
      if (r.body === 'json' && body.files.length > 0) body = { ...body, files: [] };
    }
    result = await r.handler({ ctx, params: m.params, query, body, req, routeId: r.id, userId: ctx.state.botUserId });
  } catch (err) {
    if (err instanceof ApiError) {
      if (err.status === 401 || err.status === 403) {
        ctx.stats.invalidRequests++;
        ctx.limiter.recordInvalid();
      }
      const drop = ctx.faults.takeRest(['drop'], method, r.id, path);
      return send(ctx, res, err.status, err.toJSON(), rlHeaders, drop);
    }
    ctx.log(`REST ${method} ${path} crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return send(ctx, res, 500, { message: '500: Internal Server Error', code: 0 }, rlHeaders);
  }
  const drop = ctx.faults.takeRest(['drop'], method, r.id, path);
  send(ctx, res, result.status, method === 'HEAD' ? undefined : result.body, rlHeaders, drop);
}
