import { resolve } from 'node:path';
import { DosError, ErrorCodes } from '../core/errors.js';
import type { EntryRow } from '../index/store-index.js';
import type { ProgressFn, StoreContext } from './context.js';
import { publishGeneration, uploadFiles, type FileContent, type GenerationTarget } from './generation.js';
import { InputSource } from './input-source.js';
import { PackWriter } from './pack-writer.js';
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
  // Absolute: a resume may run from another folder (dos put elsewhere resumes first).
  const jobId = ctx.index.openJob('put', archive.id, { inputs: source.inputs.map((i) => resolve(i)), name });
  try {
    const result = await writeArchiveGeneration(ctx, { archiveId: archive.id, lot: archive.lot, name, createdAt: now, generation: 1, jobId }, source, options.onProgress);
    ctx.index.setJobState(jobId, 'done');
    return result;
  } catch (err) {
    source.abort(err);
    ctx.index.setArchiveStatus(archive.id, 'failed');
    ctx.index.setJobState(jobId, isInputError(err) ? 'cancelled' : 'abandoned');
    throw err;
  }
}

/**
 * The input itself is the problem (unreadable, refused, gone): a resume would only fail the same
 * way, and every later put runs resume first. Such a put is not left for resuming.
 */
export function isInputError(err: unknown): boolean {
  return err instanceof DosError && INPUT_ERRORS.has(err.code);
}

const INPUT_ERRORS = new Set<string>([ErrorCodes.NOT_FOUND, ErrorCodes.BAD_INPUT, ErrorCodes.UNSAFE_PATH]);

export interface PutTarget extends GenerationTarget {
  jobId: number;
}

function defaultName(inputs: string[]): string {
  const base = (p: string) => p.replace(/\/+$/, '').split('/').pop() || p;
  return inputs.length === 1 ? base(inputs[0]!) : `${base(inputs[0]!)} and ${inputs.length - 1} more`;
}

/** Uploads the files of a source and publishes them as one generation of an archive. */
export async function writeArchiveGeneration(ctx: StoreContext, target: PutTarget, source: InputSource, onProgress?: ProgressFn): Promise<PutResult> {
  const { archiveId, lot, name, createdAt } = target;
  const totalBytes = source.totalBytes;
  const fileCount = source.entries.filter((e) => e.type === 'file').length;
  const fileNames = source.entries.filter((e) => !e.path.includes('/')).map((e) => (e.type === 'dir' ? `${e.path}/` : e.path));
  ctx.backend.expectUpload?.(archiveId, totalBytes, { name, lot, createdAt, status: 'uploading', files: fileCount, bytes: totalBytes, storedBytes: 0, packs: 0, fileNames });
  const writer = new PackWriter(ctx, archiveId, target.jobId, await ctx.backend.limits());
  let doneBytes = 0;
  const contents = await uploadFiles(writer, source, (n) => {
    doneBytes += n;
    onProgress?.(doneBytes, totalBytes);
    ctx.backend.showProgress?.(archiveId, {
      name, lot, createdAt, status: 'uploading', files: fileCount, bytes: totalBytes,
      storedBytes: writer.storedBytes, packs: writer.packs.size, fileNames, progress: { done: doneBytes, total: totalBytes },
    });
  });
  const entries = source.entries.map((e) => toEntryRow(e, contents.get(e.path)));
  const published = await publishGeneration(ctx, writer, target, entries);
  const deduped = [...writer.placed.values()].filter((p) => !writer.packs.has(p.packName)).length;
  const newBytes = [...writer.packs.values()].reduce((s, p) => s + p.size, 0);
  return { id: archiveId, name, files: published.files, bytes: published.bytes, storedBytes: newBytes, attachments: writer.packs.size, dedupedFrames: deduped, generation: target.generation };
}

function toEntryRow(e: ScannedEntry, file?: FileContent): EntryRow {
  return {
    path: e.path, type: e.type, size: file?.size ?? 0, mode: e.mode, mtimeMs: e.mtimeMs,
    sha256: file?.sha256 ?? null, target: e.target ?? null, frameIds: file?.ids ?? [],
  };
}
