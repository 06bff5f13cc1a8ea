import { ChannelType, Intents, MessageFlags, MessageType, Permissions } from './constants.js';
import type { EmulatorContext } from './context.js';
import { Errors, FormErrors } from './errors.js';
import { createSystemMessage, dispatchMessage, removeMessage, requirePerms, textChannel } from './messages.js';
import { channelPayload } from './payloads.js';
import { has } from './permissions.js';
import type { ChannelRecord, OverwriteRecord } from './state.js';

/** Channel and thread lifecycle (guild channels, threads, deletion, updates). */

const ARCHIVE_DURATIONS = new Set([60, 1440, 4320, 10080]);

export interface NewChannel {
  name: string;
  type?: number;
  parentId?: string | null;
  topic?: string | null;
  position?: number;
  overwrites?: OverwriteRecord[];
}

/** The fields every channel starts with (no messages, no pins, not deleted), then `fields` over them. */
export function freshChannel(ctx: EmulatorContext, fields: Pick<ChannelRecord, 'type' | 'name' | 'guildId' | 'parentId'> & Partial<ChannelRecord>): ChannelRecord {
  const now = ctx.clock.now();
  return {
    id: ctx.ids.next(), position: 0, topic: null, overwrites: [], lastMessageId: null, lastPinTimestamp: null, createdAt: now,
    deleted: false, messageCount: 0, totalMessageSent: 0, lastActivityAt: now,
    ...fields,
  };
}

export function createChannel(ctx: EmulatorContext, spec: NewChannel): ChannelRecord {
  const { state } = ctx;
  const c = freshChannel(ctx, {
    type: spec.type ?? ChannelType.GuildText,
    name: spec.name,
    guildId: state.guild.id,
    parentId: spec.parentId ?? null,
    position: spec.position ?? state.guildChannels().length,
    topic: spec.topic ?? null,
    overwrites: spec.overwrites ?? [],
  });
  state.channels.set(c.id, c);
  ctx.dispatcher.dispatch({ t: 'CHANNEL_CREATE', d: channelPayload(ctx, c), intent: Intents.Guilds });
  return c;
}

export interface NewThread {
  parentId: string;
  name: unknown;
  ownerId: string;
  type?: unknown;
  autoArchiveDuration?: unknown;
  invitable?: unknown;
  /** Thread from an existing message: its id becomes the thread id. */
  startMessageId?: string;
  checkPermissions?: boolean;
}

export function createThread(ctx: EmulatorContext, spec: NewThread): ChannelRecord {
  const { state } = ctx;
  const parent = textChannel(ctx, spec.parentId);
  if (parent.type !== ChannelType.GuildText && parent.type !== ChannelType.GuildAnnouncement) throw Errors.wrongChannelType();
  const errors = new FormErrors();
  const max = ctx.options.limits.threadNameLength;
  if (typeof spec.name !== 'string' || spec.name.trim() === '') errors.add(['name'], 'BASE_TYPE_REQUIRED', 'This field is required');
  else if (spec.name.length > max) errors.add(['name'], 'BASE_TYPE_BAD_LENGTH', `Must be between 1 and ${max} in length.`);
  const duration = spec.autoArchiveDuration === undefined || spec.autoArchiveDuration === null ? 4320 : Number(spec.autoArchiveDuration);
  if (!ARCHIVE_DURATIONS.has(duration)) errors.add(['auto_archive_duration'], 'BASE_TYPE_CHOICES', 'Value must be one of {60, 1440, 4320, 10080}.');
  let type: number;
  if (spec.startMessageId) type = parent.type === ChannelType.GuildAnnouncement ? ChannelType.AnnouncementThread : ChannelType.PublicThread;
  else {
    // API v10: the type defaults to a private thread.
    type = spec.type === undefined || spec.type === null ? ChannelType.PrivateThread : Number(spec.type);
    if (![ChannelType.AnnouncementThread, ChannelType.PublicThread, ChannelType.PrivateThread].includes(type as 10 | 11 | 12)) {
      errors.add(['type'], 'BASE_TYPE_CHOICES', 'Value must be one of {10, 11, 12}.');
    }
  }
  errors.throwIfAny();
  if (spec.checkPermissions) {
    requirePerms(ctx, spec.ownerId, parent, type === ChannelType.PrivateThread ? Permissions.CreatePrivateThreads : Permissions.CreatePublicThreads);
  }
  let starter;
  if (spec.startMessageId) {
    starter = state.liveMessage(parent.id, spec.startMessageId);
    if (!starter) throw Errors.unknownMessage();
    if (starter.threadId || state.channels.has(starter.id)) throw Errors.threadAlreadyCreated();
  }
  const now = ctx.clock.now();
  const t = freshChannel(ctx, {
    ...(starter ? { id: starter.id } : {}),
    type,
    name: spec.name as string,
    guildId: state.guild.id,
    parentId: parent.id,
    ownerId: spec.ownerId,
    thread: { archived: false, autoArchiveDuration: duration, archiveTimestamp: now, locked: false, createTimestamp: now, invitable: spec.invitable !== false },
  });
  if (starter) t.starterMessageId = starter.id;
  state.channels.set(t.id, t);
  ctx.dispatcher.dispatch({ t: 'THREAD_CREATE', d: { ...channelPayload(ctx, t), newly_created: true }, intent: Intents.Guilds });
  if (starter) {
    starter.threadId = t.id;
    starter.flags |= MessageFlags.HasThread;
    dispatchMessage(ctx, 'MESSAGE_UPDATE', starter);
    createSystemMessage(ctx, t.id, starter.authorId, MessageType.ThreadStarterMessage, '', { type: 0, messageId: starter.id, channelId: parent.id, guildId: parent.guildId });
  } else if (type !== ChannelType.PrivateThread) {
    createSystemMessage(ctx, parent.id, spec.ownerId, MessageType.ThreadCreated, t.name, { type: 0, channelId: t.id, guildId: parent.guildId });
  }
  return t;
}

