import { randomBytes } from 'node:crypto';
import { lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { normalizeArchiveId } from '../../core/archive-id.js';
import { DosError, ErrorCodes, fromSystemError } from '../../core/errors.js';
import { safeName } from '../../core/safe-path.js';
import { parseSeedTimestamp } from '../../legacy/history-log.js';
import { parseSeedCard } from '../../legacy/seed-card.js';
import type { SeedArchiveListing, SeedAttachment, SeedDownloadResult, SeedThreadListing } from '../backend.js';
import type { APIMessage, DiscordApi } from './api.js';
import { RECORD_FILE, RECORD_KEY } from './card-format.js';
import type { CdnReader } from './cdn-reader.js';
import { compareSnowflakes, snowflakeTime } from './locator.js';
import { ChannelGoneError, allMessages } from './message-fetch.js';
import type { AttachmentUrls } from './url-cache.js';

/** Attachments downloaded at once (each is held in memory, seed chunks are up to ~10 MB). */
const DOWNLOAD_CONCURRENCY = 3;

/** An attachment of a seed thread with where it lives (ids only; URLs come fresh from payloads). */
interface ThreadAttachment extends SeedAttachment {
  messageId: string;
  attachmentId: string;
}

/**
 * Archives the Python seed made in the archive channel (legacy-format.md §3): a card message
 * per archive (```json block, embed fallback) whose thread holds one attachment per message.
 *
 * Unlike the seed, which trusted any author (§7.1.2–3), only messages written by the bot itself
 * count, for cards and for attachments alike: anyone else could otherwise redirect a download
 * to a thread of their choosing or plant files in one. Attachment names are untrusted as well:
 * a name that is not a single safe path component is refused and never written.
 */
export class SeedArchives {
  constructor(
    private readonly api: DiscordApi,
    private readonly urls: AttachmentUrls,
    private readonly cdn: CdnReader,
    /** The archive channel's messages, newest first (shared: see channel-snapshot.ts). */
    private readonly channelMessages: () => Promise<APIMessage[]>,
  ) {}

  /**
   * Every seed archive, newest card first. Per archive id the newest bot-written card wins
   * (the seed resolved duplicates oldest-wins when rebuilding its log, but "find card" took the
   * newest: a card rewritten later, e.g. by `!resume` or `!cleanup`, is the current truth). An
   * archive whose newest card says `deleted` is left out. Our own v4 cards are not seed archives.
   */
  async list(): Promise<SeedArchiveListing[]> {
    const me = await this.api.me();
    const decided = new Set<string>();
    const out: SeedArchiveListing[] = [];
    for (const m of await this.channelMessages()) {
      if (m.author?.id !== me.id) continue;
      const listing = seedListingOf(m);
      if (!listing || decided.has(listing.archiveId)) continue;
      decided.add(listing.archiveId);
      if (listing.status === 'deleted') continue;
      out.push(listing);
    }
    return out;
  }

  async listThread(threadId: string): Promise<SeedThreadListing> {
    const { attachments, refused, foreign } = await this.threadAttachments(threadId);
    const distinct = new Map<string, SeedAttachment>();
    for (const a of attachments) if (!distinct.has(a.name)) distinct.set(a.name, { name: a.name, size: a.size });
    return { attachments: [...distinct.values()], refused, foreign };
  }

  async download(threadId: string, dir: string, files: Array<{ name: string; size?: number | null }>, onBytes?: (bytes: number) => void): Promise<SeedDownloadResult> {
    // A fresh listing every time: its payloads carry freshly signed URLs (the URL cache learns them).
    const { attachments } = await this.threadAttachments(threadId);
    await mkdir(dir, { recursive: true });
    const result: SeedDownloadResult = { downloaded: [], reused: [], missing: [], bytes: 0 };
    const jobs: Array<{ name: string; attachment: ThreadAttachment }> = [];
    for (const wanted of files) {
      const name = safeName(wanted.name, 'attachment name');
      const candidates = attachments.filter((a) => a.name === name);
      // Oldest first, as the seed downloaded; with a size asked for, only an attachment of that size.
      const attachment = wanted.size === undefined || wanted.size === null ? candidates[0] : candidates.find((a) => a.size === wanted.size);
      if (!attachment) result.missing.push(name);
      else jobs.push({ name, attachment });
    }
    // A failed attachment does not stop the others: whatever arrives stays for the next run.
    const failures: Array<{ name: string; error: unknown }> = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        try {
          const fetched = await this.fetchInto(threadId, dir, job.name, job.attachment, onBytes);
          if (fetched) {
            result.downloaded.push(job.name);
            result.bytes += job.attachment.size;
          } else {
            result.reused.push(job.name);
          }
        } catch (error) {
          failures.push({ name: job.name, error });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, jobs.length) }, worker));
    if (failures.length > 0) {
      const first = failures[0]!.error;
      if (first instanceof DosError) first.details.failedAttachments = failures.map((f) => f.name);
      throw first;
    }
    return result;
  }

  /** Writes one attachment as `dir/name`, complete or not at all. False when it was already there. */
  private async fetchInto(threadId: string, dir: string, name: string, a: ThreadAttachment, onBytes?: (bytes: number) => void): Promise<boolean> {
    const target = join(dir, name);
    const existing = await lstat(target).catch(() => null);
    if (existing?.isFile() && existing.size === a.size) {
      onBytes?.(a.size);
      return false;
    }
    if (existing?.isDirectory()) throw new DosError(ErrorCodes.EXISTS, `${target} is a folder in the way of attachment ${name}`, { path: target });
    const data = await this.cdn.read({ channelId: threadId, messageId: a.messageId, attachmentId: a.attachmentId, size: a.size }, 0, a.size);
    if (data.length !== a.size) throw new DosError(ErrorCodes.CORRUPT, `attachment ${name} arrived with ${data.length} of ${a.size} bytes`, { attachment: a.attachmentId });
    const temp = join(dir, `.${name}.dos-part-${randomBytes(4).toString('hex')}`);
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        let offset = 0;
        while (offset < data.length) offset += (await handle.write(data, offset, data.length - offset)).bytesWritten;
        await handle.sync();
      } finally {
        await handle.close();
      }
      // rename replaces a wrong-sized leftover (or a symlink) itself, never what it points to.
      await rename(temp, target);
    } catch (err) {
      await unlink(temp).catch(() => {});
      throw fromSystemError(err, `saving attachment ${name} into ${dir}`);
    }
    onBytes?.(a.size);
    return true;
  }

  /** Every bot-written attachment of the thread, oldest message first; hostile names set aside. */
  private async threadAttachments(threadId: string): Promise<{ attachments: ThreadAttachment[]; refused: SeedThreadListing['refused']; foreign: number }> {
    const me = await this.api.me();
    const messages: APIMessage[] = [];
    try {
      for await (const m of allMessages(this.api, threadId)) messages.push(m);
    } catch (err) {
      if (err instanceof ChannelGoneError) {
        throw new DosError(ErrorCodes.MISSING, `the thread ${threadId} of this seed archive no longer exists on Discord`, { thread: threadId }, { cause: err });
      }
      throw err;
    }
    messages.sort((x, y) => compareSnowflakes(x.id, y.id));
    const attachments: ThreadAttachment[] = [];
    const refused: SeedThreadListing['refused'] = [];
    let foreign = 0;
    for (const m of messages) {
      if (m.author?.id !== me.id) {
        foreign += m.attachments?.length ?? 0;
        continue;
      }
      this.urls.remember(m);
      for (const a of m.attachments ?? []) {
        try {
          safeName(a.filename, 'attachment name');
        } catch (err) {
          refused.push({ name: a.filename, reason: (err as Error).message });
          continue;
        }
        attachments.push({ name: a.filename, size: a.size, messageId: m.id, attachmentId: a.id });
      }
    }
    return { attachments, refused, foreign };
  }
}

