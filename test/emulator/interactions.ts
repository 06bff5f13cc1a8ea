import { randomBytes } from 'node:crypto';
import { InteractionCallbackType, InteractionType, MessageFlags, MessageType } from './constants.js';
import type { EmulatorContext } from './context.js';
import { ApiError, Errors, FormErrors } from './errors.js';
import { createMessage, deleteMessage, editMessage } from './messages.js';
import { channelPayload, memberPayload, messagePayload, userPayload } from './payloads.js';
import { channelPermissions } from './permissions.js';
import { type RouteDef, type RouteRequest, route } from './router.js';
import type { CommandRecord, InteractionRecord, MessageRecord } from './state.js';
import { parseMessageInput } from './validate.js';

/** Application commands, INTERACTION_CREATE injection, interaction callbacks and webhook follow-ups. */

export interface SlashOption {
  name: string;
  type: number;
  value?: unknown;
  options?: SlashOption[];
  focused?: boolean;
}

export interface InjectSlashCommandOptions {
  name: string;
  options?: SlashOption[];
  /** Defaults to the guild owner. */
  userId?: string;
  /** Defaults to the archive channel. */
  channelId?: string;
}

export interface InjectedInteraction {
  id: string;
  token: string;
  /** Live record: `callback`, `originalMessageId`, `followUpIds` fill in as the bot answers. */
  record: InteractionRecord;
  /** The INTERACTION_CREATE payload that was dispatched. */
  payload: Record<string, unknown>;
  /** Resolves once the bot has called back (never rejects). */
  responded: Promise<InteractionRecord>;
}

const waiters = new WeakMap<InteractionRecord, () => void>();

function commandPayload(c: CommandRecord): Record<string, unknown> {
  return {
    ...c.raw,
    id: c.id,
    application_id: c.applicationId,
    ...(c.guildId ? { guild_id: c.guildId } : {}),
    name: c.name,
    description: c.description,
    type: c.type,
    options: c.options,
    version: c.version,
    default_member_permissions: c.raw['default_member_permissions'] ?? null,
    dm_permission: c.raw['dm_permission'] ?? true,
    nsfw: c.raw['nsfw'] ?? false,
    contexts: c.raw['contexts'] ?? null,
    integration_types: c.raw['integration_types'] ?? [0],
  };
}

function validateCommand(raw: unknown, i: number | null, errors: FormErrors): void {
  const p = (k: string): (string | number)[] => (i === null ? [k] : [i, k]);
  if (typeof raw !== 'object' || raw === null) {
    errors.add(i === null ? [] : [i], 'DICT_TYPE_CONVERT', 'Only dictionaries may be used in a DictType');
    return;
  }
  const c = raw as Record<string, unknown>;
  const type = c['type'] === undefined ? 1 : Number(c['type']);
  const name = c['name'];
  if (typeof name !== 'string' || !/^[-_\p{L}\p{N}]{1,32}$/u.test(name) || (type === 1 && name !== name.toLowerCase())) {
    errors.add(p('name'), 'APPLICATION_COMMAND_INVALID_NAME', 'Command name is invalid');
  }
  if (type === 1) {
    const d = c['description'];
    if (typeof d !== 'string' || d.length < 1 || d.length > 100) errors.add(p('description'), 'BASE_TYPE_BAD_LENGTH', 'Must be between 1 and 100 in length.');
  }
}

function upsertCommand(ctx: EmulatorContext, guildId: string | null, raw: Record<string, unknown>): { cmd: CommandRecord; created: boolean } {
  const type = raw['type'] === undefined ? 1 : Number(raw['type']);
  const existing = [...ctx.state.commands.values()].find((c) => c.guildId === guildId && c.name === raw['name'] && c.type === type);
  const cmd: CommandRecord = {
    id: existing?.id ?? ctx.ids.next(),
    applicationId: ctx.state.applicationId,
    guildId,
    name: String(raw['name']),
    description: typeof raw['description'] === 'string' ? raw['description'] : '',
    type,
    options: Array.isArray(raw['options']) ? (raw['options'] as unknown[]) : [],
    version: ctx.ids.next(),
    raw: { ...raw },
  };
  ctx.state.commands.set(cmd.id, cmd);
  return { cmd, created: !existing };
}

