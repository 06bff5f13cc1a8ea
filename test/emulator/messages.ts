import { createHash } from 'node:crypto';
import type { UploadedFile } from './body.js';
import { Intents, MessageFlags, MessageType, Permissions, TEXT_BASED_TYPES } from './constants.js';
import type { EmulatorContext } from './context.js';
import { checkDmRecipient, guildIdField, messageEventScope } from './dms.js';
import { Errors, invalidForm } from './errors.js';
import { blankContent, channelPayload, messagePayload } from './payloads.js';
import { channelPermissions, has } from './permissions.js';
import type { AttachmentRecord, ChannelRecord, InteractionMetadataRecord, MessageRecord, MessageReferenceRecord } from './state.js';
import { isoTimestamp, snowflakeTimestamp } from './snowflake.js';
import { touchThread } from './threads.js';
import type { AttachmentSpec, MessageInput } from './validate.js';

/** Message creation, editing, deletion and pins: shared by REST, interactions and test injection. */

export interface CreateMessageArgs {
  channelId: string;
  authorId: string;
  input: MessageInput;
  files: UploadedFile[];
  /** Check the author's channel permissions (REST requests by the bot). */
  checkPermissions?: boolean;
  type?: number;
  reference?: MessageReferenceRecord;
  webhookId?: string;
  applicationId?: string;
  interaction?: InteractionMetadataRecord;
  ephemeral?: boolean;
  extraFlags?: number;
  /** Deferred interaction responses ("thinking...") may be empty. */
  allowEmpty?: boolean;
}

/** Discord replaces spaces in attachment filenames with underscores. */
export function sanitizeFilename(name: string): string {
  const base = name.replace(/^.*[\\/]/, '').replace(/\s/g, '_');
  return base === '' ? 'unknown' : base;
}

export function textChannel(ctx: EmulatorContext, channelId: string): ChannelRecord {
  const c = ctx.state.liveChannel(channelId);
  if (!c) throw Errors.unknownChannel();
  return c;
}

export function requirePerms(ctx: EmulatorContext, userId: string, channel: ChannelRecord, ...flags: bigint[]): bigint {
  const perms = channelPermissions(ctx.state, userId, channel);
  if (!has(perms, Permissions.ViewChannel)) throw Errors.missingAccess();
  for (const f of flags) if (!has(perms, f)) throw Errors.missingPermissions();
  return perms;
}

function parseMentions(ctx: EmulatorContext, content: string): { users: string[]; roles: string[] } {
  const users = new Set<string>();
  const roles = new Set<string>();
  for (const m of content.matchAll(/<@(!?|&)(\d{1,20})>/g)) {
    const id = m[2]!;
    if (m[1] === '&') {
      if (ctx.state.roles.has(id)) roles.add(id);
    } else if (ctx.state.users.has(id)) users.add(id);
  }
  return { users: [...users], roles: [...roles] };
}

function makeAttachment(ctx: EmulatorContext, channelId: string, messageId: string, file: UploadedFile, spec: AttachmentSpec | undefined): AttachmentRecord {
  const a: AttachmentRecord = {
    id: ctx.ids.next(),
    channelId,
    messageId,
    filename: sanitizeFilename(spec?.filename ?? file.filename),
    contentType: file.contentType,
    size: file.data.length,
    data: file.data,
    etag: createHash('md5').update(file.data).digest('hex'),
    deleted: false,
  };
  if (spec?.description !== undefined) a.description = spec.description;
  if (spec?.title !== undefined) a.title = spec.title;
  ctx.state.attachments.set(a.id, a);
  return a;
}

