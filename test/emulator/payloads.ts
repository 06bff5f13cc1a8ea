import { ApplicationFlags, ChannelType } from './constants.js';
import type { EmulatorContext } from './context.js';
import { isoTimestamp } from './snowflake.js';
import type { AttachmentRecord, ChannelRecord, MemberRecord, MessageRecord, RoleRecord, UserRecord } from './state.js';
import { syncThreadArchival } from './threads.js';

/** Builders for the JSON objects Discord returns (REST) and dispatches (gateway). */

export function userPayload(u: UserRecord): Record<string, unknown> {
  return {
    id: u.id,
    username: u.username,
    discriminator: u.bot ? '0000' : '0',
    global_name: u.globalName,
    avatar: null,
    bot: u.bot,
    system: false,
    public_flags: 0,
    flags: 0,
    banner: null,
    accent_color: null,
    avatar_decoration_data: null,
  };
}

export function botUserPayload(ctx: EmulatorContext): Record<string, unknown> {
  const u = ctx.state.users.get(ctx.state.botUserId)!;
  return { ...userPayload(u), verified: true, mfa_enabled: false, email: null, locale: 'en-US', premium_type: 0 };
}

export function rolePayload(r: RoleRecord): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    color: r.color,
    colors: { primary_color: r.color, secondary_color: null, tertiary_color: null },
    hoist: r.hoist,
    icon: null,
    unicode_emoji: null,
    position: r.position,
    permissions: r.permissions.toString(),
    managed: r.managed,
    mentionable: r.mentionable,
    flags: 0,
    ...(r.botId ? { tags: { bot_id: r.botId } } : {}),
  };
}

export function memberPayload(ctx: EmulatorContext, m: MemberRecord, withUser = true): Record<string, unknown> {
  const u = ctx.state.users.get(m.userId);
  return {
    ...(withUser && u ? { user: userPayload(u) } : {}),
    nick: m.nick,
    avatar: null,
    banner: null,
    roles: [...m.roles],
    joined_at: isoTimestamp(m.joinedAt),
    premium_since: null,
    deaf: false,
    mute: false,
    flags: 0,
    pending: false,
    communication_disabled_until: null,
  };
}

/** A DM channel as the bot sees it: `recipients` lists the other user only. */
function dmChannelPayload(ctx: EmulatorContext, c: ChannelRecord): Record<string, unknown> {
  const others = (c.recipientIds ?? []).filter((id) => id !== ctx.state.botUserId);
  return {
    id: c.id,
    type: c.type,
    last_message_id: c.lastMessageId,
    flags: 0,
    recipients: others.flatMap((id) => {
      const u = ctx.state.users.get(id);
      return u ? [userPayload(u)] : [];
    }),
  };
}

export function channelPayload(ctx: EmulatorContext, c: ChannelRecord, opts: { omitGuildId?: boolean } = {}): Record<string, unknown> {
  if (c.type === ChannelType.DM) return dmChannelPayload(ctx, c);
  const base: Record<string, unknown> = {
    id: c.id,
    type: c.type,
    ...(opts.omitGuildId ? {} : { guild_id: c.guildId }),
    name: c.name,
    parent_id: c.parentId,
    flags: 0,
  };
  if (c.thread) {
    syncThreadArchival(ctx, c);
    const t = c.thread;
    return {
      ...base,
      owner_id: c.ownerId,
      last_message_id: c.lastMessageId,
      rate_limit_per_user: 0,
      message_count: c.messageCount,
      member_count: 1,
      total_message_sent: c.totalMessageSent,
      thread_metadata: {
        archived: t.archived,
        auto_archive_duration: t.autoArchiveDuration,
        archive_timestamp: isoTimestamp(t.archiveTimestamp),
        locked: t.locked,
        create_timestamp: isoTimestamp(t.createTimestamp),
        ...(c.type === ChannelType.PrivateThread ? { invitable: t.invitable } : {}),
      },
    };
  }
  const common = {
    ...base,
    position: c.position,
    permission_overwrites: c.overwrites.map((o) => ({ id: o.id, type: o.type, allow: o.allow.toString(), deny: o.deny.toString() })),
  };
  if (c.type === ChannelType.GuildCategory) return common;
  return {
    ...common,
    topic: c.topic,
    nsfw: false,
    last_message_id: c.lastMessageId,
    last_pin_timestamp: c.lastPinTimestamp === null ? null : isoTimestamp(c.lastPinTimestamp),
    rate_limit_per_user: 0,
    default_auto_archive_duration: 4320,
    default_thread_rate_limit_per_user: 0,
  };
}

/** The CDN resource of an attachment (what the URL signature covers). */
export function attachmentResource(a: AttachmentRecord): string {
  return `${a.channelId}/${a.id}/${encodeURIComponent(a.filename)}`;
}

