import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { DosError, ErrorCodes } from '../../core/errors.js';
import { formatBytes } from '../../core/format-bytes.js';
import type { SeedCardMeta } from '../../legacy/seed-card.js';
import type { SeedUploadFile, SeedUploadRequest, SeedUploadResult } from '../backend.js';
import type { DiscordApi } from './api.js';
import { ChannelGoneError, batchesOf, botThreadFiles, fileKey, postFiles, type NamedFile, type ThreadFile } from './attachment-post.js';
import { CardProgress, SeedCardWriter, editableMeta, listingOf } from './seed-card-post.js';

/** The seed kept at most this many message ids on a card (legacy-format.md §3.5). */
const CARD_MESSAGE_IDS = 150;

export interface SeedUploaderOptions {
  archiveChannelId: string;
  progressIntervalMs: number;
  /** DOS_CARD_FILE_NAMES: with it off, cards show "{n} files" instead of the names. */
  showFileNames: boolean;
  /** The server's current per-attachment limit. */
  attachmentLimit(): Promise<number>;
}

/**
 * `!upload` of a seed-sliced set, as the seed did it (legacy-format.md §3.2–3.6, §4.1): a card
 * with status "partial", its thread `{id} chunks`, every chunk and manifest as an attachment
 * under its own name, progress on the card, then the final status. Unlike the seed, several
 * files share a message (up to 10 and 25 MiB), every message carries a nonce (a retried post is
 * never a second copy), a failed thread never leaves an orphan card, and a resumed upload posts
 * only what the thread does not already hold.
 */
export class SeedUploader {
  private readonly cards: SeedCardWriter;

  constructor(private readonly api: DiscordApi, private readonly o: SeedUploaderOptions) {
    this.cards = new SeedCardWriter(api, o.archiveChannelId);
  }

  async upload(req: SeedUploadRequest): Promise<SeedUploadResult> {
    const limit = await this.o.attachmentLimit();
    const tooLarge = req.files.find((f) => f.size > limit);
    if (tooLarge) {
      throw new DosError(ErrorCodes.BAD_INPUT, `${tooLarge.name} is ${formatBytes(tooLarge.size)}; this server takes attachments of at most ${formatBytes(limit)}`, { file: tooLarge.name, size: tooLarge.size, limit });
    }
    const { cardId, threadId, meta, present } = req.cardMessageId ? await this.reopen(req, req.cardMessageId) : await this.create(req);
    await req.onCard?.(listingOf(await this.cards.edit(cardId, meta)));

    const total = req.files.reduce((s, f) => s + f.size, 0);
    const there = new Map(present.map((f) => [fileKey(f), f] as const));
    const uploaded: string[] = [];
    const alreadyThere: string[] = [];
    const messageIds: string[] = [];
    const failed: SeedUploadResult['failed'] = [];
    const todo: SeedUploadFile[] = [];
    for (const f of req.files) {
      const found = there.get(fileKey(f));
      if (!found) {
        todo.push(f);
        continue;
      }
      uploaded.push(f.name);
      alreadyThere.push(f.name);
      if (!messageIds.includes(found.messageId)) messageIds.push(found.messageId);
    }
    let doneBytes = req.files.filter((f) => there.has(fileKey(f))).reduce((s, f) => s + f.size, 0);
    let doneFiles = alreadyThere.length;
    req.onProgress?.(doneBytes, total);
    const progress = new CardProgress(this.cards, cardId, this.o.progressIntervalMs);
    const sync = () => {
      meta.uploaded_files = [...uploaded];
      meta.failed_files = failed.map((f) => f.name);
      meta.message_ids = messageIds.slice(0, CARD_MESSAGE_IDS);
    };

    // One message at a time: a thread is one rate-limit bucket, and memory stays at one batch.
    for (const batch of batchesOf(todo)) {
      const loaded: NamedFile[] = [];
      for (const f of batch) {
        try {
          loaded.push({ name: f.name, data: await readExactly(f) });
        } catch (err) {
          // The card is public: say what went wrong without the host's paths.
          const code = (err as NodeJS.ErrnoException).code;
          failed.push({ name: f.name, error: err instanceof DosError ? err.message : `could not be read from the upload folder (${code ?? 'error'})` });
        }
      }
      if (loaded.length > 0) {
        for (const outcome of await postFiles(this.api, threadId, loaded)) {
          if (outcome.messageId) {
            uploaded.push(outcome.name);
            doneBytes += outcome.size;
            if (!messageIds.includes(outcome.messageId)) messageIds.push(outcome.messageId);
          } else {
            failed.push({ name: outcome.name, error: outcome.error ?? 'not posted' });
          }
        }
      }
      doneFiles += batch.length;
      req.onProgress?.(doneBytes, total);
      sync();
      meta.progress_text = `Uploading... ${doneFiles}/${req.files.length} chunks (${formatBytes(doneBytes)} / ${formatBytes(total)})`;
      if (doneFiles < req.files.length) await progress.maybe(meta);
    }

    sync();
    delete meta.progress_text;
    const status = failed.length === 0 ? 'success' : uploaded.length > 0 ? 'partial' : 'failed';
    meta.status = status;
    if (failed.length > 0) meta.errors = Object.fromEntries(failed.map((f) => [f.name, f.error]));
    else delete meta.errors;
    const final = await this.cards.edit(cardId, meta);
    return { listing: listingOf(final), status, uploaded, alreadyThere, failed };
  }

