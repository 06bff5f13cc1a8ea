import { normalizeArchiveId } from '../../core/archive-id.js';
import { formatBytes } from '../../core/format-bytes.js';
import { DISCORD_LIMITS } from '../../legacy/discord-limits.js';
import { parseLosslessJson, toAsciiJson } from '../../legacy/lossless-json.js';
import { parseSeedCard, renderSeedCard, type SeedCardEmbed, type SeedCardMeta } from '../../legacy/seed-card.js';
import type { ArchiveDisplay } from '../backend.js';
import type { APIMessage } from './api.js';

/** The card's machine-readable record goes under this extra key of the seed's card JSON. */
export const RECORD_KEY = 'dos';
/** When the record does not fit the 2000-character content, it is attached under this name. */
export const RECORD_FILE = 'record.json';

const FENCE_OPEN = '```json\n';
const FENCE_CLOSE = '\n```';
/** The seed showed a card being uploaded in yellow (its "partial"). */
const UPLOADING_COLOUR = 0xf1c40f;

export interface RenderedCard {
  content: string;
  embed: SeedCardEmbed;
  /** The record as a file, when it does not fit the content. */
  recordFile: Buffer | null;
}

export interface CardContext {
  archiveChannelId: string;
  threadId: string | null;
  showFileNames: boolean;
}

/** The seed's status words: green "success" for a complete archive. */
function seedStatus(status: ArchiveDisplay['status']): string {
  return status === 'complete' ? 'success' : status;
}

/** The seed's local `YYYY-MM-DD HH:MM:SS`. */
export function seedTimestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

/** The seed's card keys for one of our archives (legacy-format.md §3.2), so the seed still lists it. */
/** Our key in a card's JSON for the archive's creation time (epoch ms). */
const CREATED_KEY = 'dos_created_at';

/**
 * Whether an existing card describes the archive created at `createdAt`: by our exact
 * creation time when the card has it. A dos card without it (written before it existed) is
 * given the benefit of the doubt, as before; a card the seed wrote never matches.
 */
export function cardIsOf(meta: SeedCardMeta, createdAt: Date): boolean {
  const created = meta.extra?.[CREATED_KEY];
  if (typeof created === 'number') return created === createdAt.getTime();
  return meta.uploader === 'dos';
}

/** `known`: the display is the archive's own (not a placeholder), so its creation time is true. */
export function cardMeta(archiveId: string, display: ArchiveDisplay, ctx: CardContext, known = true): SeedCardMeta {
  const meta: SeedCardMeta = {
    lot: display.lot,
    archive_id: archiveId,
    timestamp: seedTimestamp(display.createdAt),
    status: seedStatus(display.status),
    file_count: display.files,
    total_size_bytes: display.bytes,
    chunk_count: display.packs,
    files_display: ctx.showFileNames ? display.fileNames : [],
    uploader: 'dos',
    archive_channel_id: ctx.archiveChannelId,
    storage_channel_id: null,
  };
  // When the archive was made, exactly: tells a card of this archive from another archive that
  // got the same id elsewhere (two machines putting before either synced).
  if (known) meta.extra = { [CREATED_KEY]: display.createdAt.getTime() };
  if (ctx.threadId) meta.thread_id = ctx.threadId;
  if (display.status === 'uploading' && display.progress) {
    const { done, total } = display.progress;
    const percent = total > 0 ? Math.floor((done / total) * 100) : 100;
    meta.progress_text = `Uploading... ${percent}% (${formatBytes(done)} / ${formatBytes(total)}) • ${display.packs} packs`;
  }
  return meta;
}

/**
 * The card: the seed's embed and ```json content (within Discord's limits whatever the names,
 * by the legacy renderer), plus our record under `"dos"` in that JSON when it still fits in
 * 2000 characters, else as an attached `record.json`. `record` is the record's JSON bytes.
 */
export function renderCard(meta: SeedCardMeta, record: Buffer | null): RenderedCard {
  const seed = renderSeedCard(meta);
  const embed = meta.status === 'uploading' ? { ...seed.embed, color: UPLOADING_COLOUR } : seed.embed;
  if (!record) return { content: seed.content, embed, recordFile: null };
  const inline = inlineRecord(seed.content, record);
  if (inline !== null && inline.length <= DISCORD_LIMITS.content) return { content: inline, embed, recordFile: null };
  return { content: seed.content, embed, recordFile: record };
}

/** Splices `,"dos":{record}` before the closing brace of the card JSON (ASCII-escaped like the rest). */
function inlineRecord(content: string, record: Buffer): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.toString('utf8'));
  } catch {
    return null;
  }
  const json = content.slice(FENCE_OPEN.length, content.length - FENCE_CLOSE.length);
  if (!content.startsWith(FENCE_OPEN) || !content.endsWith(FENCE_CLOSE) || !json.endsWith('}')) return null;
  const head = json.slice(0, -1);
  const sep = head.trimEnd().endsWith('{') ? '' : ',';
  return `${FENCE_OPEN}${head}${sep}"${RECORD_KEY}":${toAsciiJson(JSON.stringify(parsed))}}${FENCE_CLOSE}`;
}

export interface ParsedCard {
  archiveId: string;
  messageId: string;
  meta: SeedCardMeta;
  threadId: string | null;
  /** The inline record's JSON bytes, 'attachment' when it is in record.json, or null (none/deleted). */
  record: Buffer | 'attachment' | null;
  recordAttachment: { id: string; url: string } | null;
}

/**
 * Reads one of our cards. Callers pass only messages written by the bot itself: anyone can
 * post a card-like message in the channel, and only the bot's are trusted to exist (the record
 * inside is MACed as well).
 */
export function parseCard(m: APIMessage): ParsedCard | null {
  const content = m.content ?? '';
  if (!content.startsWith(FENCE_OPEN)) return null;
  const end = content.lastIndexOf(FENCE_CLOSE);
  if (end <= FENCE_OPEN.length) return null;
  let raw: unknown;
  try {
    raw = parseLosslessJson(content.slice(FENCE_OPEN.length, end));
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const object = raw as Record<string, unknown>;
  const archiveId = typeof object.archive_id === 'string' ? normalizeArchiveId(object.archive_id) : null;
  if (!archiveId) return null;
  const seed = parseSeedCard(content, m.embeds ?? [], m.id);
  const meta: SeedCardMeta = seed ?? { archive_id: archiveId };
  if (meta.extra) {
    const { [RECORD_KEY]: _record, ...rest } = meta.extra;
    meta.extra = Object.keys(rest).length > 0 ? rest : undefined;
    if (!meta.extra) delete meta.extra;
  }
  delete (meta as { archive_message_id?: string }).archive_message_id;
  const file = (m.attachments ?? []).find((a) => a.filename === RECORD_FILE);
  let record: ParsedCard['record'] = null;
  const inline = object[RECORD_KEY];
  if (inline && typeof inline === 'object') record = Buffer.from(JSON.stringify(inline), 'utf8');
  else if (file) record = 'attachment';
  const threadId = m.thread?.id ?? (typeof meta.thread_id === 'string' ? meta.thread_id : null);
  return { archiveId, messageId: m.id, meta, threadId, record, recordAttachment: file ? { id: file.id, url: file.url } : null };
}
