import { safeRelativeParts } from '../../core/safe-path.js';
import type { ArchiveRow, StoreIndex } from '../../index/store-index.js';
import { isSeed } from '../seed-index.js';
import type { ArchiveView, ArchiveViews } from './archive-view.js';
import { FsError } from './fs-error.js';
import type { LocalFiles } from './local-files.js';
import { baseName, type ViewNode } from './overlay.js';
import { isLocalOnly } from './staging.js';

export type Target =
  | { root: true }
  | { root: false; view: ArchiveView; archive: ArchiveRow; path: string };

export type ArchiveTarget = Extract<Target, { root: false }>;

/** How long the root's name → archive map is reused (other processes add archives). */
const NAMES_TTL_MS = 1000;

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
 * Mount paths ("/Name/a/b") to archives and nodes: the root lists archives by name (a
 * duplicate name gets its id appended), and a path inside one resolves through its view, or
 * to a local Finder file.
 */
export class MountPaths {
  private names: { at: number; byName: Map<string, ArchiveRow> } | null = null;

  constructor(private readonly index: StoreIndex, private readonly views: ArchiveViews, private readonly local: LocalFiles) {}

  archiveNames(): Map<string, ArchiveRow> {
    if (this.names && Date.now() - this.names.at < NAMES_TTL_MS) return this.names.byName;
    const byName = new Map<string, ArchiveRow>();
    const archives = this.index.listArchives().filter((a) => a.currentGeneration !== null && a.status !== 'deleted');
    for (const archive of archives) {
      const name = cleanName(archive);
      byName.set(byName.has(name) ? `${name} (${archive.id})` : name, archive);
    }
    this.names = { at: Date.now(), byName };
    return byName;
  }

  /** An archive was made here: list it at once. */
  forgetNames(): void {
    this.names = null;
  }

  /** Splits "/Name/a/b" into the archive and the path inside it. */
  target(fusePath: string): Target {
    if (fusePath === '/' || fusePath === '') return { root: true };
    const rest = fusePath.slice(1);
    const slash = rest.indexOf('/');
    const name = slash < 0 ? rest : rest.slice(0, slash);
    const archive = this.archiveNames().get(name);
    if (!archive) throw new FsError('ENOENT');
    const view = this.views.of(archive.id);
    this.views.refresh(view, archive.currentGeneration);
    return { root: false, view, archive, path: slash < 0 ? '' : rest.slice(slash + 1) };
  }

  inArchive(fusePath: string): ArchiveTarget {
    const t = this.target(fusePath);
    if (t.root) throw new FsError('EISDIR');
    return t;
  }

  /**
   * The target of a change. Seed archives (made by the Python seed) are read-only here: their
   * format has no generations to append to, so nothing may ever be queued for them.
   */
  forChange(fusePath: string): Target {
    const t = this.target(fusePath);
    if (!t.root && isSeed(t.archive)) throw new FsError('EROFS', `${t.archive.id} is a seed archive (read-only)`);
    return t;
  }

  /**
   * A new name inside an archive must be one the store accepts (safe-path.ts): accepted here and
   * refused at commit, the file would vanish after its writer was told all was well.
   */
  requireStorable(t: ArchiveTarget): void {
    if (isLocalOnly(baseName(t.path))) return; // never uploaded
    try {
      safeRelativeParts(t.path);
    } catch (err) {
      throw new FsError('EINVAL', (err as Error).message);
    }
  }

  inArchiveForChange(fusePath: string): ArchiveTarget {
    const t = this.forChange(fusePath);
    if (t.root) throw new FsError('EISDIR');
    return t;
  }

  /** The node at `path`: a local Finder file, or what the view shows. */
  resolve(view: ArchiveView, path: string): ViewNode | undefined {
    return path !== '' && isLocalOnly(baseName(path)) ? this.local.node(view, path) : view.overlay.resolve(path);
  }

  requireDir(view: ArchiveView, path: string): void {
    const dir = view.overlay.resolve(path);
    if (!dir) throw new FsError('ENOENT');
    if (dir.type !== 'dir') throw new FsError('ENOTDIR');
  }

  /** Whether a folder holds nothing, committed, pending or local. */
  isEmptyDir(view: ArchiveView, path: string): boolean {
    return view.overlay.list(path)!.size === 0 && this.local.names(view, path).length === 0;
  }
}
