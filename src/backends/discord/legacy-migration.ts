import { normalizeArchiveId } from '../../core/archive-id.js';
import { safeName } from '../../core/safe-path.js';
import { formatBytes } from '../../core/format-bytes.js';
import type { SeedCardMeta } from '../../legacy/seed-card.js';
import type { LegacyArchiveEntry, LegacyMigrationOutcome } from '../backend.js';
import type { APIMessage, DiscordApi } from './api.js';
import { ChannelGoneError, batchesOf, botThreadFiles, fileKey, postFiles, type NamedFile, type ThreadFile } from './attachment-post.js';
import type { CdnReader } from './cdn-reader.js';
import { compareSnowflakes } from './locator.js';
import { fetchMessages } from './message-fetch.js';
import { SeedCardWriter, editableMeta, listingOf } from './seed-card-post.js';
import type { AttachmentUrls } from './url-cache.js';

const CARD_MESSAGE_IDS = 150;

export interface LegacyMigratorOptions {
  archiveChannelId: string;
  attachmentLimit(): Promise<number>;
  /** The archive channel's messages, newest first, read at most `maxAgeMs` ago (channel-snapshot.ts). */
  channelMessages(maxAgeMs?: number): Promise<APIMessage[]>;
}

/** An attachment of an old storage-channel message, to be copied. */
interface Source {
  name: string;
  size: number;
  messageId: string;
  attachmentId: string;
}

interface ExistingCard {
  message: APIMessage;
  meta: SeedCardMeta;
}

/**
 * `!migrate-legacy` (legacy-format.md §4.9): archives from before cards, whose files the seed
 * posted as plain messages in a storage channel, get a card (`legacy: true`, uploader "Legacy
 * Import") and a thread `{id} legacy` holding copies of those attachments. Unlike the seed:
 * - only old messages the bot itself wrote are copied (anyone could have posted in that channel);
 * - attachment names must be single safe path components;
 * - memory holds one outgoing message's worth of attachments (≤ 25 MiB), not a whole archive;
 * - nothing is created for an entry with nothing to copy, a card whose thread cannot be made is
 *   deleted again, and a legacy card left by an interrupted run is reused (only what its thread
 *   lacks is copied), so a re-run never makes a second card;
 * - the old messages are never deleted.
 */
export class LegacyMigrator {
  private readonly cards: SeedCardWriter;

  constructor(
    private readonly api: DiscordApi,
    private readonly urls: AttachmentUrls,
    private readonly cdn: CdnReader,
    private readonly o: LegacyMigratorOptions,
  ) {
    this.cards = new SeedCardWriter(api, o.archiveChannelId);
  }

  async migrate(storageChannelId: string, entries: LegacyArchiveEntry[], onEntry: (outcome: LegacyMigrationOutcome) => Promise<void>): Promise<LegacyMigrationOutcome[]> {
    const limit = await this.o.attachmentLimit();
    const cards = await this.existingCards();
    const outcomes: LegacyMigrationOutcome[] = [];
    for (const entry of entries) {
      let outcome: LegacyMigrationOutcome;
      try {
        outcome = await this.migrateOne(entry, storageChannelId, limit, cards);
      } catch (err) {
        outcome = { ...empty(entry.archiveId), reason: (err as Error).message };
      }
      outcomes.push(outcome);
      await onEntry(outcome);
    }
    return outcomes;
  }

  /** Archive id → the newest card the bot wrote for it (any kind: ours, seed, legacy). */
  private async existingCards(): Promise<Map<string, ExistingCard>> {
    const me = await this.api.me();
    const cards = new Map<string, ExistingCard>();
    // Read now, not a shared earlier read: a migration must see every card there is.
    for (const m of await this.o.channelMessages(0)) {
      if (m.author?.id !== me.id) continue;
      const meta = editableMeta(m);
      const id = normalizeArchiveId(meta?.archive_id ?? '');
      if (meta && id && !cards.has(id)) cards.set(id, { message: m, meta });
    }
    return cards;
  }

