import { readFile } from 'node:fs/promises';
import { formatArchiveId, normalizeArchiveId } from '../core/archive-id.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import { idString, parseLosslessJson } from './lossless-json.js';

/**
 * Which generation of the seed wrote an entry (legacy-format.md §3.7), inferred from its keys:
 * - `card`: card era (`!upload`, `!resume`, or rebuilt from the channel): has archive_channel_id;
 * - `migrated`: channel-era entry turned into a card by `!migrate-legacy`: card ids, no channel id;
 * - `channel`: channel era, files posted straight into the command channel; no card or thread;
 * - `pre-repo`: no archive_id at all (it is derived from lot and timestamp).
 */
export type SeedLogEra = 'card' | 'migrated' | 'channel' | 'pre-repo';

/** One history-log entry, normalised. Ids are strings (exact); anything absent is null or empty. */
export interface SeedLogEntry {
  /** `#DDMMYY-NN`: the stored id normalised, else derived from lot + timestamp, else null. */
  archiveId: string | null;
  /** True when archiveId was derived rather than stored. */
  archiveIdDerived: boolean;
  era: SeedLogEra;
  lot: number | null;
  timestamp: string | null;
  status: string | null;
  fileCount: number | null;
  /** Processed bytes uploaded (manifests included), as the seed counted them; not the original size. */
  totalSizeBytes: number | null;
  /** Files attempted, manifests included. */
  chunkCount: number | null;
  messageIds: string[];
  uploadedFiles: string[];
  failedFiles: string[];
  threadId: string | null;
  archiveMessageId: string | null;
  archiveChannelId: string | null;
  storageChannelId: string | null;
  errors: Record<string, string>;
  /** The entry as parsed (unsafe integers as exact strings), for keys not modelled here. */
  raw: Record<string, unknown>;
}

/**
 * Reads the seed's history log. A missing file is an empty history (a fresh install), but an
 * unreadable one is an error: the seed silently treated it as empty, which restarted the lot
 * counter at 1 and let the next rebuild overwrite the log (§7.3.3).
 */
export async function readHistoryLog(path: string): Promise<SeedLogEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return parseHistoryLog(text, path);
}

/** Parses the log's text: a JSON array of entries of any era. Non-object elements are skipped. */
export function parseHistoryLog(text: string, source = 'history log'): SeedLogEntry[] {
  let raw: unknown;
  try {
    raw = parseLosslessJson(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new DosError(ErrorCodes.CORRUPT, `${source} is not valid JSON (${(err as Error).message})`, { source }, { cause: err });
  }
  if (!Array.isArray(raw)) throw new DosError(ErrorCodes.CORRUPT, `${source} is not a JSON list of entries`, { source });
  return raw.filter((item): item is Record<string, unknown> => typeof item === 'object' && item !== null && !Array.isArray(item)).map(toEntry);
}

function toEntry(raw: Record<string, unknown>): SeedLogEntry {
  const lot = lotOf(raw.lot);
  const timestamp = typeof raw.timestamp === 'string' ? raw.timestamp : null;
  const stored = typeof raw.archive_id === 'string' && raw.archive_id.trim() !== '' ? raw.archive_id : null;
  const archiveId = stored !== null ? (normalizeArchiveId(stored) ?? stored) : deriveArchiveId(lot, timestamp);
  const threadId = idString(raw.thread_id);
  const archiveMessageId = idString(raw.archive_message_id);
  const archiveChannelId = idString(raw.archive_channel_id);
  return {
    archiveId,
    archiveIdDerived: stored === null && archiveId !== null,
    era: stored === null ? 'pre-repo' : archiveChannelId !== null ? 'card' : threadId !== null || archiveMessageId !== null ? 'migrated' : 'channel',
    lot,
    timestamp,
    status: typeof raw.status === 'string' ? raw.status : null,
    fileCount: countOf(raw.file_count),
    totalSizeBytes: countOf(raw.total_size_bytes),
    chunkCount: countOf(raw.chunk_count),
    messageIds: listOf(raw.message_ids, idString),
    uploadedFiles: listOf(raw.uploaded_files, (v) => (typeof v === 'string' ? v : null)),
    failedFiles: listOf(raw.failed_files, (v) => (typeof v === 'string' ? v : null)),
    threadId,
    archiveMessageId,
    archiveChannelId,
    storageChannelId: idString(raw.storage_channel_id),
    errors: errorsOf(raw.errors),
    raw,
  };
}

/**
 * The seed's id derivation for entries without `archive_id`: `#` + DDMMYY of the timestamp +
 * `-` + lot. The seed fell back to *today's* date when the timestamp did not parse, so the id
 * changed from day to day (§7.3.17); here there is simply no id.
 */
export function deriveArchiveId(lot: number | null, timestamp: string | null): string | null {
  if (lot === null || lot < 1 || timestamp === null) return null;
  const date = parseSeedTimestamp(timestamp);
  return date === null ? null : formatArchiveId(lot, date);
}

/**
 * `YYYY-MM-DD HH:MM:SS` as Python's strptime reads it (fields after the year may have one
 * digit), rejecting impossible dates such as 2026-02-30. Returned as a local-time Date, which is
 * what the seed's timestamps are.
 */
export function parseSeedTimestamp(text: string): Date | null {
  const match = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})$/.exec(text.trim());
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 61) return null;
  const date = new Date(year, month - 1, day, hour, minute, Math.min(second, 59));
  if (date.getFullYear() !== year || date.getMonth() !== month - 1 || date.getDate() !== day) return null;
  return date;
}

/** The seed read the lot with int(), which also accepts a numeric string. */
function lotOf(value: unknown): number | null {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\s*\d+\s*$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  return null;
}

function countOf(value: unknown): number | null {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function listOf<T>(value: unknown, item: (v: unknown) => T | null): T[] {
  if (!Array.isArray(value)) return [];
  return value.map(item).filter((v): v is T => v !== null);
}

function errorsOf(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).map(([name, message]) => [name, typeof message === 'string' ? message : String(message)]));
}
