import { ChannelType, Intents } from './constants.js';
import { freshChannel } from './channels.js';
import type { EmulatorContext } from './context.js';
import { Errors } from './errors.js';
import type { ChannelRecord } from './state.js';

/**
 * Direct messages between the bot and one user, as Discord has them since API v8:
 * - one DM channel (type 1, no guild) per pair, opened with `POST /users/@me/channels` or by the
 *   user writing first; opening it again returns the same channel;
 * - bots get **no CHANNEL_CREATE** for DMs: the first event about a DM is its MESSAGE_CREATE,
 *   which has no `guild_id` and no `member` but carries `channel_type: 1` (discord.js 14 builds
 *   its partial DMChannel from that, given `Partials.Channel`);
 * - DM events need the DIRECT_MESSAGES intent (1 << 12) and reach shard 0 only;
 * - DMs are exempt from the MESSAGE_CONTENT privileged intent: their content is never blanked.
 */

/** The bot's DM channel with `userId`, created on first use. */
export function openDm(ctx: EmulatorContext, userId: string): ChannelRecord {
  const { state } = ctx;
  const user = state.users.get(userId);
  if (!user || userId === state.botUserId) throw Errors.invalidRecipients();
  const existing = state.dmChannelWith(userId);
  if (existing) return existing;
  const c = freshChannel(ctx, { type: ChannelType.DM, name: '', guildId: null, parentId: null, recipientIds: [state.botUserId, userId] });
  state.channels.set(c.id, c);
  return c;
}

/** Discord refuses to deliver a bot's DM to another bot (or to nobody). */
export function checkDmRecipient(ctx: EmulatorContext, channel: ChannelRecord, authorId: string): void {
  const other = channel.recipientIds?.find((id) => id !== authorId);
  const user = other ? ctx.state.users.get(other) : undefined;
  if (!user || user.bot) throw Errors.cannotSendToUser();
}

/** Which sessions get an event about a message in `channel`. */
export function messageEventScope(channel: ChannelRecord): { intent: number; dm: boolean } {
  return channel.type === ChannelType.DM ? { intent: Intents.DirectMessages, dm: true } : { intent: Intents.GuildMessages, dm: false };
}

/** `{ guild_id }` for a server channel; nothing for a DM (Discord leaves the key out). */
export function guildIdField(channel: ChannelRecord): { guild_id?: string } {
  return channel.guildId === null ? {} : { guild_id: channel.guildId };
}
