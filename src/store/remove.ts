import { isDeadProcess } from './liveness.js';
import type { ArchiveRow } from '../index/store-index.js';
import type { StoreContext } from './context.js';
import { withArchiveLock } from './archive-lock.js';
import { loadManifest, type ManifestRef } from './manifest-io.js';
import { syncFromBackend } from './sync.js';

export interface GcResult {
  deletedPacks: number;
  freedBytes: number;
  /** Of those, packs the backend had but the index never knew (left by a crash mid-upload). */
  orphans: number;
  /** Collection waits while another process is writing (its frames may reuse old packs). */
  deferred: boolean;
}

/** `dos rm`: unpublishes the archive, forgets it, then collects packs nothing references any more. */
export async function removeArchive(ctx: StoreContext, archive: ArchiveRow): Promise<GcResult> {
  // An interrupted upload of this archive will not be resumed: its packs become collectable.
  for (const job of ctx.index.jobsOfArchive(archive.id)) if (job.state === 'abandoned') ctx.index.setJobState(job.id, 'cancelled');
  // Under the archive's lock: a commit to it in flight elsewhere (a mount) finishes first, and
  // cannot publish its record again after this removed it.
  await withArchiveLock(ctx, archive.id, async () => {
    await ctx.backend.deleteRecord(archive.id);
    ctx.index.deleteArchive(archive.id);
  });
  return collectGarbage(ctx);
}

/**
 * Marks open jobs of processes that died on this host as abandoned, so they stop blocking gc
 * and a put can be resumed; other kinds of job are redone by their owner (the mount's queue),
 * so they are cancelled.
 */
export function abandonDeadJobs(ctx: StoreContext): number {
  // One write transaction from read to update: a job read as open here may otherwise be
  // claimed by a resuming process meanwhile, and then overwritten as abandoned.
  return ctx.index.exclusive(() => {
    let abandoned = 0;
    for (const job of ctx.index.openJobs()) {
      // updatedAt: when its owner created or claimed it (an open job is not otherwise updated).
      if (!isDeadProcess(job.pid, job.host, job.updatedAt)) continue;
      ctx.index.setJobState(job.id, job.kind === 'put' ? 'abandoned' : 'cancelled');
      if (job.archiveId) {
        const archive = ctx.index.getArchive(job.archiveId);
        if (archive && archive.currentGeneration === null) ctx.index.setArchiveStatus(archive.id, 'failed');
      }
      abandoned++;
    }
    return abandoned;
  });
}

export interface GcOptions {
  /**
   * Packs unknown to the index are deleted only when older than this: a pack another process
   * stored a moment ago may not be recorded yet. Default one hour.
   */
  orphanGraceMs?: number;
}

/**
 * Deletes packs that hold no frame of any current tree and no current manifest. Runs only when
 * no other job is open: a running put may be about to reference an old pack through dedup.
 */
export async function collectGarbage(ctx: StoreContext, options: GcOptions = {}): Promise<GcResult> {
  abandonDeadJobs(ctx);
  // This index may be behind the backend: another machine may have published archives whose
  // packs it does not know (they would look like orphans) or that deduplicated against packs
  // it thinks unreferenced. Learn every record first; if one cannot be read, delete nothing.
  const synced = await syncFromBackend(ctx);
  if (synced.rejected.length > 0) {
    ctx.notice(`not collecting packs: ${synced.rejected.length} archive record(s) could not be read (${synced.rejected.map((r) => r.archiveId).join(', ')}), and their packs must not be taken for garbage`);
    return { deletedPacks: 0, freedBytes: 0, orphans: 0, deferred: true };
  }
  try {
    await learnDataPacks(ctx);
  } catch (err) {
    ctx.notice(`not collecting packs: a manifest could not be read (${(err as Error).message})`);
    return { deletedPacks: 0, freedBytes: 0, orphans: 0, deferred: true };
  }
  const doomed = ctx.index.exclusive(() => {
    // Any open job, this process's included: inside `dos mount --bot` a !rm runs while the
    // mount's commit may be reusing frames of the very packs this would collect.
    if (ctx.index.openJobs().length > 0) return null;
    const packs = ctx.index.unreferencedPacks();
    // Forget them first: from now on no new put can dedup against them.
    ctx.index.forgetPacks(packs.map((p) => p.id));
    return packs;
  });
  if (doomed === null) {
    ctx.notice('another dos process is writing to this store; unreferenced packs will be collected later');
    return { deletedPacks: 0, freedBytes: 0, orphans: 0, deferred: true };
  }
  const graceMs = options.orphanGraceMs ?? 60 * 60 * 1000;
  const orphans = await findOrphans(ctx, graceMs);
  await ctx.backend.removePartialUploads?.(graceMs);
  const all = [...doomed, ...orphans];
  await ctx.backend.deletePacks(all.map((p) => p.locator));
  return { deletedPacks: all.length, freedBytes: all.reduce((s, p) => s + p.size, 0), orphans: orphans.length, deferred: false };
}

/**
 * Generations committed before the index recorded every pack their manifest names (migration
 * 4): their manifests are read once, so a second copy of a frame in another pack is known live.
 */
async function learnDataPacks(ctx: StoreContext): Promise<void> {
  for (const g of ctx.index.generationsWithoutDataPacks()) {
    const ref = JSON.parse(g.manifestRef) as ManifestRef & { kind?: string };
    const packs = ref.kind === 'seed' ? [] : (await loadManifest(ctx, ref, g.archiveId)).packs.map((p) => p.name);
    ctx.index.setDataPacks(g.archiveId, g.generation, packs);
  }
}

/** Packs on the backend that the index does not know, old enough not to be someone's upload in flight. */
async function findOrphans(ctx: StoreContext, graceMs: number): Promise<Array<{ locator: string; size: number }>> {
  if (!ctx.backend.listPacks) return [];
  const known = new Set(ctx.index.listPacks().map((p) => p.locator));
  const cutoff = Date.now() - graceMs;
  return (await ctx.backend.listPacks()).filter((p) => !known.has(p.locator) && p.createdAt <= cutoff);
}
