import { Routes } from 'discord-api-types/v10';
import type { DiscordApi, APIChannel, APIMessage } from './api.js';
import { encodeLocator, snowflakeTime } from './locator.js';
import { allMessages } from './message-fetch.js';

/** A pack attachment we wrote: its name is the pack's (32 hex digits) plus `.pack`. */
const PACK_FILENAME = /^[0-9a-f]{32}\.pack$/;

interface ThreadPage {
  threads: APIChannel[];
  has_more?: boolean;
}

/**
 * Every thread of the archive channel, active and archived: packs live in them. Archived
 * public threads are paged by archive time, 100 at a time.
 */
async function* archiveThreads(api: DiscordApi, archiveChannelId: string): AsyncGenerator<APIChannel> {
  const channel = await api.get<APIChannel & { guild_id?: string }>(Routes.channel(archiveChannelId), { what: 'reading the archive channel' });
  if (channel.guild_id) {
    const active = await api.get<ThreadPage>(Routes.guildActiveThreads(channel.guild_id), { what: 'listing active threads' });
    for (const thread of active.threads) if ((thread as { parent_id?: string }).parent_id === archiveChannelId) yield thread;
  }
  let before: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: '100' });
    if (before) query.set('before', before);
    const page = await api.get<ThreadPage>(Routes.channelThreads(archiveChannelId, 'public'), { what: 'listing archived threads', query });
    for (const thread of page.threads) yield thread;
    const last = page.threads[page.threads.length - 1] as { thread_metadata?: { archive_timestamp?: string } } | undefined;
    if (!page.has_more || !last?.thread_metadata?.archive_timestamp) return;
    before = last.thread_metadata.archive_timestamp;
  }
}

/**
 * Every pack attachment the bot posted in the archive channel's threads, with its locator:
 * what garbage collection compares with the index to find packs a crash left behind.
 * Attachments by anyone else are not ours and never listed (so never deleted).
 */
export async function listPackAttachments(api: DiscordApi, archiveChannelId: string): Promise<Array<{ locator: string; size: number; createdAt: number }>> {
  const me = await api.me();
  const found: Array<{ locator: string; size: number; createdAt: number }> = [];
  const seen = new Set<string>();
  for await (const thread of archiveThreads(api, archiveChannelId)) {
    if (seen.has(thread.id)) continue;
    seen.add(thread.id);
    for await (const message of allMessages(api, thread.id)) {
      if ((message as APIMessage).author?.id !== me.id) continue;
      for (const attachment of message.attachments ?? []) {
        if (!PACK_FILENAME.test(attachment.filename)) continue;
        found.push({
          locator: encodeLocator({ channelId: thread.id, messageId: message.id, attachmentId: attachment.id, size: attachment.size }),
          size: attachment.size,
          createdAt: snowflakeTime(message.id),
        });
      }
    }
  }
  return found;
}
