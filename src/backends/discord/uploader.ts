import { createHash } from 'node:crypto';
import { Routes } from 'discord-api-types/v10';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { PackUpload } from '../backend.js';
import type { APIChannel, APIMessage, DiscordApi } from './api.js';
import { DiscordCodes, PackTooLargeError, backendError, discordCode, httpStatus } from './errors.js';
import { encodeLocator } from './locator.js';
import { MAX_ATTACHMENTS_PER_MESSAGE, MAX_REQUEST_BYTES, MESSAGE_BURST, NONCE_LENGTH, REQUEST_OVERHEAD } from './options.js';
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
  /** A message is on its way (possibly waiting in discord.js for the bucket to refill). */
  sending: boolean;
  /** Messages posted: an extra thread that never got one is deleted when the archive is published. */
  sent: number;
  dead: boolean;
}

/** An archive's upload state: packs waiting for a message, and the threads that send them. */
interface ArchiveLanes {
  archiveId: string;
  queue: PendingPack[];
  queuedBytes: number;
  lanes: Lane[];
  /** Threads being opened. */
  adding: number;
  /** Wakes dispatch when the first busy bucket refills. */
  wake: NodeJS.Timeout | null;
  /** Waiting briefly for a partly filled message to fill up. */
  linger: NodeJS.Timeout | null;
  lingered: boolean;
}

export interface UploaderHooks {
  /** The archive's card thread (creating card and thread on first use). */
  primaryThread(archiveId: string): Promise<string>;
  /** How many threads an archive may use. */
  threadsPerArchive: number;
  packsPerMessage(): number;
  /** Called on a 413 for a single pack; returns the new, lower pack limit. */
  packRefused(packBytes: number): number;
  /** How long a partly filled message waits for more packs. */
  lingerMs: number;
}

/**
 * Posts packs into an archive's threads, several per message.
 *
 * Throughput comes from parallelism across rate-limit buckets, never from ignoring a 429: each
 * thread is a channel with its own message-create bucket (about 5 per 5 s), so an archive's
 * packs are spread over up to `threadsPerArchive` threads (the card's thread plus extra ones,
 * opened only while every thread is busy). Packs wait in one queue per archive; a thread takes
 * the next message from it as soon as its previous one is done, so at most one message per
 * thread is in flight (discord.js sends one request per bucket at a time anyway, and waits
 * ahead of an empty bucket) and no pack waits behind a thread whose bucket is empty while
 * another thread could send it. A message carries up to 10 attachments and 25 MiB, and one
 * that is not full waits `lingerMs` for more (a bucket counts messages, not bytes). Every
 * message carries a nonce derived from its pack names with `enforce_nonce`, so a retry after a
 * dropped response returns the message already created instead of posting the packs twice.
 */
export class PackUploader {
  private readonly archives = new Map<string, Promise<ArchiveLanes>>();
  private readonly settled = new Map<string, ArchiveLanes>();
  /** Lowered after a 413 on a multi-pack request. */
  private requestBytes = MAX_REQUEST_BYTES - REQUEST_OVERHEAD;

  constructor(private readonly api: DiscordApi, private readonly urls: AttachmentUrls, private readonly parentId: string, private readonly hooks: UploaderHooks) {}

