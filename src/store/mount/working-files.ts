import { writeSync } from 'node:fs';
import { copyFile, open, rm, truncate, type FileHandle } from 'node:fs/promises';
import type { EntryRow } from '../../index/store-index.js';
import type { TreeChange } from '../tree-change.js';
import type { ArchiveView } from './archive-view.js';
import type { FileReader } from './file-reader.js';
import { FsError } from './fs-error.js';
import { pathAfterMove, type StagedFile, type ViewNode } from './overlay.js';
import type { Staging } from './staging.js';

/** A file open for writing: its bytes are in a staging file until its last writer closes it. */
export interface Working {
  view: ArchiveView;
  /** Current path (renames follow it); null once unlinked. */
  path: string | null;
  file: StagedFile;
  fh: FileHandle;
  /** Open handles: readers and writers. The file is queued when its last writer closes. */
  refs: number;
  /** Open handles that may write. */
  writers: number;
  dirty: boolean;
  queued: boolean;
  /** Written since the last background datasync started (see write). */
  unsyncedBytes: number;
  /** A datasync started while the file is still being written, and what it failed with. */
  earlySync: Promise<void> | null;
  earlySyncError: unknown;
}

export interface WorkingHooks {
  /** Reads a committed file (to copy it into a working copy). */
  reader(archiveId: string, entry: EntryRow): FileReader;
  /** Queues a change in the journal and lays it on the view. */
  enqueue(view: ArchiveView, change: TreeChange, staging: string, size: number): void;
  /** Recomputes a view (a working copy that was never queued is gone). */
  rebuild(view: ArchiveView): void;
}

/** Bytes copied per step when a committed file becomes a working copy. */
const COPY_CHUNK = 4 * 1024 * 1024;
/** A file being written is flushed to disk in the background every this many bytes. */
const EARLY_SYNC_BYTES = 32 * 1024 * 1024;

/**
 * The write path: one working copy (a staging file) per file open for writing, shared by its
 * handles, made at most once at a time per path. Writes land in the staging file; the last
 * writer's close fsyncs it and queues it as a `put-file` (the journal then owns the file).
 */
export class WorkingFiles {
  /** By staging file path. */
  private readonly working = new Map<string, Working>();
  /** Working copies being made, by archive and path: concurrent opens share one. */
  private readonly opening = new Map<string, Promise<Working>>();

  constructor(private readonly staging: Staging, private readonly hooks: WorkingHooks) {}

  /** The working copy behind a view node, if the file is open for writing. */
  of(node: ViewNode): Working | undefined {
    return node.staged && this.working.get(node.staged.staging);
  }

  /** Whether a staging file is an open working copy (not to be deleted). */
  has(staging: string): boolean {
    return this.working.has(staging);
  }

  /** Open files with unsaved changes. */
  dirtyCount(): number {
    let n = 0;
    for (const w of this.working.values()) if (w.dirty) n++;
    return n;
  }

  /** Lays the open files of a view over it (after it was rebuilt or changed). */
  layOver(view: ArchiveView): void {
    for (const w of this.working.values()) if (w.view === view && w.path !== null) view.overlay.setFile(w.path, w.file);
  }

  /** The working copy of a file: the open one, or a new staging file holding its content. */
  async forNode(view: ArchiveView, path: string, node: ViewNode, truncateTo?: number): Promise<Working> {
    const open = this.of(node);
    // A copy already queued (its last writer closed; readers keep it open) belongs to the
    // journal now: writing it again would change bytes an upload may be reading. A new writer
    // starts a new copy of it.
    if (open && !open.queued) return open;
    const key = `${view.id}\0${path}`;
    const pending = this.opening.get(key);
    if (pending) return pending;
    const made = this.create(view, path, node, truncateTo).finally(() => this.opening.delete(key));
    this.opening.set(key, made);
    return made;
  }

  /** A new working copy of `node` at `path`, holding its first `truncateTo` bytes (all by default). */
  async create(view: ArchiveView, path: string, node: ViewNode, truncateTo?: number): Promise<Working> {
    const staging = this.staging.newPath();
    const keep = truncateTo === undefined ? node.size : Math.min(truncateTo, node.size);
    try {
      if (keep > 0 && node.staged) {
        await copyFile(node.staged.staging, staging);
        if (keep < node.size) await truncate(staging, keep);
      } else if (keep > 0 && node.entry) {
        await this.materialize(view.id, node.entry, staging, keep);
      }
      const fh = await open(staging, keep > 0 ? 'r+' : 'w+', 0o600);
      const w: Working = { view, path, file: { staging, size: keep, mode: node.mode, mtimeMs: node.mtimeMs }, fh, refs: 0, writers: 0, dirty: false, queued: false, unsyncedBytes: 0, earlySync: null, earlySyncError: null };
      this.working.set(staging, w);
      view.overlay.setFile(path, w.file);
      return w;
    } catch (err) {
      await rm(staging, { force: true });
      throw err;
    }
  }

