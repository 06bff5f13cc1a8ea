import { encodeRecord, signRecord } from '../core/archive-record.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { Manifest, ManifestEntry, ManifestFrame, ManifestPack } from '../core/manifest.js';
import type { EntryRow } from '../index/store-index.js';
import type { StoreContext } from './context.js';
import { failpoint } from './failpoints.js';
import type { InputSource } from './input-source.js';
import { sealManifest, type ManifestRef } from './manifest-io.js';
import type { PackWriter, PlacedFrame } from './pack-writer.js';

/** The content of one uploaded file: its frame ids in order, its hash and size. */
export interface FileContent {
  ids: Buffer[];
  sha256: string;
  size: number;
}

export interface GenerationTarget {
  archiveId: string;
  lot: number;
  name: string;
  createdAt: Date;
  generation: number;
}

export interface PublishedGeneration {
  ref: ManifestRef;
  files: number;
  bytes: number;
  /** Bytes of every pack the generation uses (shared packs counted whole). */
  storedBytes: number;
}

/** Feeds every file of a source through the pack writer; returns each file's content by archive path. */
export async function uploadFiles(writer: PackWriter, source: InputSource, onBytes: (n: number) => void): Promise<Map<string, FileContent>> {
  const contents = new Map<string, FileContent>();
  let ids: Buffer[] = [];
  for await (const item of source.items()) {
    if (item.kind === 'frame') {
      ids.push(await writer.addFrame(item));
      onBytes(item.plaintext.length);
    } else if (item.kind === 'sealing') {
      ids.push(await writer.addSealed(await item.sealed, item.plainLength));
      onBytes(item.plainLength);
    } else {
      contents.set(item.path, { ids, sha256: item.sha256, size: item.size });
      ids = [];
    }
  }
  return contents;
}

/**
 * Publishes one generation whose data is already uploaded: the manifest goes into the last
 * pack, the pack is stored, then the record is published, then the index commits. Upload
 * first, commit after: nothing published ever points at a pack that is not stored.
 */
/** `inCommit` runs inside the index transaction that makes the generation current (see applyChanges). */
export async function publishGeneration(ctx: StoreContext, writer: PackWriter, target: GenerationTarget, entries: EntryRow[], inCommit?: () => void): Promise<PublishedGeneration> {
  let manifest: Manifest;
  let sealed: Awaited<ReturnType<typeof sealManifest>>;
  let placed: PlacedFrame[];
  for (let attempt = 1; ; attempt++) {
    // Every data pack but the one being filled must be uploaded before the manifest names them.
    await writer.awaitUploads();
    manifest = buildManifest(ctx, writer, target, entries);
    sealed = await sealManifest(ctx, manifest);
    placed = await writer.appendSealed(sealed.frames);
    await writer.finish();
    // If the backend refused the last pack as too large, its frames moved to other packs and
    // this manifest names a pack that does not exist: describe the data again.
    const moved = manifest.packs.some((p) => p.locator === null && !writer.packs.has(p.name));
    if (!moved) break;
    if (attempt === 3) throw new DosError(ErrorCodes.BACKEND, 'the backend kept refusing the last pack of this generation');
  }

  const ref = manifestRefOf(manifest, placed, sealed.length, writer);
  const fileEntries = entries.filter((e) => e.type === 'file');
  const bytes = fileEntries.reduce((s, e) => s + e.size, 0);
  // The record's packs come last: they carry the sizes the manifest could not know yet.
  const sizes = new Map<string, number>([...manifest.packs, ...ref.packs].map((p) => [p.name, p.size] as const));
  const storedBytes = [...sizes.values()].reduce((s, n) => s + n, 0);
  const { archiveId, lot, name, createdAt, generation } = target;
  const record = signRecord(ctx.keys, {
    format: 'dos-archive', version: 4, storeId: ctx.keys.storeId, archiveId, lot, name, generation,
    createdAt: createdAt.toISOString(), updatedAt: new Date().toISOString(), status: 'complete',
    stats: { files: fileEntries.length, bytes, storedBytes, packs: sizes.size },
    manifest: ref,
  });
  failpoint('before-record');
  await ctx.backend.putRecord(archiveId, encodeRecord(record), {
    name, lot, createdAt, status: 'complete', files: fileEntries.length, bytes, storedBytes, packs: sizes.size,
    fileNames: entries.filter((e) => !e.path.includes('/')).map((e) => (e.type === 'dir' ? `${e.path}/` : e.path)),
  });
  failpoint('before-commit');
  ctx.index.commitGeneration({
    archiveId, generation, createdAt: Date.now(), files: fileEntries.length, bytes, storedBytes, manifestRef: JSON.stringify(ref),
    dataPacks: manifest.packs.map((p) => p.name),
    name, status: 'complete', entries,
  }, inCommit);
  return { ref, files: fileEntries.length, bytes, storedBytes };
}