export function attachmentUrls(ctx: EmulatorContext, a: AttachmentRecord): { url: string; proxy_url: string } {
  const resource = attachmentResource(a);
  const q = ctx.signer.sign(resource);
  return {
    url: `${ctx.baseUrl}/attachments/${resource}?${q}`,
    proxy_url: `${ctx.baseUrl}/media/attachments/${resource}?${q}`,
  };
}

export function attachmentPayload(ctx: EmulatorContext, a: AttachmentRecord): Record<string, unknown> {
  return {
    id: a.id,
    filename: a.filename,
    size: a.size,
    ...attachmentUrls(ctx, a),
    content_type: a.contentType,
    ...(a.description !== undefined ? { description: a.description } : {}),
    ...(a.title !== undefined ? { title: a.title } : {}),
  };
}

/** Whether an app that cannot read message content still sees this message's content (its own, mentioning it, or in a DM). */
export function contentVisibleToBot(ctx: EmulatorContext, m: Pick<MessageRecord, 'authorId' | 'mentionIds' | 'channelId'>): boolean {
  if (m.authorId === ctx.state.botUserId || m.mentionIds.includes(ctx.state.botUserId)) return true;
  return ctx.state.channels.get(m.channelId)?.type === ChannelType.DM;
}

export function blankContent(p: Record<string, unknown>): Record<string, unknown> {
  const { poll: _poll, ...rest } = p;
  return { ...rest, content: '', embeds: [], attachments: [], components: [] };
}

export function appHasMessageContent(ctx: EmulatorContext): boolean {
  return ctx.options.privilegedIntents.messageContent;
}

export function applicationFlags(ctx: EmulatorContext): number {
  const p = ctx.options.privilegedIntents;
  return (
    (p.messageContent ? ApplicationFlags.GatewayMessageContent : 0) |
    (p.guildMembers ? ApplicationFlags.GatewayGuildMembers : 0) |
    (p.guildPresences ? ApplicationFlags.GatewayPresence : 0)
  );
}

export interface MessagePayloadOptions {
  /** Gateway form: adds channel_type, and guild_id and member outside DMs. */
  gateway?: boolean;
  /** Include `referenced_message` one level deep (default true). */
  resolveReference?: boolean;
}

export function messagePayload(ctx: EmulatorContext, m: MessageRecord, opts: MessagePayloadOptions = {}): Record<string, unknown> {
  const { state } = ctx;
  const author = state.users.get(m.authorId);
  const channel = state.channels.get(m.channelId);
  const inGuild = channel !== undefined && channel.guildId !== null;
  const p: Record<string, unknown> = {
    id: m.id,
    type: m.type,
    channel_id: m.channelId,
    author: author ? userPayload(author) : { id: m.authorId, username: 'unknown', discriminator: '0', avatar: null, global_name: null },
    content: m.content,
    timestamp: isoTimestamp(m.createdAt),
    edited_timestamp: m.editedAt === null ? null : isoTimestamp(m.editedAt),
    tts: m.tts,
    mention_everyone: false,
    mentions: m.mentionIds.flatMap((id) => {
      const u = state.users.get(id);
      if (!u) return [];
      const member = state.members.get(id);
      return [opts.gateway && inGuild && member ? { ...userPayload(u), member: memberPayload(ctx, member, false) } : userPayload(u)];
    }),
    mention_roles: [...m.mentionRoleIds],
    attachments: m.attachmentIds.map((id) => attachmentPayload(ctx, state.attachments.get(id)!)),
    embeds: m.embeds.map((e) => ({ ...e })),
    pinned: m.pinned,
    flags: m.flags,
    components: m.components,
  };
  if (m.nonce !== undefined) p['nonce'] = m.nonce;
  if (m.webhookId) p['webhook_id'] = m.webhookId;
  if (m.applicationId) p['application_id'] = m.applicationId;
  if (m.interaction) {
    const u = state.users.get(m.interaction.userId);
    p['interaction_metadata'] = {
      id: m.interaction.id,
      type: m.interaction.type,
      user: u ? userPayload(u) : { id: m.interaction.userId },
      authorizing_integration_owners: { '0': state.guild.id },
      name: m.interaction.name,
    };
    p['interaction'] = { id: m.interaction.id, type: m.interaction.type, name: m.interaction.name, user: u ? userPayload(u) : { id: m.interaction.userId } };
  }
  if (m.reference) {
    p['message_reference'] = {
      type: m.reference.type ?? 0,
      ...(m.reference.messageId ? { message_id: m.reference.messageId } : {}),
      ...(m.reference.channelId ? { channel_id: m.reference.channelId } : {}),
      ...(m.reference.guildId ? { guild_id: m.reference.guildId } : {}),
    };
    if (opts.resolveReference !== false && m.reference.messageId) {
      const ref = state.messages.get(m.reference.messageId);
      p['referenced_message'] = ref && !ref.deleted ? messagePayload(ctx, ref, { gateway: opts.gateway, resolveReference: false }) : null;
    }
  }
  if (m.threadId) {
    const t = state.liveChannel(m.threadId);
    if (t) p['thread'] = channelPayload(ctx, t);
  }
  if (m.position !== undefined) p['position'] = m.position;
  if (opts.gateway && channel) {
    p['channel_type'] = channel.type;
    if (inGuild) {
      p['guild_id'] = channel.guildId;
      const member = state.members.get(m.authorId);
      if (member && !m.webhookId) p['member'] = memberPayload(ctx, member, false);
    }
  }
  return p;
}