/** Dispatch a message event to the gateway with MESSAGE_CONTENT filtering (DMs are exempt from it). */
export function dispatchMessage(ctx: EmulatorContext, t: 'MESSAGE_CREATE' | 'MESSAGE_UPDATE', m: MessageRecord): void {
  if (m.ephemeral) return;
  const channel = ctx.state.channels.get(m.channelId);
  const d = messagePayload(ctx, m, { gateway: true });
  if (channel && channel.guildId === null) {
    ctx.dispatcher.dispatch({ t, d, ...messageEventScope(channel) });
    return;
  }
  ctx.dispatcher.dispatch({ t, d, intent: Intents.GuildMessages, content: { authorId: m.authorId, mentionIds: m.mentionIds, blanked: blankContent(d) } });
}

function isEmpty(m: Pick<MessageRecord, 'content' | 'embeds' | 'attachmentIds' | 'components'>, stickersOrPoll = false): boolean {
  return m.content.trim() === '' && m.embeds.length === 0 && m.attachmentIds.length === 0 && m.components.length === 0 && !stickersOrPoll;
}

function bumpChannel(ctx: EmulatorContext, channel: ChannelRecord, m: MessageRecord, countInThread: boolean): void {
  channel.lastMessageId = m.id;
  if (ctx.state.isThread(channel)) {
    const unarchived = touchThread(ctx, channel);
    if (countInThread) {
      channel.messageCount++;
      channel.totalMessageSent++;
    }
    if (unarchived) ctx.dispatcher.dispatch({ t: 'THREAD_UPDATE', d: channelPayload(ctx, channel), intent: Intents.Guilds });
  }
}

export function createMessage(ctx: EmulatorContext, args: CreateMessageArgs): MessageRecord {
  const { state } = ctx;
  const channel = textChannel(ctx, args.channelId);
  if (!TEXT_BASED_TYPES.has(channel.type)) throw Errors.nonTextChannel();
  const isThread = state.isThread(channel);
  if (args.checkPermissions) {
    const perms = requirePerms(ctx, args.authorId, channel, isThread ? Permissions.SendMessagesInThreads : Permissions.SendMessages);
    if (args.files.length > 0 && !has(perms, Permissions.AttachFiles)) throw Errors.missingPermissions();
    if (isThread && channel.thread?.locked && !has(perms, Permissions.ManageThreads)) throw Errors.threadArchived();
    if (ctx.state.isDm(channel)) checkDmRecipient(ctx, channel, args.authorId);
  }
  const input = args.input;
  const now = ctx.clock.now();

  // enforce_nonce: a retry returns the message created the first time.
  let nonceKey: string | undefined;
  if (input.nonce !== undefined && input.enforceNonce) {
    nonceKey = `${args.authorId}:${channel.id}:${String(input.nonce)}`;
    const prior = state.nonces.get(nonceKey);
    if (prior && now - prior.at <= ctx.options.limits.nonceWindowMs) {
      const existing = state.messages.get(prior.messageId);
      if (existing && !existing.deleted) return existing;
    }
  }

  let reference = args.reference;
  let type = args.type ?? MessageType.Default;
  if (input.reference?.messageId) {
    const refChannel = input.reference.channelId ?? channel.id;
    const ref = state.liveMessage(refChannel, input.reference.messageId);
    if (!ref && input.reference.failIfNotExists) {
      throw invalidForm(['message_reference'], 'MESSAGE_REFERENCE_UNKNOWN_MESSAGE', 'Unknown message');
    }
    if (ref) {
      reference = { type: 0, messageId: ref.id, channelId: ref.channelId, guildId: channel.guildId };
      if (args.type === undefined) type = MessageType.Reply;
    }
  }

  const content = input.content ?? '';
  const attachmentSpecs = new Map((input.attachments ?? []).map((s) => [s.id, s]));
  const id = ctx.ids.next();
  const mentions = parseMentions(ctx, content);
  const m: MessageRecord = {
    id,
    channelId: channel.id,
    authorId: args.authorId,
    type,
    content,
    embeds: input.embeds ?? [],
    components: input.components ?? [],
    attachmentIds: [],
    mentionIds: mentions.users,
    mentionRoleIds: mentions.roles,
    pinned: false,
    pinnedAt: null,
    editedAt: null,
    createdAt: snowflakeTimestamp(id), // the timestamp always matches the id
    flags: (input.flags ?? 0) | (args.extraFlags ?? 0),
    tts: input.tts,
    ephemeral: args.ephemeral ?? false,
    deleted: false,
  };
  if (input.nonce !== undefined) m.nonce = input.nonce;
  if (reference) m.reference = reference;
  if (args.webhookId) m.webhookId = args.webhookId;
  if (args.applicationId) m.applicationId = args.applicationId;
  if (args.interaction) m.interaction = args.interaction;
  if (!args.allowEmpty && isEmpty(m, input.hasStickersOrPoll) && args.files.length === 0) throw Errors.emptyMessage();
  // Attachments are stored only once the message is accepted.
  m.attachmentIds = args.files.map((f, i) => makeAttachment(ctx, channel.id, id, f, attachmentSpecs.get(String(f.index)) ?? attachmentSpecs.get(String(i))).id);
  if (isThread) m.position = channel.totalMessageSent;
  state.addMessage(m);
  if (nonceKey) state.nonces.set(nonceKey, { messageId: id, at: now });
  bumpChannel(ctx, channel, m, m.type !== MessageType.ThreadStarterMessage);
  dispatchMessage(ctx, 'MESSAGE_CREATE', m);
  return m;
}

