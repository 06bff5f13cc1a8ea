import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { chmod, mkdir, open, rename, rm, truncate, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ArchiveView } from './archive-view.js';
import { FsError } from './fs-error.js';
import { parentPath, type ViewNode } from './overlay.js';
import { isLocalOnly, type Staging } from './staging.js';

/**
 * Finder's `._*` and `.DS_Store` files: kept in a mirror tree under the staging folder, shown
 * in the archive's folders next to the real files, never queued or uploaded.
 */
export class LocalFiles {
  constructor(private readonly staging: Staging) {}

  private pathOf(view: ArchiveView, path: string): string {
    return this.staging.localPath(view.id, path);
  }

  /** The local file at `path`, if its folder exists in the view. */
  node(view: ArchiveView, path: string): ViewNode | undefined {
    const parent = view.overlay.resolve(parentPath(path));
    if (!parent || parent.type !== 'dir') return undefined;
    try {
      const st = lstatSync(this.pathOf(view, path));
      if (!st.isFile()) return undefined;
      return { type: 'file', size: st.size, mode: st.mode & 0o7777, mtimeMs: st.mtimeMs };
    } catch {
      return undefined;
    }
  }

  private require(view: ArchiveView, path: string): void {
    if (!this.node(view, path)) throw new FsError('ENOENT');
  }

  /** Names of the local files in a folder. */
  names(view: ArchiveView, path: string): string[] {
    try {
      return readdirSync(this.pathOf(view, path), { withFileTypes: true }).filter((d) => d.isFile() && isLocalOnly(d.name)).map((d) => d.name);
    } catch {
      return [];
    }
  }

  async open(view: ArchiveView, path: string, flags: number): Promise<FileHandle> {
    this.require(view, path);
    return open(this.pathOf(view, path), flags);
  }

  async create(view: ArchiveView, path: string, mode: number): Promise<FileHandle> {
    const local = this.pathOf(view, path);
    await mkdir(dirname(local), { recursive: true });
    return open(local, 'w+', mode & 0o7777);
  }

  truncate(view: ArchiveView, path: string, size: number): Promise<void> {
    return truncate(this.pathOf(view, path), size);
  }

  async unlink(view: ArchiveView, path: string): Promise<void> {
    this.require(view, path);
    await unlink(this.pathOf(view, path));
  }

  /** A local file moved to another local name (the caller checked both ends). */
  async rename(view: ArchiveView, from: string, to: string): Promise<void> {
    const dest = this.pathOf(view, to);
    await mkdir(dirname(dest), { recursive: true });
    await rename(this.pathOf(view, from), dest);
  }

  async setAttr(view: ArchiveView, path: string, attrs: { mode?: number; mtimeMs?: number }): Promise<void> {
    const local = this.pathOf(view, path);
    if (attrs.mode !== undefined) await chmod(local, attrs.mode & 0o7777);
    if (attrs.mtimeMs !== undefined) await utimes(local, new Date(attrs.mtimeMs), new Date(attrs.mtimeMs));
  }

  /** A folder was removed: its local files go with it. */
  removeDir(view: ArchiveView, path: string): Promise<void> {
    return rm(this.pathOf(view, path), { recursive: true, force: true });
  }

  /** A folder was renamed: its local files move with it (replacing what the target held). */
  async moveDir(view: ArchiveView, from: string, to: string): Promise<void> {
    const localFrom = this.pathOf(view, from);
    if (!existsSync(localFrom)) return;
    const localTo = this.pathOf(view, to);
    await rm(localTo, { recursive: true, force: true });
    await mkdir(dirname(localTo), { recursive: true });
    await rename(localFrom, localTo);
  }
}