function checkApp(r: RouteRequest): void {
  if (r.params['application_id'] !== r.ctx.state.applicationId) throw Errors.unknownApplication();
  if (r.params['guild_id'] !== undefined && r.params['guild_id'] !== r.ctx.state.guild.id) throw Errors.unknownGuild();
}

function listCommands(r: RouteRequest) {
  checkApp(r);
  const gid = r.params['guild_id'] ?? null;
  return { status: 200, body: [...r.ctx.state.commands.values()].filter((c) => c.guildId === gid).map(commandPayload) };
}

function overwriteCommands(r: RouteRequest) {
  checkApp(r);
  const gid = r.params['guild_id'] ?? null;
  const body = r.body.json;
  if (!Array.isArray(body)) throw new ApiError(400, 50035, 'Invalid Form Body', { _errors: [{ code: 'LIST_TYPE_CONVERT', message: 'Only iterables may be used in a ListType' }] });
  const errors = new FormErrors();
  if (body.length > 100) errors.add([], 'BASE_TYPE_MAX_LENGTH', 'Must be 100 or fewer in length.');
  body.forEach((c: unknown, i: number) => validateCommand(c, i, errors));
  errors.throwIfAny();
  const keep = new Set<string>();
  const out = body.map((c: Record<string, unknown>) => {
    const { cmd } = upsertCommand(r.ctx, gid, c);
    keep.add(cmd.id);
    return cmd;
  });
  for (const c of [...r.ctx.state.commands.values()]) if (c.guildId === gid && !keep.has(c.id)) r.ctx.state.commands.delete(c.id);
  return { status: 200, body: out.map(commandPayload) };
}

function createCommand(r: RouteRequest) {
  checkApp(r);
  const errors = new FormErrors();
  validateCommand(r.body.json, null, errors);
  errors.throwIfAny();
  const { cmd, created } = upsertCommand(r.ctx, r.params['guild_id'] ?? null, r.body.json as Record<string, unknown>);
  return { status: created ? 201 : 200, body: commandPayload(cmd) };
}

function deleteCommand(r: RouteRequest) {
  checkApp(r);
  const c = r.ctx.state.commands.get(r.params['command_id']!);
  if (!c || c.guildId !== (r.params['guild_id'] ?? null)) throw Errors.unknownCommand();
  r.ctx.state.commands.delete(c.id);
  return { status: 204 };
}

function resolvedFor(ctx: EmulatorContext, options: SlashOption[] | undefined): Record<string, unknown> | undefined {
  const users: Record<string, unknown> = {};
  const members: Record<string, unknown> = {};
  const channels: Record<string, unknown> = {};
  const walk = (opts: SlashOption[] | undefined): void => {
    for (const o of opts ?? []) {
      if (o.type === 6 && typeof o.value === 'string') {
        const u = ctx.state.users.get(o.value);
        if (u) users[u.id] = userPayload(u);
        const m = ctx.state.members.get(o.value);
        if (m) members[o.value] = memberPayload(ctx, m, false);
      }
      if (o.type === 7 && typeof o.value === 'string') {
        const c = ctx.state.liveChannel(o.value);
        if (c) channels[c.id] = { ...channelPayload(ctx, c), permissions: channelPermissions(ctx.state, ctx.state.botUserId, c).toString() };
      }
      walk(o.options);
    }
  };
  walk(options);
  if (!Object.keys(users).length && !Object.keys(channels).length) return undefined;
  return { users, members, channels };
}

