import { DosError, ErrorCodes } from '../core/errors.js';
import { safeRelativeParts } from '../core/safe-path.js';
import type { ArchiveRow, EntryRow } from '../index/store-index.js';
import type { ProgressFn, StoreContext } from './context.js';
import { publishGeneration, uploadFiles, type FileContent } from './generation.js';
import { InputSource } from './input-source.js';
import { PackWriter } from './pack-writer.js';
import { requireReadable } from './resolve.js';
import { withArchiveLock } from './archive-lock.js';
import { lotOf } from '../core/archive-id.js';

/**
 * Changes to an archive's tree, applied together as one new generation. Paths are
 * archive-relative (`a/b.txt`). Errors carry `details.errno` so the mount can answer the
 * kernel with the right code.
 */
export type TreeChange =
  | { op: 'mkdir'; path: string; mode?: number; mtimeMs?: number }
  /** The bytes of the local file `source` become the file's content (read while applying). */
  | { op: 'put-file'; path: string; source: string; mode?: number; mtimeMs?: number }
  /** A file, symlink or folder (recursively); a missing path is ignored. */
  | { op: 'remove'; path: string }
  /** A file or a folder's subtree; an existing target file (or empty folder) is replaced. */
  | { op: 'rename'; from: string; to: string }
  | { op: 'set-attr'; path: string; mode?: number; mtimeMs?: number };

export interface ApplyResult {
  generation: number;
  /** Packs this change uploaded. */
  attachments: number;
  uploadedBytes: number;
}

const DEFAULT_DIR_MODE = 0o755;
const DEFAULT_FILE_MODE = 0o644;

export interface ApplyOptions {
  onProgress?: ProgressFn;
  /**
   * Runs in the same index transaction that makes the new generation current. The mount drops
   * the changes from its journal there: in a separate step, a crash between the two would
   * replay changes already applied (a rename applied twice is not the same rename).
   */
  inCommit?: () => void;
}

/**
 * Applies changes as the archive's next generation. New file contents are uploaded first
 * (deduplicated: unchanged frames are never uploaded again; renames, removals and attribute
 * changes upload nothing but the manifest), then, holding the archive's lock, the changes are
 * applied to the current tree — whatever another process committed meanwhile — and the new
 * generation is published and committed.
 */
export async function applyChanges(ctx: StoreContext, archiveId: string, changes: TreeChange[], options: ApplyOptions = {}): Promise<ApplyResult> {
  for (const change of changes) for (const path of pathsOf(change)) safeRelativeParts(path, 'path');
  requireReadable(archiveOf(ctx, archiveId));
  const jobId = ctx.index.openJob('change', archiveId, { changes: changes.length });
  try {
    const writer = new PackWriter(ctx, archiveId, jobId, await ctx.backend.limits());
    const files = changes.flatMap((c, i) => (c.op === 'put-file' ? [{ source: c.source, path: String(i) }] : []));
    let contents = new Map<string, FileContent>();
    if (files.length > 0) {
      const source = await InputSource.ofFiles(files, { frameSize: ctx.frameSize, compression: ctx.compression });
      source.unlocked(ctx.keys, (id) => ctx.index.findFrame(id) !== undefined);
      source.start(ctx.notice);
      let done = 0;
      contents = await uploadFiles(writer, source, (n) => options.onProgress?.((done += n), source.totalBytes)).catch((err: unknown) => {
        source.abort(err);
        throw err;
      });
    }
    const generation = await withArchiveLock(ctx, archiveId, async () => {
      const archive = archiveOf(ctx, archiveId);
      const tree = new Map(ctx.index.listEntries(archiveId).map((e) => [e.path, e] as const));
      changes.forEach((change, i) => applyOne(tree, change, contents.get(String(i))));
      const entries = [...tree.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
      const next = archive.currentGeneration! + 1;
      // The id's own lot: the index may keep this archive under another (see sync).
      await publishGeneration(ctx, writer, { archiveId, lot: lotOf(archiveId), name: archive.name, createdAt: new Date(archive.createdAt), generation: next }, entries, options.inCommit);
      return next;
    });
    ctx.index.setJobState(jobId, 'done');
    const uploaded = [...writer.packs.values()];
    return { generation, attachments: uploaded.length, uploadedBytes: uploaded.reduce((s, p) => s + p.size, 0) };
  } catch (err) {
    ctx.index.setJobState(jobId, 'cancelled');
    throw err;
  }
}

/** A new, empty archive, published as generation 1 (what `mkdir` at the mount's root makes). */
export async function createArchive(ctx: StoreContext, name: string, now = new Date()): Promise<ArchiveRow> {
  const archive = ctx.index.createArchive(name, now);
  // A job, so that a gc in another process waits: the manifest's pack is recorded a moment
  // before the generation that references it is committed.
  const jobId = ctx.index.openJob('change', archive.id, { create: true });
  try {
    const writer = new PackWriter(ctx, archive.id, jobId, await ctx.backend.limits());
    await publishGeneration(ctx, writer, { archiveId: archive.id, lot: archive.lot, name, createdAt: now, generation: 1 }, []);
    ctx.index.setJobState(jobId, 'done');
  } catch (err) {
    ctx.index.setArchiveStatus(archive.id, 'failed');
    ctx.index.setJobState(jobId, 'cancelled');
    throw err;
  }
  return archiveOf(ctx, archive.id);
}

function archiveOf(ctx: StoreContext, archiveId: string): ArchiveRow {
  const archive = ctx.index.getArchive(archiveId);
  if (!archive) throw new DosError(ErrorCodes.NOT_FOUND, `no archive ${archiveId}`, { archive: archiveId, errno: 'ENOENT' });
  return archive;
}

function pathsOf(change: TreeChange): string[] {
  return change.op === 'rename' ? [change.from, change.to] : [change.path];
}

function fail(errno: string, code: (typeof ErrorCodes)[keyof typeof ErrorCodes], message: string, path: string): never {
  throw new DosError(code, message, { path, errno });
}

function ensureParents(tree: Map<string, EntryRow>, path: string, now: number): void {
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const dir = parts.slice(0, i).join('/');
    const existing = tree.get(dir);
    if (!existing) tree.set(dir, { path: dir, type: 'dir', size: 0, mode: DEFAULT_DIR_MODE, mtimeMs: now, sha256: null, target: null, frameIds: [] });
    else if (existing.type !== 'dir') fail('ENOTDIR', ErrorCodes.BAD_INPUT, `${dir} is not a folder`, dir);
  }
}

