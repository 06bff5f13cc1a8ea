import { constants as fsc } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { MountQueue } from '../../index/mount-queue.js';
import type { EntryRow } from '../../index/store-index.js';
import type { StoreContext } from '../context.js';
import { frameLocations } from '../resolve.js';
import { isSeed } from '../seed-index.js';
import { createArchive } from '../tree-change.js';
import { ArchiveViews, type ArchiveView } from './archive-view.js';
import { DiskCache } from './disk-cache.js';
import { FileReader } from './file-reader.js';
import { FrameCache, type FrameCacheStats } from './frame-cache.js';
import { FsError } from './fs-error.js';
import { HandleTable, type Handle } from './handles.js';
import { LocalFiles } from './local-files.js';
import { baseName, contentKey, isUnder, parentPath, pathAfterMove, type ViewNode } from './overlay.js';
import { inodeOf, MountPaths, type ArchiveTarget } from './paths.js';
import { SeedFiles } from './seed-files.js';
import { isLocalOnly, Staging } from './staging.js';
import { UploadWorker } from './upload-worker.js';
import { WorkingFiles, type Working } from './working-files.js';

export interface MountSessionOptions {
  /** Where staging files go (DOS_HOME/staging). */
  stagingDir: string;
  /** Bound of the decrypted-frame memory cache, in bytes. */
  cacheBytes: number;
  /** On-disk ciphertext cache: folder and bound (0 = off). */
  diskCacheDir?: string;
  diskCacheBytes?: number;
  /** Changes made within this window are committed together (default 500 ms). */
  batchDelayMs?: number;
  /** A batch is never held back longer than this (default 2 s). */
  maxBatchDelayMs?: number;
  /** Log lines (errors the kernel only sees as an errno, commits). */
  log: (line: string) => void;
  /** A batch of changes was committed (or refused): for publishing fresh status at once. */
  onCommitted?: () => void;
  /** Where seed archives are restored on first read (default: DOS_HOME/cache/seed beside staging). */
  seedCacheDir?: string;
  /** Bound of that folder in bytes (default 4 GiB); the archive being read always stays. */
  seedCacheBytes?: number;
  /** The passphrase seed archives' chunks are encrypted with (SEED_USER_KEY, else USER_KEY). */
  userKey?: string;
}

export interface Attr {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  mtimeMs: number;
  ino: number;
}

const O_ACCMODE = 3;
/** How long a path truncate keeps the file open for the open that usually follows it. */
const TRUNCATE_LINGER_MS = 250;
/** Restored seed archives kept on disk, unless DOS_SEED_CACHE_MB says otherwise. */
export const DEFAULT_SEED_CACHE_BYTES = 4096 * 1024 * 1024;

/**
 * The store side of `dos mount`: paths in, store calls out. The FUSE adapter (src/fs) maps
 * kernel ops onto these methods and errors onto errnos; everything here is testable without
 * FUSE. This class only routes each op: paths resolve through `MountPaths`, reads go through
 * the frame cache, writes go to working copies (`WorkingFiles`), Finder files stay local
 * (`LocalFiles`), and every change is journalled and committed by the `UploadWorker`.
 */
export class MountSession {
  private readonly cache: FrameCache;
  private readonly staging: Staging;
  private readonly local: LocalFiles;
  private readonly files: WorkingFiles;
  private readonly views: ArchiveViews;
  private readonly paths: MountPaths;
  private readonly worker: UploadWorker;
  private readonly handles = new HandleTable();
  /** Following handles switching to their file's new content (see current). */
  private readonly switching = new Map<number, Promise<Handle>>();
  private readonly seeds: SeedFiles;
  /** Working copies a path truncate holds open for a moment (see truncate). */
  private readonly lingering = new Map<Working, { fh: number; timer: NodeJS.Timeout }>();
  private readonly log: (line: string) => void;

