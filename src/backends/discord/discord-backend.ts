import { Routes } from 'discord-api-types/v10';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type {
  ArchiveDisplay, Backend, BackendLimits, ByteRange, LegacyArchiveEntry, LegacyMigrationOutcome, PackStat, PackUpload, SeedArchiveListing, SeedDownloadResult,
  SeedThreadListing, SeedUploadRequest, SeedUploadResult,
} from '../backend.js';
import { DiscordApi, type APIChannel, type APIGuild } from './api.js';
import { CdnReader } from './cdn-reader.js';
import { ArchiveCards } from './cards.js';
import { KeyringPin } from './keyring-pin.js';
import { decodeLocator, type PackLocation } from './locator.js';
import { ChannelGoneError, fetchMessages } from './message-fetch.js';
import { ATTACHMENT_LIMIT_BY_TIER, MAX_ATTACHMENTS_PER_MESSAGE, MAX_REQUEST_BYTES, REQUEST_OVERHEAD, packBytesFor, resolveOptions, type DiscordBackendOptions, type ResolvedDiscordOptions } from './options.js';
import { withRetry } from './retry.js';
import { TransientError, backendError } from './errors.js';
import { PackDeleter } from './pack-deleter.js';
import { listPackAttachments } from './pack-listing.js';
import { PackUploader } from './uploader.js';
import { SeedArchives } from './seed-archives.js';
import { ChannelSnapshot } from './channel-snapshot.js';
import { SeedUploader } from './seed-upload.js';
import { removeSeedArchive } from './seed-cleanup.js';
import { LegacyMigrator } from './legacy-migration.js';
import { AttachmentUrls } from './url-cache.js';

/** How long the guild's boost tier (and so the attachment limit) is trusted. */
const TIER_TTL_MS = 10 * 60_000;

/**
 * The Discord backend (DESIGN.md §3): packs are attachments in each archive's threads, the
 * keyring is a pinned message and archive records live on archive cards, all in one archive
 * channel, through discord.js's REST client (no gateway needed). Each job lives in its own
 * file: uploads (uploader.ts), CDN reads (cdn-reader.ts, url-cache.ts), cards (cards.ts,
 * card-format.ts), the keyring (keyring-pin.ts), deletion (pack-deleter.ts).
 */
export class DiscordBackend implements Backend {
  readonly kind = 'discord' as const;
  readonly description: string;
  readonly options: ResolvedDiscordOptions;
  readonly api: DiscordApi;
  readonly urls: AttachmentUrls;
  readonly cdn: CdnReader;
  private readonly cards: ArchiveCards;
  private readonly keyring: KeyringPin;
  private readonly uploader: PackUploader;
  private readonly deleter: PackDeleter;
  private readonly channel: ChannelSnapshot;
  private readonly seed: SeedArchives;
  private readonly seedUploader: SeedUploader;
  private readonly legacy: LegacyMigrator;
  private tier: { attachmentLimit: number; at: number } | null = null;
  private tierLookup: Promise<number> | null = null;
  /** Learned from a 413 on a single pack: the server allows less than its tier says. */
  private refusedLimit: number | null = null;

