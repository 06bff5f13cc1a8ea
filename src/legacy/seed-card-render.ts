import { DISCORD_LIMITS, clip, joinLinesWithin } from './discord-limits.js';
import { formatBytes } from '../core/format-bytes.js';
import { idNumber, stringifyPythonCompact } from './lossless-json.js';
import type { RenderedSeedCard, SeedCardEmbed, SeedCardMeta } from './seed-card-types.js';

/** Keys in the order the seed inserted them (legacy-format.md §3.2); unknown keys follow, flags last. */
const KEY_ORDER = [
  'lot', 'archive_id', 'timestamp', 'status', 'file_count', 'total_size_bytes', 'uploaded_files', 'failed_files',
  'message_ids', 'chunk_count', 'files_display', 'uploader', 'archive_channel_id', 'storage_channel_id', 'legacy',
  'thread_id', 'progress_text', 'errors', 'archive_message_id',
] as const;
const FLAG_KEYS = ['uploaded_files_truncated', 'failed_files_truncated', 'message_ids_truncated', 'metadata_truncated', 'errors_truncated'] as const;
const ID_KEYS = new Set<string>(['archive_channel_id', 'storage_channel_id', 'thread_id', 'archive_message_id']);
/** The seed's own truncation: lists over 120 items, then the three lists dropped past 1800 chars. */
const SEED_LIST_KEYS = ['uploaded_files', 'failed_files', 'message_ids'] as const;
const SEED_LIST_MAX = 120;
const SEED_JSON_MAX = 1800;

const FENCE_OPEN = '```json\n';
const FENCE_CLOSE = '\n```';
/** What the JSON may use so that the whole message content stays within Discord's 2000. */
const JSON_BUDGET = DISCORD_LIMITS.content - FENCE_OPEN.length - FENCE_CLOSE.length;
/** Per-item caps used only when a card would not fit otherwise. */
const NAME_CAP = 100;
const MESSAGE_CAP = 200;
/** Room kept for the file list when errors must give way. */
const FILES_RESERVE = 700;

const STATUS_COLOURS: Record<string, number> = {
  success: 0x2ecc71,
  partial: 0xf1c40f,
  failed: 0xe74c3c,
  deleted: 0x7f8c8d,
};
const DEFAULT_COLOUR = 0x95a5a6;

type CardObject = Record<string, unknown>;

/**
 * Renders a card as the seed did (legacy-format.md §3.2): content = ```json fence around compact,
 * ASCII-escaped JSON with ids as bare integers, so the Python tool can still read it; embed with
 * the seed's title, fields, colours and footer. Unlike the seed, the result always fits Discord
 * (content ≤ 2000, field values ≤ 1024, title ≤ 256, embed ≤ 6000) whatever the file names:
 * when the seed's own truncation is not enough, lists end with "… and N more".
 */
export function renderSeedCard(meta: SeedCardMeta): RenderedSeedCard {
  return { content: `${FENCE_OPEN}${cardJson(meta)}${FENCE_CLOSE}`, embed: cardEmbed(meta) };
}

/** The card's JSON text, shortened step by step until it fits, each step only if still needed. */
export function cardJson(meta: SeedCardMeta): string {
  let card = cardObject(meta);
  // 1. Exactly the seed's rules: its output is unchanged whenever it already fitted.
  for (const key of SEED_LIST_KEYS) {
    const list = card[key];
    if (Array.isArray(list) && list.length > SEED_LIST_MAX) {
      card[key] = list.slice(0, SEED_LIST_MAX);
      card[`${key}_truncated`] = true;
    }
  }
  if (json(card).length > SEED_JSON_MAX) {
    for (const key of SEED_LIST_KEYS) delete card[key];
    card.metadata_truncated = true;
  }
  // 2.–4. What the seed never checked: errors and files_display. Errors first give up all but a
  // share of the space (the file list is what people look at), then the file list shrinks to
  // fit, then errors may use whatever is left; finally any long string is clipped.
  if (json(card).length > JSON_BUDGET) card = shrinkErrors(card, (k) => json(withoutKey(k, 'files_display')).length <= JSON_BUDGET - FILES_RESERVE);
  if (json(card).length > JSON_BUDGET) card = shrinkFilesDisplay(card);
  if (json(card).length > JSON_BUDGET) card = shrinkErrors(card, (k) => json(k).length <= JSON_BUDGET);
  if (json(card).length > JSON_BUDGET) card = clipStrings(card, NAME_CAP) as CardObject;
  // 5. Pathological metadata (huge unknown keys): keep what finds the archive and its thread.
  if (json(card).length > JSON_BUDGET) card = minimalCard(card);
  return json(card);
}

function json(card: CardObject): string {
  return stringifyPythonCompact(card);
}

function cardObject(meta: SeedCardMeta): CardObject {
  const card: CardObject = {};
  const source = meta as Record<string, unknown>;
  for (const key of KEY_ORDER) {
    const value = source[key];
    if (value === undefined) continue;
    if (ID_KEYS.has(key)) card[key] = value === null ? null : idNumber(value as string);
    else if (key === 'message_ids') card[key] = (value as string[]).map(idNumber);
    else card[key] = value;
  }
  for (const [key, value] of Object.entries(meta.extra ?? {})) {
    if (!(key in card) && !(FLAG_KEYS as readonly string[]).includes(key)) card[key] = value;
  }
  for (const key of FLAG_KEYS) if (meta[key] !== undefined) card[key] = meta[key];
  return card;
}