  constructor(readonly ctx: StoreContext, options: MountSessionOptions) {
    this.log = options.log;
    this.staging = new Staging(options.stagingDir);
    const disk = options.diskCacheDir && (options.diskCacheBytes ?? 0) > 0 ? new DiskCache(options.diskCacheDir, options.diskCacheBytes!) : undefined;
    this.cache = new FrameCache(ctx, options.cacheBytes, disk);
    this.local = new LocalFiles(this.staging);
    this.files = new WorkingFiles(this.staging, {
      reader: (archiveId, entry) => this.reader(archiveId, entry),
      enqueue: (view, change, staging, size) => this.worker.enqueue(view, change, staging, size),
      rebuild: (view) => this.views.rebuild(view),
    });
    this.seeds = new SeedFiles(ctx, {
      cacheDir: options.seedCacheDir ?? join(options.stagingDir, '..', 'cache', 'seed'),
      cacheBytes: options.seedCacheBytes ?? DEFAULT_SEED_CACHE_BYTES,
      userKey: options.userKey,
      log: options.log,
    });
    this.views = new ArchiveViews(ctx.index, (view) => this.files.layOver(view), (id) => this.seeds.treeOf(id));
    this.paths = new MountPaths(ctx.index, this.views, this.local);
    this.worker = new UploadWorker(ctx, new MountQueue(ctx.index.db), this.views, this.files, this.staging, options);
  }

  /** Takes over the queues of dead mounts, replays this process's queue, and starts the worker. */
  start(): { resumed: number } {
    return { resumed: this.worker.resume() };
  }

  private reader(archiveId: string, entry: EntryRow): FileReader {
    return new FileReader(this.cache, frameLocations(this.ctx, archiveId, entry), { archive: archiveId, path: entry.path });
  }

  // ---- reading the tree ----

  getattr(fusePath: string): Attr | Promise<Attr> {
    const t = this.paths.target(fusePath);
    if (t.root) return { type: 'dir', mode: 0o755, size: 0, mtimeMs: Date.now(), ino: 1 };
    // A seed archive's own folder needs no manifest; what is inside it does.
    if (t.path !== '' && this.seedUnloaded(t)) return this.loadSeed(t).then(() => this.getattr(fusePath));
    const node = this.paths.resolve(t.view, t.path);
    if (!node) throw new FsError('ENOENT');
    return { type: node.type, mode: node.mode, size: node.size, mtimeMs: node.mtimeMs, ino: inodeOf(`${t.archive.id}\0${t.path}`) };
  }

  readdir(fusePath: string): string[] | Promise<string[]> {
    const t = this.paths.target(fusePath);
    if (t.root) return [...this.paths.archiveNames().keys()];
    if (this.seedUnloaded(t)) return this.loadSeed(t).then(() => this.readdir(fusePath));
    const children = t.view.overlay.list(t.path);
    if (!children) throw new FsError(t.view.overlay.resolve(t.path) ? 'ENOTDIR' : 'ENOENT');
    return [...children.keys(), ...this.local.names(t.view, t.path)];
  }

  readlink(fusePath: string): string {
    const t = this.paths.inArchive(fusePath);
    const node = this.paths.resolve(t.view, t.path);
    if (!node) throw new FsError('ENOENT');
    if (node.type !== 'symlink' || !node.entry?.target) throw new FsError('EINVAL');
    return node.entry.target;
  }

  // ---- open files ----

