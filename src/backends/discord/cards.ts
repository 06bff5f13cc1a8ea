import { Routes } from 'discord-api-types/v10';
import { lotOf } from '../../core/archive-id.js';
import type { ArchiveDisplay } from '../backend.js';
import type { APIChannel, APIMessage, DiscordApi } from './api.js';
import { DosError, ErrorCodes } from '../../core/errors.js';
import { cardIsOf, cardMeta, parseCard, renderCard, RECORD_FILE, type ParsedCard } from './card-format.js';
import { DiscordCodes, backendError, discordCode } from './errors.js';
import { fetchPage } from './message-fetch.js';
import { nonceOf } from './uploader.js';
import type { SeedCardMeta } from '../../legacy/seed-card.js';

interface CardState {
  archiveId: string;
  messageId: string | null;
  threadId: string | null;
  /** Creating the card (and its thread): everyone waits for the same one. */
  creating: Promise<void> | null;
  display: ArchiveDisplay | null;
  /** Edits run one after another (a late progress edit must never overwrite the record). */
  editing: Promise<void>;
  lastEditAt: number;
  progressTimer: NodeJS.Timeout | null;
  /** The record was published or deleted: no more progress edits. */
  final: boolean;
  /** The card was found in the channel (not posted by this process): its metadata, to check it is this archive's. */
  found: SeedCardMeta | null;
}

export interface CardsOptions {
  archiveChannelId: string;
  showFileNames: boolean;
  progressIntervalMs: number;
  /** Downloads an attachment (record.json) from its payload URL. */
  download: (url: string) => Promise<Buffer>;
  /** The archive channel's messages, newest first, read at most `maxAgeMs` ago (shared: see channel-snapshot.ts). */
  channelMessages: (maxAgeMs?: number) => Promise<APIMessage[]>;
  /** How old that read may be when looking for a card before making one (default 1 s). */
  lookupMaxAgeMs?: number;
}

/**
 * Archive cards: one message per archive in the archive channel (the seed's embed and JSON,
 * plus our record), with the thread its packs go to. The card exists, with status
 * "uploading", before the first pack is posted; `putRecord` publishes the record when every
 * pack is up (upload first, commit after). Only cards written by the bot itself count.
 */
/** How old a read of the channel may be when looking for an existing card before making one. */
const FIND_MAX_AGE_MS = 1000;
/** Messages read around a new card to find another machine's card with the same id. */
const RACE_WINDOW_MESSAGES = 50;

export class ArchiveCards {
  private readonly states = new Map<string, CardState>();

  constructor(private readonly api: DiscordApi, private readonly o: CardsOptions) {}

  private state(archiveId: string): CardState {
    let s = this.states.get(archiveId);
    if (!s) {
      s = { archiveId, messageId: null, threadId: null, creating: null, display: null, editing: Promise.resolve(), lastEditAt: 0, progressTimer: null, final: false, found: null };
      this.states.set(archiveId, s);
    }
    return s;
  }

  /** The thread the archive's packs go to, creating the card and thread on first use. */
  async primaryThread(archiveId: string): Promise<string> {
    const s = this.state(archiveId);
    await this.ensureCard(s);
    if (!s.threadId) await this.ensureThread(s);
    return s.threadId!;
  }

  /** What the archive is, before its first pack (the card then shows it, and a card found with its id is checked against it). */
  introduce(archiveId: string, display: ArchiveDisplay): void {
    const s = this.state(archiveId);
    s.display ??= display;
  }

  /** Shows upload progress on the card, at most once per progressIntervalMs (the seed's 1.2 s). */
  showProgress(archiveId: string, display: ArchiveDisplay): void {
    const s = this.state(archiveId);
    if (s.final) return;
    s.display = display;
    if (s.progressTimer) return;
    const wait = Math.max(0, s.lastEditAt + this.o.progressIntervalMs - Date.now());
    s.progressTimer = setTimeout(() => {
      s.progressTimer = null;
      void this.edit(s, async () => {
        if (s.final || !s.display) return;
        await this.ensureCard(s);
        if (s.final) return;
        await this.patchCard(s, s.display, null, false);
      }).catch(() => {}); // progress is decoration: a failed edit is tried again next time
    }, wait);
    s.progressTimer.unref();
  }

  async putRecord(archiveId: string, data: Buffer, display: ArchiveDisplay): Promise<void> {
    const s = this.state(archiveId);
    this.finish(s);
    s.display = display;
    await this.edit(s, async () => {
      await this.ensureCard(s);
      await this.patchCard(s, display, data, true);
    });
  }