/** Where a frame lives: placed by this writer (new or deduplicated), else known to the index. */
function locate(ctx: StoreContext, writer: PackWriter, id: Buffer): { placed: PlacedFrame; locator: string | null; packSize: number } {
  const hex = id.toString('hex');
  const placed = writer.placed.get(hex);
  if (placed) {
    const pack = writer.packs.get(placed.packName) ?? writer.reusedPacks.get(placed.packName);
    // The pack still being filled has no locator yet: the archive record carries it.
    return { placed, locator: pack?.locator ?? null, packSize: pack?.size ?? 0 };
  }
  const known = ctx.index.findFrame(id);
  if (!known) throw new DosError(ErrorCodes.MISSING, `frame ${hex} is neither uploaded nor known to the index`, { frame: hex });
  const pack = ctx.index.getPack(known.packId)!;
  return {
    placed: { id, packName: known.packId, offset: known.offset, storedLength: known.storedLength, plainLength: known.plainLength, flags: known.flags },
    locator: pack.locator,
    packSize: pack.size,
  };
}

function buildManifest(ctx: StoreContext, writer: PackWriter, target: GenerationTarget, entries: EntryRow[]): Manifest {
  const packs: ManifestPack[] = [];
  const packIndex = new Map<string, number>();
  const frames: ManifestFrame[] = [];
  const frameIndex = new Map<string, number>();
  const indexOf = (id: Buffer): number => {
    const hex = id.toString('hex');
    let index = frameIndex.get(hex);
    if (index === undefined) {
      const { placed, locator, packSize } = locate(ctx, writer, id);
      let pack = packIndex.get(placed.packName);
      if (pack === undefined) {
        pack = packs.length;
        packs.push({ name: placed.packName, locator, size: packSize });
        packIndex.set(placed.packName, pack);
      }
      index = frames.length;
      frames.push([hex, pack, placed.offset, placed.storedLength, placed.plainLength, placed.flags]);
      frameIndex.set(hex, index);
    }
    return index;
  };
  const manifestEntries: ManifestEntry[] = entries.map((e) => {
    const base = { path: e.path, type: e.type, size: 0, mode: e.mode, mtimeMs: e.mtimeMs };
    if (e.type === 'file') return { ...base, size: e.size, sha256: e.sha256!, frames: e.frameIds.map(indexOf) };
    return e.type === 'symlink' ? { ...base, target: e.target! } : base;
  });
  return {
    format: 'dos-manifest', version: 1, storeId: ctx.keys.storeId, archiveId: target.archiveId, name: target.name, generation: target.generation,
    createdAt: target.createdAt.toISOString(), frameSize: ctx.frameSize, packs, frames, entries: manifestEntries,
  };
}

/** The record's pointer to the manifest: its frames, plus every pack the manifest could not locate. */
function manifestRefOf(manifest: Manifest, placed: PlacedFrame[], length: number, writer: PackWriter): ManifestRef {
  const names = new Set<string>(manifest.packs.filter((p) => p.locator === null).map((p) => p.name));
  for (const p of placed) names.add(p.packName);
  const packs: ManifestPack[] = [...names].map((n) => {
    const written = writer.packs.get(n);
    if (!written) throw new DosError(ErrorCodes.CORRUPT, `internal error: pack ${n} was never uploaded`);
    return { name: n, locator: written.locator, size: written.size };
  });
  const index = new Map(packs.map((p, i) => [p.name, i] as const));
  const frames: ManifestFrame[] = placed.map((p) => [p.id.toString('hex'), index.get(p.packName)!, p.offset, p.storedLength, p.plainLength, p.flags]);
  return { packs, frames, length };
}
