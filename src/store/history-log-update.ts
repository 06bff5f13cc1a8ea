import { readFile, stat } from 'node:fs/promises';
import { LosslessNumber, parse } from 'lossless-json';
import { writeFileAtomic } from '../backends/local/local-backend.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import { parseHistoryLog, stringifyPythonIndented } from '../legacy/index.js';

/** What `!migrate-legacy` records about one entry (legacy-format.md §3.7 variant 5). */
export interface MigratedEntry {
  /** Position among the log's entries (its object elements), as readHistoryLog returned them. */
  position: number;
  archiveId: string;
  archiveMessageId: string;
  threadId: string;
  /** Replaces `message_ids` when non-empty. */
  messageIds: string[];
}

/**
 * Records a migration in the seed's history log the way the seed did (the entry gains
 * `archive_message_id` and `thread_id`; `message_ids` become the thread's), but safely:
 * - every number keeps its exact text (snowflakes stay bare integers above 2^53, floats are not
 *   reformatted), because the Python tool still reads this file;
 * - the file is written as a temporary file next to it, flushed, and renamed over it, so a crash
 *   leaves the old log or the new one, never half of one (the seed truncated then wrote, §7.3.3);
 * - the entry is found again in the file as it is now (by position, checked against its id).
 */
export async function recordMigration(path: string, change: MigratedEntry): Promise<void> {
  const text = await readFile(path, 'utf8');
  const entries = parseHistoryLog(text, path);
  let position = change.position;
  const matches = (i: number) => entries[i]?.archiveId === change.archiveId && entries[i]?.archiveMessageId === null;
  if (!matches(position)) position = entries.findIndex((_, i) => matches(i));
  if (position < 0) throw new DosError(ErrorCodes.CORRUPT, `the history log changed while migrating: no pre-card entry ${change.archiveId} any more`, { archive: change.archiveId });

  // Default number parsing keeps every number as its exact text (LosslessNumber).
  const raw = parse(text.replace(/^\uFEFF/, ''), null, { onDuplicateKey: ({ newValue }) => newValue }) as unknown[];
  const objects = raw.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x));
  const entry = objects[position]!;
  entry.archive_message_id = new LosslessNumber(change.archiveMessageId);
  entry.thread_id = new LosslessNumber(change.threadId);
  if (change.messageIds.length > 0) entry.message_ids = change.messageIds.map((id) => new LosslessNumber(id));
  // Through a temporary file and a rename, keeping the log's mode.
  await writeFileAtomic(path, stringifyPythonIndented(raw), (await stat(path)).mode & 0o777);
}