export function injectSlashCommand(ctx: EmulatorContext, o: InjectSlashCommandOptions & { userId: string; channelId: string }): InjectedInteraction {
  const { state } = ctx;
  const cmd = [...state.commands.values()].find((c) => c.name === o.name && c.type === 1 && (c.guildId === state.guild.id || c.guildId === null));
  if (!cmd) throw new Error(`slash command "${o.name}" is not registered (PUT /applications/:id/guilds/:id/commands first)`);
  const channel = state.liveChannel(o.channelId);
  if (!channel) throw new Error(`unknown channel ${o.channelId}`);
  const member = state.members.get(o.userId);
  if (!member) throw new Error(`user ${o.userId} is not a member`);
  const record: InteractionRecord = {
    id: ctx.ids.next(),
    token: `aW50ZXJhY3Rpb24${randomBytes(48).toString('base64url')}`,
    applicationId: state.applicationId,
    type: InteractionType.ApplicationCommand,
    channelId: channel.id,
    guildId: state.guild.id,
    userId: o.userId,
    commandName: cmd.name,
    createdAt: ctx.clock.now(),
    callback: null,
    originalMessageId: null,
    followUpIds: [],
  };
  state.interactions.set(record.id, record);
  const resolved = resolvedFor(ctx, o.options);
  const payload: Record<string, unknown> = {
    id: record.id,
    application_id: record.applicationId,
    type: InteractionType.ApplicationCommand,
    data: { id: cmd.id, name: cmd.name, type: 1, guild_id: state.guild.id, ...(o.options ? { options: o.options } : {}), ...(resolved ? { resolved } : {}) },
    guild_id: state.guild.id,
    guild: { id: state.guild.id, locale: 'en-US', features: [] },
    channel_id: channel.id,
    channel: channelPayload(ctx, channel),
    member: { ...memberPayload(ctx, member), permissions: channelPermissions(state, o.userId, channel).toString() },
    token: record.token,
    version: 1,
    app_permissions: channelPermissions(state, state.botUserId, channel).toString(),
    locale: 'en-US',
    guild_locale: 'en-US',
    entitlements: [],
    authorizing_integration_owners: { '0': state.guild.id },
    context: 0,
    attachment_size_limit: ctx.options.limits.attachmentBytesByTier[state.guild.premiumTier],
  };
  const responded = new Promise<InteractionRecord>((resolve) => waiters.set(record, () => resolve(record)));
  ctx.dispatcher.dispatch({ t: 'INTERACTION_CREATE', d: payload, intent: null });
  return { id: record.id, token: record.token, record, payload, responded };
}

function interactionByToken(ctx: EmulatorContext, appId: string, token: string): InteractionRecord {
  const rec = [...ctx.state.interactions.values()].find((i) => i.token === token && i.applicationId === appId);
  if (!rec || ctx.clock.now() - rec.createdAt > ctx.options.interactionTokenTtlMs) throw Errors.unknownWebhook();
  return rec;
}

function interactionMessage(ctx: EmulatorContext, rec: InteractionRecord, r: RouteRequest, opts: { loading?: boolean; followUp?: boolean }): MessageRecord {
  const raw = (r.body.json ?? {}) as Record<string, unknown>;
  const data = (opts.followUp ? raw : ((raw['data'] ?? {}) as Record<string, unknown>)) ?? {};
  const input = parseMessageInput(data, ctx.options.limits, r.body.files.length);
  const ephemeral = ((input.flags ?? 0) & MessageFlags.Ephemeral) !== 0;
  return createMessage(ctx, {
    channelId: rec.channelId,
    authorId: ctx.state.botUserId,
    input,
    files: r.body.files,
    type: opts.followUp ? MessageType.Default : MessageType.ChatInputCommand,
    webhookId: rec.applicationId,
    applicationId: rec.applicationId,
    interaction: { id: rec.id, type: rec.type, userId: rec.userId, name: rec.commandName },
    ephemeral,
    extraFlags: (ephemeral ? MessageFlags.Ephemeral : 0) | (opts.loading ? MessageFlags.Loading : 0),
    allowEmpty: opts.loading ?? false,
  });
}

