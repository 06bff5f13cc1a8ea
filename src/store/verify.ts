import { createHash } from 'node:crypto';
import { decodeRecord } from '../core/archive-record.js';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { ArchiveRow } from '../index/store-index.js';
import type { StoreContext } from './context.js';
import { readFrames } from './frame-reader.js';
import { loadManifest, resolvePackLocators, type ManifestRef } from './manifest-io.js';
import { requireReadable } from './resolve.js';

export interface VerifyProblem {
  code: string;
  path?: string;
  pack?: string;
  message: string;
}

export interface VerifyResult {
  archive: string;
  deep: boolean;
  ok: boolean;
  packs: number;
  files: number;
  bytes: number;
  problems: VerifyProblem[];
}

/**
 * Quick: every pack the archive needs exists on the backend with the right size.
 * Deep: additionally the record and manifest are fetched from the backend and authenticated,
 * and every file's frames are fetched, authenticated and hashed against its sha256.
 */
export async function verifyArchive(ctx: StoreContext, archive: ArchiveRow, deep: boolean): Promise<VerifyResult> {
  requireReadable(archive);
  const generation = ctx.index.getGeneration(archive.id, archive.currentGeneration!)!;
  const ref = JSON.parse(generation.manifestRef) as ManifestRef;
  const problems: VerifyProblem[] = [];
  const result: VerifyResult = { archive: archive.id, deep, ok: true, packs: 0, files: 0, bytes: 0, problems };

  const entries = ctx.index.listEntries(archive.id);
  const packs = new Map<string, { locator: string; size: number }>();
  for (const p of ref.packs) packs.set(p.name, { locator: p.locator!, size: p.size });
  for (const entry of entries) {
    for (const id of entry.frameIds) {
      const frame = ctx.index.findFrame(id);
      if (!frame) {
        problems.push({ code: ErrorCodes.MISSING, path: entry.path, message: `${entry.path}: frame ${id.toString('hex')} is unknown to the index` });
        continue;
      }
      if (!packs.has(frame.packId)) packs.set(frame.packId, { locator: frame.locator, size: ctx.index.getPack(frame.packId)?.size ?? 0 });
    }
  }
  result.packs = packs.size;
  const stats = await ctx.backend.statPacks([...packs.values()].map((p) => p.locator));
  for (const [name, pack] of packs) {
    const stat = stats.get(pack.locator);
    if (!stat?.exists) problems.push({ code: ErrorCodes.MISSING, pack: name, message: `pack ${name} is missing from the backend` });
    else if (stat.size !== undefined && pack.size > 0 && stat.size !== pack.size) {
      problems.push({ code: ErrorCodes.CORRUPT, pack: name, message: `pack ${name} is ${stat.size} bytes, expected ${pack.size} (truncated or replaced)` });
    }
  }

  if (deep) {
    await verifyPublished(ctx, archive, ref, problems);
    for (const entry of entries) {
      if (entry.type !== 'file') continue;
      result.files++;
      try {
        const frames = entry.frameIds.map((id) => ctx.index.findFrame(id)!);
        if (frames.some((f) => f === undefined)) continue; // already reported above
        const hash = createHash('sha256');
        let size = 0;
        for await (const plain of readFrames(ctx, frames, { archive: archive.id, path: entry.path })) {
          hash.update(plain);
          size += plain.length;
        }
        if (size !== entry.size || hash.digest('hex') !== entry.sha256) {
          problems.push({ code: ErrorCodes.CORRUPT, path: entry.path, message: `${entry.path}: content does not match its sha256` });
        } else {
          result.bytes += size;
        }
      } catch (err) {
        if (!(err instanceof DosError)) throw err;
        problems.push({ code: err.code, path: entry.path, message: err.message });
      }
    }
  } else {
    result.files = entries.filter((e) => e.type === 'file').length;
  }
  result.ok = problems.length === 0;
  return result;
}

/** The published record and the manifest it points to must authenticate and agree with the index. */
async function verifyPublished(ctx: StoreContext, archive: ArchiveRow, ref: ManifestRef, problems: VerifyProblem[]): Promise<void> {
  try {
    const published = (await ctx.backend.listRecords()).find((r) => r.archiveId === archive.id);
    if (!published) {
      problems.push({ code: ErrorCodes.MISSING, message: `the backend has no record for ${archive.id}` });
      return;
    }
    const record = decodeRecord(ctx.keys, published.data);
    if (record.generation !== archive.currentGeneration) {
      problems.push({ code: ErrorCodes.CORRUPT, message: `the backend's record is at generation ${record.generation}, the index at ${archive.currentGeneration}` });
    }
    const manifest = await loadManifest(ctx, ref, archive.id);
    resolvePackLocators(manifest, ref, archive.id);
    const indexed = new Map(ctx.index.listEntries(archive.id).map((e) => [e.path, e] as const));
    for (const entry of manifest.entries) {
      const mine = indexed.get(entry.path);
      if (!mine || mine.type !== entry.type || mine.size !== entry.size || (mine.sha256 ?? undefined) !== entry.sha256) {
        problems.push({ code: ErrorCodes.CORRUPT, path: entry.path, message: `${entry.path}: the index and the stored manifest disagree` });
      }
    }
    if (indexed.size !== manifest.entries.length) problems.push({ code: ErrorCodes.CORRUPT, message: 'the index and the stored manifest list different entries' });
  } catch (err) {
    if (!(err instanceof DosError)) throw err;
    problems.push({ code: err.code, message: err.message });
  }
}
