import { createChannel } from '../channels.js';
import { ChannelType, Permissions } from '../constants.js';
import type { EmulatorContext } from '../context.js';
import { Errors, FormErrors } from '../errors.js';
import { activeThreads, channelPayload, guildPayload, memberPayload, rolePayload } from '../payloads.js';
import { basePermissions, channelPermissions, has } from '../permissions.js';
import { type RouteDef, type RouteRequest, route } from '../router.js';

const ok = (body: unknown) => ({ status: 200, body });

function guild(r: RouteRequest): EmulatorContext {
  if (r.params['guild_id'] !== r.ctx.state.guild.id) throw Errors.unknownGuild();
  return r.ctx;
}

export const guildRoutes: RouteDef[] = [
  route('GET', '/guilds/:guild_id', (r) => ok(guildPayload(guild(r), r.query.get('with_counts') === 'true'))),
  route('GET', '/guilds/:guild_id/channels', (r) => {
    const ctx = guild(r);
    return ok(ctx.state.guildChannels().map((c) => channelPayload(ctx, c)));
  }),
  route('POST', '/guilds/:guild_id/channels', (r) => {
    const ctx = guild(r);
    if (!has(basePermissions(ctx.state, r.userId), Permissions.ManageChannels)) throw Errors.missingPermissions();
    const b = (r.body.json ?? {}) as Record<string, unknown>;
    const errors = new FormErrors();
    if (typeof b['name'] !== 'string' || b['name'].length < 1 || b['name'].length > 100) errors.add(['name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
    const type = b['type'] === undefined || b['type'] === null ? ChannelType.GuildText : Number(b['type']);
    if (![ChannelType.GuildText, ChannelType.GuildCategory, ChannelType.GuildAnnouncement].includes(type as 0 | 4 | 5)) errors.add(['type'], 'BASE_TYPE_CHOICES', 'Value must be one of {0, 4, 5}.');
    errors.throwIfAny();
    const parentId = typeof b['parent_id'] === 'string' ? b['parent_id'] : null;
    const c = createChannel(ctx, { name: b['name'] as string, type, parentId, topic: typeof b['topic'] === 'string' ? b['topic'] : null });
    return { status: 201, body: channelPayload(ctx, c) };
  }),
  route('GET', '/guilds/:guild_id/threads/active', (r) => {
    const ctx = guild(r);
    const visible = activeThreads(ctx).filter((t) => has(channelPermissions(ctx.state, r.userId, t), Permissions.ViewChannel));
    return ok({ threads: visible.map((t) => channelPayload(ctx, t)), members: [] });
  }),
  route('GET', '/guilds/:guild_id/roles', (r) => {
    const ctx = guild(r);
    return ok([...ctx.state.roles.values()].sort((a, b) => a.position - b.position).map(rolePayload));
  }),
  route('GET', '/guilds/:guild_id/roles/:role_id', (r) => {
    const ctx = guild(r);
    const role = ctx.state.roles.get(r.params['role_id']!);
    if (!role) throw Errors.unknownRole();
    return ok(rolePayload(role));
  }),
  route('GET', '/guilds/:guild_id/members', (r) => {
    const ctx = guild(r);
    if (!ctx.options.privilegedIntents.guildMembers) throw Errors.missingAccess();
    const limit = Math.min(1000, Math.max(1, Number(r.query.get('limit') ?? 1)));
    const after = BigInt(r.query.get('after') ?? '0');
    const members = [...ctx.state.members.values()].filter((m) => BigInt(m.userId) > after).sort((a, b) => (BigInt(a.userId) < BigInt(b.userId) ? -1 : 1));
    return ok(members.slice(0, limit).map((m) => memberPayload(ctx, m)));
  }),
  route('GET', '/guilds/:guild_id/members/:user_id', (r) => {
    const ctx = guild(r);
    const id = r.params['user_id'] === '@me' ? r.userId : r.params['user_id']!;
    const m = ctx.state.members.get(id);
    if (!m) throw ctx.state.users.has(id) ? Errors.unknownMember() : Errors.unknownUser();
    return ok(memberPayload(ctx, m));
  }),
];
