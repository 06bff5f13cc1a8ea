import { Routes } from 'discord-api-types/v10';
import type { APIMessage, DiscordApi } from './api.js';
import { DiscordCodes, backendError, discordCode, isUnknownResource } from './errors.js';
import type { PackLocation } from './locator.js';
import { ChannelGoneError, allMessages, fetchMessages } from './message-fetch.js';
import type { AttachmentUrls } from './url-cache.js';

/**
 * Deletes packs. A message goes only when all its packs go; otherwise it is edited to keep the
 * others (listing `attachments` on an edit keeps exactly those). A thread is deleted when no
 * pack is left in it, and not before: with dedup, another archive's manifest may still point
 * at packs in this thread. Threads this process is uploading into are left alone.
 */
export class PackDeleter {
  constructor(private readonly api: DiscordApi, private readonly urls: AttachmentUrls, private readonly archiveChannelId: string) {}

  async delete(locations: PackLocation[], busyThreads: Set<string>, threadDeleted: (id: string) => void): Promise<void> {
    const byChannel = new Map<string, Map<string, Set<string>>>();
    for (const l of locations) {
      const messages = byChannel.get(l.channelId) ?? new Map<string, Set<string>>();
      byChannel.set(l.channelId, messages);
      const ids = messages.get(l.messageId) ?? new Set<string>();
      messages.set(l.messageId, ids);
      ids.add(l.attachmentId);
    }
    for (const [channelId, messages] of byChannel) {
      let current: Map<string, APIMessage | null>;
      try {
        current = await fetchMessages(this.api, channelId, messages.keys());
      } catch (err) {
        if (err instanceof ChannelGoneError) continue; // already gone with its thread
        throw err;
      }
      for (const [messageId, doomed] of messages) {
        const message = current.get(messageId);
        for (const id of doomed) this.urls.forget(id);
        if (!message) continue;
        await this.trim(channelId, message, doomed);
      }
      if (channelId !== this.archiveChannelId && !busyThreads.has(channelId) && (await this.holdsNoPacks(channelId))) {
        await this.ignoringGone(() => this.api.raw('delete', Routes.channel(channelId), {}), `deleting the empty pack thread ${channelId}`);
        threadDeleted(channelId);
      }
    }
  }

  private async trim(channelId: string, message: APIMessage, doomed: Set<string>): Promise<void> {
    const attachments = message.attachments ?? [];
    const keep = attachments.filter((a) => !doomed.has(a.id));
    if (keep.length === attachments.length) return; // those packs are already gone
    const route = Routes.channelMessage(channelId, message.id);
    const what = `deleting packs of message ${message.id}`;
    if (keep.length === 0 && !(message.content ?? '')) {
      await this.inThread(channelId, () => this.ignoringGone(() => this.api.raw('delete', route, {}), what));
    } else {
      await this.inThread(channelId, () => this.ignoringGone(() => this.api.raw('patch', route, { body: { attachments: keep.map((a) => ({ id: a.id })) } }), what));
    }
  }

  private async holdsNoPacks(channelId: string): Promise<boolean> {
    try {
      for await (const m of allMessages(this.api, channelId)) if ((m.attachments ?? []).length > 0) return false;
      return true;
    } catch (err) {
      if (err instanceof ChannelGoneError) return false; // nothing left to delete
      throw err;
    }
  }

  /** An archived thread refuses edits: unarchive it once and try again. */
  private async inThread(channelId: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (discordCode((err as { cause?: unknown }).cause ?? err) !== DiscordCodes.THREAD_ARCHIVED) throw err;
      await this.api.patch(Routes.channel(channelId), { body: { archived: false }, what: `unarchiving thread ${channelId}` });
      await fn();
    }
  }

  private async ignoringGone(fn: () => Promise<unknown>, what: string): Promise<void> {
    try {
      await fn();
    } catch (err) {
      if (isUnknownResource(err)) return;
      throw backendError(err, what);
    }
  }
}
