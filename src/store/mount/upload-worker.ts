import { existsSync, rmSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { MountQueue } from '../../index/mount-queue.js';
import type { StoreContext } from '../context.js';
import { failpoint } from '../failpoints.js';
import { isDeadProcess } from '../liveness.js';
import { isSeed } from '../seed-index.js';
import { applyChanges, type TreeChange } from '../tree-change.js';
import type { ArchiveView, ArchiveViews, Pending } from './archive-view.js';
import type { Staging } from './staging.js';
import type { WorkingFiles } from './working-files.js';

export interface UploadWorkerOptions {
  /** Changes made within this window are committed together (default 500 ms). */
  batchDelayMs?: number;
  /** A batch is never held back longer than this (default 2 s). */
  maxBatchDelayMs?: number;
  log: (line: string) => void;
  /** A batch was committed (or refused): what is pending changed. */
  onCommitted?: () => void;
}

/** Refusals that will not go away on a retry: the change itself is wrong for the tree. */
const DETERMINISTIC = new Set<string>([ErrorCodes.NOT_FOUND, ErrorCodes.EXISTS, ErrorCodes.BAD_INPUT, ErrorCodes.UNSAFE_PATH]);
/** A batch holds at most this many changes and (past its first file) this many bytes. */
const BATCH_CHANGES = 5000;
const BATCH_BYTES = 4 * 1024 ** 3;
/**
 * Staged bytes from which the batch window is not waited for: uploading them takes longer than
 * the window, which only exists to gather many small changes into one generation.
 */
const NO_WAIT_BYTES = 32 * 1024 * 1024;
/** The longest a queued file waits for its other open descriptors to be closed. */
const WRITER_WAIT_MS = 2000;
const MAX_BACKOFF_MS = 30_000;

/**
 * The queue of changes made through the mount and the worker that commits them: every change
 * is written to the index journal (mount_queue) before the op returns, then committed per
 * archive in batches with applyChanges (upload first, commit after). A row leaves the journal
 * only once committed (or refused for good), so `kill -9` at any moment loses no closed file.
 */
export class UploadWorker {
  private timer: NodeJS.Timeout | null = null;
  private firstPendingAt = 0;
  /** A commit is due but waits for a file still open for writing (see ready). */
  private waitingForWriter = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  committedChanges = 0;

  constructor(
    private readonly ctx: StoreContext,
    private readonly queue: MountQueue,
    private readonly views: ArchiveViews,
    private readonly files: WorkingFiles,
    private readonly staging: Staging,
    private readonly options: UploadWorkerOptions,
  ) {}

  /** Takes over the queues of dead mounts, replays this process's queue, and starts committing. */
  resume(): number {
    this.queue.claimDead(isDeadProcess);
    const rows = this.queue.mine();
    for (const row of rows) {
      const archive = this.ctx.index.getArchive(row.archiveId);
      const drop = !archive || archive.currentGeneration === null ? 'the archive no longer exists'
        : isSeed(archive) ? 'it is a seed archive (read-only)'
          : row.staging && !existsSync(row.staging) ? `its staging file ${row.staging} is gone` : null;
      if (drop) {
        this.options.log(`dropping a queued change of ${row.archiveId}: ${drop}`);
        this.queue.removeAll([row.id]);
        if (row.staging) rmSync(row.staging, { force: true });
        continue;
      }
      this.views.of(row.archiveId).pending.push({ rowId: row.id, change: JSON.parse(row.change) as TreeChange, staging: row.staging, size: row.size, queuedAt: 0 });
    }
    for (const view of this.views.all()) this.views.rebuild(view);
    this.staging.removeOrphans(new Set(this.queue.all().flatMap((r) => (r.staging ? [r.staging] : []))));
    if (rows.length > 0) this.kick(true);
    return rows.length;
  }

  /** Journals a change, shows it in the view at once, and schedules its commit. */
  enqueue(view: ArchiveView, change: TreeChange, staging: string | null = null, size = 0): void {
    const rowId = this.queue.add(view.id, change, staging, size);
    view.pending.push({ rowId, change, staging, size, queuedAt: Date.now() });
    view.overlay.apply(change, size);
    this.files.layOver(view);
    this.kick(false, view.pending.reduce((sum, p) => sum + p.size, 0) >= NO_WAIT_BYTES);
  }

  /**
   * Schedules a commit: 0.5 s after the last change, and never more than 2 s after the first;
   * `noWait` (a big file is staged) or `now` (work is left after a commit) at once.
   */
  private kick(now = false, noWait = false): void {
    if (this.closed && !now) return;
    const delay = this.options.batchDelayMs ?? 500;
    const maxDelay = this.options.maxBatchDelayMs ?? 2000;
    if (this.firstPendingAt === 0) this.firstPendingAt = Date.now();
    const wait = now || noWait ? 0 : Math.max(0, Math.min(delay, this.firstPendingAt + maxDelay - Date.now()));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.firstPendingAt = 0;
      this.runBatches();
    }, wait);
  }

  private runBatches(): void {
    let waiting = Infinity;
    for (const view of this.views.all()) {
      if (view.pending.length === 0 || view.inflight) continue;
      if (view.retryAt > Date.now()) {
        waiting = Math.min(waiting, view.retryAt - Date.now());
        continue;
      }
      void this.commitBatch(view);
    }
    if (waiting !== Infinity && !this.timer) this.timer = setTimeout(() => {
      this.timer = null;
      this.runBatches();
    }, waiting);
    this.checkIdle();
  }

  /** A file open for writing was closed: a commit that waited for it goes now. */
  fileClosed(): void {
    if (!this.waitingForWriter) return;
    this.waitingForWriter = false;
    this.kick(true);
  }

  /**
   * How many of the view's first pending changes may be committed now. A file is queued when a
   * descriptor of it is closed, but another one may still be open and writing: a shell's
   * `> file` opens the file, dup2()s it to stdout and closes the original before printing. A
   * change whose file is still open waits for it (up to WRITER_WAIT_MS, then it goes as it is,
   * so a file held open for hours does not hold back every change after it).
   */
  private ready(view: ArchiveView): number {
    const now = Date.now();
    const waiting = view.pending.findIndex((p) => p.staging !== null && this.files.has(p.staging) && now - p.queuedAt < WRITER_WAIT_MS);
    return waiting < 0 ? view.pending.length : waiting;
  }

  private async commitBatch(view: ArchiveView): Promise<void> {
    const ready = this.ready(view);
    if (ready === 0) {
      // Looked at again when the file is closed, or when its wait is over.
      this.waitingForWriter = true;
      if (!this.timer) this.timer = setTimeout(() => {
        this.timer = null;
        this.runBatches();
      }, WRITER_WAIT_MS);
      return;
    }
    view.inflight = true;
    const batch = view.single ? view.pending.slice(0, 1) : takeBatch(view.pending.slice(0, ready));
    const ids = batch.map((p) => p.rowId);
    try {
      this.queue.countAttempt(ids);
      const result = await applyChanges(this.ctx, view.id, batch.map((p) => p.change), { inCommit: () => this.queue.removeAll(ids) });
      failpoint('mount-committed');
      this.forget(view, batch);
      view.failures = 0;
      view.single = false;
      this.committedChanges += batch.length;
      const files = batch.filter((p) => p.staging !== null).length;
      this.options.log(`committed ${view.id} generation ${result.generation}: ${batch.length} change(s), ${files} file(s), ${result.attachments} new attachment(s)`);
    } catch (err) {
      const deterministic = err instanceof DosError && DETERMINISTIC.has(err.code);
      const message = err instanceof Error ? err.message : String(err);
      if (deterministic && batch.length === 1) {
        this.options.log(`dropping a change of ${view.id} the store refuses (${JSON.stringify(batch[0]!.change)}): ${message}`);
        this.forget(view, batch);
        view.single = view.pending.length > 0 && view.single;
      } else if (deterministic) {
        view.single = true; // find the change the store refuses, one at a time
      } else {
        view.failures++;
        const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(5, view.failures - 1));
        view.retryAt = Date.now() + backoff;
        this.options.log(`could not commit ${batch.length} change(s) to ${view.id} (will retry in ${backoff / 1000} s): ${message}`);
      }
    } finally {
      view.inflight = false;
      if (view.pending.length > 0) this.kick(true);
      this.checkIdle();
      this.options.onCommitted?.();
    }
  }

  /** Committed (or refused) changes leave the queue; their staging files go when nothing else needs them. */
  private forget(view: ArchiveView, batch: Pending[]): void {
    this.queue.removeAll(batch.map((p) => p.rowId));
    view.pending.splice(0, batch.length);
    this.views.rebuild(view);
    for (const p of batch) {
      if (!p.staging || this.files.has(p.staging) || this.views.stagingQueued(p.staging)) continue;
      // Asynchronous: freeing a big file's blocks took 0.2 s of the JS thread (512 MiB, ext4).
      void unlink(p.staging).catch(() => {}); // already gone
    }
  }

  /** Changes not committed yet, and the closed files among them. */
  pending(): { changes: number; files: number; bytes: number } {
    let changes = 0;
    let files = 0;
    let bytes = 0;
    for (const view of this.views.all()) {
      changes += view.pending.length;
      for (const p of view.pending) if (p.staging) {
        files++;
        bytes += p.size;
      }
    }
    return { changes, files, bytes };
  }

  private checkIdle(): void {
    if (this.pending().changes > 0) return;
    for (const view of this.views.all()) if (view.inflight) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when every queued change is committed (or the timeout passes: false). */
  drain(timeoutMs = Infinity): Promise<boolean> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(done);
      if (timeoutMs !== Infinity) timer = setTimeout(() => {
        this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      this.kick(true);
      this.checkIdle();
    });
  }

  /** No more commits are scheduled (what is queued stays in the journal). */
  stop(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}

/** The pending changes to commit together: all of them, up to a few thousand and 4 GiB. */
function takeBatch(pending: Pending[]): Pending[] {
  let bytes = 0;
  let n = 0;
  while (n < pending.length && n < BATCH_CHANGES) {
    bytes += pending[n]!.size;
    if (n > 0 && bytes > BATCH_BYTES) break;
    n++;
  }
  return pending.slice(0, n);
}
