import { DosError, ErrorCodes } from '../core/errors.js';
import type { ArchiveRow } from '../index/store-index.js';
import type { StoreContext } from './context.js';
import type { GcResult } from './remove.js';
import { seedRefOf } from './seed-index.js';

/**
 * `dos rm` / `!cleanup` of a seed archive: the backend deletes its thread and marks its card
 * `deleted` (the seed's own cleanup), then the index forgets it. Its attachments go with the
 * thread; nothing of ours referenced them, so there is nothing to collect.
 */
export async function removeSeedArchive(ctx: StoreContext, archive: ArchiveRow): Promise<GcResult> {
  const remove = ctx.backend.removeSeedArchive?.bind(ctx.backend);
  if (!remove) throw new DosError(ErrorCodes.UNSUPPORTED, `seed archives live on Discord; ${ctx.backend.description} cannot delete one`, { archive: archive.id });
  const ref = seedRefOf(ctx, archive);
  await remove(ref.cardMessageId, ref.threadId);
  // A seed upload of it that stopped half-way will not be resumed.
  for (const job of ctx.index.jobsOfArchive(archive.id)) if (job.state === 'abandoned' || job.state === 'open') ctx.index.setJobState(job.id, 'cancelled');
  ctx.index.deleteArchive(archive.id);
  return { deletedPacks: ref.chunkCount ?? 0, freedBytes: ref.totalSizeBytes ?? 0, orphans: 0, deferred: false };
}
