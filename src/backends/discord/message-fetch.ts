import { Routes } from 'discord-api-types/v10';
import type { APIMessage, DiscordApi } from './api.js';
import { DiscordCodes, backendError, discordCode } from './errors.js';
import { compareSnowflakes } from './locator.js';
import { MESSAGES_PER_FETCH } from './options.js';

/** The channel (or thread) itself is gone: every pack in it is missing. */
export class ChannelGoneError extends Error {
  constructor(readonly channelId: string) {
    super(`channel ${channelId} no longer exists`);
  }
}

/**
 * Fetches given messages of one channel with as few calls as possible: pages of 100 around
 * the first unresolved id (a thread's pack messages sit next to each other, so one call
 * usually answers for a whole archive), single GETs for a lone id. Result: id → message, or
 * null when the message is gone. Every message seen goes to `seen` (the URL cache feeds on it).
 */
export async function fetchMessages(api: DiscordApi, channelId: string, ids: Iterable<string>, seen?: (m: APIMessage) => void): Promise<Map<string, APIMessage | null>> {
  const result = new Map<string, APIMessage | null>();
  let pending = [...new Set(ids)].sort(compareSnowflakes);
  while (pending.length > 0) {
    const target = pending[0]!;
    if (pending.length === 1) {
      result.set(target, await fetchOne(api, channelId, target, seen));
      break;
    }
    const page = await fetchPage(api, channelId, new URLSearchParams({ around: target, limit: String(MESSAGES_PER_FETCH) }));
    for (const m of page) seen?.(m);
    const byId = new Map(page.map((m) => [m.id, m] as const));
    // What the page answers for: the span between its oldest and newest message, never more.
    // A short page does not mean the channel ended: `around` takes half the limit from each
    // side of its target, so near either end of a thread it returns fewer than it could.
    const ordered = page.map((m) => m.id).sort(compareSnowflakes);
    const low = ordered[0];
    const high = ordered[ordered.length - 1];
    const covered = (id: string) => low !== undefined && high !== undefined && compareSnowflakes(id, low) >= 0 && compareSnowflakes(id, high) <= 0;
    const next: string[] = [];
    for (const id of pending) {
      const m = byId.get(id);
      if (m) result.set(id, m);
      // `around` always includes its target when it exists, so a missing target is gone.
      else if (id === target || covered(id)) result.set(id, null);
      else next.push(id);
    }
    pending = next;
  }
  return result;
}

async function fetchOne(api: DiscordApi, channelId: string, messageId: string, seen?: (m: APIMessage) => void): Promise<APIMessage | null> {
  try {
    const m = await api.raw<APIMessage>('get', Routes.channelMessage(channelId, messageId), {});
    seen?.(m);
    return m;
  } catch (err) {
    if (discordCode(err) === DiscordCodes.UNKNOWN_MESSAGE) return null;
    if (discordCode(err) === DiscordCodes.UNKNOWN_CHANNEL) throw new ChannelGoneError(channelId);
    throw backendError(err, `reading message ${messageId} in channel ${channelId}`);
  }
}

export async function fetchPage(api: DiscordApi, channelId: string, query: URLSearchParams): Promise<APIMessage[]> {
  try {
    return await api.raw<APIMessage[]>('get', Routes.channelMessages(channelId), { query });
  } catch (err) {
    if (discordCode(err) === DiscordCodes.UNKNOWN_CHANNEL) throw new ChannelGoneError(channelId);
    throw backendError(err, `reading messages of channel ${channelId}`);
  }
}

/** Every message of a channel, newest first, 100 per call. */
export async function* allMessages(api: DiscordApi, channelId: string): AsyncGenerator<APIMessage> {
  let before: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: String(MESSAGES_PER_FETCH) });
    if (before) query.set('before', before);
    const page = await fetchPage(api, channelId, query);
    for (const m of page) yield m;
    if (page.length < MESSAGES_PER_FETCH) return;
    before = page.map((m) => m.id).sort(compareSnowflakes)[0];
  }
}