function descendantsOf(tree: Map<string, EntryRow>, path: string): string[] {
  const prefix = `${path}/`;
  return [...tree.keys()].filter((p) => p.startsWith(prefix));
}

function applyOne(tree: Map<string, EntryRow>, change: TreeChange, content: FileContent | undefined): void {
  const now = Date.now();
  switch (change.op) {
    case 'mkdir': {
      const existing = tree.get(change.path);
      if (existing && existing.type !== 'dir') fail('EEXIST', ErrorCodes.EXISTS, `${change.path} exists and is not a folder`, change.path);
      ensureParents(tree, change.path, now);
      tree.set(change.path, {
        path: change.path, type: 'dir', size: 0, mode: change.mode ?? existing?.mode ?? DEFAULT_DIR_MODE, mtimeMs: change.mtimeMs ?? existing?.mtimeMs ?? now,
        sha256: null, target: null, frameIds: [],
      });
      return;
    }
    case 'put-file': {
      const existing = tree.get(change.path);
      if (existing?.type === 'dir') fail('EISDIR', ErrorCodes.EXISTS, `${change.path} is a folder`, change.path);
      ensureParents(tree, change.path, now);
      tree.set(change.path, {
        path: change.path, type: 'file', size: content!.size, mode: change.mode ?? existing?.mode ?? DEFAULT_FILE_MODE, mtimeMs: change.mtimeMs ?? now,
        sha256: content!.sha256, target: null, frameIds: content!.ids,
      });
      return;
    }
    case 'remove': {
      for (const p of descendantsOf(tree, change.path)) tree.delete(p);
      tree.delete(change.path);
      return;
    }
    case 'rename': {
      const { from, to } = change;
      const moving = tree.get(from);
      if (!moving) fail('ENOENT', ErrorCodes.NOT_FOUND, `${from} does not exist`, from);
      if (from === to) return;
      if (to.startsWith(`${from}/`)) fail('EINVAL', ErrorCodes.BAD_INPUT, `cannot move ${from} into itself`, to);
      const target = tree.get(to);
      if (target) {
        if (target.type === 'dir' && moving.type !== 'dir') fail('EISDIR', ErrorCodes.EXISTS, `${to} is a folder`, to);
        if (target.type !== 'dir' && moving.type === 'dir') fail('ENOTDIR', ErrorCodes.EXISTS, `${to} is not a folder`, to);
        if (target.type === 'dir' && descendantsOf(tree, to).length > 0) fail('ENOTEMPTY', ErrorCodes.EXISTS, `${to} is not empty`, to);
        tree.delete(to);
      }
      ensureParents(tree, to, now);
      for (const p of [from, ...descendantsOf(tree, from)]) {
        const entry = tree.get(p)!;
        tree.delete(p);
        const moved = to + p.slice(from.length);
        tree.set(moved, { ...entry, path: moved });
      }
      return;
    }
    case 'set-attr': {
      const existing = tree.get(change.path);
      if (!existing) fail('ENOENT', ErrorCodes.NOT_FOUND, `${change.path} does not exist`, change.path);
      tree.set(change.path, { ...existing, mode: change.mode ?? existing.mode, mtimeMs: change.mtimeMs ?? existing.mtimeMs });
      return;
    }
  }
}