  constructor(options: DiscordBackendOptions) {
    this.options = resolveOptions(options);
    const channel = this.options.archiveChannelId;
    if (!/^\d{1,20}$/.test(channel)) throw new DosError(ErrorCodes.BAD_INPUT, `DISCORD_DRIVE_ARCHIVE_CHANNEL_ID must be a channel id (digits), not "${channel}"`);
    this.description = `Discord archive channel ${channel}${this.options.apiBase ? ` at ${this.options.apiBase}` : ''}`;
    this.api = new DiscordApi(this.options);
    this.urls = new AttachmentUrls(this.api, this.options.urlExpiryMarginMs);
    this.cdn = new CdnReader(this.urls, this.options.retry, this.options.requestTimeoutMs, this.options.wholePackCacheBytes);
    const download = (url: string) => this.download(url);
    this.channel = new ChannelSnapshot(this.api, channel);
    const channelMessages = (maxAgeMs?: number) => this.channel.messages(maxAgeMs);
    this.cards = new ArchiveCards(this.api, {
      archiveChannelId: channel, showFileNames: this.options.cardFileNames, progressIntervalMs: this.options.progressIntervalMs, download, channelMessages,
      lookupMaxAgeMs: this.options.cardLookupMaxAgeMs,
    });
    this.keyring = new KeyringPin(this.api, channel, download, () => this.channel.messages());
    this.uploader = new PackUploader(this.api, this.urls, channel, {
      primaryThread: (archiveId) => this.cards.primaryThread(archiveId),
      threadsPerArchive: this.options.threadsPerArchive,
      packsPerMessage: () => this.packsPerMessage(this.currentMaxPack()),
      packRefused: (bytes) => this.packRefused(bytes),
      lingerMs: this.options.lingerMs,
    });
    this.deleter = new PackDeleter(this.api, this.urls, channel);
    this.seed = new SeedArchives(this.api, this.urls, this.cdn, channelMessages);
    // Seed files keep their own names (manifests refer to them), so they are never re-packed:
    // each must fit the server's attachment limit as it is.
    const attachmentLimit = async () => Math.min(await this.attachmentLimit(), this.refusedLimit ?? Number.POSITIVE_INFINITY);
    this.seedUploader = new SeedUploader(this.api, { archiveChannelId: channel, progressIntervalMs: this.options.progressIntervalMs, showFileNames: this.options.cardFileNames, attachmentLimit });
    this.legacy = new LegacyMigrator(this.api, this.urls, this.cdn, { archiveChannelId: channel, attachmentLimit, channelMessages });
  }

  async limits(): Promise<BackendLimits> {
    await this.attachmentLimit();
    const maxPackBytes = this.currentMaxPack();
    const perMessage = this.packsPerMessage(maxPackBytes);
    // Enough packs in flight for every thread to have a message on the wire and the next one
    // filling, within a memory budget (the engine holds this many pack buffers, plus one).
    const wanted = 2 * this.options.threadsPerArchive * perMessage;
    const affordable = Math.max(2, Math.floor(this.options.uploadMemoryBytes / maxPackBytes));
    return { maxPackBytes, uploadConcurrency: Math.max(2, Math.min(wanted, affordable)) };
  }

  /** The attachment limit by the guild's boost tier (tier 2: 50 MiB, tier 3: 100 MiB). */
  private attachmentLimit(): Promise<number> {
    if (this.tier && Date.now() - this.tier.at < TIER_TTL_MS) return Promise.resolve(this.tier.attachmentLimit);
    // warmUp, expectUpload and the pack writer ask at once at the start of a put: one lookup serves them.
    this.tierLookup ??= this.lookUpAttachmentLimit().finally(() => {
      this.tierLookup = null;
    });
    return this.tierLookup;
  }

  private async lookUpAttachmentLimit(): Promise<number> {
    let limit: number = ATTACHMENT_LIMIT_BY_TIER[0];
    try {
      const channel = await this.api.get<APIChannel & { guild_id?: string }>(Routes.channel(this.options.archiveChannelId), { what: 'reading the archive channel' });
      if (channel.guild_id) {
        const guild = await this.api.get<APIGuild>(Routes.guild(channel.guild_id), { what: 'reading the server' });
        limit = ATTACHMENT_LIMIT_BY_TIER[guild.premium_tier as 0 | 1 | 2 | 3] ?? limit;
      }
    } catch (err) {
      if (err instanceof DosError && err.details.status === 404) {
        throw new DosError(ErrorCodes.NOT_FOUND, `the archive channel ${this.options.archiveChannelId} does not exist or the bot cannot see it (DISCORD_DRIVE_ARCHIVE_CHANNEL_ID)`, {}, { cause: err });
      }
      throw err;
    }
    this.tier = { attachmentLimit: limit, at: Date.now() };
    return limit;
  }

