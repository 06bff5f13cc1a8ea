import type { Server } from 'node:http';
import type { UploadedFile } from './body.js';
import { createChannel as createChannelRecord } from './channels.js';
import { Clock } from './clock.js';
import { ChannelType, Intents } from './constants.js';
import type { EmulatorContext } from './context.js';
import { openDm } from './dms.js';
import { Faults } from './faults.js';
import { Gateway } from './gateway.js';
import { addMember, bootstrap, createRole as createRoleRecord, createUser as createUserRecord, removeMember, setMemberRoles, setPremiumTier, updateRole } from './guild.js';
import { type InjectSlashCommandOptions, type InjectedInteraction, injectSlashCommand, interactionRoutes } from './interactions.js';
import { createMessage } from './messages.js';
import { type BucketLimit, type EmulatorOptions, type ResolvedOptions, resolveOptions } from './options.js';
import { channelPayload, messagePayload } from './payloads.js';
import { RateLimiter } from './ratelimit.js';
import { Router } from './router.js';
import { channelRoutes } from './routes/channels.js';
import { dmRoutes } from './routes/dms.js';
import { guildRoutes } from './routes/guilds.js';
import { messageRoutes } from './routes/messages.js';
import { miscRoutes } from './routes/misc.js';
import { createHttpServer, listen } from './server.js';
import { UrlSigner } from './signing.js';
import { SnowflakeGenerator } from './snowflake.js';
import { type AttachmentRecord, type ChannelRecord, EmulatorState, type MemberRecord, type MessageRecord, type OverwriteRecord, type RoleRecord, type UserRecord } from './state.js';
import { Stats } from './stats.js';
import { parseMessageInput } from './validate.js';

export { Clock } from './clock.js';
export { ChannelType, Intents, MessageFlags, MessageType, MiB, Permissions } from './constants.js';
export type { FaultHandle, GatewayFaults, RouteMatch } from './faults.js';
export { Faults } from './faults.js';
export type { InjectSlashCommandOptions, InjectedInteraction } from './interactions.js';
export { MESSAGE_CREATE_ROUTE } from './options.js';
export type { BucketLimit, EmulatorOptions, Limits, RateLimitConfig, RateLimitProfile, ResolvedOptions } from './options.js';
export type { AttachmentRecord, ChannelRecord, InteractionRecord, MemberRecord, MessageRecord, RoleRecord, UserRecord } from './state.js';
export { Stats } from './stats.js';

export interface OverwriteSpec {
  id: string;
  type: 'role' | 'member';
  allow?: bigint;
  deny?: bigint;
}

export interface InjectMessageOptions {
  channelId: string;
  /** Defaults to the guild owner (a human user). */
  authorId?: string;
  content?: string;
  embeds?: Record<string, unknown>[];
  files?: Array<{ name: string; data: Buffer | Uint8Array | string; contentType?: string }>;
  /** Reply to a message. */
  replyTo?: string;
}

/** A user writing to the bot in their DM channel (opened first if needed, without CHANNEL_CREATE, as on Discord). */
export type InjectDirectMessageOptions = Omit<InjectMessageOptions, 'channelId' | 'authorId'> & { authorId: string };

/** Read-only views over the emulator's world. */
export interface StateInspector {
  /** The raw in-memory state (mutable; use with care). */
  readonly raw: EmulatorState;
  /** Guild channels (not threads), not deleted. */
  channels(): ChannelRecord[];
  /** Threads, not deleted (archived included). */
  threads(parentId?: string): ChannelRecord[];
  channel(id: string): ChannelRecord | undefined;
  /** The bot's DM channel with a user, if one was opened. */
  dmChannel(userId: string): ChannelRecord | undefined;
  /** Messages of a channel/thread, oldest first. */
  messages(channelId: string, opts?: { includeDeleted?: boolean }): MessageRecord[];
  message(id: string): MessageRecord | undefined;
  /** The message as the REST API would return it now (freshly signed URLs). */
  messagePayload(id: string): Record<string, unknown> | undefined;
  attachment(id: string): AttachmentRecord | undefined;
  /** Attachments of a message with their stored bytes. */
  attachments(messageId: string): AttachmentRecord[];
  pins(channelId: string): MessageRecord[];
  user(id: string): UserRecord | undefined;
  member(userId: string): MemberRecord | undefined;
  role(id: string): RoleRecord | undefined;
}