  /** Marks the card deleted (grey) and removes the record, so sync no longer lists it. */
  async deleteRecord(archiveId: string): Promise<void> {
    const s = this.state(archiveId);
    this.finish(s);
    await this.edit(s, async () => {
      await this.find(s);
      if (!s.messageId) return;
      const m = await this.api.get<APIMessage>(Routes.channelMessage(this.o.archiveChannelId, s.messageId), { what: `reading the card of ${archiveId}` });
      const card = parseCard(m);
      const meta: SeedCardMeta = card?.meta ?? { archive_id: archiveId, lot: lotOf(archiveId) };
      meta.status = 'deleted';
      delete meta.progress_text;
      const rendered = renderCard(meta, null);
      await this.api.patch(Routes.channelMessage(this.o.archiveChannelId, s.messageId), {
        body: { content: rendered.content, embeds: [rendered.embed], attachments: [] },
        what: `marking the card of ${archiveId} deleted`,
      });
    });
    // Forget it: an archive that later gets this id (in this process) makes a card of its own.
    if (this.states.get(archiveId) === s) this.states.delete(archiveId);
  }

  /** Every published record on a card written by the bot (newest card wins per archive). */
  async listRecords(): Promise<Array<{ archiveId: string; data: Buffer }>> {
    const cards = await this.scan();
    const out: Array<{ archiveId: string; data: Buffer }> = [];
    for (const card of cards.values()) {
      if (card.record === null) continue;
      const data = card.record === 'attachment' ? await this.o.download(card.recordAttachment!.url) : card.record;
      out.push({ archiveId: card.archiveId, data });
    }
    return out;
  }

  /** Archive id → newest bot-authored card, reading the whole channel (100 messages per call). */
  private async scan(maxAgeMs?: number): Promise<Map<string, ParsedCard>> {
    const me = await this.api.me();
    const cards = new Map<string, ParsedCard>();
    for (const m of await this.o.channelMessages(maxAgeMs)) {
      if (m.author?.id !== me.id) continue; // anyone can post a card-like message; only ours count
      const card = parseCard(m);
      if (!card || cards.has(card.archiveId)) continue;
      cards.set(card.archiveId, card);
    }
    for (const card of cards.values()) {
      // A card marked deleted belongs to an archive that is gone: an archive that gets its id
      // again (the same day, after dos rm) posts a card of its own.
      if (card.meta.status === 'deleted') continue;
      const s = this.state(card.archiveId);
      if (!s.messageId) {
        s.messageId = card.messageId;
        s.threadId = card.threadId;
        s.found = card.meta;
      }
    }
    return cards;
  }

  /**
   * Looks for a card made elsewhere (an interrupted earlier upload of this archive, or another
   * machine's archive with the same id) in a read of the channel at most a few seconds old:
   * a card is about to be made, and a stale read would miss one made meanwhile.
   */
  private async find(s: CardState): Promise<void> {
    if (s.messageId) return;
    await this.scan(this.o.lookupMaxAgeMs ?? FIND_MAX_AGE_MS);
  }

  /** Reads the channel's cards now, so the first card of an upload need not wait for it. */
  warmUp(): void {
    this.scan(this.o.lookupMaxAgeMs ?? FIND_MAX_AGE_MS).catch(() => {}); // a failed scan is retried (and reported) by the first card
  }

  private finish(s: CardState): void {
    s.final = true;
    if (s.progressTimer) clearTimeout(s.progressTimer);
    s.progressTimer = null;
  }

  private edit(s: CardState, fn: () => Promise<void>): Promise<void> {
    const next = s.editing.then(fn, fn);
    s.editing = next.catch(() => {});
    return next;
  }

  private async ensureCard(s: CardState): Promise<void> {
    if (!s.messageId) await this.makeCard(s);
    // A card found in the channel is taken over only if it is this archive's (an interrupted
    // earlier upload of it), never another archive's that got the same id elsewhere.
    if (s.found && s.display && !cardIsOf(s.found, s.display.createdAt)) {
      throw new DosError(ErrorCodes.EXISTS, `archive id ${s.archiveId} is already taken on Discord by another archive (made on another machine since this one last synced?): run dos sync, then put again`, { archive: s.archiveId });
    }
  }

  private async makeCard(s: CardState): Promise<void> {
    s.creating ??= (async () => {
      await this.find(s);
      if (s.messageId) return;
      const display = s.display ?? placeholderDisplay(s.archiveId);
      const rendered = renderCard(cardMeta(s.archiveId, { ...display, status: s.final ? display.status : 'uploading' }, this.context(s), s.display !== null), null);
      const m = await this.api.post<APIMessage>(Routes.channelMessages(this.o.archiveChannelId), {
        // The creation time is in the nonce: a retry is recognised as the same card, but another
        // machine's archive with the same id is not (Discord would return its card instead).
        body: { content: rendered.content, embeds: [rendered.embed], nonce: nonceOf([`card ${this.o.archiveChannelId} ${s.archiveId} ${display.createdAt.getTime()}`]), enforce_nonce: true },
        what: `posting the card of ${s.archiveId}`,
      });
      s.messageId = m.id;
      s.lastEditAt = Date.now();
      if (s.display) await this.withdrawIfBeaten(s, m.id, s.display.createdAt);
    })().finally(() => {
      s.creating = null;
    });
    await s.creating;
  }

