import type { SeedArchiveListing } from '../backends/backend.js';
import type { ArchiveStatus } from '../core/archive-record.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { ArchiveRow } from '../index/store-index.js';
import type { SeedManifest } from '../legacy/index.js';
import type { StoreContext } from './context.js';
import { readSeedManifests } from './seed-manifests.js';
import type { SyncResult } from './sync.js';

/**
 * Archives the Python seed made (legacy-format.md §3) in the index: kind 'seed', one generation
 * (1) and no entries; what they need is kept as JSON (a SeedRef) in that generation's
 * `manifest_ref`: the card's facts, plus what their manifests said once they were read.
 * Reading and restoring them is seed-archives.ts.
 */
export interface SeedRef {
  kind: 'seed';
  /** Always empty: code that walks every current manifest_ref's packs (gc) finds none here. */
  packs: [];
  cardMessageId: string;
  threadId: string | null;
  lot: number | null;
  timestamp: string | null;
  status: string;
  fileCount: number | null;
  totalSizeBytes: number | null;
  chunkCount: number | null;
  filesDisplay: string[];
  /** Learned from the archive's manifests (sync, ls, get, verify); absent until then. */
  contents?: SeedContents;
}

export interface SeedContents {
  manifests: string[];
  /** Each manifest's source_folder (null when it has none). */
  sourceFolders: Array<string | null>;
  files: number;
  /** Sum of the original sizes the manifests record. */
  bytes: number;
}

/** The seed's words → ours. Anything unknown is shown as partial: nothing promised it is whole. */
function statusOf(seed: string): ArchiveStatus {
  if (seed === 'success') return 'complete';
  if (seed === 'failed') return 'failed';
  return 'partial';
}

export function isSeed(archive: ArchiveRow): boolean {
  return archive.kind === 'seed';
}

export function seedRefOf(ctx: StoreContext, archive: ArchiveRow): SeedRef {
  const generation = archive.currentGeneration === null ? undefined : ctx.index.getGeneration(archive.id, archive.currentGeneration);
  let ref: unknown;
  try {
    ref = generation ? JSON.parse(generation.manifestRef) : null;
  } catch {
    ref = null;
  }
  if (!ref || typeof ref !== 'object' || (ref as { kind?: unknown }).kind !== 'seed') {
    throw new DosError(ErrorCodes.CORRUPT, `the index entry of seed archive ${archive.id} is damaged; run dos sync`, { archive: archive.id });
  }
  return ref as SeedRef;
}

function refOf(listing: SeedArchiveListing): SeedRef {
  return {
    kind: 'seed', packs: [], cardMessageId: listing.cardMessageId, threadId: listing.threadId, lot: listing.lot, timestamp: listing.timestamp,
    status: listing.status, fileCount: listing.fileCount, totalSizeBytes: listing.totalSizeBytes, chunkCount: listing.chunkCount, filesDisplay: listing.filesDisplay,
  };
}

/** The archive's name: its single source folder, else its id. */
export function nameOf(archiveId: string, contents: SeedContents | undefined): string {
  const folders = new Set(contents?.sourceFolders ?? []);
  if (folders.size === 1) {
    const only = [...folders][0];
    if (only) return only;
  }
  return archiveId;
}

/** Writes (or rewrites) the seed archive's generation 1 from its ref. */
function commitSeed(ctx: StoreContext, archiveId: string, ref: SeedRef, createdAt: number): void {
  const bytes = ref.contents?.bytes ?? ref.totalSizeBytes ?? 0;
  ctx.index.commitGeneration({
    archiveId, generation: 1, createdAt, files: ref.contents?.files ?? ref.fileCount ?? ref.filesDisplay.length,
    bytes, storedBytes: ref.totalSizeBytes ?? 0, manifestRef: JSON.stringify(ref), name: nameOf(archiveId, ref.contents), status: statusOf(ref.status), entries: [],
    dataPacks: [], // a seed archive's chunks are attachments, not packs
  });
}

/**
 * A v4 archive about to be indexed under `lot`: a seed archive holding that lot moves to a free
 * negative lot (lots are unique in the index, and seed lots can collide with dos's: the seed
 * restarted at 1 whenever its log was lost).
 */
export function releaseLotForV4(ctx: StoreContext, lot: number): void {
  const holder = ctx.index.archiveWithLot(lot);
  if (holder && holder.kind === 'seed') ctx.index.setArchiveLot(holder.id, freeLot(ctx, -Math.abs(lot) - 1));
}

function freeLot(ctx: StoreContext, preferred: number): number {
  let lot = preferred;
  while (ctx.index.archiveWithLot(lot)) lot = lot > 0 ? -lot : lot - 1;
  return lot;
}

