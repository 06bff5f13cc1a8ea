import { randomBytes } from 'node:crypto';
import { Intents } from './constants.js';
import type { EmulatorContext } from './context.js';
import { createChannel } from './channels.js';
import { guildPayload, memberPayload, rolePayload, userPayload } from './payloads.js';
import type { MemberRecord, RoleRecord, UserRecord } from './state.js';

/** Users, roles, members and the initial world (bot, owner, guild, archive channel). */

export function makeToken(botId: string): string {
  const b64 = (b: Buffer): string => b.toString('base64url');
  return `${b64(Buffer.from(botId))}.${b64(randomBytes(4))}.${b64(randomBytes(27))}`;
}

export function createUser(ctx: EmulatorContext, spec: { username: string; bot?: boolean; globalName?: string | null; id?: string }): UserRecord {
  const u: UserRecord = { id: spec.id ?? ctx.ids.next(), username: spec.username, globalName: spec.globalName ?? null, bot: spec.bot ?? false };
  ctx.state.users.set(u.id, u);
  return u;
}

export function createRole(ctx: EmulatorContext, spec: { name: string; permissions?: bigint; color?: number; hoist?: boolean; mentionable?: boolean; id?: string; botId?: string }): RoleRecord {
  const { state } = ctx;
  const r: RoleRecord = {
    id: spec.id ?? ctx.ids.next(),
    name: spec.name,
    permissions: spec.permissions ?? 0n,
    position: spec.id === state.guild?.id ? 0 : state.roles.size,
    color: spec.color ?? 0,
    hoist: spec.hoist ?? false,
    managed: spec.botId !== undefined,
    mentionable: spec.mentionable ?? false,
  };
  if (spec.botId) r.botId = spec.botId;
  state.roles.set(r.id, r);
  ctx.dispatcher.dispatch({ t: 'GUILD_ROLE_CREATE', d: { guild_id: state.guild.id, role: rolePayload(r) }, intent: Intents.Guilds });
  return r;
}

export function updateRole(ctx: EmulatorContext, roleId: string, patch: { permissions?: bigint; name?: string }): RoleRecord {
  const r = ctx.state.roles.get(roleId);
  if (!r) throw new Error(`unknown role ${roleId}`);
  if (patch.permissions !== undefined) r.permissions = patch.permissions;
  if (patch.name !== undefined) r.name = patch.name;
  ctx.dispatcher.dispatch({ t: 'GUILD_ROLE_UPDATE', d: { guild_id: ctx.state.guild.id, role: rolePayload(r) }, intent: Intents.Guilds });
  return r;
}

export function addMember(ctx: EmulatorContext, userId: string, roles: string[] = []): MemberRecord {
  const { state } = ctx;
  if (!state.users.has(userId)) throw new Error(`unknown user ${userId}`);
  const m: MemberRecord = { userId, roles: [...roles], joinedAt: ctx.clock.now(), nick: null };
  state.members.set(userId, m);
  ctx.dispatcher.dispatch({ t: 'GUILD_MEMBER_ADD', d: { ...memberPayload(ctx, m), guild_id: state.guild.id }, intent: Intents.GuildMembers });
  return m;
}

/** The user leaves (or is kicked from) the server; their user record and DMs stay. */
export function removeMember(ctx: EmulatorContext, userId: string): void {
  const { state } = ctx;
  const m = state.members.get(userId);
  const u = state.users.get(userId);
  if (!m || !u) throw new Error(`unknown member ${userId}`);
  state.members.delete(userId);
  ctx.dispatcher.dispatch({ t: 'GUILD_MEMBER_REMOVE', d: { guild_id: state.guild.id, user: userPayload(u) }, intent: Intents.GuildMembers });
}

export function setMemberRoles(ctx: EmulatorContext, userId: string, roles: string[]): MemberRecord {
  const m = ctx.state.members.get(userId);
  if (!m) throw new Error(`unknown member ${userId}`);
  m.roles = [...roles];
  ctx.dispatcher.dispatch({ t: 'GUILD_MEMBER_UPDATE', d: { ...memberPayload(ctx, m), guild_id: ctx.state.guild.id }, intent: Intents.GuildMembers });
  return m;
}

export function setPremiumTier(ctx: EmulatorContext, tier: 0 | 1 | 2 | 3): void {
  ctx.state.guild.premiumTier = tier;
  ctx.dispatcher.dispatch({ t: 'GUILD_UPDATE', d: guildPayload(ctx), intent: Intents.Guilds });
}

/** Creates the owner, the bot (application id == bot user id), the guild, its roles and the archive channel. */
export function bootstrap(ctx: EmulatorContext): { ownerId: string; botRoleId: string; archiveChannelId: string } {
  const { state, options } = ctx;
  const owner = createUser(ctx, { username: 'owner', globalName: 'Server Owner' });
  const bot = createUser(ctx, { username: options.botUsername, bot: true });
  state.botUserId = bot.id;
  state.applicationId = bot.id;
  state.token = options.token ?? makeToken(bot.id);
  const now = ctx.clock.now();
  const guildId = ctx.ids.next();
  state.guild = { id: guildId, name: options.guildName, ownerId: owner.id, premiumTier: options.premiumTier, createdAt: now, systemChannelId: null };
  createRole(ctx, { id: guildId, name: '@everyone', permissions: options.everyonePermissions });
  const botRole = createRole(ctx, { name: options.botUsername, permissions: options.botPermissions, botId: bot.id });
  addMember(ctx, owner.id);
  addMember(ctx, bot.id, [botRole.id]);
  const archive = createChannel(ctx, { name: options.archiveChannelName });
  return { ownerId: owner.id, botRoleId: botRole.id, archiveChannelId: archive.id };
}
