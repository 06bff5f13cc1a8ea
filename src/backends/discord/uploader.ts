import { createHash } from 'node:crypto';
import { Routes } from 'discord.js';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { PackUpload } from '../backend.js';
import type { APIChannel, APIMessage, DiscordApi } from './api.js';
import { DiscordCodes, PackTooLargeError, backendError, discordCode, httpStatus } from './errors.js';
import { encodeLocator } from './locator.js';
import { MAX_ATTACHMENTS_PER_MESSAGE, MAX_REQUEST_BYTES, NONCE_LENGTH, REQUEST_OVERHEAD } from './options.js';
import type { AttachmentUrls } from './url-cache.js';

interface PendingPack {
  name: string;
  data: Buffer;
  resolve: (locator: string) => void;
  reject: (err: unknown) => void;
}

/** One thread packs are posted into: its own rate-limit bucket, one message in flight. */
interface Lane {
  threadId: string;
  queue: PendingPack[];
  queuedBytes: number;
  /** A message is on its way (possibly waiting in discord.js for the bucket to refill). */
  sending: boolean;
  /** Waiting briefly for the next message to fill up. */
  linger: NodeJS.Timeout | null;
  dead: boolean;
}

interface ArchiveLanes {
  archiveId: string;
  lanes: Lane[];
  adding: Promise<Lane> | null;
}

export interface UploaderHooks {
  /** The archive's card thread (creating card and thread on first use). */
  primaryThread(archiveId: string): Promise<string>;
  /** How many threads an archive may use. */
  threadsPerArchive: number;
  packsPerMessage(): number;
  /** Called on a 413 for a single pack; returns the new, lower pack limit. */
  packRefused(packBytes: number): number;
  /** How long a thread waits for a partly filled message to fill up. */
  lingerMs: number;
}

/**
 * Posts packs into an archive's threads, several per message.
 *
 * Throughput comes from parallelism across rate-limit buckets, never from ignoring a 429: each
 * thread is a channel with its own message-create bucket (about 5 per 5 s), so an archive's
 * packs are spread over up to `threadsPerArchive` threads (the card's thread plus extra ones,
 * opened only while every thread is busy). Each thread has at most one message in flight
 * (discord.js sends one request per bucket at a time anyway and waits ahead of an empty
 * bucket); packs that arrive meanwhile are batched into its next message, up to 10
 * attachments and 25 MiB per request, and a message that is not full waits `lingerMs` for
 * more (a bucket counts messages, not bytes). Every message carries a nonce derived from its pack
 * names with `enforce_nonce`, so a retry after a dropped response returns the message
 * already created instead of posting the packs twice.
 */
export class PackUploader {
  private readonly archives = new Map<string, Promise<ArchiveLanes>>();
  /** Lowered after a 413 on a multi-pack request. */
  private requestBytes = MAX_REQUEST_BYTES - REQUEST_OVERHEAD;

  constructor(private readonly api: DiscordApi, private readonly urls: AttachmentUrls, private readonly parentId: string, private readonly hooks: UploaderHooks) {}