/**
 * The seed half of `dos sync`: every seed archive the backend lists becomes (or stays) a kind
 * 'seed' archive in the index. A v4 archive with the same id wins. New or changed archives have
 * their manifests read (small JSON attachments) so `dos ls` can show their real names and sizes;
 * a failure there is only a notice.
 */
export async function syncSeedArchives(ctx: StoreContext, seen: Set<string>, result: SyncResult): Promise<void> {
  if (!ctx.backend.listSeedArchives) return;
  for (const listing of await ctx.backend.listSeedArchives()) {
    const known = ctx.index.getArchive(listing.archiveId);
    if (seen.has(listing.archiveId) || (known && known.kind !== 'seed')) {
      ctx.notice(`seed archive ${listing.archiveId} has the same id as an archive of this store; showing only the latter`);
      continue;
    }
    seen.add(listing.archiveId);
    result.archives++;
    const ref = refOf(listing);
    // A seed upload of ours that had not recorded its card yet has no generation: it gets one now.
    if (known && known.currentGeneration !== null) {
      const before = seedRefOf(ctx, known);
      const { contents, ...cardPart } = before;
      if (JSON.stringify(cardPart) === JSON.stringify(ref)) continue;
      if (contents && before.threadId === ref.threadId && before.cardMessageId === ref.cardMessageId) ref.contents = contents;
    } else if (!known) {
      insertSeedArchive(ctx, listing);
    }
    if (!ref.contents && ref.threadId) ref.contents = await contentsFromThread(ctx, listing.archiveId, ref.threadId);
    commitSeed(ctx, listing.archiveId, ref, listing.createdAt);
    if (known) result.updated++;
    else result.added++;
  }
}

function lotOfListing(listing: SeedArchiveListing): number {
  const fromId = Number.parseInt(listing.archiveId.split('-')[1] ?? '', 10);
  return Number.isSafeInteger(fromId) && fromId > 0 ? fromId : listing.lot ?? 1;
}

export function contentsOf(manifests: SeedManifest[]): SeedContents {
  const files = manifests.flatMap((m) => m.files);
  return {
    manifests: manifests.map((m) => m.fileName),
    sourceFolders: manifests.map((m) => m.sourceFolder),
    files: files.length,
    bytes: files.reduce((s, f) => s + (f.expectedSize ?? 0), 0),
  };
}

/** Records what the manifests said (name, file count, original bytes) in the index. */
export function learn(ctx: StoreContext, archive: ArchiveRow, ref: SeedRef, manifests: SeedManifest[]): void {
  const contents = contentsOf(manifests);
  if (JSON.stringify(contents) === JSON.stringify(ref.contents)) return;
  commitSeed(ctx, archive.id, { ...ref, contents }, ctx.index.getGeneration(archive.id, 1)?.createdAt ?? archive.createdAt);
}

/**
 * Records a seed archive the bot has just written (a seed upload, a legacy migration) from its
 * card, as sync would, without rescanning the channel. `manifests`, when known locally, spare
 * reading them back from the thread.
 */
export async function indexSeedArchive(ctx: StoreContext, listing: SeedArchiveListing, manifests?: SeedManifest[]): Promise<void> {
  const known = ctx.index.getArchive(listing.archiveId);
  if (known && known.kind !== 'seed') {
    throw new DosError(ErrorCodes.EXISTS, `${listing.archiveId} is already an archive of this store; the seed archive with that id is not indexed`, { archive: listing.archiveId });
  }
  const ref = refOf(listing);
  const before = known && known.currentGeneration !== null ? seedRefOf(ctx, known) : undefined;
  if (manifests) ref.contents = contentsOf(manifests);
  else if (before?.contents && before.threadId === ref.threadId) ref.contents = before.contents;
  else if (ref.threadId) ref.contents = await contentsFromThread(ctx, listing.archiveId, ref.threadId);
  if (!known) insertSeedArchive(ctx, listing);
  commitSeed(ctx, listing.archiveId, ref, listing.createdAt);
}

/** A seed archive new to the index, under a lot no other archive holds. */
function insertSeedArchive(ctx: StoreContext, listing: SeedArchiveListing): void {
  ctx.index.insertArchive({
    id: listing.archiveId, lot: freeLot(ctx, lotOfListing(listing)), name: listing.archiveId, kind: 'seed',
    status: statusOf(listing.status), createdAt: listing.createdAt, updatedAt: listing.createdAt,
  });
}

/** What the thread's manifests say; unknown (and a notice) when they cannot be read now. */
async function contentsFromThread(ctx: StoreContext, archiveId: string, threadId: string): Promise<SeedContents | undefined> {
  try {
    return contentsOf(await readSeedManifests(ctx.backend, threadId));
  } catch (err) {
    ctx.notice(`seed archive ${archiveId}: could not read its manifests (${(err as Error).message})`);
    return undefined;
  }
}