  async open(fusePath: string, flags: number): Promise<number> {
    const writable = (flags & O_ACCMODE) !== fsc.O_RDONLY;
    const t = writable ? this.paths.inArchiveForChange(fusePath) : this.paths.inArchive(fusePath);
    if (t.path === '') throw new FsError('EISDIR');
    const truncate = writable && (flags & fsc.O_TRUNC) !== 0;
    if (isLocalOnly(baseName(t.path))) {
      const fh = await this.local.open(t.view, t.path, (flags & (O_ACCMODE | fsc.O_TRUNC | fsc.O_APPEND)) as number);
      return this.handles.add({ kind: 'fd', fh, writable });
    }
    if (this.seedUnloaded(t)) await this.loadSeed(t);
    const node = t.view.overlay.resolve(t.path);
    if (!node) throw new FsError('ENOENT');
    if (node.type === 'dir') throw new FsError('EISDIR');
    if (node.type !== 'file') throw new FsError('EINVAL');
    if (writable) {
      const w = await this.files.forNode(t.view, t.path, node, truncate ? 0 : undefined);
      w.refs++;
      w.writers++;
      await this.endLinger(w);
      if (truncate && w.file.size !== 0) await this.files.truncate(w, 0);
      return this.handles.add({ kind: 'working', working: w, writable: true });
    }
    if (isSeed(t.archive)) return this.handles.add({ kind: 'fd', fh: await this.seeds.open(t.archive, t.path), writable: false });
    const source = await this.openForReading(t.view, node);
    if (!source) return this.open(fusePath, flags); // committed meanwhile: read the committed copy
    source.follow = { view: t.view, path: t.path, content: contentKey(node), checked: t.view.overlay.version };
    return this.handles.add(source);
  }

  /**
   * A read-only source of a file's content as it is now: its working copy (shared with the
   * writer), its staging copy, or the committed version. Null when the staging copy was
   * committed and removed meanwhile: resolve the file again.
   */
  private async openForReading(view: ArchiveView, node: ViewNode): Promise<Handle | null> {
    if (node.staged) {
      const w = this.files.of(node);
      if (w) {
        w.refs++;
        return { kind: 'working', working: w, writable: false };
      }
      try {
        return { kind: 'fd', fh: await open(node.staged.staging, 'r'), writable: false };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw err;
      }
    }
    return { kind: 'reader', reader: this.reader(view.id, node.entry!) };
  }

  /** Lets go of what a handle holds: its descriptor, or its share of a working copy (the last one closes it). */
  private async closeSource(h: Handle): Promise<void> {
    if (h.kind === 'fd') await h.fh.close();
    else if (h.kind === 'working' && --h.working.refs === 0) {
      await this.files.close(h.working);
      this.worker.fileClosed();
    }
  }

  /**
   * The source a following handle reads from now: if its file changed since (a writer's new
   * copy, a commit), the handle switches to the new content first (see Follow in handles.ts).
   */
  private async current(fh: number, h: Handle): Promise<Handle> {
    const pending = this.switching.get(fh);
    if (pending) return pending;
    const follow = h.follow!;
    const version = follow.view.overlay.version;
    if (version === follow.checked) return h; // nothing changed in this archive's view since
    follow.checked = version;
    const node = follow.path === null ? undefined : follow.view.overlay.resolve(follow.path);
    if (!node || node.type !== 'file' || contentKey(node) === follow.content) return h;
    const switched = (async () => {
      const next = await this.openForReading(follow.view, node);
      if (!next) return h; // its staging copy was just committed: the next read finds that
      follow.content = contentKey(node);
      next.follow = follow;
      if (!this.handles.replace(fh, next)) {
        await this.closeSource(next); // released meanwhile
        return next;
      }
      await this.closeSource(h);
      return next;
    })().finally(() => this.switching.delete(fh));
    this.switching.set(fh, switched);
    return switched;
  }

  /** A seed archive whose tree (from its manifests) this mount has not read yet. */
  private seedUnloaded(t: ArchiveTarget): boolean {
    return isSeed(t.archive) && !this.seeds.isLoaded(t.archive.id);
  }

  private async loadSeed(t: ArchiveTarget): Promise<void> {
    try {
      await this.seeds.load(t.archive);
    } catch (err) {
      this.log(`${t.archive.id}: cannot list the seed archive: ${(err as Error).message}`);
      throw new FsError('EIO');
    }
    this.views.rebuild(t.view);
  }

