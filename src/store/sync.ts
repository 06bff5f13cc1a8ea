import { decodeRecord } from '../core/archive-record.js';
import { FRAME_ID_BYTES } from '../core/frame.js';
import type { ArchiveRow, EntryRow } from '../index/store-index.js';
import type { StoreContext } from './context.js';
import { loadManifest, resolvePackLocators, type ManifestRef } from './manifest-io.js';
import { releaseLotForV4, syncSeedArchives } from './seed-index.js';

export interface SyncResult {
  archives: number;
  added: number;
  updated: number;
  removed: number;
  /** Records that failed authentication or could not be read: listed, never trusted. */
  rejected: Array<{ archiveId: string; reason: string }>;
}

/**
 * Rebuilds the index from the backend alone: every authenticated archive record, the manifest
 * it points to, and the packs and frames that manifest names. Committed archives the backend
 * no longer has are dropped from the index. Archives the Python seed made are indexed too, as
 * kind 'seed' (see seed-index.ts).
 */
export async function syncFromBackend(ctx: StoreContext): Promise<SyncResult> {
  const result: SyncResult = { archives: 0, added: 0, updated: 0, removed: 0, rejected: [] };
  const seen = new Set<string>();
  // An archive another process here commits while this sync runs is missing from a listing
  // taken before: it must not be dropped (and its packs then taken for garbage).
  const listedAt = Date.now();
  for (const published of await ctx.backend.listRecords()) {
    try {
      const record = decodeRecord(ctx.keys, published.data);
      if (record.archiveId !== published.archiveId) throw new Error(`the record is filed under ${published.archiveId} but names ${record.archiveId}`);
      seen.add(record.archiveId);
      result.archives++;
      let known = ctx.index.getArchive(record.archiveId);
      if (known?.kind === 'seed') {
        // A seed archive indexed under the same id: the store's own archive takes the id.
        ctx.index.deleteArchive(known.id);
        known = undefined;
      }
      // The same generation, or an older one than this index committed (a listing read just
      // before another process here published): going back would lose that commit.
      if (hasGeneration(known, record.generation)) continue;
      const ref: ManifestRef = record.manifest;
      const manifest = await loadManifest(ctx, ref, record.archiveId);
      const packs = resolvePackLocators(manifest, ref, record.archiveId);
      const entries: EntryRow[] = manifest.entries.map((e) => ({
        path: e.path, type: e.type, size: e.size, mode: e.mode, mtimeMs: e.mtimeMs, sha256: e.sha256 ?? null, target: e.target ?? null,
        frameIds: (e.frames ?? []).map((i) => Buffer.from(manifest.frames[i]![0], 'hex').subarray(0, FRAME_ID_BYTES)),
      }));
      // From here to the commit, one write transaction: the index may have moved while the
      // manifest was read (a mount here committing this archive's next generations), and a
      // gc elsewhere must not see these packs recorded but not yet referenced.
      const outcome = ctx.index.exclusive(() => {
        known = ctx.index.getArchive(record.archiveId);
        if (hasGeneration(known, record.generation)) return 'current';
        for (const [index, pack] of packs.entries()) {
          if (ctx.index.getPack(pack.name)) continue;
          const frames = manifest.frames.filter((f) => f[1] === index)
            .map(([id, , offset, storedLength, plainLength, flags]) => ({ id: Buffer.from(id, 'hex'), offset, storedLength, plainLength, flags }));
          ctx.index.recordPack({ id: pack.name, locator: pack.locator!, size: pack.size, archiveId: record.archiveId, jobId: null }, frames);
        }
        for (const p of ref.packs) {
          if (!ctx.index.getPack(p.name)) ctx.index.recordPack({ id: p.name, locator: p.locator!, size: p.size, archiveId: record.archiveId, jobId: null }, []);
        }
        if (!known) {
          releaseLotForV4(ctx, record.lot);
          // Two machines that had not synced can both hand out a lot (on different days, so the
          // ids differ): the index keeps lots unique, so the newcomer takes a free one here. The
          // lot only orders archives and numbers new ones; the id stays the record's.
          const lot = ctx.index.archiveWithLot(record.lot) ? ctx.index.unusedLot() : record.lot;
          const created = Date.parse(record.createdAt);
          ctx.index.insertArchive({ id: record.archiveId, lot, name: record.name, kind: 'v4', status: record.status, createdAt: created, updatedAt: Date.parse(record.updatedAt) || created });
        }
        ctx.index.commitGeneration({
          archiveId: record.archiveId, generation: record.generation, createdAt: Date.parse(record.updatedAt) || Date.now(),
          files: record.stats.files, bytes: record.stats.bytes, storedBytes: record.stats.storedBytes, manifestRef: JSON.stringify(ref),
          dataPacks: packs.map((p) => p.name),
          name: record.name, status: record.status, entries,
        });
        return known ? 'updated' : 'added';
      });
      if (outcome !== 'current') result[outcome]++;
    } catch (err) {
      result.rejected.push({ archiveId: published.archiveId, reason: (err as Error).message });
      ctx.notice(`ignoring the record of ${published.archiveId}: ${(err as Error).message}`);
    }
  }
  // Archives the Python seed made (Discord only); a v4 archive with the same id wins.
  await syncSeedArchives(ctx, seen, result);
  for (const archive of ctx.index.listArchives()) {
    if (archive.currentGeneration !== null && archive.updatedAt < listedAt && !seen.has(archive.id) && !result.rejected.some((r) => r.archiveId === archive.id)) {
      ctx.index.deleteArchive(archive.id);
      result.removed++;
    }
  }
  return result;
}

/** Whether the index already has `generation` of the archive, or a later one. */
function hasGeneration(known: ArchiveRow | undefined, generation: number): boolean {
  return known !== undefined && known.currentGeneration !== null && generation <= known.currentGeneration;
}