  put(pack: PackUpload): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const pending: PendingPack = { name: pack.name, data: pack.data, resolve, reject };
      this.lanesOf(pack.archiveId)
        .then((archive) => this.enqueue(archive, pending))
        .catch(reject);
    });
  }

  /** Threads with uploads in flight in this process (never deleted as empty meanwhile). */
  activeThreads(): Set<string> {
    const ids = new Set<string>();
    for (const lanes of this.settled.values()) {
      for (const lane of lanes.lanes) if (!lane.dead && (lane.sending || lane.queue.length > 0)) ids.add(lane.threadId);
    }
    return ids;
  }

  /** A thread was deleted (it held no packs any more): later uploads open another. */
  threadDeleted(threadId: string): void {
    for (const lanes of this.settled.values()) for (const lane of lanes.lanes) if (lane.threadId === threadId) lane.dead = true;
  }

  private readonly settled = new Map<string, ArchiveLanes>();

  private lanesOf(archiveId: string): Promise<ArchiveLanes> {
    let archive = this.archives.get(archiveId);
    if (!archive) {
      archive = this.hooks.primaryThread(archiveId).then((threadId) => {
        const lanes: ArchiveLanes = { archiveId, lanes: [newLane(threadId)], adding: null };
        this.settled.set(archiveId, lanes);
        return lanes;
      });
      archive.catch(() => this.archives.delete(archiveId));
      this.archives.set(archiveId, archive);
    }
    return archive;
  }

  private async enqueue(archive: ArchiveLanes, pack: PendingPack): Promise<void> {
    const lane = await this.pickLane(archive);
    lane.queue.push(pack);
    lane.queuedBytes += pack.data.length;
    this.pump(archive, lane);
  }

  /** An idle thread if there is one; else a new thread while allowed; else the least loaded. */
  private async pickLane(archive: ArchiveLanes): Promise<Lane> {
    const live = () => archive.lanes.filter((l) => !l.dead);
    // First fill a message that is about to go, then an idle thread.
    const filling = live().find((l) => !l.sending && l.queue.length > 0 && !this.full(l));
    if (filling) return filling;
    const idle = live().find((l) => !l.sending && l.queue.length === 0);
    if (idle) return idle;
    if (archive.adding) {
      await archive.adding.catch(() => {});
    } else if (live().length < this.hooks.threadsPerArchive || live().length === 0) {
      archive.adding = this.addLane(archive).finally(() => {
        archive.adding = null;
      });
      try {
        return await archive.adding;
      } catch (err) {
        if (live().length === 0) throw err;
        // Could not open another thread: share the ones we have.
      }
    }
    const lanes = live();
    if (lanes.length === 0) throw new DosError(ErrorCodes.BACKEND, `no thread to upload the packs of ${archive.archiveId} into`);
    return lanes.reduce((a, b) => (b.queuedBytes < a.queuedBytes ? b : a));
  }

  private async addLane(archive: ArchiveLanes): Promise<Lane> {
    const n = archive.lanes.length + 1;
    const thread = await this.api.post<APIChannel>(Routes.threads(this.parentId), {
      body: { name: `${archive.archiveId} packs ${n}`, type: 11, auto_archive_duration: 1440 },
      what: `opening thread ${n} for the packs of ${archive.archiveId}`,
    });
    const lane = newLane(thread.id);
    archive.lanes.push(lane);
    return lane;
  }

  /** Whether the lane's queue already makes a full message. */
  private full(lane: Lane): boolean {
    const max = this.maxPerMessage();
    return lane.queue.length >= max || (lane.queue.length > 0 && lane.queuedBytes >= this.requestBytes);
  }

  private maxPerMessage(): number {
    return Math.max(1, Math.min(MAX_ATTACHMENTS_PER_MESSAGE, this.hooks.packsPerMessage()));
  }

  /**
   * Sends the lane's next message when it is full, or after lingering briefly for it to fill:
   * the bucket allows a few messages per window whatever their size, so a message should carry
   * as many packs as it can.
   */
  private pump(archive: ArchiveLanes, lane: Lane): void {
    if (lane.sending || lane.queue.length === 0) return;
    if (!this.full(lane) && this.hooks.lingerMs > 0) {
      lane.linger ??= setTimeout(() => {
        lane.linger = null;
        this.send(archive, lane);
      }, this.hooks.lingerMs);
      return;
    }
    if (lane.linger) clearTimeout(lane.linger);
    lane.linger = null;
    this.send(archive, lane);
  }

  private send(archive: ArchiveLanes, lane: Lane): void {
    if (lane.sending || lane.queue.length === 0) return;
    lane.sending = true;
    void this.sendNext(archive, lane).finally(() => {
      lane.sending = false;
      if (lane.dead) this.requeue(archive, lane.queue.splice(0), lane);
      else this.pump(archive, lane);
    });
  }

  private takeBatch(lane: Lane): PendingPack[] {
    const max = this.maxPerMessage();
    const batch: PendingPack[] = [];
    let bytes = 0;
    while (lane.queue.length > 0 && batch.length < max) {
      const next = lane.queue[0]!;
      if (batch.length > 0 && bytes + next.data.length > this.requestBytes) break;
      batch.push(lane.queue.shift()!);
      bytes += next.data.length;
      lane.queuedBytes -= next.data.length;
    }
    return batch;
  }

  private async sendNext(archive: ArchiveLanes, lane: Lane): Promise<void> {
    const batch = this.takeBatch(lane);
    if (batch.length === 0) return;
    let message: APIMessage;
    try {
      message = await this.api.raw<APIMessage>('post', Routes.channelMessages(lane.threadId), {
        body: {
          nonce: nonceOf(batch.map((p) => p.name)),
          enforce_nonce: true,
          attachments: batch.map((p, i) => ({ id: i, filename: `${p.name}.pack` })),
        },
        files: batch.map((p) => ({ name: `${p.name}.pack`, data: p.data, contentType: 'application/octet-stream' })),
      });
    } catch (err) {
      this.failed(archive, lane, batch, err);
      return;
    }
    this.urls.remember(message);
    for (const [i, pack] of batch.entries()) {
      try {
        pack.resolve(locatorOf(message, pack, i, batch.length));
      } catch (err) {
        pack.reject(err);
      }
    }
  }

  private failed(archive: ArchiveLanes, lane: Lane, batch: PendingPack[], err: unknown): void {
    if (httpStatus(err) === 413 || discordCode(err) === DiscordCodes.ENTITY_TOO_LARGE) {
      if (batch.length > 1) {
        // The request was too large for this server: send smaller requests from now on.
        const bytes = batch.reduce((s, p) => s + p.data.length, 0);
        this.requestBytes = Math.max(1, Math.min(this.requestBytes, bytes - 1));
        lane.queue.unshift(...batch);
        lane.queuedBytes += bytes;
        return;
      }
      const pack = batch[0]!;
      pack.reject(new PackTooLargeError(pack.name, pack.data.length, this.hooks.packRefused(pack.data.length), { cause: err }));
      return;
    }
    if (discordCode(err) === DiscordCodes.UNKNOWN_CHANNEL) {
      // The thread was deleted under us (gc elsewhere): move its packs to another thread.
      lane.dead = true;
      this.requeue(archive, batch, lane);
      return;
    }
    const wrapped = backendError(err, `uploading ${batch.length} pack(s) of ${archive.archiveId}`, { archive: archive.archiveId });
    for (const pack of batch) pack.reject(wrapped);
  }

  private requeue(archive: ArchiveLanes, packs: PendingPack[], from: Lane): void {
    from.queuedBytes = 0;
    for (const pack of packs) {
      this.enqueue(archive, pack).catch((err) => pack.reject(err));
    }
  }
}