  private currentMaxPack(): number {
    const byServer = packBytesFor(Math.min(this.tier?.attachmentLimit ?? ATTACHMENT_LIMIT_BY_TIER[0], this.refusedLimit ?? Number.POSITIVE_INFINITY));
    return Math.max(64 * 1024, Math.min(byServer, this.options.maxPackBytes ?? Number.POSITIVE_INFINITY));
  }

  /** Up to 10 per message and 25 MiB per request: two 10 MiB packs, or one big one. */
  private packsPerMessage(maxPackBytes: number): number {
    const fit = Math.max(1, Math.floor((MAX_REQUEST_BYTES - REQUEST_OVERHEAD) / maxPackBytes));
    return Math.min(MAX_ATTACHMENTS_PER_MESSAGE, fit, this.options.packsPerMessage ?? MAX_ATTACHMENTS_PER_MESSAGE);
  }

  /** A single pack got 413: assume the next tier down (or half the pack) is the real limit. */
  private packRefused(packBytes: number): number {
    const below = [...ATTACHMENT_LIMIT_BY_TIER].filter((l) => packBytesFor(l) < packBytes).pop();
    this.refusedLimit = Math.min(this.refusedLimit ?? Number.POSITIVE_INFINITY, below ?? Math.floor(packBytes / 2));
    return this.currentMaxPack();
  }

  putPack(pack: PackUpload): Promise<string> {
    return this.uploader.put(pack);
  }

  async readPack(locator: string, range?: ByteRange): Promise<Buffer> {
    const loc = decodeLocator(locator);
    const offset = range?.offset ?? 0;
    const length = range?.length ?? loc.size - offset;
    return this.cdn.read(loc, offset, length);
  }

  async statPacks(locators: string[]): Promise<Map<string, PackStat>> {
    const result = new Map<string, PackStat>();
    const byChannel = new Map<string, Array<{ locator: string; loc: PackLocation }>>();
    for (const locator of locators) {
      const loc = decodeLocator(locator);
      const list = byChannel.get(loc.channelId) ?? [];
      list.push({ locator, loc });
      byChannel.set(loc.channelId, list);
    }
    for (const [channelId, list] of byChannel) {
      let messages;
      try {
        messages = await fetchMessages(this.api, channelId, list.map((x) => x.loc.messageId), (m) => this.urls.remember(m));
      } catch (err) {
        if (!(err instanceof ChannelGoneError)) throw err;
        for (const { locator } of list) result.set(locator, { exists: false });
        continue;
      }
      for (const { locator, loc } of list) {
        const attachment = messages.get(loc.messageId)?.attachments?.find((a) => a.id === loc.attachmentId);
        result.set(locator, attachment ? { exists: true, size: attachment.size } : { exists: false });
      }
    }
    return result;
  }

  async deletePacks(locators: string[]): Promise<void> {
    await this.deleter.delete(locators.map(decodeLocator), this.uploader.activeThreads(), (id) => {
      this.uploader.threadDeleted(id);
      this.cards.threadDeleted(id);
    });
  }

  /** Every pack attachment the bot posted in the archive channel's threads (for collecting orphans). */
  listPacks(): Promise<Array<{ locator: string; size: number; createdAt: number }>> {
    return listPackAttachments(this.api, this.options.archiveChannelId);
  }

  readKeyring(): Promise<Buffer | null> {
    return this.keyring.read();
  }

  async writeKeyring(data: Buffer): Promise<void> {
    await this.keyring.write(data);
    this.channel.invalidate();
  }

  /** Learns the server's limits and the channel's cards ahead of an upload (while scrypt runs). */
  warmUp(): void {
    void this.limits().catch(() => {});
    this.cards.warmUp();
  }

