import { Intents, Permissions } from '../constants.js';
import { Errors, invalidForm } from '../errors.js';
import { createMessage, deleteMessage, editMessage, listMessages, pinMessage, requirePerms, textChannel, unpinMessage } from '../messages.js';
import { restMessagePayload } from '../payloads.js';
import { has } from '../permissions.js';
import { type RouteDef, type RouteRequest, route } from '../router.js';
import { isoTimestamp, snowflakeTimestamp } from '../snowflake.js';
import { parseMessageInput } from '../validate.js';

const ok = (body: unknown) => ({ status: 200, body });
const noContent = () => ({ status: 204 });

function history(r: RouteRequest) {
  const c = textChannel(r.ctx, r.params['channel_id']!);
  const perms = requirePerms(r.ctx, r.userId, c);
  return { c, canRead: has(perms, Permissions.ReadMessageHistory) };
}

function getPinsPaginated(r: RouteRequest) {
  const { ctx } = r;
  const { c, canRead } = history(r);
  if (!canRead) return ok({ items: [], has_more: false });
  const limitRaw = r.query.get('limit');
  const limit = limitRaw === null ? 50 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 50) throw invalidForm(['limit'], 'NUMBER_TYPE_MAX', 'int value should be less than or equal to 50.');
  const beforeRaw = r.query.get('before');
  const before = beforeRaw === null ? Number.POSITIVE_INFINITY : Date.parse(beforeRaw);
  const pins = ctx.state.pinnedMessages(c.id).filter((m) => (m.pinnedAt ?? 0) < before);
  return ok({
    items: pins.slice(0, limit).map((m) => ({ pinned_at: isoTimestamp(m.pinnedAt ?? 0), message: restMessagePayload(ctx, m) })),
    has_more: pins.length > limit,
  });
}

function getPinsLegacy(r: RouteRequest) {
  const { c, canRead } = history(r);
  if (!canRead) return ok([]);
  return ok(r.ctx.state.pinnedMessages(c.id).map((m) => restMessagePayload(r.ctx, m)));
}

const pin = (r: RouteRequest) => {
  pinMessage(r.ctx, r.params['channel_id']!, r.params['message_id']!, r.userId);
  return noContent();
};
const unpin = (r: RouteRequest) => {
  unpinMessage(r.ctx, r.params['channel_id']!, r.params['message_id']!, r.userId);
  return noContent();
};

function reaction(r: RouteRequest) {
  const c = textChannel(r.ctx, r.params['channel_id']!);
  requirePerms(r.ctx, r.userId, c, Permissions.ReadMessageHistory);
  if (!r.ctx.state.liveMessage(c.id, r.params['message_id']!)) throw Errors.unknownMessage();
  return noContent();
}

export const messageRoutes: RouteDef[] = [
  // pins (new paginated routes first: `messages/pins` must win over `messages/:message_id`)
  route('GET', '/channels/:channel_id/messages/pins', getPinsPaginated),
  route('PUT', '/channels/:channel_id/messages/pins/:message_id', pin, { body: 'none' }),
  route('DELETE', '/channels/:channel_id/messages/pins/:message_id', unpin),
  route('GET', '/channels/:channel_id/pins', getPinsLegacy),
  route('PUT', '/channels/:channel_id/pins/:message_id', pin, { body: 'none' }),
  route('DELETE', '/channels/:channel_id/pins/:message_id', unpin),

  route(
    'POST',
    '/channels/:channel_id/messages/bulk-delete',
    (r) => {
      const { ctx } = r;
      const c = textChannel(ctx, r.params['channel_id']!);
      if (ctx.state.isDm(c)) throw Errors.dmChannelAction();
      requirePerms(ctx, r.userId, c, Permissions.ManageMessages);
      const ids = (r.body.json as { messages?: unknown })?.messages;
      if (!Array.isArray(ids) || ids.length < 2 || ids.length > 100) {
        throw invalidForm(['messages'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 2 and 100 in length.');
      }
      const twoWeeks = 14 * 24 * 3600_000;
      for (const id of ids) {
        if (typeof id === 'string' && /^\d+$/.test(id) && ctx.clock.now() - snowflakeTimestamp(id) > twoWeeks) {
          throw invalidForm(['messages'], 'MESSAGE_BULK_DELETE_TOO_OLD', 'You can only bulk delete messages that are under 14 days old.');
        }
      }
      const deleted: string[] = [];
      for (const id of ids) {
        const m = typeof id === 'string' ? ctx.state.liveMessage(c.id, id) : undefined;
        if (!m) continue;
        m.deleted = true;
        for (const aid of m.attachmentIds) {
          const a = ctx.state.attachments.get(aid);
          if (a) a.deleted = true;
        }
        deleted.push(m.id);
      }
      ctx.dispatcher.dispatch({ t: 'MESSAGE_DELETE_BULK', d: { ids: deleted, channel_id: c.id, guild_id: c.guildId }, intent: Intents.GuildMessages });
      return noContent();
    },
  ),

  route(
    'GET',
    '/channels/:channel_id/messages',
    (r) => {
      const { c, canRead } = history(r);
      if (!canRead) return ok([]);
      return ok(listMessages(r.ctx, c.id, r.query, r.ctx.options.limits.messagesPerFetchMax).map((m) => restMessagePayload(r.ctx, m)));
    },
  ),
  route(
    'POST',
    '/channels/:channel_id/messages',
    (r) => {
      const { ctx } = r;
      textChannel(ctx, r.params['channel_id']!);
      const input = parseMessageInput(r.body.json, ctx.options.limits, r.body.files.length);
      const m = createMessage(ctx, { channelId: r.params['channel_id']!, authorId: r.userId, input, files: r.body.files, checkPermissions: true });
      return ok(restMessagePayload(ctx, m));
    },
    { body: 'message' },
  ),
  route('GET', '/channels/:channel_id/messages/:message_id', (r) => {
    const { c, canRead } = history(r);
    if (!canRead) throw Errors.missingAccess();
    const m = r.ctx.state.liveMessage(c.id, r.params['message_id']!);
    if (!m) throw Errors.unknownMessage();
    return ok(restMessagePayload(r.ctx, m));
  }),
  route(
    'PATCH',
    '/channels/:channel_id/messages/:message_id',
    (r) => {
      const { ctx } = r;
      const c = textChannel(ctx, r.params['channel_id']!);
      requirePerms(ctx, r.userId, c);
      const raw = (typeof r.body.json === 'object' && r.body.json !== null ? r.body.json : {}) as Record<string, unknown>;
      const input = parseMessageInput(raw, ctx.options.limits, r.body.files.length);
      const m = editMessage(ctx, { channelId: c.id, messageId: r.params['message_id']!, editorId: r.userId, input, raw, files: r.body.files });
      return ok(restMessagePayload(ctx, m));
    },
    { body: 'message' },
  ),
  route('DELETE', '/channels/:channel_id/messages/:message_id', (r) => {
    deleteMessage(r.ctx, r.params['channel_id']!, r.params['message_id']!, r.userId, { checkPermissions: true });
    return noContent();
  }),
  route('PUT', '/channels/:channel_id/messages/:message_id/reactions/:emoji/@me', reaction, { body: 'none' }),
  route('DELETE', '/channels/:channel_id/messages/:message_id/reactions/:emoji/@me', reaction),
  route(
    'POST',
    '/channels/:channel_id/typing',
    (r) => {
      textChannel(r.ctx, r.params['channel_id']!);
      return noContent();
    },
    { body: 'none' },
  ),
];