function newLane(threadId: string): Lane {
  return { threadId, queue: [], queuedBytes: 0, sending: false, linger: null, dead: false };
}

/** Same packs, same nonce: a retried request is recognised by Discord as the same message. */
export function nonceOf(names: string[]): string {
  return createHash('sha256').update(names.join(',')).digest('hex').slice(0, NONCE_LENGTH);
}

/**
 * The attachment that holds a pack: matched by the file name we gave it (our own hex names,
 * which Discord keeps as they are), else by position. Identity comes from ids from then on.
 */
function locatorOf(message: APIMessage, pack: PendingPack, index: number, count: number): string {
  const attachments = message.attachments ?? [];
  const byName = attachments.find((a) => a.filename === `${pack.name}.pack`);
  const attachment = byName ?? (attachments.length === count ? attachments[index] : undefined);
  if (!attachment) throw new DosError(ErrorCodes.BACKEND, `Discord's answer does not list pack ${pack.name}`, { pack: pack.name, message: message.id });
  if (attachment.size !== pack.data.length) {
    throw new DosError(ErrorCodes.BACKEND, `Discord stored ${attachment.size} bytes of pack ${pack.name}, expected ${pack.data.length}`, { pack: pack.name });
  }
  return encodeLocator({ channelId: message.channel_id, messageId: message.id, attachmentId: attachment.id, size: attachment.size });
}