  async create(fusePath: string, mode: number): Promise<number> {
    if (fusePath.lastIndexOf('/') === 0) throw new FsError('EROFS', 'only folders (archives) can be made at the root');
    const t = this.paths.forChange(fusePath);
    if (t.root || t.path === '') throw new FsError('EROFS', 'only folders (archives) can be made at the root');
    this.paths.requireDir(t.view, parentPath(t.path));
    if (isLocalOnly(baseName(t.path))) return this.handles.add({ kind: 'fd', fh: await this.local.create(t.view, t.path, mode), writable: true });
    this.paths.requireStorable(t);
    const existing = t.view.overlay.resolve(t.path);
    if (existing?.type === 'dir') throw new FsError('EISDIR');
    const w = existing
      ? await this.files.forNode(t.view, t.path, existing, 0)
      : await this.files.create(t.view, t.path, { type: 'file', size: 0, mode: mode & 0o7777, mtimeMs: Date.now() }, 0);
    if (w.file.size !== 0) await this.files.truncate(w, 0);
    w.dirty = true;
    w.refs++;
    w.writers++;
    await this.endLinger(w);
    return this.handles.add({ kind: 'working', working: w, writable: true });
  }

  async read(fh: number, target: Buffer, length: number, position: number): Promise<number> {
    let h = this.handles.get(fh);
    if (h.follow) h = await this.current(fh, h);
    if (h.kind === 'reader') return h.reader.readInto(target, position, length);
    const file = h.kind === 'fd' ? h.fh : h.working.fh;
    const { bytesRead } = await file.read(target, 0, length, position);
    return bytesRead;
  }

  async write(fh: number, data: Buffer, length: number, position: number): Promise<number> {
    const h = this.handles.get(fh);
    if (h.kind === 'reader' || !h.writable) throw new FsError('EBADF');
    if (h.kind === 'fd') return (await h.fh.write(data, 0, length, position)).bytesWritten;
    return this.files.write(h.working, data, length, position);
  }

  /**
   * close(2): a file's last writer closing queues it now (release comes later, asynchronously).
   * Readers do not count: a `tail -f` or an indexer holding the file must not keep a closed
   * file out of the journal, where a crash would lose it.
   */
  async flush(fh: number): Promise<void> {
    const h = this.handles.find(fh);
    if (h?.kind === 'working' && h.writable && h.working.writers === 1) await this.files.finish(h.working);
  }

  async release(fh: number): Promise<void> {
    const h = this.handles.take(fh);
    if (!h) return;
    if (h.kind === 'working' && h.writable && --h.working.writers === 0 && h.working.refs > 1) {
      // The last writer is gone while readers remain: queue it now (flush normally has).
      await this.files.finish(h.working);
      this.worker.fileClosed();
    }
    await this.closeSource(h);
  }

  async ftruncate(fh: number, size: number): Promise<void> {
    const h = this.handles.get(fh);
    if (h.kind === 'fd') return h.fh.truncate(size);
    if (h.kind !== 'working' || !h.writable) throw new FsError('EBADF');
    await this.files.truncate(h.working, size);
  }

  // ---- changing the tree ----

  async truncate(fusePath: string, size: number): Promise<void> {
    const t = this.paths.inArchiveForChange(fusePath);
    if (isLocalOnly(baseName(t.path))) return this.local.truncate(t.view, t.path, size);
    const node = t.view.overlay.resolve(t.path);
    if (!node) throw new FsError('ENOENT');
    if (node.type === 'dir') throw new FsError('EISDIR');
    const open = this.files.of(node);
    if (open && !open.queued) return this.files.truncate(open, size);
    // Not open: the same as open, ftruncate, close, except that the close waits a moment.
    const w = await this.files.forNode(t.view, t.path, node, size);
    w.refs++;
    w.writers++;
    const fh = this.handles.add({ kind: 'working', working: w, writable: true });
    try {
      await this.files.truncate(w, size);
    } catch (err) {
      await this.release(fh);
      throw err;
    }
    // A shell's `> file` arrives as truncate(0), then open, write, close. Closed at once, the
    // empty file would be queued and could be committed as a version of its own before the
    // new content: held open briefly, the open that follows takes it over (endLinger) and the
    // file is queued once, when that writer closes it.
    this.lingering.set(w, { fh, timer: setTimeout(() => void this.endLinger(w), TRUNCATE_LINGER_MS) });
  }

