import { signRecord, encodeRecord, type ArchiveRecord } from '../core/archive-record.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { Manifest, ManifestEntry, ManifestFrame, ManifestPack } from '../core/manifest.js';
import type { EntryRow } from '../index/store-index.js';
import type { ProgressFn, StoreContext } from './context.js';
import { sealManifest, type ManifestRef } from './manifest-io.js';
import { PackWriter, type PlacedFrame } from './pack-writer.js';
import { failpoint } from './failpoints.js';
import { InputSource } from './input-source.js';
import type { ScannedEntry } from './scan.js';

export interface PutOptions {
  name?: string;
  onProgress?: ProgressFn;
  now?: Date;
}

export interface PutResult {
  id: string;
  name: string;
  files: number;
  bytes: number;
  /** Bytes this put added to the backend (new packs, manifest included). */
  storedBytes: number;
  /** Attachments (packs) this put created. */
  attachments: number;
  /** Frames that were already stored and were reused. */
  dedupedFrames: number;
  generation: number;
}

/**
 * `dos put`: archives files as a new archive. Upload first, commit after: every pack is on the
 * backend before the record is published and before the index makes the generation current,
 * so nothing ever points at a missing pack.
 */
export async function putArchive(ctx: StoreContext, inputs: string[] | InputSource, options: PutOptions = {}): Promise<PutResult> {
  const source = Array.isArray(inputs) ? await InputSource.open(inputs, { frameSize: ctx.frameSize, compression: ctx.compression, notice: ctx.notice }) : inputs;
  source.unlocked(ctx.keys, (id) => ctx.index.findFrame(id) !== undefined);
  source.start(ctx.notice);
  const name = options.name ?? defaultName(source.inputs);
  const now = options.now ?? new Date();
  const archive = ctx.index.createArchive(name, now);
  const jobId = ctx.index.openJob('put', archive.id, { inputs: source.inputs, name });
  try {
    const result = await writeArchiveGeneration(ctx, { archiveId: archive.id, lot: archive.lot, name, createdAt: now, generation: 1, jobId }, source, options.onProgress);
    ctx.index.setJobState(jobId, 'done');
    return result;
  } catch (err) {
    source.abort(err);
    ctx.index.setArchiveStatus(archive.id, 'failed');
    ctx.index.setJobState(jobId, 'abandoned');
    throw err;
  }
}

export interface GenerationTarget {
  archiveId: string;
  lot: number;
  name: string;
  createdAt: Date;
  generation: number;
  jobId: number;
}

function defaultName(inputs: string[]): string {
  const base = (p: string) => p.replace(/\/+$/, '').split('/').pop() || p;
  return inputs.length === 1 ? base(inputs[0]!) : `${base(inputs[0]!)} and ${inputs.length - 1} more`;
}

