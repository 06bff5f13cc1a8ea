import { Errors, invalidForm } from '../errors.js';
import { applicationPayload, attachmentUrls, botUserPayload, userPayload } from '../payloads.js';
import { basePermissions } from '../permissions.js';
import { type RouteDef, route } from '../router.js';

const ok = (body: unknown) => ({ status: 200, body });

export const miscRoutes: RouteDef[] = [
  route('GET', '/gateway', (r) => ok({ url: r.ctx.gatewayUrl }), { auth: 'none' }),
  route('GET', '/gateway/bot', (r) =>
    ok({
      url: r.ctx.gatewayUrl,
      shards: 1,
      session_start_limit: { total: 1000, remaining: 1000 - r.ctx.stats.gateway.identifies, reset_after: 24 * 3600_000, max_concurrency: 1 },
    }),
  ),
  route('GET', '/users/@me', (r) => ok(botUserPayload(r.ctx))),
  route('GET', '/users/@me/guilds', (r) => {
    const g = r.ctx.state.guild;
    return ok([{ id: g.id, name: g.name, icon: null, banner: null, owner: false, permissions: basePermissions(r.ctx.state, r.userId).toString(), features: [] }]);
  }),
  route('GET', '/users/:user_id', (r) => {
    const u = r.ctx.state.users.get(r.params['user_id']!);
    if (!u) throw Errors.unknownUser();
    return ok(userPayload(u));
  }),
  route('GET', '/applications/@me', (r) => ok(applicationPayload(r.ctx))),
  route('GET', '/oauth2/applications/@me', (r) => ok(applicationPayload(r.ctx))),
  route('POST', '/attachments/refresh-urls', (r) => {
    const { ctx } = r;
    const urls = (r.body.json as { attachment_urls?: unknown } | undefined)?.attachment_urls;
    if (!Array.isArray(urls)) throw invalidForm(['attachment_urls'], 'BASE_TYPE_REQUIRED', 'This field is required');
    const max = ctx.options.limits.refreshUrlsMax;
    if (urls.length > max) throw invalidForm(['attachment_urls'], 'BASE_TYPE_MAX_LENGTH', `Must be ${max} or fewer in length.`);
    ctx.stats.refreshUrlsCalls++;
    const refreshed_urls = urls.map((original: unknown) => {
      const o = String(original);
      let refreshed = o;
      try {
        const u = new URL(o);
        const m = /^\/(media\/)?attachments\/(\d+)\/(\d+)\/([^/]+)$/.exec(u.pathname);
        const a = m ? ctx.state.attachments.get(m[3]!) : undefined;
        if (m && a && !a.deleted && a.channelId === m[2] && encodeURIComponent(a.filename) === m[4]) {
          const fresh = attachmentUrls(ctx, a);
          refreshed = m[1] ? fresh.proxy_url : fresh.url;
          ctx.stats.refreshedUrls++;
        }
      } catch {
        // not a URL: returned unchanged
      }
      return { original: o, refreshed };
    });
    return ok({ refreshed_urls });
  }),
];