export interface Emulator {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** What a user sets as DISCORD_API_BASE: http://127.0.0.1:PORT/api (clients append /v10). */
  readonly apiBase: string;
  /** CDN base (same server). */
  readonly cdnBase: string;
  /** ws://127.0.0.1:PORT/gateway */
  readonly gatewayUrl: string;
  readonly port: number;
  readonly token: string;
  readonly applicationId: string;
  readonly botUser: UserRecord;
  /** A human user who owns the guild; default author of injected messages. */
  readonly ownerUser: UserRecord;
  readonly guildId: string;
  readonly archiveChannelId: string;
  /** The bot's managed role. */
  readonly botRoleId: string;
  readonly clock: Clock;
  readonly faults: Faults;
  readonly stats: Stats;
  readonly state: StateInspector;
  readonly options: ResolvedOptions;
  readonly limiter: RateLimiter;
  /** Environment lines for dos (DISCORD_BOT_TOKEN, DISCORD_DRIVE_ARCHIVE_CHANNEL_ID, DISCORD_API_BASE, DISCORD_CDN_BASE). */
  env(): Record<string, string>;
  createChannel(opts: { name: string; type?: number; parentId?: string | null; topic?: string | null; permissionOverwrites?: OverwriteSpec[] }): ChannelRecord;
  setChannelOverwrites(channelId: string, overwrites: OverwriteSpec[]): ChannelRecord;
  createUser(opts: { username: string; bot?: boolean; globalName?: string | null }): UserRecord;
  createRole(opts: { name: string; permissions?: bigint; color?: number; mentionable?: boolean }): RoleRecord;
  /** Adds a member (creating the user unless `userId` is given); `permissions` creates a role holding them. */
  createMember(opts: { userId?: string; username?: string; roles?: string[]; permissions?: bigint }): { user: UserRecord; member: MemberRecord };
  setMemberRoles(userId: string, roleIds: string[]): MemberRecord;
  /** The member leaves the server (GUILD_MEMBER_REMOVE, to sessions with the GUILD_MEMBERS intent only). */
  removeMember(userId: string): void;
  setRolePermissions(roleId: string, permissions: bigint): RoleRecord;
  /** Sets the permissions of the bot's managed role. */
  setBotPermissions(permissions: bigint): RoleRecord;
  setPremiumTier(tier: 0 | 1 | 2 | 3): void;
  /** Current per-attachment limit (follows the boost tier). */
  attachmentLimit(): number;
  /** Turn CDN Range support on/off. */
  setRangeSupport(enabled: boolean): void;
  setUrlTtl(ms: number): void;
  /** Set (or remove with null) a route's rate-limit bucket, e.g. `POST /channels/:channel_id/messages`. */
  setRouteLimit(routeId: string, spec: BucketLimit | null): void;
  /** Creates a message from a (non-bot) user and dispatches MESSAGE_CREATE. Returns the gateway payload. */
  injectUserMessage(opts: InjectMessageOptions): Record<string, unknown>;
  /** A user sends the bot a direct message: MESSAGE_CREATE without guild_id, to DIRECT_MESSAGES sessions. Returns the gateway payload. */
  injectDirectMessage(opts: InjectDirectMessageOptions): Record<string, unknown>;
  /** Opens (or returns) the bot's DM channel with a user, as `POST /users/@me/channels` does. */
  openDm(userId: string): ChannelRecord;
  /** Dispatches INTERACTION_CREATE for a chat-input command. */
  injectSlashCommand(opts: InjectSlashCommandOptions): InjectedInteraction;
  /** Live gateway connections (identified or resumed). */
  gatewayConnections(): number;
  close(): Promise<void>;
}