/** A system message (thread created, pinned, thread starter...). */
export function createSystemMessage(ctx: EmulatorContext, channelId: string, authorId: string, type: number, content: string, reference?: MessageReferenceRecord): MessageRecord | undefined {
  if (!ctx.options.systemMessages) return undefined;
  return createMessage(ctx, {
    channelId,
    authorId,
    type,
    input: { content, enforceNonce: false, tts: false, hasStickersOrPoll: true },
    files: [],
    ...(reference ? { reference } : {}),
  });
}

export interface EditMessageArgs {
  channelId: string;
  messageId: string;
  editorId: string;
  input: MessageInput;
  /** Raw body: distinguishes absent keys from nulls. */
  raw: Record<string, unknown>;
  files: UploadedFile[];
  /** Interaction webhooks may edit ephemeral responses. */
  viaWebhook?: boolean;
}

const SYSTEM_TYPES: ReadonlySet<number> = new Set([MessageType.ChannelPinnedMessage, MessageType.ThreadCreated, MessageType.ThreadStarterMessage]);

export function editMessage(ctx: EmulatorContext, args: EditMessageArgs): MessageRecord {
  const { state } = ctx;
  const channel = textChannel(ctx, args.channelId);
  const m = state.liveMessage(channel.id, args.messageId, args.viaWebhook);
  if (!m) throw Errors.unknownMessage();
  if (m.authorId !== args.editorId) throw Errors.cannotEditOthers();
  if (SYSTEM_TYPES.has(m.type)) throw Errors.systemMessage();
  const raw = args.raw;
  const input = args.input;
  const next = { content: m.content, embeds: m.embeds, components: m.components, attachmentIds: [...m.attachmentIds] };
  if ('content' in raw) next.content = input.content ?? '';
  if ('embeds' in raw) next.embeds = input.embeds ?? [];
  if ('components' in raw) next.components = input.components ?? [];

  // attachments: absent -> keep all (plus new files); present -> keep only listed ids (plus new files).
  const specs = input.attachments;
  const removed: string[] = [];
  if (specs !== undefined) {
    const keep = new Set(specs.map((s) => s.id));
    for (const id of m.attachmentIds) if (!keep.has(id)) removed.push(id);
    next.attachmentIds = m.attachmentIds.filter((id) => keep.has(id));
    for (const s of specs) {
      const a = state.attachments.get(s.id);
      if (a && next.attachmentIds.includes(s.id) && s.description !== undefined) a.description = s.description;
    }
  }
  if (next.attachmentIds.length + args.files.length > ctx.options.limits.maxAttachmentsPerMessage) {
    throw invalidForm(['attachments'], 'BASE_TYPE_MAX_LENGTH', `Must be ${ctx.options.limits.maxAttachmentsPerMessage} or fewer in length.`);
  }
  if (isEmpty(next) && args.files.length === 0) throw Errors.emptyMessage();
  if (channel.thread?.archived && !channel.thread.locked) touchThread(ctx, channel);
  else if (channel.thread?.locked) throw Errors.threadArchived();

  const specById = new Map((specs ?? []).map((s) => [s.id, s]));
  const added = args.files.map((f, i) => makeAttachment(ctx, channel.id, m.id, f, specById.get(String(f.index)) ?? specById.get(String(i))).id);
  for (const id of removed) {
    const a = state.attachments.get(id);
    if (a) a.deleted = true;
  }
  m.content = next.content;
  m.embeds = next.embeds;
  m.components = next.components;
  m.attachmentIds = [...next.attachmentIds, ...added];
  if (input.flags !== undefined) m.flags = (m.flags & ~MessageFlags.SuppressEmbeds) | (input.flags & MessageFlags.SuppressEmbeds);
  const mentions = parseMentions(ctx, m.content);
  m.mentionIds = mentions.users;
  m.mentionRoleIds = mentions.roles;
  m.editedAt = ctx.clock.now();
  dispatchMessage(ctx, 'MESSAGE_UPDATE', m);
  return m;
}

