import type { LegacyArchiveEntry, LegacyMigrationOutcome } from '../backends/backend.js';
import { normalizeArchiveId } from '../core/archive-id.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import { readHistoryLog } from '../legacy/index.js';
import type { StoreContext } from './context.js';
import { recordMigration } from './history-log-update.js';
import { indexSeedArchive } from './seed-index.js';

export interface LegacyMigrationOptions {
  /** The seed's history log (DISCORD_DRIVE_LOG_FILE). */
  logPath: string;
  /** Where the pre-card archives' messages are (DISCORD_DRIVE_STORAGE_CHANNEL_ID, else where the command was typed). */
  storageChannelId: string;
}

export interface LegacyMigrationReport {
  logEntries: number;
  /** Entries a `!migrate-legacy` (the seed's or ours) moved into cards before this run. */
  alreadyMigrated: number;
  /** Entries from before cards (no archive_message_id), whether migrated now or not. */
  preCard: number;
  migrated: LegacyMigrationOutcome[];
  /** Entries not migrated, with why (nothing was created for them, or a re-run finishes them). */
  skipped: Array<{ archiveId: string | null; reason: string }>;
  /** Set when the run stopped early (the log could not be written): a re-run continues. */
  stopped?: string;
}

/** Thrown from the per-entry hook to end the run; caught below. */
class StopRun extends Error {}

/**
 * `!migrate-legacy` (legacy-format.md §4.9): every pre-card entry of the seed's history log
 * (its files posted as plain messages, era 'channel' or 'pre-repo') becomes a seed archive with a
 * card and a `{id} legacy` thread (the backend copies the attachments). After each archive the
 * log entry is updated atomically (so it is not migrated twice) and the index learns the archive,
 * so `!download` and `dos get` restore it like any seed archive. A re-run migrates only what
 * is left; one interrupted between card and log reuses its card.
 */
export async function migrateLegacyArchives(ctx: StoreContext, options: LegacyMigrationOptions): Promise<LegacyMigrationReport> {
  const migrate = ctx.backend.migrateLegacyArchives?.bind(ctx.backend);
  if (!migrate) throw new DosError(ErrorCodes.UNSUPPORTED, `legacy archives live on Discord; ${ctx.backend.description} holds none`);
  const entries = await readHistoryLog(options.logPath);
  const report: LegacyMigrationReport = { logEntries: entries.length, alreadyMigrated: entries.filter((e) => e.era === 'migrated').length, preCard: 0, migrated: [], skipped: [] };
  const positions = new Map<string, number>();
  const requests: LegacyArchiveEntry[] = [];
  for (const [position, e] of entries.entries()) {
    if (e.archiveMessageId !== null || (e.era !== 'channel' && e.era !== 'pre-repo')) continue;
    report.preCard++;
    const id = e.archiveId === null ? null : normalizeArchiveId(e.archiveId);
    const skip = (reason: string) => report.skipped.push({ archiveId: id ?? e.archiveId, reason });
    if (id === null) skip(e.archiveId === null ? 'no archive_id, and no lot and timestamp to derive one from' : 'its archive_id is not of the form #DDMMYY-NN');
    else if (positions.has(id)) skip('another entry of the log has the same id (the seed could give two uploads one id); migrate it by hand');
    else if (e.messageIds.length === 0) skip('the log lists no message of it');
    else if (ctx.index.getArchive(id)?.kind === 'v4') skip('this store has an archive with the same id');
    else {
      positions.set(id, position);
      requests.push({
        archiveId: id, lot: e.lot, timestamp: e.timestamp, status: e.status, fileCount: e.fileCount, totalSizeBytes: e.totalSizeBytes,
        chunkCount: e.chunkCount, uploadedFiles: e.uploadedFiles, failedFiles: e.failedFiles, messageIds: e.messageIds,
      });
    }
  }
  if (requests.length === 0) return report;

  const onEntry = async (outcome: LegacyMigrationOutcome): Promise<void> => {
    if (!outcome.migrated || !outcome.cardMessageId || !outcome.threadId) {
      report.skipped.push({ archiveId: outcome.archiveId, reason: outcome.reason ?? 'not migrated' });
      return;
    }
    // The log first: from then on the entry is not a pre-card one. If it cannot be written, stop:
    // the card stays (legacy: true) and a re-run reuses it instead of making another.
    try {
      await recordMigration(options.logPath, {
        position: positions.get(outcome.archiveId)!, archiveId: outcome.archiveId,
        archiveMessageId: outcome.cardMessageId, threadId: outcome.threadId, messageIds: outcome.threadMessageIds,
      });
    } catch (err) {
      report.stopped = `${outcome.archiveId} has its card and thread but the history log could not be updated (${(err as Error).message})`;
      throw new StopRun();
    }
    report.migrated.push(outcome);
    if (outcome.listing) {
      try {
        await indexSeedArchive(ctx, outcome.listing);
      } catch (err) {
        ctx.notice(`${outcome.archiveId} was migrated but not indexed (dos sync will find it): ${(err as Error).message}`);
      }
    }
  };
  try {
    await migrate(options.storageChannelId, requests, onEntry);
  } catch (err) {
    if (!(err instanceof StopRun)) throw err;
  }
  return report;
}