/** A message as the bot sees it over REST (content blanked without the MESSAGE_CONTENT privileged intent). */
export function restMessagePayload(ctx: EmulatorContext, m: MessageRecord): Record<string, unknown> {
  const p = messagePayload(ctx, m);
  return appHasMessageContent(ctx) || contentVisibleToBot(ctx, m) ? p : blankContent(p);
}

export function guildPayload(ctx: EmulatorContext, withCounts = false): Record<string, unknown> {
  const { state } = ctx;
  const g = state.guild;
  const roles = [...state.roles.values()].sort((a, b) => a.position - b.position).map(rolePayload);
  return {
    id: g.id,
    name: g.name,
    icon: null,
    icon_hash: null,
    splash: null,
    discovery_splash: null,
    owner_id: g.ownerId,
    region: 'deprecated',
    afk_channel_id: null,
    afk_timeout: 300,
    widget_enabled: false,
    widget_channel_id: null,
    verification_level: 0,
    default_message_notifications: 0,
    explicit_content_filter: 0,
    roles,
    emojis: [],
    features: [],
    mfa_level: 0,
    application_id: null,
    system_channel_id: g.systemChannelId,
    system_channel_flags: 0,
    rules_channel_id: null,
    max_presences: null,
    max_members: 500_000,
    vanity_url_code: null,
    description: null,
    banner: null,
    premium_tier: g.premiumTier,
    premium_subscription_count: [0, 2, 7, 14][g.premiumTier],
    preferred_locale: 'en-US',
    public_updates_channel_id: null,
    max_video_channel_users: 25,
    max_stage_video_channel_users: 50,
    nsfw_level: 0,
    nsfw: false,
    stickers: [],
    premium_progress_bar_enabled: false,
    safety_alerts_channel_id: null,
    incidents_data: null,
    ...(withCounts ? { approximate_member_count: state.members.size, approximate_presence_count: 1 } : {}),
  };
}

export function activeThreads(ctx: EmulatorContext): ChannelRecord[] {
  return ctx.state.threadsOf(null).filter((t) => {
    syncThreadArchival(ctx, t);
    return !t.thread!.archived;
  });
}

export function guildCreatePayload(ctx: EmulatorContext): Record<string, unknown> {
  const { state } = ctx;
  const channels = state.guildChannels();
  return {
    ...guildPayload(ctx),
    joined_at: isoTimestamp(state.members.get(state.botUserId)?.joinedAt ?? state.guild.createdAt),
    large: false,
    unavailable: false,
    member_count: state.members.size,
    voice_states: [],
    members: [...state.members.values()]
      .filter((m) => m.userId === state.botUserId || ctx.options.privilegedIntents.guildMembers)
      .map((m) => memberPayload(ctx, m)),
    channels: channels.map((c) => channelPayload(ctx, c, { omitGuildId: true })),
    threads: activeThreads(ctx).map((t) => channelPayload(ctx, t)),
    presences: [],
    stage_instances: [],
    guild_scheduled_events: [],
    soundboard_sounds: [],
  };
}

export function applicationPayload(ctx: EmulatorContext): Record<string, unknown> {
  const bot = ctx.state.users.get(ctx.state.botUserId)!;
  return {
    id: ctx.state.applicationId,
    name: bot.username,
    icon: null,
    description: 'dos emulator application',
    bot_public: false,
    bot_require_code_grant: false,
    bot: userPayload(bot),
    verify_key: '0'.repeat(64),
    flags: applicationFlags(ctx),
    owner: userPayload(ctx.state.users.get(ctx.state.guild.ownerId)!),
    team: null,
    summary: '',
    type: null,
    hook: true,
    approximate_guild_count: 1,
    redirect_uris: [],
    interactions_endpoint_url: null,
    tags: [],
  };
}