  /** A new card (status partial, empty lists) and its thread; no orphan card if the thread fails. */
  private async create(req: SeedUploadRequest): Promise<{ cardId: string; threadId: string; meta: SeedCardMeta; present: ThreadFile[] }> {
    const meta: SeedCardMeta = {
      lot: req.lot,
      archive_id: req.archiveId,
      timestamp: req.timestamp,
      status: 'partial',
      file_count: req.fileCount,
      total_size_bytes: req.files.reduce((s, f) => s + f.size, 0),
      uploaded_files: [],
      failed_files: [],
      message_ids: [],
      chunk_count: req.files.length,
      files_display: this.o.showFileNames ? req.filesDisplay : [],
      uploader: req.uploader,
      archive_channel_id: this.o.archiveChannelId,
      storage_channel_id: null,
    };
    const card = await this.cards.post(meta, req.archiveId);
    let threadId: string;
    try {
      threadId = await this.cards.startThread(card.id, `${req.archiveId} chunks`);
    } catch (err) {
      await this.cards.remove(card.id).catch(async () => {
        // Could not delete it either: at least it says what happened (and `!resume` can finish it).
        await this.cards.edit(card.id, { ...meta, status: 'failed', errors: { thread: (err as Error).message } }).catch(() => {});
      });
      throw err;
    }
    meta.thread_id = threadId;
    return { cardId: card.id, threadId, meta, present: [] };
  }

  /** The card of an earlier, unfinished upload, its thread (opened if it never was) and what it holds. */
  private async reopen(req: SeedUploadRequest, cardMessageId: string): Promise<{ cardId: string; threadId: string; meta: SeedCardMeta; present: ThreadFile[] }> {
    const card = await this.cards.read(cardMessageId);
    const meta = card && editableMeta(card);
    if (!card || !meta) {
      throw new DosError(ErrorCodes.MISSING, `the card of ${req.archiveId} is no longer in the archive channel; its upload cannot be continued`, { archive: req.archiveId, card: cardMessageId });
    }
    let threadId = card.thread?.id ?? meta.thread_id ?? null;
    if (!threadId) threadId = await this.cards.startThread(card.id, `${req.archiveId} chunks`);
    let present: ThreadFile[];
    try {
      present = await botThreadFiles(this.api, threadId);
    } catch (err) {
      if (!(err instanceof ChannelGoneError)) throw err;
      throw new DosError(ErrorCodes.MISSING, `the thread of ${req.archiveId} was deleted; its upload cannot be continued`, { archive: req.archiveId, thread: threadId }, { cause: err });
    }
    meta.thread_id = threadId;
    meta.status = 'partial';
    return { cardId: card.id, threadId, meta, present };
  }
}

/** A file's bytes, refused if its size changed since the set was checked (it would not match its manifest). */
async function readExactly(f: SeedUploadFile): Promise<Buffer> {
  // Not through a link: one swapped in since the check could feed any file of this host to Discord.
  const handle = await open(f.path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const stats = await handle.stat();
    const size = stats.size;
    if (!stats.isFile()) throw new DosError(ErrorCodes.UNSAFE_PATH, `${f.name} is no longer a regular file`, { file: f.name });
    if (size !== f.size) throw new DosError(ErrorCodes.CORRUPT, `${f.name} changed since it was checked (${size} bytes, expected ${f.size})`, { file: f.name });
    const data = Buffer.alloc(size);
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(data, offset, size - offset, offset);
      if (bytesRead === 0) throw new DosError(ErrorCodes.CORRUPT, `${f.name} shrank while being read`, { file: f.name });
      offset += bytesRead;
    }
    return data;
  } finally {
    await handle.close();
  }
}