  /** Writes the first `length` bytes of a committed file into a staging file. */
  private async materialize(archiveId: string, entry: EntryRow, dest: string, length: number): Promise<void> {
    const reader = this.hooks.reader(archiveId, entry);
    const fh = await open(dest, 'w', 0o600);
    try {
      const chunk = Buffer.allocUnsafe(COPY_CHUNK);
      for (let pos = 0; pos < length;) {
        const n = await reader.readInto(chunk, pos, Math.min(chunk.length, length - pos));
        // The index says the file is longer: a copy that stopped here would lose its tail.
        if (n === 0) throw new FsError('EIO', `${entry.path} ended at ${pos} of ${length} bytes while being copied for writing`);
        await writeFully(fh, chunk.subarray(0, n), pos);
        pos += n;
      }
    } finally {
      await fh.close();
    }
  }

  async truncate(w: Working, size: number): Promise<void> {
    await w.fh.truncate(size);
    w.file.size = size;
    w.file.mtimeMs = Date.now();
    w.dirty = true;
  }

  /** Writes into the staging file; resolves once the bytes left `data` (the kernel reuses it). */
  async write(w: Working, data: Buffer, length: number, position: number): Promise<number> {
    // Synchronous: copying 128 KiB into the page cache takes microseconds, less than the trip
    // through the thread pool that an asynchronous write costs per kernel request (cp of 512 MiB
    // is 4096 of them). It also consumes fuse-native's buffer before the callback returns.
    const bytesWritten = writeSync(w.fh.fd, data, 0, length, position);
    w.file.size = Math.max(w.file.size, position + bytesWritten);
    w.file.mtimeMs = Date.now();
    w.dirty = true;
    w.unsyncedBytes += bytesWritten;
    if (w.unsyncedBytes >= EARLY_SYNC_BYTES && !w.earlySync) this.syncEarly(w);
    return bytesWritten;
  }

  /**
   * Starts a datasync (thread pool) while the file is still being written, so the one its
   * close waits for finds little left to write: closing a 512 MiB cp waited 0.25 s for the
   * disk, a third of the copy. A failure is kept for the close to report (Linux reports a
   * writeback error to one fsync only: the close's own would see success).
   */
  private syncEarly(w: Working): void {
    w.unsyncedBytes = 0;
    w.earlySync = w.fh.datasync().then(
      () => { w.earlySync = null; },
      (err: unknown) => {
        w.earlySyncError ??= err;
        w.earlySync = null;
      },
    );
  }

  /** Queues a closed file's content (fsynced first: the queue promises it survives a crash). */
  async finish(w: Working): Promise<void> {
    if (!w.dirty || w.path === null) return;
    w.dirty = false;
    try {
      await w.earlySync;
      await w.fh.datasync();
      if (w.earlySyncError) {
        const err = w.earlySyncError;
        w.earlySyncError = null;
        throw err;
      }
      if (w.path === null) return; // unlinked while it was being synced
      this.hooks.enqueue(w.view, { op: 'put-file', path: w.path, source: w.file.staging, mode: w.file.mode, mtimeMs: w.file.mtimeMs }, w.file.staging, w.file.size);
      w.queued = true;
    } catch (err) {
      // Not queued (a full disk, say): still unsaved, so a later close tries again and the
      // staging file is not taken for a queued one.
      w.dirty = true;
      throw err;
    }
  }

  /** The last handle of a working copy closed: queue it, or drop it if nothing was queued. */
  async close(w: Working): Promise<void> {
    try {
      await this.finish(w);
    } finally {
      // Queued or not, the copy is closed. One that could not be queued (its writer's close
      // was told why) is dropped: the file shows its last saved content again, never bytes
      // that look saved and are not.
      this.working.delete(w.file.staging);
      await w.fh.close();
      if (!w.queued) {
        await rm(w.file.staging, { force: true });
        this.hooks.rebuild(w.view);
      }
    }
  }

  /** Paths of open files follow renames and removals (`to` null) of them or their folders. */
  move(view: ArchiveView, from: string, to: string | null): void {
    for (const w of this.working.values()) if (w.view === view && w.path !== null) w.path = pathAfterMove(w.path, from, to);
  }
}

/** Writes all of `data` at `position`: a write the disk cuts short is retried, so a full disk is an error, not a shorter file. */
async function writeFully(fh: FileHandle, data: Buffer, position: number): Promise<void> {
  for (let done = 0; done < data.length;) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    if (bytesWritten === 0) throw new FsError('ENOSPC');
    done += bytesWritten;
  }
}
