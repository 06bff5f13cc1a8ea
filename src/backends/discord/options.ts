import { PACK_HEADROOM } from '../../core/pack.js';

export const MiB = 1024 * 1024;

/** Per-attachment limit for bots by guild boost tier 0..3 (DESIGN.md §3). */
export const ATTACHMENT_LIMIT_BY_TIER = [10 * MiB, 10 * MiB, 50 * MiB, 100 * MiB] as const;
/** One create-message request: keep at or under 25 MiB until measured otherwise (DESIGN.md §3). */
export const MAX_REQUEST_BYTES = 25 * MiB;
/** Room for multipart framing and payload_json inside one request. */
export const REQUEST_OVERHEAD = 256 * 1024;
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;
/** Messages a channel's create bucket sends at once before it waits (Discord: 5 per 5 s). */
export const MESSAGE_BURST = 5;
/** Discord's nonce length limit. */
export const NONCE_LENGTH = 25;
/** `POST /attachments/refresh-urls` takes at most this many URLs. */
export const REFRESH_URLS_MAX = 50;
/** `GET /channels/:id/messages` returns at most this many. */
export const MESSAGES_PER_FETCH = 100;

export interface RetryPolicy {
  /** Attempts in total (first try included). */
  attempts: number;
  /** First backoff; doubled each time, with full jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface DiscordBackendOptions {
  token: string;
  archiveChannelId: string;
  /** DISCORD_API_BASE, e.g. http://127.0.0.1:PORT/api (discord.js appends /v10). Default: real Discord. */
  apiBase?: string;
  /** DISCORD_CDN_BASE; attachment URLs always come from payloads, this only feeds discord.js. */
  cdnBase?: string;
  /** Show top-level file names on archive cards (DOS_CARD_FILE_NAMES=0 turns it off). Default true. */
  cardFileNames?: boolean;
  /** Threads an archive's packs are spread over (each thread is its own rate-limit bucket). Default 3. */
  threadsPerArchive?: number;
  /** Caps the pack size below what the server allows (tests use small packs). */
  maxPackBytes?: number;
  /** Caps packs per message below the 10-attachment / 25 MiB rule. */
  packsPerMessage?: number;
  /** How long a partly filled pack message waits for more packs (default 250 ms). */
  lingerMs?: number;
  /** Our own retry layer above discord.js (which retries nothing: `retries: 0`). */
  retry?: Partial<RetryPolicy>;
  /** Network timeout of one REST request or CDN download attempt. Default 120 s. */
  requestTimeoutMs?: number;
  /** Minimum time between two progress edits of a card (the seed's 1.2 s). */
  progressIntervalMs?: number;
  /** Whole-pack bodies kept when the CDN ignores Range, so runs in one pack are not refetched. */
  wholePackCacheBytes?: number;
  /** Memory the engine's upload window may hold in packs. Default 160 MiB. */
  uploadMemoryBytes?: number;
  /** Refresh cached CDN URLs this long before they expire. */
  urlExpiryMarginMs?: number;
  /**
   * How old a read of the archive channel may be when looking for a card with the id about to
   * be used (default 1 s). A machine whose read is older can post a card with an id another
   * machine just took; the check after posting (cards.ts) then withdraws it.
   */
  cardLookupMaxAgeMs?: number;
}

export interface ResolvedDiscordOptions extends Required<Omit<DiscordBackendOptions, 'apiBase' | 'cdnBase' | 'maxPackBytes' | 'packsPerMessage' | 'retry'>> {
  apiBase?: string;
  cdnBase?: string;
  maxPackBytes?: number;
  packsPerMessage?: number;
  retry: RetryPolicy;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, baseDelayMs: 250, maxDelayMs: 8000 };

export function resolveOptions(options: DiscordBackendOptions): ResolvedDiscordOptions {
  return {
    token: options.token,
    archiveChannelId: options.archiveChannelId,
    apiBase: options.apiBase,
    cdnBase: options.cdnBase,
    cardFileNames: options.cardFileNames ?? true,
    threadsPerArchive: Math.max(1, options.threadsPerArchive ?? 3),
    maxPackBytes: options.maxPackBytes,
    packsPerMessage: options.packsPerMessage,
    retry: { ...DEFAULT_RETRY, ...(options.retry ?? {}) },
    lingerMs: options.lingerMs ?? 250,
    requestTimeoutMs: options.requestTimeoutMs ?? 120_000,
    progressIntervalMs: options.progressIntervalMs ?? 1200,
    wholePackCacheBytes: options.wholePackCacheBytes ?? 32 * MiB,
    uploadMemoryBytes: options.uploadMemoryBytes ?? 160 * MiB,
    urlExpiryMarginMs: options.urlExpiryMarginMs ?? 5 * 60_000,
    cardLookupMaxAgeMs: options.cardLookupMaxAgeMs ?? 1000,
  };
}

/** The largest pack for an attachment limit: the limit minus the format's headroom. */
export function packBytesFor(attachmentLimit: number): number {
  return attachmentLimit - PACK_HEADROOM;
}