export function deleteMessage(ctx: EmulatorContext, channelId: string, messageId: string, actorId: string, opts: { checkPermissions?: boolean; viaWebhook?: boolean } = {}): void {
  const { state } = ctx;
  const channel = textChannel(ctx, channelId);
  const m = state.liveMessage(channel.id, messageId, opts.viaWebhook);
  if (!m) throw Errors.unknownMessage();
  if (opts.checkPermissions) {
    const perms = requirePerms(ctx, actorId, channel);
    if (m.authorId !== actorId && !has(perms, Permissions.ManageMessages)) throw Errors.missingPermissions();
  }
  if (m.type === MessageType.ThreadStarterMessage) throw Errors.systemMessage();
  removeMessage(ctx, channel, m);
}

/** Marks a message deleted, deletes its attachments, dispatches MESSAGE_DELETE. */
export function removeMessage(ctx: EmulatorContext, channel: ChannelRecord, m: MessageRecord, dispatch = true): void {
  m.deleted = true;
  for (const id of m.attachmentIds) {
    const a = ctx.state.attachments.get(id);
    if (a) a.deleted = true;
  }
  if (ctx.state.isThread(channel) && m.type !== MessageType.ThreadStarterMessage) channel.messageCount = Math.max(0, channel.messageCount - 1);
  const wasPinned = m.pinned;
  m.pinned = false;
  if (!dispatch || m.ephemeral) return;
  ctx.dispatcher.dispatch({ t: 'MESSAGE_DELETE', d: { id: m.id, channel_id: channel.id, ...guildIdField(channel) }, ...messageEventScope(channel) });
  if (wasPinned) dispatchPinsUpdate(ctx, channel);
}

function dispatchPinsUpdate(ctx: EmulatorContext, channel: ChannelRecord): void {
  const last = ctx.state.pinnedMessages(channel.id)[0]?.pinnedAt ?? null;
  channel.lastPinTimestamp = last;
  const dm = ctx.state.isDm(channel);
  ctx.dispatcher.dispatch({
    t: 'CHANNEL_PINS_UPDATE',
    d: { ...guildIdField(channel), channel_id: channel.id, last_pin_timestamp: last === null ? null : isoTimestamp(last) },
    intent: dm ? Intents.DirectMessages : Intents.Guilds,
    dm,
  });
}

