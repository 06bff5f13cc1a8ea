import { constants as fsc, existsSync, lstatSync, readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { copyFile, mkdir, open, rename as renamePath, rm, truncate as truncatePath, unlink, utimes, chmod as chmodPath, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { ArchiveRow } from '../../index/store-index.js';
import { MountQueue } from '../../index/mount-queue.js';
import type { StoreContext } from '../context.js';
import { isDeadProcess } from '../liveness.js';
import { frameLocations } from '../resolve.js';
import { applyChanges, createArchive, type TreeChange } from '../tree-change.js';
import { DiskCache } from './disk-cache.js';
import { FileReader } from './file-reader.js';
import { FrameCache, type FrameCacheStats } from './frame-cache.js';
import { FsError } from './fs-error.js';
import { baseName, isUnder, Overlay, parentPath, type StagedFile, type ViewNode } from './overlay.js';
import { isLocalOnly, Staging } from './staging.js';

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
}

export interface Attr {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  size: number;
  mtimeMs: number;
  ino: number;
}

interface Pending {
  rowId: number;
  change: TreeChange;
  staging: string | null;
  size: number;
}

/** One archive as mounted: its overlay of pending changes and the queue feeding the worker. */
interface ArchiveView {
  id: string;
  overlay: Overlay;
  pending: Pending[];
  baseGeneration: number | null;
  inflight: boolean;
  failures: number;
  retryAt: number;
  /** After a deterministic failure, apply one change at a time to find the culprit. */
  single: boolean;
}

/** A file open for writing: its bytes are in a staging file until release queues it. */
interface Working {
  view: ArchiveView;
  /** Current path (renames follow it); null once unlinked. */
  path: string | null;
  file: StagedFile;
  fh: FileHandle;
  refs: number;
  dirty: boolean;
  queued: boolean;
}

type Handle =
  | { kind: 'reader'; reader: FileReader }
  | { kind: 'fd'; fh: FileHandle; writable: boolean }
  | { kind: 'working'; working: Working; writable: boolean };

type Target =
  | { root: true }
  | { root: false; view: ArchiveView; archive: ArchiveRow; path: string };

const O_ACCMODE = 3;
const UTIME_SPECIAL_MS = 2000; // fuse-native turns UTIME_NOW / UTIME_OMIT into about 1073 ms
const DETERMINISTIC = new Set<string>([ErrorCodes.NOT_FOUND, ErrorCodes.EXISTS, ErrorCodes.BAD_INPUT, ErrorCodes.UNSAFE_PATH]);

/** FNV-1a: stable 32-bit inode numbers from (archive, path), the same on every mount. */
export function inodeOf(key: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(key, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h < 2 ? h + 2 : h;
}

/** The name an archive shows at the mount's root ("/" cannot be in a file name). */
function cleanName(archive: ArchiveRow): string {
  const name = archive.name.replace(/\//g, '∕').replace(/\0/g, '');
  return name === '' || name === '.' || name === '..' ? archive.id : name;
}

/**
 * The store side of `dos mount`: paths in, store calls out. The FUSE adapter (src/fs) maps
 * kernel ops onto these methods and errors onto errnos; everything here is testable without
 * FUSE. Reads go through the frame cache; writes go to staging files; every change is
 * queued in the index journal (mount_queue) before the op returns, and a worker commits
 * queued changes in batches with applyChanges.
 */
export class MountSession {
  readonly cache: FrameCache;
  readonly staging: Staging;
  readonly queue: MountQueue;
  private readonly views = new Map<string, ArchiveView>();
  private readonly working = new Map<string, Working>();
  private readonly opening = new Map<string, Promise<Working>>();
  private readonly handles = new Map<number, Handle>();
  private nextHandle = 1;
  private names: { at: number; byName: Map<string, ArchiveRow> } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private firstPendingAt = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  committedChanges = 0;

  constructor(readonly ctx: StoreContext, private readonly options: MountSessionOptions) {
    this.staging = new Staging(options.stagingDir);
    const disk = options.diskCacheDir && (options.diskCacheBytes ?? 0) > 0 ? new DiskCache(options.diskCacheDir, options.diskCacheBytes!) : undefined;
    this.cache = new FrameCache(ctx, options.cacheBytes, disk);
    this.queue = new MountQueue(ctx.index.db);
  }

  /** Takes over the queues of dead mounts, replays this process's queue, and starts the worker. */
  start(): { resumed: number } {
    this.queue.claimDead(isDeadProcess);
    const rows = this.queue.mine();
    for (const row of rows) {
      const archive = this.ctx.index.getArchive(row.archiveId);
      if (!archive || archive.currentGeneration === null) {
        this.options.log(`dropping a queued change of ${row.archiveId}: the archive no longer exists`);
        this.queue.removeAll([row.id]);
        if (row.staging) rmSync(row.staging, { force: true });
        continue;
      }
      const view = this.viewOf(archive.id);
      if (row.staging && !existsSync(row.staging)) {
        this.options.log(`dropping a queued change of ${row.archiveId}: its staging file ${row.staging} is gone`);
        this.queue.removeAll([row.id]);
        continue;
      }
      view.pending.push({ rowId: row.id, change: JSON.parse(row.change) as TreeChange, staging: row.staging, size: row.size });
    }
    for (const view of this.views.values()) this.rebuild(view);
    this.staging.removeOrphans(new Set(this.queue.all().flatMap((r) => (r.staging ? [r.staging] : []))));
    if (rows.length > 0) this.kick(true);
    return { resumed: rows.length };
  }

  // ---- archives and paths ----

  private archiveNames(): Map<string, ArchiveRow> {
    if (this.names && Date.now() - this.names.at < 1000) return this.names.byName;
    const byName = new Map<string, ArchiveRow>();
    const archives = this.ctx.index.listArchives().filter((a) => a.currentGeneration !== null && a.status !== 'deleted');
    for (const archive of archives) {
      const name = cleanName(archive);
      byName.set(byName.has(name) ? `${name} (${archive.id})` : name, archive);
    }
    this.names = { at: Date.now(), byName };
    return byName;
  }

  private viewOf(archiveId: string): ArchiveView {
    let view = this.views.get(archiveId);
    if (!view) {
      const index = this.ctx.index;
      const overlay = new Overlay({
        entry: (p) => index.getEntry(archiveId, p),
        children: (p) => index.listChildren(archiveId, p),
        root: () => ({ mode: 0o755, mtimeMs: index.getArchive(archiveId)?.updatedAt ?? 0 }),
      });
      view = { id: archiveId, overlay, pending: [], baseGeneration: index.getArchive(archiveId)?.currentGeneration ?? null, inflight: false, failures: 0, retryAt: 0, single: false };
      this.views.set(archiveId, view);
    }
    return view;
  }

  /** Splits "/Name/a/b" into the archive and the path inside it. */
  private target(fusePath: string): Target {
    if (fusePath === '/' || fusePath === '') return { root: true };
    const rest = fusePath.slice(1);
    const slash = rest.indexOf('/');
    const name = slash < 0 ? rest : rest.slice(0, slash);
    const archive = this.archiveNames().get(name);
    if (!archive) throw new FsError('ENOENT');
    const view = this.viewOf(archive.id);
    // Another process committed to this archive: show its tree (with our pending changes on top).
    if (!view.inflight && archive.currentGeneration !== view.baseGeneration) {
      const now = this.ctx.index.getArchive(archive.id);
      if (now && now.currentGeneration !== view.baseGeneration) this.rebuild(view);
    }
    return { root: false, view, archive, path: slash < 0 ? '' : rest.slice(slash + 1) };
  }

  private inArchive(fusePath: string): Extract<Target, { root: false }> {
    const t = this.target(fusePath);
    if (t.root) throw new FsError('EISDIR');
    return t;
  }

  private rebuild(view: ArchiveView): void {
    view.overlay.clear();
    for (const p of view.pending) view.overlay.apply(p.change, p.size);
    this.relayWorking(view);
    view.baseGeneration = this.ctx.index.getArchive(view.id)?.currentGeneration ?? null;
  }

  private relayWorking(view: ArchiveView): void {
    for (const w of this.working.values()) if (w.view === view && w.path !== null) view.overlay.setFile(w.path, w.file);
  }

  private localNode(view: ArchiveView, path: string): ViewNode | undefined {
    const parent = view.overlay.resolve(parentPath(path));
    if (!parent || parent.type !== 'dir') return undefined;
    try {
      const st = lstatSync(this.staging.localPath(view.id, path));
      if (!st.isFile()) return undefined;
      return { type: 'file', size: st.size, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
    } catch {
      return undefined;
    }
  }

  private resolve(view: ArchiveView, path: string): ViewNode | undefined {
    return path !== '' && isLocalOnly(baseName(path)) ? this.localNode(view, path) : view.overlay.resolve(path);
  }

  private requireDir(view: ArchiveView, path: string): void {
    const dir = view.overlay.resolve(path);
    if (!dir) throw new FsError('ENOENT');
    if (dir.type !== 'dir') throw new FsError('ENOTDIR');
  }

  // ---- reading the tree ----

  getattr(fusePath: string): Attr {
    const t = this.target(fusePath);
    if (t.root) return { type: 'dir', mode: 0o755, size: 0, mtimeMs: Date.now(), ino: 1 };
    const node = this.resolve(t.view, t.path);
    if (!node) throw new FsError('ENOENT');
    return { type: node.type, mode: node.mode, size: node.size, mtimeMs: node.mtimeMs, ino: inodeOf(`${t.archive.id}\0${t.path}`) };
  }

  readdir(fusePath: string): string[] {
    const t = this.target(fusePath);
    if (t.root) return [...this.archiveNames().keys()];
    const children = t.view.overlay.list(t.path);
    if (!children) throw new FsError(t.view.overlay.resolve(t.path) ? 'ENOTDIR' : 'ENOENT');
    return [...children.keys(), ...this.localNames(t.view, t.path)];
  }

  private localNames(view: ArchiveView, path: string): string[] {
    try {
      return readdirSync(this.staging.localPath(view.id, path), { withFileTypes: true }).filter((d) => d.isFile() && isLocalOnly(d.name)).map((d) => d.name);
    } catch {
      return [];
    }
  }

  readlink(fusePath: string): string {
    const t = this.inArchive(fusePath);
    const node = this.resolve(t.view, t.path);
    if (!node) throw new FsError('ENOENT');
    if (node.type !== 'symlink' || !node.entry?.target) throw new FsError('EINVAL');
    return node.entry.target;
  }

  // ---- file handles ----

  private addHandle(handle: Handle): number {
    const fh = this.nextHandle;
    this.nextHandle = this.nextHandle >= 0x7fffffff ? 1 : this.nextHandle + 1;
    this.handles.set(fh, handle);
    return fh;
  }

  private handle(fh: number): Handle {
    const h = this.handles.get(fh);
    if (!h) throw new FsError('EBADF');
    return h;
  }

  async open(fusePath: string, flags: number): Promise<number> {
    const t = this.inArchive(fusePath);
    if (t.path === '') throw new FsError('EISDIR');
    const writable = (flags & O_ACCMODE) !== fsc.O_RDONLY;
    const truncate = writable && (flags & fsc.O_TRUNC) !== 0;
    if (isLocalOnly(baseName(t.path))) {
      if (!this.localNode(t.view, t.path)) throw new FsError('ENOENT');
      const fh = await open(this.staging.localPath(t.view.id, t.path), (flags & (O_ACCMODE | fsc.O_TRUNC | fsc.O_APPEND)) as number);
      return this.addHandle({ kind: 'fd', fh, writable });
    }
    const node = t.view.overlay.resolve(t.path);
    if (!node) throw new FsError('ENOENT');
    if (node.type === 'dir') throw new FsError('EISDIR');
    if (node.type !== 'file') throw new FsError('EINVAL');
    if (writable) {
      const w = await this.workingFor(t.view, t.path, node, truncate ? 0 : undefined);
      w.refs++;
      if (truncate && w.file.size !== 0) await this.truncateWorking(w, 0);
      return this.addHandle({ kind: 'working', working: w, writable: true });
    }
    if (node.staged) {
      const w = this.working.get(node.staged.staging);
      if (w) {
        w.refs++;
        return this.addHandle({ kind: 'working', working: w, writable: false });
      }
      try {
        return this.addHandle({ kind: 'fd', fh: await open(node.staged.staging, 'r'), writable: false });
      } catch (err) {
        // Committed meanwhile (the worker removed the staging file): read the committed copy.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.open(fusePath, flags);
        throw err;
      }
    }
    const entry = node.entry!;
    const reader = new FileReader(this.cache, frameLocations(this.ctx, t.archive.id, entry), { archive: t.archive.id, path: entry.path });
    return this.addHandle({ kind: 'reader', reader });
  }

  async create(fusePath: string, mode: number): Promise<number> {
    if (fusePath.lastIndexOf('/') === 0) throw new FsError('EROFS', 'only folders (archives) can be made at the root');
    const t = this.target(fusePath);
    if (t.root || t.path === '') throw new FsError('EROFS', 'only folders (archives) can be made at the root');
    this.requireDir(t.view, parentPath(t.path));
    if (isLocalOnly(baseName(t.path))) {
      const local = this.staging.localPath(t.view.id, t.path);
      await mkdir(dirname(local), { recursive: true });
      const fh = await open(local, 'w+', mode & 0o7777);
      return this.addHandle({ kind: 'fd', fh, writable: true });
    }
    const existing = t.view.overlay.resolve(t.path);
    if (existing?.type === 'dir') throw new FsError('EISDIR');
    const w = existing
      ? await this.workingFor(t.view, t.path, existing, 0)
      : await this.newWorking(t.view, t.path, { type: 'file', size: 0, mode: mode & 0o7777, mtimeMs: Date.now() }, 0);
    if (w.file.size !== 0) await this.truncateWorking(w, 0);
    w.dirty = true;
    w.refs++;
    return this.addHandle({ kind: 'working', working: w, writable: true });
  }

  /** The working copy of a file: the open one, or a new staging file holding its content. */
  private async workingFor(view: ArchiveView, path: string, node: ViewNode, truncateTo?: number): Promise<Working> {
    const open = node.staged && this.working.get(node.staged.staging);
    if (open) return open;
    const key = `${view.id}\0${path}`;
    const pending = this.opening.get(key);
    if (pending) return pending;
    const made = this.newWorking(view, path, node, truncateTo).finally(() => this.opening.delete(key));
    this.opening.set(key, made);
    return made;
  }

  private async newWorking(view: ArchiveView, path: string, node: ViewNode, truncateTo?: number): Promise<Working> {
    const staging = this.staging.newPath();
    const keep = truncateTo === undefined ? node.size : Math.min(truncateTo, node.size);
    try {
      if (keep > 0 && node.staged) {
        await copyFile(node.staged.staging, staging);
        if (keep < node.size) await truncatePath(staging, keep);
      } else if (keep > 0 && node.entry) {
        await this.materialize(view.id, node, staging, keep);
      }
      const fh = await open(staging, keep > 0 ? 'r+' : 'w+', 0o600);
      const w: Working = { view, path, file: { staging, size: keep, mode: node.mode, mtimeMs: node.mtimeMs }, fh, refs: 0, dirty: false, queued: false };
      this.working.set(staging, w);
      view.overlay.setFile(path, w.file);
      return w;
    } catch (err) {
      await rm(staging, { force: true });
      throw err;
    }
  }

  /** Writes the first `length` bytes of a committed file into a staging file. */
  private async materialize(archiveId: string, node: ViewNode, dest: string, length: number): Promise<void> {
    const reader = new FileReader(this.cache, frameLocations(this.ctx, archiveId, node.entry!), { archive: archiveId, path: node.entry!.path });
    const fh = await open(dest, 'w', 0o600);
    try {
      const chunk = Buffer.allocUnsafe(4 * 1024 * 1024);
      for (let pos = 0; pos < length;) {
        const n = await reader.readInto(chunk, pos, Math.min(chunk.length, length - pos));
        if (n === 0) break;
        await fh.write(chunk, 0, n, pos);
        pos += n;
      }
    } finally {
      await fh.close();
    }
  }

  private async truncateWorking(w: Working, size: number): Promise<void> {
    await w.fh.truncate(size);
    w.file.size = size;
    w.file.mtimeMs = Date.now();
    w.dirty = true;
  }

  async read(fh: number, target: Buffer, length: number, position: number): Promise<number> {
    const h = this.handle(fh);
    if (h.kind === 'reader') return h.reader.readInto(target, position, length);
    const file = h.kind === 'fd' ? h.fh : h.working.fh;
    const { bytesRead } = await file.read(target, 0, length, position);
    return bytesRead;
  }

  async write(fh: number, data: Buffer, length: number, position: number): Promise<number> {
    const h = this.handle(fh);
    if (h.kind === 'reader' || !h.writable) throw new FsError('EBADF');
    if (h.kind === 'fd') return (await h.fh.write(data, 0, length, position)).bytesWritten;
    const w = h.working;
    const { bytesWritten } = await w.fh.write(data, 0, length, position);
    w.file.size = Math.max(w.file.size, position + bytesWritten);
    w.file.mtimeMs = Date.now();
    w.dirty = true;
    return bytesWritten;
  }

  /** close(2): a file's last writer closing queues it now (release comes later, asynchronously). */
  async flush(fh: number): Promise<void> {
    const h = this.handles.get(fh);
    if (h?.kind === 'working' && h.writable && h.working.refs === 1) await this.finishWorking(h.working);
  }

  async release(fh: number): Promise<void> {
    const h = this.handles.get(fh);
    if (!h) return;
    this.handles.delete(fh);
    if (h.kind === 'fd') return h.fh.close();
    if (h.kind === 'reader') return;
    const w = h.working;
    if (--w.refs > 0) return;
    await this.finishWorking(w);
    this.working.delete(w.file.staging);
    await w.fh.close();
    if (!w.queued) {
      await rm(w.file.staging, { force: true });
      this.rebuild(w.view);
    }
  }

  async ftruncate(fh: number, size: number): Promise<void> {
    const h = this.handle(fh);
    if (h.kind === 'fd') return h.fh.truncate(size);
    if (h.kind !== 'working' || !h.writable) throw new FsError('EBADF');
    await this.truncateWorking(h.working, size);
  }

  /** Queues a closed file's content (fsynced first: the queue promises it survives a crash). */
  private async finishWorking(w: Working): Promise<void> {
    if (!w.dirty || w.path === null) return;
    w.dirty = false;
    await w.fh.datasync();
    if (w.path === null) return;
    w.queued = true;
    this.enqueue(w.view, { op: 'put-file', path: w.path, source: w.file.staging, mode: w.file.mode, mtimeMs: w.file.mtimeMs }, w.file.staging, w.file.size);
  }

  // ---- changing the tree ----

  private enqueue(view: ArchiveView, change: TreeChange, staging: string | null = null, size = 0): void {
    const rowId = this.queue.add(view.id, change, staging, size);
    view.pending.push({ rowId, change, staging, size });
    view.overlay.apply(change, size);
    this.relayWorking(view);
    this.kick();
  }

  /** Paths of open files follow renames and removals. */
  private moveWorking(view: ArchiveView, from: string, to: string | null): void {
    for (const w of this.working.values()) {
      if (w.view !== view || w.path === null) continue;
      if (w.path === from || isUnder(w.path, from)) w.path = to === null ? null : to + w.path.slice(from.length);
    }
  }

  async truncate(fusePath: string, size: number): Promise<void> {
    const t = this.inArchive(fusePath);
    if (isLocalOnly(baseName(t.path))) return truncatePath(this.staging.localPath(t.view.id, t.path), size);
    const node = t.view.overlay.resolve(t.path);
    if (!node) throw new FsError('ENOENT');
    if (node.type === 'dir') throw new FsError('EISDIR');
    const open = node.staged && this.working.get(node.staged.staging);
    if (open) return this.truncateWorking(open, size);
    const w = await this.workingFor(t.view, t.path, node, size);
    w.refs++;
    const fh = this.addHandle({ kind: 'working', working: w, writable: true });
    try {
      await this.truncateWorking(w, size);
    } finally {
      await this.release(fh);
    }
  }

  async mkdir(fusePath: string, mode: number): Promise<void> {
    const t = this.target(fusePath);
    if (t.root) throw new FsError('EEXIST');
    if (t.path === '') throw new FsError('EEXIST');
    this.requireDir(t.view, parentPath(t.path));
    if (this.resolve(t.view, t.path)) throw new FsError('EEXIST');
    this.enqueue(t.view, { op: 'mkdir', path: t.path, mode: mode & 0o7777, mtimeMs: Date.now() });
  }

  /** mkdir at the root: a new, empty archive. */
  async mkdirRoot(fusePath: string): Promise<boolean> {
    if (fusePath.lastIndexOf('/') !== 0) return false;
    const name = fusePath.slice(1);
    if (this.archiveNames().has(name)) throw new FsError('EEXIST');
    if (isLocalOnly(name)) throw new FsError('EROFS');
    const archive = await createArchive(this.ctx, name);
    this.names = null;
    this.options.log(`created archive ${archive.id} "${name}"`);
    return true;
  }

  async rmdir(fusePath: string): Promise<void> {
    const t = this.inArchive(fusePath);
    if (t.path === '') throw new FsError('EROFS', 'remove an archive with dos rm');
    const node = t.view.overlay.resolve(t.path);
    if (!node) throw new FsError('ENOENT');
    if (node.type !== 'dir') throw new FsError('ENOTDIR');
    if (t.view.overlay.list(t.path)!.size > 0 || this.localNames(t.view, t.path).length > 0) throw new FsError('ENOTEMPTY');
    this.enqueue(t.view, { op: 'remove', path: t.path });
    await rm(this.staging.localPath(t.view.id, t.path), { recursive: true, force: true });
  }

  async unlink(fusePath: string): Promise<void> {
    const t = this.inArchive(fusePath);
    if (t.path === '') throw new FsError('EISDIR');
    if (isLocalOnly(baseName(t.path))) {
      if (!this.localNode(t.view, t.path)) throw new FsError('ENOENT');
      return unlink(this.staging.localPath(t.view.id, t.path));
    }
    const node = t.view.overlay.resolve(t.path);
    if (!node) throw new FsError('ENOENT');
    if (node.type === 'dir') throw new FsError('EISDIR');
    this.moveWorking(t.view, t.path, null);
    this.enqueue(t.view, { op: 'remove', path: t.path });
  }

  async rename(fromPath: string, toPath: string): Promise<void> {
    const from = this.target(fromPath);
    const to = this.target(toPath);
    if (from.root || to.root || from.path === '' || to.path === '') throw new FsError('EROFS', 'archives are renamed with the CLI');
    if (from.view !== to.view) throw new FsError('EXDEV');
    const view = from.view;
    const fromLocal = isLocalOnly(baseName(from.path));
    const toLocal = isLocalOnly(baseName(to.path));
    if (fromLocal || toLocal) {
      // Finder files stay local; moving content between local and uploaded is a copy (mv does it on EXDEV).
      if (!(fromLocal && toLocal)) throw new FsError('EXDEV');
      if (!this.localNode(view, from.path)) throw new FsError('ENOENT');
      this.requireDir(view, parentPath(to.path));
      const dest = this.staging.localPath(view.id, to.path);
      await mkdir(dirname(dest), { recursive: true });
      return renamePath(this.staging.localPath(view.id, from.path), dest);
    }
    const source = view.overlay.resolve(from.path);
    if (!source) throw new FsError('ENOENT');
    if (from.path === to.path) return;
    if (isUnder(to.path, from.path)) throw new FsError('EINVAL');
    this.requireDir(view, parentPath(to.path));
    const target = view.overlay.resolve(to.path);
    if (target) {
      if (source.type === 'dir' && target.type !== 'dir') throw new FsError('ENOTDIR');
      if (source.type !== 'dir' && target.type === 'dir') throw new FsError('EISDIR');
      if (target.type === 'dir' && (view.overlay.list(to.path)!.size > 0 || this.localNames(view, to.path).length > 0)) throw new FsError('ENOTEMPTY');
    }
    this.moveWorking(view, to.path, null);
    this.moveWorking(view, from.path, to.path);
    this.enqueue(view, { op: 'rename', from: from.path, to: to.path });
    if (source.type === 'dir') {
      const localFrom = this.staging.localPath(view.id, from.path);
      if (existsSync(localFrom)) {
        const localTo = this.staging.localPath(view.id, to.path);
        await rm(localTo, { recursive: true, force: true });
        await mkdir(dirname(localTo), { recursive: true });
        await renamePath(localFrom, localTo);
      }
    }
  }

  /** chmod and utimens: attributes only, committed without re-uploading anything. */
  async setAttr(fusePath: string, attrs: { mode?: number; mtimeMs?: number }): Promise<void> {
    const t = this.target(fusePath);
    if (t.root) return;
    if (t.path !== '' && isLocalOnly(baseName(t.path))) {
      const local = this.staging.localPath(t.view.id, t.path);
      if (attrs.mode !== undefined) await chmodPath(local, attrs.mode & 0o7777);
      if (attrs.mtimeMs !== undefined) await utimes(local, new Date(attrs.mtimeMs), new Date(attrs.mtimeMs));
      return;
    }
    const node = t.view.overlay.resolve(t.path);
    if (!node) throw new FsError('ENOENT');
    if (t.path === '') return; // the archive's root has no entry of its own
    const mode = attrs.mode === undefined ? undefined : attrs.mode & 0o7777;
    let mtimeMs = attrs.mtimeMs;
    if (mtimeMs !== undefined && mtimeMs < UTIME_SPECIAL_MS) mtimeMs = Date.now();
    const open = node.staged && this.working.get(node.staged.staging);
    if (open) {
      if (mode !== undefined) open.file.mode = mode;
      if (mtimeMs !== undefined) open.file.mtimeMs = mtimeMs;
      if (open.dirty) return; // goes with the content when it is closed
    }
    this.enqueue(t.view, { op: 'set-attr', path: t.path, mode, mtimeMs });
  }

  statfs(): { bsize: number; frsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number; favail: number; namemax: number } {
    const s = this.staging.space();
    return { bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, favail: s.ffree, namemax: 255 };
  }

  // ---- the upload worker ----

  /** Schedules a commit: 0.5 s after the last change, and never more than 2 s after the first. */
  private kick(now = false): void {
    if (this.closed && !now) return;
    const delay = this.options.batchDelayMs ?? 500;
    const maxDelay = this.options.maxBatchDelayMs ?? 2000;
    if (this.firstPendingAt === 0) this.firstPendingAt = Date.now();
    const wait = now ? 0 : Math.max(0, Math.min(delay, this.firstPendingAt + maxDelay - Date.now()));
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.firstPendingAt = 0;
      this.runBatches();
    }, wait);
  }

  private runBatches(): void {
    let waiting = Infinity;
    for (const view of this.views.values()) {
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

  private async commitBatch(view: ArchiveView): Promise<void> {
    view.inflight = true;
    const batch = view.single ? view.pending.slice(0, 1) : takeBatch(view.pending);
    const ids = batch.map((p) => p.rowId);
    try {
      this.queue.countAttempt(ids);
      const result = await applyChanges(this.ctx, view.id, batch.map((p) => p.change));
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
        const backoff = Math.min(30_000, 1000 * 2 ** Math.min(5, view.failures - 1));
        view.retryAt = Date.now() + backoff;
        this.options.log(`could not commit ${batch.length} change(s) to ${view.id} (will retry in ${backoff / 1000} s): ${message}`);
      }
    } finally {
      view.inflight = false;
      if (view.pending.length > 0) this.kick(true);
      this.checkIdle();
    }
  }

  /** Committed (or refused) changes leave the queue; their staging files go when nothing else needs them. */
  private forget(view: ArchiveView, batch: Pending[]): void {
    this.queue.removeAll(batch.map((p) => p.rowId));
    view.pending.splice(0, batch.length);
    this.rebuild(view);
    for (const p of batch) {
      if (!p.staging || this.working.has(p.staging)) continue;
      if ([...this.views.values()].some((v) => v.pending.some((q) => q.staging === p.staging))) continue;
      try {
        unlinkSync(p.staging);
      } catch {
        // already gone
      }
    }
  }

  /** Changes not committed yet, and closed files among them. */
  pendingCounts(): { changes: number; files: number; bytes: number; openFiles: number } {
    let changes = 0;
    let files = 0;
    let bytes = 0;
    for (const view of this.views.values()) {
      changes += view.pending.length;
      for (const p of view.pending) if (p.staging) {
        files++;
        bytes += p.size;
      }
    }
    return { changes, files, bytes, openFiles: [...this.working.values()].filter((w) => w.dirty).length };
  }

  cacheStats(): FrameCacheStats {
    return this.cache.stats();
  }

  private checkIdle(): void {
    if (this.pendingCounts().changes > 0) return;
    for (const view of this.views.values()) if (view.inflight) return;
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

  /**
   * Stops taking changes: files still open are queued as they are (their writers are gone
   * once the kernel unmounted), then waits up to `timeoutMs` for the queue to drain. What is
   * not committed by then stays queued for the next mount.
   */
  async close(timeoutMs: number): Promise<boolean> {
    for (const fh of [...this.handles.keys()]) await this.release(fh).catch(() => {});
    const drained = await this.drain(timeoutMs);
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    return drained;
  }
}

/** The pending changes to commit together: all of them, up to a few thousand and 4 GiB. */
function takeBatch(pending: Pending[]): Pending[] {
  let bytes = 0;
  let n = 0;
  while (n < pending.length && n < 5000) {
    bytes += pending[n]!.size;
    if (n > 0 && bytes > 4 * 1024 ** 3) break;
    n++;
  }
  return pending.slice(0, n);
}

/** Size of a staging file, for rows written before their size was known. */
export function stagedSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