  /**
   * Two machines that chose the same id within a second both post a card: each one's read of
   * the channel predates the other's card. The older card keeps the id; the newer one is
   * deleted here, before any pack goes to its thread, and its put stops with EXISTS (run dos
   * sync, put again: the next id). Both machines decide alike, by Discord's message order.
   */
  private async withdrawIfBeaten(s: CardState, messageId: string, createdAt: Date): Promise<void> {
    const me = await this.api.me();
    const near = await fetchPage(this.api, this.o.archiveChannelId, new URLSearchParams({ around: messageId, limit: String(RACE_WINDOW_MESSAGES) }));
    const beaten = near.some((m) => {
      if (m.author?.id !== me.id || BigInt(m.id) >= BigInt(messageId)) return false;
      const card = parseCard(m);
      return card !== null && card.archiveId === s.archiveId && card.meta.status !== 'deleted' && !cardIsOf(card.meta, createdAt);
    });
    if (!beaten) return;
    await this.api.delete(Routes.channelMessage(this.o.archiveChannelId, messageId), { what: `withdrawing the card of ${s.archiveId}` });
    s.messageId = null;
    throw new DosError(ErrorCodes.EXISTS, `archive id ${s.archiveId} was taken on Discord by another archive at the same moment (another machine putting too): run dos sync, then put again`, { archive: s.archiveId });
  }

  /** A public thread started from the card, named "{id} packs" (auto-archive after a day). */
  private async ensureThread(s: CardState): Promise<void> {
    const name = `${s.archiveId} packs`;
    try {
      const thread = await this.api.raw<APIChannel>('post', Routes.threads(this.o.archiveChannelId, s.messageId!), { body: { name, auto_archive_duration: 1440 } });
      s.threadId = thread.id;
    } catch (err) {
      // A retried request whose first try went through: the thread exists (its id is the card's).
      if (discordCode(err) !== DiscordCodes.THREAD_ALREADY_CREATED) throw backendError(err, `opening the pack thread of ${s.archiveId}`);
      const thread = await this.api.get<APIChannel>(Routes.channel(s.messageId!), { what: `reading the pack thread of ${s.archiveId}` });
      s.threadId = thread.id;
    }
  }

  private context(s: CardState) {
    return { archiveChannelId: this.o.archiveChannelId, threadId: s.threadId, showFileNames: this.o.showFileNames };
  }

  /** Rewrites the card; `withRecord` also sets its attachments (record.json or none). */
  private async patchCard(s: CardState, display: ArchiveDisplay, record: Buffer | null, withRecord: boolean): Promise<void> {
    const rendered = renderCard(cardMeta(s.archiveId, display, this.context(s)), record);
    const body: Record<string, unknown> = { content: rendered.content, embeds: [rendered.embed] };
    // Leaving `attachments` out keeps them (progress edits); listing them replaces them.
    if (withRecord) body.attachments = rendered.recordFile ? [{ id: 0, filename: RECORD_FILE }] : [];
    const files = rendered.recordFile ? [{ name: RECORD_FILE, data: rendered.recordFile, contentType: 'application/json' }] : undefined;
    try {
      await this.api.raw('patch', Routes.channelMessage(this.o.archiveChannelId, s.messageId!), { body, files });
    } catch (err) {
      if (discordCode(err) === DiscordCodes.UNKNOWN_MESSAGE && withRecord) {
        // The card was deleted by hand: post a new one rather than lose the record.
        s.messageId = null;
        s.threadId = null;
        await this.ensureCard(s);
        return this.patchCard(s, display, record, withRecord);
      }
      throw backendError(err, `updating the card of ${s.archiveId}`);
    }
    s.lastEditAt = Date.now();
  }

  /** The card's thread is gone: the card keeps its (now historical) thread_id, uploads open new threads. */
  threadDeleted(threadId: string): void {
    for (const s of this.states.values()) if (s.threadId === threadId) s.threadId = null;
  }
}

function placeholderDisplay(archiveId: string): ArchiveDisplay {
  return { name: '', lot: lotOf(archiveId), createdAt: new Date(), status: 'uploading', files: 0, bytes: 0, storedBytes: 0, packs: 0, fileNames: [] };
}