  /** Drops the hold a path truncate keeps on a working copy (see truncate). */
  private async endLinger(w: Working): Promise<void> {
    const linger = this.lingering.get(w);
    if (!linger) return;
    this.lingering.delete(w);
    clearTimeout(linger.timer);
    await this.release(linger.fh).catch((err: unknown) => this.log(`closing ${w.path ?? 'a file'} after a truncate: ${(err as Error).message}`));
  }

  async mkdir(fusePath: string, mode: number): Promise<void> {
    const t = this.paths.forChange(fusePath);
    if (t.root || t.path === '') throw new FsError('EEXIST');
    this.paths.requireDir(t.view, parentPath(t.path));
    if (this.paths.resolve(t.view, t.path)) throw new FsError('EEXIST');
    this.paths.requireStorable(t);
    this.worker.enqueue(t.view, { op: 'mkdir', path: t.path, mode: mode & 0o7777, mtimeMs: Date.now() });
  }

  /** mkdir at the root: a new, empty archive. */
  async mkdirRoot(fusePath: string): Promise<boolean> {
    if (fusePath.lastIndexOf('/') !== 0) return false;
    const name = fusePath.slice(1);
    if (this.paths.archiveNames().has(name)) throw new FsError('EEXIST');
    if (isLocalOnly(name)) throw new FsError('EROFS');
    const archive = await createArchive(this.ctx, name);
    this.paths.forgetNames();
    this.log(`created archive ${archive.id} "${name}"`);
    return true;
  }

  async rmdir(fusePath: string): Promise<void> {
    const t = this.paths.inArchiveForChange(fusePath);
    if (t.path === '') throw new FsError('EROFS', 'remove an archive with dos rm');
    const node = t.view.overlay.resolve(t.path);
    if (!node) throw new FsError('ENOENT');
    if (node.type !== 'dir') throw new FsError('ENOTDIR');
    if (!this.paths.isEmptyDir(t.view, t.path)) throw new FsError('ENOTEMPTY');
    this.worker.enqueue(t.view, { op: 'remove', path: t.path });
    await this.local.removeDir(t.view, t.path);
  }

  async unlink(fusePath: string): Promise<void> {
    const t = this.paths.inArchiveForChange(fusePath);
    if (t.path === '') throw new FsError('EISDIR');
    if (isLocalOnly(baseName(t.path))) return this.local.unlink(t.view, t.path);
    const node = t.view.overlay.resolve(t.path);
    if (!node) throw new FsError('ENOENT');
    if (node.type === 'dir') throw new FsError('EISDIR');
    this.move(t.view, t.path, null);
    this.worker.enqueue(t.view, { op: 'remove', path: t.path });
  }

