import { idString, parseLosslessJson } from './lossless-json.js';
import type { ParsedSeedCard, SeedCardMeta, SeedEmbedInput } from './seed-card-types.js';

export { renderSeedCard } from './seed-card-render.js';
export type { ParsedSeedCard, RenderedSeedCard, SeedCardEmbed, SeedCardMeta, SeedEmbedInput } from './seed-card-types.js';

/**
 * Reads a seed archive card (legacy-format.md §3.3) from a message's content and embeds.
 * Order, as the seed did it: the fenced ```json block (matched lazily, up to the first `}`
 * followed by optional whitespace and ```); else the greedy span from the first `{` to the last
 * `}`; if that gives nothing (no match, invalid JSON, not an object, empty), the first embed.
 * Returns null when the message is not a card. Ids stay exact (strings), however large.
 *
 * Like the seed, this does not know who wrote the message: callers that act on a card must
 * check the author themselves (§7.1.3).
 */
export function parseSeedCard(content: string, embeds: readonly SeedEmbedInput[], messageId: string): ParsedSeedCard | null {
  let meta = metaFromContent(content ?? '');
  if (meta === null && embeds.length > 0 && embeds[0]) meta = metaFromEmbed(embeds[0]);
  if (meta === null) return null;
  return { ...meta, archive_message_id: meta.archive_message_id ?? messageId };
}

function metaFromContent(content: string): SeedCardMeta | null {
  const fenced = /```json\s*(\{[\s\S]*?\})\s*```/.exec(content);
  const candidate = fenced ? fenced[1] : /\{[\s\S]*\}/.exec(content)?.[0];
  if (candidate === undefined) return null;
  let raw: unknown;
  try {
    raw = parseLosslessJson(candidate);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  return nonEmpty(metaFromObject(raw as Record<string, unknown>));
}

/** The seed's embed fallback: id from the title, three fields by name, lot from the footer. */
function metaFromEmbed(embed: SeedEmbedInput): SeedCardMeta | null {
  const meta: SeedCardMeta = {};
  const id = /#\d{6}-\d+/.exec(embed.title ?? '');
  if (id) meta.archive_id = id[0];
  for (const field of embed.fields ?? []) {
    const name = String(field.name ?? '').toLowerCase();
    const value = String(field.value ?? '');
    if (name.includes('timestamp')) meta.timestamp = value;
    else if (name.includes('status')) meta.status = value;
    else if (name.includes('files')) meta.files_display = pythonSplitLines(value);
  }
  const lot = /lot\s+(\d+)/i.exec(embed.footer?.text ?? '');
  if (lot && Number.isSafeInteger(Number(lot[1]))) meta.lot = Number(lot[1]);
  return nonEmpty(meta);
}

type Coercer = (value: unknown) => { ok: true; value: unknown } | { ok: false };

const ok = (value: unknown) => ({ ok: true as const, value });
const fail = { ok: false as const };

const text: Coercer = (v) => (typeof v === 'string' ? ok(v) : fail);
const flag: Coercer = (v) => (typeof v === 'boolean' ? ok(v) : fail);
const count: Coercer = (v) => (v === null || (typeof v === 'number' && Number.isSafeInteger(v)) ? ok(v) : fail);
const textList: Coercer = (v) => (Array.isArray(v) && v.every((s) => typeof s === 'string') ? ok(v) : fail);
const id: Coercer = (v) => (idString(v) !== null ? ok(idString(v)) : fail);
const optionalId: Coercer = (v) => (v === null ? ok(null) : id(v));
const idList: Coercer = (v) => (Array.isArray(v) && v.every((x) => idString(x) !== null) ? ok(v.map((x) => idString(x))) : fail);
const display: Coercer = (v) => (typeof v === 'string' ? ok(v) : textList(v));
const errorMap: Coercer = (v) =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((m) => typeof m === 'string') ? ok({ ...v }) : fail;

/** Known card keys and how to read each; anything else (or a value of the wrong type) goes to `extra`. */
const CARD_KEYS: Record<Exclude<keyof SeedCardMeta, 'extra'>, Coercer> = {
  lot: count,
  archive_id: text,
  timestamp: text,
  status: text,
  file_count: count,
  total_size_bytes: count,
  uploaded_files: textList,
  failed_files: textList,
  message_ids: idList,
  chunk_count: count,
  files_display: display,
  uploader: text,
  archive_channel_id: optionalId,
  storage_channel_id: optionalId,
  legacy: flag,
  thread_id: optionalId,
  progress_text: text,
  errors: errorMap,
  archive_message_id: id,
  uploaded_files_truncated: flag,
  failed_files_truncated: flag,
  message_ids_truncated: flag,
  metadata_truncated: flag,
  errors_truncated: flag,
};

function metaFromObject(raw: Record<string, unknown>): SeedCardMeta {
  const meta: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const coerce = Object.hasOwn(CARD_KEYS, key) ? CARD_KEYS[key as keyof typeof CARD_KEYS] : undefined;
    const result = coerce ? coerce(value) : fail;
    if (result.ok) meta[key] = result.value;
    else extra[key] = value;
  }
  if (Object.keys(extra).length > 0) meta.extra = extra;
  return meta as SeedCardMeta;
}

function nonEmpty(meta: SeedCardMeta): SeedCardMeta | null {
  return Object.keys(meta).length > 0 ? meta : null;
}

/** Python's str.splitlines(): every line break it knows, no trailing empty line. */
function pythonSplitLines(value: string): string[] {
  const lines = value.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
