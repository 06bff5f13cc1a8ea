import { hostname } from 'node:os';
import type { ArchiveRow } from '../index/store-index.js';
import type { StoreContext } from './context.js';

export interface GcResult {
  deletedPacks: number;
  freedBytes: number;
  /** Collection waits while another process is writing (its frames may reuse old packs). */
  deferred: boolean;
}

/** `dos rm`: unpublishes the archive, forgets it, then collects packs nothing references any more. */
export async function removeArchive(ctx: StoreContext, archive: ArchiveRow): Promise<GcResult> {
  await ctx.backend.deleteRecord(archive.id);
  ctx.index.deleteArchive(archive.id);
  return collectGarbage(ctx);
}

/** Marks open jobs of processes that died on this host as abandoned, so they stop blocking gc. */
export function abandonDeadJobs(ctx: StoreContext): number {
  let abandoned = 0;
  for (const job of ctx.index.openJobs()) {
    if (job.host !== hostname() || job.pid === process.pid || isAlive(job.pid)) continue;
    ctx.index.setJobState(job.id, 'abandoned');
    if (job.archiveId) {
      const archive = ctx.index.getArchive(job.archiveId);
      if (archive && archive.currentGeneration === null) ctx.index.setArchiveStatus(archive.id, 'failed');
    }
    abandoned++;
  }
  return abandoned;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes packs that hold no frame of any current tree and no current manifest. Runs only when
 * no other job is open: a running put may be about to reference an old pack through dedup.
 */
export async function collectGarbage(ctx: StoreContext): Promise<GcResult> {
  abandonDeadJobs(ctx);
  const doomed = ctx.index.exclusive(() => {
    if (ctx.index.openJobs().some((j) => j.pid !== process.pid || j.host !== hostname())) return null;
    const packs = ctx.index.unreferencedPacks();
    // Forget them first: from now on no new put can dedup against them.
    ctx.index.forgetPacks(packs.map((p) => p.id));
    return packs;
  });
  if (doomed === null) {
    ctx.notice('another dos process is writing to this store; unreferenced packs will be collected later');
    return { deletedPacks: 0, freedBytes: 0, deferred: true };
  }
  await ctx.backend.deletePacks(doomed.map((p) => p.locator));
  return { deletedPacks: doomed.length, freedBytes: doomed.reduce((s, p) => s + p.size, 0), deferred: false };
}