function pinPermission(ctx: EmulatorContext, actorId: string, channel: ChannelRecord): void {
  const perms = requirePerms(ctx, actorId, channel);
  if (!has(perms, Permissions.PinMessages) && !has(perms, Permissions.ManageMessages)) throw Errors.missingPermissions();
}

export function pinMessage(ctx: EmulatorContext, channelId: string, messageId: string, actorId: string): void {
  const channel = textChannel(ctx, channelId);
  pinPermission(ctx, actorId, channel);
  const m = ctx.state.liveMessage(channel.id, messageId);
  if (!m) throw Errors.unknownMessage();
  if (SYSTEM_TYPES.has(m.type)) throw Errors.systemMessage();
  if (m.pinned) return;
  const max = ctx.options.limits.maxPinsPerChannel;
  if (ctx.state.pinnedMessages(channel.id).length >= max) throw Errors.maxPins(max);
  m.pinned = true;
  m.pinnedAt = ctx.clock.now();
  dispatchMessage(ctx, 'MESSAGE_UPDATE', m);
  dispatchPinsUpdate(ctx, channel);
  createSystemMessage(ctx, channel.id, actorId, MessageType.ChannelPinnedMessage, '', { type: 0, messageId: m.id, channelId: channel.id, guildId: channel.guildId });
}

export function unpinMessage(ctx: EmulatorContext, channelId: string, messageId: string, actorId: string): void {
  const channel = textChannel(ctx, channelId);
  pinPermission(ctx, actorId, channel);
  const m = ctx.state.liveMessage(channel.id, messageId);
  if (!m) throw Errors.unknownMessage();
  if (!m.pinned) return;
  m.pinned = false;
  m.pinnedAt = null;
  dispatchMessage(ctx, 'MESSAGE_UPDATE', m);
  dispatchPinsUpdate(ctx, channel);
}

/** GET messages: newest first, with limit/before/after/around like Discord. */
export function listMessages(ctx: EmulatorContext, channelId: string, q: URLSearchParams, max: number): MessageRecord[] {
  const ids = ctx.state.messageIds(channelId);
  const limitRaw = q.get('limit');
  let limit = 50;
  if (limitRaw !== null) {
    const n = Number(limitRaw);
    if (!Number.isInteger(n)) throw invalidForm(['limit'], 'NUMBER_TYPE_COERCE', `Value "${limitRaw}" is not int.`);
    if (n < 1) throw invalidForm(['limit'], 'NUMBER_TYPE_MIN', 'int value should be greater than or equal to 1.');
    if (n > max) throw invalidForm(['limit'], 'NUMBER_TYPE_MAX', `int value should be less than or equal to ${max}.`);
    limit = n;
  }
  const big = (s: string): bigint => BigInt(s);
  const before = q.get('before');
  const after = q.get('after');
  const around = q.get('around');
  const check = (name: string, v: string | null): void => {
    if (v !== null && !/^\d{1,20}$/.test(v)) throw invalidForm([name], 'NUMBER_TYPE_COERCE', `Value "${v}" is not snowflake.`);
  };
  check('before', before);
  check('after', after);
  check('around', around);
  let picked: string[];
  if (around !== null) {
    const a = big(around);
    let idx = ids.findIndex((id) => big(id) >= a);
    if (idx < 0) idx = ids.length;
    // As Discord does: half the limit on each side of the target, with no sliding to fill the
    // page near either end of the channel (so a short page does not mean the channel ended).
    const half = Math.floor(limit / 2);
    picked = ids.slice(Math.max(0, idx - half), Math.min(ids.length, idx + (limit - half)));
  } else if (after !== null) {
    const a = big(after);
    picked = ids.filter((id) => big(id) > a).slice(0, limit);
  } else {
    const b = before !== null ? big(before) : null;
    const older = b === null ? ids : ids.filter((id) => big(id) < b);
    picked = older.slice(Math.max(0, older.length - limit));
  }
  return picked.reverse().map((id) => ctx.state.messages.get(id)!);
}