export function deleteChannel(ctx: EmulatorContext, channelId: string, actorId: string, opts: { checkPermissions?: boolean } = {}): ChannelRecord {
  const { state } = ctx;
  const c = textChannel(ctx, channelId);
  const isThread = state.isThread(c);
  if (opts.checkPermissions) requirePerms(ctx, actorId, c, isThread ? Permissions.ManageThreads : Permissions.ManageChannels);
  const payload = channelPayload(ctx, c);
  const purge = (ch: ChannelRecord): void => {
    ch.deleted = true;
    for (const id of state.channelMessages.get(ch.id) ?? []) {
      const m = state.messages.get(id);
      if (m && !m.deleted) removeMessage(ctx, ch, m, false);
    }
    if (ch.starterMessageId) {
      const starter = state.messages.get(ch.starterMessageId);
      if (starter && starter.threadId === ch.id) {
        delete starter.threadId;
        starter.flags &= ~MessageFlags.HasThread;
      }
    }
  };
  purge(c);
  if (isThread) {
    ctx.dispatcher.dispatch({ t: 'THREAD_DELETE', d: { id: c.id, guild_id: c.guildId, parent_id: c.parentId, type: c.type }, intent: Intents.Guilds });
  } else {
    for (const t of state.threadsOf(c.id)) purge(t);
    ctx.dispatcher.dispatch({ t: 'CHANNEL_DELETE', d: payload, intent: Intents.Guilds });
  }
  return c;
}

/** PATCH /channels/:id — name/topic for channels; name/archived/locked/auto_archive_duration for threads. */
export function updateChannel(ctx: EmulatorContext, channelId: string, actorId: string, body: Record<string, unknown>, opts: { checkPermissions?: boolean } = {}): ChannelRecord {
  const { state } = ctx;
  const c = textChannel(ctx, channelId);
  const isThread = state.isThread(c);
  if (opts.checkPermissions) {
    const perms = requirePerms(ctx, actorId, c);
    const owner = isThread && c.ownerId === actorId;
    const onlyUnarchive = isThread && Object.keys(body).every((k) => k === 'archived') && body['archived'] === false;
    if (!owner && !onlyUnarchive && !has(perms, isThread ? Permissions.ManageThreads : Permissions.ManageChannels)) throw Errors.missingPermissions();
  }
  const errors = new FormErrors();
  if ('name' in body) {
    if (typeof body['name'] !== 'string' || body['name'].length < 1 || body['name'].length > 100) errors.add(['name'], 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
  }
  if (isThread && 'auto_archive_duration' in body && !ARCHIVE_DURATIONS.has(Number(body['auto_archive_duration']))) {
    errors.add(['auto_archive_duration'], 'BASE_TYPE_CHOICES', 'Value must be one of {60, 1440, 4320, 10080}.');
  }
  errors.throwIfAny();
  if (typeof body['name'] === 'string') c.name = body['name'];
  if (!isThread && 'topic' in body) c.topic = typeof body['topic'] === 'string' ? body['topic'] : null;
  if (c.thread) {
    const now = ctx.clock.now();
    if ('auto_archive_duration' in body) c.thread.autoArchiveDuration = Number(body['auto_archive_duration']);
    if ('locked' in body) c.thread.locked = body['locked'] === true;
    if ('archived' in body) {
      const archived = body['archived'] === true;
      if (archived !== c.thread.archived) {
        c.thread.archived = archived;
        c.thread.archiveTimestamp = now;
        if (!archived) c.lastActivityAt = now;
      }
    }
  }
  ctx.dispatcher.dispatch({ t: isThread ? 'THREAD_UPDATE' : 'CHANNEL_UPDATE', d: channelPayload(ctx, c), intent: Intents.Guilds });
  return c;
}
