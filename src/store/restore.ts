import { createHash, randomBytes } from 'node:crypto';
import { lstat, open, readlink, symlink, unlink, utimes, chmod } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DosError, ErrorCodes, fromSystemError } from '../core/errors.js';
import { safeRelativeParts } from '../core/safe-path.js';
import type { EntryRow } from '../index/store-index.js';
import { forEachLimited } from './concurrency.js';
import type { ProgressFn, StoreContext } from './context.js';
import { defaultDestinationName, makeDirectory, sha256OfFile } from './destination.js';
import { readFrames } from './frame-reader.js';
import { frameLocations, requireReadable, resolveArchive, splitArchivePath } from './resolve.js';
import { PlacedFiles } from './placed-files.js';
import { getSeedArchive } from './seed-archives.js';

/** Files under this size restore SMALL_FILES_AT_ONCE at a time; the others BIG_FILES_AT_ONCE. */
const SMALL_FILE_BYTES = 1024 * 1024;
const SMALL_FILES_AT_ONCE = 16;
const BIG_FILES_AT_ONCE = 3;

export interface GetOptions {
  force?: boolean;
  onProgress?: ProgressFn;
  /** Seed archives only: the seed's USER_KEY (the same passphrase as the store's). */
  userKey?: string;
  /** Seed archives only: where the thread is downloaded (default: next to the index). */
  workDir?: string;
}

export interface GetResult {
  archive: string;
  destination: string;
  files: number;
  bytes: number;
  /** Files that were already there, identical, and were left alone. */
  skipped: number;
}

/**
 * `dos get ARCHIVE[/PATH] [DEST]`. The archive's root contents (or a folder's contents) land
 * directly in DEST; a single file lands at DEST (or inside DEST when DEST is a folder).
 * Every file is written under a temporary name and renamed only once all of it authenticated
 * and its sha256 matched, so no file ever holds wrong bytes under its final name.
 */
export async function getArchive(ctx: StoreContext, target: string, dest: string | undefined, options: GetOptions = {}): Promise<GetResult> {
  const { archive: archiveText, path } = splitArchivePath(target);
  const archive = resolveArchive(ctx, archiveText);
  requireReadable(archive);
  if (archive.kind === 'seed') return getSeedArchive(ctx, archive, path, dest, options);
  const plan = await planRestore(ctx, archive.id, archive.name, path, dest);
  // A folder dos named itself (after the archive or folder) must not be a symlink planted to
  // send the restore elsewhere; a DEST the user typed is theirs to point anywhere.
  if (plan.namedByUs) await makeDirectory(dirname(plan.root), plan.root);
  const alreadyThere = await checkDestination(plan, options.force === true);

  const total = plan.items.reduce((s, i) => s + (i.entry.type === 'file' ? i.entry.size : 0), 0);
  let done = 0;
  const progress = (n: number) => {
    done += n;
    options.onProgress?.(done, total);
  };
  for (const item of plan.items) if (item.entry.type === 'dir') await makeDirectory(plan.root, item.target);
  const files = plan.items.filter((i) => i.entry.type === 'file');
  for (const item of files) if (alreadyThere.has(item.target)) progress(item.entry.size);
  await makeDirectory(plan.root, plan.root);
  const placed = await PlacedFiles.into(plan.root);
  const restore = async (item: PlannedItem) => {
    await makeDirectory(plan.root, dirname(item.target));
    await restoreFile(ctx, archive.id, item.entry, item.target, placed, progress);
  };
  const toRestore = files.filter((i) => !alreadyThere.has(i.target));
  // A small file's time is its file-system calls and its fsync, not its bytes: many at once
  // overlap those waits. Big files go a few at a time, each with its own read-ahead.
  await forEachLimited(toRestore.filter((i) => i.entry.size < SMALL_FILE_BYTES), SMALL_FILES_AT_ONCE, restore);
  await forEachLimited(toRestore.filter((i) => i.entry.size >= SMALL_FILE_BYTES), BIG_FILES_AT_ONCE, restore);
  for (const item of plan.items) {
    if (item.entry.type !== 'symlink' || alreadyThere.has(item.target)) continue;
    await makeDirectory(plan.root, dirname(item.target));
    // Made beside its final name and renamed over it: --force replaces atomically too.
    const temp = temporaryNameFor(item.target);
    await symlink(item.entry.target!, temp);
    await placed.file(temp, item.target, item.entry.path).catch(async (err: unknown) => {
      await unlink(temp).catch(() => {});
      throw err;
    });
  }
  // Folder times last, deepest first: creating their contents changed them.
  const dirs = plan.items.filter((i) => i.entry.type === 'dir').reverse();
  for (const item of dirs) await setAttributes(item.target, item.entry);
  return { archive: archive.id, destination: plan.root, files: files.length, bytes: total, skipped: alreadyThere.size };
}