  /** Opens the card and the threads an upload of about `bytes` will use, ahead of its first pack. */
  expectUpload(archiveId: string, bytes: number, display?: ArchiveDisplay): void {
    if (display) this.cards.introduce(archiveId, display);
    void this.limits().then(({ maxPackBytes }) => {
      const messages = Math.ceil(bytes / (maxPackBytes * this.packsPerMessage(maxPackBytes)));
      this.uploader.prepare(archiveId, messages);
    }, () => {}); // a hint: the first pack meets the same error and reports it
  }

  async putRecord(archiveId: string, data: Buffer, display: ArchiveDisplay): Promise<void> {
    await this.changing(this.cards.putRecord(archiveId, data, display));
    const idle = this.uploader.releaseIdleThreads(archiveId);
    // Best effort: an empty thread left behind costs nothing but clutter.
    for (const threadId of idle) await this.api.delete(Routes.channel(threadId), { what: `removing an unused thread of ${archiveId}` }).catch(() => {});
  }

  showProgress(archiveId: string, display: ArchiveDisplay): void {
    this.cards.showProgress(archiveId, display);
  }

  listRecords(): Promise<Array<{ archiveId: string; data: Buffer }>> {
    return this.cards.listRecords();
  }

  forgetListings(): void {
    this.channel.invalidate();
  }

  deleteRecord(archiveId: string): Promise<void> {
    return this.changing(this.cards.deleteRecord(archiveId));
  }

  /** Archives the Python seed made here (seed-archives.ts): bot-written cards only. */
  listSeedArchives(): Promise<SeedArchiveListing[]> {
    return this.seed.list();
  }

  listSeedThread(threadId: string): Promise<SeedThreadListing> {
    return this.seed.listThread(threadId);
  }

  removeSeedArchive(cardMessageId: string, threadId: string | null): Promise<void> {
    return this.changing(removeSeedArchive(this.api, this.options.archiveChannelId, cardMessageId, threadId));
  }

  downloadSeedFiles(threadId: string, dir: string, files: Array<{ name: string; size?: number | null }>, onBytes?: (bytes: number) => void): Promise<SeedDownloadResult> {
    return this.seed.download(threadId, dir, files, onBytes);
  }

  /** A seed-sliced set posted as a seed archive (seed-upload.ts). */
  uploadSeedArchive(request: SeedUploadRequest): Promise<SeedUploadResult> {
    return this.changing(this.seedUploader.upload(request));
  }

  /** Pre-card archives of the seed's log moved into cards and threads (legacy-migration.ts). */
  migrateLegacyArchives(storageChannelId: string, entries: LegacyArchiveEntry[], onEntry: (outcome: LegacyMigrationOutcome) => Promise<void>): Promise<LegacyMigrationOutcome[]> {
    return this.changing(this.legacy.migrate(storageChannelId, entries, onEntry));
  }

  async close(): Promise<void> {
    this.api.close();
  }

  /** Work that changes the archive channel: shared reads of it made before are stale after. */
  private async changing<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } finally {
      this.channel.invalidate();
    }
  }

  /** A small attachment of ours (record.json, keyring.json) from its payload URL. */
  private async download(url: string): Promise<Buffer> {
    try {
      return await withRetry(this.options.retry, async () => {
        const res = await fetch(url, { signal: AbortSignal.timeout(this.options.requestTimeoutMs) });
        if (res.status >= 500) throw new TransientError(`CDN answered ${res.status}`);
        if (!res.ok) throw new DosError(ErrorCodes.BACKEND, `the CDN answered ${res.status} for ${new URL(url).pathname}`);
        const length = Number(res.headers.get('content-length') ?? NaN);
        const body = Buffer.from(await res.arrayBuffer());
        if (Number.isFinite(length) && body.length !== length) throw new TransientError('short CDN body');
        return body;
      });
    } catch (err) {
      throw backendError(err, 'downloading a card attachment');
    }
  }
}
