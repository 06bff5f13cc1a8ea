import { DosError, ErrorCodes } from '../../core/errors.js';
import type { APIMessage, DiscordApi } from './api.js';
import type { PackLocation } from './locator.js';
import { ChannelGoneError, fetchPage } from './message-fetch.js';
import { MESSAGES_PER_FETCH, REFRESH_URLS_MAX } from './options.js';

interface CachedUrl {
  url: string;
  /** From the URL's signed `ex` parameter (epoch ms). */
  expiresAt: number;
  /** Local time we learned it; a bulk refresh covers everything learned before it began. */
  learnedAt: number;
}

/**
 * CDN URLs of attachments, a cache only: the index stores ids, never URLs (they expire after
 * about 24 h). Filled from every message payload we see; refreshed in bulk with
 * `POST /attachments/refresh-urls` (50 per call) when URLs expire or a CDN answers 403/404
 * (a 404 before `ex` usually means our clock and the server's disagree, so every URL learned
 * until then is refreshed at once: N cached URLs cost ceil(N/50) calls, not N); a URL we never
 * had comes from re-fetching messages, 100 around the one we need.
 */
export class AttachmentUrls {
  private readonly urls = new Map<string, CachedUrl>();
  private bulk: { startedAt: number; done: Promise<void> } | null = null;
  private lastBulkStart = -1;
  private readonly loads = new Map<string, Promise<void>>();
  private seq = 0;

  constructor(private readonly api: DiscordApi, private readonly marginMs: number) {}

  /** Learns the URLs of a message's attachments. */
  remember(message: Pick<APIMessage, 'attachments'>): void {
    for (const a of message.attachments ?? []) this.set(a.id, a.url);
  }

  forget(attachmentId: string): void {
    this.urls.delete(attachmentId);
  }

  /** Monotonic "learned" stamp (Date.now() can repeat within a millisecond). */
  private stamp(): number {
    return ++this.seq;
  }

  private set(attachmentId: string, url: string): void {
    this.urls.set(attachmentId, { url, expiresAt: expiryOf(url), learnedAt: this.stamp() });
  }

  /** A URL for the attachment, refreshing or loading it when needed. */
  async urlFor(loc: PackLocation): Promise<string> {
    const cached = this.urls.get(loc.attachmentId);
    if (cached && cached.expiresAt - this.marginMs > Date.now()) return cached.url;
    if (cached) {
      await this.refreshAll(cached.learnedAt, true);
      const fresh = this.urls.get(loc.attachmentId);
      if (fresh && fresh.expiresAt - this.marginMs > Date.now()) return fresh.url;
    }
    return this.load(loc);
  }

  /**
   * After the CDN refused `staleUrl` (403/404): the first time, refresh in bulk; after that,
   * re-fetch the message itself, which also tells us when the pack is really gone (MISSING).
   */
  async afterRefusal(loc: PackLocation, staleUrl: string, attempt: number): Promise<string> {
    const cached = this.urls.get(loc.attachmentId);
    if (attempt <= 1 && cached) {
      if (cached.url !== staleUrl) return cached.url; // someone refreshed it meanwhile
      await this.refreshAll(cached.learnedAt, false);
      return this.urls.get(loc.attachmentId)?.url ?? this.load(loc);
    }
    this.forget(loc.attachmentId);
    return this.load(loc, true);
  }

  /** Refreshes every cached URL learned up to `learnedAt` (or, with `expiredOnly`, the ones expiring). */
  private async refreshAll(learnedAt: number, expiredOnly: boolean): Promise<void> {
    if (this.bulk && learnedAt <= this.bulk.startedAt) return this.bulk.done;
    // Covered by a finished bulk refresh that did not change it: another bulk will not either.
    if (!this.bulk && learnedAt <= this.lastBulkStart) return;
    const startedAt = this.stamp();
    const soon = Date.now() + this.marginMs;
    const due = [...this.urls.entries()].filter(([, c]) => c.learnedAt <= startedAt && (!expiredOnly || c.expiresAt <= soon));
    const done = (async () => {
      for (let i = 0; i < due.length; i += REFRESH_URLS_MAX) {
        const chunk = due.slice(i, i + REFRESH_URLS_MAX);
        const answer = await this.api.post<{ refreshed_urls?: Array<{ original: string; refreshed: string }> }>('/attachments/refresh-urls', {
          body: { attachment_urls: chunk.map(([, c]) => c.url) },
          what: 'refreshing attachment URLs',
        });
        const byOriginal = new Map((answer.refreshed_urls ?? []).map((r) => [r.original, r.refreshed] as const));
        for (const [id, c] of chunk) {
          const refreshed = byOriginal.get(c.url);
          if (refreshed && this.urls.get(id) === c) this.set(id, refreshed);
        }
      }
    })();
    this.bulk = { startedAt, done };
    this.lastBulkStart = startedAt;
    try {
      await done;
    } finally {
      if (this.bulk?.done === done) this.bulk = null;
    }
  }

  /**
   * Loads URLs by fetching up to 100 messages around the pack's message (neighbours are
   * usually the same archive's packs). Concurrent loads in one channel share a call.
   */
  private async load(loc: PackLocation, force = false): Promise<string> {
    const running = this.loads.get(loc.channelId);
    if (running && !force) {
      await running.catch(() => {});
      const cached = this.urls.get(loc.attachmentId);
      if (cached) return cached.url;
    }
    const load = (async () => {
      const query = new URLSearchParams({ around: loc.messageId, limit: String(MESSAGES_PER_FETCH) });
      const page = await fetchPage(this.api, loc.channelId, query);
      for (const m of page) this.remember(m);
    })();
    this.loads.set(loc.channelId, load);
    try {
      await load;
    } catch (err) {
      if (err instanceof ChannelGoneError) throw missing(loc, 'its thread was deleted');
      throw err;
    } finally {
      if (this.loads.get(loc.channelId) === load) this.loads.delete(loc.channelId);
    }
    const cached = this.urls.get(loc.attachmentId);
    if (!cached) throw missing(loc, 'its message or attachment was deleted');
    return cached.url;
  }

  /** For tests and diagnostics. */
  get size(): number {
    return this.urls.size;
  }
}

function missing(loc: PackLocation, why: string): DosError {
  return new DosError(ErrorCodes.MISSING, `pack attachment ${loc.attachmentId} in channel ${loc.channelId} is missing from Discord: ${why}`, { channel: loc.channelId, message: loc.messageId, attachment: loc.attachmentId });
}

/** `ex` is the expiry in hex epoch seconds; a URL without one is treated as good for an hour. */
export function expiryOf(url: string): number {
  try {
    const ex = new URL(url).searchParams.get('ex');
    if (ex && /^[0-9a-f]+$/i.test(ex)) return Number.parseInt(ex, 16) * 1000;
  } catch {
    // not a URL: fall through
  }
  return Date.now() + 3600_000;
}