interface PlannedItem {
  entry: EntryRow;
  target: string;
}

interface RestorePlan {
  /** The folder everything lands in (created if needed). */
  root: string;
  /** Whether dos chose that folder's name (no DEST was given). */
  namedByUs: boolean;
  items: PlannedItem[];
}

async function planRestore(ctx: StoreContext, archiveId: string, archiveName: string, path: string, dest: string | undefined): Promise<RestorePlan> {
  if (path === '') {
    const root = resolve(dest ?? defaultDestinationName(archiveName, archiveId));
    return { root, namedByUs: dest === undefined, items: ctx.index.listEntries(archiveId).map((entry) => ({ entry, target: targetOf(root, entry.path) })) };
  }
  const entry = ctx.index.getEntry(archiveId, path);
  if (!entry) throw new DosError(ErrorCodes.NOT_FOUND, `${archiveId} has no ${path}`, { archive: archiveId, path });
  if (entry.type === 'dir') {
    const root = resolve(dest ?? basename(path));
    const prefix = `${path}/`;
    const items = ctx.index.listEntries(archiveId).filter((e) => e.path.startsWith(prefix))
      .map((e) => ({ entry: e, target: targetOf(root, e.path.slice(prefix.length)) }));
    return { root, namedByUs: dest === undefined, items };
  }
  let target = resolve(dest ?? basename(path));
  const existing = await lstat(target).catch(() => null);
  if (existing?.isDirectory()) target = join(target, basename(path));
  return { root: dirname(target), namedByUs: false, items: [{ entry, target }] };
}

/** Joins a manifest path under the destination after re-checking it (defence in depth). */
function targetOf(root: string, relative: string): string {
  return join(root, ...safeRelativeParts(relative));
}

/**
 * Checks the destination before anything is written. A file already there with exactly the
 * archived content (same size and sha256) is not a conflict: it is left alone, which makes
 * re-running an interrupted `get` a resume. Returns those files' targets.
 */
async function checkDestination(plan: RestorePlan, force: boolean): Promise<Set<string>> {
  const identical = new Set<string>();
  for (const item of plan.items) {
    const existing = await lstat(item.target).catch(() => null);
    if (!existing) continue;
    if (item.entry.type === 'dir' && existing.isDirectory()) continue;
    if (item.entry.type === 'file' && existing.isFile() && existing.size === item.entry.size && (await sha256OfFile(item.target)) === item.entry.sha256) {
      identical.add(item.target);
      continue;
    }
    if (item.entry.type === 'symlink' && existing.isSymbolicLink() && (await readlink(item.target)) === item.entry.target) {
      identical.add(item.target);
      continue;
    }
    if (!force) {
      throw new DosError(ErrorCodes.EXISTS, `${item.target} already exists; use --force to overwrite`, { path: item.target });
    }
    if (existing.isDirectory()) {
      throw new DosError(ErrorCodes.EXISTS, `${item.target} is a folder in the way of a ${item.entry.type}; move it first`, { path: item.target });
    }
  }
  return identical;
}

async function restoreFile(ctx: StoreContext, archiveId: string, entry: EntryRow, target: string, placed: PlacedFiles, progress: (n: number) => void): Promise<void> {
  const frames = frameLocations(ctx, archiveId, entry);
  const temp = temporaryNameFor(target);
  const handle = await open(temp, 'wx', 0o600);
  let closed = false;
  try {
    const hash = createHash('sha256');
    let written = 0;
    for await (const plain of readFrames(ctx, frames, { archive: archiveId, path: entry.path })) {
      hash.update(plain);
      await writeAll(handle, plain);
      written += plain.length;
      progress(plain.length);
    }
    const digest = hash.digest('hex');
    if (written !== entry.size || digest !== entry.sha256) {
      throw new DosError(ErrorCodes.CORRUPT, `${archiveId}/${entry.path}: restored content does not match its recorded sha256`, { archive: archiveId, path: entry.path });
    }
    await handle.sync();
    await handle.close();
    closed = true;
    await setAttributes(temp, entry);
    await placed.file(temp, target, entry.path);
  } catch (err) {
    if (!closed) await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw fromSystemError(err, `restoring ${archiveId}/${entry.path} to ${target}`);
  }
}

/** Short and fixed in length: the target's own name may already be as long as names can be. */
function temporaryNameFor(target: string): string {
  return join(dirname(target), `.dos-partial-${randomBytes(8).toString('hex')}`);
}

async function writeAll(handle: import('node:fs/promises').FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}

async function setAttributes(path: string, entry: EntryRow): Promise<void> {
  await chmod(path, entry.mode & 0o7777);
  // A Date, not seconds: Node takes a negative number of seconds (a time before 1970) for "now".
  const when = new Date(entry.mtimeMs);
  await utimes(path, when, when);
}