/** Largest k in [0, max] for which fits(k) holds, given fits is monotone and fits(0) is the fallback. */
function largestFitting(max: number, fits: (k: number) => boolean): number {
  let lo = 0;
  let hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function shrinkFilesDisplay(card: CardObject): CardObject {
  const display = card.files_display;
  if (typeof display === 'string') return { ...card, files_display: clip(display, 500) };
  if (!Array.isArray(display)) return card;
  const items = (display as string[]).map((name) => clip(name, NAME_CAP));
  const withFirst = (k: number) => ({ ...card, files_display: k >= items.length ? items : [...items.slice(0, k), `… and ${items.length - k} more`] });
  return withFirst(largestFitting(items.length, (k) => json(withFirst(k)).length <= JSON_BUDGET));
}

function withoutKey(card: CardObject, key: string): CardObject {
  const { [key]: _dropped, ...rest } = card;
  return rest;
}

function shrinkErrors(card: CardObject, fits: (card: CardObject) => boolean): CardObject {
  const errors = card.errors;
  if (typeof errors !== 'object' || errors === null) return card;
  const entries = Object.entries(errors as Record<string, string>).map(([name, message]) => [clip(name, NAME_CAP), clip(String(message), MESSAGE_CAP)] as const);
  const withFirst = (k: number): CardObject => {
    const shortened: CardObject = { ...card, errors: Object.fromEntries(entries.slice(0, k)) };
    if (k < entries.length) shortened.errors_truncated = true;
    return shortened;
  };
  return withFirst(largestFitting(entries.length, (k) => fits(withFirst(k))));
}

function clipStrings(value: unknown, max: number): unknown {
  if (typeof value === 'string') return clip(value, max);
  if (Array.isArray(value)) return value.map((item) => clipStrings(item, max));
  if (typeof value === 'object' && value !== null && value.constructor === Object) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [clip(key, max), clipStrings(item, max)]));
  }
  return value;
}

function minimalCard(card: CardObject): CardObject {
  const keep = ['lot', 'archive_id', 'timestamp', 'status', 'file_count', 'total_size_bytes', 'chunk_count', 'archive_channel_id', 'storage_channel_id', 'thread_id', 'archive_message_id'];
  const minimal: CardObject = {};
  for (const key of keep) if (key in card) minimal[key] = clipStrings(card[key], 40);
  minimal.metadata_truncated = true;
  return minimal;
}

/** The seed's embed (§3.2), every piece capped to Discord's limits. */
export function cardEmbed(meta: SeedCardMeta): SeedCardEmbed {
  const archiveId = meta.archive_id ?? 'unknown';
  const status = typeof meta.status === 'string' && meta.status !== '' ? meta.status.toLowerCase() : 'unknown';
  const fields: SeedCardEmbed['fields'] = [
    { name: '📅 Timestamp', value: clip(meta.timestamp || 'unknown', 256), inline: false },
    { name: '📁 Files', value: filesField(meta), inline: false },
    { name: '📊 Total Size', value: formatBytes(meta.total_size_bytes), inline: true },
    { name: '🧩 Chunks', value: typeof meta.chunk_count === 'number' ? `${meta.chunk_count} chunks` : 'Unknown', inline: true },
    { name: '✅ Status', value: clip(status, 256), inline: true },
    { name: '💾 Download', value: `\`!download ${clip(archiveId, 200)}\``, inline: false },
  ];
  if (meta.progress_text) fields.push({ name: '⏳ Progress', value: clip(meta.progress_text, DISCORD_LIMITS.embedFieldValue), inline: false });
  const embed: SeedCardEmbed = {
    title: clip(`📦 Archive ${archiveId}`, DISCORD_LIMITS.embedTitle),
    color: STATUS_COLOURS[status] ?? DEFAULT_COLOUR,
    fields,
  };
  const footer = [meta.lot !== null && meta.lot !== undefined ? `Lot ${meta.lot}` : '', meta.uploader ? `Uploader: ${meta.uploader}` : '']
    .filter((part) => part !== '')
    .join(' • ');
  // Capped well below Discord's 2048 so that every piece together stays under the 6000 total.
  if (footer !== '') embed.footer = { text: clip(footer, 1024) };
  return embed;
}

/** `📁 Files`: the seed's rules, then whole lines up to 1024 characters. */
function filesField(meta: SeedCardMeta): string {
  const display = meta.files_display ?? [];
  const max = DISCORD_LIMITS.embedFieldValue;
  if (typeof display === 'string') return clip(display || 'Unknown', max);
  if (display.length === 0) return typeof meta.file_count === 'number' ? `${meta.file_count} files` : 'Unknown';
  const names = display.map((name) => clip(name, NAME_CAP));
  if (names.length > 10) return joinLinesWithin([`${names.length} files (showing 10)`, ...names.slice(0, 10)], max);
  return joinLinesWithin(names, max);
}

/** Characters Discord counts towards the 6000 embed total. */
export function embedLength(embed: SeedCardEmbed): number {
  return embed.title.length + embed.fields.reduce((sum, f) => sum + f.name.length + f.value.length, 0) + (embed.footer?.text.length ?? 0);
}