  async rename(fromPath: string, toPath: string): Promise<void> {
    const from = this.paths.forChange(fromPath);
    const to = this.paths.forChange(toPath);
    if (from.root || to.root || from.path === '' || to.path === '') throw new FsError('EROFS', 'archives are renamed with the CLI');
    if (from.view !== to.view) throw new FsError('EXDEV');
    this.paths.requireStorable(to);
    const view = from.view;
    const fromLocal = isLocalOnly(baseName(from.path));
    const toLocal = isLocalOnly(baseName(to.path));
    if (fromLocal || toLocal) {
      // Finder files stay local; moving content between local and uploaded is a copy (mv does it on EXDEV).
      if (!(fromLocal && toLocal)) throw new FsError('EXDEV');
      if (!this.local.node(view, from.path)) throw new FsError('ENOENT');
      this.paths.requireDir(view, parentPath(to.path));
      return this.local.rename(view, from.path, to.path);
    }
    const source = view.overlay.resolve(from.path);
    if (!source) throw new FsError('ENOENT');
    if (from.path === to.path) return;
    if (isUnder(to.path, from.path)) throw new FsError('EINVAL');
    this.paths.requireDir(view, parentPath(to.path));
    const target = view.overlay.resolve(to.path);
    if (target) {
      if (source.type === 'dir' && target.type !== 'dir') throw new FsError('ENOTDIR');
      if (source.type !== 'dir' && target.type === 'dir') throw new FsError('EISDIR');
      if (target.type === 'dir' && !this.paths.isEmptyDir(view, to.path)) throw new FsError('ENOTEMPTY');
    }
    this.move(view, to.path, null);
    this.move(view, from.path, to.path);
    this.worker.enqueue(view, { op: 'rename', from: from.path, to: to.path });
    if (source.type === 'dir') await this.local.moveDir(view, from.path, to.path);
  }

  /** Open files, and the readers following files, move with a rename or stop at a removal (`to` null). */
  private move(view: ArchiveView, from: string, to: string | null): void {
    this.files.move(view, from, to);
    for (const follow of this.handles.followers()) if (follow.view === view && follow.path !== null) follow.path = pathAfterMove(follow.path, from, to);
  }

  /** chmod and utimens: attributes only, committed without re-uploading anything. */
  async setAttr(fusePath: string, attrs: { mode?: number; mtimeMs?: number }): Promise<void> {
    const t = this.paths.forChange(fusePath);
    if (t.root) return;
    if (t.path !== '' && isLocalOnly(baseName(t.path))) return this.local.setAttr(t.view, t.path, attrs);
    const node = t.view.overlay.resolve(t.path);
    if (!node) throw new FsError('ENOENT');
    if (t.path === '') return; // the archive's root has no entry of its own
    const mode = attrs.mode === undefined ? undefined : attrs.mode & 0o7777;
    const mtimeMs = attrs.mtimeMs;
    const open = this.files.of(node);
    if (open) {
      if (mode !== undefined) open.file.mode = mode;
      if (mtimeMs !== undefined) open.file.mtimeMs = mtimeMs;
      if (open.dirty) return; // goes with the content when it is closed
    }
    this.worker.enqueue(t.view, { op: 'set-attr', path: t.path, mode, mtimeMs });
  }

  statfs(): { bsize: number; frsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number; favail: number; namemax: number } {
    const s = this.staging.space();
    return { bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.ffree, namemax: 255 };
  }

  // ---- status and shutdown ----

  get committedChanges(): number {
    return this.worker.committedChanges;
  }

  /** Changes not committed yet, the closed files among them, and files open with unsaved changes. */
  pendingCounts(): { changes: number; files: number; bytes: number; openFiles: number } {
    return { ...this.worker.pending(), openFiles: this.files.dirtyCount() };
  }

  cacheStats(): FrameCacheStats {
    return this.cache.stats();
  }

  /** Resolves when every queued change is committed (or the timeout passes: false). */
  drain(timeoutMs = Infinity): Promise<boolean> {
    return this.worker.drain(timeoutMs);
  }

  /**
   * Stops taking changes: files still open are queued as they are (their writers are gone
   * once the kernel unmounted), then waits up to `timeoutMs` for the queue to drain. What is
   * not committed by then stays queued for the next mount.
   */
  async close(timeoutMs: number): Promise<boolean> {
    for (const linger of this.lingering.values()) clearTimeout(linger.timer);
    this.lingering.clear();
    for (const fh of this.handles.ids()) await this.release(fh).catch(() => {});
    const drained = await this.worker.drain(timeoutMs);
    this.worker.stop();
    await this.cache.close();
    return drained;
  }
}