  private async migrateOne(entry: LegacyArchiveEntry, storageChannelId: string, limit: number, cards: Map<string, ExistingCard>): Promise<LegacyMigrationOutcome> {
    const outcome = empty(entry.archiveId);
    const existing = cards.get(entry.archiveId);
    if (existing && existing.meta.legacy !== true) return { ...outcome, reason: 'the archive channel already has a card with this id (not a legacy import); left alone' };
    if (existing && (existing.meta.status ?? '').toLowerCase() === 'deleted') return { ...outcome, reason: 'its legacy card was marked deleted; left alone' };

    const sources = await this.sources(entry, storageChannelId, limit, outcome);
    if (sources.length === 0 && !existing) {
      const why = [`${outcome.foreign} attachment(s) by other users`, `${outcome.missingMessages.length} message(s) gone`, `${outcome.refused.length} unsafe name(s)`];
      return { ...outcome, reason: `none of its ${entry.messageIds.length} old message(s) holds an attachment the bot posted (${why.join(', ')}); nothing was created` };
    }

    let meta: SeedCardMeta;
    let cardId: string;
    let threadId: string | null;
    if (existing) {
      meta = existing.meta;
      cardId = existing.message.id;
      threadId = existing.message.thread?.id ?? meta.thread_id ?? null;
      outcome.reusedCard = true;
    } else {
      meta = legacyMeta(entry, this.o.archiveChannelId, storageChannelId);
      const card = await this.cards.post(meta, `legacy ${entry.archiveId}`);
      cardId = card.id;
      threadId = null;
      cards.set(entry.archiveId, { message: card, meta });
    }
    outcome.cardMessageId = cardId;
    if (!threadId) {
      try {
        threadId = await this.cards.startThread(cardId, `${entry.archiveId} legacy`);
      } catch (err) {
        // No orphan card: without a thread it holds nothing (a reused card is someone's earlier run: kept).
        if (!existing) await this.cards.remove(cardId).then(() => cards.delete(entry.archiveId), () => {});
        return { ...outcome, cardMessageId: undefined, reason: `its thread could not be created: ${(err as Error).message}` };
      }
    }
    outcome.threadId = threadId;

    let present: ThreadFile[];
    try {
      present = await botThreadFiles(this.api, threadId);
    } catch (err) {
      if (!(err instanceof ChannelGoneError)) throw err;
      return { ...outcome, reason: `its legacy card's thread was deleted; delete that card to migrate it again` };
    }
    const there = new Set(present.map(fileKey));
    const todo = sources.filter((s) => !there.has(fileKey(s)));
    outcome.alreadyThere = sources.length - todo.length;
    const messageIds = present.map((f) => f.messageId);
    const errors: string[] = [];
    for (const batch of batchesOf(todo)) {
      const files: NamedFile[] = [];
      for (const s of batch) {
        try {
          files.push({ name: s.name, data: await this.cdn.read({ channelId: storageChannelId, messageId: s.messageId, attachmentId: s.attachmentId, size: s.size }, 0, s.size) });
        } catch (err) {
          errors.push(`${s.name}: ${(err as Error).message}`);
        }
      }
      if (files.length === 0) continue;
      for (const posted of await postFiles(this.api, threadId, files)) {
        if (posted.messageId) {
          outcome.copied++;
          messageIds.push(posted.messageId);
        } else {
          errors.push(`${posted.name}: ${posted.error}`);
        }
      }
    }
    outcome.threadMessageIds = [...new Set(messageIds)].sort(compareSnowflakes);
    meta.thread_id = threadId;
    if (outcome.threadMessageIds.length > 0) meta.message_ids = outcome.threadMessageIds.slice(0, CARD_MESSAGE_IDS);
    const edited = await this.cards.edit(cardId, meta);
    if (errors.length > 0) {
      return { ...outcome, reason: `${errors.length} attachment(s) could not be copied (run it again to finish): ${errors.slice(0, 3).join('; ')}` };
    }
    if (outcome.threadMessageIds.length === 0) return { ...outcome, reason: 'its thread holds nothing and there is nothing to copy' };
    return { ...outcome, migrated: true, listing: listingOf(edited) };
  }

  /** The attachments worth copying: on old messages the bot wrote, safe names, within the limit, once each. */
  private async sources(entry: LegacyArchiveEntry, storageChannelId: string, limit: number, outcome: LegacyMigrationOutcome): Promise<Source[]> {
    const me = await this.api.me();
    let messages: Map<string, APIMessage | null>;
    try {
      messages = await fetchMessages(this.api, storageChannelId, entry.messageIds, (m) => this.urls.remember(m));
    } catch (err) {
      if (err instanceof ChannelGoneError) throw new Error(`the storage channel ${storageChannelId} does not exist or the bot cannot see it`);
      throw err;
    }
    const sources: Source[] = [];
    const seen = new Set<string>();
    for (const id of new Set(entry.messageIds)) {
      const m = messages.get(id);
      if (!m) {
        outcome.missingMessages.push(id);
        continue;
      }
      if (m.author?.id !== me.id) {
        outcome.foreign += m.attachments?.length ?? 0;
        continue;
      }
      for (const a of m.attachments ?? []) {
        try {
          safeName(a.filename, 'attachment name');
        } catch {
          outcome.refused.push(a.filename);
          continue;
        }
        if (a.size > limit) {
          outcome.refused.push(`${a.filename} (${formatBytes(a.size)}, over this server's limit)`);
          continue;
        }
        const source = { name: a.filename, size: a.size, messageId: m.id, attachmentId: a.id };
        if (seen.has(fileKey(source))) continue;
        seen.add(fileKey(source));
        sources.push(source);
      }
    }
    return sources;
  }
}

function empty(archiveId: string): LegacyMigrationOutcome {
  return { archiveId, migrated: false, reusedCard: false, threadMessageIds: [], copied: 0, alreadyThere: 0, foreign: 0, refused: [], missingMessages: [] };
}

/** The card the seed's `!migrate-legacy` wrote for a log entry (legacy-format.md §4.9). */
function legacyMeta(entry: LegacyArchiveEntry, archiveChannelId: string, storageChannelId: string): SeedCardMeta {
  const meta: SeedCardMeta = { lot: entry.lot, archive_id: entry.archiveId };
  if (entry.timestamp !== null) meta.timestamp = entry.timestamp;
  Object.assign(meta, {
    status: entry.status ?? 'unknown',
    file_count: entry.fileCount,
    total_size_bytes: entry.totalSizeBytes,
    uploaded_files: entry.uploadedFiles,
    failed_files: entry.failedFiles,
    message_ids: [],
    chunk_count: entry.chunkCount ?? entry.fileCount,
    files_display: entry.uploadedFiles,
    uploader: 'Legacy Import',
    archive_channel_id: archiveChannelId,
    storage_channel_id: storageChannelId,
    legacy: true,
  } satisfies SeedCardMeta);
  return meta;
}
