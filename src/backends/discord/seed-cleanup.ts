import { Routes } from 'discord-api-types/v10';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { APIChannel, DiscordApi } from './api.js';
import { backendError, isUnknownResource } from './errors.js';
import { SeedCardWriter, editableMeta } from './seed-card-post.js';

/**
 * `!cleanup` / `dos rm` of a seed archive, as the seed's `!cleanup` did (legacy-format.md §4.10):
 * its thread is deleted and its card rewritten with status `deleted` (grey), so a rebuild no
 * longer lists it; the card itself stays, as the seed left it. Unlike the seed, only a card the
 * bot wrote is touched, and only a thread of the archive channel the bot owns is deleted (the
 * thread id comes from the card, which anyone could have imitated, but not authored as us).
 */
export async function removeSeedArchive(api: DiscordApi, archiveChannelId: string, cardMessageId: string, threadId: string | null): Promise<void> {
  const cards = new SeedCardWriter(api, archiveChannelId);
  const card = await cards.read(cardMessageId);
  if (!card) throw new DosError(ErrorCodes.NOT_FOUND, `the card of this seed archive (message ${cardMessageId}) is gone or was not written by this bot; run dos sync`, { message: cardMessageId });
  const meta = editableMeta(card);
  if (!meta) throw new DosError(ErrorCodes.BACKEND, `message ${cardMessageId} is not a seed archive card`, { message: cardMessageId });
  if (threadId) await deleteOwnThread(api, archiveChannelId, threadId);
  meta.status = 'deleted';
  await cards.edit(cardMessageId, meta);
}

async function deleteOwnThread(api: DiscordApi, archiveChannelId: string, threadId: string): Promise<void> {
  let thread: APIChannel & { parent_id?: string | null; owner_id?: string };
  try {
    thread = await api.raw('get', Routes.channel(threadId), {});
  } catch (err) {
    if (isUnknownResource(err)) return; // already gone
    throw backendError(err, `reading the thread ${threadId}`);
  }
  const me = await api.me();
  if (thread.parent_id !== archiveChannelId || thread.owner_id !== me.id) {
    throw new DosError(ErrorCodes.BACKEND, `thread ${threadId} named by the card is not one of this bot's threads in the archive channel; nothing was deleted`, { thread: threadId });
  }
  try {
    await api.raw('delete', Routes.channel(threadId), {});
  } catch (err) {
    if (!isUnknownResource(err)) throw backendError(err, `deleting the thread ${threadId}`);
  }
}