/** Writes the data, manifest and record of one generation, then commits it to the index. */
export async function writeArchiveGeneration(ctx: StoreContext, target: GenerationTarget, source: InputSource, onProgress?: ProgressFn): Promise<PutResult> {
  const { archiveId, lot, name, createdAt, generation } = target;
  const scanned = source.entries;
  const limits = await ctx.backend.limits();
  const writer = new PackWriter(ctx, archiveId, target.jobId, limits);
  const totalBytes = source.totalBytes;
  let doneBytes = 0;
  const fileFrames = new Map<string, { ids: Buffer[]; sha256: string; size: number }>();

  const showProgress = (done: number) => ctx.backend.showProgress?.(archiveId, {
    name, lot, createdAt, status: 'uploading', files: source.entries.filter((e) => e.type === 'file').length, bytes: totalBytes,
    storedBytes: writer.storedBytes, packs: writer.packs.size, fileNames: [], progress: { done, total: totalBytes },
  });
  let ids: Buffer[] = [];
  for await (const item of source.items()) {
    if (item.kind === 'frame') {
      ids.push(await writer.addFrame(item));
      doneBytes += item.plaintext.length;
      onProgress?.(doneBytes, totalBytes);
      showProgress(doneBytes);
    } else {
      fileFrames.set(item.path, { ids, sha256: item.sha256, size: item.size });
      ids = [];
    }
  }
  // Every data pack but the one being filled must be uploaded before the manifest names them.
  await writer.awaitUploads();

  const manifest = buildManifest(ctx, archiveId, name, generation, createdAt, scanned, fileFrames, writer);
  const sealed = await sealManifest(ctx, manifest);
  const placed = await writer.appendSealed(sealed.frames);
  await writer.finish();

  const ref = manifestRefOf(manifest, placed, sealed.length, writer);
  const files = [...fileFrames.values()];
  const bytes = files.reduce((s, f) => s + f.size, 0);
  const storedBytes = [...writer.packs.values()].reduce((s, p) => s + p.size, 0);
  const record: ArchiveRecord = signRecord(ctx.keys, {
    format: 'dos-archive', version: 4, storeId: ctx.keys.storeId, archiveId, lot, name, generation,
    createdAt: createdAt.toISOString(), updatedAt: new Date().toISOString(), status: 'complete',
    stats: { files: files.length, bytes, storedBytes, packs: manifest.packs.length },
    manifest: ref,
  });
  failpoint('before-record');
  await ctx.backend.putRecord(archiveId, encodeRecord(record), {
    name, lot, createdAt, status: 'complete', files: files.length, bytes, storedBytes, packs: manifest.packs.length,
    fileNames: scanned.filter((e) => !e.path.includes('/')).map((e) => (e.type === 'dir' ? `${e.path}/` : e.path)),
  });

  failpoint('before-commit');
  ctx.index.commitGeneration({
    archiveId, generation, createdAt: Date.now(), files: files.length, bytes, storedBytes, manifestRef: JSON.stringify(ref),
    name, status: 'complete', entries: scanned.map((e) => toEntryRow(e, fileFrames.get(e.path))),
  });
  const deduped = [...writer.placed.values()].filter((p) => !writer.packs.has(p.packName)).length;
  return { id: archiveId, name, files: files.length, bytes, storedBytes, attachments: writer.packs.size, dedupedFrames: deduped, generation };
}

function buildManifest(
  ctx: StoreContext, archiveId: string, name: string, generation: number, createdAt: Date,
  scanned: ScannedEntry[], fileFrames: Map<string, { ids: Buffer[]; sha256: string; size: number }>, writer: PackWriter,
): Manifest {
  const packs: ManifestPack[] = [];
  const packIndex = new Map<string, number>();
  const packOf = (packName: string): number => {
    let index = packIndex.get(packName);
    if (index === undefined) {
      const known = writer.packs.get(packName) ?? writer.reusedPacks.get(packName);
      index = packs.length;
      // The pack still being filled has no locator yet: the archive record carries it.
      packs.push({ name: packName, locator: known?.locator ?? null, size: known?.size ?? 0 });
      packIndex.set(packName, index);
    }
    return index;
  };
  const frames: ManifestFrame[] = [];
  const frameIndex = new Map<string, number>();
  const indexOf = (id: Buffer): number => {
    const hex = id.toString('hex');
    let index = frameIndex.get(hex);
    if (index === undefined) {
      const p = writer.placed.get(hex);
      if (!p) throw new DosError(ErrorCodes.CORRUPT, `internal error: frame ${hex} was never placed`);
      index = frames.length;
      frames.push([hex, packOf(p.packName), p.offset, p.storedLength, p.plainLength, p.flags]);
      frameIndex.set(hex, index);
    }
    return index;
  };
  const entries: ManifestEntry[] = scanned.map((e) => {
    const base = { path: e.path, type: e.type, size: 0, mode: e.mode, mtimeMs: e.mtimeMs };
    if (e.type === 'file') {
      const f = fileFrames.get(e.path)!;
      return { ...base, size: f.size, sha256: f.sha256, frames: f.ids.map(indexOf) };
    }
    return e.type === 'symlink' ? { ...base, target: e.target! } : base;
  });
  return { format: 'dos-manifest', version: 1, storeId: ctx.keys.storeId, archiveId, name, generation, createdAt: createdAt.toISOString(), frameSize: ctx.frameSize, packs, frames, entries };
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

function toEntryRow(e: ScannedEntry, file?: { ids: Buffer[]; sha256: string; size: number }): EntryRow {
  return {
    path: e.path, type: e.type, size: file?.size ?? 0, mode: e.mode, mtimeMs: e.mtimeMs,
    sha256: file?.sha256 ?? null, target: e.target ?? null, frameIds: file?.ids ?? [],
  };
}