function callback(r: RouteRequest) {
  const { ctx } = r;
  const rec = ctx.state.interactions.get(r.params['interaction_id']!);
  if (!rec || rec.token !== r.params['token'] || ctx.clock.now() - rec.createdAt > ctx.options.interactionCallbackWindowMs) throw Errors.unknownInteraction();
  if (rec.callback) throw Errors.alreadyAcknowledged();
  const body = (r.body.json ?? {}) as Record<string, unknown>;
  const type = Number(body['type']);
  const valid = [InteractionCallbackType.ChannelMessageWithSource, InteractionCallbackType.DeferredChannelMessageWithSource, InteractionCallbackType.Modal] as number[];
  if (!valid.includes(type)) {
    const f = new FormErrors();
    f.add(['type'], 'BASE_TYPE_CHOICES', 'Value must be one of {4, 5, 9}.');
    f.throwIfAny();
  }
  let message: MessageRecord | undefined;
  if (type === InteractionCallbackType.ChannelMessageWithSource) message = interactionMessage(ctx, rec, r, {});
  if (type === InteractionCallbackType.DeferredChannelMessageWithSource) message = interactionMessage(ctx, rec, r, { loading: true });
  rec.callback = { type, data: body['data'] ?? null, at: ctx.clock.now() };
  if (message) rec.originalMessageId = message.id;
  waiters.get(rec)?.();
  if (r.query.get('with_response') !== 'true') return { status: 204 };
  return {
    status: 200,
    body: {
      interaction: {
        id: rec.id,
        type: rec.type,
        response_message_id: message?.id,
        response_message_loading: type === InteractionCallbackType.DeferredChannelMessageWithSource,
        response_message_ephemeral: message?.ephemeral ?? false,
      },
      resource: { type, ...(message ? { message: messagePayload(ctx, message) } : {}) },
    },
  };
}

function targetMessage(r: RouteRequest): { rec: InteractionRecord; m: MessageRecord } {
  const { ctx } = r;
  const rec = interactionByToken(ctx, r.params['webhook_id']!, r.params['token']!);
  const id = r.params['message_id'] === '@original' ? rec.originalMessageId : r.params['message_id']!;
  const m = id ? ctx.state.messages.get(id) : undefined;
  if (!m || m.deleted || (id !== rec.originalMessageId && !rec.followUpIds.includes(id!))) throw Errors.unknownMessage();
  return { rec, m };
}

export const interactionRoutes: RouteDef[] = [
  route('GET', '/applications/:application_id/commands', listCommands, { major: null }),
  route('PUT', '/applications/:application_id/commands', overwriteCommands, { major: null }),
  route('POST', '/applications/:application_id/commands', createCommand, { major: null }),
  route('DELETE', '/applications/:application_id/commands/:command_id', deleteCommand, { major: null }),
  route('GET', '/applications/:application_id/guilds/:guild_id/commands', listCommands, { major: null }),
  route('PUT', '/applications/:application_id/guilds/:guild_id/commands', overwriteCommands, { major: null }),
  route('POST', '/applications/:application_id/guilds/:guild_id/commands', createCommand, { major: null }),
  route('DELETE', '/applications/:application_id/guilds/:guild_id/commands/:command_id', deleteCommand, { major: null }),
  route('POST', '/interactions/:interaction_id/:token/callback', callback, { auth: 'none', body: 'message', major: null, globalLimit: false }),
  route(
    'POST',
    '/webhooks/:webhook_id/:token',
    (r) => {
      const rec = interactionByToken(r.ctx, r.params['webhook_id']!, r.params['token']!);
      if (!rec.callback) throw Errors.unknownWebhook();
      const m = interactionMessage(r.ctx, rec, r, { followUp: true });
      rec.followUpIds.push(m.id);
      return { status: 200, body: messagePayload(r.ctx, m) };
    },
    { auth: 'none', body: 'message' },
  ),
  route('GET', '/webhooks/:webhook_id/:token/messages/:message_id', (r) => ({ status: 200, body: messagePayload(r.ctx, targetMessage(r).m) }), { auth: 'none' }),
  route(
    'PATCH',
    '/webhooks/:webhook_id/:token/messages/:message_id',
    (r) => {
      const { ctx } = r;
      const { m } = targetMessage(r);
      const raw = (typeof r.body.json === 'object' && r.body.json !== null ? r.body.json : {}) as Record<string, unknown>;
      const input = parseMessageInput(raw, ctx.options.limits, r.body.files.length);
      m.flags &= ~MessageFlags.Loading;
      const edited = editMessage(ctx, { channelId: m.channelId, messageId: m.id, editorId: m.authorId, input, raw, files: r.body.files, viaWebhook: true });
      return { status: 200, body: messagePayload(ctx, edited) };
    },
    { auth: 'none', body: 'message' },
  ),
  route(
    'DELETE',
    '/webhooks/:webhook_id/:token/messages/:message_id',
    (r) => {
      const { m } = targetMessage(r);
      deleteMessage(r.ctx, m.channelId, m.id, m.authorId, { viaWebhook: true });
      return { status: 204 };
    },
    { auth: 'none' },
  ),
];