/** A bot-written message as a seed card, or null (not a card, no usable id, or one of our v4 cards). */
export function seedListingOf(m: APIMessage): SeedArchiveListing | null {
  const card = parseSeedCard(m.content ?? '', m.embeds ?? [], m.id);
  if (!card) return null;
  const archiveId = normalizeArchiveId(card.archive_id ?? '');
  if (!archiveId) return null;
  // A card has the seed's embed, titled with its id (legacy-format.md §3.2). The bot writes
  // other messages here too, replies that may echo what a user typed: JSON in a reply must
  // never pass for a card (it could hide an archive's thread, or invent an archive).
  const titled = /^📦 Archive (#\d{6}-\d+)/u.exec(m.embeds?.[0]?.title ?? '');
  if (!titled || normalizeArchiveId(titled[1]!) !== archiveId) return null;
  // Our own cards: the record inline under "dos" or attached, and always uploader "dos".
  if ((card.extra && Object.hasOwn(card.extra, RECORD_KEY)) || (m.attachments ?? []).some((a) => a.filename === RECORD_FILE) || card.uploader === 'dos') return null;
  const timestamp = card.timestamp ?? null;
  const parsedTime = timestamp === null ? null : parseSeedTimestamp(timestamp);
  const display = card.files_display;
  return {
    archiveId,
    cardMessageId: m.id,
    threadId: m.thread?.id ?? card.thread_id ?? null,
    lot: typeof card.lot === 'number' ? card.lot : null,
    timestamp,
    createdAt: parsedTime ? parsedTime.getTime() : snowflakeTime(m.id),
    status: (card.status ?? 'unknown').toLowerCase(),
    fileCount: card.file_count ?? null,
    totalSizeBytes: card.total_size_bytes ?? null,
    chunkCount: card.chunk_count ?? null,
    filesDisplay: typeof display === 'string' ? [display] : display ?? [],
  };
}