function toOverwrites(specs: OverwriteSpec[] | undefined): OverwriteRecord[] {
  return (specs ?? []).map((o) => ({ id: o.id, type: o.type === 'role' ? 0 : 1, allow: o.allow ?? 0n, deny: o.deny ?? 0n }));
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const opts = resolveOptions(options);
  const clock = new Clock(opts.clockStartMs);
  const state = new EmulatorState();
  const stats = new Stats();
  const faults = new Faults();
  const ctx: EmulatorContext = {
    options: opts,
    clock,
    ids: new SnowflakeGenerator(clock),
    state,
    stats,
    signer: new UrlSigner(clock, opts.cdn.urlTtlMs, opts.hmacKey),
    faults,
    limiter: new RateLimiter(clock, opts.rateLimits),
    dispatcher: { dispatch: () => {} },
    baseUrl: '',
    gatewayUrl: '',
    log: (line) => opts.log?.(line),
  };
  const gateway = new Gateway(ctx);
  ctx.dispatcher = gateway;
  faults.attachGateway(gateway);
  const world = bootstrap(ctx);

  const router = new Router().add(...miscRoutes, ...dmRoutes, ...messageRoutes, ...channelRoutes, ...guildRoutes, ...interactionRoutes);
  const server: Server = createHttpServer(ctx, router, gateway);
  const addr = await listen(server, opts.host, opts.port);
  const hostForUrl = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${hostForUrl}:${addr.port}`;
  ctx.baseUrl = url;
  ctx.gatewayUrl = `ws://${hostForUrl}:${addr.port}/gateway`;

  const inspector: StateInspector = {
    raw: state,
    channels: () => state.guildChannels(),
    threads: (parentId) => state.threadsOf(parentId ?? null),
    channel: (id) => state.channels.get(id),
    dmChannel: (userId) => state.dmChannelWith(userId),
    messages: (channelId, o) =>
      (state.channelMessages.get(channelId) ?? []).map((id) => state.messages.get(id)!).filter((m) => o?.includeDeleted || !m.deleted),
    message: (id) => state.messages.get(id),
    messagePayload: (id) => {
      const m = state.messages.get(id);
      return m && !m.deleted ? messagePayload(ctx, m) : undefined;
    },
    attachment: (id) => state.attachments.get(id),
    attachments: (messageId) => (state.messages.get(messageId)?.attachmentIds ?? []).map((id) => state.attachments.get(id)!),
    pins: (channelId) => state.pinnedMessages(channelId),
    user: (id) => state.users.get(id),
    member: (id) => state.members.get(id),
    role: (id) => state.roles.get(id),
  };

  /** A (non-bot) user's message, created as the user would post it, then dispatched. */
  const injectMessage = (channelId: string, authorId: string, o: Omit<InjectMessageOptions, 'channelId' | 'authorId'>): Record<string, unknown> => {
    if (!state.users.has(authorId)) throw new Error(`unknown user ${authorId}`);
    const files: UploadedFile[] = (o.files ?? []).map((f, index) => ({
      index,
      fieldName: `files[${index}]`,
      filename: f.name,
      contentType: f.contentType ?? 'application/octet-stream',
      data: typeof f.data === 'string' ? Buffer.from(f.data) : Buffer.from(f.data),
    }));
    const body: Record<string, unknown> = { content: o.content ?? '', ...(o.embeds ? { embeds: o.embeds } : {}) };
    if (o.replyTo) body['message_reference'] = { message_id: o.replyTo };
    const input = parseMessageInput(body, opts.limits, files.length);
    const m = createMessage(ctx, { channelId, authorId, input, files });
    return messagePayload(ctx, m, { gateway: true });
  };

  let closed = false;
  const emu: Emulator = {
    url,
    apiBase: `${url}/api`,
    cdnBase: url,
    gatewayUrl: ctx.gatewayUrl,
    port: addr.port,
    token: state.token,
    applicationId: state.applicationId,
    botUser: state.users.get(state.botUserId)!,
    ownerUser: state.users.get(world.ownerId)!,
    guildId: state.guild.id,
    archiveChannelId: world.archiveChannelId,
    botRoleId: world.botRoleId,
    clock,
    faults,
    stats,
    state: inspector,
    options: opts,
    limiter: ctx.limiter,
    env: () => ({
      DISCORD_BOT_TOKEN: state.token,
      DISCORD_DRIVE_ARCHIVE_CHANNEL_ID: world.archiveChannelId,
      DISCORD_API_BASE: `${url}/api`,
      DISCORD_CDN_BASE: url,
    }),
    createChannel: (o) => createChannelRecord(ctx, { name: o.name, type: o.type ?? ChannelType.GuildText, parentId: o.parentId ?? null, topic: o.topic ?? null, overwrites: toOverwrites(o.permissionOverwrites) }),
    setChannelOverwrites: (channelId, overwrites) => {
      const c = state.channels.get(channelId);
      if (!c) throw new Error(`unknown channel ${channelId}`);
      c.overwrites = toOverwrites(overwrites);
      gateway.dispatch({ t: 'CHANNEL_UPDATE', d: channelPayload(ctx, c), intent: Intents.Guilds });
      return c;
    },
    createUser: (o) => createUserRecord(ctx, o),
    createRole: (o) => createRoleRecord(ctx, o),
    createMember: (o) => {
      const user = o.userId ? state.users.get(o.userId) : createUserRecord(ctx, { username: o.username ?? `user${state.users.size}` });
      if (!user) throw new Error(`unknown user ${o.userId}`);
      const roles = [...(o.roles ?? [])];
      if (o.permissions !== undefined) roles.push(createRoleRecord(ctx, { name: `${user.username}-perms`, permissions: o.permissions }).id);
      return { user, member: addMember(ctx, user.id, roles) };
    },
    setMemberRoles: (userId, roleIds) => setMemberRoles(ctx, userId, roleIds),
    removeMember: (userId) => removeMember(ctx, userId),
    setRolePermissions: (roleId, permissions) => updateRole(ctx, roleId, { permissions }),
    setBotPermissions: (permissions) => updateRole(ctx, world.botRoleId, { permissions }),
    setPremiumTier: (tier) => setPremiumTier(ctx, tier),
    attachmentLimit: () => opts.limits.attachmentBytesByTier[state.guild.premiumTier],
    setRangeSupport: (enabled) => {
      opts.cdn.range = enabled;
    },
    setUrlTtl: (ms) => {
      opts.cdn.urlTtlMs = ms;
      ctx.signer.ttlMs = ms;
    },
    setRouteLimit: (routeId, spec) => ctx.limiter.setRoute(routeId, spec),
    injectUserMessage: (o) => injectMessage(o.channelId, o.authorId ?? world.ownerId, o),
    injectDirectMessage: (o) => {
      const author = state.users.get(o.authorId);
      if (!author || author.id === state.botUserId) throw new Error(`cannot inject a DM to the bot from ${o.authorId}`);
      return injectMessage(openDm(ctx, author.id).id, author.id, o);
    },
    openDm: (userId) => openDm(ctx, userId),
    injectSlashCommand: (o) => injectSlashCommand(ctx, { ...o, userId: o.userId ?? world.ownerId, channelId: o.channelId ?? world.archiveChannelId }),
    gatewayConnections: () => gateway.liveConnections,
    close: async () => {
      if (closed) return;
      closed = true;
      gateway.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return emu;
}
