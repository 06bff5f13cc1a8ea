import { Routes } from 'discord-api-types/v10';
import { DosError, ErrorCodes } from '../../core/errors.js';
import { parseSeedCard, renderSeedCard, type SeedCardMeta } from '../../legacy/seed-card.js';
import type { SeedArchiveListing } from '../backend.js';
import type { APIChannel, APIMessage, DiscordApi } from './api.js';
import { DiscordCodes, backendError, discordCode } from './errors.js';
import { seedListingOf } from './seed-archives.js';
import { nonceOf } from './uploader.js';

/** The seed added these to every new card (legacy-format.md §3.2); purely decorative. */
const SEED_REACTIONS = ['✅', '⚠️', '🗑️'];
/** Truncation flags a render recomputes: kept from an old card they would describe old lists. */
const FLAG_KEYS = ['uploaded_files_truncated', 'failed_files_truncated', 'message_ids_truncated', 'metadata_truncated', 'errors_truncated'] as const;

/**
 * Seed-style archive cards written by dos (seed uploads, legacy migration): exactly the seed's
 * ```json content and embed (the legacy renderer), posted with a nonce so a retried post is not
 * a second card, with a public thread started from them (auto-archive after a day). Only cards
 * the bot wrote are ever read back.
 */
export class SeedCardWriter {
  constructor(private readonly api: DiscordApi, private readonly channelId: string) {}

  /** Posts a new card; `key` names it for the nonce (the same key within minutes is the same card). */
  async post(meta: SeedCardMeta, key: string): Promise<APIMessage> {
    const rendered = renderSeedCard(meta);
    const message = await this.api.post<APIMessage>(Routes.channelMessages(this.channelId), {
      body: { content: rendered.content, embeds: [rendered.embed], nonce: nonceOf(['seed-card', this.channelId, key]), enforce_nonce: true },
      what: `posting the card of ${meta.archive_id ?? 'an archive'}`,
    });
    for (const emoji of SEED_REACTIONS) {
      await this.api.raw('put', Routes.channelMessageOwnReaction(this.channelId, message.id, encodeURIComponent(emoji)), {}).catch(() => {});
    }
    return message;
  }

  /** Starts the card's public thread; a retry whose first try went through finds that thread. */
  async startThread(cardId: string, name: string): Promise<string> {
    try {
      const thread = await this.api.raw<APIChannel>('post', Routes.threads(this.channelId, cardId), { body: { name, auto_archive_duration: 1440 } });
      return thread.id;
    } catch (err) {
      if (discordCode(err) !== DiscordCodes.THREAD_ALREADY_CREATED) throw backendError(err, `opening the thread "${name}"`);
      // A thread started from a message has the message's id.
      const thread = await this.api.get<APIChannel>(Routes.channel(cardId), { what: `reading the thread "${name}"` });
      return thread.id;
    }
  }

  /** Rewrites the card from `meta`; returns the edited message. */
  edit(cardId: string, meta: SeedCardMeta): Promise<APIMessage> {
    const rendered = renderSeedCard(meta);
    return this.api.patch<APIMessage>(Routes.channelMessage(this.channelId, cardId), {
      body: { content: rendered.content, embeds: [rendered.embed] },
      what: `updating the card of ${meta.archive_id ?? 'an archive'}`,
    });
  }

  async remove(cardId: string): Promise<void> {
    await this.api.delete(Routes.channelMessage(this.channelId, cardId), { what: 'deleting a card whose thread could not be made' });
  }

  /** A card the bot wrote, or null when it is gone or someone else's. */
  async read(cardId: string): Promise<APIMessage | null> {
    let message: APIMessage;
    try {
      message = await this.api.raw<APIMessage>('get', Routes.channelMessage(this.channelId, cardId), {});
    } catch (err) {
      if (discordCode(err) === DiscordCodes.UNKNOWN_MESSAGE) return null;
      throw backendError(err, `reading card ${cardId}`);
    }
    const me = await this.api.me();
    return message.author?.id === me.id ? message : null;
  }
}

/** A card's metadata, ready to be rewritten: what the parser adds and stale flags removed. */
export function editableMeta(message: APIMessage): SeedCardMeta | null {
  const parsed = parseSeedCard(message.content ?? '', message.embeds ?? [], message.id);
  if (!parsed) return null;
  const meta: SeedCardMeta = { ...parsed };
  delete meta.archive_message_id;
  for (const key of FLAG_KEYS) delete meta[key];
  return meta;
}

/** The card as sync lists it; a card of ours that does not parse back is a bug, not a state. */
export function listingOf(message: APIMessage): SeedArchiveListing {
  const listing = seedListingOf(message);
  if (!listing) throw new DosError(ErrorCodes.BACKEND, `the card ${message.id} just written does not read back as a seed archive card`, { message: message.id });
  return listing;
}

/** Card edits while uploading, at most one per `intervalMs` (the seed's 1.2 s); failures are decoration. */
export class CardProgress {
  private last = Date.now();

  constructor(private readonly writer: SeedCardWriter, private readonly cardId: string, private readonly intervalMs: number) {}

  async maybe(meta: SeedCardMeta): Promise<void> {
    if (Date.now() - this.last <= this.intervalMs) return;
    try {
      await this.writer.edit(this.cardId, meta);
      this.last = Date.now();
    } catch {
      // The final edit carries everything; a lost progress edit only delays the display.
    }
  }
}