  put(pack: PackUpload): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const pending: PendingPack = { name: pack.name, data: pack.data, resolve, reject };
      this.lanesOf(pack.archiveId).then((archive) => {
        archive.queue.push(pending);
        archive.queuedBytes += pending.data.length;
        this.dispatch(archive);
      }, reject);
    });
  }

  /**
   * An upload of about `messages` messages is starting: opens the threads it will need now, in
   * parallel with the key derivation and the first packs, instead of one by one once every
   * thread is busy. Each thread's bucket sends its first burst (about 5 messages) at once, so a
   * large upload wants all its threads from the start. Best effort: failures surface on put.
   */
  prepare(archiveId: string, messages: number): void {
    const wanted = Math.min(this.hooks.threadsPerArchive, Math.ceil(messages / MESSAGE_BURST));
    this.lanesOf(archiveId).then((archive) => {
      const live = archive.lanes.filter((l) => !l.dead).length;
      for (let i = live + archive.adding; i < wanted; i++) this.addLane(archive);
    }, () => {});
  }

  /**
   * The archive is published: extra threads that never received a message are removed (the
   * card's own thread stays), so a small or fully deduplicated upload leaves no empty threads.
   */
  releaseIdleThreads(archiveId: string): string[] {
    const archive = this.settled.get(archiveId);
    if (!archive || archive.queue.length > 0) return [];
    const idle = archive.lanes.slice(1).filter((l) => !l.dead && !l.sending && l.sent === 0);
    archive.lanes = archive.lanes.filter((l) => !idle.includes(l));
    return idle.map((l) => l.threadId);
  }

  /** Threads with uploads in flight in this process (never deleted as empty meanwhile). */
  activeThreads(): Set<string> {
    const ids = new Set<string>();
    for (const archive of this.settled.values()) {
      const waiting = archive.queue.length > 0;
      for (const lane of archive.lanes) if (!lane.dead && (lane.sending || waiting)) ids.add(lane.threadId);
    }
    return ids;
  }

  /** A thread was deleted (it held no packs any more): later uploads open another. */
  threadDeleted(threadId: string): void {
    for (const archive of this.settled.values()) for (const lane of archive.lanes) if (lane.threadId === threadId) lane.dead = true;
  }

  private lanesOf(archiveId: string): Promise<ArchiveLanes> {
    let archive = this.archives.get(archiveId);
    if (!archive) {
      archive = this.hooks.primaryThread(archiveId).then((threadId) => {
        const lanes: ArchiveLanes = { archiveId, queue: [], queuedBytes: 0, lanes: [newLane(threadId)], adding: 0, wake: null, linger: null, lingered: false };
        this.settled.set(archiveId, lanes);
        return lanes;
      });
      archive.catch(() => this.archives.delete(archiveId));
      this.archives.set(archiveId, archive);
    }
    return archive;
  }

  private maxPerMessage(): number {
    return Math.max(1, Math.min(MAX_ATTACHMENTS_PER_MESSAGE, this.hooks.packsPerMessage()));
  }

  /** Whether the queue already makes a full message. */
  private full(archive: ArchiveLanes): boolean {
    return archive.queue.length >= this.maxPerMessage() || (archive.queue.length > 0 && archive.queuedBytes >= this.requestBytes);
  }

  /**
   * Hands the queue's next messages to free threads whose bucket has room (a message given to a
   * thread with an empty bucket would wait there while another thread could send it), opening
   * another thread while all are busy.
   */
  private dispatch(archive: ArchiveLanes): void {
    while (archive.queue.length > 0) {
      const live = archive.lanes.filter((l) => !l.dead);
      const free = live.filter((l) => !l.sending);
      const now = Date.now();
      const ready = free.find((l) => this.api.readyAt('POST', Routes.channelMessages(l.threadId)) <= now);
      if (!ready) {
        if (live.length < this.hooks.threadsPerArchive && archive.adding === 0) this.addLane(archive);
        if (free.length > 0 && !archive.wake) {
          const at = Math.min(...free.map((l) => this.api.readyAt('POST', Routes.channelMessages(l.threadId))));
          archive.wake = setTimeout(() => {
            archive.wake = null;
            this.dispatch(archive);
          }, Math.max(1, at - now));
        }
        return;
      }
      if (!this.full(archive) && this.hooks.lingerMs > 0 && !archive.lingered) {
        archive.linger ??= setTimeout(() => {
          archive.linger = null;
          archive.lingered = true;
          this.dispatch(archive);
        }, this.hooks.lingerMs);
        return;
      }
      if (archive.linger) clearTimeout(archive.linger);
      archive.linger = null;
      archive.lingered = false;
      this.send(archive, ready, this.takeBatch(archive));
    }
  }

  private addLane(archive: ArchiveLanes): void {
    archive.adding++;
    const n = archive.lanes.length + archive.adding;
    // A thread creation has no idempotency key: a retry after a lost response leaves an empty
    // duplicate thread. So an extra lane is not retried (the threads there are share the work);
    // only a lane the upload cannot go on without is.
    const needed = archive.lanes.every((l) => l.dead);
    this.api.raw<APIChannel>('post', Routes.threads(this.parentId), {
      body: { name: `${archive.archiveId} packs ${n}`, type: 11, auto_archive_duration: 1440 },
      noRetry: !needed,
    }).then((thread) => {
      archive.lanes.push(newLane(thread.id));
    }, (err) => {
      // Without another thread the ones we have share the work; with none, nothing can go.
      if (archive.lanes.every((l) => l.dead)) for (const pack of archive.queue.splice(0)) pack.reject(err);
    }).finally(() => {
      archive.adding--;
      this.dispatch(archive);
    });
  }

  private takeBatch(archive: ArchiveLanes): PendingPack[] {
    const max = this.maxPerMessage();
    const batch: PendingPack[] = [];
    let bytes = 0;
    while (archive.queue.length > 0 && batch.length < max) {
      const next = archive.queue[0]!;
      if (batch.length > 0 && bytes + next.data.length > this.requestBytes) break;
      batch.push(archive.queue.shift()!);
      bytes += next.data.length;
      archive.queuedBytes -= next.data.length;
    }
    return batch;
  }

  private send(archive: ArchiveLanes, lane: Lane, batch: PendingPack[]): void {
    lane.sending = true;
    void this.post(archive, lane, batch).finally(() => {
      lane.sending = false;
      this.dispatch(archive);
    });
  }

  private async post(archive: ArchiveLanes, lane: Lane, batch: PendingPack[]): Promise<void> {
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
    lane.sent++;
    this.urls.remember(message);
    for (const [i, pack] of batch.entries()) {
      try {
        pack.resolve(locatorOf(message, pack, i, batch.length));
      } catch (err) {
        pack.reject(err);
      }
    }
  }

  /** Puts packs back at the head of the queue (their order, and so their nonce, is kept). */
  private putBack(archive: ArchiveLanes, batch: PendingPack[]): void {
    archive.queue.unshift(...batch);
    archive.queuedBytes += batch.reduce((s, p) => s + p.data.length, 0);
  }

  private failed(archive: ArchiveLanes, lane: Lane, batch: PendingPack[], err: unknown): void {
    if (httpStatus(err) === 413 || discordCode(err) === DiscordCodes.ENTITY_TOO_LARGE) {
      if (batch.length > 1) {
        // The request was too large for this server: send smaller requests from now on.
        const bytes = batch.reduce((s, p) => s + p.data.length, 0);
        this.requestBytes = Math.max(1, Math.min(this.requestBytes, bytes - 1));
        this.putBack(archive, batch);
        return;
      }
      const pack = batch[0]!;
      pack.reject(new PackTooLargeError(pack.name, pack.data.length, this.hooks.packRefused(pack.data.length), { cause: err }));
      return;
    }
    if (discordCode(err) === DiscordCodes.UNKNOWN_CHANNEL) {
      // The thread was deleted under us (gc elsewhere): its packs go to another thread.
      lane.dead = true;
      this.putBack(archive, batch);
      return;
    }
    const wrapped = backendError(err, `uploading ${batch.length} pack(s) of ${archive.archiveId}`, { archive: archive.archiveId });
    for (const pack of batch) pack.reject(wrapped);
  }
}

function newLane(threadId: string): Lane {
  return { threadId, sending: false, sent: 0, dead: false };
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
