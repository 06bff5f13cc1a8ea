import type { APIMessage, DiscordApi } from './api.js';
import { allMessages } from './message-fetch.js';

/** How long one read of the archive channel is shared. */
const SNAPSHOT_TTL_MS = 10_000;

/**
 * The archive channel's messages, read once and shared for a few seconds. Opening a store on a
 * fresh index lists the v4 records and then the seed archives, and the first put then looks for
 * an existing card: three reads of the whole channel (one request per 100 messages each) become
 * one. The backend drops the snapshot whenever it changes the channel itself.
 */
export class ChannelSnapshot {
  private current: { at: number; messages: Promise<APIMessage[]> } | null = null;

  constructor(private readonly api: DiscordApi, private readonly channelId: string) {}

  /** Every message of the channel, newest first, from a read at most `maxAgeMs` old. */
  messages(maxAgeMs = SNAPSHOT_TTL_MS): Promise<APIMessage[]> {
    if (this.current && Date.now() - this.current.at < Math.min(maxAgeMs, SNAPSHOT_TTL_MS)) return this.current.messages;
    const messages = (async () => {
      const out: APIMessage[] = [];
      for await (const m of allMessages(this.api, this.channelId)) out.push(m);
      return out;
    })();
    const current = { at: Date.now(), messages };
    messages.catch(() => {
      if (this.current === current) this.current = null; // a failed read is not shared
    });
    this.current = current;
    return messages;
  }

  /** The channel changed (a card posted, edited or deleted here): the next read is fresh. */
  invalidate(): void {
    this.current = null;
  }
}
