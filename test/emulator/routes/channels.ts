import { createThread, deleteChannel, updateChannel } from '../channels.js';
import { ChannelType } from '../constants.js';
import { Errors } from '../errors.js';
import { requirePerms, textChannel } from '../messages.js';
import { channelPayload } from '../payloads.js';
import { type RouteDef, type RouteRequest, route } from '../router.js';
import { syncThreadArchival } from '../threads.js';

const ok = (body: unknown) => ({ status: 200, body });

function jsonBody(r: RouteRequest): Record<string, unknown> {
  return (typeof r.body.json === 'object' && r.body.json !== null && !Array.isArray(r.body.json) ? r.body.json : {}) as Record<string, unknown>;
}

/** A DM channel the caller is in (anyone else gets Missing Access, as in a server channel they cannot see). */
function isDm(r: RouteRequest): boolean {
  const c = textChannel(r.ctx, r.params['channel_id']!);
  if (!r.ctx.state.isDm(c)) return false;
  requirePerms(r.ctx, r.userId, c);
  return true;
}

function archived(r: RouteRequest, type: number) {
  const { ctx } = r;
  const parent = textChannel(ctx, r.params['channel_id']!);
  requirePerms(ctx, r.userId, parent);
  const threads = ctx.state.threadsOf(parent.id).filter((t) => {
    syncThreadArchival(ctx, t);
    return t.thread!.archived && (type === ChannelType.PrivateThread ? t.type === type : t.type !== ChannelType.PrivateThread);
  });
  threads.sort((a, b) => b.thread!.archiveTimestamp - a.thread!.archiveTimestamp);
  return ok({ threads: threads.map((t) => channelPayload(ctx, t)), members: [], has_more: false });
}

export const channelRoutes: RouteDef[] = [
  route('GET', '/channels/:channel_id', (r) => {
    const c = textChannel(r.ctx, r.params['channel_id']!);
    requirePerms(r.ctx, r.userId, c);
    return ok(channelPayload(r.ctx, c));
  }),
  route('PATCH', '/channels/:channel_id', (r) => {
    if (isDm(r)) throw Errors.dmChannelAction();
    return ok(channelPayload(r.ctx, updateChannel(r.ctx, r.params['channel_id']!, r.userId, jsonBody(r), { checkPermissions: true })));
  }),
  route('DELETE', '/channels/:channel_id', (r) => {
    // Deleting a DM only closes it on the caller's side: the channel and its history stay.
    if (isDm(r)) return ok(channelPayload(r.ctx, textChannel(r.ctx, r.params['channel_id']!)));
    return ok(channelPayload(r.ctx, deleteChannel(r.ctx, r.params['channel_id']!, r.userId, { checkPermissions: true })));
  }),
  route(
    'POST',
    '/channels/:channel_id/threads',
    (r) => {
      const b = jsonBody(r);
      const t = createThread(r.ctx, {
        parentId: r.params['channel_id']!,
        ownerId: r.userId,
        name: b['name'],
        type: b['type'],
        autoArchiveDuration: b['auto_archive_duration'],
        invitable: b['invitable'],
        checkPermissions: true,
      });
      return { status: 201, body: channelPayload(r.ctx, t) };
    },
  ),
  route('POST', '/channels/:channel_id/messages/:message_id/threads', (r) => {
    const b = jsonBody(r);
    const t = createThread(r.ctx, {
      parentId: r.params['channel_id']!,
      ownerId: r.userId,
      name: b['name'],
      autoArchiveDuration: b['auto_archive_duration'],
      startMessageId: r.params['message_id']!,
      checkPermissions: true,
    });
    return { status: 201, body: channelPayload(r.ctx, t) };
  }),
  route('GET', '/channels/:channel_id/threads/archived/public', (r) => archived(r, ChannelType.PublicThread)),
  route('GET', '/channels/:channel_id/threads/archived/private', (r) => archived(r, ChannelType.PrivateThread)),
  route(
    'PUT',
    '/channels/:channel_id/thread-members/@me',
    (r) => {
      const c = textChannel(r.ctx, r.params['channel_id']!);
      if (!r.ctx.state.isThread(c)) throw Errors.wrongChannelType();
      return { status: 204 };
    },
    { body: 'none' },
  ),
  route('GET', '/channels/:channel_id/thread-members', (r) => {
    const c = textChannel(r.ctx, r.params['channel_id']!);
    if (!r.ctx.state.isThread(c)) throw Errors.wrongChannelType();
    return ok([]);
  }),
];
