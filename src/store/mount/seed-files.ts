import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { DosError, ErrorCodes } from '../../core/errors.js';
import type { ArchiveRow, EntryRow } from '../../index/store-index.js';
import type { StoreContext } from '../context.js';
import { getSeedArchive, listSeedTree } from '../seed-archives.js';
import type { CommittedTree } from './overlay.js';
import { SeedCache } from './seed-cache.js';

/** Read-only, as the whole archive is in dos: folders r-x, files r--. */
const SEED_DIR_MODE = 0o555;
const SEED_FILE_MODE = 0o444;

export interface SeedFilesOptions {
  /** Where whole seed archives are restored on first read (DOS_HOME/cache/seed). */
  cacheDir: string;
  /** The bound of that folder (DOS_SEED_CACHE_MB): least recently read archives go first. */
  cacheBytes: number;
  log?: (line: string) => void;
  /** The seed's USER_KEY: its chunks are encrypted with the passphrase itself (PBKDF2 per chunk). */
  userKey?: string;
}

/**
 * Seed archives in the mount. Their tree comes from their manifests (small attachments, read
 * once per mount). Their content cannot be read by range: the seed's chunks are whole-file
 * gzip streams, each encrypted under its own PBKDF2-600 000 key, so the first read of any file
 * restores the whole archive (verified, as `dos get` does) into the cache folder, and reads are
 * served from there. Later mounts find it there and start at once.
 */
export class SeedFiles {
  /** Per archive: entries by path, and each folder's children (readdir must not scan them all). */
  private readonly trees = new Map<string, { byPath: Map<string, EntryRow>; children: Map<string, EntryRow[]> }>();
  private readonly loading = new Map<string, Promise<void>>();
  private readonly restoring = new Map<string, Promise<string>>();
  private readonly cache: SeedCache;

  constructor(private readonly ctx: StoreContext, private readonly options: SeedFilesOptions) {
    this.cache = new SeedCache(options.cacheDir, options.cacheBytes, options.log);
  }

  isLoaded(archiveId: string): boolean {
    return this.trees.has(archiveId);
  }

  /** Reads the archive's manifests once (concurrent callers share the read). */
  load(archive: ArchiveRow): Promise<void> {
    let loading = this.loading.get(archive.id);
    if (!loading) {
      loading = listSeedTree(this.ctx, archive, '', true).then((entries) => {
        const byPath = new Map<string, EntryRow>();
        const children = new Map<string, EntryRow[]>();
        for (const e of entries) {
          const entry = { ...e, mode: e.type === 'dir' ? SEED_DIR_MODE : SEED_FILE_MODE };
          byPath.set(e.path, entry);
          const parent = parentOf(e.path);
          const siblings = children.get(parent);
          if (siblings) siblings.push(entry);
          else children.set(parent, [entry]);
        }
        this.trees.set(archive.id, { byPath, children });
      });
      // A failure (network, damaged manifest) is reported to this caller; the next one tries again.
      loading.catch(() => this.loading.delete(archive.id));
      this.loading.set(archive.id, loading);
    }
    return loading;
  }

  /** The committed tree the overlay shows (empty until loaded). */
  treeOf(archiveId: string): CommittedTree {
    const tree = () => this.trees.get(archiveId);
    return {
      entry: (path) => tree()?.byPath.get(path),
      children: (path) => tree()?.children.get(path) ?? [],
      root: () => ({ mode: SEED_DIR_MODE, mtimeMs: this.ctx.index.getArchive(archiveId)?.updatedAt ?? 0 }),
    };
  }

  /**
   * One of the archive's files, open for reading from the restored copy (the whole archive is
   * restored on first use). An archive dropped from the cache meanwhile (by this mount or
   * another one sharing DOS_HOME) is restored again.
   */
  async open(archive: ArchiveRow, path: string): Promise<FileHandle> {
    for (let attempt = 0; ; attempt++) {
      const dir = await this.restored(archive);
      try {
        const handle = await open(join(dir, path), 'r');
        this.cache.touch(archive.id);
        return handle;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        if (attempt > 0 || this.cache.isRestored(archive.id)) {
          throw new DosError(ErrorCodes.MISSING, `${archive.id}: ${path} is not in the restored archive`, { archive: archive.id, path });
        }
      }
    }
  }

  /** The archive's restored folder; concurrent callers share one restore. */
  private restored(archive: ArchiveRow): Promise<string> {
    // Seed archives never change: a restore that finished once is good for every later mount.
    if (this.cache.isRestored(archive.id)) return Promise.resolve(this.cache.folderOf(archive.id));
    let restoring = this.restoring.get(archive.id);
    if (!restoring) {
      restoring = this.restore(archive);
      const forget = () => this.restoring.delete(archive.id);
      restoring.then(forget, forget);
      this.restoring.set(archive.id, restoring);
    }
    return restoring;
  }

  private async restore(archive: ArchiveRow): Promise<string> {
    if (!this.options.userKey) throw new DosError(ErrorCodes.KEY_REQUIRED, `${archive.id} is a seed archive: reading it needs USER_KEY or SEED_USER_KEY (its chunks are encrypted with the passphrase itself)`, { archive: archive.id });
    const dir = this.cache.folderOf(archive.id);
    // Identical files already there are kept, so a restore interrupted by an unmount resumes.
    await getSeedArchive(this.ctx, archive, '', dir, { userKey: this.options.userKey, workDir: join(this.cache.dir, '.downloads') });
    await this.cache.markRestored(archive.id);
    return dir;
  }
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}
