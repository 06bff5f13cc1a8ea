import type { StoreIndex } from '../../index/store-index.js';
import { isSeed } from '../seed-index.js';
import type { TreeChange } from '../tree-change.js';
import { Overlay, type CommittedTree } from './overlay.js';

/** A change queued in the index journal (mount_queue) and not committed yet. */
export interface Pending {
  rowId: number;
  change: TreeChange;
  staging: string | null;
  size: number;
  /** When it was queued in this process (0 for changes replayed from the journal). */
  queuedAt: number;
}

/** One archive as mounted: its overlay of pending changes and the queue feeding the worker. */
export interface ArchiveView {
  id: string;
  overlay: Overlay;
  pending: Pending[];
  /** The committed generation the overlay was built on. */
  baseGeneration: number | null;
  inflight: boolean;
  failures: number;
  retryAt: number;
  /** After a deterministic failure, apply one change at a time to find the culprit. */
  single: boolean;
}

/**
 * The mounted archives' views, made on first use. A view's overlay is rebuilt from what is
 * still pending (plus the files open for writing, laid on top by `layOpenFiles`) after every
 * commit, and whenever another process committed a generation this mount has not seen.
 */
export class ArchiveViews {
  private readonly views = new Map<string, ArchiveView>();

  constructor(
    private readonly index: StoreIndex,
    private readonly layOpenFiles: (view: ArchiveView) => void,
    /** A seed archive's tree, read from its manifests (seed-files.ts), not from the index. */
    private readonly seedTree: (archiveId: string) => CommittedTree,
  ) {}

  of(archiveId: string): ArchiveView {
    let view = this.views.get(archiveId);
    if (!view) {
      const index = this.index;
      const archive = index.getArchive(archiveId);
      const overlay = new Overlay(archive && isSeed(archive) ? this.seedTree(archiveId) : {
        entry: (p) => index.getEntry(archiveId, p),
        children: (p) => index.listChildren(archiveId, p),
        root: () => ({ mode: 0o755, mtimeMs: index.getArchive(archiveId)?.updatedAt ?? 0 }),
      });
      view = { id: archiveId, overlay, pending: [], baseGeneration: index.getArchive(archiveId)?.currentGeneration ?? null, inflight: false, failures: 0, retryAt: 0, single: false };
      this.views.set(archiveId, view);
    }
    return view;
  }

  all(): IterableIterator<ArchiveView> {
    return this.views.values();
  }

  /** Whether any view still has a queued change naming this staging file. */
  stagingQueued(staging: string): boolean {
    for (const view of this.views.values()) if (view.pending.some((p) => p.staging === staging)) return true;
    return false;
  }

  rebuild(view: ArchiveView): void {
    view.overlay.clear();
    for (const p of view.pending) view.overlay.apply(p.change, p.size);
    this.layOpenFiles(view);
    view.baseGeneration = this.index.getArchive(view.id)?.currentGeneration ?? null;
  }

  /**
   * Another process committed to this archive (`seen` is its row as listed): show its tree,
   * with our pending changes on top. Not while our own commit is in flight (it moves the
   * generation itself and rebuilds when done).
   */
  refresh(view: ArchiveView, seen: number | null): void {
    if (view.inflight || seen === view.baseGeneration) return;
    const now = this.index.getArchive(view.id);
    if (now && now.currentGeneration !== view.baseGeneration) this.rebuild(view);
  }
}
